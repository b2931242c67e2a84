"""exec, attach and port-forward over WebSocket: the channel protocols kubectl and clients speak.

Owns the ``pods/NAME/exec``, ``pods/NAME/attach`` and ``pods/NAME/portforward`` subresources
as the API server and kubelet answer them together: the checks before the upgrade
(``streamLocation``: which container, a host assigned), the subprotocol negotiation
(``v5.channel.k8s.io`` where the version translates it, ``v4.channel.k8s.io``, their base64
forms), the framing (one channel byte, or a channel digit and base64), and the sessions: exec
runs the command the kubelet plans (:class:`PodRuntime`) with its stdin, stdout and stderr on
channels 0-2 and the exit status on channel 3 (a ``Status`` with an ``ExitCode`` cause); attach
streams the container's output from now on; port-forward relays each port's bytes over a data
and an error channel, each opened with the port number. SPDY is spdysession's; this module
never writes objects.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import signal
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from kubespark.emulator.apiserver.api import ApiServer
from kubespark.emulator.apiserver.objects import Obj
from kubespark.emulator.apiserver.wire import bad_request, not_found

__all__ = [
    "ChannelIO",
    "ExecPlan",
    "PodRuntime",
    "StreamPath",
    "StreamTarget",
    "check_target",
    "choose_protocol",
    "parse_stream_path",
    "run_session",
]

_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/(exec|attach|portforward)$")
_REMOTE_COMMAND = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io")
_PORT_FORWARD = ("v4.channel.k8s.io", "v4.base64.channel.k8s.io")
_CLOSE = 255  # v5: the client closes one of its channels (stdin) with [255, channel]
_STDIN, _STDOUT, _STDERR, _ERROR, _RESIZE = 0, 1, 2, 3, 4
_READ = 64 * 1024


@dataclass(frozen=True)
class StreamPath:
    namespace: str
    pod: str
    kind: str  # exec, attach or portforward


@dataclass(frozen=True)
class StreamTarget:
    """What one upgraded connection reaches: its path, the pod and container checked for it,
    and the query (the command, the ports, which of stdin/stdout/stderr/tty)."""

    where: StreamPath
    pod: Obj
    container: str
    query: dict[str, list[str]]


@dataclass(frozen=True)
class ExecPlan:
    """How the kubelet runs a command in a container: a local process."""

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: str | None = None


class PodRuntime(Protocol):
    """What the kubelet offers streams: commands, output and addresses of its pods."""

    def exec_plan(self, pod: Obj, container: str, command: list[str]) -> ExecPlan: ...

    def log_lines(self, namespace: str, pod: str, container: str) -> list[str]: ...

    def container_done(self, namespace: str, pod: str, container: str) -> bool: ...

    def reachable(self, ip: str) -> bool: ...


def parse_stream_path(path: str) -> StreamPath | None:
    found = _PATH.match(path)
    if found is None:
        return None
    namespace, pod, kind = found.groups()
    return StreamPath(urllib.parse.unquote(namespace), urllib.parse.unquote(pod), kind)


def query_lists(raw: bytes) -> dict[str, list[str]]:
    """The query with repeated keys kept (``command=sh&command=-c``)."""
    return urllib.parse.parse_qs(raw.decode("latin-1"), keep_blank_values=True)


def check_target(api: ApiServer, where: StreamPath, query: dict[str, list[str]]) -> tuple[Obj, str]:
    """The pod and container a stream goes to, or the 4xx apiserver answers before upgrading."""
    pod = api.store.get(("", "pods"), where.namespace, where.pod)
    if pod is None:
        raise not_found("", "pods", where.pod)
    if where.kind == "portforward":
        return pod, ""
    spec = pod.get("spec") or {}
    names = [str(c.get("name")) for c in spec.get("containers") or []]
    init = [str(c.get("name")) for c in spec.get("initContainers") or []]
    container = (query.get("container") or [""])[0]
    if not container:
        if len(names) != 1:
            message = f"a container name must be specified for pod {where.pod}"
            if names:
                message += f", choose one of: [{' '.join(names)}]"
                if init:
                    message += f" or one of the init containers: [{' '.join(init)}]"
            raise bad_request(message)
        container = names[0]
    elif container not in names + init:
        raise bad_request(f"container {container} is not valid for pod {where.pod}")
    if not spec.get("nodeName"):
        raise bad_request(f"pod {where.pod} does not have a host assigned")
    if where.kind == "exec" and not (query.get("command") or []):
        raise bad_request("you must specify at least 1 command")
    return pod, container


def choose_protocol(kind: str, offered: list[str], v5: bool) -> str | None:
    """The subprotocol the server picks: the client's first that the server speaks."""
    served = _PORT_FORWARD if kind == "portforward" else _REMOTE_COMMAND
    for protocol in offered:
        if protocol in served and (v5 or not protocol.startswith("v5.")):
            return protocol
    # kubectl 1.30+ offers v5 alone and, refused by an older server, falls back to SPDY/3.1
    # (spdysession), as against a real one.
    return None


