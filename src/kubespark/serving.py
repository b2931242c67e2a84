"""Serving an ASGI app in-process: the listening socket and uvicorn without its signal handling.

Owns what the emulator, the operator's metrics endpoint and the dashboard each did alike: take
the port at start (so a taken one is a clear :class:`InputError` naming the flag, not a failed
task later) and run uvicorn on that socket while the embedding program keeps its own signals;
:class:`AppServer` is that life cycle whole, for the operator's endpoint and the dashboard, and
:func:`send_response` their whole answers (the ASGI messages, whatever the body says);
:class:`ServerThread` runs a server on its own loop for synchronous callers (tests, benchmarks).
It must not know what is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping, Sequence
from typing import Any, Generic, Protocol, TypeVar

import uvicorn

from kubespark.errors import InputError

# The ASGI callables, as the operator's endpoint and the dashboard receive them.
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def send_response(
    send: Send,
    code: int,
    body: bytes,
    content_type: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """One whole HTTP answer: status, content type and length, ``headers``, then ``body``."""
    start = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": code, "headers": start})
    await send({"type": "http.response.body", "body": body})


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the embedding command owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def listening_socket(
    host: str, port: int, *, where: str, fix: str, serves: str = "", backlog: int = 128
) -> socket.socket:
    """A TCP socket listening on ``host:port``; ``where``/``fix`` name the flag when it cannot.

    ``serves`` (e.g. " for /metrics") completes the message of a refusal.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto
    # says TCP; without it every keep-alive answer waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as err:
        sock.close()
        raise InputError(
            f"cannot listen on {host}:{port}{serves}: {err.strerror}", where=where, fix=fix
        ) from None
    return sock


class AppServer:
    """An ASGI app on a port taken by :meth:`bind`, served by uvicorn until :meth:`stop`."""

    def __init__(self, host: str, port: int, *, where: str, fix: str, serves: str = "") -> None:
        self.host = host
        self.port = port  # the port asked for; after bind, the one taken (0 asks for any)
        self._refusal = (where, fix, serves)
        self._socket: socket.socket | None = None
        self._server: EmbeddedServer | None = None

    def bind(self) -> None:
        """Take the port now, so a taken one is a message at start, not a failed task later."""
        if self._socket is not None:
            return
        where, fix, serves = self._refusal
        self._socket = listening_socket(self.host, self.port, where=where, fix=fix, serves=serves)
        self.port = self._socket.getsockname()[1]

    @property
    def started(self) -> bool:
        """Whether uvicorn has started answering on the bound socket."""
        return self._server is not None and self._server.started

    async def _serve_app(self, app: Any) -> None:  # Any: uvicorn names its ASGI type privately
        self.bind()
        sock = self._socket
        assert sock is not None
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", ws="none"
        )
        self._server = EmbeddedServer(config)
        try:
            await self._server.serve(sockets=[sock])
        finally:
            sock.close()
            self._socket = None

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            await asyncio.sleep(0)


class Server(Protocol):
    """What can be started and stopped: the emulator, the proxy."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


S = TypeVar("S", bound=Server)


@contextlib.asynccontextmanager
async def started(server: S) -> AsyncIterator[S]:
    """``server``, started for the ``async with`` block and stopped after it."""
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


class ServerThread(Generic[S]):
    """A server served from its own event loop in a daemon thread, for synchronous callers."""

    def __init__(self, name: str, make: Callable[[], S]) -> None:
        self._make = make
        self.server: S | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)

    def start(self) -> S:
        self._thread.start()
        server: S = self.call(self._start())
        self.server = server
        return server

    async def _start(self) -> S:
        server = self._make()
        await server.start()
        return server

    def call(self, coro: Any, timeout: float = 60) -> Any:
        """Run a coroutine on the thread's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)

    def stop(self) -> None:
        if self._loop.is_closed():  # stopped already (a test may stop its server early)
            return
        if self.server is not None:
            self.call(self.server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            close_loop(self._loop)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Close a stopped ``loop`` as :func:`asyncio.run` closes its own.

    What still runs is cancelled and awaited, and suspended async generators are finalized,
    so their connections close now; a bare ``loop.close()`` leaves them to the garbage
    collector, whose "unclosed transport" warnings then land in whatever code runs next.
    """
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        # A closed transport lets go of its socket in a callback of the next iteration.
        for _ in range(3):
            loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
