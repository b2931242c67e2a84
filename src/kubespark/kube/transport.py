"""How kubespark's requests reach a server: aiohttp's connection pool, under httpx or directly.

httpx (the client's library: its auth flows, the injectable transport tests use) sends through
httpcore, whose pool re-examines every pooled connection for every queued request: with the
operator's 30-odd concurrent reconciles that scan dominates (docs/performance.md).
aiohttp (already here: kopf's own client) keeps a per-host queue of idle connections instead.

Owns two adaptations over one aiohttp session: an :class:`httpx.AsyncBaseTransport` (streamed
bodies such as watches and logs, aiohttp's errors mapped to httpx's), and an :class:`Exchange`
for one-shot requests that skips httpx's models too. It owns no semantics: authentication stays
httpx's (the client adds its headers), TLS is the connection's, status codes are the client's.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol, Self

import aiohttp
import httpx

from kubespark.kube.config import Connection

__all__ = ["AiohttpTransport", "Answer", "Exchange"]


@dataclass(frozen=True, slots=True)
class Answer:
    """A whole HTTP answer, as an :class:`Exchange` reads it."""

    status: int
    reason: str
    content: bytes

    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class Exchange(Protocol):
    """Sends one request to an absolute URL and reads its whole answer.

    Raises :class:`httpx.TransportError` when no answer comes, so the client maps every
    transport's failures the same way.
    """

    async def exchange(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> Answer: ...


def _mapped(err: BaseException, request: httpx.Request | None) -> httpx.TransportError:
    message = str(err) or type(err).__name__
    if isinstance(err, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(err, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(err, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.ReadError(message, request=request)


class _Body(httpx.AsyncByteStream):
    """A response body read from aiohttp as it arrives (a watch never ends on its own)."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (TimeoutError, aiohttp.ClientError) as err:
            raise _mapped(err, self._request) from err

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through one aiohttp session (created on first use, in the loop)."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | bool = True,
        connections: int = 64,
        timeout: float | None = None,
    ) -> None:
        self._ssl = verify
        self._connections = connections
        # For exchanges: connect, and between bytes of an answer (httpx's timeouts for streams).
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._connections, ssl=self._ssl, keepalive_timeout=60
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # httpx decodes per Content-Encoding itself
                skip_auto_headers=("User-Agent", "Accept-Encoding"),
            )
        return self._session

    @classmethod
    def for_connection(
        cls, connection: Connection, *, timeout: float, connections: int = 100
    ) -> Self:
        """A transport with ``connection``'s TLS (its SSL context, client certificates
        included); ``connections`` as httpx's default pool."""
        verify = connection.client_params.get("verify", True)
        return cls(
            verify=verify if isinstance(verify, ssl.SSLContext | bool) else True,
            connections=connections,
            timeout=timeout,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout") or {}
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeouts.get("connect"), sock_read=timeouts.get("read")
        )
        body = await request.aread()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        try:
            response = await self._client().request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                timeout=timeout,
                allow_redirects=False,
                compress=None,
            )
        except (TimeoutError, aiohttp.ClientError) as err:
            raise _mapped(err, request) from err
        return httpx.Response(
            response.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.raw_headers],
            stream=_Body(response, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def exchange(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> Answer:
        """One request, its whole answer read (no Accept-Encoding: nothing to decode)."""
        try:
            async with self._client().request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=self._timeout,
                allow_redirects=False,
                compress=None,
            ) as response:
                return Answer(response.status, response.reason or "", await response.read())
        except (TimeoutError, aiohttp.ClientError) as err:
            raise _mapped(err, None) from err

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
