"""The dashboard's HTTP server: a small ASGI app over the cache, served by uvicorn.

Owns the routes: the page and its assets (shipped in ``kubespark/ui/assets``, nothing from a CDN),
the JSON the page renders (``/api/apps``, ``/api/app``, ``/api/diagnosis``, ``/api/cluster``,
``/api/session``), server-sent events (``/api/stream``: the cache changed; ``/api/log``: a driver's
or a Connect server's log, followed), the actions (``POST /api/action``, only with
``allow_actions``, CSRF-checked) and the Spark UI of a running driver through the API server's
service proxy (``/spark-ui/NS/SERVICE:PORT/...``). Every answer is redacted where it repeats cluster
text. It owns no cluster state (the cache does) and writes only through the actions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl, quote

import orjson

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, BadRequest
from kubespark.kube.requests import KubeRequest
from kubespark.redaction import redact, redact_text
from kubespark.serving import AppServer, Receive, Scope, Send, send_response
from kubespark.submit.driverstate import DRIVER_CONTAINER
from kubespark.ui.actions import ALLOWED, perform
from kubespark.ui.cache import AppKey, ClusterCache
from kubespark.ui.clusterview import cluster_page
from kubespark.ui.csrf import Guard
from kubespark.ui.details import Diagnoses, app_page
from kubespark.ui.rows import Filters, page_of

__all__ = ["UIApp", "UIOptions", "UIServer", "parse_listen"]

ASSETS = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/assets/ui.js": ("ui.js", "text/javascript; charset=utf-8"),
    "/assets/ui.css": ("ui.css", "text/css; charset=utf-8"),
}
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
STREAM_MIN_GAP = 0.25  # seconds between two change events of one stream (a burst is one event)
KEEPALIVE_SECONDS = 15.0
LOG_TAIL = 200


@dataclass(frozen=True)
class UIOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    allow_actions: bool = False
    namespaces: tuple[str, ...] = ()


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:8080`` / ``[::1]:8080`` / ``:8080`` -> (host, port); InputError if bad."""
    host, sep, port = text.rpartition(":")
    fix = "give HOST:PORT, e.g. 127.0.0.1:8080 (port 0: any free port)"
    if not sep or not port.isdigit() or int(port) > 65535:
        raise InputError(f"--listen {text!r} is not HOST:PORT", where="--listen", fix=fix)
    return (host.strip("[]") or "127.0.0.1"), int(port)


def _asset(name: str) -> bytes:
    return (resources.files("kubespark.ui") / "assets" / name).read_bytes()


