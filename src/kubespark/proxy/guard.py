"""Who may use the proxy, and for what: the checks ``kubectl proxy`` makes, and a few more.

Owns refusing a request before anything is forwarded with the upstream kubeconfig's
credentials: a ``Host`` (or browser ``Origin``) not in the accepted hosts (DNS rebinding: a web
page that resolves its own name to 127.0.0.1 would otherwise drive the cluster through the
user's browser), a path in the rejected paths (exec and attach into pods, as ``kubectl proxy``),
``Impersonate-*`` headers (a client would otherwise act as any user the kubeconfig's identity may
impersonate), and, when a client token is required (``--token-file``), a request without it.
Each refusal is a 403 (401 for a missing token) Status whose message names the rule and the flag
that changes it. It must not forward, rewrite or log request bodies.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kubespark.errors import InputError
from kubespark.kube.status import Status
from kubespark.proxy.messages import ClientRequest

__all__ = ["DEFAULT_ACCEPT_HOSTS", "DEFAULT_REJECT_PATHS", "Guard", "Limits"]

# kubectl proxy's defaults (staging/src/k8s.io/kubectl/pkg/proxy/proxy_server.go).
DEFAULT_ACCEPT_HOSTS = (r"^localhost$", r"^127\.0\.0\.1$", r"^\[::1\]$")
DEFAULT_REJECT_PATHS = (r"^/api/.*/pods/.*/exec", r"^/api/.*/pods/.*/attach")


@dataclass(frozen=True)
class Limits:
    """Bounds on one client connection; docs/proxy.md says why each default is what it is."""

    header_timeout: float = 10.0  # from a request's first byte to the end of its headers
    idle_timeout: float = 120.0  # a kept-alive connection with no request
    request_timeout: float = 60.0  # from a request's first byte to the end of its body
    max_connections: int = 512  # open client connections (watches included)


@dataclass(frozen=True)
class Guard:
    """The request filter of one proxy."""

    accept_hosts: tuple[re.Pattern[str], ...]
    reject_paths: tuple[re.Pattern[str], ...]
    allow_impersonation: bool = False
    required_token: bytes | None = field(default=None, repr=False)

    @classmethod
    def of(
        cls,
        accept_hosts: Sequence[str] = DEFAULT_ACCEPT_HOSTS,
        reject_paths: Sequence[str] = DEFAULT_REJECT_PATHS,
        *,
        allow_impersonation: bool = False,
        required_token: bytes | None = None,
    ) -> Guard:
        return cls(
            _patterns(accept_hosts, "--accept-hosts"),
            _patterns(reject_paths, "--reject-paths"),
            allow_impersonation,
            required_token,
        )

    def refusal(self, request: ClientRequest) -> Status | None:
        """The Status refusing ``request``, or None when it may be forwarded."""
        host = _host_of((request.header(b"host") or b"").decode("latin-1"))
        if not self._accepted(host):
            return _forbidden(f"host {host!r} is not accepted", "--accept-hosts")
        origin = request.header(b"origin")
        if origin is not None and not self._accepted(_origin_host(origin)):
            return _forbidden("the request's Origin is not an accepted host", "--accept-hosts")
        path = request.path
        for pattern in self.reject_paths:
            if pattern.search(path):
                return _forbidden(f"path {path!r} is rejected", "--reject-paths")
        if not self.allow_impersonation and any(
            name.startswith(b"impersonate-") for name, _ in request.headers
        ):
            return _forbidden("Impersonate-* headers are refused", "--allow-impersonation")
        return None

    def authorised(self, authorization: bytes | None) -> bool:
        """Whether a request carries the required client token (always, when none is)."""
        if self.required_token is None:
            return True
        expected = b"Bearer " + self.required_token
        return authorization is not None and hmac.compare_digest(authorization, expected)

    def _accepted(self, host: str) -> bool:
        return any(p.search(host) for p in self.accept_hosts)


def unauthorised() -> Status:
    return Status.failure(
        401,
        "kubespark proxy: a client token is required (--token-file): send it as "
        "Authorization: Bearer",
        reason="Unauthorized",
    )


def _forbidden(what: str, flag: str) -> Status:
    return Status.failure(403, f"kubespark proxy: {what} (see {flag})", reason="Forbidden")


def _host_of(value: str) -> str:
    """``Host`` without its port; an IPv6 literal keeps its brackets, as the defaults spell it."""
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def _origin_host(origin: bytes) -> str:
    try:
        netloc = urlsplit(origin.decode("latin-1")).netloc
    except ValueError:
        return ""
    return _host_of(netloc)


def _patterns(texts: Sequence[str], flag: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for text in texts:
        try:
            out.append(re.compile(text))
        except re.error as err:
            raise InputError(
                f"{text!r} is not a regular expression: {err}",
                where=flag,
                fix="give comma-separated regular expressions, e.g. '^localhost$,^10\\.0\\.'",
            ) from None
    return tuple(out)
