"""The proxy's front end: HTTP/1.1 over asyncio streams, parsed with h11, upgrades spliced.

Owns one client connection: reading requests (keep-alive, ``Expect: 100-continue``, a bound on
the body), writing answers (buffered, or streamed chunk by chunk as the upstream sends them, so
watches and ``logs -f`` pass through without buffering), and connection upgrades. For an
``Upgrade:`` request (SPDY/3.1 or WebSocket: exec, attach, port-forward) the upstream's ``101``
is relayed and from then on bytes are copied both ways until either side closes.

Why raw streams and h11 rather than an ASGI server: ASGI has no way to hand a handler the raw
connection after a ``101`` except for WebSocket, so SPDY (kubectl's exec and port-forward
transport up to 1.29, and still its fallback) could not be relayed. h11 is a sans-I/O parser:
it keeps HTTP framing correct (chunked, keep-alive, the upgrade handshake and the bytes a client
sends right after it) while this module owns every read and write.

It decides nothing about what to send upstream: :class:`Handler` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

import h11

from kubespark.kube.status import Status
from kubespark.proxy.guard import Limits
from kubespark.proxy.messages import ClientRequest, ProxyResponse, StreamBroken, status_response

__all__ = ["Handler", "Upgraded", "serve_connection"]

log = logging.getLogger("kubespark.proxy")

READ_SIZE = 65536
MAX_HEAD = 64 * 1024  # request line and headers; client-go never comes near it
_NO_UPGRADE = frozenset({b"h2c"})  # HTTP/2 over cleartext: ignored, as the API server does


class Upgraded(Protocol):
    """The upstream's side of an upgraded connection (an httpcore network stream)."""

    async def read(self, max_bytes: int) -> bytes: ...

    async def write(self, buffer: bytes) -> None: ...

    async def aclose(self) -> None: ...


class Handler(Protocol):
    """What the front end asks for each request."""

    max_body: int

    async def handle(self, request: ClientRequest) -> ProxyResponse: ...

    async def upgrade(self, request: ClientRequest) -> tuple[ProxyResponse, Upgraded | None]: ...


class _Closed(Exception):
    """The client went away."""


class _Slow(Exception):
    """The client took longer than a limit allows: which one."""

    def __init__(self, what: str) -> None:
        self.what = what

    def status(self) -> Status:
        return Status.failure(408, f"kubespark proxy: {self.what}", reason="Timeout")


