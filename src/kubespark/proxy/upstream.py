"""The one API server the proxy talks to, and the rules for reaching it.

Owns the connection to the upstream named by a kubeconfig context (its server URL, its CA for
TLS verification, its client certificate and credentials, all read by ``kubespark.kube.config``
from the kubeconfig), and three ways of sending a client's request there: forwarded with the
answer streamed back, exchanged with the answer buffered (for rewrites), and upgraded (exec,
attach, port-forward). It also knows whether the upstream was reachable last time, so the
capabilities can be read again after it comes back.

Credentials: a request that carries ``Authorization`` is sent with it and nothing else of the
kubeconfig's user but its client certificate (which TLS presents per connection); a request
without one is sent with the kubeconfig's credentials, as ``kubectl proxy`` does. Requests go
to the configured server only: the target is reduced to its path and query, redirects are not
followed, and no header value is ever logged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from kubespark.kube.config import Connection
from kubespark.kube.status import Status
from kubespark.proxy.messages import (
    ClientRequest,
    ProxyResponse,
    StreamBroken,
    end_to_end,
    status_response,
)
from kubespark.proxy.wire import Upgraded
from kubespark.redaction import redact_text, redact_url

__all__ = ["Exchange", "Upstream"]

log = logging.getLogger("kubespark.proxy")

_SAFE_RETRY = frozenset({"GET", "HEAD", "OPTIONS"})
# Watches and `logs -f` stay open for as long as the client wants: no read timeout.
_TIMEOUT = httpx.Timeout(connect=10.0, read=None, write=60.0, pool=None)
_LIMITS = httpx.Limits(max_connections=None, max_keepalive_connections=64)
_REQUEST_ONLY = frozenset({b"host", b"content-length", b"expect"})


@dataclass(frozen=True, slots=True)
class Exchange:
    """A buffered answer of the upstream."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Upstream:
    """The configured API server; ``async with`` closes its connections."""

    def __init__(
        self, connection: Connection, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        params = dict(connection.client_params)
        params.update(timeout=_TIMEOUT, limits=_LIMITS, follow_redirects=False)
        if transport is not None:
            params["transport"] = transport
        self.http = httpx.AsyncClient(**params)
        self.server = connection.server.rstrip("/")
        self.context = connection.context
        self.namespace = connection.namespace
        self._base = httpx.URL(self.server)
        self._prefix = self._base.raw_path.rstrip(b"/")
        self.reachable = True
        self.reconnects = 0  # times it answered again after being unreachable

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- sending ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        target: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> httpx.Request:
        url = self._base.copy_with(raw_path=self._prefix + target)
        sent = [(k, v) for k, v in headers if k not in _REQUEST_ONLY]
        content = body if body or method in ("POST", "PUT", "PATCH") else None
        return httpx.Request(method, url, headers=sent, content=content)

    async def _send(
        self, request: httpx.Request, *, own_credentials: bool, retry: bool
    ) -> httpx.Response:
        auth: Any = httpx.USE_CLIENT_DEFAULT if not own_credentials else None
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            try:
                response = await self.http.send(request, stream=True, auth=auth)
            except httpx.TransportError as err:
                # A kept-alive connection the server closed meanwhile fails the first try; a
                # request that cannot have changed anything is sent once more on a new one.
                if attempt + 1 < attempts and not isinstance(err, httpx.TimeoutException):
                    continue
                self._down(err)
                raise
            self._up()
            return response
        raise AssertionError("unreachable: the loop returns or raises")

    def _down(self, err: Exception) -> None:
        if self.reachable:
            log.warning(
                "kubespark proxy: upstream %s unreachable: %s",
                redact_url(self.server),
                redact_text(_reason(err)),
            )
        self.reachable = False

    def _up(self) -> None:
        if not self.reachable:
            self.reachable = True
            self.reconnects += 1
            log.info("kubespark proxy: upstream %s reachable again", redact_url(self.server))

    def unavailable(self, err: Exception) -> ProxyResponse:
        """The 503 Status a client gets when the upstream cannot be reached."""
        status = Status.failure(
            503,
            redact_text(
                f"kubespark proxy: cannot reach the upstream API server "
                f"{redact_url(self.server)}: {_reason(err)}"
            ),
            reason="ServiceUnavailable",
        )
        return status_response(status, [(b"retry-after", b"1")])

    async def forward(self, request: ClientRequest) -> ProxyResponse:
        """Send the request unchanged; the answer streams back as the upstream sends it."""
        own = request.header(b"authorization") is not None
        outgoing = self._request(
            request.method, request.origin_target, end_to_end(request.headers), request.body
        )
        try:
            response = await self._send(
                outgoing, own_credentials=own, retry=request.method in _SAFE_RETRY
            )
        except httpx.TransportError as err:
            return self.unavailable(err)
        return ProxyResponse(
            response.status_code,
            end_to_end(response.headers.raw),
            stream=_chunks(response, self.server),
            close=response.aclose,
            reason=response.reason_phrase.encode("latin-1", "replace"),
        )

    async def exchange(
        self,
        client: ClientRequest,
        method: str,
        target: bytes,
        headers: Iterable[tuple[bytes, bytes]],
        body: bytes,
    ) -> Exchange:
        """Send a request of the proxy's making with the client's credentials; buffered answer.

        Raises ``httpx.TransportError`` when the upstream cannot be reached.
        """
        own = client.header(b"authorization") is not None
        outgoing = self._request(method, target, headers, body)
        response = await self._send(outgoing, own_credentials=own, retry=False)
        try:
            data = await response.aread()
        except httpx.TransportError as err:
            self._down(err)
            raise
        finally:
            await response.aclose()
        return Exchange(response.status_code, end_to_end(response.headers.raw), data)

    async def upgrade(self, request: ClientRequest) -> tuple[ProxyResponse, Upgraded | None]:
        """Ask the upstream to switch protocols; on 101 its raw stream is returned."""
        own = request.header(b"authorization") is not None
        headers = end_to_end(request.headers)
        headers += [(b"connection", b"Upgrade")]
        headers += [(b"upgrade", v) for k, v in request.headers if k == b"upgrade"]
        outgoing = self._request(request.method, request.origin_target, headers, request.body)
        try:
            response = await self._send(outgoing, own_credentials=own, retry=False)
        except httpx.TransportError as err:
            return self.unavailable(err), None
        if response.status_code != 101:
            try:
                body = await response.aread()
            except httpx.TransportError as err:
                return self.unavailable(err), None
            finally:
                await response.aclose()
            return ProxyResponse(response.status_code, end_to_end(response.headers.raw), body), None
        stream: Upgraded = response.extensions["network_stream"]
        switched = end_to_end(response.headers.raw)
        switched += [(b"connection", b"Upgrade")]
        switched += [(b"upgrade", v) for k, v in response.headers.raw if k.lower() == b"upgrade"]
        return ProxyResponse(101, switched), stream


async def _chunks(response: httpx.Response, server: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    except httpx.TransportError as err:
        raise StreamBroken(f"upstream {server} broke off an answer: {_reason(err)}") from None


def _reason(err: Exception) -> str:
    """What went wrong, in words: httpx's message, or its type when it has none."""
    text = str(err).strip()
    name = type(err).__name__
    if isinstance(err, httpx.ConnectError) and "SSL" in text:
        return f"TLS verification failed ({text})"
    return f"{name}: {text}" if text else name
