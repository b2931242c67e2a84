"""The one async executor of Kubernetes requests.

Sends :class:`~kubespark.kube.requests.KubeRequest` values and turns answers into objects or
typed errors (``kubespark.kube.errors``). It decides nothing about what to send. Its transport is
injectable (httpx), so tests can reach an emulator in-process or over real HTTP with the same code.

Connected from a kubeconfig, it sends through aiohttp (:mod:`kubespark.kube.transport`), and
one-shot requests go through its :class:`~kubespark.kube.transport.Exchange`, skipping httpx's
request and response models (URL validation character by character, header normalisation,
httpcore's pool scans: a large share of the operator's CPU, see docs/performance.md).
Those requests carry the headers of the connection's
:class:`~kubespark.kube.credentials.RefreshingAuth`,
renewed once after a 401 (a token file re-read, an exec plugin re-run). Streams use httpx, whose
auth flow is the same credentials object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx
import orjson

from kubespark.errors import UnreachableError
from kubespark.kube.config import Connection, http_client, load_connection
from kubespark.kube.credentials import RefreshingAuth
from kubespark.kube.errors import (
    APIError,
    ConnectionFailed,
    Gone,
    TemporaryAPIError,
    error_for_status,
)
from kubespark.kube.ratelimit import RequestBudget
from kubespark.kube.requests import KubeRequest
from kubespark.redaction import redact_url

USER_AGENT = "kubespark/0.1.0"

if TYPE_CHECKING:  # aiohttp loads with the pooled transport only (see from_connection)
    from kubespark.kube.status import Status
    from kubespark.kube.transport import Answer, Exchange

# kubespark.kube.status (a pydantic model) is imported by each function that builds a Status,
# as in kubespark.patch.responses: a request the server takes never builds one, and a successful
# `kubespark submit` need not pay pydantic's start-up.

__all__ = ["KubeClient", "RetryPolicy", "WatchEvent"]


@dataclass(frozen=True, slots=True)
class WatchEvent:
    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK
    object: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry temporary failures (429, 5xx, no connection)."""

    attempts: int = 1
    base_delay: float = 0.2
    max_delay: float = 5.0

    def delay(self, attempt: int, error: TemporaryAPIError) -> float:
        hinted = error.retry_after
        if hinted is not None:
            return min(hinted, self.max_delay)
        # Full jitter keeps many clients that failed together from retrying together.
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


