"""What ``kubespark validate`` finds in one object for one Kubernetes version, and its fix.

Owns the per-object verdict: apiVersions the version does not serve (with the replacement, the
version that removed the old one or first serves the new one, and whether the planner can map it
losslessly), unknown fields (with the version that added them), invalid values and missing
required fields (the API surface's checks), duplicate keys, and apply-ability (would server-side
apply of this object fail on that version, with the server's own message). Each finding has a
rule, a severity, the field path and its line. The fixed object (``--fix``) is the planner's
lowered body: apiVersion mapped, unknown fields dropped, defaulted list-map keys filled so that
both a create and a server-side apply of it succeed.

Pure: reading files is ``kubespark.compat.manifests``; rendering is ``kubespark.compat.report``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from kubespark.apisurface import history
from kubespark.apisurface.check import FieldProblem, ProblemKind, check_object
from kubespark.apisurface.load import known_versions
from kubespark.apisurface.model import ApiSurface
from kubespark.compat.applyability import ApplyPrediction, TypingErrorKind, predict_apply
from kubespark.compat.manifests import Document
from kubespark.compat.model import Intent, NoteCode, ObjectRef
from kubespark.compat.planner import Lowered, fill_list_map_keys, lower_object
from kubespark.versions import Version

__all__ = ["Finding", "ObjectReport", "Rule", "Severity", "validate_document"]


class Severity(Enum):
    ERROR = "error"  # the server rejects the object (or it is not an object)
    WARNING = "warning"  # the server takes it, but not as written (--strict makes it an error)


class Rule(Enum):
    """Each kind of finding: its id (SARIF ruleId), default severity and one-line description."""

    INPUT_ERROR = ("input-error", Severity.ERROR, "Not a readable Kubernetes object")
    API_NOT_SERVED = ("api-not-served", Severity.ERROR, "apiVersion/kind not served")
    UNKNOWN_FIELD = ("unknown-field", Severity.WARNING, "Field unknown to this version")
    INVALID_FIELD = ("invalid-field", Severity.ERROR, "Field value the schema rejects")
    MISSING_REQUIRED = ("missing-required", Severity.ERROR, "Required field missing")
    APPLY_WOULD_FAIL = ("apply-would-fail", Severity.WARNING, "Server-side apply would fail")
    DUPLICATE_KEY = ("duplicate-key", Severity.WARNING, "Key given twice")
    EXECUTOR_FIELD_LOST = (
        "executor-field-lost",
        Severity.WARNING,
        "Executor field the real Spark driver overwrites",
    )

    def __init__(self, rule_id: str, severity: Severity, title: str) -> None:
        self.id = rule_id
        self.severity = severity
        self.title = title


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem of one object."""

    rule: Rule
    severity: Severity
    path: str  # ".spec.ipFamilies"; "" for the whole object
    line: int
    message: str
    fix: str
    added_in: Version | None = None  # the first version with the field or API, when later


@dataclass(frozen=True, slots=True)
class ObjectReport:
    """The findings of one object, where it is, and its lowered form for ``--fix``."""

    source: str
    line: int
    ref: ObjectRef
    findings: tuple[Finding, ...]
    fixed: dict[str, Any] | None  # None: the planner cannot make it fit (an error says why)
    changed: bool = False  # the fixed body differs from the object as written

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)


_PROBLEM_RULES: Mapping[ProblemKind, Rule] = {
    ProblemKind.UNKNOWN_FIELD: Rule.UNKNOWN_FIELD,
    ProblemKind.WRONG_TYPE: Rule.INVALID_FIELD,
    ProblemKind.NOT_IN_ENUM: Rule.INVALID_FIELD,
    ProblemKind.INVALID_VALUE: Rule.INVALID_FIELD,
    ProblemKind.MISSING_REQUIRED: Rule.MISSING_REQUIRED,
    ProblemKind.UNKNOWN_KIND: Rule.API_NOT_SERVED,
    ProblemKind.MISSING_KIND: Rule.INPUT_ERROR,
    ProblemKind.NOT_AN_OBJECT: Rule.INPUT_ERROR,
}