def served_protocols(kind: str, v5: bool) -> list[str]:
    served = _PORT_FORWARD if kind == "portforward" else _REMOTE_COMMAND
    return [p for p in served if v5 or not p.startswith("v5.")]


class ChannelIO(Protocol):
    """Numbered channels both ways: a WebSocket's (:class:`Channels`) or SPDY streams'."""

    async def write(self, channel: int, data: bytes) -> None: ...

    async def read(self) -> tuple[int, bytes] | None: ...

    async def close(self) -> None: ...


class Channels:
    """One WebSocket carrying numbered channels, binary or base64 framed."""

    def __init__(
        self,
        protocol: str,
        send: Callable[[dict[str, Any]], Awaitable[None]],
        receive: Callable[[], Awaitable[dict[str, Any]]],
    ) -> None:
        self.protocol = protocol
        self.base64 = ".base64." in protocol
        self._send = send
        self._receive = receive
        self.closed = False

    async def write(self, channel: int, data: bytes) -> None:
        if self.closed:
            return
        if self.base64:
            text = str(channel) + base64.b64encode(data).decode()
            await self._send({"type": "websocket.send", "text": text})
        else:
            await self._send({"type": "websocket.send", "bytes": bytes([channel]) + data})

    async def read(self) -> tuple[int, bytes] | None:
        """The next (channel, data) from the client; None once it has gone."""
        while True:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                return None
            raw = message.get("bytes")
            if raw:
                return raw[0], raw[1:]
            text = message.get("text")
            if text:
                if self.base64 and text[0].isdigit():
                    return int(text[0]), base64.b64decode(text[1:])
                encoded = text.encode()
                return encoded[0], encoded[1:]

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                await self._send({"type": "websocket.close", "code": 1000})


def exit_status(code: int, command: list[str]) -> dict[str, Any]:
    """The Status the kubelet writes on the error channel when the command ends."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: error executing command "
        f"[{' '.join(command)}], exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _failure(message: str) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "InternalError",
        "code": 500,
    }


async def run_session(channels: ChannelIO, runtime: PodRuntime, target: StreamTarget) -> None:
    """Serve one upgraded connection until its command, container or ports are done."""
    where, pod, container, query = target.where, target.pod, target.container, target.query
    try:
        if where.kind == "exec":
            plan = runtime.exec_plan(pod, container, query["command"])
            await _exec(channels, plan, query)
        elif where.kind == "attach":
            await _attach(channels, runtime, where, container)
        else:
            await _port_forward(channels, runtime, pod, query)
    finally:
        await channels.close()


def _flag(query: dict[str, list[str]], name: str, default: bool) -> bool:
    values = query.get(name)
    if not values:
        return default
    return values[0].lower() in ("1", "true")


def prepare(runtime: PodRuntime, where: StreamPath, pod: Obj, container: str) -> None:
    """The kubelet's own refusals, before the upgrade (a container that does not run)."""
    if where.kind == "exec":
        runtime.exec_plan(pod, container, ["true"])


async def _exec(channels: ChannelIO, plan: ExecPlan, query: dict[str, list[str]]) -> None:
    command = query["command"]
    stdin, tty = _flag(query, "stdin", False), _flag(query, "tty", False)
    want_out, want_err = _flag(query, "stdout", True), _flag(query, "stderr", not tty)
    pipe, null = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
    try:
        proc = await asyncio.create_subprocess_exec(
            *plan.argv,
            stdin=pipe if stdin else null,
            stdout=pipe if want_out else null,
            stderr=asyncio.subprocess.STDOUT if tty else (pipe if want_err else null),
            env=plan.env,
            cwd=plan.cwd,
            start_new_session=True,
        )
    except OSError as err:
        # containerd's answer when the program cannot start; the kubelet passes it on as an
        # InternalError Status (no ExitCode cause: kubectl exits 1).
        why = "executable file not found in $PATH" if isinstance(err, FileNotFoundError) else err
        message = (
            "Internal error occurred: error executing command in container: failed to exec in "
            "container: OCI runtime exec failed: exec failed: unable to start container "
            f'process: exec: "{command[0]}": {why}: unknown'
        )
        await channels.write(_ERROR, orjson.dumps(_failure(message)))
        return
    pumps = [
        asyncio.ensure_future(_pump(proc.stdout, channels, _STDOUT)),
        asyncio.ensure_future(_pump(proc.stderr, channels, _STDERR)),
    ]
    feeder = asyncio.ensure_future(_feed(channels, proc))
    try:
        code = await proc.wait()
        await asyncio.gather(*pumps)
    finally:
        feeder.cancel()
        for task in pumps:
            task.cancel()
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    await channels.write(
        _ERROR, orjson.dumps(exit_status(code if code >= 0 else 128 - code, command))
    )