class _Connection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handler: Handler,
        limits: Limits,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.handler = handler
        self.limits = limits
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self._deadline: tuple[float, str] | None = None  # (loop time, what a miss means)

    # --- reading ---------------------------------------------------------------------------

    async def _event(self) -> h11.Event | type[h11.PAUSED]:
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                self.h11.receive_data(await self._read())
                continue
            return event  # type: ignore[return-value]

    async def _read(self) -> bytes:
        """One read, within the idle timeout before a request and its deadlines during one."""
        loop = asyncio.get_running_loop()
        if self._deadline is None:
            limit, what = self.limits.idle_timeout, "idle connection closed"
        else:
            limit, what = self._deadline[0] - loop.time(), self._deadline[1]
        try:
            async with asyncio.timeout(max(limit, 0.0)):
                data = await self.reader.read(READ_SIZE)
        except TimeoutError:
            if self._deadline is None:
                raise _Closed from None  # nothing was asked: close without an answer
            raise _Slow(what) from None
        if self._deadline is None and data:
            self._deadline = (
                loop.time() + self.limits.header_timeout,
                f"request headers not received within {self.limits.header_timeout:g} s",
            )
        return data

    async def read_request(self) -> ClientRequest | None:
        self._deadline = None
        event = await self._event()
        if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None
        if not isinstance(event, h11.Request):
            raise h11.RemoteProtocolError(f"unexpected {type(event).__name__}")
        head = event
        started = asyncio.get_running_loop().time()
        self._deadline = (
            started + self.limits.request_timeout,
            f"request body not received within {self.limits.request_timeout:g} s",
        )
        if self.h11.they_are_waiting_for_100_continue:
            await self.send(h11.InformationalResponse(status_code=100, headers=[]))
        chunks: list[bytes] = []
        size = 0
        while True:
            part = await self._event()
            if isinstance(part, h11.Data):
                size += len(part.data)
                if size > self.handler.max_body:
                    raise _TooLarge(size)
                chunks.append(bytes(part.data))
            elif isinstance(part, h11.EndOfMessage):
                break
            elif isinstance(part, h11.ConnectionClosed):
                raise _Closed
        return ClientRequest(
            method=head.method.decode("ascii", "replace"),
            target=bytes(head.target),
            headers=tuple((bytes(k), bytes(v)) for k, v in head.headers),
            body=b"".join(chunks),
        )

    # --- writing ---------------------------------------------------------------------------

    async def send(self, event: h11.Event) -> None:
        data = self.h11.send(event)
        if data:
            self.writer.write(data)
            await self.writer.drain()

    async def respond(self, response: ProxyResponse) -> None:
        headers = _safe(response.headers)
        if response.stream is None and response.header(b"content-length") is None:
            headers.append((b"content-length", str(len(response.body)).encode()))
        try:
            await self.send(
                h11.Response(
                    status_code=response.status, headers=headers, reason=response.reason_phrase
                )
            )
            if response.stream is None:
                if response.body:
                    await self.send(h11.Data(data=response.body))
            elif response.header(b"content-length") is not None:
                async for chunk in response.stream:
                    await self.send(h11.Data(data=chunk))
            else:
                await self._stream(response)
            await self.send(h11.EndOfMessage())
        finally:
            await response.aclose()

    async def _stream(self, response: ProxyResponse) -> None:
        assert response.stream is not None
        # A watch may stay silent for minutes: notice a client that leaves meanwhile, rather
        # than holding the upstream stream open until the next event fails to write.
        gone = asyncio.ensure_future(self.reader.read(READ_SIZE))
        try:
            async for chunk in _racing(response.stream, gone):
                if chunk:
                    await self.send(h11.Data(data=chunk))
        finally:
            if gone.done() and not gone.cancelled() and gone.exception() is None:
                early = gone.result()
                if early:  # a pipelined request: keep it for the next cycle
                    self.h11.receive_data(early)
                else:
                    raise _Closed
            else:
                gone.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await gone

    # --- the connection's life -------------------------------------------------------------

    async def serve(self) -> None:
        while True:
            try:
                request = await self.read_request()
            except (_TooLarge, _Slow) as err:
                await self._refuse(err.status())
                return
            if request is None:
                return
            if _is_upgrade(request):
                await self._upgrade(request)
                return
            response = await self.handler.handle(request)
            await self.respond(response)
            if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
                return
            self.h11.start_next_cycle()

    async def _refuse(self, status: Status) -> None:
        if self.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            response = status_response(status, [(b"connection", b"close")])
            with contextlib.suppress(h11.LocalProtocolError):
                await self.respond(response)

    async def _upgrade(self, request: ClientRequest) -> None:
        response, upstream = await self.handler.upgrade(request)
        if upstream is None:
            await self.respond(response)
            return
        try:
            await self.send(
                h11.InformationalResponse(
                    status_code=101, headers=_safe(response.headers), reason=b"Switching Protocols"
                )
            )
            early, _ = self.h11.trailing_data
            if early:
                await upstream.write(bytes(early))
            await _splice(self.reader, self.writer, upstream)
        finally:
            await upstream.aclose()


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size

    def status(self) -> Status:
        return Status.failure(
            413,
            f"kubespark proxy: the request body exceeds {self.size - 1} bytes, the proxy's limit "
            "(the API server's own limit is 3 MiB for most requests)",
        )


async def _racing(
    stream: AsyncIterator[bytes], gone: asyncio.Future[bytes]
) -> AsyncIterator[bytes]:
    """The stream's chunks until it ends or ``gone`` completes (the client sent or closed)."""
    iterator = stream.__aiter__()
    while True:
        step = asyncio.ensure_future(iterator.__anext__())
        done, _ = await asyncio.wait({step, gone}, return_when=asyncio.FIRST_COMPLETED)
        if step not in done:
            step.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await step
            return
        try:
            yield step.result()
        except StopAsyncIteration:
            return


def _is_upgrade(request: ClientRequest) -> bool:
    if b"upgrade" not in request.tokens(b"connection"):
        return False
    protocols = request.tokens(b"upgrade")
    return bool(protocols) and not protocols <= _NO_UPGRADE


def _safe(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if b"\r" not in v and b"\n" not in v]


async def _splice(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: Upgraded
) -> None:
    """Copy bytes both ways until either side closes; then both close."""

    async def client_to_upstream() -> None:
        while data := await reader.read(READ_SIZE):
            await upstream.write(data)

    async def upstream_to_client() -> None:
        while data := await upstream.read(READ_SIZE):
            writer.write(data)
            await writer.drain()

    tasks = [
        asyncio.ensure_future(client_to_upstream()),
        asyncio.ensure_future(upstream_to_client()),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def serve_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    handler: Handler,
    limits: Limits | None = None,
) -> None:
    """Serve one client connection until it closes; never raises for the client's faults."""
    connection = _Connection(reader, writer, handler, limits or Limits())
    try:
        await connection.serve()
    except h11.RemoteProtocolError as err:
        # Not HTTP/1.1 we can parse: nothing to forward; answer as h11 suggests (400 or 431).
        status = Status.failure(err.error_status_hint, f"kubespark proxy: malformed HTTP: {err}")
        await connection._refuse(status)
    except StreamBroken as err:
        # The upstream cut an answer short: cut ours too, as a direct connection would be.
        log.info("kubespark proxy: %s", err)
    except (_Closed, ConnectionError, asyncio.IncompleteReadError):
        pass
    except Exception:
        log.exception("kubespark proxy: connection failed")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
