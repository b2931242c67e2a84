"""The CustomResourceDefinitions kubespark installs, derived from its own models.

Owns building the ``apiextensions.k8s.io/v1`` CRDs of SparkApplication and
ScheduledSparkApplication (``sparkoperator.k8s.io/v1beta2``) and SparkConnect (``v1alpha1``), with
kubeflow's group, names, short names and printer columns, so existing manifests and dashboards keep
working, and the kopf peering CRDs leader election needs. Each schema is structural: the spec comes
from the model's records in ``kubespark.spark`` (types, enums, bounds, required fields), and every
Kubernetes sub-object the model keeps as a mapping (volumes, affinity, tolerations, containers,
env...) is typed from the API surface's ``core/v1`` definitions of the newest Kubernetes minor
kubespark knows: a superset, so the server never prunes a field a user set for a newer cluster (the
compat planner drops those per server when it writes the pods). Pod templates stay schemaless
(``x-kubernetes-preserve-unknown-fields``), as kubeflow's do, to keep the CRD well under the size
limits of ``kubectl apply``.

``render_crds`` builds them; the YAML shipped under ``operator/data/crds`` and in ``deploy/`` is
its output, and a test fails when they drift. Those files fit every version; kubeflow's webhook
refusals as CEL rules (``x-kubernetes-validations``, from ``spark/data/webhook_rules.yaml``) are
added by :func:`with_validation_rules` for the servers that evaluate them. Pure; no I/O besides
reading the bundled surface.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from importlib.resources import files
from typing import Any, Literal

import yaml

from kubespark.apisurface import ApiSurface, Schema, SchemaKind, load_surface, newest_version
from kubespark.records import Ge, Le, MaxLen, MinLen, Pattern, record_fields
from kubespark.spark.connect import SparkConnect
from kubespark.spark.model import ScheduledSparkApplication, SparkApplication
from kubespark.spark.rules import list_bounds, spec_root, webhook_rules

__all__ = [
    "CONNECT_VERSION",
    "GROUP",
    "VERSION",
    "crd_documents",
    "peering_crds",
    "render_crds",
    "scheduled_crd",
    "spark_application_crd",
    "spark_connect_crd",
    "with_validation_rules",
]

GROUP = "sparkoperator.k8s.io"
VERSION = "v1beta2"
CONNECT_VERSION = "v1alpha1"
Obj = dict[str, Any]


@functools.cache
def _kubeflow_facts() -> Any:
    return yaml.safe_load((files("kubespark.operator") / "data" / "kubeflow_crds.yaml").read_text())


def _sub_object(name: str) -> tuple[str, bool] | None:
    """The Kubernetes type a plain-mapping field holds, and whether it is a list of it."""
    typ: str | None = _kubeflow_facts()["subObjects"].get(name)
    return None if typ is None else (typ.removesuffix("[]"), typ.endswith("[]"))


# Too large to inline and free-form in kubeflow's CRD too: the user's pod templates.
_SCHEMALESS = {"template"}
_PRESERVE = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


@functools.cache
def _surface() -> ApiSurface:
    return load_surface(newest_version())


# ---- core/v1 types from the API surface ---------------------------------------------------------


def _from_surface(surface: ApiSurface, schema: Schema, seen: tuple[str, ...]) -> Obj:
    kind = schema.kind
    if kind is SchemaKind.OBJECT:
        return _type_schema(surface, schema.ref or "", seen)
    if kind is SchemaKind.ARRAY:
        items = _from_surface(surface, schema.items, seen) if schema.items else dict(_PRESERVE)
        return {"type": "array", "items": items}
    if kind is SchemaKind.MAP:
        values = _from_surface(surface, schema.items, seen) if schema.items else dict(_PRESERVE)
        return {"type": "object", "additionalProperties": values}
    if kind in (SchemaKind.INT_OR_STRING, SchemaKind.QUANTITY):
        return {"x-kubernetes-int-or-string": True}
    if kind is SchemaKind.TIME:
        return {"type": "string", "format": "date-time"}
    if kind is SchemaKind.ANY:
        return dict(_PRESERVE)
    out: Obj = {"type": kind.value}
    if kind is SchemaKind.INTEGER and schema.format in ("int32", "int64"):
        out["format"] = schema.format
    return out


def _type_schema(surface: ApiSurface, name: str, seen: tuple[str, ...] = ()) -> Obj:
    typedef = surface.types.get(name)
    if typedef is None or name in seen:  # unknown or recursive: keep whatever the user wrote
        return dict(_PRESERVE)
    props = {
        p: _from_surface(surface, s, (*seen, name)) for p, s in sorted(typedef.properties.items())
    }
    out: Obj = {"type": "object", "properties": props}
    required = sorted(r for r in typedef.required if r in props)
    if required:
        out["required"] = required
    if typedef.preserve_unknown_fields:
        out["x-kubernetes-preserve-unknown-fields"] = True
    return out


# ---- the model's records, as structural schemas ------------------------------------------------


def _structural(hint: Any, rules: tuple[Any, ...] = (), name: str = "") -> Obj:
    """A field of the model (its type and :mod:`kubespark.records` rules) as a CRD's structural
    schema: records as objects of their JSON names, plain mappings (``KubeObject``) typed from the
    API surface where kubeflow's CRD types them, choices as enums, bounds and patterns kept."""
    hint, rules = _annotated(hint, rules)
    members = _members(hint)
    if len(members) > 1:
        if set(members) == {int, str}:
            return {"x-kubernetes-int-or-string": True}
        return dict(_PRESERVE)
    hint = members[0]
    if name in _SCHEMALESS and _is_free_form(hint):
        return dict(_PRESERVE)
    sub_object = _sub_object(name)
    if sub_object is not None and _is_free_form(hint):
        type_name, is_list = sub_object
        typed = _type_schema(_surface(), type_name)
        return {"type": "array", "items": typed} if is_list else typed
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _record_schema(typing.cast(type[Any], hint))
    if origin is list:
        item_name = name if sub_object is not None else ""
        return {"type": "array", "items": _structural(typing.get_args(hint)[0], (), item_name)}
    if origin is dict:
        values = typing.get_args(hint)[1]
        return dict(_PRESERVE) if values is Any else _map_schema(values)
    return _scalar(hint, rules)


