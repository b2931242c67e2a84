"""Lossless conversions between group-versions of one kind, for servers that serve only the other.

Owns the known conversions, each as code with its source: Ingress (extensions/v1beta1,
networking.k8s.io/v1beta1 <-> networking.k8s.io/v1), PodDisruptionBudget (policy/v1beta1 <->
policy/v1), CronJob (batch/v1beta1 <-> batch/v1), CustomResourceDefinition
(apiextensions.k8s.io/v1beta1 -> v1) and the RBAC kinds and PriorityClass (v1beta1 <-> v1,
identical shapes). Which group-version a server serves is never decided here: the caller asks
the target's API surface, and this module only answers "can this object be written as that
group-version without changing its meaning, and how".

A conversion that would change an object's meaning does not happen: it returns the reason, and
the planner reports the missing API instead. Fields the target's version does not know at all are
not this module's business either: the planner prunes those (with a note) after converting.

Pure functions over plain objects; inputs are never modified.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubespark.apisurface.model import ApiSurface, Schema, SchemaKind

__all__ = [
    "CONVERSIONS",
    "Conversion",
    "Converted",
    "conversions_from",
    "converted",
    "has_path",
]

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Converted:
    """The result of one conversion: the new body and each field it rewrote, or why it cannot.

    ``changes`` are (path in the new body, what happened) pairs; ``loss`` is None when the
    conversion kept the object's meaning, else the reason it would not.
    """

    body: Obj
    changes: tuple[tuple[str, str], ...] = ()
    loss: str | None = None


Converter = Callable[[Obj, ApiSurface, str], Converted]


@dataclass(frozen=True, slots=True)
class Conversion:
    """One known conversion of ``kind`` from group-version ``source`` to ``target``."""

    kind: str
    source: str  # "extensions/v1beta1"
    target: str  # "networking.k8s.io/v1"
    convert: Converter = field(repr=False)
    reference: str  # where the mapping comes from


# --- schema probing -----------------------------------------------------------------------------


def _step(schema: Schema) -> str | None:
    """The type a property leads to, through arrays and maps."""
    while schema.kind in (SchemaKind.ARRAY, SchemaKind.MAP) and schema.items is not None:
        schema = schema.items
    return schema.ref if schema.kind is SchemaKind.OBJECT else None


def has_path(surface: ApiSurface, api_version: str, kind: str, path: str) -> bool:
    """Whether the surface's type for a served kind has a dotted field path (lists stepped)."""
    resource = surface.resource(api_version, kind)
    current: str | None = resource.type_name if resource else None
    for part in path.split("."):
        typedef = surface.types.get(current) if current else None
        if typedef is None or part not in typedef.properties:
            return False
        current = _step(typedef.properties[part])
    return True


# --- Ingress ------------------------------------------------------------------------------------

_INGRESS_SOURCE = (
    "Kubernetes Deprecated API Migration Guide, Ingress (networking.k8s.io/v1 available since "
    "1.19): spec.backend -> spec.defaultBackend, serviceName -> service.name, numeric "
    "servicePort -> service.port.number, string servicePort -> service.port.name, pathType "
    "required ('to match the undefined v1beta1 behavior, use ImplementationSpecific'); "
    "kubernetes pkg/apis/networking/v1beta1/conversion.go (IngressBackend conversions) and "
    "defaults.go (SetDefaults_HTTPIngressPath: pathType ImplementationSpecific)"
)
_IMPLEMENTATION_SPECIFIC = "ImplementationSpecific"
_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


def _backend_to_v1(backend: Any) -> Any:
    if not isinstance(backend, dict):
        return backend
    out = {k: v for k, v in backend.items() if k not in ("serviceName", "servicePort")}
    if "serviceName" in backend or "servicePort" in backend:
        service: Obj = {"name": backend.get("serviceName", "")}
        port = backend.get("servicePort")
        if isinstance(port, bool) or port is None:
            pass
        elif isinstance(port, int):
            service["port"] = {"number": port}
        else:
            service["port"] = {"name": str(port)}
        out["service"] = service
    return out


def _backend_to_v1beta1(backend: Any) -> Any:
    if not isinstance(backend, dict):
        return backend
    out = {k: v for k, v in backend.items() if k != "service"}
    service = backend.get("service")
    if isinstance(service, dict):
        out["serviceName"] = service.get("name", "")
        port = service.get("port")
        if isinstance(port, dict):
            if "number" in port:
                out["servicePort"] = port["number"]
            elif "name" in port:
                out["servicePort"] = port["name"]
    return out


