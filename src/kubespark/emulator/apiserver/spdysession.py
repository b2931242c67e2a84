"""exec, attach and port-forward over SPDY/3.1: plain upgrades and kubectl's WebSocket tunnel.

Owns the kubelet's SPDY stream protocols. Remote command (exec, attach; ``v4.channel.k8s.io``):
the client opens one stream per channel, named by ``streamtype`` (error, stdin, stdout, stderr,
resize); once those the query asks for exist, the session of podstreams runs over them (a
stdin FIN closes the command's stdin) and the exit Status goes on the error stream.
Port-forward (``portforward.k8s.io``, plain or tunnelled as ``SPDY/3.1+portforward.k8s.io``):
the client opens, per forwarded connection, an ``error`` stream and a ``data`` stream sharing
a ``requestID`` and naming the ``port``; the server replies to each, relays the data stream
to the pod's address:port, writes a failure on the error stream, and half-closes both when
the pod's side ends. PINGs are echoed. The WebSocket carries the SPDY byte stream in binary
messages (cut anywhere, as kubectl's tunnelling connection writes them). Framing is spdy's;
this module never writes objects. Flow control (SPDY/3.1): DATA goes out within the peer's
per-stream and session windows once the peer keeps them (spdy.SendWindows says when; kubectl's
spdystream never does, so against kubectl nothing waits, as against a real kubelet), waiting
for its WINDOW_UPDATEs; received DATA is given back with WINDOW_UPDATEs as it is consumed
(written to the pod's connection or taken by the command's stdin). The receive window is not
policed: a peer that overruns it is served, as spdystream's peers are.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from kubespark.emulator.apiserver import spdy
from kubespark.emulator.apiserver.objects import Obj
from kubespark.emulator.apiserver.podstreams import PodRuntime, StreamTarget, run_session

__all__ = [
    "TUNNEL_PROTOCOL",
    "choose_protocol",
    "offered_protocols",
    "serve_port_forward",
    "serve_remote_command",
    "served_protocols",
    "websocket_transport",
]

TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"
_PORT_FORWARD = ("portforward.k8s.io",)
# The kubelet also speaks v3..v1 (errors as plain text, not a Status); every kubectl since 1.5
# offers v4 first, so only v4 is served (v5 exists only over WebSocket).
_REMOTE_COMMAND = ("v4.channel.k8s.io",)
_CHANNELS = {"stdin": 0, "stdout": 1, "stderr": 2, "error": 3, "resize": 4}
_CLOSE_STDIN = (255, b"\x00")  # podstreams' v5 "close stdin" frame, for a stdin FIN
_STREAMS_WAIT = 30.0  # seconds the kubelet waits for the client's streams
_READ = 32 * 1024
_CANCEL = 5  # RST_STREAM status CANCEL

Send = Callable[[bytes], Awaitable[None]]
Receive = Callable[[], Awaitable[bytes | None]]


@dataclass
class _Request:
    """One forwarded connection: its two streams and the client's bytes for the pod."""

    port: int
    error_id: int = 0
    data_id: int = 0
    inbound: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class _Wire:
    """Frames out, in order (header compression state forbids interleaving encodes), DATA
    within the peer's windows, and the WINDOW_UPDATEs that give back what was consumed."""

    def __init__(self, send: Send) -> None:
        self.codec = spdy.Codec()
        self._send = send
        self._lock = asyncio.Lock()
        self.closed = False
        self.windows = spdy.SendWindows()
        self.credit = spdy.ReceiveCredit()
        self._changed = asyncio.Condition()

    async def write(self, *frames: spdy.Frame) -> None:
        async with self._lock:
            if self.closed:
                return
            payload = b"".join(self.codec.encode(frame) for frame in frames)
            try:
                await self._send(payload)
            except Exception:  # the client went; the reader loop notices and ends the session
                self.closed = True

    async def data(self, stream: int, data: bytes, flags: int = 0) -> None:
        """``data`` on ``stream``, cut to the peer's windows, waiting for them to open."""
        view = memoryview(data)
        while True:
            room = await self._room(stream) if view else 0
            if self.closed:
                return
            chunk = bytes(view[:room])
            view = view[len(chunk) :]
            self.windows.spend(stream, len(chunk))
            await self.write(spdy.Data(stream, chunk, 0 if view else flags))
            if not view:
                return

    async def _room(self, stream: int) -> int:
        async with self._changed:
            await self._changed.wait_for(lambda: self.closed or self.windows.room(stream) > 0)
        return self.windows.room(stream)

    async def flow(self, frame: spdy.Settings | spdy.WindowUpdate) -> None:
        """The peer's SETTINGS or WINDOW_UPDATE: windows move, waiting senders look again."""
        if isinstance(frame, spdy.Settings):
            self.windows.settings(frame)
        else:
            self.windows.update(frame)
        async with self._changed:
            self._changed.notify_all()

    async def consumed(self, stream: int, size: int) -> None:
        if updates := self.credit.consumed(stream, size):
            await self.write(*updates)

    async def close(self) -> None:
        self.closed = True
        async with self._changed:
            self._changed.notify_all()


