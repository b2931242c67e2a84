"""Carrying out the decision on a server-side apply, and answering as the apply would have been.

Owns the requests a rewrite sends (the planner's write, with the client's own credentials and
headers) or the apply of what the server can type, following a create with the planner's JSON
merge patch when the object already exists, and the answer: the status an apply gives (``201``
when it created the object, ``200`` when it updated it), the object the server stored, the
server's own warnings, and ``Warning: 299`` headers saying what was changed and why. Every
rewrite and refusal is logged (method, path, object, notes; never a header). The decision
itself is ``kubespark.proxy.applies``'.
"""

from __future__ import annotations

import logging

import httpx

from kubespark.compat import ConflictAction
from kubespark.kube.requests import APPLY_PATCH, KubeRequest
from kubespark.proxy.applies import Forward, Refuse, Rewrite, RewriteAs, decide_apply
from kubespark.proxy.capabilities import Capabilities
from kubespark.proxy.messages import (
    ClientRequest,
    ProxyResponse,
    end_to_end,
    status_response,
    warning_header,
)
from kubespark.proxy.upstream import Exchange, Upstream

__all__ = ["ApplyRewriter"]

log = logging.getLogger("kubespark.proxy")

# Headers of the client's request that describe its own body or its wishes for the answer's
# encoding; a rewritten request has another body, and its answer is read by the proxy.
_REPLACED = frozenset({b"content-type", b"accept", b"accept-encoding", b"content-length"})
# Answer headers worth passing on from the upstream's answer to a rewritten request.
_KEPT = frozenset({b"content-type", b"audit-id", b"warning", b"cache-control", b"date"})


class ApplyRewriter:
    """Handles every server-side apply the proxy receives."""

    def __init__(
        self,
        upstream: Upstream,
        capabilities: Capabilities,
        rewrite_as: RewriteAs = RewriteAs.APPLY,
    ) -> None:
        self.upstream = upstream
        self.capabilities = capabilities
        self.rewrite_as = rewrite_as
        self.rewrites = 0
        self.refusals = 0

    async def handle(self, request: ClientRequest) -> ProxyResponse:
        snapshot = await self.capabilities.current()
        if snapshot is None:
            log.warning(
                "kubespark proxy: %s forwarded unchanged: the upstream's capabilities are unknown",
                request.describe(),
            )
            return await self.upstream.forward(request)
        decision = decide_apply(snapshot.surface, request, self.rewrite_as)
        if isinstance(decision, Forward):
            log.debug("kubespark proxy: %s forwarded: %s", request.describe(), decision.reason)
            return await self.upstream.forward(request)
        if isinstance(decision, Refuse):
            self.refusals += 1
            log.warning(
                "kubespark proxy: refused %s: %s", request.describe(), decision.status.message
            )
            return status_response(decision.status)
        return await self._rewrite(request, decision)

    async def _rewrite(self, request: ClientRequest, decision: Rewrite) -> ProxyResponse:
        write = decision.write
        primary = decision.apply or write.request
        if decision.apply is not None:
            outcome = "applied"
        else:
            outcome = "kept" if write.request.content_type == APPLY_PATCH else "created"
        try:
            first = await self._send(request, primary)
            answer, sent = first, [primary]
            then = write.on_conflict.then
            if (
                decision.apply is None
                and _already_exists(first)
                and write.on_conflict.action is ConflictAction.MERGE_PATCH
                and then is not None
            ):
                answer = await self._send(request, then)
                sent.append(then)
                outcome = "merged"
        except httpx.TransportError as err:
            return self.upstream.unavailable(err)
        self.rewrites += 1
        log.info(
            "kubespark proxy: rewrote the server-side apply %s (%s) for Kubernetes %s as %s -> %d",
            request.describe(),
            write.object,
            decision.server,
            ", then ".join(f"{r.method} {r.path}" for r in sent),
            answer.status,
        )
        for text in decision.notes:
            log.info("%s", text)
        headers = [(k, v) for k, v in answer.headers if k in _KEPT]
        if first is not answer:
            headers += [(k, v) for k, v in first.headers if k == b"warning"]
        headers += [warning_header(text) for text in decision.warnings(outcome)]
        return ProxyResponse(answer.status, headers, answer.body)

    async def _send(self, client: ClientRequest, request: KubeRequest) -> Exchange:
        headers = [(k, v) for k, v in end_to_end(client.headers) if k not in _REPLACED]
        headers.append((b"accept", b"application/json"))
        if request.content_type:
            headers.append((b"content-type", request.content_type.encode()))
        return await self.upstream.exchange(
            client,
            request.method,
            request.target.encode(),
            headers,
            request.body_bytes() or b"",
        )


def _already_exists(answer: Exchange) -> bool:
    if answer.status != 409:
        return False
    body = answer.json()
    return isinstance(body, dict) and body.get("reason") == "AlreadyExists"
