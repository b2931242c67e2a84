"""Optional RBAC authorization: Roles, ClusterRoles and bindings, evaluated as apiserver's would.

Owns, when the emulator runs with authorization ``rbac``: who a request is (the emulator's own
kubeconfig user, a cluster admin in ``system:masters``, unless the request impersonates someone
with ``Impersonate-User``/``Impersonate-Group``, as ``kubectl --as`` does), the request's
attributes (verb, API group, resource, subresource, namespace, name, or a non-resource path),
whether the stored bindings grant it (``rbac/v1`` rule matching: verbs, apiGroups, resources
with ``*`` and ``*/sub``, resourceNames, nonResourceURLs with a trailing ``*``), the 403 message a
denial gets (``pods is forbidden: User "u" cannot list resource "pods" in API group "" in the
namespace "ns"``), the ``reason`` an allowing review carries, the rules a SelfSubjectRulesReview
lists, and the bootstrap policy written at start (``data/rbac_bootstrap.yaml``). ClusterRole
aggregation and impersonation checks are not emulated (docs/emulator.md).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from kubespark.emulator.apiserver.objects import Obj, peek_meta
from kubespark.emulator.apiserver.store import BucketKey, Store

__all__ = [
    "ADMIN",
    "Attributes",
    "RbacAuthorizer",
    "UserInfo",
    "bootstrap_objects",
    "forbidden_reason",
    "request_attributes",
    "requester",
    "review_status",
]

_GROUP = "rbac.authorization.k8s.io"
_ROLES: BucketKey = (_GROUP, "roles")
_CLUSTER_ROLES: BucketKey = (_GROUP, "clusterroles")
_BINDINGS: BucketKey = (_GROUP, "rolebindings")
_CLUSTER_BINDINGS: BucketKey = (_GROUP, "clusterrolebindings")


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()


ADMIN = UserInfo("kubespark-emulator", ("system:masters", "system:authenticated"))


@dataclass(frozen=True)
class Attributes:
    """What one request asks to do (authorizer.AttributesRecord)."""

    user: UserInfo
    verb: str
    namespace: str = ""
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    path: str = ""
    resource_request: bool = True


def requester(headers: Mapping[str, str]) -> UserInfo:
    """Who the request acts as: an impersonated user, else the emulator's admin user."""
    user = headers.get("impersonate-user", "")
    if not user:
        return ADMIN
    groups = [g.strip() for g in headers.get("impersonate-group", "").split(",") if g.strip()]
    if user.startswith("system:serviceaccount:"):
        namespace = user.split(":")[2] if user.count(":") >= 3 else ""
        groups += ["system:serviceaccounts", f"system:serviceaccounts:{namespace}"]
    return UserInfo(user, (*groups, "system:authenticated"))


_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


def request_attributes(
    method: str, path: str, query: Mapping[str, str], user: UserInfo
) -> Attributes:
    """apiserver's RequestInfoFactory: the attributes of a request, read from its path alone."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] not in ("api", "apis"):
        return Attributes(user, method.lower(), path=path, resource_request=False)
    head = 2 if parts[0] == "api" else 3
    if len(parts) <= head:
        return Attributes(user, method.lower(), path=path, resource_request=False)
    group = parts[1] if parts[0] == "apis" else ""
    rest = parts[head:]
    watching = rest[0] == "watch"
    if watching:
        rest = rest[1:]
    namespace = ""
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, "")
    if method in ("GET", "HEAD"):
        verb = "get" if name else "list"
        if watching or query.get("watch", "").lower() in ("1", "true"):
            verb = "watch"
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    return Attributes(user, verb or method.lower(), namespace, group, resource, sub, name)


def _matches(values: Iterable[str], wanted: str) -> bool:
    return any(v == "*" or v == wanted for v in values)


def _resource_matches(rule: Obj, attrs: Attributes) -> bool:
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    for resource in rule.get("resources") or []:
        if resource in ("*", combined):
            return True
        if attrs.subresource and resource == f"*/{attrs.subresource}":
            return True
    return False


def rule_allows(rule: Obj, attrs: Attributes) -> bool:
    """rbac.RuleAllows: one PolicyRule against the request."""
    if not _matches(rule.get("verbs") or [], attrs.verb):
        return False
    if not attrs.resource_request:
        for url in rule.get("nonResourceURLs") or []:
            if (
                url == "*"
                or url == attrs.path
                or (url.endswith("*") and attrs.path.startswith(url[:-1]))
            ):
                return True
        return False
    if not _matches(rule.get("apiGroups") or [], attrs.api_group):
        return False
    if not _resource_matches(rule, attrs):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def _subject_matches(subject: Obj, user: UserInfo, namespace: str) -> bool:
    kind = subject.get("kind")
    name = str(subject.get("name", ""))
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or namespace
        return user.name == f"system:serviceaccount:{ns}:{name}"
    return False


class RbacAuthorizer:
    """Answers whether the stored RBAC objects allow a request, and why."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _role_rules(self, ref: Obj, namespace: str) -> list[Obj]:
        if ref.get("kind") == "ClusterRole":
            role = self.store.get(_CLUSTER_ROLES, "", str(ref.get("name", "")))
        else:
            role = self.store.get(_ROLES, namespace, str(ref.get("name", "")))
        return list((role or {}).get("rules") or [])

    def _granted(self, user: UserInfo, namespace: str) -> Iterator[tuple[str, Obj, Obj, list[Obj]]]:
        """(kind, binding, matched subject, rules) of every binding that names the user."""
        for binding in self.store.items(_CLUSTER_BINDINGS):
            for subject in binding.get("subjects") or []:
                if _subject_matches(subject, user, ""):
                    rules = self._role_rules(binding.get("roleRef") or {}, "")
                    yield "ClusterRoleBinding", binding, subject, rules
                    break
        if namespace:
            for binding in self.store.items(_BINDINGS, namespace):
                for subject in binding.get("subjects") or []:
                    if _subject_matches(subject, user, namespace):
                        rules = self._role_rules(binding.get("roleRef") or {}, namespace)
                        yield "RoleBinding", binding, subject, rules
                        break

    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason) as the RBAC authorizer's visitor reports them."""
        for kind, binding, subject, rules in self._granted(attrs.user, attrs.namespace):
            if any(rule_allows(rule, attrs) for rule in rules):
                return True, _allowed_reason(kind, binding, subject)
        return False, ""

    def rules(self, user: UserInfo, namespace: str) -> tuple[list[Obj], list[Obj]]:
        """The resource and non-resource rules that apply to ``user`` in ``namespace``."""
        resource_rules: list[Obj] = []
        non_resource: list[Obj] = []
        for _, _, _, rules in self._granted(user, namespace):
            for rule in rules:
                if rule.get("nonResourceURLs"):
                    non_resource.append(
                        {
                            "verbs": rule.get("verbs") or [],
                            "nonResourceURLs": rule["nonResourceURLs"],
                        }
                    )
                else:
                    entry = {
                        k: rule[k]
                        for k in ("verbs", "apiGroups", "resources", "resourceNames")
                        if rule.get(k)
                    }
                    resource_rules.append(entry)
        return resource_rules, non_resource


