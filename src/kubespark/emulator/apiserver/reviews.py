"""Access reviews: ``SelfSubjectAccessReview`` and ``SelfSubjectRulesReview`` (and the
``SubjectAccessReview`` kinds) answered as the server's authorizer decides.

Owns recognising the review resources and building their answers. A review is never stored:
apiserver's review registries evaluate the request and echo it with a ``status``, 201. By
default the emulator authorizes everything, and this is kube-apiserver's ``AlwaysAllow``
answer: ``allowed: true``, and for a rules review one rule of ``*`` for resources and one for
non-resource URLs, ``incomplete: false``. With RBAC on, the caller passes the status the RBAC
authorizer computes (``rbac.review_status``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubespark.emulator.apiserver.objects import Obj
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.emulator.apiserver.wire import bad_request

__all__ = ["answer", "is_review"]

_ACCESS = frozenset(
    {"selfsubjectaccessreviews", "subjectaccessreviews", "localsubjectaccessreviews"}
)
_RULES = "selfsubjectrulesreviews"


def is_review(res: ServedResource) -> bool:
    return res.group == "authorization.k8s.io" and (res.plural in _ACCESS or res.plural == _RULES)


def answer(
    res: ServedResource,
    namespace: str,
    body: Any,
    decide: Callable[[str, Obj], dict[str, Any]] | None = None,
) -> Obj:
    """The review echoed with the status ``decide(plural, spec)`` gives (AlwaysAllow's if none)."""
    if not isinstance(body, dict):
        raise bad_request(f"the body of a {res.kind} must be a JSON object")
    meta = dict(body.get("metadata") or {})
    meta.setdefault("creationTimestamp", None)
    if res.plural == "localsubjectaccessreviews" and namespace:
        meta.setdefault("namespace", namespace)
    status: dict[str, Any]
    spec = body.get("spec") or {}
    if decide is not None:
        status = decide(res.plural, spec if isinstance(spec, dict) else {})
    elif res.plural == _RULES:
        status = {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
            "incomplete": False,
        }
    else:
        status = {"allowed": True}
    return {
        "kind": res.kind,
        "apiVersion": f"{res.group}/{res.version}",
        "metadata": meta,
        "spec": body.get("spec") or {},
        "status": status,
    }