def _paths(spec: Obj) -> list[tuple[int, int, Obj]]:
    out = []
    for i, rule in enumerate(spec.get("rules") or []):
        http = rule.get("http") if isinstance(rule, dict) else None
        paths = http.get("paths") if isinstance(http, dict) else None
        for j, p in enumerate(paths or []):
            if isinstance(p, dict):
                out.append((i, j, p))
    return out


def _retargeted(obj: Obj, api_version: str) -> tuple[Obj, dict[str, Any] | None]:
    """A copy of ``obj`` under ``api_version``, and its spec when it has one to convert."""
    body = copy.deepcopy(obj)
    body["apiVersion"] = api_version
    spec = body.get("spec")
    return body, spec if isinstance(spec, dict) else None


def _ingress_to_v1(obj: Obj, target: ApiSurface, api_version: str) -> Converted:
    body, spec = _retargeted(obj, api_version)
    changes: list[tuple[str, str]] = []
    if spec is None:
        return Converted(body)
    if "backend" in spec:
        spec["defaultBackend"] = _backend_to_v1(spec.pop("backend"))
        changes.append((".spec.defaultBackend", "spec.backend is spec.defaultBackend in v1"))
    for i, j, path in _paths(spec):
        where = f".spec.rules[{i}].http.paths[{j}]"
        if "backend" in path:
            before = path["backend"]
            path["backend"] = _backend_to_v1(before)
            if path["backend"] != before:
                changes.append((f"{where}.backend", "serviceName/servicePort -> service.name/port"))
        if not path.get("pathType"):
            path["pathType"] = _IMPLEMENTATION_SPECIFIC
            changes.append(
                (f"{where}.pathType", "set to ImplementationSpecific, what v1beta1 defaults to")
            )
    return Converted(body, tuple(changes))


def _ingress_to_v1beta1(obj: Obj, target: ApiSurface, api_version: str) -> Converted:
    body, spec = _retargeted(obj, api_version)
    changes: list[tuple[str, str]] = []
    if spec is None:
        return Converted(body)

    def knows(path: str) -> bool:
        return has_path(target, api_version, "Ingress", path)

    if "defaultBackend" in spec:
        spec["backend"] = _backend_to_v1beta1(spec.pop("defaultBackend"))
        changes.append((".spec.backend", "spec.defaultBackend is spec.backend in v1beta1"))
    backends = [("spec.defaultBackend", spec.get("backend"))]
    for i, j, path in _paths(spec):
        where = f".spec.rules[{i}].http.paths[{j}]"
        backends.append((f"{where[1:]}.backend", path.get("backend")))
        if "backend" in path:
            path["backend"] = _backend_to_v1beta1(path["backend"])
            changes.append((f"{where}.backend", "service.name/port -> serviceName/servicePort"))
        kind = path.get("pathType")
        if kind and not knows("spec.rules.http.paths.pathType"):
            if kind != _IMPLEMENTATION_SPECIFIC:
                return Converted(body, loss=f"{where[1:]}.pathType {kind} has no equivalent")
            del path["pathType"]
            changes.append((f"{where}.pathType", "ImplementationSpecific is the only behaviour"))
    for where, backend in backends:
        if (
            isinstance(backend, dict)
            and "resource" in backend
            and not knows("spec.backend.resource")
        ):
            return Converted(body, loss=f"{where}.resource (a resource backend) has no equivalent")
    name = spec.get("ingressClassName")
    if name and not knows("spec.ingressClassName"):
        meta = body.setdefault("metadata", {})
        annotations = meta.setdefault("annotations", {})
        if annotations.get(_CLASS_ANNOTATION, name) != name:
            return Converted(body, loss=f"spec.ingressClassName {name} and annotation differ")
        annotations[_CLASS_ANNOTATION] = name
        del spec["ingressClassName"]
        changes.append(
            (
                f".metadata.annotations[{_CLASS_ANNOTATION}]",
                "spec.ingressClassName written as the kubernetes.io/ingress.class annotation, "
                "how Ingress classes were named before 1.18",
            )
        )
    return Converted(body, tuple(changes))


def _ingress_same_shape(obj: Obj, target: ApiSurface, api_version: str) -> Converted:
    return _same_shape(obj, target, api_version)


# --- PodDisruptionBudget ------------------------------------------------------------------------