def _allowed_reason(kind: str, binding: Obj, subject: Obj) -> str:
    """rbac's authorizingVisitor: which binding of which role allowed it, to whom."""
    m, ref = peek_meta(binding), binding.get("roleRef") or {}
    named = f"{m.get('name')}/{m.get('namespace')}" if kind == "RoleBinding" else m.get("name")
    who = str(subject.get("name", ""))
    if subject.get("kind") == "ServiceAccount":
        who = f"{who}/{subject.get('namespace') or m.get('namespace', '')}"
    return (
        f'RBAC: allowed by {kind} "{named}" of {ref.get("kind")} "{ref.get("name")}" '
        f'to {subject.get("kind")} "{who}"'
    )


def forbidden_reason(attrs: Attributes) -> str:
    """What follows ``is forbidden:`` in a denial, as the RBAC authorizer words it."""
    who = f'User "{attrs.user.name}"'
    if not attrs.resource_request:
        return f'{who} cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    scope = f'in the namespace "{attrs.namespace}"' if attrs.namespace else "at the cluster scope"
    return (
        f'{who} cannot {attrs.verb} resource "{resource}" in API group "{attrs.api_group}" {scope}'
    )


@functools.cache
def _bootstrap() -> dict[str, Any]:
    text = resources.files("kubespark.emulator").joinpath("data/rbac_bootstrap.yaml").read_text()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def bootstrap_objects() -> list[tuple[str, Obj]]:
    """(plural, object) of the bootstrap ClusterRoles and ClusterRoleBindings."""
    data = _bootstrap()
    roles = [
        _bootstrap_object("ClusterRole", role["name"], {"rules": role["rules"]})
        for role in data["clusterroles"]
    ]
    bindings = [
        _bootstrap_object(
            "ClusterRoleBinding",
            binding["name"],
            {
                "roleRef": {"apiGroup": _GROUP, "kind": "ClusterRole", "name": binding["role"]},
                "subjects": [{"apiGroup": _GROUP, "kind": "Group", "name": binding["group"]}],
            },
        )
        for binding in data["clusterrolebindings"]
    ]
    return [*roles, *bindings]


def _bootstrap_object(kind: str, name: str, fields: Obj) -> tuple[str, Obj]:
    """(plural, object) of one bootstrap ``kind`` named ``name``, labelled as kube does."""
    labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
    meta = {"name": name, "labels": labels}
    plural = kind.lower() + "s"
    return plural, {"apiVersion": f"{_GROUP}/v1", "kind": kind, "metadata": meta, **fields}


def review_status(
    authorizer: RbacAuthorizer, plural: str, spec: Obj, requesting: UserInfo
) -> dict[str, Any]:
    """The status of an access or rules review, as RBAC answers it."""
    user = requesting
    if plural in ("subjectaccessreviews", "localsubjectaccessreviews"):
        user = UserInfo(str(spec.get("user", "")), tuple(spec.get("groups") or ()))
    if plural == "selfsubjectrulesreviews":
        resource_rules, non_resource = authorizer.rules(user, str(spec.get("namespace", "")))
        return {
            "resourceRules": resource_rules,
            "nonResourceRules": non_resource,
            "incomplete": False,
        }
    resource = spec.get("resourceAttributes")
    if isinstance(resource, dict):
        attrs = Attributes(
            user,
            str(resource.get("verb", "")),
            str(resource.get("namespace", "")),
            str(resource.get("group", "")),
            str(resource.get("resource", "")),
            str(resource.get("subresource", "")),
            str(resource.get("name", "")),
        )
    else:
        other = spec.get("nonResourceAttributes") or {}
        attrs = Attributes(
            user,
            str(other.get("verb", "")),
            path=str(other.get("path", "")),
            resource_request=False,
        )
    allowed, reason = authorizer.authorize(attrs)
    return {"allowed": True, "reason": reason} if allowed else {"allowed": False}
