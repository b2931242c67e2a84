"""An httpx transport on aiohttp's connection pool, for the operator's many concurrent requests.

httpx (kubespark's client library) sends through httpcore, whose pool re-examines every pooled
connection for every queued request: with the operator's 30-odd concurrent reconciles that
scan was measured at about a third of the operator's CPU. aiohttp (already here: kopf's own
client) keeps a per-host queue of idle connections instead. This module owns only the
adaptation: an :class:`httpx.AsyncBaseTransport` whose requests go out through one aiohttp
session, with streamed bodies (watches) and aiohttp's errors mapped to httpx's, so
:class:`~kubespark.kube.client.KubeClient` works unchanged (its transport is injectable by
design). Authentication stays httpx's (the client adds the headers); TLS is the connection's.

It is also the client's :class:`~kubespark.kube.client.Exchange`: one-shot requests go straight
to aiohttp, without httpx's request and response models (a fifth of the operator's CPU).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping

import aiohttp
import httpx

from kubespark.kube.client import Answer

__all__ = ["AiohttpTransport"]


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
