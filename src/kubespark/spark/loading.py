"""Reading SparkApplication documents: YAML text or a file in, a typed, defaulted model out.

Owns turning every way a document can be wrong into one :class:`ApplicationError` whose ``where``
names the field path (``spec.executor.instances``) and, for YAML text, the ``file:line``, and
whose ``fix`` says what to write instead (the closest valid field name for a typo). Also owns the
kubeflow defaulter's defaults (``api/v1beta2/defaults.go``) and finding the Spark version.

It must not read anything but the document it is given.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from kubespark import bounded
from kubespark.errors import InputError, VersionError
from kubespark.records import DecodeError, Fault, decode, record_fields, replace
from kubespark.spark.connect import SparkConnect
from kubespark.spark.model import (
    DynamicAllocation,
    ScheduledSparkApplication,
    SparkApplication,
    SparkApplicationSpec,
)
from kubespark.spark.rules import rule_violations
from kubespark.versions import Version, parse_spark_version, spark_version_from_image

__all__ = [
    "ApplicationError",
    "Problem",
    "apply_defaults",
    "load_application",
    "load_scheduled_application",
    "load_spark_connect",
    "spark_version_of",
    "webhook_problems",
]

_M = TypeVar("_M")
_API_VERSIONS = {
    "SparkApplication": "sparkoperator.k8s.io/v1beta2",
    "ScheduledSparkApplication": "sparkoperator.k8s.io/v1beta2",
    "SparkConnect": "sparkoperator.k8s.io/v1alpha1",
}
Loc = tuple[int | str, ...]


class Problem(typing.NamedTuple):
    """One thing wrong with a document: where, what, and the fix."""

    where: str
    message: str
    fix: str


class ApplicationError(InputError):
    """A SparkApplication document that cannot be used; ``problems`` lists every finding."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(first.message, fix=first.fix, where=first.where)
        self.problems = tuple(problems)

    def render(self) -> str:
        lines = [f"{p.where}: {p.message}\n  fix: {p.fix}" for p in self.problems]
        return "\n".join(lines)


def load_application(source: str | Path, *, kubeflow_refusals: bool = True) -> SparkApplication:
    """A SparkApplication from YAML/JSON text or a file path, validated and defaulted.

    ``kubeflow_refusals`` applies kubeflow's validating-webhook rules too (``rules.py``); only
    callers studying the pod patch on documents older kubeflow releases accepted turn it off.
    """
    return apply_defaults(_load(source, SparkApplication, refusals=kubeflow_refusals))


def load_scheduled_application(source: str | Path) -> ScheduledSparkApplication:
    """A ScheduledSparkApplication from YAML/JSON text or a file path, validated and defaulted."""
    scheduled = _load(source, ScheduledSparkApplication)
    template = _defaulted_spec(scheduled.spec.template, "spec.template")
    return replace(scheduled, spec=replace(scheduled.spec, template=template))


def load_spark_connect(source: str | Path) -> SparkConnect:
    """A SparkConnect (``v1alpha1``) from YAML/JSON text or a file path, with kubeflow's refusals.

    kubeflow's defaulter sets nothing for it; its webhook's checks are rules of the data file.
    """
    return _load(source, SparkConnect)


def spark_version_of(spec: SparkApplicationSpec, *, where: str = "spec") -> Version:
    """The Spark version an application runs: ``sparkVersion``, else its image tag's version."""
    if spec.spark_version:
        try:
            return parse_spark_version(spec.spark_version)
        except VersionError as err:
            raise ApplicationError(
                [Problem(f"{where}.sparkVersion", err.message, err.fix or "")]
            ) from None
    image = spec.image or spec.driver.image
    found = spark_version_from_image(image) if image else None
    if found is None:
        shown = f"the image {image!r} has a tag that names none" if image else "no image is set"
        raise ApplicationError(
            [
                Problem(
                    f"{where}.sparkVersion",
                    f"no Spark version: sparkVersion is missing and {shown}",
                    "set sparkVersion to the Spark release in the image, e.g. sparkVersion: "
                    '"3.5.1", or use an image tagged with it (apache/spark:3.5.1)',
                )
            ]
        )
    return found


def apply_defaults(app: SparkApplication) -> SparkApplication:
    """The kubeflow defaulter's defaults, plus the checks its controller makes before submitting."""
    spec = _defaulted_spec(app.spec, "spec")
    return replace(app, spec=spec)