class UIApp:
    """The ASGI application of one dashboard."""

    def __init__(self, client: KubeClient, cache: ClusterCache, options: UIOptions) -> None:
        self.client = client
        self.cache = cache
        self.options = options
        self.guard = Guard(options.host)
        self.diagnoses = Diagnoses(client, cache)
        self.closing = asyncio.Event()  # set at shutdown: every open stream ends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self.guard.host_refusal(headers)
        if refusal:
            await _json(send, 403, {"error": refusal})
            return
        path: str = scope.get("path", "")
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        method = scope.get("method", "GET")
        try:
            await self._route(method, path, query, headers, receive, send)
        except APIError as err:
            await _json(send, err.status.code or 502, _refusal(err))

    async def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        receive: Receive,
        send: Send,
    ) -> None:
        if method == "POST" and path == "/api/action":
            await self._action(headers, receive, send)
        elif method not in ("GET", "HEAD"):
            await _json(send, 405, {"error": f"{method} is not allowed here"})
        elif path in ASSETS:
            name, content_type = ASSETS[path]
            await _answer(send, 200, _asset(name), content_type)
        elif path == "/api/session":
            await _json(send, 200, self._session())
        elif path == "/api/apps":
            await _json(send, 200, self._apps(query), scrub=False)  # rows are redacted
        elif path == "/api/app":
            page = app_page(self.cache, _key(query))
            await _json(send, 200 if page else 404, page or {"error": "no such application"})
        elif path == "/api/diagnosis":
            await _json(send, 200, {"report": await self.diagnoses.of(_key(query))})
        elif path == "/api/cluster":
            await _json(send, 200, self._cluster())
        elif path == "/api/stream":
            await _events(send, receive, self._changes(), self.closing)
        elif path == "/api/log":
            await _events(send, receive, self._log(query), self.closing)
        elif path.startswith("/spark-ui/"):
            await self._spark_ui(path, query, send)
        else:
            await _json(send, 404, {"error": f"no page {path}"})

    def _session(self) -> dict[str, Any]:
        return {
            "actions": self.options.allow_actions,
            "allowed": {k: sorted(v) for k, v in ALLOWED.items()},
            "csrf": self.guard.token if self.options.allow_actions else "",
            "server": self.client.server,
            "version": str(self.cache.server_version.get("gitVersion") or ""),
            "watching": self.cache.notice,
        }

    def _apps(self, query: dict[str, str]) -> dict[str, Any]:
        now = datetime.now(UTC)
        page = page_of(self.cache.rows.values(), Filters.parse(query))
        return {
            "rows": [r.view(now) for r in page.rows],
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "counts": dict(page.counts),
            "all": len(self.cache.rows),
            "namespaces": sorted({k[1] for k in self.cache.rows}),
            "version": self.cache.changed.version,
            "problems": self.cache.problems(),
            "watching": self.cache.notice,
        }

    def _cluster(self) -> dict[str, Any]:
        versions = [r.spark_version for r in self.cache.rows.values()]
        return cluster_page(
            self.cache.server_version, versions, self.cache.notice, self.cache.problems()
        )

    async def _changes(self) -> AsyncIterator[tuple[str, str]]:
        seen = self.cache.changed.version
        yield "hello", json.dumps({"version": seen})
        while True:
            now = await self.cache.changed.wait_past(seen, KEEPALIVE_SECONDS)
            if now == seen:
                yield "", ""  # a comment line keeps proxies from closing a quiet stream
                continue
            seen = now
            yield "change", json.dumps({"version": now})
            await asyncio.sleep(STREAM_MIN_GAP)

    async def _log(self, query: dict[str, str]) -> AsyncIterator[tuple[str, str]]:
        namespace, pod = query.get("namespace", ""), query.get("pod", "")
        if not namespace or not pod or not self.cache.get("pods", namespace, pod):
            yield "end", "no such driver pod in the cache"
            return
        path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods/{quote(pod, safe='')}/log"
        request = KubeRequest(
            "GET",
            path,
            (("container", DRIVER_CONTAINER), ("tailLines", str(LOG_TAIL)), ("follow", "true")),
        )
        try:
            async for line in self.client.stream_lines(request):
                yield "line", json.dumps(redact_text(line[:4000]))
        except BadRequest as err:  # the container has not started (or never will)
            yield "end", json.dumps(redact_text(err.status.message))
            return
        yield "end", json.dumps("the log ended (the driver's container stopped)")

    async def _action(self, headers: dict[str, str], receive: Receive, send: Send) -> None:
        if not self.options.allow_actions:
            message = "actions are off: this dashboard is read-only (start it with --allow-actions)"
            await _json(send, 403, {"error": message})
            return
        refusal = self.guard.write_refusal(headers)
        if refusal:
            await _json(send, 403, {"error": refusal})
            return
        try:
            body = json.loads(await _body(receive, 10_000))
            action, kind = str(body["action"]), str(body["kind"])
            namespace, name = str(body["namespace"]), str(body["name"])
        except (ValueError, KeyError, TypeError):
            await _json(send, 400, {"error": "send {action, kind, namespace, name} as JSON"})
            return
        if action not in ALLOWED.get(kind, frozenset()):
            await _json(send, 400, {"error": f"{action!r} does not apply to a {kind}"})
            return
        row = self.cache.rows.get((kind, namespace, name))
        if row is None:
            await _json(send, 404, {"error": f"no {kind} {namespace}/{name}"})
            return
        done = await perform(self.client, action, kind, namespace, name, row.driver_pod)
        await _json(send, 200, {"message": done.message})

    async def _spark_ui(self, path: str, query: dict[str, str], send: Send) -> None:
        parts = path.split("/", 4)  # "", "spark-ui", ns, "svc:port", rest
        if len(parts) < 4 or ":" not in parts[3]:
            await _json(send, 404, {"error": "use /spark-ui/NAMESPACE/SERVICE:PORT/"})
            return
        namespace, service = parts[2], parts[3]
        rest = parts[4] if len(parts) > 4 else ""
        upstream = (
            f"/api/v1/namespaces/{quote(namespace, safe='')}/services/"
            f"{quote(service, safe=':')}/proxy/"
        )
        status, content_type, body = await self.client.fetch_raw(
            KubeRequest("GET", upstream + quote(rest, safe="/"), tuple(query.items()))
        )
        if content_type.startswith("text/html"):
            # The API server rewrote the page's links to stay under its proxy path; they are
            # followed here, under this server's own prefix, with the same credentials.
            own = f"/spark-ui/{namespace}/{service}/"
            body = body.replace(upstream.encode(), own.encode())
        await _answer(send, status, body, content_type or "application/octet-stream")


