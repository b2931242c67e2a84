"""SPDY/3.1 flow control, and bulk transfers with kubectl byte-exact.

The windows' arithmetic (spdy.SendWindows, spdy.ReceiveCredit); a flow-controlled client
written here (it sends SETTINGS and WINDOW_UPDATEs as a SPDY/3.1 peer should) that the server
must never overrun; and kubectl, whose spdystream keeps no windows, moving 20 MB out of
``exec ... cat`` and 50 MB each way through ``port-forward``.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emu_helpers import running_pod
from kubernetes import client

from kubespark.emulator.apiserver import spdy
from kubespark.emulator.testing import RunningEmulator

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
Factory = Callable[..., RunningEmulator]
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "main", "image": "busybox:1.36"}]},
}
MB = 1_000_000


# --- the arithmetic -------------------------------------------------------------------------
def test_send_windows_bind_only_once_the_peer_keeps_them() -> None:
    windows = spdy.SendWindows()
    windows.spend(1, 200_000)  # spdystream's way: no updates, nothing binds
    assert windows.room(1) > 1 << 20
    windows.update(spdy.WindowUpdate(1, 1000))
    assert windows.enforced and windows.room(1) < 0  # 64 KiB - 200,000 + 1,000
    fresh = spdy.SendWindows()
    fresh.settings(spdy.Settings(((0, spdy.SETTINGS_INITIAL_WINDOW_SIZE, 10_000),)))
    assert fresh.room(3) == 10_000  # a new stream starts at the new initial window
    fresh.spend(3, 4_000)
    fresh.settings(spdy.Settings(((0, spdy.SETTINGS_INITIAL_WINDOW_SIZE, 20_000),)))
    assert fresh.window(3) == 16_000  # moved by the difference
    fresh.spend(5, 60_000)
    assert fresh.room(3) == 64 * 1024 - 64_000  # the session window is the tighter one
    fresh.update(spdy.WindowUpdate(0, 100_000))
    assert fresh.room(3) == 16_000


def test_receive_credit_gives_back_half_windows() -> None:
    credit = spdy.ReceiveCredit()
    assert credit.consumed(1, 20_000) == []
    assert credit.consumed(1, 20_000) == [
        spdy.WindowUpdate(1, 40_000),
        spdy.WindowUpdate(0, 40_000),
    ]
    assert credit.consumed(3, 10_000) == []
    assert credit.consumed(1, 33_000) == [
        spdy.WindowUpdate(1, 33_000),
        spdy.WindowUpdate(0, 43_000),
    ]


# --- a client that keeps windows ------------------------------------------------------------
class SpdyClient:
    """A blocking SPDY/3.1 client of one upgraded connection."""

    def __init__(self, emu: RunningEmulator, path: str, protocol: str) -> None:
        host, port = emu.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
            f"X-Stream-Protocol-Version: {protocol}\r\nContent-Length: 0\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(4096)
        assert head.startswith(b"HTTP/1.1 101 "), head
        self.codec = spdy.Codec()
        self.pending = self.codec.feed(head.split(b"\r\n\r\n", 1)[1])

    def send(self, *frames: spdy.Frame) -> None:
        self.sock.sendall(b"".join(self.codec.encode(f) for f in frames))

    def frames(self, quiet: float) -> list[spdy.Frame]:
        """What arrives until the connection is quiet for ``quiet`` seconds (or closes)."""
        got, self.pending = self.pending, []
        self.sock.settimeout(quiet)
        try:
            while chunk := self.sock.recv(1 << 16):
                got += self.codec.feed(chunk)
        except TimeoutError:
            pass
        return got


def test_exec_output_stays_within_a_flow_controlled_clients_windows(
    core: Callable[[RunningEmulator], client.CoreV1Api],
    emulator_factory: Factory,
    tmp_path: Path,
) -> None:
    emu = emulator_factory("1.29")
    running_pod(core(emu), POD)
    payload = hashlib.sha256(b"seed").digest() * (300_000 // 32)  # 300,000 bytes
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    path = f"/api/v1/namespaces/default/pods/web/exec?command=cat&command={source}&stdout=1"
    peer = SpdyClient(emu, path, "v4.channel.k8s.io")
    window = 10_000
    try:
        peer.send(
            spdy.Settings(((0, spdy.SETTINGS_INITIAL_WINDOW_SIZE, window),)),
            spdy.SynStream(1, {"streamtype": "error"}),
            spdy.SynStream(3, {"streamtype": "stdout"}, spdy.FLAG_FIN),
        )
        received = bytearray()
        granted = window
        ended = False
        while not ended:
            frames = peer.frames(quiet=0.5)
            out = [f for f in frames if isinstance(f, spdy.Data) and f.stream_id == 3]
            received += b"".join(f.data for f in out)
            assert len(received) <= granted, "the server overran the stream's window"
            ended = any(f.fin for f in out)
            if not ended:
                assert len(received) == granted  # it stopped exactly at the window's edge
                peer.send(spdy.WindowUpdate(3, 100_000), spdy.WindowUpdate(0, 100_000))
                granted += 100_000
        assert bytes(received) == payload
    finally:
        peer.sock.close()


def test_the_server_gives_back_window_as_stdin_is_consumed(
    core: Callable[[RunningEmulator], client.CoreV1Api],
    emulator_factory: Factory,
    tmp_path: Path,
) -> None:
    emu = emulator_factory("1.29")
    running_pod(core(emu), POD)
    sink = tmp_path / "sink.bin"
    query = f"command=sh&command=-c&command=cat+>+{sink}&stdin=1"
    peer = SpdyClient(emu, f"/api/v1/namespaces/default/pods/web/exec?{query}", "v4.channel.k8s.io")
    try:
        peer.send(
            spdy.SynStream(1, {"streamtype": "error"}), spdy.SynStream(3, {"streamtype": "stdin"})
        )
        peer.frames(quiet=0.3)  # the replies
        sent = 0
        given: dict[int, int] = {0: 0, 3: 0}
        chunk = b"z" * 16_000
        while sent < 200_000:
            peer.send(spdy.Data(3, chunk))
            sent += len(chunk)
            for frame in peer.frames(quiet=0.05):
                if isinstance(frame, spdy.WindowUpdate):
                    given[frame.stream_id] += frame.delta
        peer.send(spdy.Data(3, b"", spdy.FLAG_FIN))
        for frame in peer.frames(quiet=1.0):
            if isinstance(frame, spdy.WindowUpdate):
                given[frame.stream_id] += frame.delta
        # Given back in half-window steps as the command takes it: all but the last part.
        assert sent - 32 * 1024 <= given[3] <= sent
        assert sent - 32 * 1024 <= given[0] <= sent
        assert sink.stat().st_size == sent
    finally:
        peer.sock.close()


# --- kubectl, whose spdystream keeps no windows -----------------------------------------------
def kubectl(emu: RunningEmulator, *args: str) -> list[str]:
    assert KUBECTL is not None
    return [KUBECTL, "--kubeconfig", str(emu.kubeconfig_path), *args]


@needs_kubectl
@pytest.mark.parametrize("version", ["1.29", "1.32"])  # SPDY (kubectl 1.29); WebSocket v5 (1.32)
def test_kubectl_exec_cat_of_20_mb_is_byte_exact(
    core: Callable[[RunningEmulator], client.CoreV1Api],
    emulator_factory: Factory,
    tmp_path: Path,
    version: str,
) -> None:
    emu = emulator_factory(version)
    running_pod(core(emu), POD)
    payload = _payload(20 * MB)
    source = tmp_path / "big.bin"
    source.write_bytes(payload)
    done = subprocess.run(
        kubectl(emu, "exec", "web", "--", "cat", str(source)), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert len(done.stdout) == len(payload)
    assert done.stdout == payload


def _payload(size: int) -> bytes:
    block = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(4096))  # 128 KiB
    return (block * (size // len(block) + 1))[:size]


class BulkServer:
    """A TCP server on the pod's address: ``D`` sends SIZE bytes; ``U`` reads to EOF and
    answers the length and sha256 of what came."""

    def __init__(self, ip: str, payload: bytes) -> None:
        self.ip, self.payload = ip, payload
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mode = await reader.readexactly(1)
        if mode == b"D":
            writer.write(self.payload)
        else:
            digest, size = hashlib.sha256(), 0
            while chunk := await reader.read(1 << 16):
                digest.update(chunk)
                size += len(chunk)
            writer.write(f"{size} {digest.hexdigest()}".encode())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, self.ip, 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    def __enter__(self) -> BulkServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


def _receive_all(sock: socket.socket) -> bytes:
    parts = []
    while chunk := sock.recv(1 << 16):
        parts.append(chunk)
    return b"".join(parts)


@needs_kubectl
@pytest.mark.parametrize("version", ["1.29", "1.31"])  # plain SPDY; SPDY tunnelled in WebSocket
def test_kubectl_port_forward_moves_50_mb_each_way_byte_exact(
    core: Callable[[RunningEmulator], client.CoreV1Api], emulator_factory: Factory, version: str
) -> None:
    emu = emulator_factory(version, kubelet="process")
    ip = running_pod(core(emu), POD)
    payload = _payload(50 * MB)
    with BulkServer(ip, payload) as pod_server:
        cmd = kubectl(emu, "port-forward", "pod/web", f":{pod_server.port}")
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # "Forwarding from 127.0.0.1:NNNN -> PORT"
            assert line.startswith("Forwarding from 127.0.0.1:"), line
            local = int(line.split(":")[1].split()[0])
            with socket.create_connection(("127.0.0.1", local), timeout=60) as down:
                down.sendall(b"D")
                got = _receive_all(down)
            assert len(got) == len(payload) and got == payload
            with socket.create_connection(("127.0.0.1", local), timeout=60) as up:
                up.sendall(b"U")
                up.sendall(payload)
                up.shutdown(socket.SHUT_WR)
                answer = _receive_all(up).decode()
            assert answer == f"{len(payload)} {hashlib.sha256(payload).hexdigest()}"
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=20)
    assert "error" not in err.lower(), err