_PDB_SOURCE = (
    "Kubernetes Deprecated API Migration Guide, PodDisruptionBudget (policy/v1 available since "
    "1.21): 'an empty spec.selector ({}) written to a policy/v1 PodDisruptionBudget selects all "
    "pods in the namespace (in policy/v1beta1 an empty spec.selector selected no pods). An unset "
    "spec.selector selects no pods in either API version.' The API server converts between them "
    "with sentinel selectors (kubernetes pkg/apis/policy/helper.go: PDBV1beta1Label, "
    "V1beta1MatchAllSelector, NonV1beta1MatchNoneSelector; pkg/apis/policy/v1/conversion.go), "
    "which mean the same on every version; this conversion writes those"
)
_PDB_LABEL = "pdb.kubernetes.io/deprecated-v1beta1-empty-selector-match"


def _sentinel(operator: str) -> Obj:
    return {"matchExpressions": [{"key": _PDB_LABEL, "operator": operator}]}


def _empty_selector(selector: Any) -> bool:
    return isinstance(selector, dict) and not any(
        selector.get(k) for k in ("matchLabels", "matchExpressions")
    )


def _is_sentinel(selector: Any, operator: str) -> bool:
    if not isinstance(selector, dict) or selector.get("matchLabels"):
        return False
    return selector.get("matchExpressions") == [{"key": _PDB_LABEL, "operator": operator}]


def _pdb(obj: Obj, api_version: str, empty_to: str, from_sentinel: str, meaning: str) -> Converted:
    body = copy.deepcopy(obj)
    body["apiVersion"] = api_version
    spec = body.get("spec")
    if not isinstance(spec, dict) or "selector" not in spec:
        return Converted(body)
    selector = spec["selector"]
    if _empty_selector(selector):
        spec["selector"] = _sentinel(empty_to)
        return Converted(
            body,
            (
                (
                    ".spec.selector",
                    f"the empty selector ({meaning}) written as {_PDB_LABEL} "
                    f"{empty_to}, which means the same in {api_version}",
                ),
            ),
        )
    if _is_sentinel(selector, from_sentinel):
        spec["selector"] = {}
        return Converted(
            body, ((".spec.selector", f"the {from_sentinel} sentinel selector is {{}} there"),)
        )
    return Converted(body)


def _pdb_to_v1(obj: Obj, target: ApiSurface, api_version: str) -> Converted:
    # v1beta1 {} selects no pods; v1 {} selects all: keep "none" with the Exists sentinel.
    return _pdb(obj, api_version, "Exists", "DoesNotExist", "no pods in policy/v1beta1")


def _pdb_to_v1beta1(obj: Obj, target: ApiSurface, api_version: str) -> Converted:
    # v1 {} selects all pods; v1beta1 {} selects none: keep "all" with the DoesNotExist sentinel.
    return _pdb(obj, api_version, "DoesNotExist", "Exists", "all pods in policy/v1")


# --- same shape ---------------------------------------------------------------------------------

_CRONJOB_SOURCE = (
    "Kubernetes Deprecated API Migration Guide, CronJob: 'Migrate manifests and API clients to "
    "use the batch/v1 API version, available since v1.21 ... No notable changes'"
)
_RBAC_SOURCE = (
    "Kubernetes Deprecated API Migration Guide, RBAC resources (v1.22): 'Migrate ... to use the "
    "rbac.authorization.k8s.io/v1 API version, available since v1.8 ... No notable changes'"
)
_PRIORITY_SOURCE = (
    "Kubernetes Deprecated API Migration Guide, PriorityClass (v1.22): 'Migrate ... to use the "
    "scheduling.k8s.io/v1 API version, available since v1.14 ... No notable changes'"
)


def _same_shape(obj: Obj, target: ApiSurface, api_version: str) -> Converted:
    body = copy.deepcopy(obj)
    body["apiVersion"] = api_version
    return Converted(body)


# --- CustomResourceDefinition -------------------------------------------------------------------