async def _pump(stream: asyncio.StreamReader | None, channels: ChannelIO, channel: int) -> None:
    if stream is None:
        return
    while chunk := await stream.read(_READ):
        await channels.write(channel, chunk)


async def _feed(channels: ChannelIO, proc: asyncio.subprocess.Process) -> None:
    """The client's stdin into the process; the end of stdin when the client closes it."""
    stdin = proc.stdin
    while (frame := await channels.read()) is not None:
        channel, data = frame
        if channel == _STDIN and stdin is not None and data:
            stdin.write(data)
            with contextlib.suppress(ConnectionError):
                await stdin.drain()
        elif channel == _CLOSE and data[:1] == bytes([_STDIN]) and stdin is not None:
            stdin.close()
            stdin = None
    # v4 cannot close stdin alone: the end of the connection is its end.
    if stdin is not None:
        stdin.close()
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


async def _attach(
    channels: ChannelIO, runtime: PodRuntime, where: StreamPath, container: str
) -> None:
    """The container's output from now on, until it ends or the client goes."""
    seen = len(runtime.log_lines(where.namespace, where.pod, container))
    gone = asyncio.ensure_future(_drain(channels))
    try:
        while not gone.done():
            lines = runtime.log_lines(where.namespace, where.pod, container)
            for line in lines[seen:]:
                await channels.write(_STDOUT, line.encode() + b"\n")
            seen = len(lines)
            if runtime.container_done(where.namespace, where.pod, container):
                await channels.write(_ERROR, orjson.dumps(exit_status(0, [])))
                return
            await asyncio.sleep(0.1)
    finally:
        gone.cancel()


async def _drain(channels: ChannelIO) -> None:
    """Read (and drop: simulated programs read no stdin) until the client goes."""
    while await channels.read() is not None:
        pass


def _ports(query: dict[str, list[str]]) -> list[int]:
    ports: list[int] = []
    for value in query.get("ports") or []:
        for item in value.split(","):
            if not item.strip().isdigit() or not 0 < int(item) < 65536:
                raise bad_request(f'invalid port "{item}"')
            ports.append(int(item))
    if not ports:
        raise bad_request("at least 1 port must be specified")
    return ports


def check_ports(query: dict[str, list[str]]) -> None:
    """Refuse bad ``ports`` before the upgrade, as the kubelet's websocket handler does."""
    _ports(query)


async def _port_forward(
    channels: ChannelIO, runtime: PodRuntime, pod: Obj, query: dict[str, list[str]]
) -> None:
    ports = _ports(query)
    ip = str((pod.get("status") or {}).get("podIP") or "")
    writers: dict[int, asyncio.StreamWriter] = {}
    relays: list[asyncio.Task[None]] = []
    for index, port in enumerate(ports):
        number = port.to_bytes(2, "little")
        await channels.write(2 * index, number)
        await channels.write(2 * index + 1, number)
        try:
            if not runtime.reachable(ip):
                raise ConnectionRefusedError
            reader, writer = await asyncio.open_connection(ip, port)
        except OSError as err:
            why = "connect: connection refused" if isinstance(err, ConnectionRefusedError) else err
            message = (
                f"error forwarding port {port} to pod {(pod.get('metadata') or {}).get('uid', '')}"
                f", uid : failed to connect to localhost:{port} inside the pod's network "
                f"namespace: dial tcp4 127.0.0.1:{port}: {why}"
            )
            await channels.write(2 * index + 1, message.encode())
            continue
        writers[2 * index] = writer
        relays.append(asyncio.ensure_future(_pump(reader, channels, 2 * index)))
    client = asyncio.ensure_future(_relay_client(channels, writers))
    try:
        # The session ends when the client goes or, with ports connected, when the pod has
        # closed every connection (the kubelet's handler returns and the stream closes).
        waiting: list[asyncio.Future[Any]] = [client]
        if relays:
            waiting.append(asyncio.gather(*relays, return_exceptions=True))
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        client.cancel()
        for task in relays:
            task.cancel()
        for writer in writers.values():
            writer.close()


async def _relay_client(channels: ChannelIO, writers: dict[int, asyncio.StreamWriter]) -> None:
    while (frame := await channels.read()) is not None:
        channel, data = frame
        writer = writers.get(channel)
        if writer is not None and data:
            writer.write(data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