def validate_document(
    surface: ApiSurface, doc: Document, *, strict: bool = False, fix: bool = False
) -> ObjectReport:
    """Every finding for one object on ``surface``'s version; its fixed body when asked."""
    obj = doc.obj
    ref = ObjectRef.of(obj) if isinstance(obj, dict) else ObjectRef("", "", "")
    findings: list[Finding] = []
    add = _adder(findings, doc, strict)
    for path in doc.duplicates:
        add(
            Rule.DUPLICATE_KEY,
            path,
            f"{path[1:]} is given twice; the last value counts",
            "remove one",
        )
    add_kubeflow_refusals(obj, add)
    problems = check_object(surface, obj)
    missing = [p for p in problems if p.kind is ProblemKind.MISSING_KIND]
    if missing or not _named(obj):
        for p in missing or [_unnamed()]:
            add(Rule.INPUT_ERROR, p.path, p.message, p.fix)
        return ObjectReport(doc.source, doc.line, ref, tuple(findings), None)
    lowered: Lowered | tuple[str, str] | None = None
    body = obj
    if any(p.kind is ProblemKind.UNKNOWN_KIND for p in problems):
        lowered = lower_object(surface, obj, Intent.CREATE)
        if isinstance(lowered, tuple):
            add(Rule.API_NOT_SERVED, ".apiVersion", lowered[0], lowered[1])
            return ObjectReport(doc.source, doc.line, ref, tuple(findings), None)
        body = _mapped_body(lowered)
        _report_mapping(surface, lowered, add)
        problems = check_object(surface, body)  # the rest, as the mapped object has them
    for p in problems:
        rule = _PROBLEM_RULES[p.kind]
        add(
            rule,
            p.path,
            p.message,
            p.fix,
            _added_in(surface, p) if rule is Rule.UNKNOWN_FIELD else None,
        )
    prediction = predict_apply(surface, body)
    if prediction.fails:
        _report_apply(surface, prediction, add, doc)
    fixed = None
    if fix:
        lowered = lowered or lower_object(surface, obj, Intent.CREATE)
        if isinstance(lowered, Lowered):
            fixed, _ = fill_list_map_keys(surface, lowered.body)
    return ObjectReport(
        doc.source, doc.line, ref, tuple(findings), fixed, fixed is not None and fixed != obj
    )


def _named(obj: Any) -> bool:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return isinstance(meta, dict) and bool(meta.get("name") or meta.get("generateName"))


def _unnamed() -> FieldProblem:
    return FieldProblem(
        ".metadata.name",
        ProblemKind.MISSING_REQUIRED,
        "the object has no metadata.name",
        "set metadata.name",
    )


class _Add(Protocol):
    def __call__(
        self, rule: Rule, path: str, message: str, fix: str, added_in: Version | None = None
    ) -> None: ...


_KUBEFLOW_VERSIONS = {
    "SparkApplication": "sparkoperator.k8s.io/v1beta2",
    "ScheduledSparkApplication": "sparkoperator.k8s.io/v1beta2",
    "SparkConnect": "sparkoperator.k8s.io/v1alpha1",
}


def add_kubeflow_refusals(obj: Any, add: _Add) -> None:
    """kubeflow's validating-webhook refusals of its kinds (v1beta2 applications, SparkConnect)."""
    if not isinstance(obj, dict) or obj.get("kind") not in _KUBEFLOW_VERSIONS:
        return
    if obj.get("apiVersion") != _KUBEFLOW_VERSIONS.get(str(obj.get("kind"))):
        return
    # Imported for the operator's resources only: the Spark models and the CEL evaluator are
    # most of `validate`'s start-up, and a Pod or a Service needs neither.
    from kubespark.spark.rules import rule_violations

    for breach in rule_violations(obj):
        add(Rule.INVALID_FIELD, "." + breach.path, breach.message, breach.rule.fix)
    _add_executor_fields_lost(obj, add)