_CRD_SOURCE = (
    "Kubernetes Deprecated API Migration Guide, CustomResourceDefinition (apiextensions.k8s.io/v1 "
    "available since 1.16): spec.version, spec.validation, spec.subresources and "
    "spec.additionalPrinterColumns move to spec.versions[*]; additionalPrinterColumns JSONPath "
    "is jsonPath; spec.conversion.webhookClientConfig and conversionReviewVersions move under "
    "spec.conversion.webhook; a structural spec.versions[*].schema.openAPIV3Schema is required; "
    "spec.preserveUnknownFields: true is disallowed (use x-kubernetes-preserve-unknown-fields). "
    "Defaults of v1beta1 (scope Namespaced, conversionReviewVersions [v1beta1], "
    "preserveUnknownFields true): apiextensions-apiserver pkg/apis/apiextensions/v1beta1/"
    "defaults.go; the move to versions: pkg/apis/apiextensions/v1/conversion.go"
)
_STRUCTURAL_MARKERS = ("type", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields")
_COMBINATORS = ("allOf", "anyOf", "oneOf", "not")


def _columns_to_v1(columns: Any) -> Any:
    if not isinstance(columns, list):
        return columns
    out = []
    for c in columns:
        if isinstance(c, dict) and "JSONPath" in c:
            c = {("jsonPath" if k == "JSONPath" else k): v for k, v in c.items()}
        out.append(c)
    return out


def _not_structural(schema: Any, where: str) -> str | None:
    """The first schema node a v1 CRD would reject as non-structural (a missing type)."""
    if not isinstance(schema, dict):
        return None
    if not any(m in schema for m in _STRUCTURAL_MARKERS):
        return where or "the root"
    for name, sub in (schema.get("properties") or {}).items():
        found = _not_structural(sub, f"{where}.properties.{name}")
        if found:
            return found
    for key in ("items", "additionalProperties"):
        sub = schema.get(key)
        if isinstance(sub, dict):
            found = _not_structural(sub, f"{where}.{key}")
            if found:
                return found
    return None


def _preserve_everywhere(schema: Any) -> Any:
    """The schema with unknown fields kept at every object node (v1beta1 without pruning)."""
    if not isinstance(schema, dict):
        return schema
    out = {k: v for k, v in schema.items() if k not in _COMBINATORS}
    for k in _COMBINATORS:  # value validations only; structural rules forbid changing them
        if k in schema:
            out[k] = schema[k]
    if "properties" in out:
        out["properties"] = {n: _preserve_everywhere(s) for n, s in out["properties"].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(out.get(key), dict):
            out[key] = _preserve_everywhere(out[key])
    if out.get("type") == "object" or "properties" in out:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


def _crd_to_v1(obj: Obj, target: ApiSurface, api_version: str) -> Converted:
    body = copy.deepcopy(obj)
    body["apiVersion"] = api_version
    spec = body.get("spec")
    if not isinstance(spec, dict):
        return Converted(body)
    changes: list[tuple[str, str]] = []
    versions = spec.get("versions")
    name = spec.pop("version", None)
    if not versions:
        if not name:
            return Converted(body, loss="spec has neither version nor versions")
        versions = spec["versions"] = [{"name": name, "served": True, "storage": True}]
        changes.append((".spec.versions", f"spec.version {name} is spec.versions[0] in v1"))
    elif name:
        changes.append((".spec.version", "dropped: v1 names versions in spec.versions only"))
    if not spec.get("scope"):
        spec["scope"] = "Namespaced"
        changes.append((".spec.scope", "set to Namespaced, the v1beta1 default v1 lacks"))
    preserve = spec.pop("preserveUnknownFields", True) is not False
    validation = spec.pop("validation", None)
    shared = {
        "schema": validation,
        "subresources": spec.pop("subresources", None),
        "additionalPrinterColumns": _columns_to_v1(spec.pop("additionalPrinterColumns", None)),
    }
    for i, version in enumerate(versions):
        if not isinstance(version, dict):
            continue
        for key, value in shared.items():
            if value is not None and key not in version:
                version[key] = copy.deepcopy(value)
                changes.append((f".spec.versions[{i}].{key}", f"spec.{_v1beta1_name(key)} moved"))
        if "additionalPrinterColumns" in version:
            version["additionalPrinterColumns"] = _columns_to_v1(
                version["additionalPrinterColumns"]
            )
        loss = _version_schema_to_v1(version, i, preserve, changes)
        if loss:
            return Converted(body, tuple(changes), loss)
    _conversion_to_v1(spec, changes)
    return Converted(body, tuple(changes))


def _v1beta1_name(key: str) -> str:
    return "validation" if key == "schema" else key


def _version_schema_to_v1(
    version: Obj, index: int, preserve: bool, changes: list[tuple[str, str]]
) -> str | None:
    where = f".spec.versions[{index}].schema.openAPIV3Schema"
    schema = (version.get("schema") or {}).get("openAPIV3Schema")
    if schema is None:
        version["schema"] = {
            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        }
        changes.append((where, "v1 requires a schema: one that accepts anything, as before"))
        return None
    bad = _not_structural(schema, "")
    if bad:
        node = where[1:] + (bad if bad != "the root" else "")
        return f"{node} has no type (v1 needs a structural schema)"
    if preserve:
        version["schema"]["openAPIV3Schema"] = _preserve_everywhere(schema)
        changes.append(
            (
                where,
                "x-kubernetes-preserve-unknown-fields on every object: v1beta1 kept unknown "
                "fields (preserveUnknownFields defaults to true), v1 would prune them",
            )
        )
    return None


def _conversion_to_v1(spec: Obj, changes: list[tuple[str, str]]) -> None:
    conversion = spec.get("conversion")
    if not isinstance(conversion, dict):
        return
    config = conversion.pop("webhookClientConfig", None)
    review = conversion.pop("conversionReviewVersions", None)
    if conversion.get("strategy") == "Webhook" or config is not None or review is not None:
        webhook = conversion.setdefault("webhook", {})
        if config is not None:
            webhook["clientConfig"] = config
        webhook["conversionReviewVersions"] = review or ["v1beta1"]
        changes.append(
            (".spec.conversion.webhook", "webhookClientConfig/conversionReviewVersions moved")
        )


# --- the registry -------------------------------------------------------------------------------

_INGRESS_V1 = "networking.k8s.io/v1"
_INGRESS_NET_BETA = "networking.k8s.io/v1beta1"
_INGRESS_EXT_BETA = "extensions/v1beta1"
_RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")


def _pairs(
    kind: str, a: str, b: str, a_to_b: Converter, b_to_a: Converter, ref: str
) -> list[Conversion]:
    return [Conversion(kind, a, b, a_to_b, ref), Conversion(kind, b, a, b_to_a, ref)]


def _registry() -> tuple[Conversion, ...]:
    out: list[Conversion] = []
    # Listed in order of preference for a target: GA before beta.
    for beta in (_INGRESS_NET_BETA, _INGRESS_EXT_BETA):
        out += _pairs(
            "Ingress", beta, _INGRESS_V1, _ingress_to_v1, _ingress_to_v1beta1, _INGRESS_SOURCE
        )
    out += _pairs(
        "Ingress",
        _INGRESS_EXT_BETA,
        _INGRESS_NET_BETA,
        _ingress_same_shape,
        _ingress_same_shape,
        _INGRESS_SOURCE,
    )
    out += _pairs(
        "PodDisruptionBudget",
        "policy/v1beta1",
        "policy/v1",
        _pdb_to_v1,
        _pdb_to_v1beta1,
        _PDB_SOURCE,
    )
    out += _pairs("CronJob", "batch/v1beta1", "batch/v1", _same_shape, _same_shape, _CRONJOB_SOURCE)
    out.append(
        Conversion(
            "CustomResourceDefinition",
            "apiextensions.k8s.io/v1beta1",
            "apiextensions.k8s.io/v1",
            _crd_to_v1,
            _CRD_SOURCE,
        )
    )
    for kind in _RBAC_KINDS:
        out += _pairs(
            kind,
            "rbac.authorization.k8s.io/v1beta1",
            "rbac.authorization.k8s.io/v1",
            _same_shape,
            _same_shape,
            _RBAC_SOURCE,
        )
    out += _pairs(
        "PriorityClass",
        "scheduling.k8s.io/v1beta1",
        "scheduling.k8s.io/v1",
        _same_shape,
        _same_shape,
        _PRIORITY_SOURCE,
    )
    return tuple(out)


CONVERSIONS: tuple[Conversion, ...] = _registry()


def conversions_from(api_version: str, kind: str) -> list[Conversion]:
    """Known conversions of a kind away from a group-version, GA targets first."""
    found = [c for c in CONVERSIONS if c.kind == kind and c.source == api_version]
    return sorted(found, key=lambda c: _stability(c.target))


def _stability(api_version: str) -> int:
    version = api_version.rpartition("/")[2]
    return 2 if "alpha" in version else 1 if "beta" in version else 0


def converted(conversion: Conversion, obj: Mapping[str, Any], target: ApiSurface) -> Converted:
    """Run a conversion on a copy of ``obj`` for the ``target`` surface."""
    return conversion.convert(dict(obj), target, conversion.target)
