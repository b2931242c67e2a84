"""One ``kubespark validate`` run: every input read, every object judged, counts and exit code.

Owns walking the inputs (``kubespark.compat.manifests``) through the per-object checks
(``kubespark.compat.validation``) as a stream, so memory stays flat on large inputs: only
objects with findings (and, with ``fix``, the fixed objects per file) are kept. Exit codes: 0 no
errors, 1 problems found (errors; warnings too under ``strict``), 2 input that is not a readable
Kubernetes object (syntax errors, binary data, missing kind or apiVersion, missing files).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from kubespark.apisurface.model import ApiSurface
from kubespark.compat.manifests import Document, InputProblem, expand_paths, read_inputs
from kubespark.compat.planner import custom_resources
from kubespark.compat.validation import (
    ObjectReport,
    Rule,
    custom_resource_report,
    validate_document,
)
from kubespark.versions import Version

__all__ = ["EXIT_CLEAN", "EXIT_INPUT", "EXIT_PROBLEMS", "ValidationRun", "run_validation"]

EXIT_CLEAN = 0
EXIT_PROBLEMS = 1
EXIT_INPUT = 2


@dataclass(slots=True)
class ValidationRun:
    """What one run found."""

    version: Version
    strict: bool
    files: int = 0
    objects: int = 0
    reports: list[ObjectReport] = field(default_factory=list)  # objects with findings
    input_problems: list[InputProblem] = field(default_factory=list)
    # With fix: per input (in order), each document's fixed object or, when it cannot be
    # fixed, the object as written.
    fixed: dict[str, list[Any]] = field(default_factory=dict)
    # Objects of kinds that CustomResourceDefinitions among the inputs define: their fields
    # are the CRD's schema's business, not checked here.
    custom_resources: int = 0

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.reports) + len(self.input_problems)

    @property
    def warnings(self) -> int:
        return sum(r.warnings for r in self.reports)

    @property
    def exit_code(self) -> int:
        if self.input_problems or any(
            f.rule is Rule.INPUT_ERROR for r in self.reports for f in r.findings
        ):
            return EXIT_INPUT
        return EXIT_PROBLEMS if self.errors else EXIT_CLEAN


def run_validation(
    surface: ApiSurface,
    paths: Iterable[str],
    *,
    stdin: BinaryIO | None = None,
    strict: bool = False,
    fix: bool = False,
) -> ValidationRun:
    """Validate every object the paths hold against ``surface``'s version.

    An object whose kind the version does not serve waits until every input is read: a
    CustomResourceDefinition further on may define it (``helm template`` writes CRDs and their
    custom resources in any order).
    """
    files, problems = expand_paths(paths)
    run = ValidationRun(surface.server_version or surface.version, strict, files=len(files))
    run.input_problems.extend(problems)
    crds: list[dict[str, Any]] = []
    waiting: list[tuple[Document, int]] = []
    for item in read_inputs(files, stdin):
        if isinstance(item, InputProblem):
            run.input_problems.append(item)
            continue
        run.objects += 1
        obj = item.obj
        if obj.get("kind") == "CustomResourceDefinition":
            crds.append(obj)
        elif _maybe_custom(surface, obj):
            fixed = run.fixed.setdefault(item.source, []) if fix else []
            waiting.append((item, len(fixed)))
            fixed.append(obj)
            continue
        _judge(run, surface, item, strict, fix)
    custom = custom_resources(crds, surface)
    for doc, position in waiting:
        if (doc.obj.get("apiVersion"), doc.obj.get("kind")) in custom:
            run.custom_resources += 1
            refused = custom_resource_report(doc, strict=strict)
            if refused is not None:
                run.reports.append(refused)
            continue
        report = validate_document(surface, doc, strict=strict, fix=fix)
        if report.findings:
            run.reports.append(report)
        if fix:
            run.fixed[doc.source][position] = _fixed_or_given(report, doc)
    # Deferred verdicts join the others: inputs in the order given, objects by line.
    given = {("<stdin>" if f == "-" else f): i for i, f in enumerate(files)}
    run.reports.sort(key=lambda r: (given.get(r.source, len(given)), r.line))
    return run


def _maybe_custom(surface: ApiSurface, obj: dict[str, Any]) -> bool:
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str) or "/" not in api_version:
        return False
    return surface.resource(api_version, kind) is None


def _judge(run: ValidationRun, surface: ApiSurface, doc: Document, strict: bool, fix: bool) -> None:
    report = validate_document(surface, doc, strict=strict, fix=fix)
    if report.findings:
        run.reports.append(report)
    if fix:
        run.fixed.setdefault(doc.source, []).append(_fixed_or_given(report, doc))


def _fixed_or_given(report: ObjectReport, doc: Document) -> Any:
    return report.fixed if report.fixed is not None else doc.obj
