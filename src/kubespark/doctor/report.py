"""What the doctor found: diagnoses of known issues, versions, the failure itself; and its JSON.

Owns the result values of one examination and the rules that turn raw evidence into diagnoses:
which matches are strong enough to name an issue (``diagnosed``) or only to suggest it
(``possible``), that an issue its ``excludes`` rule out is never named, and whether the
versions the text shows are consistent with the issue's affected ranges (judged by the
knowledge base's own condition matching). It must not read input or render for a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Literal

from kubespark.doctor.failure import ErrorChain, FailureSummary
from kubespark.doctor.generic import GenericCause
from kubespark.doctor.infer import COMPONENTS, Component, Inferred, VersionLedger
from kubespark.doctor.lines import Line
from kubespark.knowledge import Issue, Knowledge
from kubespark.knowledge.conditions import Match, Subject, match_conditions
from kubespark.knowledge.schema import Conditions, Reason, Remedy
from kubespark.versions import Coverage

__all__ = [
    "Consistency",
    "Diagnosis",
    "Evidence",
    "ReasonMatch",
    "Report",
    "SourceStats",
    "diagnose",
    "report_view",
]

Confidence = Literal["diagnosed", "possible"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A line that matched a symptom, and what the symptom means."""

    line: Line
    pattern: str
    means: str

    def as_json(self) -> dict[str, object]:
        return {**self.line.as_json(), "pattern": self.pattern, "means": self.means}


@dataclass(frozen=True)
class Consistency:
    """Whether the versions the text shows fall in an issue's (or reason's) affected ranges."""

    verdict: Literal["consistent", "inconsistent", "unknown"]
    why: tuple[str, ...]  # the knowledge base's words, one per component judged

    def as_json(self) -> dict[str, object]:
        return {"verdict": self.verdict, "why": list(self.why)}


@dataclass(frozen=True)
class ReasonMatch:
    reason: Reason
    evidence: tuple[Evidence, ...]
    consistency: Consistency


@dataclass(frozen=True)
class Diagnosis:
    issue: Issue
    confidence: Confidence
    reasons: tuple[ReasonMatch, ...]
    evidence: tuple[Evidence, ...]  # issue-wide symptoms
    consistency: Consistency
    note: str = ""

    @property
    def remedies(self) -> tuple[Remedy, ...]:
        return self.issue.remedies

    @property
    def first_line(self) -> int:
        lines = [e.line.where.line for e in self.all_evidence()]
        return min(lines, default=0)

    def all_evidence(self) -> tuple[Evidence, ...]:
        return tuple(chain(self.evidence, *(r.evidence for r in self.reasons)))


@dataclass(frozen=True)
class SourceStats:
    name: str
    bytes: int
    lines: int
    kind: Literal["text", "document"]


@dataclass(frozen=True)
class Report:
    sources: tuple[SourceStats, ...]
    diagnoses: tuple[Diagnosis, ...]
    versions: tuple[Inferred, ...]
    failure: FailureSummary
    # Issues a symptom pointed at but the text rules out (their ``excludes``), with the line.
    ruled_out: tuple[tuple[str, Evidence], ...] = ()
    # The common API answer the failure shows (403 by whom, 409, 422 ...), known issue or not.
    generic: GenericCause | None = None

    @property
    def found(self) -> bool:
        """Anything to act on: a known issue, or a failure the text shows."""
        return bool(self.diagnoses) or self.failure.found

    def diagnosis(self, issue_id: str) -> Diagnosis | None:
        return next((d for d in self.diagnoses if d.issue.id == issue_id), None)


# -- from evidence to diagnoses -------------------------------------------------------------------

EvidenceKey = tuple[str, str | None]  # (issue id, reason id or None for issue-wide symptoms)


def diagnose(
    kb: Knowledge,
    evidence: dict[EvidenceKey, list[Evidence]],
    ledger: VersionLedger,
    vetoed: frozenset[str] = frozenset(),
) -> tuple[Diagnosis, ...]:
    issues = [issue for issue in kb.issues if issue.id not in vetoed]
    found = [d for issue in issues if (d := _diagnose_issue(kb, issue, evidence, ledger))]
    rank = {"diagnosed": 0, "possible": 1}
    found.sort(key=lambda d: (rank[d.confidence], -len(d.reasons), d.first_line))
    return tuple(found)