class KubeClient:
    """An async client of one API server. Use as ``async with KubeClient.from_kubeconfig():``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        namespace: str = "default",
        retry: RetryPolicy = RetryPolicy(),
        exchange: Exchange | None = None,
        budget: RequestBudget | None = None,
    ) -> None:
        self._http = http
        self.budget = budget  # rate limit and request accounting (None: neither)
        self.namespace = namespace
        self.retry = retry
        self._exchange = exchange
        self._base = str(http.base_url).rstrip("/")
        # One-shot requests sent past httpx need headers they can ask for: RefreshingAuth only.
        auth = http.auth
        self._credentials = auth if isinstance(auth, RefreshingAuth) else None
        if auth is not None and self._credentials is None:
            self._exchange = None  # another kind of httpx auth: httpx sends everything

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        pooled: bool = True,
    ) -> KubeClient:
        connection = load_connection(kubeconfig, context)
        return cls.from_connection(
            connection, transport=transport, retry=retry, timeout=timeout, pooled=pooled
        )

    @classmethod
    def from_connection(
        cls,
        connection: Connection,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        connections: int = 100,
        budget: RequestBudget | None = None,
        pooled: bool = True,
    ) -> KubeClient:
        """A client of ``connection``'s server keeping up to ``connections`` connections open
        (as many as its caller sends requests at once); ``transport`` replaces them (tests).

        ``pooled=False`` is for a short-lived process sending a few requests (a CLI command):
        httpx's own connections, without importing aiohttp (its pool serves long-running
        callers with many requests at once, and costs a command's start-up more than it saves).
        """
        if transport is not None or not pooled:  # tests reach an emulator in-process
            http = http_client(connection, transport=transport, timeout=timeout)
            return cls(http, namespace=connection.namespace, retry=retry, budget=budget)
        from kubespark.kube.transport import AiohttpTransport

        sender = AiohttpTransport.for_connection(
            connection, timeout=timeout, connections=connections
        )
        http = http_client(connection, transport=sender, timeout=timeout)
        return cls(
            http, namespace=connection.namespace, retry=retry, exchange=sender, budget=budget
        )

    @property
    def server(self) -> str:
        return str(self._http.base_url)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- requests -----------------------------------------------------------------------------

    async def send(self, request: KubeRequest, *, retry: RetryPolicy | None = None) -> Any:
        """Send a request, retrying temporary failures per policy; returns the decoded body."""
        policy = retry or self.retry
        for attempt in range(policy.attempts):
            try:
                return _kubernetes_answer(self.server, request, await self._send_once(request))
            except TemporaryAPIError as err:
                if attempt + 1 >= policy.attempts:
                    raise
                await asyncio.sleep(policy.delay(attempt, err))
        raise AssertionError("unreachable: RetryPolicy.attempts must be >= 1")

    async def version(self) -> dict[str, Any]:
        """``GET /version``: the server's build info (gitVersion, major, minor)."""
        body = await self.send(KubeRequest("GET", "/version"))
        return body if isinstance(body, dict) else {}

    async def watch(self, request: KubeRequest) -> AsyncIterator[WatchEvent]:
        """Stream a watch; ends when the server closes it. A 410 (expired) raises :class:`Gone`.

        No read timeout: a watch is quiet until something changes (API servers send bookmarks
        about once a minute), and ``timeoutSeconds`` or the caller bounds it.
        """
        if self.budget is not None:
            await self.budget.take("WATCH", request.path)
        # aclosing: when the caller stops watching, the inner stream closes now, with its
        # connection, not whenever the event loop finalizes a dropped async generator.
        async with contextlib.aclosing(self.stream_lines(request)) as lines:
            async for line in lines:
                if line.strip():
                    yield _watch_event(request, _loads(line))

    async def stream_lines(self, request: KubeRequest) -> AsyncGenerator[str, None]:
        """Stream a text answer line by line (``pods/log?follow=true``); ends when it closes.

        No read timeout: a followed log may stay quiet for as long as the program does.
        """
        timeout = httpx.Timeout(self._http.timeout.connect, read=None)
        try:
            async with self._http.stream(
                request.method, request.target, headers=self._headers(request), timeout=timeout
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._error(request, response)
                async for line in response.aiter_lines():
                    yield line
        except httpx.TransportError as err:
            raise _connection_failed(request, self.server, err) from None

    async def fetch_raw(self, request: KubeRequest) -> tuple[int, str, bytes]:
        """Send ``request``; its answer as it came: status, content type, body. Nothing is
        raised for an error status: the service proxy relays another program's pages."""
        try:
            response = await self._http.request(
                request.method, request.target, headers={"User-Agent": USER_AGENT}
            )
        except httpx.TransportError as err:
            raise _connection_failed(request, self.server, err) from None
        return response.status_code, response.headers.get("content-type", ""), response.content

    async def _send_once(self, request: KubeRequest) -> Any:
        if self.budget is not None:
            await self.budget.take(request.method, request.path)
        if self._exchange is not None:
            return await self._send_exchanged(self._exchange, request)
        return await self._send_httpx(request)

    async def _send_httpx(self, request: KubeRequest) -> Any:
        try:
            response = await self._http.request(
                request.method,
                request.target,
                content=request.body_bytes(),
                headers=self._headers(request),
            )
        except httpx.TransportError as err:
            raise _connection_failed(request, self.server, err) from None
        if response.status_code >= 400:
            raise self._error(request, response)
        return _body_of(response.content, lambda: response.text)

    async def _send_exchanged(self, exchange: Exchange, request: KubeRequest) -> Any:
        answer = await self._exchange_once(exchange, request)
        if answer.status == 401 and self._credentials is not None:
            await self._credentials.renew()  # stale credentials: renewed once, then resent
            answer = await self._exchange_once(exchange, request)
        if answer.status >= 400:
            status = _status_from(answer.status, answer.reason, answer.content, answer.text)
            raise error_for_status(status, method=request.method, path=request.target)
        return _body_of(answer.content, answer.text)

    async def _exchange_once(self, exchange: Exchange, request: KubeRequest) -> Answer:
        headers = self._headers(request)
        if self._credentials is not None:
            headers |= await self._credentials.headers()
        try:
            return await exchange.exchange(
                request.method, self._base + request.target, headers, request.body_bytes()
            )
        except httpx.TransportError as err:
            raise _connection_failed(request, self.server, err) from None

    def _headers(self, request: KubeRequest) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if request.content_type:
            headers["Content-Type"] = request.content_type
        return headers

    def _error(self, request: KubeRequest, response: httpx.Response) -> APIError:
        status = _status_from(
            response.status_code, response.reason_phrase, response.content, lambda: response.text
        )
        return error_for_status(status, method=request.method, path=request.target)


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _kubernetes_answer(server: str, request: KubeRequest, body: Any) -> Any:
    """A write's answer; one without a ``kind`` did not come from a Kubernetes API server (every
    object and Status it returns has one), and its body would fail later as a KeyError."""
    if request.method in _WRITES and not (isinstance(body, dict) and "kind" in body):
        raise UnreachableError(
            f"{redact_url(server)} is not a Kubernetes API server: {request.method} "
            f"{request.target.split('?')[0]} answered with no Kubernetes object",
            fix="check the kubeconfig's cluster server URL (and --context): it must name the "
            "API server, not a dashboard, proxy or other web service",
        )
    return body


def _loads(data: bytes | str) -> Any:
    """orjson where it can (several times faster: the operator decodes thousands of objects a
    second), the standard library where orjson refuses what it accepts (integers beyond 64
    bits)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def _body_of(content: bytes, text: Callable[[], str]) -> Any:
    if not content:
        return None
    try:
        return _loads(content)
    except ValueError:
        return text()


def _status_from(code: int, reason: str, content: bytes, text: Callable[[], str]) -> Status:
    from kubespark.kube.status import Status

    try:
        body = _loads(content) if content else None
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "Status":
        return Status.model_validate({**body, "code": body.get("code") or code})
    return Status.failure(code, text().strip()[:500] or reason)


def _watch_event(request: KubeRequest, raw: dict[str, Any]) -> WatchEvent:
    kind, obj = raw.get("type", ""), raw.get("object") or {}
    if kind == "ERROR":
        from kubespark.kube.status import Status

        status = Status.model_validate(obj)
        if status.code == 410:
            raise Gone(status, method=request.method, path=request.target)
        raise error_for_status(status, method=request.method, path=request.target)
    return WatchEvent(kind, obj)


def _connection_failed(request: KubeRequest, server: str, err: httpx.TransportError) -> APIError:
    from kubespark.kube.status import Status

    detail = str(err) or type(err).__name__
    status = Status.failure(0, f"cannot reach the API server at {server}: {detail}", reason="")
    failure = ConnectionFailed(status, method=request.method, path=request.target)
    failure.fix = (
        "check that the server is running and that the kubeconfig's server and context are right"
    )
    return failure