def _annotated(hint: Any, rules: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    if typing.get_origin(hint) is typing.Annotated:
        inner, *more = typing.get_args(hint)
        return inner, (*rules, *more)
    return hint, rules


def _members(hint: Any) -> list[Any]:
    """The types of a union but ``None`` (``X | None`` is an optional ``X``)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [m for m in typing.get_args(hint) if m is not type(None)]
    return [hint]


def _is_free_form(hint: Any) -> bool:
    """The model's ``KubeObject`` (or a list of them): a mapping with no declared fields."""
    if typing.get_origin(hint) is list:
        hint = typing.get_args(hint)[0]
    return typing.get_origin(hint) is dict


def _map_schema(values: Any) -> Obj:
    return {"type": "object", "additionalProperties": _structural(values)}


def _record_schema(record: type[Any]) -> Obj:
    fields = [f for f in record_fields(record) if not f.extras]
    out: Obj = {
        "type": "object",
        "properties": {f.json: _structural(f.hint, f.rules, f.json) for f in fields},
    }
    required = sorted(f.json for f in fields if f.required)
    if required:
        out["required"] = required
    return out


_SCALARS = {str: "string", bool: "boolean", int: "integer"}


def _scalar(hint: Any, rules: tuple[Any, ...]) -> Obj:
    if typing.get_origin(hint) is Literal:
        choices = list(typing.get_args(hint))
        return {"type": "string", "enum": choices}
    kind = _SCALARS.get(hint)
    if kind is None:  # Any: whatever the user wrote
        return {"x-kubernetes-preserve-unknown-fields": True}
    out: Obj = {"type": kind}
    for rule in rules:
        if isinstance(rule, Ge):
            out["minimum"] = rule.bound
        elif isinstance(rule, Le):
            out["maximum"] = rule.bound
        elif isinstance(rule, MinLen):
            out["minLength"] = rule.length
        elif isinstance(rule, MaxLen):
            out["maxLength"] = rule.length
        elif isinstance(rule, Pattern):
            out["pattern"] = rule.regex
    if kind == "integer":
        out["format"] = "int32"
    return out


_MODELS: Mapping[str, type[Any]] = {
    model.__name__: model for model in (SparkApplication, ScheduledSparkApplication, SparkConnect)
}


@functools.cache
def _spec_schema(kind: str) -> Obj:
    spec = next(f for f in record_fields(_MODELS[kind]) if f.json == "spec")
    return _structural(spec.hint, spec.rules)


# ---- status schemas ------------------------------------------------------------------------------

_STR = {"type": "string"}
_INT = {"type": "integer", "format": "int32"}
_TIME = {"type": "string", "format": "date-time", "nullable": True}

SPARK_APPLICATION_STATUS: Obj = {
    "type": "object",
    "properties": {
        "applicationState": {
            "type": "object",
            "properties": {"state": _STR, "errorMessage": _STR},
        },
        "driverInfo": {
            "type": "object",
            "properties": {
                "podName": _STR,
                "webUIAddress": _STR,
                "webUIIngressAddress": _STR,
                "webUIIngressName": _STR,
                "webUIPort": _INT,
                "webUIServiceName": _STR,
            },
        },
        "executionAttempts": _INT,
        "executorState": {"type": "object", "additionalProperties": _STR},
        "lastSubmissionAttemptTime": _TIME,
        "sparkApplicationId": _STR,
        "submissionAttempts": _INT,
        "submissionID": _STR,
        "terminationTime": _TIME,
        # kubespark's additions (pruned harmlessly under kubeflow's CRD)
        "sparkVersion": _STR,
        "compatNotes": {"type": "array", "items": _STR},
        "waiting": {"type": "object", "properties": {"reason": _STR, "message": _STR}},
    },
}

SCHEDULED_STATUS: Obj = {
    "type": "object",
    "properties": {
        "lastRun": _TIME,
        "lastRunName": _STR,
        "nextRun": _TIME,
        "pastFailedRunNames": {"type": "array", "items": _STR},
        "pastSuccessfulRunNames": {"type": "array", "items": _STR},
        "reason": _STR,
        "scheduleState": _STR,
    },
}


# SparkConnectStatus (api/v1alpha1/sparkconnect_types.go): conditions are metav1.Condition.
_CONDITION: Obj = {
    "type": "object",
    "properties": {
        "type": _STR,
        "status": _STR,
        "reason": _STR,
        "message": _STR,
        "lastTransitionTime": {"type": "string", "format": "date-time"},
        "observedGeneration": {"type": "integer", "format": "int64"},
    },
    "required": ["lastTransitionTime", "message", "reason", "status", "type"],
}
SPARK_CONNECT_STATUS: Obj = {
    "type": "object",
    "properties": {
        "conditions": {
            "type": "array",
            "items": _CONDITION,
            "x-kubernetes-list-map-keys": ["type"],
            "x-kubernetes-list-type": "map",
        },
        "state": _STR,
        "errorMessage": _STR,  # kubespark's: why a SparkConnect is Failed (kubeflow refuses it)
        "server": {
            "type": "object",
            "properties": {"podName": _STR, "podIp": _STR, "serviceName": _STR},
        },
        "executors": {"type": "object", "additionalProperties": {"type": "integer"}},
        "startTime": {"type": "string", "format": "date-time"},
        "lastUpdateTime": {"type": "string", "format": "date-time"},
    },
}


def _crd(
    kind: str,
    plural: str,
    short_names: list[str],
    spec: Obj,
    status: Obj,
    columns: list[Obj],
    version: str = VERSION,
) -> Obj:
    schema: Obj = {
        "type": "object",
        "properties": {
            "apiVersion": _STR,
            "kind": _STR,
            # metadata is the API server's (ObjectMeta); a schema may not narrow it beyond
            # name/generateName, and saying nothing keeps every server's handling of it.
            "spec": spec,
            "status": status,
        },
        "required": ["spec"],
    }
    _add_required_fields(schema, kind)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{GROUP}",
            "annotations": {
                "api-approved.kubernetes.io": "https://github.com/kubeflow/spark-operator/pull/1298"
            },
            "labels": {"app.kubernetes.io/part-of": "kubespark"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": plural[:-1],
                "shortNames": short_names,
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                }
            ],
        },
    }