def _add_executor_fields_lost(obj: dict[str, Any], add: _Add) -> None:
    """Executor fields the application's Spark driver overwrites (warnings, with what to do)."""
    spec = obj.get("spec")
    if obj.get("kind") == "ScheduledSparkApplication" and isinstance(spec, dict):
        spec, where = spec.get("template"), ".spec.template."
    elif obj.get("kind") == "SparkApplication":
        where = ".spec."
    else:
        return
    from kubespark.spark.executor_fidelity import executor_fields_lost, spark_release_of

    release = spark_release_of(spec) if isinstance(spec, dict) else None
    if isinstance(spec, dict) and release is not None:
        for lost in executor_fields_lost(spec, release):
            add(Rule.EXECUTOR_FIELD_LOST, where + lost.path, lost.message, lost.fix)


def custom_resource_report(doc: Document, *, strict: bool = False) -> ObjectReport | None:
    """The findings a custom resource (its CRD among the inputs) gets: kubeflow's refusals."""
    findings: list[Finding] = []
    add_kubeflow_refusals(doc.obj, _adder(findings, doc, strict))
    if not findings:
        return None
    return ObjectReport(doc.source, doc.line, ObjectRef.of(doc.obj), tuple(findings), doc.obj)


def _adder(findings: list[Finding], doc: Document, strict: bool) -> _Add:
    def add(rule: Rule, path: str, message: str, fix: str, added_in: Version | None = None) -> None:
        severity = Severity.ERROR if strict else rule.severity
        line = doc.line_of(path) if path else doc.line
        findings.append(Finding(rule, severity, path, line, message, fix, added_in))

    return add


def _mapped_body(lowered: Lowered) -> dict[str, Any]:
    """The object under the mapped apiVersion, before the planner dropped unknown fields."""
    return lowered.unpruned if lowered.unpruned is not None else lowered.body


def _report_mapping(surface: ApiSurface, lowered: Lowered, add: _Add) -> None:
    for note in lowered.notes:
        if note.code is NoteCode.MAPPED_API_VERSION:
            message = note.message.split(": ", 1)[1]
            target = lowered.body.get("apiVersion")
            add(
                Rule.API_NOT_SERVED,
                ".apiVersion",
                f"Kubernetes {surface.version} {message}",
                f"use apiVersion {target} (--fix writes it, converted)",
                note.added_in,
            )


def _added_in(surface: ApiSurface, problem: FieldProblem) -> Version | None:
    if not problem.type_name or surface.version not in known_versions():
        return None
    present = history.field_history(problem.type_name, problem.field).present_in
    later = [v for v in present if v > surface.version]
    return later[0] if later else None


def _json_path(location: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location)


def _report_apply(
    surface: ApiSurface, prediction: ApplyPrediction, add: _Add, doc: Document
) -> None:
    # Point at the cause that comes first in the file.
    where = min((_json_path(e.location) for e in prediction.errors), key=doc.line_of)
    kinds = {e.kind for e in prediction.errors}
    if prediction.only_omitted_keys:
        keys = sorted({f"{_json_path(e.location)[1:]}.{e.name}" for e in prediction.errors})
        fix = f"set {', '.join(keys)} (kubespark fills them; --fix writes them)"
    elif TypingErrorKind.UNKNOWN_FIELD in kinds:
        fix = "create it instead (kubespark falls back to POST; --fix drops the unknown fields)"
    else:
        fix = "correct the values the other findings name: the server cannot type them"
    add(
        Rule.APPLY_WOULD_FAIL,
        where,
        f"server-side apply fails on Kubernetes {surface.server_version or surface.version} "
        f"with HTTP {prediction.http_status}: {prediction.status_message}",
        fix,
    )
