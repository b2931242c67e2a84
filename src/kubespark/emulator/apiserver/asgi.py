"""The emulated API server's HTTP surface: a raw ASGI application with a hand-rolled router.

Owns everything between bytes on the wire and the API server's verbs: the routes real clients
use (/version, health, discovery, OpenAPI, resource paths with namespaces and subresources,
the legacy /watch prefix), body limits (3 MiB, as etcd's request limit makes apiserver refuse
larger bodies), content negotiation (JSON, YAML, Table, PartialObjectMetadata, aggregated
discovery, protobuf OpenAPI), watch streams (chunked, with bookmarks, timeouts and 410 ERROR
events), pod logs, the admin endpoints under /_kubespark, injected faults, and the promise
that no request can crash the server: every failure becomes the Status a real server sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import yaml

from kubespark.emulator.apiserver import (
    discovery,
    metrics,
    openapi,
    openapi_pb,
    podproxy,
    podstreams,
    protobuf,
    rbac,
    reviews,
    scale,
    spdysession,
    tables,
    upgrades,
)
from kubespark.emulator.apiserver.api import ApiServer, DeleteOptions, WriteOptions, WriteResult
from kubespark.emulator.apiserver.faults import FaultInjector
from kubespark.emulator.apiserver.objects import Clock, Obj
from kubespark.emulator.apiserver.patching import PATCH_TYPES
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.emulator.apiserver.selectors import (
    FieldSelector,
    LabelSelector,
    parse_field_selector,
    parse_label_selector,
)
from kubespark.emulator.apiserver.store import Watcher
from kubespark.emulator.apiserver.wire import (
    BODY_MEDIA_TYPES,
    bad_request,
    decode_body,
    forbidden,
    method_not_allowed,
    not_acceptable,
    path_not_found,
    too_large,
    unsupported_media_type,
)
from kubespark.errors import InputError
from kubespark.kube.errors import APIError
from kubespark.kube.errors import Forbidden as APIErrorForbidden
from kubespark.kube.status import Status

__all__ = ["MAX_BODY_BYTES", "EmulatorApp", "LogSource"]

log = logging.getLogger("kubespark.emulator")

MAX_BODY_BYTES = 3 * 1024 * 1024  # apiserver's limit for a request body (etcd's 1.5 MiB x 2)
_JSON = b"application/json"
_ACCEPTED_OUTPUT = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
_LIST_CHUNK = 500


class LogSource(Protocol):
    """Where pod logs come from (the simulated kubelet)."""

    def log_lines(self, namespace: str, pod: str, container: str) -> list[str]: ...

    def previous_log_lines(self, namespace: str, pod: str, container: str) -> list[str]: ...

    def container_done(self, namespace: str, pod: str, container: str) -> bool: ...


def _no_upgrade(req: Request) -> str:
    """Why a plain HTTP request to exec/attach/portforward is refused."""
    if req.headers.get("upgrade", "").lower().startswith("spdy"):
        # Only the emulator's own HTTP protocol (apiserver.upgrades) can hand the connection
        # over; served by another (uvicorn's h11 fallback) the upgrade cannot happen.
        return (
            "Upgrade request required: this server cannot switch the connection to SPDY/3.1; "
            "use a client that streams over WebSocket (kubectl 1.30+ exec and attach, the "
            "Python client's stream() and portforward())"
        )
    return "Upgrade request required"


class _NoPodNetwork:
    """Without a kubelet no pod address answers."""

    def reachable(self, ip: str) -> bool:
        return False


class DropConnection(Exception):
    """Raised inside a streaming answer to cut the connection without a final chunk."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    raw_query: bytes = b""

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true")


@dataclass
class Response:
    code: int
    body: bytes
    content_type: bytes = _JSON
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass
class Stream:
    code: int
    chunks: AsyncIterator[bytes]
    content_type: bytes = _JSON
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    on_close: Callable[[], None] | None = None


@dataclass(frozen=True)
class Negotiated:
    """What representation a client asked for."""

    form: str  # "json", "yaml", "table", "partial"
    version: str = "v1"  # meta.k8s.io version of a Table or PartialObjectMetadata
    media_type: str = "application/json"


def _parse_accept(header: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in header.split(","):
        items = [p.strip() for p in part.split(";")]
        if not items[0]:
            continue
        params = {}
        for item in items[1:]:
            key, _, value = item.partition("=")
            params[key.strip().lower()] = value.strip()
        out.append((items[0].lower(), params))
    return out


def _status_response(status: Status, headers: list[tuple[bytes, bytes]] | None = None) -> Response:
    # Go's json.Encoder, which writes every Status apiserver sends, ends it with a newline.
    return Response(status.code, orjson.dumps(status.to_wire()) + b"\n", headers=headers or [])


def _request(scope: dict[str, Any], method: str) -> Request:
    headers = {
        k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())
    }
    raw_query = scope.get("query_string", b"")
    return Request(method, scope["path"], _query(raw_query), headers, raw_query=raw_query)


def _query(raw: bytes) -> dict[str, str]:
    if not raw:
        return {}
    pairs = urllib.parse.parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return dict(pairs)