def _add_required_fields(schema: Obj, kind: str) -> None:
    """Fields kubeflow's CRD requires that the model leaves optional (every server enforces)."""
    for rule in webhook_rules():
        if kind in rule.kinds and rule.crd and rule.required:
            node = _schema_at(schema, rule.at, kind)
            node["required"] = sorted({*node.get("required", []), rule.required})


def with_validation_rules(crd: Obj, *, message_expressions: bool = False) -> Obj:
    """A copy of one of kubespark's CRDs carrying kubeflow's webhook refusals as CEL rules.

    For servers that evaluate ``x-kubernetes-validations`` (the API surface's
    ``crd_validation_rules``): older servers do not know the field (a static manifest with it
    fails ``kubectl apply`` validation there), so the shipped files and the chart stay without
    it and ``install-crds`` adds it where it works. The operator applies the same rules on every
    server. Lists the uniqueness rules compare pairwise get a ``maxItems`` so a real server's
    cost estimate stays in budget. ``message_expressions`` (servers whose ``ValidationRule``
    has ``messageExpression``, 1.27+) adds kubeflow's messages with the offending value.
    """
    out = copy.deepcopy(crd)
    kind = str(out["spec"]["names"]["kind"])
    if out["spec"]["group"] != GROUP:
        return out
    schema = out["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for at, most in list_bounds().items():
        if kind in _KINDS_WITH_LISTS:
            _schema_at(schema, at, kind)["maxItems"] = most
    for rule in webhook_rules():
        if kind in rule.kinds and rule.crd and rule.rule:
            entry = {"rule": rule.rule, "message": rule.message}
            if message_expressions and rule.message_expression:
                entry["messageExpression"] = rule.message_expression
            _schema_at(schema, rule.at, kind).setdefault("x-kubernetes-validations", []).append(
                entry
            )
    return out


_KINDS_WITH_LISTS = ("SparkApplication", "ScheduledSparkApplication")  # the bounded lists' owners


def _schema_at(schema: Obj, at: str, kind: str) -> Obj:
    node = schema
    steps = at.replace("[]", ".[]").split(".") if at else []
    if steps and steps[0] == "spec":
        steps = [*spec_root(kind), *steps[1:]]
    for step in steps:
        node = node["items"] if step == "[]" else node["properties"][step]
    return node


def _model_crd(
    model: type[SparkApplication] | type[ScheduledSparkApplication] | type[SparkConnect],
    plural: str,
    short: str,
    status: Obj,
    version: str = VERSION,
) -> Obj:
    """The CRD of ``model``, its printer columns kubeflow's (``data/kubeflow_crds.yaml``)."""
    kind = model.__name__
    columns = [
        {"jsonPath": path, "name": name, "type": typ}
        for name, path, typ in _kubeflow_facts()["printerColumns"][kind]
    ]
    spec = copy.deepcopy(_spec_schema(kind))
    return _crd(kind, plural, [short], spec, status, columns, version)


def spark_application_crd() -> Obj:
    return _model_crd(SparkApplication, "sparkapplications", "sparkapp", SPARK_APPLICATION_STATUS)


def scheduled_crd() -> Obj:
    return _model_crd(
        ScheduledSparkApplication,
        "scheduledsparkapplications",
        "scheduledsparkapp",
        SCHEDULED_STATUS,
    )


def spark_connect_crd() -> Obj:
    """kubeflow's ``sparkconnects.sparkoperator.k8s.io`` (v1alpha1), from kubespark's model."""
    return _model_crd(
        SparkConnect, "sparkconnects", "sparkconn", SPARK_CONNECT_STATUS, CONNECT_VERSION
    )


def peering_crds() -> list[Obj]:
    """kopf's peering CRDs (kopf.dev/v1): replicas announce themselves there to elect one."""
    out = []
    for kind, plural, scope in (
        ("ClusterKopfPeering", "clusterkopfpeerings", "Cluster"),
        ("KopfPeering", "kopfpeerings", "Namespaced"),
    ):
        out.append(
            {
                "apiVersion": "apiextensions.k8s.io/v1",
                "kind": "CustomResourceDefinition",
                "metadata": {
                    "name": f"{plural}.kopf.dev",
                    "labels": {"app.kubernetes.io/part-of": "kubespark"},
                },
                "spec": {
                    "group": "kopf.dev",
                    "names": {"kind": kind, "plural": plural, "singular": plural[:-1]},
                    "scope": scope,
                    "versions": [
                        {
                            "name": "v1",
                            "served": True,
                            "storage": True,
                            "schema": {
                                "openAPIV3Schema": {
                                    "type": "object",
                                    "properties": {
                                        "status": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        }
                                    },
                                }
                            },
                        }
                    ],
                },
            }
        )
    return out


