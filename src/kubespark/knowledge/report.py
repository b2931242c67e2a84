"""Plain-data views of assessments: what ``-o json`` prints and the matrix page embeds.

Owns the stable, documented shape of kubespark's machine-readable answers (keys, enum spellings,
ordering). Views are built from the frozen evaluation results and carry everything a reader needs
to act: which fact or range decided, the ranked remedies with their cost, what kubespark does
instead, and the sources. It must not evaluate anything itself.
"""

from __future__ import annotations

from typing import Any

from kubespark.knowledge.evaluation import (
    Assessment,
    Caveat,
    Combination,
    IssueFinding,
    PathAssessment,
    ReasonFinding,
)
from kubespark.knowledge.schema import Issue, Remedy, Source, Symptom

__all__ = ["assessment_view", "issue_view", "path_view"]

_APPLIES = {"all": "yes", "some": "depends"}


def assessment_view(assessment: Assessment) -> dict[str, Any]:
    """The whole answer of ``kubespark check -o json``."""
    return {
        "input": combination_view(assessment.combination),
        "verdict": assessment.verdict.value,
        "paths": [path_view(p) for p in assessment.paths],
    }


def combination_view(combo: Combination) -> dict[str, str | None]:
    return {
        "spark": _text(combo.spark),
        "operator": combo.operator.tag if combo.operator else None,
        "kubernetes": _text(combo.kubernetes),
        "jdk": _text(combo.jdk),
    }


def path_view(path: PathAssessment) -> dict[str, Any]:
    """One submission path: verdict, deciding issues with remedies, caveats, avoided issues."""
    view: dict[str, Any] = {
        "path": path.path.value,
        "verdict": path.verdict.value,
        "subject": path.subject,
        "issues": [finding_view(f, path) for f in path.issues],
        "caveats": [caveat_view(c) for c in path.caveats],
    }
    if path.blockers:
        view["blockers"] = list(path.blockers)
    if path.avoided:
        view["avoided"] = [
            {"id": f.issue.id, "title": f.issue.title, "how": f.issue.kubespark.how}
            for f in path.avoided
        ]
        view["how"] = path.how
    return view


def finding_view(finding: IssueFinding, path: PathAssessment) -> dict[str, Any]:
    issue = finding.issue
    return {
        "id": issue.id,
        "title": issue.title,
        "applies": _APPLIES[finding.coverage.value],
        "boundaries": [str(b) for b in finding.boundaries],
        "phases": [p.value for p in finding.phases],
        "why": [m.why for m in finding.why],
        "reasons": [reason_view(r) for r in finding.reasons],
        "root_cause": " ".join(issue.root_cause.split()),
        "remedies": [remedy_view(r, rank) for rank, r in enumerate(path.remedies(finding), 1)],
        "kubespark_instead": " ".join(issue.kubespark.how.split()),
        "sources": [source_view(s) for s in issue.sources],
    }


def reason_view(found: ReasonFinding) -> dict[str, Any]:
    reason = found.reason
    return {
        "id": reason.id,
        "title": reason.title,
        "applies": _APPLIES[found.coverage.value],
        "confirmed": reason.confirmed,
        "why": [m.why for m in found.why],
        "explanation": " ".join(reason.explanation.split()),
        "symptoms": [symptom_view(s) for s in reason.symptoms],
    }


def remedy_view(remedy: Remedy, rank: int) -> dict[str, Any]:
    return {
        "rank": rank,
        "cost": remedy.cost,
        "action": remedy.action,
        "detail": " ".join(remedy.detail.split()) if remedy.detail else None,
        "paths": [p.value for p in remedy.paths] if remedy.paths else None,
    }


def symptom_view(symptom: Symptom) -> dict[str, str]:
    kind = "literal" if symptom.literal is not None else "regex"
    return {kind: symptom.pattern, "means": symptom.means}


def source_view(source: Source) -> dict[str, str]:
    return {"url": source.url, "shows": source.shows}


def caveat_view(caveat: Caveat) -> dict[str, str | None]:
    return {"text": caveat.text, "issue": caveat.issue_id}


def issue_view(issue: Issue) -> dict[str, Any]:
    """An issue as reference material (the matrix page's details panel)."""
    return {
        "id": issue.id,
        "title": issue.title,
        "confirmed": issue.confirmed,
        "root_cause": " ".join(issue.root_cause.split()),
        "remedies": [remedy_view(r, rank) for rank, r in enumerate(issue.remedies, 1)],
        "kubespark_instead": " ".join(issue.kubespark.how.split()),
        "sources": [source_view(s) for s in issue.sources],
    }


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)
