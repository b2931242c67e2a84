"""The proxy's view of one HTTP exchange: the client's request and the answer it gets.

Owns the values passed between the front end (``wire``), the upstream (``upstream``) and the
rewrite of applies (``rewrite``): :class:`ClientRequest` as received, :class:`ProxyResponse`
(buffered or streamed), which headers are hop-by-hop (never forwarded), the ``Warning: 299``
header a rewrite adds, and Status answers of the proxy's own. It does no I/O and never renders
a header value into text meant for logs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from kubespark.kube.status import Status

Headers = tuple[tuple[bytes, bytes], ...]

# RFC 9110 7.6.1 connection-specific fields, plus the de-facto Proxy-Connection and Keep-Alive:
# they describe one hop and must not be forwarded. Host is set for the upstream by its client.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"http2-settings",
    }
)

__all__ = [
    "HOP_BY_HOP",
    "ClientRequest",
    "Headers",
    "ProxyResponse",
    "StreamBroken",
    "end_to_end",
    "status_response",
    "warning_header",
]


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """One request as the client sent it; names are lower-case (as h11 delivers them)."""

    method: str
    target: bytes  # the request target exactly as received: path and query
    headers: Headers
    body: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        """The first value of a header, or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def tokens(self, name: bytes) -> frozenset[bytes]:
        """The comma-separated tokens of every value of a header, lower-cased."""
        out: set[bytes] = set()
        for key, value in self.headers:
            if key == name:
                out.update(t.strip().lower() for t in value.split(b",") if t.strip())
        return frozenset(out)

    @property
    def path(self) -> str:
        """The decoded path; an absolute-form target (``http://host/path``) keeps only its path."""
        return unquote(_split(self.target).path or "/")

    @property
    def query(self) -> tuple[tuple[str, str], ...]:
        return tuple(parse_qsl(_split(self.target).query, keep_blank_values=True))

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower-cased ("" when absent)."""
        raw = self.header(b"content-type") or b""
        return raw.split(b";", 1)[0].strip().decode("latin-1").lower()

    @property
    def origin_target(self) -> bytes:
        """The target in origin form: a client cannot choose another host than the upstream."""
        if self.target.startswith(b"/"):
            return self.target
        parts = _split(self.target)
        path = parts.path or "/"
        return (path + (f"?{parts.query}" if parts.query else "")).encode("latin-1")

    def describe(self) -> str:
        """``PATCH /api/v1/...`` without the query (which a client may fill with anything)."""
        return f"{self.method} {self.path}"


def _split(target: bytes) -> SplitResult:
    return urlsplit(target.decode("latin-1"))


class StreamBroken(Exception):
    """The upstream stopped in the middle of an answer (its connection broke)."""


@dataclass(slots=True)
class ProxyResponse:
    """An answer to the client: a buffered ``body``, or a ``stream`` read as it arrives.

    ``close`` releases what the stream holds (the upstream connection); the front end calls it
    once the answer is written or the client has gone.
    """

    status: int
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    close: Callable[[], Awaitable[None]] | None = None
    reason: bytes = b""  # the status line's phrase; the standard one when empty

    @property
    def reason_phrase(self) -> bytes:
        if self.reason:
            return self.reason
        try:
            return HTTPStatus(self.status).phrase.encode()
        except ValueError:
            return b""

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    async def aclose(self) -> None:
        if self.close is not None:
            closer, self.close = self.close, None
            await closer()


def end_to_end(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers a proxy forwards: without hop-by-hop ones and those Connection names."""
    pairs = [(k.lower(), v) for k, v in headers]
    named = {t.strip().lower() for k, v in pairs if k == b"connection" for t in v.split(b",") if t}
    return [(k, v) for k, v in pairs if k not in HOP_BY_HOP and k not in named]


def warning_header(text: str) -> tuple[bytes, bytes]:
    """``Warning: 299 - "text"`` as the API server sends warnings (RFC 7234 warn-text)."""
    clean = " ".join(text.split())
    quoted = clean.replace("\\", "\\\\").replace('"', '\\"')
    return b"warning", f'299 - "{quoted}"'.encode("ascii", "replace")


def status_response(status: Status, extra: Iterable[tuple[bytes, bytes]] = ()) -> ProxyResponse:
    """A Status body of the proxy's own, as an API server would send it."""
    body = json.dumps(status.to_wire(), separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), *extra]
    return ProxyResponse(status.code, headers, body)