def crd_documents(*, peering: bool = True) -> list[Obj]:
    """Every CRD the operator needs, in install order."""
    docs = [spark_application_crd(), scheduled_crd(), spark_connect_crd()]
    return docs + peering_crds() if peering else docs


def render_crds(docs: list[Obj]) -> str:
    """YAML documents as shipped (stable key order, so a diff shows real changes only)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return "".join(
        "---\n" + yaml.dump(doc, Dumper=dumper, sort_keys=True, default_flow_style=False, width=100)
        for doc in docs
    )


# ---- the shipped files ---------------------------------------------------------------------------

CRD_FILES = {
    "sparkoperator.k8s.io_sparkapplications.yaml": spark_application_crd,
    "sparkoperator.k8s.io_scheduledsparkapplications.yaml": scheduled_crd,
    "sparkoperator.k8s.io_sparkconnects.yaml": spark_connect_crd,
}
PEERING_FILE = "kopf.dev_peerings.yaml"


def shipped_crds(*, peering: bool = True) -> list[Obj]:
    """The CRDs as shipped in the package (what ``kubespark install-crds`` writes)."""
    root = files("kubespark.operator") / "data" / "crds"
    names = [*CRD_FILES, PEERING_FILE] if peering else list(CRD_FILES)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [d for n in names for d in yaml.load_all((root / n).read_text(), Loader=loader) if d]


def expected_files() -> dict[str, str]:
    """File name -> text, as ``render_crds`` makes them (the shipped copies must equal these)."""
    out = {name: render_crds([build()]) for name, build in CRD_FILES.items()}
    out[PEERING_FILE] = render_crds(peering_crds())
    return out


if __name__ == "__main__":  # regenerate: python -m kubespark.operator.crds DIR [DIR...]
    import sys
    from pathlib import Path

    for directory in sys.argv[1:]:
        for name, text in expected_files().items():
            (Path(directory) / name).write_text(text)
