"""Who may write through the dashboard: CSRF and DNS-rebinding checks on every request.

Owns the per-server token the page reads from ``/api/session`` (a page of another origin cannot
read it: no CORS) and must echo in ``X-CSRF-Token`` on every POST, which must also be JSON (a
plain HTML form cannot send that), from the same origin when the browser says where it came
from (``Origin``, ``Sec-Fetch-Site``). Served on a loopback address, every request must name a
loopback host, so a hostile DNS name pointed at 127.0.0.1 cannot read the pages. It decides
nothing about which actions exist or whether they are allowed.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Guard"]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _hostname(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]", 1)[0] + "]"
    return host_header.rsplit(":", 1)[0] if ":" in host_header else host_header


@dataclass(frozen=True)
class Guard:
    """The checks of one server listening on ``listen_host``."""

    listen_host: str
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def host_refusal(self, headers: Mapping[str, str]) -> str:
        """Why a request's Host is refused ('' when it is fine)."""
        if not _is_loopback(self.listen_host):
            return ""
        name = _hostname(headers.get("host", "")).lower()
        if name in LOOPBACK_NAMES or _is_loopback(name):
            return ""
        return f"Host {name!r} is not this server's (it listens on a loopback address)"

    def write_refusal(self, headers: Mapping[str, str]) -> str:
        """Why a POST is refused as a possible cross-site request ('' when it is fine)."""
        if not headers.get("content-type", "").startswith("application/json"):
            return "actions are JSON requests (Content-Type: application/json)"
        if not hmac.compare_digest(headers.get("x-csrf-token", ""), self.token):
            return "missing or wrong X-CSRF-Token (reload the page)"
        site = headers.get("sec-fetch-site", "")
        if site and site not in ("same-origin", "none"):
            return f"a {site} request may not act (Sec-Fetch-Site)"
        origin = headers.get("origin", "")
        if origin and origin != "null":
            own = {f"http://{headers.get('host', '')}", f"https://{headers.get('host', '')}"}
            if origin not in own:
                return f"origin {origin} is not this server's"
        return ""
