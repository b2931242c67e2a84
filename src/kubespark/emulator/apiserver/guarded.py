"""The emulator's HTTP protocol with a header timeout and an idle timeout on new connections.

Owns closing what uvicorn would keep open forever: a connection that sends nothing (closed after
``IDLE_TIMEOUT``) and a request whose headers do not arrive in full within ``HEADER_TIMEOUT`` of
its first byte (slowloris). Kept-alive connections between requests are uvicorn's own
``timeout_keep_alive``; the number of connections is uvicorn's ``limit_concurrency`` (see
``server.py``). Bodies, watches and streams are not timed here. It must not parse or answer
requests itself: that stays uvicorn's httptools protocol.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HEADER_TIMEOUT", "IDLE_TIMEOUT", "MAX_CONNECTIONS", "GuardedHttpToolsProtocol"]

HEADER_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its headers
IDLE_TIMEOUT = 30.0  # seconds a new connection may stay silent
MAX_CONNECTIONS = 2048  # uvicorn answers 503 beyond this many connections and tasks


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing silent and slow-header connections."""

    _guard: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm(IDLE_TIMEOUT)

    def on_message_begin(self) -> None:
        self._arm(HEADER_TIMEOUT)
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._guard = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _expire(self) -> None:
        self._guard = None
        if not self.transport.is_closing():
            self.transport.close()
