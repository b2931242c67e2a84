"""The proxy subresources: ``services/NAME/proxy`` and ``pods/NAME/proxy``, forwarded to a pod.

Owns what apiserver's ``ResourceLocation`` and ``UpgradeAwareHandler`` do for these paths:
parsing the target (``name``, ``name:port``, ``scheme:name:port``), resolving it (a Service's
port by number or name, then an address of its Endpoints; a pod's IP and port, the first
container port when none is given), forwarding any method with its path and query over HTTP and
streaming the answer back, rewriting HTML links and redirects to stay under the proxy path
(apimachinery's ``proxy.Transport``), and the 503 Statuses a real server sends when no endpoint
answers (``no endpoints available``, ``error trying to reach service: dial tcp ...``).

Whether a pod's address can be dialled at all is the kubelet's to say (:class:`PodNetwork`):
the simulated kubelet's pods run no process, so they refuse like a port nobody listens on.
It never writes objects and never upgrades connections (WebSocket through a proxy is not
emulated).
"""

from __future__ import annotations

import gzip
import re
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from kubespark.emulator.apiserver.api import ApiServer
from kubespark.emulator.apiserver.objects import Obj
from kubespark.emulator.apiserver.wire import bad_request, not_found
from kubespark.kube import errors
from kubespark.kube.status import Status

__all__ = ["PodNetwork", "ProxyTarget", "Upstream", "forward", "parse_proxy_path", "resolve"]

# Headers a proxy must not pass on (RFC 9110 hop-by-hop, as Go's httputil.ReverseProxy drops
# them), plus Authorization: apiserver's authentication filter removes the caller's credentials.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "authorization",
        "host",
        "content-length",
    }
)
_MAX_HTML = 16 * 1024 * 1024  # larger pages pass through unrewritten rather than held in memory
_DIAL_TIMEOUT = 30.0  # apiserver's proxy dialer timeout
_PATH = re.compile(r"^/api/v1/namespaces/([^/]+)/(pods|services)/([^/]+)/proxy(/.*)?$")


class PodNetwork(Protocol):
    """Which pod addresses a connection can reach (the kubelet knows what really listens)."""

    def reachable(self, ip: str) -> bool: ...


@dataclass(frozen=True)
class ProxyPath:
    """A request path that names a proxy subresource."""

    namespace: str
    plural: str  # "pods" or "services"
    target: str  # as written: name, name:port or scheme:name:port
    rest: str  # the path below .../proxy, "" when the request stopped at .../proxy


@dataclass(frozen=True)
class ProxyTarget:
    """Where a proxy request goes."""

    scheme: str
    host: str
    port: str
    path: str  # the path to request on the pod

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host


def parse_proxy_path(raw_path: str) -> ProxyPath | None:
    """The proxy subresource a request path names, or None for every other path."""
    found = _PATH.match(raw_path)
    if found is None:
        return None
    namespace, plural, target, rest = found.groups()
    return ProxyPath(
        urllib.parse.unquote(namespace), plural, urllib.parse.unquote(target), rest or ""
    )


def _split_scheme_name_port(target: str) -> tuple[str, str, str] | None:
    """utilnet.SplitSchemeNamePort: ``name``, ``name:port`` or ``scheme:name:port``."""
    parts = target.split(":")
    if len(parts) == 1:
        scheme, name, port = "", parts[0], ""
    elif len(parts) == 2:
        scheme, name, port = "", parts[0], parts[1]
    elif len(parts) == 3:
        scheme, name, port = parts
    else:
        return None
    if not name or scheme not in ("", "http", "https"):
        return None
    return scheme, name, port


def _unavailable(message: str) -> errors.ServiceUnavailable:
    return errors.ServiceUnavailable(Status.failure(503, message))


def resolve(api: ApiServer, where: ProxyPath) -> ProxyTarget:
    """Where apiserver would send this proxy request (its ResourceLocation), or its error."""
    split = _split_scheme_name_port(where.target)
    if split is None:
        kind = "pod" if where.plural == "pods" else "service"
        raise bad_request(f"invalid {kind} request {where.target!r}".replace("'", '"'))
    scheme, name, port = split
    if where.plural == "pods":
        host, port = _pod_location(api, where.namespace, name, port)
    else:
        host, port = _service_location(api, where.namespace, name, port, where.target)
    return ProxyTarget(scheme or "http", host, port, where.rest)


def _get(api: ApiServer, plural: str, namespace: str, name: str) -> Obj:
    obj = api.store.get(("", plural), namespace, name)
    if obj is None:
        raise not_found("", plural, name)
    return obj