@dataclass(frozen=True)
class _Tunnel:
    """One port-forward connection: its wire, the pod it reaches, and its connections by
    request id and by stream id (the two streams of a connection share one ``_Request``)."""

    wire: _Wire
    runtime: PodRuntime
    pod: Obj
    requests: dict[str, _Request] = field(default_factory=dict)
    by_stream: dict[int, _Request] = field(default_factory=dict)


async def serve_port_forward(send: Send, receive: Receive, runtime: PodRuntime, pod: Obj) -> None:
    """Serve one tunnelled SPDY connection until the client goes."""
    tunnel = _Tunnel(_Wire(send), runtime, pod)
    wire = tunnel.wire
    try:
        while (chunk := await receive()) is not None:
            try:
                frames = wire.codec.feed(chunk)
            except spdy.FrameError:
                await wire.write(spdy.GoAway(0, 1))
                return
            for frame in frames:
                if isinstance(frame, spdy.GoAway):
                    return
                await _dispatch(frame, tunnel)
    finally:
        await wire.close()
        for request in tunnel.requests.values():
            if request.task is not None:
                request.task.cancel()


async def _dispatch(frame: spdy.Frame, tunnel: _Tunnel) -> None:
    wire, by_stream = tunnel.wire, tunnel.by_stream
    if isinstance(frame, spdy.SynStream):
        await _open_stream(frame, tunnel)
    elif isinstance(frame, spdy.Data):
        request = by_stream.get(frame.stream_id)
        if request is not None and frame.stream_id == request.data_id:
            if frame.data:
                request.inbound.put_nowait(frame.data)
            if frame.fin:
                request.inbound.put_nowait(None)
    elif isinstance(frame, spdy.Ping):
        await wire.write(frame)  # a client's ping (odd id) is echoed back unchanged
    elif isinstance(frame, spdy.Settings | spdy.WindowUpdate):
        await wire.flow(frame)
    elif isinstance(frame, spdy.RstStream):
        request = by_stream.get(frame.stream_id)
        if request is not None and request.task is not None:
            request.task.cancel()


async def _open_stream(frame: spdy.SynStream, tunnel: _Tunnel) -> None:
    wire = tunnel.wire
    headers = frame.headers
    kind, port_text = headers.get("streamtype", ""), headers.get("port", "")
    # kubectl before 1.11 sent no requestID: the port alone pairs the streams then.
    request_id = headers.get("requestid") or f"port-{port_text}"
    if kind not in ("error", "data") or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        await wire.write(spdy.RstStream(frame.stream_id, 1))
        return
    await wire.write(spdy.SynReply(frame.stream_id))
    request = tunnel.requests.setdefault(request_id, _Request(int(port_text)))
    tunnel.by_stream[frame.stream_id] = request
    if kind == "error":
        request.error_id = frame.stream_id
    else:
        request.data_id = frame.stream_id
    if request.error_id and request.data_id and request.task is None:
        request.task = asyncio.ensure_future(_forward(request, tunnel))


def _refusal(pod: Obj, port: int, why: object) -> bytes:
    uid = (pod.get("metadata") or {}).get("uid", "")
    return (
        f"error forwarding port {port} to pod {uid}, uid : failed to connect to "
        f"localhost:{port} inside the pod's network namespace: dial tcp4 127.0.0.1:{port}: "
        f"{why}"
    ).encode()


async def _forward(request: _Request, tunnel: _Tunnel) -> None:
    """Relay one connection to the pod, then half-close the data and error streams."""
    wire, runtime, pod = tunnel.wire, tunnel.runtime, tunnel.pod
    ip = str((pod.get("status") or {}).get("podIP") or "")
    fin = spdy.FLAG_FIN
    try:
        if not runtime.reachable(ip):
            raise ConnectionRefusedError
        reader, writer = await asyncio.open_connection(ip, request.port)
    except OSError as err:
        why = "connect: connection refused" if isinstance(err, ConnectionRefusedError) else err
        await wire.write(
            spdy.Data(request.error_id, _refusal(pod, request.port, why)),
            spdy.Data(request.data_id, b"", fin),
            spdy.Data(request.error_id, b"", fin),
        )
        return
    upload = asyncio.ensure_future(_upload(request, wire, writer))
    try:
        while chunk := await reader.read(_READ):
            await wire.data(request.data_id, chunk)
        ends = spdy.Data(request.data_id, b"", fin), spdy.Data(request.error_id, b"", fin)
        await wire.write(*ends)
    except asyncio.CancelledError:
        await wire.write(spdy.RstStream(request.data_id, _CANCEL))
        raise
    finally:
        upload.cancel()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def _upload(request: _Request, wire: _Wire, writer: asyncio.StreamWriter) -> None:
    """The client's bytes to the pod, given back to its window once written; its FIN
    half-closes the pod's connection."""
    while (data := await request.inbound.get()) is not None:
        writer.write(data)
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        await wire.consumed(request.data_id, len(data))
    with contextlib.suppress(OSError):
        if writer.can_write_eof():
            writer.write_eof()


