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
from kubespark.compat.validation import ObjectReport, Rule, validate_document
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
    """Validate every object the paths hold against ``surface``'s version."""
    files, problems = expand_paths(paths)
    run = ValidationRun(surface.server_version or surface.version, strict, files=len(files))
    run.input_problems.extend(problems)
    for item in read_inputs(files, stdin):
        if isinstance(item, InputProblem):
            run.input_problems.append(item)
            continue
        run.objects += 1
        report = validate_document(surface, item, strict=strict, fix=fix)
        if report.findings:
            run.reports.append(report)
        if fix:
            run.fixed.setdefault(item.source, []).append(_fixed_or_given(report, item))
    return run


def _fixed_or_given(report: ObjectReport, doc: Document) -> Any:
    return report.fixed if report.fixed is not None else doc.obj
