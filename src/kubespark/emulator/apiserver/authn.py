"""Optional bearer-token authentication in front of the emulator, as an API server's token
authenticator answers: a request without an accepted ``Authorization: Bearer`` token gets 401 and
the ``Unauthorized`` Status, before anything else sees it.

Owns the set of accepted tokens (tests rotate and revoke them while clients run, to check that
clients renew their credentials) and counts what it refused. It does not authorise (no RBAC) and
knows nothing of kubeconfigs or of how clients obtain tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

__all__ = ["BearerTokens", "TokenAuthority"]

AUTHORIZATION = b"authorization"
UNAUTHORIZED = orjson.dumps(
    {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }
)


class TokenAuthority:
    """The tokens the server accepts now, and who came with what."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self.accepted: set[str] = set(tokens)
        self.refused = 0  # requests answered 401
        self.seen: dict[str, int] = {}  # accepted token -> requests

    def accept(self, *tokens: str) -> None:
        self.accepted.update(tokens)

    def revoke(self, *tokens: str) -> None:
        self.accepted.difference_update(tokens)

    def admits(self, authorization: str) -> bool:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.accepted:
            self.refused += 1
            return False
        self.seen[token.strip()] = self.seen.get(token.strip(), 0) + 1
        return True


class BearerTokens:
    """ASGI middleware: HTTP and WebSocket requests pass only with an accepted token."""

    def __init__(self, app: Any, authority: TokenAuthority) -> None:
        self.app = app
        self.authority = authority

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", ())
        header = next((v.decode("latin-1") for k, v in headers if k.lower() == AUTHORIZATION), "")
        if self.authority.admits(header):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(UNAUTHORIZED)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": UNAUTHORIZED})