def _pod_location(api: ApiServer, namespace: str, name: str, port: str) -> tuple[str, str]:
    pod = _get(api, "pods", namespace, name)
    if not port:
        for container in (pod.get("spec") or {}).get("containers") or []:
            ports = container.get("ports") or []
            if ports:
                port = str(ports[0].get("containerPort", ""))
                break
    ip = str((pod.get("status") or {}).get("podIP") or "")
    if not ip:
        raise bad_request("address not allowed")
    return ip, port


def _service_location(
    api: ApiServer, namespace: str, name: str, port: str, target: str
) -> tuple[str, str]:
    port_name = port
    if port.isdigit():
        svc = _get(api, "services", namespace, name)
        declared = [
            p for p in (svc.get("spec") or {}).get("ports") or [] if str(p.get("port")) == port
        ]
        if not declared:
            raise _unavailable(f'no service port {port} found for service "{name}"')
        port_name = str(declared[0].get("name") or "")
    endpoints = _get(api, "endpoints", namespace, name)
    subsets = endpoints.get("subsets") or []
    if not subsets:
        raise _unavailable(f'no endpoints available for service "{name}"')
    for subset in subsets:
        addresses = subset.get("addresses") or []
        for endpoint_port in subset.get("ports") or []:
            if str(endpoint_port.get("name") or "") == port_name and addresses:
                return str(addresses[0].get("ip", "")), str(endpoint_port.get("port", ""))
    raise _unavailable(f'no endpoints available for service "{target}"')


@dataclass
class Upstream:
    """The pod's answer, streamed: status, headers (hop-by-hop removed) and body chunks."""

    code: int
    headers: list[tuple[bytes, bytes]]
    content_type: bytes
    chunks: AsyncIterator[bytes]


def _request_headers(headers: Mapping[str, str], target: ProxyTarget) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
    out["host"] = target.authority
    return out


async def forward(
    network: PodNetwork,
    target: ProxyTarget,
    method: str,
    prefix: str,
    query: bytes,
    headers: Mapping[str, str],
    body: bytes,
) -> Upstream:
    """Send the request on to the pod; ``prefix`` is the proxy path that links must keep."""
    dial = f"dial tcp {target.authority}"
    if not network.reachable(target.host):
        raise _unavailable(f"error trying to reach service: {dial}: connect: connection refused")
    url = f"{target.scheme}://{target.authority}{target.path or '/'}"
    if query:
        url += "?" + query.decode("latin-1")
    client = httpx.AsyncClient(
        verify=False,  # apiserver's pod and service proxies skip verification too
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(None, connect=_DIAL_TIMEOUT),
    )
    try:
        request = client.build_request(
            method, url, headers=_request_headers(headers, target), content=body or None
        )
        response = await client.send(request, stream=True)
    except httpx.ConnectError as err:
        await client.aclose()
        raise _unavailable(f"error trying to reach service: {dial}: {_dial_error(err)}") from None
    except httpx.HTTPError as err:
        await client.aclose()
        raise _unavailable(f"error trying to reach service: {err}") from None
    return await _upstream(client, response, target, prefix)