def _defaulted_spec(spec: SparkApplicationSpec, where: str) -> SparkApplicationSpec:
    if not spec.main_application_file:
        raise ApplicationError(
            [
                Problem(
                    f"{where}.mainApplicationFile",
                    "required field missing: the application's jar, Python or R file",
                    "add mainApplicationFile, e.g. "
                    "local:///opt/spark/examples/jars/spark-examples.jar (a path in the image) "
                    "or an s3a:// / https:// URL",
                )
            ]
        )
    version = spark_version_of(spec, where=where)
    conf = spec.spark_conf
    update: dict[str, Any] = {"spark_version": spec.spark_version or str(version)}
    update["restart_policy"] = _defaulted_restart_policy(spec)
    driver: dict[str, Any] = {}
    if spec.driver.cores is None and "spark.driver.cores" not in conf:
        driver["cores"] = 1
    if spec.driver.memory is None and "spark.driver.memory" not in conf:
        driver["memory"] = "1g"
    update["driver"] = replace(spec.driver, **driver)
    executor: dict[str, Any] = {}
    if spec.executor.cores is None and "spark.executor.cores" not in conf:
        executor["cores"] = 1
    if spec.executor.memory is None and "spark.executor.memory" not in conf:
        executor["memory"] = "1g"
    dynamic = _dynamic_allocation_enabled(spec)
    if spec.executor.instances is None and not conf.get("spark.executor.instances") and not dynamic:
        executor["instances"] = 1
    update["executor"] = replace(spec.executor, **executor)
    allocation = spec.dynamic_allocation
    if dynamic and allocation is not None and allocation.shuffle_tracking_enabled is None:
        update["dynamic_allocation"] = replace(allocation, shuffle_tracking_enabled=True)
    return replace(spec, **update)


def _defaulted_restart_policy(spec: SparkApplicationSpec) -> Any:
    policy = spec.restart_policy
    if policy.type == "Never":
        return policy
    # defaults.go: 5 s between retries when the policy retries at all.
    return replace(
        policy,
        on_failure_retry_interval=policy.on_failure_retry_interval or 5,
        on_submission_failure_retry_interval=policy.on_submission_failure_retry_interval or 5,
    )


def _dynamic_allocation_enabled(spec: SparkApplicationSpec) -> bool:
    allocation: DynamicAllocation | None = spec.dynamic_allocation
    if allocation is not None:
        return allocation.enabled
    return spec.spark_conf.get("spark.dynamicAllocation.enabled", "").lower() == "true"


# ---- reading YAML with positions -------------------------------------------------------------