def _key(query: dict[str, str]) -> AppKey:
    return (query.get("kind", ""), query.get("namespace", ""), query.get("name", ""))


def _refusal(err: APIError) -> dict[str, Any]:
    """The API server's refusal, as it worded it (redacted)."""
    status = err.status
    return {
        "error": redact_text(status.message or status.reason or f"HTTP {status.code}"),
        "reason": status.reason,
        "code": status.code,
    }


async def _body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ValueError("body too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(send: Send, code: int, body: bytes, content_type: str) -> None:
    await send_response(send, code, body, content_type, SECURITY_HEADERS)


async def _json(send: Send, code: int, data: Any, *, scrub: bool = True) -> None:
    """``data`` as JSON, redacted unless the caller says it already is (``scrub=False``)."""
    body = orjson.dumps(redact(data) if scrub else data, default=str)
    await _answer(send, code, body, "application/json")


async def _events(
    send: Send, receive: Receive, source: AsyncIterator[tuple[str, str]], closing: asyncio.Event
) -> None:
    """Relay ``(event, data)`` pairs as server-sent events until the browser goes away or the
    server closes."""
    headers = [(b"content-type", b"text/event-stream"), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    gone = asyncio.create_task(_disconnected(receive, closing))
    try:
        async for name, data in _until(source, gone):
            text = ": keepalive\n\n" if not name else f"event: {name}\ndata: {data}\n\n"
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


async def _disconnected(receive: Receive, closing: asyncio.Event) -> None:
    """Return when the browser disconnects or the server closes."""
    closed = asyncio.create_task(closing.wait())
    try:
        while not closing.is_set():
            message = asyncio.ensure_future(receive())
            await asyncio.wait({message, closed}, return_when=asyncio.FIRST_COMPLETED)
            if not message.done():
                message.cancel()
                await asyncio.gather(message, return_exceptions=True)
                return
            if message.result()["type"] == "http.disconnect":
                return
    finally:
        closed.cancel()
        await asyncio.gather(closed, return_exceptions=True)


async def _until(
    source: AsyncIterator[tuple[str, str]], gone: asyncio.Task[None]
) -> AsyncIterator[tuple[str, str]]:
    """``source``'s items until ``gone`` finishes (the browser closed the stream)."""
    iterator = source.__aiter__()
    while not gone.done():
        step = asyncio.ensure_future(iterator.__anext__())
        await asyncio.wait({step, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not step.done():
            step.cancel()
            await asyncio.gather(step, return_exceptions=True)
            return
        try:
            yield step.result()
        except StopAsyncIteration:
            return


class UIServer(AppServer):
    """The cache and the app, served on ``options.host:options.port``."""

    def __init__(self, client: KubeClient, options: UIOptions) -> None:
        super().__init__(
            options.host, options.port, where="--listen", fix="choose a free port (or :0 for any)"
        )
        self.client = client
        self.options = options
        self.cache = ClusterCache(client, options.namespaces)
        self.app = UIApp(client, self.cache, options)

    @property
    def url(self) -> str:
        host = self.options.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}/"

    async def serve(self, ready: Callable[[str], None] | None = None) -> None:
        """Fill the cache, then serve until cancelled; ``ready(url)`` once answering."""
        self.bind()
        await self.cache.start()
        announce = asyncio.create_task(self._announce(ready))
        try:
            await self._serve_app(self.app)
        finally:
            announce.cancel()
            await self.cache.close()

    async def _announce(self, ready: Callable[[str], None] | None) -> None:
        while not self.started:  # noqa: ASYNC110 (uvicorn offers no event for it)
            await asyncio.sleep(0.02)
        if ready is not None:
            ready(self.url)

    async def stop(self) -> None:
        """Close the open streams (they would hold a graceful exit forever), then stop."""
        self.app.closing.set()
        await super().stop()