def _diagnose_issue(
    kb: Knowledge,
    issue: Issue,
    evidence: dict[EvidenceKey, list[Evidence]],
    ledger: VersionLedger,
) -> Diagnosis | None:
    wide = tuple(evidence.get((issue.id, None), ()))
    reasons = tuple(
        ReasonMatch(r, tuple(ev), _consistency(kb, ledger, issue.affects, r.affects))
        for r in issue.reasons
        if (ev := evidence.get((issue.id, r.id)))
    )
    if not wide and not reasons:
        return None
    if reasons:
        overall = _best(tuple(r.consistency for r in reasons))
    elif issue.reasons:
        # No reason's own symptom matched: the issue fits if any of its reasons fits the versions.
        overall = _best(
            tuple(_consistency(kb, ledger, issue.affects, r.affects) for r in issue.reasons)
        )
    else:
        overall = _consistency(kb, ledger, issue.affects, None)
    distinct = {e.pattern for e in wide}
    reason_symptoms = any(r.symptoms for r in issue.reasons)
    strong = bool(reasons) or len(distinct) >= 2 or not reason_symptoms
    if not strong and overall.verdict != "consistent":
        # One shared, issue-wide symptom (SUBMISSION_FAILED) names nothing by itself.
        return None
    confidence: Confidence = "diagnosed" if strong and issue.confirmed else "possible"
    note = ""
    if not issue.confirmed:
        note = "this issue is not confirmed by its sources" + (
            f": {issue.note}" if issue.note else ""
        )
    elif not strong:
        note = "one issue-wide symptom only; the versions the text shows fit the issue"
    if overall.verdict == "inconsistent":
        confidence = "possible"
        note = "the versions the text shows are outside the issue's affected ranges"
    return Diagnosis(issue, confidence, reasons, wide, overall, note)


def _consistency(
    kb: Knowledge, ledger: VersionLedger, base: Conditions, own: Conditions | None
) -> Consistency:
    """Judge each constrained component by the versions seen; the best value of each counts."""
    why: list[str] = []
    coverages: list[Coverage] = []
    for conditions in (base, own):
        if conditions is None:
            continue
        for name in conditions.given():
            component = next((c for c in COMPONENTS if c == name), None)
            seen = ledger.versions(component) if component is not None else ()
            if component is None or not seen:
                continue
            best = _best_match(kb, conditions, component, seen)
            coverages.append(best.coverage)
            why.append(best.why)
    if not coverages:
        return Consistency("unknown", ())
    if Coverage.NONE in coverages:
        return Consistency("inconsistent", tuple(why))
    verdict: Literal["consistent", "unknown"] = (
        "consistent" if all(c is Coverage.ALL for c in coverages) else "unknown"
    )
    return Consistency(verdict, tuple(why))


def _best_match(
    kb: Knowledge, conditions: Conditions, component: Component, seen: tuple[Inferred, ...]
) -> Match:
    order = {Coverage.ALL: 2, Coverage.SOME: 1, Coverage.NONE: 0}
    matches: list[Match] = []
    for inferred in seen:
        subject = _subject(component, inferred)
        judged = match_conditions(conditions, subject, kb.facts)
        matches.extend(m for m in judged if m.component == component)
    return max(matches, key=lambda m: order[m.coverage])


def _subject(component: Component, inferred: Inferred) -> Subject:
    v = inferred.version
    if component == "spark":
        return Subject(spark=v)
    if component == "fabric8":
        return Subject(fabric8=v)
    if component == "operator":
        return Subject(operator=v, operator_tag=inferred.spelled)
    return Subject(kubernetes=v)


def _best(options: tuple[Consistency, ...]) -> Consistency:
    order = {"consistent": 2, "unknown": 1, "inconsistent": 0}
    return max(options, key=lambda c: order[c.verdict])


# -- JSON -----------------------------------------------------------------------------------------


def report_view(report: Report) -> dict[str, object]:
    """The plain data ``kubespark doctor -o json`` prints."""
    return {
        "found": report.found,
        "sources": [s.__dict__ for s in report.sources],
        "versions": [v.as_json() for v in report.versions],
        "diagnoses": [_diagnosis_view(d) for d in report.diagnoses],
        "ruled_out": [{"issue": i, **e.as_json()} for i, e in report.ruled_out],
        "failure": _failure_view(report.failure),
        "generic": report.generic.as_json() if report.generic else None,
    }


def _diagnosis_view(d: Diagnosis) -> dict[str, object]:
    return {
        "issue": d.issue.id,
        "title": d.issue.title,
        "confidence": d.confidence,
        "note": d.note,
        "consistency": d.consistency.as_json(),
        "reasons": [
            {
                "id": r.reason.id,
                "title": r.reason.title,
                "explanation": " ".join(r.reason.explanation.split()),
                "evidence": [e.as_json() for e in r.evidence],
                "consistency": r.consistency.as_json(),
            }
            for r in d.reasons
        ],
        "evidence": [e.as_json() for e in d.evidence],
        "root_cause": " ".join(d.issue.root_cause.split()),
        "remedies": [
            {"rank": i, "cost": r.cost, "action": r.action, "detail": r.detail}
            for i, r in enumerate(d.remedies, 1)
        ],
        "kubespark": " ".join(d.issue.kubespark.how.split()),
        "sources": [s.url for s in d.issue.sources],
    }


def _failure_view(f: FailureSummary) -> dict[str, object]:
    return {
        "found": f.found,
        "first_error": _chain_view(f.first) if f.first else None,
        "errors": [_chain_view(c) for c in f.chains],
        "signals": [{"signal": name, **line.as_json()} for name, line in f.signals],
        "application_state": f.app_state,
        "application_error": f.app_error.as_json() if f.app_error else None,
    }


def _chain_view(c: ErrorChain) -> dict[str, object]:
    return {
        "line": c.first.as_json(),
        "exception": c.exception,
        "root_cause": c.root.as_json(),
        "api": c.api.as_json() if c.api else None,
    }
