"""The emulator's HTTP protocol, able to hand a ``Upgrade: SPDY/3.1`` connection to the app.

Owns taking a connection away from uvicorn once the app has accepted a SPDY upgrade: uvicorn
upgrades only to WebSocket and serves any other ``Upgrade:`` request as plain HTTP, so this
protocol offers the app, in ``scope["extensions"]["kubespark.spdy"]``, a :class:`SpdyTakeover`
that writes the ``101 Switching Protocols`` head itself and then gives the raw bytes each way
to a session (kubectl before 1.30 streams exec and attach only over SPDY, and port-forward
before 1.31). It must not decide whether to upgrade nor parse SPDY: the app (asgi) checks the
request and spdysession speaks the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from kubespark.emulator.apiserver.guarded import GuardedHttpToolsProtocol

__all__ = ["EXTENSION", "SpdyTakeover", "UpgradingHttpToolsProtocol"]

EXTENSION = "kubespark.spdy"
Session = Callable[
    [Callable[[bytes], Awaitable[None]], Callable[[], Awaitable[bytes | None]]], Awaitable[None]
]


class SpdyTakeover:
    """One request's way out of HTTP: ``await takeover(headers, session)``."""

    def __init__(self, protocol: UpgradingHttpToolsProtocol) -> None:
        self._protocol = protocol

    async def __call__(self, headers: list[tuple[str, str]], session: Session) -> None:
        protocol = self._protocol
        inbound: asyncio.Queue[bytes | None] = asyncio.Queue()
        protocol.take_over(inbound)
        head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
        transport = protocol.transport
        transport.write(head.encode("latin-1"))

        async def write(payload: bytes) -> None:
            if transport.is_closing():
                raise ConnectionResetError("the client closed the connection")
            transport.write(payload)
            await protocol.flow.drain()

        try:
            await session(write, inbound.get)
        finally:
            with contextlib.suppress(Exception):
                transport.close()


class UpgradingHttpToolsProtocol(GuardedHttpToolsProtocol):
    """The guarded httptools protocol plus the SPDY takeover (see the module docstring)."""

    _raw: asyncio.Queue[bytes | None] | None = None

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        upgrade = self._get_upgrade() or b""
        if upgrade.startswith(b"spdy/") and self.cycle is not None:
            # The app's task was created above but has not run yet: it sees the extension.
            scope: dict[str, Any] = self.scope  # type: ignore[assignment]
            scope.setdefault("extensions", {})[EXTENSION] = SpdyTakeover(self)

    def _unsupported_upgrade_warning(self) -> None:
        if not (self._get_upgrade() or b"").startswith(b"spdy/"):  # SPDY is served, not odd
            super()._unsupported_upgrade_warning()

    def take_over(self, inbound: asyncio.Queue[bytes | None]) -> None:
        """From now on the connection's bytes go to ``inbound``; uvicorn writes no response."""
        self._raw = inbound
        self.cycle.disconnected = True  # uvicorn's cycle then sends nothing when the app returns

    def data_received(self, data: bytes) -> None:
        if self._raw is not None:
            self._raw.put_nowait(data)
            return
        super().data_received(data)

    def shutdown(self) -> None:
        if self._raw is not None:  # a session has no response to finish: end it now
            self.transport.close()
            return
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._raw is not None:
            self._raw.put_nowait(None)
        super().connection_lost(exc)