class EmulatorApp:
    """The ASGI application of one emulated server."""

    def __init__(
        self,
        api: ApiServer,
        faults: FaultInjector,
        logs: LogSource,
        clock: Clock,
        *,
        address: Callable[[], str],
        on_restart: Callable[[float], Awaitable[None]] | None = None,
        network: podproxy.PodNetwork | None = None,
        runtime: podstreams.PodRuntime | None = None,
        usage: metrics.UsageSource | None = None,
        authorizer: rbac.RbacAuthorizer | None = None,
        bookmark_interval: float = 60.0,
        default_watch_timeout: float = 1800.0,
    ) -> None:
        self.api = api
        self.faults = faults
        self.logs = logs
        self.clock = clock
        self.address = address
        self.on_restart = on_restart
        self.network = network or _NoPodNetwork()
        self.runtime = runtime
        self.usage = usage
        if usage is not None:  # metrics-server's APIService: served where usage is measured
            api.registry.add_aggregated(metrics.RESOURCES)
        self.authorizer = authorizer
        self.bookmark_interval = bookmark_interval
        self.default_watch_timeout = default_watch_timeout
        self._cache: dict[str, tuple[int, Any]] = {}
        self.requests = 0
        self.open_streams: set[asyncio.Task[Any]] = set()

    # --- ASGI entry -------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind == "websocket":
            await self._websocket(scope, receive, send)
            return
        if kind != "http":
            return
        self.requests += 1
        req = _request(scope, scope["method"])
        headers = req.headers
        result: Response | Stream
        too_big = await self._read_body(req, receive)
        takeover = (scope.get("extensions") or {}).get(upgrades.EXTENSION)
        streamed = podstreams.parse_stream_path(req.path)
        if too_big is not None:
            result = too_big
        elif takeover is not None and streamed is not None:
            refused = await self._spdy_stream(scope, req, streamed, takeover)
            if refused is None:
                return
            result = refused
        else:
            result = await self._answer(req)
        if isinstance(result, Stream):
            await self._send_stream(result, receive, send)
        else:
            await self._send(result, send, audit=headers.get("audit-id"))

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _read_body(self, req: Request, receive: Any) -> Response | None:
        declared = req.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _status_response(too_large(MAX_BODY_BYTES).status)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return _status_response(too_large(MAX_BODY_BYTES).status)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        req.body = b"".join(chunks)
        return None

    async def _send(self, resp: Response, send: Any, audit: str | None = None) -> None:
        headers = [
            (b"content-type", resp.content_type),
            (b"content-length", str(len(resp.body)).encode()),
            (b"audit-id", (audit or str(uuid.uuid4())).encode()),
            (b"cache-control", b"no-cache, private"),
            *resp.headers,
        ]
        await send({"type": "http.response.start", "status": resp.code, "headers": headers})
        await send({"type": "http.response.body", "body": resp.body})

    async def _send_stream(self, stream: Stream, receive: Any, send: Any) -> None:
        headers = [
            (b"content-type", stream.content_type),
            (b"cache-control", b"no-cache, private"),
            (b"audit-id", str(uuid.uuid4()).encode()),
            *stream.headers,
        ]
        await send({"type": "http.response.start", "status": stream.code, "headers": headers})

        async def disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        async def chunk(body: bytes) -> None:
            await send({"type": "http.response.body", "body": body, "more_body": True})

        async def finish() -> None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self._pump(stream, disconnect, chunk, finish)

    async def _pump(
        self,
        stream: Stream,
        peer_gone: Callable[[], Awaitable[None]],
        send_chunk: Callable[[bytes], Awaitable[None]],
        finish: Callable[[], Awaitable[None]],
    ) -> None:
        """Send chunks until the stream ends or the peer goes: one path for HTTP and WebSocket."""
        closed = asyncio.Event()

        async def watch_close() -> None:
            await peer_gone()
            closed.set()
            if stream.on_close is not None:
                stream.on_close()

        listener = asyncio.ensure_future(watch_close())
        current = asyncio.current_task()
        if current is not None:
            self.open_streams.add(current)
        try:
            async for chunk in stream.chunks:
                if closed.is_set():
                    break
                await send_chunk(chunk)
            if not closed.is_set():
                await finish()
        finally:
            if current is not None:
                self.open_streams.discard(current)
            listener.cancel()
            if stream.on_close is not None:
                stream.on_close()

    async def _websocket(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Watches over WebSocket, as fabric8 7 (Spark 4) asks: one text message per event."""
        self.requests += 1
        req = _request(scope, "GET")
        connect = await receive()
        if connect.get("type") != "websocket.connect":
            return
        streamed = podstreams.parse_stream_path(req.path)
        if streamed is not None:
            await self._pod_stream(scope, receive, send, req, streamed)
            return
        if podproxy.parse_proxy_path(req.path) is not None:
            refusal = bad_request(
                "WebSocket upgrades through the proxy subresources are not emulated"
            )
            await self._refuse_websocket(scope, send, _status_response(refusal.status))
            return
        result = await self._answer(req)
        if not isinstance(result, Stream):
            await self._refuse_websocket(scope, send, result)
            return
        await send({"type": "websocket.accept"})

        async def disconnect() -> None:
            while (await receive())["type"] != "websocket.disconnect":
                pass

        async def text(chunk: bytes) -> None:
            await send({"type": "websocket.send", "text": chunk.decode().rstrip("\n")})

        async def close() -> None:
            await send({"type": "websocket.close", "code": 1000})

        await self._pump(result, disconnect, text, close)

    async def _pod_stream(
        self, scope: dict[str, Any], receive: Any, send: Any, req: Request, where: Any
    ) -> None:
        """exec, attach or port-forward: checks as apiserver makes them, then the session."""
        query = podstreams.query_lists(req.raw_query)
        offered = [str(p) for p in scope.get("subprotocols") or []]
        try:
            if self.authorizer is not None:
                self._authorize(req)
            pod, container = podstreams.check_target(self.api, where, query)
            # kubectl's port-forward (1.31+) tunnels SPDY, naming ports in stream headers.
            tunnel = (
                where.kind == "portforward"
                and spdysession.TUNNEL_PROTOCOL in offered
                and self.api.facts.port_forward_websockets
            )
            if where.kind == "portforward" and not tunnel:
                podstreams.check_ports(query)
            v5 = self.api.facts.remote_command_v5
            protocol = podstreams.choose_protocol(where.kind, offered, v5)
            if tunnel and protocol is None:
                protocol = spdysession.TUNNEL_PROTOCOL
            if self.runtime is not None:
                podstreams.prepare(self.runtime, where, pod, container)
            if protocol is None or self.runtime is None:
                served = podstreams.served_protocols(where.kind, v5)
                raise bad_request(
                    f"requested protocol(s) are not supported: [{' '.join(offered)}]; "
                    f"supports [{' '.join(served)}]"
                )
        except APIError as err:
            await self._refuse_websocket(scope, send, _status_response(err.status))
            return
        await send({"type": "websocket.accept", "subprotocol": protocol})
        if protocol == spdysession.TUNNEL_PROTOCOL:
            write, read = spdysession.websocket_transport(send, receive)
            try:
                await spdysession.serve_port_forward(write, read, self.runtime, pod)
            finally:
                with contextlib.suppress(Exception):
                    await send({"type": "websocket.close", "code": 1000})
            return
        channels = podstreams.Channels(protocol, send, receive)
        try:
            target = podstreams.StreamTarget(where, pod, container, query)
            await podstreams.run_session(channels, self.runtime, target)
        except APIError as err:
            await channels.write(3, orjson.dumps(err.status.to_wire()))
            await channels.close()

    async def _spdy_stream(
        self, scope: dict[str, Any], req: Request, where: Any, takeover: Any
    ) -> Response | None:
        """exec, attach or port-forward over a plain SPDY/3.1 upgrade (kubectl < 1.30/1.31):
        the same checks, then the connection handed to spdysession; a refusal is returned."""
        query = podstreams.query_lists(req.raw_query)
        offered = spdysession.offered_protocols(scope.get("headers") or [])
        try:
            if self.authorizer is not None:
                self._authorize(req)
            pod, container = podstreams.check_target(self.api, where, query)
            protocol = spdysession.choose_protocol(where.kind, offered)
            if self.runtime is not None:
                podstreams.prepare(self.runtime, where, pod, container)
            if protocol is None or self.runtime is None:
                served = spdysession.served_protocols(where.kind)
                raise bad_request(
                    "unable to upgrade: unable to negotiate protocol: client supports "
                    f"[{' '.join(offered)}], server supports [{' '.join(served)}]"
                )
        except APIError as err:
            return _status_response(err.status)
        runtime = self.runtime
        headers = [("X-Stream-Protocol-Version", protocol)]

        async def session(write: Any, read: Any) -> None:
            if where.kind == "portforward":
                await spdysession.serve_port_forward(write, read, runtime, pod)
            else:
                target = podstreams.StreamTarget(where, pod, container, query)
                await spdysession.serve_remote_command(write, read, runtime, target)

        await takeover(headers, session)
        return None

    async def _refuse_websocket(self, scope: dict[str, Any], send: Any, resp: Response) -> None:
        """Answer the upgrade with the plain HTTP error a real server gives before upgrading."""
        if "websocket.http.response" in scope.get("extensions", {}):
            headers = [
                (b"content-type", resp.content_type),
                (b"content-length", str(len(resp.body)).encode()),
            ]
            await send(
                {"type": "websocket.http.response.start", "status": resp.code, "headers": headers}
            )
            await send({"type": "websocket.http.response.body", "body": resp.body})
        else:
            await send({"type": "websocket.close", "code": 1008})

    # --- dispatch -------------------------------------------------------------------------------
    async def _answer(self, req: Request) -> Response | Stream:
        try:
            if req.path.startswith("/_kubespark/"):
                return await self._admin(req)
            if req.path.startswith(("/api", "/apis")):
                if self.faults.faults.latency_ms:
                    await asyncio.sleep(self.faults.latency())
                injected = self.faults.draw_error() or self.faults.draw_write_error(
                    req.method, req.path
                )
                if injected is not None:
                    extra = [(b"retry-after", b"1")] if injected.code in (429, 503) else []
                    return _status_response(injected, extra)
            if self.authorizer is not None:
                self._authorize(req)
            streamed = podstreams.parse_stream_path(req.path)
            if streamed is not None:
                podstreams.check_target(self.api, streamed, podstreams.query_lists(req.raw_query))
                raise bad_request(_no_upgrade(req))
            proxied = podproxy.parse_proxy_path(req.path)
            if proxied is not None:
                return await self._proxy(req, proxied)
            return self._route(req)
        except APIError as err:
            return _status_response(err.status)
        except InputError as err:
            return _status_response(bad_request(err.message).status)
        except Exception as err:  # the server must keep serving whatever a request does
            log.exception("internal error answering %s %s", req.method, req.path)
            status = Status.failure(500, f"Internal error occurred: {type(err).__name__}: {err}")
            return _status_response(status)

    def _route(self, req: Request) -> Response | Stream:
        parts = [urllib.parse.unquote(p) for p in req.path.split("/") if p]
        if not parts:
            return self._json(req, self._root_paths())
        head = parts[0]
        if head == "version" and len(parts) == 1:
            return self._json(req, self.api.facts.version_info())
        if head in ("healthz", "livez", "readyz"):
            return Response(200, b"ok", content_type=b"text/plain; charset=utf-8")
        if head == "api":
            return self._core(req, parts[1:])
        if head == "apis":
            return self._apis(req, parts[1:])
        if head == "openapi":
            return self._openapi(req, parts[1:])
        return Response(404, b"404 page not found\n", content_type=b"text/plain; charset=utf-8")

    def _root_paths(self) -> dict[str, Any]:
        paths = [
            "/api",
            "/api/v1",
            "/apis",
            "/healthz",
            "/livez",
            "/openapi/v2",
            "/readyz",
            "/version",
        ]
        paths += [f"/apis/{g}/{v}" for g, v in self.api.registry.group_versions() if g]
        if self.api.facts.openapi_v3:
            paths.append("/openapi/v3")
        return {"paths": sorted(set(paths))}

    # --- authorization (optional RBAC) ----------------------------------------------------------
    def _authorize(self, req: Request) -> None:
        """The 403 RBAC gives a request its bindings do not allow."""
        assert self.authorizer is not None
        user = rbac.requester(req.headers)
        if "system:masters" in user.groups:
            return  # the bootstrap cluster-admin binding: every request is allowed
        attrs = rbac.request_attributes(req.method, req.path, req.query, user)
        allowed, _ = self.authorizer.authorize(attrs)
        if allowed:
            return
        why = rbac.forbidden_reason(attrs)
        if not attrs.resource_request:
            raise APIErrorForbidden(Status.failure(403, f"forbidden: {why}"))
        raise forbidden(attrs.api_group, attrs.resource, attrs.name, why)

    def _review_decider(self, req: Request) -> Callable[[str, Obj], dict[str, Any]] | None:
        authorizer = self.authorizer
        if authorizer is None:
            return None
        user = rbac.requester(req.headers)
        return lambda plural, spec: rbac.review_status(authorizer, plural, spec, user)

    # --- proxy subresources ----------------------------------------------------------------------
    async def _proxy(self, req: Request, where: podproxy.ProxyPath) -> Response | Stream:
        target = podproxy.resolve(self.api, where)
        if not where.rest:
            # UpgradeAwareHandler redirects an empty path to the same one ending in '/'
            # (kubernetes#4958), so relative links on the pod's root page resolve under it.
            query = b"?" + req.raw_query if req.raw_query else b""
            location = urllib.parse.quote(req.path, safe="/:@!$&'()*+,;=").encode() + b"/" + query
            return Response(301, b"", b"text/plain; charset=utf-8", [(b"location", location)])
        prefix = req.path[: len(req.path) - len(where.rest)]
        upstream = await podproxy.forward(
            self.network, target, req.method, prefix, req.raw_query, req.headers, req.body
        )
        return Stream(upstream.code, upstream.chunks, upstream.content_type, upstream.headers)

    # --- discovery ------------------------------------------------------------------------------
    def _cached(self, key: str, build: Callable[[], Any]) -> Any:
        generation = self.api.registry.generation
        hit = self._cache.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        value = build()
        self._cache[key] = (generation, value)
        return value

    def _aggregated_version(self, req: Request) -> str | None:
        for media, params in _parse_accept(req.headers.get("accept", "")):
            if media != "application/json" or params.get("as") != "APIGroupDiscoveryList":
                continue
            version = params.get("v", "")
            if params.get("g") == "apidiscovery.k8s.io" and (
                version in self.api.facts.aggregated_discovery
            ):
                return version
        return None

    def _discovery(self, req: Request, core: bool) -> Response:
        version = self._aggregated_version(req)
        if version is not None:
            doc = self._cached(
                f"agg:{core}:{version}",
                lambda: orjson.dumps(
                    discovery.aggregated(self.api.registry, core=core, version=version)
                ),
            )
            media = f"application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"
            return Response(200, doc, content_type=media.encode())
        self._negotiate(req, allow_table=False)
        if core:
            body = discovery.api_versions(self.address())
        else:
            body = self._cached("apis", lambda: discovery.api_group_list(self.api.registry))
        return self._json(req, body)

    def _core(self, req: Request, parts: list[str]) -> Response | Stream:
        if not parts:
            return self._discovery(req, core=True)
        if parts[0] != "v1":
            return _status_response(path_not_found().status)
        if len(parts) == 1:
            return self._resource_list(req, "", "v1")
        return self._resources(req, "", "v1", parts[1:])

    def _apis(self, req: Request, parts: list[str]) -> Response | Stream:
        if not parts:
            return self._discovery(req, core=False)
        group = parts[0]
        if len(parts) == 1:
            doc = discovery.api_group(self.api.registry, group)
            if doc is None:
                return _status_response(path_not_found().status)
            return self._json(req, doc)
        version = parts[1]
        if len(parts) == 2:
            return self._resource_list(req, group, version)
        return self._resources(req, group, version, parts[2:])

    def _resource_list(self, req: Request, group: str, version: str) -> Response:
        if req.method != "GET":
            raise method_not_allowed()
        doc = self._cached(
            f"rl:{group}/{version}",
            lambda: discovery.resource_list(self.api.registry, group, version),
        )
        if doc is None:
            return _status_response(path_not_found().status)
        return self._json(req, doc)

    def _openapi(self, req: Request, parts: list[str]) -> Response:
        api = self.api
        if parts == ["v2"]:
            doc = self._cached(
                "openapi:v2",
                lambda: openapi.v2_document(api.surface, api.registry, api.facts.git_version),
            )
            if openapi_pb.MEDIA_TYPE in req.headers.get("accept", ""):
                body = self._cached("openapi:v2:pb", lambda: openapi_pb.encode_document(doc))
                return Response(200, body, content_type=openapi_pb.RESPONSE_MEDIA_TYPE.encode())
            return Response(200, self._cached("openapi:v2:json", lambda: orjson.dumps(doc)))
        if parts and parts[0] == "v3" and api.facts.openapi_v3:
            if len(parts) == 1:
                root = openapi.v3_root(api.registry, api.registry.generation)
                return Response(200, orjson.dumps(root))
            path = "/".join(parts[1:])
            body = self._cached(
                f"openapi:v3:{path}",
                lambda: _dump_or_none(
                    openapi.v3_group_version(api.surface, api.registry, api.facts.git_version, path)
                ),
            )
            if body is not None:
                return Response(200, body)
        return Response(404, b"404 page not found\n", content_type=b"text/plain; charset=utf-8")

    # --- admin ----------------------------------------------------------------------------------
    async def _admin(self, req: Request) -> Response:
        what = req.path.removeprefix("/_kubespark/").strip("/")
        if what == "faults":
            if req.method in ("PUT", "POST", "PATCH"):
                try:
                    changes = orjson.loads(req.body or b"{}")
                except orjson.JSONDecodeError as err:
                    raise bad_request(f"the fault settings are not JSON: {err}") from None
                if not isinstance(changes, dict):
                    raise bad_request("send a JSON object of fault settings")
                self.faults.set(self.faults.faults.updated(changes))
            return Response(200, orjson.dumps(self.faults.faults.to_json()))
        if what == "restart" and req.method == "POST":
            if self.on_restart is None:
                raise bad_request("this server cannot restart")
            downtime = _downtime(req.query.get("downtime", "0.2"))
            asyncio.get_running_loop().call_soon(
                lambda: asyncio.ensure_future(self.on_restart(downtime))  # type: ignore[misc]
            )
            return Response(202, orjson.dumps({"restarting": True, "downtime": downtime}))
        if what == "stats":
            store = self.api.store
            return Response(
                200,
                orjson.dumps(
                    {
                        "resourceVersion": store.resource_version,
                        "objects": {
                            f"{g}/{p}" if g else p: store.count((g, p)) for g, p in store.buckets()
                        },
                        "watchers": store.watcher_count(),
                        "requests": self.requests,
                        "injected": self.faults.injected,
                    }
                ),
            )
        return Response(404, b"404 page not found\n", content_type=b"text/plain; charset=utf-8")

    # --- representation -------------------------------------------------------------------------
    def _negotiate(self, req: Request, *, allow_table: bool) -> Negotiated:
        header = req.headers.get("accept", "")
        if not header.strip():
            return Negotiated("json")
        facts = self.api.facts
        for media, params in _parse_accept(header):
            as_ = params.get("as")
            if media in ("application/json", "*/*", "application/*"):
                if as_ is None:
                    return Negotiated("json")
                if params.get("g") != "meta.k8s.io":
                    continue
                version = params.get("v", "")
                if as_ == "Table" and allow_table and version in facts.table_versions:
                    return Negotiated(
                        "table", version, f"application/json;as=Table;v={version};g=meta.k8s.io"
                    )
                if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList") and (
                    version in ("v1", "v1beta1")
                ):
                    return Negotiated("partial", version)
            elif media in ("application/yaml", "text/yaml") and as_ is None:
                return Negotiated("yaml", media_type="application/yaml")
        raise not_acceptable(_ACCEPTED_OUTPUT)

    def _json(
        self,
        req: Request,
        body: Any,
        code: int = 200,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> Response:
        wanted = self._negotiate(req, allow_table=False)
        return _encoded(req, body, wanted.form == "yaml", code, headers)

    def _render(
        self,
        req: Request,
        res: ServedResource,
        body: Obj,
        wanted: Negotiated,
        code: int = 200,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> Response:
        include = req.query.get("includeObject", "Metadata")
        if wanted.form == "table":
            items = (
                body["items"]
                if "items" in body and body.get("kind", "").endswith("List")
                else [body]
            )
            list_meta = (
                body.get("metadata", {})
                if "items" in body
                else {"resourceVersion": body.get("metadata", {}).get("resourceVersion", "")}
            )
            table = tables.to_table(
                res, items, list_meta, include_object=include, table_version=wanted.version
            )
            return Response(code, orjson.dumps(table), wanted.media_type.encode(), headers or [])
        if wanted.form == "partial":
            body = _partial(body, wanted.version)
        return _encoded(req, body, wanted.form == "yaml", code, headers)

    # --- resources ------------------------------------------------------------------------------
    def _resources(
        self, req: Request, group: str, version: str, parts: list[str]
    ) -> Response | Stream:
        registry = self.api.registry
        if not registry.serves(group, version):
            return _status_response(path_not_found().status)
        watch_prefix = parts[0] == "watch"
        if watch_prefix:
            parts = parts[1:]
        namespace: str | None = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            candidate = registry.lookup(group, version, parts[2])
            if candidate is not None and candidate.namespaced:
                namespace, parts = parts[1], parts[2:]
        if not parts or len(parts) > 3:
            return _status_response(path_not_found().status)
        res = registry.lookup(group, version, parts[0])
        if res is None:
            return _status_response(path_not_found().status)
        name = parts[1] if len(parts) > 1 else None
        sub = parts[2] if len(parts) > 2 else ""
        if res.namespaced and name is not None and namespace is None:
            return _status_response(path_not_found().status)
        if sub and sub not in res.subresources:
            return _status_response(path_not_found().status)
        if res.group == metrics.GROUP and self.usage is not None:
            return self._metrics(req, res, namespace, name, sub, watch_prefix)
        if watch_prefix or (name is None and req.method == "GET" and req.flag("watch")):
            if name is not None:
                req.query["fieldSelector"] = _and_selector(
                    req.query.get("fieldSelector", ""), f"metadata.name={name}"
                )
            return self._watch(req, res, namespace)
        return self._verb(req, res, namespace, name, sub)

    def _metrics(
        self,
        req: Request,
        res: ServedResource,
        namespace: str | None,
        name: str | None,
        sub: str,
        watch_prefix: bool,
    ) -> Response:
        """metrics-server's answers: get and list only (a watch or a write is 405)."""
        assert self.usage is not None
        if req.method != "GET" or sub or watch_prefix or req.flag("watch"):
            raise method_not_allowed()
        wanted = self._negotiate(req, allow_table=True)  # its ConvertToTable: kubectl get
        labels = parse_label_selector(req.query.get("labelSelector"))
        # metadata.name and metadata.namespace, as metrics-server filters its pods
        fields = parse_field_selector(req.query.get("fieldSelector"), res.kind, custom=True)
        body = metrics.answer(self.api.store, self.usage, res, namespace, name, labels, fields)
        return self._render(req, res, body, wanted)

    def _verb(
        self, req: Request, res: ServedResource, namespace: str | None, name: str | None, sub: str
    ) -> Response | Stream:
        method = req.method
        ns = namespace or ""
        if name is None:
            if method == "GET":
                self._need(res, "list")
                return self._list(req, res, namespace)
            if method == "POST" and (namespace is not None or not res.namespaced):
                self._need(res, "create")
                if reviews.is_review(res):
                    answer = reviews.answer(res, ns, self._body(req), self._review_decider(req))
                    return self._json(req, answer, 201)
                return self._write(
                    req, res, lambda body, opts: self.api.create(res, ns, body, opts)
                )
            if method == "DELETE":
                self._need(res, "deletecollection")
                return self._delete_collection(req, res, namespace)
            raise method_not_allowed()
        if sub == "log":
            return self._log(req, res, ns, name)
        if sub in ("exec", "attach", "portforward", "proxy"):
            raise bad_request("Upgrade request required")
        if sub in ("binding", "eviction") and method == "POST":
            return self._pod_action(req, res, ns, name, sub)
        if sub in ("scale",):
            return self._scale(req, res, ns, name)
        if method == "GET":
            self._need(res, "get")
            return self._render(
                req, res, self.api.get(res, ns, name), self._negotiate(req, allow_table=True)
            )
        if method == "PUT":
            self._need(res, "update")
            subresource = "status" if sub == "status" else ""
            if sub == "finalize":
                return self._write(
                    req, res, lambda body, opts: self._finalize(res, name, body, opts)
                )
            return self._write(
                req, res, lambda body, opts: self.api.update(res, ns, name, body, opts, subresource)
            )
        if method == "PATCH":
            self._need(res, "patch")
            return self._patch(req, res, ns, name, "status" if sub == "status" else "")
        if method == "DELETE" and not sub:
            self._need(res, "delete")
            return self._delete(req, res, ns, name)
        raise method_not_allowed()

    @staticmethod
    def _need(res: ServedResource, verb: str) -> None:
        if verb not in res.verbs:
            raise method_not_allowed()

    def _write_options(self, req: Request) -> WriteOptions:
        dry = req.query.get("dryRun", "")
        if dry and dry != "All":
            raise bad_request(f'dryRun: Unsupported value: "{dry}": supported values: "All"')
        return WriteOptions(
            dry_run=dry == "All",
            field_manager=req.query.get("fieldManager") or None,
            field_validation=req.query.get("fieldValidation") or None,
            force=req.flag("force") if "force" in req.query else None,
            user_agent=req.headers.get("user-agent", ""),
        )

    def _body(
        self,
        req: Request,
        accepted: tuple[str, ...] = ("application/json", "application/yaml", protobuf.MEDIA_TYPE),
    ) -> Any:
        media = req.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if not media:
            media = "application/json"
        if media not in accepted:
            raise unsupported_media_type(list(BODY_MEDIA_TYPES))
        if not req.body.strip():
            raise bad_request("the server rejected our request due to an error in our request")
        if media == protobuf.MEDIA_TYPE:
            return protobuf.decode_object(req.body)
        return decode_body(req.body, media)

    def _write(
        self, req: Request, res: ServedResource, call: Callable[[Any, WriteOptions], WriteResult]
    ) -> Response:
        wanted = self._negotiate(req, allow_table=False)
        result = call(self._body(req), self._write_options(req))
        return self._render(
            req, res, result.obj, wanted, result.code, _warning_headers(result.warnings)
        )

    def _patch(self, req: Request, res: ServedResource, ns: str, name: str, sub: str) -> Response:
        wanted = self._negotiate(req, allow_table=False)
        media = req.headers.get("content-type", "").split(";")[0].strip().lower()
        opts = self._write_options(req)
        patcher = self.api.patcher
        if patcher is None or media not in PATCH_TYPES:
            from kubespark.emulator.apiserver.patching import accepted_patch_types

            raise unsupported_media_type(
                accepted_patch_types(res, self.api.surface.behaviours.server_side_apply)
            )
        result = patcher.patch(res, ns, name, req.body, media, opts, sub)
        return self._render(
            req, res, result.obj, wanted, result.code, _warning_headers(result.warnings)
        )

    def _delete_options(self, req: Request) -> DeleteOptions:
        body: dict[str, Any] = {}
        if req.body.strip():
            decoded = self._body(req)
            if not isinstance(decoded, dict):
                raise bad_request("DeleteOptions must be a JSON object")
            body = decoded
        pre = body.get("preconditions") or {}
        grace = req.query.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
        orphan = req.query.get("orphanDependents", body.get("orphanDependents"))
        dry = req.query.get("dryRun") or (body.get("dryRun") or [""])[0]
        try:
            grace_value = int(grace) if grace not in (None, "") else None
        except (TypeError, ValueError):
            raise bad_request(f"invalid gracePeriodSeconds {grace!r}") from None
        return DeleteOptions(
            propagation=req.query.get("propagationPolicy") or body.get("propagationPolicy"),
            grace_period=grace_value,
            uid=pre.get("uid"),
            resource_version=pre.get("resourceVersion"),
            orphan_dependents=None if orphan in (None, "") else str(orphan).lower() == "true",
            dry_run=dry == "All",
        )

    def _delete(self, req: Request, res: ServedResource, ns: str, name: str) -> Response:
        wanted = self._negotiate(req, allow_table=False)
        result = self.api.delete(res, ns, name, self._delete_options(req))
        if result.obj.get("kind") == "Status":
            return self._json(req, result.obj, result.code)
        return self._render(req, res, result.obj, wanted, result.code)

    def _delete_collection(
        self, req: Request, res: ServedResource, namespace: str | None
    ) -> Response:
        wanted = self._negotiate(req, allow_table=False)
        labels, fields = _selectors(req, res)
        listed = self.api.delete_collection(
            res, namespace, labels, fields, self._delete_options(req)
        )
        return self._render(req, res, listed, wanted)

    def _list(self, req: Request, res: ServedResource, namespace: str | None) -> Response:
        wanted = self._negotiate(req, allow_table=True)
        labels, fields = _selectors(req, res)
        limit_text = req.query.get("limit", "")
        try:
            limit = int(limit_text) if limit_text else 0
        except ValueError:
            raise bad_request(f'limit: Invalid value: "{limit_text}": must be an integer') from None
        listed = self.api.list_objects(
            res,
            namespace,
            labels,
            fields,
            limit=max(0, limit),
            continue_token=req.query.get("continue", ""),
            resource_version=req.query.get("resourceVersion", ""),
            resource_version_match=req.query.get("resourceVersionMatch", ""),
        )
        return self._render(req, res, listed, wanted)

    def _finalize(
        self, res: ServedResource, name: str, body: Any, opts: WriteOptions
    ) -> WriteResult:
        current = self.api.get(res, "", name)
        finalizers = ((body or {}).get("spec") or {}).get("finalizers") or []
        new = {**current, "spec": {**(current.get("spec") or {}), "finalizers": finalizers}}
        return self.api.replace_object(res, current, new, opts)

    # --- pods ------------------------------------------------------------------------------------
    def _pod_action(
        self, req: Request, res: ServedResource, ns: str, name: str, sub: str
    ) -> Response:
        pod = self.api.get(res, ns, name)
        if sub == "eviction":
            self.api.delete(res, ns, name, DeleteOptions())
            return self._json(
                req,
                {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"},
                201,
            )
        body = self._body(req)
        target = ((body or {}).get("target") or {}).get("name") if isinstance(body, dict) else None
        if not target:
            raise bad_request("target: Required value")
        if (pod.get("spec") or {}).get("nodeName"):
            raise self._conflict_bound(name, pod)
        new = {**pod, "spec": {**pod["spec"], "nodeName": target}}
        self.api.replace_object(res, pod, new, WriteOptions())
        return self._json(
            req,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
            201,
        )

    @staticmethod
    def _conflict_bound(name: str, pod: Obj) -> APIError:
        from kubespark.emulator.apiserver.wire import modified_conflict

        node = pod["spec"]["nodeName"]
        return modified_conflict(
            "", "pods", name, f'pod {name} is already assigned to node "{node}"'
        )

    def _log(self, req: Request, res: ServedResource, ns: str, name: str) -> Response | Stream:
        if req.method != "GET":
            raise method_not_allowed()
        pod = self.api.get(res, ns, name)
        containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
        container = req.query.get("container") or ""
        if not container:
            if len(containers) != 1:
                raise bad_request(
                    f"a container name must be specified for pod {name}, choose one of: "
                    f"[{' '.join(containers)}]"
                )
            container = containers[0]
        if container not in containers:
            raise bad_request(f"container {container} is not valid for pod {name}")
        lines, previous = self._log_lines(req, pod, ns, name, container)
        tail = req.query.get("tailLines")
        if tail and tail.lstrip("-").isdigit() and int(tail) >= 0:
            lines = lines[-int(tail) :] if int(tail) else []
        if previous or not req.flag("follow"):
            return Response(
                200, "".join(f"{line}\n" for line in lines).encode(), content_type=b"text/plain"
            )
        return Stream(
            200, self._follow(ns, name, container, len(lines), lines), content_type=b"text/plain"
        )

    def _log_lines(
        self, req: Request, pod: Obj, ns: str, name: str, container: str
    ) -> tuple[list[str], bool]:
        """Which instance's log, as the kubelet's ``validateContainerLogStatus`` picks it; and
        whether it is a finished one (no following it)."""
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        entry: Obj = next((s for s in statuses if s.get("name") == container), {})
        state = entry.get("state") or {}
        last = (entry.get("lastState") or {}).get("terminated") or {}
        if req.flag("previous"):
            if not last:
                raise bad_request(
                    f'previous terminated container "{container}" in pod "{name}" not found'
                )
            return self.logs.previous_log_lines(ns, name, container), True
        if "waiting" in state and last:  # in back-off: the last instance's
            return self.logs.previous_log_lines(ns, name, container), True
        if not state or "waiting" in state:
            reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
            raise bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: {reason}'
            )
        return self.logs.log_lines(ns, name, container), False

    async def _follow(
        self, ns: str, name: str, container: str, sent: int, first: list[str]
    ) -> AsyncIterator[bytes]:
        for line in first:
            yield f"{line}\n".encode()
        seen = len(self.logs.log_lines(ns, name, container))
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            lines = self.logs.log_lines(ns, name, container)
            if len(lines) < seen:  # the instance ended and a restart began a new log: as kubectl
                return
            for line in lines[seen:]:
                yield f"{line}\n".encode()
            seen = len(lines)
            if self.logs.container_done(ns, name, container):
                return
            await asyncio.sleep(0.05)

    def _scale(self, req: Request, res: ServedResource, ns: str, name: str) -> Response:
        if req.method == "GET":
            return self._json(req, scale.get_scale(self.api, res, ns, name))
        opts = self._write_options(req)
        if req.method == "PUT":
            return self._json(
                req, scale.update_scale(self.api, res, ns, name, self._body(req), opts)
            )
        if req.method == "PATCH":
            media = req.headers.get("content-type", "").split(";")[0].strip().lower()
            if media not in PATCH_TYPES:
                raise unsupported_media_type(list(PATCH_TYPES))
            return self._json(
                req, scale.patch_scale(self.api, res, ns, name, req.body, media, opts)
            )
        raise method_not_allowed()

    # --- watch -----------------------------------------------------------------------------------
    def _watch(self, req: Request, res: ServedResource, namespace: str | None) -> Response | Stream:
        self._need(res, "watch")
        if req.method != "GET":
            raise method_not_allowed()
        wanted = self._negotiate(req, allow_table=True)
        labels, fields = _selectors(req, res)
        timeout_text = req.query.get("timeoutSeconds", "")
        try:
            timeout = float(timeout_text) if timeout_text else self.default_watch_timeout
        except ValueError:
            raise bad_request(f"invalid timeoutSeconds {timeout_text!r}") from None
        rv = req.query.get("resourceVersion", "")
        try:
            watcher: Watcher | None = self.api.watch(res, namespace, labels, fields, rv)
            first_error: Status | None = None
        except APIError as err:
            if err.status.code != 410:
                raise
            watcher, first_error = None, err.status
        bookmarks = req.flag("allowWatchBookmarks")
        chunks = self._watch_chunks(req, res, watcher, first_error, wanted, timeout, bookmarks)
        media = wanted.media_type if wanted.form == "table" else "application/json"

        def close() -> None:
            if watcher is not None:
                self.api.store.unwatch(watcher)

        return Stream(200, chunks, media.encode(), on_close=close)

    async def _watch_chunks(
        self,
        req: Request,
        res: ServedResource,
        watcher: Watcher | None,
        first_error: Status | None,
        wanted: Negotiated,
        lifetime: float,
        bookmarks: bool,
    ) -> AsyncIterator[bytes]:
        if watcher is None:
            error = first_error.to_wire() if first_error else {}
            yield orjson.dumps({"type": "ERROR", "object": error}) + b"\n"
            return
        include = req.query.get("includeObject", "Metadata")
        start = time.monotonic()
        deadline = start + max(0.0, lifetime)
        drop_after = self.faults.faults.watch_drop_after
        drop_at = start + drop_after if drop_after else None
        bookmark_every = self.clock.real(self.bookmark_interval)
        next_bookmark = start + bookmark_every
        while True:
            now = time.monotonic()
            if drop_at is not None and now >= drop_at:
                raise DropConnection
            if now >= deadline:
                return
            wait_until = min(
                deadline, next_bookmark if bookmarks else deadline, drop_at or deadline
            )
            event = await watcher.next(max(0.0, wait_until - now))
            if event is None:
                if watcher.closed:
                    if watcher.overflowed:
                        return
                    raise DropConnection  # the store cut us (restart)
                if bookmarks and time.monotonic() >= next_bookmark:
                    next_bookmark = time.monotonic() + bookmark_every
                    yield self._bookmark(res)
                continue
            obj = self.api.present(res, event.obj)
            if wanted.form == "table":
                meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
                obj = tables.to_table(
                    res, [obj], meta, include_object=include, table_version=wanted.version
                )
            elif wanted.form == "partial":
                obj = _partial(obj, wanted.version)
            yield orjson.dumps({"type": event.type, "object": obj}) + b"\n"

    def _bookmark(self, res: ServedResource) -> bytes:
        obj = {
            "kind": res.kind,
            "apiVersion": res.api_version,
            "metadata": {"resourceVersion": str(self.api.store.resource_version)},
        }
        return orjson.dumps({"type": "BOOKMARK", "object": obj}) + b"\n"


def _selectors(req: Request, res: ServedResource) -> tuple[LabelSelector, FieldSelector]:
    labels = parse_label_selector(req.query.get("labelSelector"))
    fields = parse_field_selector(
        req.query.get("fieldSelector"), res.kind, custom=res.custom is not None
    )
    return labels, fields


def _encoded(
    req: Request, body: Any, as_yaml: bool, code: int, headers: list[tuple[bytes, bytes]] | None
) -> Response:
    """A body as YAML or JSON (indented when the request says ``pretty``)."""
    if as_yaml:
        text = yaml.safe_dump(body, sort_keys=False, default_flow_style=False)
        return Response(code, text.encode(), b"application/yaml", headers or [])
    option = orjson.OPT_INDENT_2 if req.flag("pretty") else 0
    return Response(code, orjson.dumps(body, option=option), headers=headers or [])


def _partial(body: Obj, version: str) -> Obj:
    api_version = f"meta.k8s.io/{version}"
    if "items" in body and str(body.get("kind", "")).endswith("List"):
        return {
            "kind": "PartialObjectMetadataList",
            "apiVersion": api_version,
            "metadata": body.get("metadata", {}),
            "items": [
                {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": api_version,
                    "metadata": i.get("metadata", {}),
                }
                for i in body["items"]
            ],
        }
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": api_version,
        "metadata": body.get("metadata", {}),
    }


def _warning_headers(warnings: list[str]) -> list[tuple[bytes, bytes]]:
    out = []
    for text in warnings:
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        out.append((b"warning", f'299 - "{quoted}"'.encode()))
    return out


def _and_selector(existing: str, extra: str) -> str:
    return f"{existing},{extra}" if existing else extra


def _dump_or_none(doc: Mapping[str, Any] | None) -> bytes | None:
    return orjson.dumps(doc) if doc is not None else None


def _downtime(text: str) -> float:
    """``?downtime=`` of /_kubespark/restart: seconds, finite, 0 to 300; else a 400."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 300.0:  # NaN fails both comparisons
        raise bad_request(f"downtime {text!r} is not a number of seconds from 0 to 300")
    return value
