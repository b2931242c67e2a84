"""Which known issues strike one phase of a run, and why: the step below a path's verdict.

Owns matching every issue (and each of its reasons) against the versions one phase sees, merging
an issue found in several phases, and turning what does not decide a verdict into caveats: an
unconfirmed issue, one that needs a configuration (``only_if``), a reason lifted only by a
backport. It must not decide verdicts or know about submission paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubespark.knowledge.base import Knowledge
from kubespark.knowledge.conditions import Match, Subject, combine, match_conditions
from kubespark.knowledge.schema import Issue, Phase, Reason
from kubespark.versions import Coverage, Version

__all__ = [
    "COVERAGE_ORDER",
    "Caveat",
    "Collected",
    "IssueFinding",
    "ReasonFinding",
    "caveat_for",
    "collect",
]

COVERAGE_ORDER = {Coverage.NONE: 0, Coverage.SOME: 1, Coverage.ALL: 2}


@dataclass(frozen=True)
class ReasonFinding:
    """One reason of an issue that applies, with the matches that make it apply."""

    reason: Reason
    coverage: Coverage
    why: tuple[Match, ...]


@dataclass(frozen=True)
class IssueFinding:
    """A known issue that applies (to all, or to some, of the versions in question)."""

    issue: Issue
    coverage: Coverage
    phases: tuple[Phase, ...]
    why: tuple[Match, ...]
    reasons: tuple[ReasonFinding, ...]

    @property
    def decides(self) -> bool:
        """Only confirmed, unconditional findings change a verdict; the rest are caveats."""
        confirmed_reason = not self.reasons or any(r.reason.confirmed for r in self.reasons)
        return self.issue.confirmed and self.issue.only_if is None and confirmed_reason

    @property
    def boundaries(self) -> tuple[Version, ...]:
        found = {m.boundary for m in self.why if m.boundary is not None}
        found |= {m.boundary for r in self.reasons for m in r.why if m.boundary is not None}
        return tuple(sorted(found))


@dataclass(frozen=True)
class Caveat:
    """Something that does not change the verdict but that the user should know."""

    text: str
    issue_id: str | None = None


@dataclass
class Collected:
    """Findings by issue id, and the caveats met on the way."""

    findings: dict[str, IssueFinding] = field(default_factory=dict)
    caveats: list[Caveat] = field(default_factory=list)


def collect(kb: Knowledge, phases: dict[Phase, Subject]) -> Collected:
    """Every issue striking any of ``phases``, each evaluated with that phase's versions."""
    out = Collected()
    for issue in kb.issues:
        for phase in issue.phases:
            subject = phases.get(phase)
            if subject is None:
                continue
            finding, caveats = _evaluate_issue(kb, issue, phase, subject)
            out.caveats.extend(caveats)
            if finding is not None:
                out.findings[issue.id] = _merge(out.findings.get(issue.id), finding)
    return out


def _merge(old: IssueFinding | None, new: IssueFinding) -> IssueFinding:
    if old is None:
        return new
    worse = new if COVERAGE_ORDER[new.coverage] > COVERAGE_ORDER[old.coverage] else old
    phases = tuple(dict.fromkeys(old.phases + new.phases))
    return IssueFinding(worse.issue, worse.coverage, phases, worse.why, worse.reasons)


def _evaluate_issue(
    kb: Knowledge, issue: Issue, phase: Phase, subject: Subject
) -> tuple[IssueFinding | None, list[Caveat]]:
    base = match_conditions(issue.affects, subject, kb.facts)
    if _blocked(base):
        return None, []
    if not issue.reasons:
        caveats = _backport_caveats(issue, base)
        if _lifted(base):
            return None, caveats
        return IssueFinding(issue, combine(base), (phase,), base, ()), caveats
    reasons: list[ReasonFinding] = []
    caveats = _backport_caveats(issue, base)
    for reason in issue.reasons:
        own = match_conditions(reason.affects, subject, kb.facts)
        if _blocked(own):
            continue
        caveats += _backport_caveats(issue, own)
        if not _lifted(base + own):
            reasons.append(ReasonFinding(reason, combine(base + own), own))
    if not reasons:
        return None, caveats
    # Certainty comes from confirmed reasons; unconfirmed ones are listed but decide nothing.
    deciding = [r for r in reasons if r.reason.confirmed] or reasons
    coverage = Coverage.ALL if any(r.coverage is Coverage.ALL for r in deciding) else Coverage.SOME
    return IssueFinding(issue, coverage, (phase,), base, tuple(reasons)), caveats


def _blocked(matches: tuple[Match, ...]) -> bool:
    """A condition fails outright (not merely thanks to a backport)."""
    return any(m.coverage is Coverage.NONE and m.lifted_by is None for m in matches)


def _lifted(matches: tuple[Match, ...]) -> bool:
    return any(m.lifted_by is not None for m in matches)


def _backport_caveats(issue: Issue, matches: tuple[Match, ...]) -> list[Caveat]:
    out = []
    for m in matches:
        if m.lifted_by is None:
            continue
        b = m.lifted_by
        confirmed = "" if b.confirmed else " (the backport itself is unconfirmed)"
        text = (
            f"{issue.id} is avoided only by a backport: {m.why}; backported in "
            f"{b.version} via {b.via}{confirmed}. {b.detail or ''}"
        ).strip()
        out.append(Caveat(" ".join(text.split()), issue.id))
    return out


def caveat_for(finding: IssueFinding) -> Caveat:
    """The caveat a finding that does not decide the verdict becomes (see ``decides``)."""
    issue = finding.issue
    if issue.only_if is not None:
        text = f"if {issue.only_if}: {issue.id} applies ({issue.title})"
    else:
        note = issue.note or next((r.reason.note for r in finding.reasons if r.reason.note), None)
        text = f"{issue.id} may apply, unconfirmed: {issue.title}" + (f" ({note})" if note else "")
    return Caveat(" ".join(text.split()), issue.id)
