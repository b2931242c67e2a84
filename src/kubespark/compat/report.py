"""How a ``kubespark validate`` run reads: text for people, JSON for scripts, SARIF for CI.

Owns turning a :class:`ValidationRun` into output values: ``text_report`` (one line per finding,
``file:line: severity[rule] Kind ns/name: message`` and its fix), ``json_report`` and
``sarif_report`` (SARIF 2.1.0, one rule per kind of finding, file and line regions, as GitHub
code scanning reads it), and ``fixed_stream`` (the fixed objects as one YAML stream). Pure: it
writes nothing; the CLI prints what it returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from kubespark.compat.validate_run import ValidationRun
from kubespark.compat.validation import Finding, ObjectReport, Rule, Severity

__all__ = ["fixed_stream", "json_report", "sarif_report", "text_report"]

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_RULE_HELP = {
    Rule.INPUT_ERROR: "The input is not YAML/JSON holding Kubernetes objects with apiVersion, "
    "kind and metadata.name. The API server cannot take it.",
    Rule.API_NOT_SERVED: "The server does not serve this apiVersion and kind, so it rejects the "
    "object (404). The message names the replacement and when the API came or went; kubespark "
    "validate --fix writes the lossless conversion where one exists.",
    Rule.UNKNOWN_FIELD: "The field is not in this Kubernetes version's schema. A create or update "
    "drops it silently (before 1.25) or warns (1.25+); server-side apply fails on it. The "
    "message names the version that added it.",
    Rule.INVALID_FIELD: "The value has the wrong type, or is not one the schema allows.",
    Rule.MISSING_REQUIRED: "The schema requires this field.",
    Rule.APPLY_WOULD_FAIL: "A server-side apply (kubectl apply --server-side, Helm 4, Flux, "
    "spark-submit 3.5+) of this object fails on that version with HTTP 500 'failed to create "
    "typed patch object'. Create/update still work; kubespark falls back to them.",
    Rule.DUPLICATE_KEY: "A key appears twice in one mapping; the last value counts, and newer "
    "kubectl rejects the document.",
    Rule.EXECUTOR_FIELD_LOST: "The application sets an executor field that the real Spark "
    "driver of its release overwrites when it builds executor pods from the pod template "
    "(kubeflow's webhook patched it in after Spark; kubespark has no webhook). The server "
    "takes the application, but the executors do not carry the field.",
}


def _where(source: str, line: int) -> str:
    return f"{source}:{line}" if line else source


def _finding_line(report: ObjectReport, finding: Finding) -> str:
    added = f" (added in {finding.added_in})" if finding.added_in else ""
    head = (
        f"{_where(report.source, finding.line)}: {finding.severity.value}[{finding.rule.id}] "
        f"{report.ref}: {_field(finding)}{finding.message}{added}"
    )
    return f"{head}\n  fix: {finding.fix}" if finding.fix else head


def _field(finding: Finding) -> str:
    if finding.rule is Rule.UNKNOWN_FIELD or finding.rule is Rule.INVALID_FIELD:
        return f"{finding.path[1:]}: "
    return ""


def text_report(run: ValidationRun) -> str:
    """Every finding and input problem, then a one-line summary."""
    lines = [problem.render() for problem in run.input_problems]
    for report in run.reports:
        lines.extend(_finding_line(report, f) for f in report.findings)
    strict = ", strict" if run.strict else ""
    if run.custom_resources:
        lines.append(
            f"{run.custom_resources} custom resource(s) of CustomResourceDefinitions in the "
            "inputs: their fields are for the CRD's schema to check"
        )
    lines.append(
        f"Kubernetes {run.version}{strict}: {run.objects} object(s) in {run.files} file(s), "
        f"{run.errors} error(s), {run.warnings} warning(s)"
    )
    return "\n".join(lines)


def _finding_json(finding: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "rule": finding.rule.id,
        "severity": finding.severity.value,
        "path": finding.path,
        "line": finding.line,
        "message": finding.message,
        "fix": finding.fix,
    }
    if finding.added_in is not None:
        out["addedIn"] = str(finding.added_in)
    return out


def json_report(run: ValidationRun) -> dict[str, Any]:
    return {
        "kubernetes": str(run.version),
        "strict": run.strict,
        "summary": {
            "files": run.files,
            "objects": run.objects,
            "customResources": run.custom_resources,
            "errors": run.errors,
            "warnings": run.warnings,
            "exitCode": run.exit_code,
        },
        "inputErrors": [
            {"file": p.source, "line": p.line, "message": p.message, "fix": p.fix}
            for p in run.input_problems
        ],
        "results": [
            {
                "file": r.source,
                "line": r.line,
                "object": {
                    "apiVersion": r.ref.api_version,
                    "kind": r.ref.kind,
                    "namespace": r.ref.namespace,
                    "name": r.ref.name,
                },
                "findings": [_finding_json(f) for f in r.findings],
            }
            for r in run.reports
        ],
    }


# --- SARIF --------------------------------------------------------------------------------------


def _uri(source: str) -> str:
    if source == "<stdin>":
        return "stdin"
    path = Path(source)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def _location(source: str, line: int) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(source)}}
    if line > 0:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": rule.id,
            "name": "".join(part.title() for part in rule.id.split("-")),
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": _RULE_HELP[rule]},
            "help": {"text": _RULE_HELP[rule]},
            "defaultConfiguration": {"level": _level(rule.severity)},
        }
        for rule in Rule
    ]


def _sarif_results(run: ValidationRun) -> Iterable[dict[str, Any]]:
    index = {rule: i for i, rule in enumerate(Rule)}
    for problem in run.input_problems:
        yield {
            "ruleId": Rule.INPUT_ERROR.id,
            "ruleIndex": index[Rule.INPUT_ERROR],
            "level": "error",
            "message": {"text": f"{problem.message}. Fix: {problem.fix}"},
            "locations": [_location(problem.source, problem.line)],
        }
    for report in run.reports:
        for finding in report.findings:
            result: dict[str, Any] = {
                "ruleId": finding.rule.id,
                "ruleIndex": index[finding.rule],
                "level": _level(finding.severity),
                "message": {
                    "text": f"{report.ref}: {_field(finding)}{finding.message}. Fix: {finding.fix}"
                },
                "locations": [_location(report.source, finding.line)],
                "properties": {"path": finding.path, "kubernetes": str(run.version)},
            }
            if finding.added_in is not None:
                result["properties"]["addedIn"] = str(finding.added_in)
            yield result


def sarif_report(run: ValidationRun, *, tool_version: str) -> dict[str, Any]:
    """The run as a SARIF 2.1.0 log with one run."""
    return {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kubespark",
                        "version": tool_version,
                        "rules": _rules(),
                    }
                },
                "results": list(_sarif_results(run)),
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "exitCode": run.exit_code,
                        "properties": {"kubernetes": str(run.version), "strict": run.strict},
                    }
                ],
            }
        ],
    }


def fixed_stream(objects: Iterable[Any]) -> str:
    """Objects as one YAML stream (``---`` between them), keys in their given order."""
    return yaml.dump_all(
        list(objects),
        Dumper=_DUMPER,
        sort_keys=False,
        default_flow_style=False,
        explicit_start=True,
        allow_unicode=True,
    )