def websocket_transport(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    receive: Callable[[], Awaitable[dict[str, Any]]],
) -> tuple[Send, Receive]:
    """The SPDY byte stream over ASGI WebSocket messages (binary, cut anywhere)."""

    async def write(payload: bytes) -> None:
        await send({"type": "websocket.send", "bytes": payload})

    async def read() -> bytes | None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return None
            if message.get("bytes"):
                return bytes(message["bytes"])

    return write, read


def offered_protocols(headers: list[tuple[bytes, bytes]]) -> list[str]:
    """Every ``X-Stream-Protocol-Version`` the client sent (one header each, or comma lists)."""
    offered: list[str] = []
    for name, value in headers:
        if name.lower() == b"x-stream-protocol-version":
            offered += [v.strip() for v in value.decode("latin-1").split(",") if v.strip()]
    return offered


def served_protocols(kind: str) -> list[str]:
    return list(_PORT_FORWARD if kind == "portforward" else _REMOTE_COMMAND)


def choose_protocol(kind: str, offered: list[str]) -> str | None:
    """The client's first protocol the kubelet speaks (httpstream.Handshake)."""
    served = served_protocols(kind)
    return next((p for p in offered if p in served), None)


class SpdyChannels:
    """podstreams' numbered channels over SPDY streams named by ``streamtype``."""

    def __init__(self, wire: _Wire) -> None:
        self.wire = wire
        self.streams: dict[int, int] = {}  # channel -> stream id
        self.inbound: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue()
        self.opened = asyncio.Event()

    async def write(self, channel: int, data: bytes) -> None:
        stream = self.streams.get(channel)
        if stream is not None and data:
            await self.wire.data(stream, data)

    async def read(self) -> tuple[int, bytes] | None:
        """The next chunk for the session; taking it gives its bytes back to stdin's window
        (the session takes a chunk only once the one before is written and drained, so at
        most one chunk is held beyond what the window allows)."""
        frame = await self.inbound.get()
        if frame is not None and frame[0] == 0 and frame[1] and 0 in self.streams:
            await self.wire.consumed(self.streams[0], len(frame[1]))
        return frame

    async def close(self) -> None:
        ends = [spdy.Data(s, b"", spdy.FLAG_FIN) for c, s in self.streams.items() if c != 0]
        await self.wire.write(*ends, spdy.GoAway(0))


def _expected(query: dict[str, list[str]]) -> set[int]:
    """The channels the client opens, as the kubelet reads the query: a flag is on only when
    given as ``1``/``true`` (stderr never with a tty); the error stream always."""

    def flag(name: str) -> bool:
        values = query.get(name) or [""]
        return values[0].lower() in ("1", "true")

    wanted = {3}
    for channel, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        if flag(name) and not (channel == 2 and flag("tty")):
            wanted.add(channel)
    return wanted


async def serve_remote_command(
    send: Send, receive: Receive, runtime: PodRuntime, target: StreamTarget
) -> None:
    """exec or attach over one SPDY connection: wait for the streams, then the session."""
    wire = _Wire(send)
    channels = SpdyChannels(wire)
    wanted = _expected(target.query)
    reader = asyncio.ensure_future(_read_channels(receive, wire, channels, wanted))
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(channels.opened.wait(), _STREAMS_WAIT)
        if channels.opened.is_set():
            await run_session(channels, runtime, target)
    finally:
        reader.cancel()
        await wire.close()


async def _read_channels(
    receive: Receive, wire: _Wire, channels: SpdyChannels, wanted: set[int]
) -> None:
    by_stream: dict[int, int] = {}
    while (chunk := await receive()) is not None:
        try:
            frames = wire.codec.feed(chunk)
        except spdy.FrameError:
            break
        for frame in frames:
            if isinstance(frame, spdy.SynStream):
                channel = _CHANNELS.get(frame.headers.get("streamtype", ""))
                if channel is None:
                    await wire.write(spdy.RstStream(frame.stream_id, 1))
                    continue
                await wire.write(spdy.SynReply(frame.stream_id))
                channels.streams[channel] = frame.stream_id
                by_stream[frame.stream_id] = channel
                if wanted <= set(channels.streams):
                    channels.opened.set()
            elif isinstance(frame, spdy.Data) and by_stream.get(frame.stream_id) == 0:
                if frame.data:
                    channels.inbound.put_nowait((0, frame.data))
                if frame.fin:
                    channels.inbound.put_nowait(_CLOSE_STDIN)
            elif isinstance(frame, spdy.Ping):
                await wire.write(frame)
            elif isinstance(frame, spdy.Settings | spdy.WindowUpdate):
                await wire.flow(frame)
            elif isinstance(frame, spdy.GoAway):
                break
    channels.inbound.put_nowait(None)
