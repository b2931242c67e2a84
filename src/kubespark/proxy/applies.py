"""What to do with one server-side apply: forward it, rewrite it, or refuse it.

Owns the decision for a ``PATCH`` with ``application/apply-patch+yaml``, made from the request
alone and the upstream's :class:`ApiSurface`, with the compat planner's ``plan_writes``:

- **forward** unchanged when the server takes the apply as it is, and whenever the proxy cannot
  judge better than the server (the body is not an object, the path and body disagree, a
  subresource, no ``fieldManager``, an apiVersion the server does not serve): the server's own
  answer is the right one;
- **rewrite** when the planner changes the write for this server: an apply whose only problem
  is a list-map key without an apply default is sent as an apply with the key filled. An apply
  with fields the server's schema lacks is, by default (:class:`RewriteAs`), applied without
  them (the planner lowers the pruned object again, filling what this version needs), so the
  server's own apply decides ownership and conflicts and the object is owned as apply would have
  left it; or, as the planner plans it, created by ``POST`` without them, with a JSON merge patch
  when the object exists;
- **refuse** with a 422 Status when the rewrite would drop a value the client set that the
  server would not behave as (``kubespark.proxy.loss``).

Pure: no I/O. Execution is ``kubespark.proxy.rewrite``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import yaml

from kubespark import bounded
from kubespark.apisurface import ApiSurface, Resource
from kubespark.compat import (
    Intent,
    Lowered,
    Note,
    NoteCode,
    PlanError,
    PlannedWrite,
    WriteMethod,
    lower_object,
    plan_writes,
)
from kubespark.errors import InputError
from kubespark.kube.requests import APPLY_PATCH, KubeRequest, ResourcePath
from kubespark.kube.status import Status, StatusCause, StatusDetails
from kubespark.patch import apply_typing_errors
from kubespark.proxy.loss import Loss, dropped_fields, losses, show
from kubespark.proxy.messages import ClientRequest
from kubespark.versions import Version

__all__ = [
    "ApplyTarget",
    "Decision",
    "Forward",
    "Refuse",
    "Rewrite",
    "RewriteAs",
    "apply_target",
    "decide_apply",
    "is_apply",
]

# Query parameters of the client's apply that mean the same on the rewritten writes.
_CARRIED = ("dryRun", "fieldValidation", "pretty")
# Notes of changes the proxy does not make on a client's behalf: the client asked for this
# apiVersion at this path, and answering with another one would not be "as the apply would have".
_NOT_REWRITTEN = frozenset(
    {NoteCode.MAPPED_API_VERSION, NoteCode.CONVERTED_FIELD, NoteCode.CUSTOM_RESOURCE}
)
_TRUE = frozenset({"1", "t", "true"})  # strconv.ParseBool's true spellings, as query decoding


@dataclass(frozen=True, slots=True)
class ApplyTarget:
    """The object a REST path names."""

    group: str
    version: str
    plural: str
    name: str
    namespace: str | None = None
    subresource: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True)
class Forward:
    """Send the request unchanged; ``reason`` is for the log."""

    reason: str


@dataclass(frozen=True, slots=True)
class Refuse:
    """Answer with ``status`` and send nothing upstream."""

    status: Status
    losses: tuple[Loss, ...] = ()


class RewriteAs(Enum):
    """What a rejected apply becomes."""

    # A server-side apply of the object without what the server cannot type: the server itself
    # then gives apply's semantics (the field manager owns what it applied, conflicts, force,
    # list-map merges, fields it stopped applying removed), and later applies of the same
    # manager behave as on a newer server. The default.
    APPLY = "apply"
    # The planner's plan: POST, and a JSON merge patch when the object exists. The fields are
    # then owned by an Update of the manager, so a later apply without force conflicts with it.
    CREATE = "create"


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Send ``apply`` if set, else ``write`` (the planner's; the client's dry run kept)."""

    write: PlannedWrite
    server: Version
    apply: KubeRequest | None = None
    apply_notes: tuple[Note, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """Every note of the planner, for the log."""
        every = (*self.write.notes, *self.apply_notes)
        return tuple(f"kubespark proxy: {n.message}" for n in every)

    def warnings(self, outcome: str) -> tuple[str, ...]:
        """What the client is told: why apply was not sent as it was, and what was done.

        ``outcome``: ``applied`` (``apply`` was sent), ``kept`` (the planner kept the apply,
        its body completed), ``created`` (the planner's POST) or ``merged`` (its merge patch).
        """
        notes = self.write.notes
        why = [
            n for n in notes if n.code in (NoteCode.APPLY_WOULD_FAIL, NoteCode.APPLY_UNAVAILABLE)
        ]
        filled = self.apply_notes if outcome == "applied" else notes
        out = [n.message for n in why]
        kind = self.write.object.kind
        head = f"server {self.server}: "
        without = self._without()
        if outcome == "applied":
            out.append(f"{head}applied the {kind}{without}, which this server can type")
        elif outcome == "created":
            out.append(f"{head}created the {kind} with POST instead of apply{without}")
        elif outcome == "merged":
            out.append(f"{head}the {kind} exists: updated it by JSON merge patch{without}")
        out.extend(n.message for n in filled if n.code is NoteCode.FILLED_LIST_MAP_KEY)
        return tuple(f"kubespark proxy: {text}" for text in out)

    def _without(self) -> str:
        pruned = [n for n in self.write.notes if n.code is NoteCode.PRUNED_FIELD]
        fields = ", ".join(
            n.path.lstrip(".") + (f" (added in {n.added_in})" if n.added_in else "") for n in pruned
        )
        return f" without {fields}" if fields else ""


Decision = Forward | Refuse | Rewrite


def is_apply(request: ClientRequest) -> bool:
    return request.method == "PATCH" and request.media_type == APPLY_PATCH


def apply_target(path: str) -> ApplyTarget | None:
    """The object a path names, as the API server's request-info parser reads it."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    # /namespaces/NAME/status and /finalize are the Namespace's own subresources.
    if len(rest) > 2 and rest[0] == "namespaces" and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    if len(rest) < 2:
        return None
    return ApplyTarget(group, version, rest[0], rest[1], namespace, "/".join(rest[2:]))


@dataclass(frozen=True, slots=True)
class _Apply:
    """A server-side apply the proxy can judge: its object, where it goes, and its options."""

    target: ApplyTarget
    resource: Resource
    obj: dict[str, Any]
    manager: str
    force: bool
    carried: tuple[tuple[str, str], ...]  # the client's options that the rewrite keeps

    @property
    def namespace(self) -> str:
        return self.target.namespace or "default"


def decide_apply(
    surface: ApiSurface, request: ClientRequest, rewrite_as: RewriteAs = RewriteAs.APPLY
) -> Decision:
    """Forward, rewrite or refuse one server-side apply for a server of ``surface``."""
    apply = _judgeable(surface, request)
    if isinstance(apply, Forward):
        return apply
    try:
        plan = plan_writes(
            [apply.obj],
            surface,
            Intent.APPLY,
            namespace=apply.namespace,
            field_manager=apply.manager,
            force=apply.force,
        )
    except PlanError as err:
        return Forward(f"the planner cannot write it: {err.message}")
    write = plan.writes[0]
    if write.body == apply.obj and write.request.content_type == APPLY_PATCH:
        return Forward("the server takes the apply as it is")
    if any(n.code in _NOT_REWRITTEN for n in write.notes):
        return Forward("it needs another apiVersion, which the client did not ask for")
    found = losses(apply.obj, _dropped(surface, apply.obj, write))
    if found:
        return Refuse(_refusal(surface, apply.target, apply.resource, found), tuple(found))
    write = _with_query(write, apply.carried)
    if rewrite_as is RewriteAs.CREATE or write.method is not WriteMethod.CREATE:
        return Rewrite(write, plan.server)
    return _as_apply(surface, apply, write, plan.server)


def _judgeable(surface: ApiSurface, request: ClientRequest) -> _Apply | Forward:
    """The apply, or why the server should judge it rather than the proxy."""
    target = apply_target(request.path)
    if target is None or target.subresource:
        return Forward("not an object's own path (a subresource or a collection)")
    resource = surface.resource_for_plural(target.group, target.version, target.plural)
    if resource is None:
        return Forward(f"{target.api_version} {target.plural} is not served")
    if target.namespace is not None and not resource.namespaced:
        return Forward("a namespace in the path of a cluster-scoped resource")
    obj = _decode(request.body)
    if obj is None:
        return Forward("the body is not a YAML or JSON object")
    mismatch = _mismatch(obj, target, resource)
    if mismatch:
        return Forward(mismatch)
    query = request.query
    manager = next((v for k, v in query if k == "fieldManager"), "")
    if not manager:
        return Forward("no fieldManager")
    force = any(k == "force" and v.lower() in _TRUE for k, v in query)
    carried = tuple((k, v) for k, v in query if k in _CARRIED)
    return _Apply(target, resource, obj, manager, force, carried)


def _as_apply(surface: ApiSurface, apply: _Apply, write: PlannedWrite, server: Version) -> Rewrite:
    """The apply of the planner's pruned body, when this server can type it; else its POST."""
    # Lowered again for apply, the body gets the list-map keys this version needs filled, or
    # the planner says it cannot.
    lowered = lower_object(surface, write.body, Intent.APPLY, namespace=apply.namespace)
    if not isinstance(lowered, Lowered) or lowered.method is not WriteMethod.APPLY:
        return Rewrite(write, server)
    # The patch engine's full typed conversion has the last word: an apply it predicts to fail
    # would answer the client a 500 the proxy exists to avoid; the planner's POST is sent then.
    if apply_typing_errors(surface, lowered.body, type_name=apply.resource.type_name):
        return Rewrite(write, server)
    force = (("force", "true"),) if apply.force else ()
    params = (("fieldManager", apply.manager), *force, *apply.carried)
    path = ResourcePath(apply.resource).item(apply.target.name, apply.target.namespace)
    request = KubeRequest("PATCH", path, params, APPLY_PATCH, lowered.body)
    return Rewrite(write, server, request, lowered.notes)


def _decode(body: bytes) -> dict[str, Any] | None:
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        text = bounded.decode(body, "body")
        bounded.check_yaml(text, "body")  # a hostile body is forwarded as is, never expanded
        obj = yaml.load(text, Loader=loader)
    except (yaml.YAMLError, ValueError, InputError):
        return None
    return obj if isinstance(obj, dict) and all(isinstance(k, str) for k in obj) else None


def _mismatch(obj: Mapping[str, Any], target: ApplyTarget, resource: Resource) -> str:
    if obj.get("apiVersion") != target.api_version or obj.get("kind") != resource.gvk.kind:
        return "the body's apiVersion and kind are not the path's"
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or meta.get("name") != target.name:
        return "the body's metadata.name is not the path's"
    namespace = meta.get("namespace")
    if namespace not in (None, "", target.namespace):
        return "the body's metadata.namespace is not the path's"
    return ""


def _dropped(surface: ApiSurface, obj: dict[str, Any], write: PlannedWrite) -> list[Any]:
    added = {n.path: n.added_in for n in write.notes if n.code is NoteCode.PRUNED_FIELD}
    return dropped_fields(surface, obj, write.body, added)


def _with_query(write: PlannedWrite, extra: tuple[tuple[str, str], ...]) -> PlannedWrite:
    if not extra:
        return write

    def more(request: KubeRequest | None) -> KubeRequest | None:
        return None if request is None else replace(request, query=(*request.query, *extra))

    on_conflict = replace(
        write.on_conflict, get=more(write.on_conflict.get), then=more(write.on_conflict.then)
    )
    request = more(write.request)
    assert request is not None
    return replace(write, request=request, on_conflict=on_conflict)


def _refusal(
    surface: ApiSurface, target: ApplyTarget, resource: Resource, found: list[Loss]
) -> Status:
    """The 422 a client gets; kubectl shows each cause as ``FIELD: MESSAGE``: each stands alone."""
    server = surface.server_version or surface.version
    where = f"{target.namespace}/{target.name}" if target.namespace else target.name
    fields = "; ".join(f"{x.dropped.path.lstrip('.')}: {_cause(x, server)}" for x in found)
    message = (
        f"kubespark proxy: Kubernetes {server} cannot take this server-side apply of "
        f"{resource.gvk.kind} {where}, and writing it without the fields {server} lacks would "
        f"drop values you set: {fields}"
    )
    causes = [
        StatusCause(
            reason="FieldValueNotSupported",
            message=_cause(loss, server),
            field=loss.dropped.path.lstrip("."),
        )
        for loss in found
    ]
    details = StatusDetails(
        name=target.name, group=target.group, kind=resource.gvk.kind, causes=causes
    )
    return Status.failure(422, message, reason="Invalid", details=details)


def _cause(loss: Loss, server: Version) -> str:
    item = loss.dropped
    added = f" (added in {item.added_in})" if item.added_in else ""
    fixes = ["remove the field"]
    if loss.instead:
        fixes.append("set it to " + " or ".join(show(v) for v in loss.instead))
    if item.added_in:
        fixes.append(f"upgrade the cluster to Kubernetes {item.added_in} or newer")
    how = ", ".join(fixes[:-1]) + f", or {fixes[-1]}" if len(fixes) > 1 else fixes[0]
    return (
        f"kubespark proxy will not drop {show(item.value)}: Kubernetes {server} lacks this "
        f"field{added} and {loss.behaves}; {how}"
    )