def _dial_error(err: BaseException) -> str:
    """Go's wording of why a dial failed, from the OS error under httpx's wrappers."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connect: connection refused"
        if isinstance(seen, TimeoutError):
            return "i/o timeout"
        if isinstance(seen, OSError) and seen.strerror:
            return f"connect: {seen.strerror.lower()}"
        seen = seen.__cause__ or seen.__context__
    return str(err)


async def _upstream(
    client: httpx.AsyncClient, response: httpx.Response, target: ProxyTarget, prefix: str
) -> Upstream:
    headers: list[tuple[bytes, bytes]] = []
    content_type = b"text/plain; charset=utf-8"
    for key, value in response.headers.raw:
        lowered = key.lower()
        if lowered.decode("latin-1") in _HOP_BY_HOP:
            continue
        if lowered == b"content-type":
            content_type = value
            continue
        if lowered == b"location":
            value = _rewrite_url(value.decode("latin-1"), target, prefix).encode("latin-1")
        headers.append((lowered, value))
    if content_type.split(b";")[0].strip().lower() == b"text/html":
        body = await _read_bounded(response)
        await response.aclose()
        await client.aclose()
        if body is not None:
            encoding = response.headers.get("content-encoding", "").lower()
            rewritten = _rewrite_encoded(body, encoding, target, prefix)
            return Upstream(response.status_code, headers, content_type, _once(rewritten))
        return Upstream(response.status_code, headers, content_type, _once(b""))
    return Upstream(response.status_code, headers, content_type, _relay(client, response))


async def _read_bounded(response: httpx.Response) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > _MAX_HTML:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _once(body: bytes) -> AsyncIterator[bytes]:
    if body:
        yield body


async def _relay(client: httpx.AsyncClient, response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            if chunk:
                yield chunk
    finally:
        await response.aclose()
        await client.aclose()


# --- apimachinery's proxy.Transport: links in HTML and redirects stay under the proxy path ----
# The attributes it rewrites (atomsToAttrs in k8s.io/apimachinery/pkg/util/proxy/transport.go).
_LINK_ATTRS: dict[str, frozenset[str]] = {
    tag: frozenset(attrs.split())
    for tag, attrs in {
        "a": "href",
        "applet": "codebase",
        "area": "href",
        "audio": "src",
        "base": "href",
        "blockquote": "cite",
        "body": "background",
        "button": "formaction",
        "command": "icon",
        "del": "cite",
        "embed": "src",
        "form": "action",
        "frame": "longdesc src",
        "head": "profile",
        "html": "manifest",
        "iframe": "longdesc src",
        "img": "longdesc src usemap",
        "input": "src usemap formaction",
        "ins": "cite",
        "link": "href",
        "object": "classid codebase data usemap",
        "q": "cite",
        "script": "src",
        "source": "src",
        "video": "poster src",
    }.items()
}
# Raw-text elements and comments hold no tags, as an HTML tokenizer sees them.
_OPAQUE = re.compile(rb"<!--.*?-->|<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_TAG = re.compile(rb"<([a-zA-Z][a-zA-Z0-9]*)(\s[^<>]*)?>")
_ATTR = re.compile(rb"""(\s)([a-zA-Z-]+)(\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)""")


def _rewrite_url(value: str, target: ProxyTarget, prefix: str) -> str:
    """rewriteURL: an absolute path on the pod becomes the same path under the proxy."""
    try:
        url = urllib.parse.urlsplit(value)
    except ValueError:
        return value
    if url.netloc and url.netloc != target.authority:
        return value
    if not url.path.startswith("/"):
        return value
    if url.path.startswith(prefix):
        return urllib.parse.urlunsplit(("", "", url.path, url.query, url.fragment))
    joined = prefix.rstrip("/") + "/" + url.path.lstrip("/")
    return urllib.parse.urlunsplit(("", "", joined, url.query, url.fragment))


def _rewrite_tag(tag: re.Match[bytes], target: ProxyTarget, prefix: str) -> bytes:
    attrs = _LINK_ATTRS.get(tag.group(1).decode("ascii").lower())
    if attrs is None or not tag.group(2):
        return tag.group(0)

    def one(attr: re.Match[bytes]) -> bytes:
        if attr.group(2).decode("ascii").lower() not in attrs:
            return attr.group(0)
        raw = attr.group(4)
        quote = raw[:1] if raw[:1] in (b'"', b"'") else b""
        value = raw[1:-1] if quote else raw
        new = _rewrite_url(value.decode("utf-8", "replace"), target, prefix).encode()
        return (
            attr.group(1) + attr.group(2) + attr.group(3) + (quote or b'"') + new + (quote or b'"')
        )

    return b"<" + tag.group(1) + _ATTR.sub(one, tag.group(2)) + b">"


def rewrite_html(body: bytes, target: ProxyTarget, prefix: str) -> bytes:
    """The page with its links to the pod's own paths pointing under the proxy path."""
    out: list[bytes] = []
    last = 0
    for opaque in _OPAQUE.finditer(body):
        out.append(_rewrite_tags(body[last : opaque.start()], target, prefix))
        head_end = 0 if opaque.group(0).startswith(b"<!--") else opaque.group(0).find(b">") + 1
        out.append(_rewrite_tags(opaque.group(0)[:head_end], target, prefix))
        out.append(opaque.group(0)[head_end:])
        last = opaque.end()
    out.append(_rewrite_tags(body[last:], target, prefix))
    return b"".join(out)


def _rewrite_tags(chunk: bytes, target: ProxyTarget, prefix: str) -> bytes:
    return _TAG.sub(lambda m: _rewrite_tag(m, target, prefix), chunk)


def _rewrite_encoded(body: bytes, encoding: str, target: ProxyTarget, prefix: str) -> bytes:
    """Rewrite inside gzip or deflate as proxy.Transport does; other encodings pass through."""
    try:
        if encoding == "gzip":
            return gzip.compress(rewrite_html(gzip.decompress(body), target, prefix))
        if encoding == "deflate":
            return zlib.compress(rewrite_html(zlib.decompress(body), target, prefix))
    except (OSError, zlib.error, EOFError):
        return body
    if encoding in ("", "identity"):
        return rewrite_html(body, target, prefix)
    return body