def _load(source: str | Path, model: type[_M], *, refusals: bool = True) -> _M:
    text, name = _read(source)
    try:
        # One bounded parse (libyaml) gives the values and the nodes that locate their lines.
        pairs = [(d, n) for d, n in bounded.load_all(text, name) if d is not None]
    except bounded.LimitError as err:
        raise ApplicationError([Problem(err.where or name, err.message, err.fix or "")]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark is not None else name
        raise ApplicationError(
            [Problem(where, f"not valid YAML: {getattr(err, 'problem', err)}", "fix the syntax")]
        ) from None
    documents = [d for d, _ in pairs]
    nodes = [n for _, n in pairs]
    kind = model.__name__
    if len(documents) > 1:
        # A manifest file may carry the ConfigMaps and Secrets the application uses.
        picked = [
            i for i, d in enumerate(documents) if isinstance(d, dict) and d.get("kind") == kind
        ]
        if len(picked) == 1:
            documents, nodes = [documents[picked[0]]], [nodes[picked[0]]]
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise ApplicationError(
            [
                Problem(
                    name,
                    f"expected one {kind} document (a mapping), found {len(documents)} documents",
                    f"give a single YAML document with apiVersion: {_API_VERSIONS.get(kind)} "
                    f"and kind: {kind}",
                )
            ]
        )
    try:
        loaded = decode(model, documents[0])
    except DecodeError as err:
        faults = _distinct(err.faults)
        faults.sort(key=lambda f: _line_of(nodes[0], f.loc) or 0)
        problems = [_problem(f, model, nodes[0], name) for f in faults]
        raise ApplicationError(problems) from None
    problems = webhook_problems(documents[0], nodes[0], name) if refusals else []
    if problems:
        raise ApplicationError(problems)
    return loaded


def webhook_problems(
    document: Mapping[str, Any], root: yaml.Node | None = None, name: str = ""
) -> list[Problem]:
    """kubeflow's validating-webhook refusals of a raw document, as problems with a fix."""
    out = []
    for breach in rule_violations(document):
        path = breach.path
        loc = tuple(int(p) if p.isdigit() else p for p in _split_path(path))
        line = _line_of(root, loc) if root is not None else None
        where = f"{name}:{line} {path}" if line else path
        out.append(Problem(where, breach.message, breach.rule.fix))
    return out


def _split_path(path: str) -> list[str]:
    """``spec.driverIngressOptions[1]`` -> ``["spec", "driverIngressOptions", "1"]``."""
    return [p for p in path.replace("[", ".").replace("]", "").split(".") if p]


def _read(source: str | Path) -> tuple[str, str]:
    if isinstance(source, Path) or (
        "\n" not in source and source.endswith((".yaml", ".yml", ".json"))
    ):
        path = Path(source)
        try:
            return bounded.read_text(path), str(path)
        except bounded.LimitError as err:
            raise ApplicationError(
                [Problem(err.where or str(path), err.message, err.fix or "")]
            ) from None
        except InputError as err:
            raise InputError(
                err.message, where=str(path), fix="give the path of a SparkApplication YAML file"
            ) from None
    bounded.check_bytes(source.encode("utf-8", "surrogatepass"), "<text>")
    return source, "<text>"


def _distinct(faults: Sequence[Fault]) -> list[Fault]:
    """One fault per location: a mapping's bad key and its value, a user needs one."""
    seen: set[Loc] = set()
    out = []
    for fault in faults:
        if fault.loc not in seen:
            seen.add(fault.loc)
            out.append(fault)
    return out


def _problem(fault: Fault, model: type[Any], root: yaml.Node, name: str) -> Problem:
    loc = fault.loc
    path = render_path(loc)
    line = _line_of(root, loc)
    where = f"{name}:{line} {path}" if line else path
    kind = fault.kind
    if kind == "extra_forbidden":
        field = str(loc[-1])
        valid = _field_names(model, loc[:-1])
        close = difflib.get_close_matches(field, valid, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else "remove it"
        return Problem(
            where, f"unknown field {field!r}", f"{hint} (fields here: {', '.join(valid)})"
        )
    if kind == "missing":
        return Problem(where, "required field missing", f"add {loc[-1]}")
    return Problem(where, _message(fault), _fix(fault, path, str(loc[-1]) if loc else ""))


def render_path(loc: Loc) -> str:
    """``("spec", "volumes", 0, "name")`` -> ``spec.volumes[0].name``; dotted keys in brackets."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier() or part.replace("-", "_").isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


_EXPECTED = {
    "int_type": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "dict_type": "a mapping (an object)",
    "list_type": "a list",
    "model_type": "a mapping (an object)",
}


def _message(fault: Fault) -> str:
    kind, got = fault.kind, fault.input
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got!r} ({_yaml_type(got)})"
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"{got!r} is out of range: {fault.message.lower()}"
    if kind == "literal_error":
        return f"{got!r} is not allowed: {fault.message.lower()}"
    return f"{fault.message} (got {got!r})"


def _fix(fault: Fault, path: str, key: str) -> str:
    kind = fault.kind
    ctx = fault.ctx
    if kind == "string_type":
        return f'quote the value: {key}: "{fault.input}"'
    if kind == "int_type":
        return "write a whole number without quotes, e.g. 2"
    if kind == "greater_than_equal":
        extra = " (or enable spec.dynamicAllocation)" if path.endswith("instances") else ""
        return f"set {path} to {ctx.get('ge')} or more{extra}"
    if kind == "literal_error":
        return f"use one of {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return "use a lowercase RFC 1123 name: letters, digits, '-' and '.', e.g. my-app"
    if kind in _EXPECTED:
        return f"write {_EXPECTED[kind]} at {path}"
    return f"correct {path}"


def _yaml_type(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _field_names(model: type[Any], loc: Loc) -> list[str]:
    """The JSON names of the record at ``loc`` (the did-you-mean list of an unknown field)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            continue
        if isinstance(current, type) and dataclasses.is_dataclass(current):
            spec = next((f for f in record_fields(current) if f.json == part), None)
            current = spec.hint if spec else None
        else:
            current = None
    current = _unwrap(current)
    if isinstance(current, type) and dataclasses.is_dataclass(current):
        return sorted(f.json for f in record_fields(current) if not f.extras)
    return []


def _unwrap(annotation: Any) -> Any:
    """``list[X] | None`` -> ``X``: the model a location inside the annotation refers to."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        elif origin in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return annotation


def _line_of(node: yaml.Node | None, loc: Loc) -> int | None:
    """The 1-based line of the deepest node on ``loc`` that the document has."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == part), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
