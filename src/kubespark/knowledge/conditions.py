"""Matching one issue condition against the versions one phase of a run sees.

Owns the three-valued answer (all / some / none of the versions in question are affected) and its
explanation: which fact or range decided, and for a minor-only version the patch where the
answer changes. A fact that reached a patch line by backport is reported as such, because a
verdict resting on a backport deserves a caveat. It must not combine conditions into verdicts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from kubespark.knowledge.schema import Backport, Conditions, Fact, FactRef
from kubespark.versions import Coverage, Version, VersionRange

__all__ = ["Match", "Subject", "combine", "fact_history", "match_conditions"]

_LABELS = {
    "spark": "Spark",
    "fabric8": "fabric8 kubernetes-client",
    "operator": "spark-operator",
    "jdk": "JDK",
    "kubernetes": "Kubernetes",
}


@dataclass(frozen=True)
class Subject:
    """The versions one phase of a submission path runs with; None where unknown."""

    spark: Version | None = None
    fabric8: Version | None = None
    operator: Version | None = None
    kubernetes: Version | None = None
    jdk: Version | None = None
    spark_origin: str = ""  # "bundled in operator v1beta2-1.6.2-3.5.0": why this Spark
    operator_tag: str = ""

    def describe(self, component: str) -> str:
        """``Spark 3.5.0 (bundled in operator ...)``: the component as the user knows it."""
        value = getattr(self, component)
        if component == "operator" and self.operator_tag:
            return f"spark-operator {self.operator_tag}"
        text = f"{_LABELS[component]} {value}"
        if component == "spark" and self.spark_origin:
            text += f" ({self.spark_origin})"
        if component == "fabric8" and self.spark is not None:
            text += f" (bundled with Spark {self.spark})"
        return text


@dataclass(frozen=True)
class Match:
    """How one component condition holds for a subject, and why."""

    component: str
    coverage: Coverage
    why: str
    boundary: Version | None = None  # the patch where a minor-only version's answer changes
    lifted_by: Backport | None = None  # not affected only thanks to this backport


def combine(matches: tuple[Match, ...]) -> Coverage:
    """All conditions must hold: none if any is none, some if any is some, else all."""
    coverages = {m.coverage for m in matches}
    if Coverage.NONE in coverages:
        return Coverage.NONE
    return Coverage.SOME if Coverage.SOME in coverages else Coverage.ALL


def match_conditions(
    conditions: Conditions, subject: Subject, facts: dict[str, Fact]
) -> tuple[Match, ...]:
    """Each constrained component of ``conditions`` matched against ``subject``."""
    return tuple(
        _match_one(name, condition, subject, facts)
        for name, condition in conditions.given().items()
    )


def _match_one(
    name: str,
    condition: tuple[VersionRange, ...] | FactRef,
    subject: Subject,
    facts: dict[str, Fact],
) -> Match:
    value: Version | None = getattr(subject, name)
    if value is None:
        return Match(name, Coverage.SOME, _unknown_why(name, condition, facts))
    if isinstance(condition, FactRef):
        return _match_fact(condition, facts[condition.fact_id], value, subject)
    return _match_ranges(name, condition, value, subject)


def _unknown_why(
    name: str, condition: tuple[VersionRange, ...] | FactRef, facts: dict[str, Fact]
) -> str:
    label = _LABELS[name]
    if isinstance(condition, FactRef):
        fact = facts[condition.fact_id]
        verb = "lacks" if condition.lacks is not None else "has"
        scope = f"a server that {verb} {fact.title} ({fact_history(fact)})"
    else:
        scope = f"{label} " + " or ".join(str(r) for r in condition)
    return f"{label} version not given: applies to {scope}"


def _match_ranges(
    name: str, ranges: tuple[VersionRange, ...], value: Version, subject: Subject
) -> Match:
    shown = subject.describe(name)
    allowed = " or ".join(str(r) for r in ranges)
    for wanted in (Coverage.ALL, Coverage.SOME):
        for candidate in ranges:
            if _coverage(candidate, value) is wanted:
                if wanted is Coverage.ALL:
                    return Match(name, wanted, f"{shown} is in {candidate}")
                edge = _boundary(candidate, value)
                return Match(
                    name, wanted, f"{shown}: only some patches are in {candidate}", boundary=edge
                )
    return Match(name, Coverage.NONE, f"{shown} is outside {allowed}")


@functools.cache
def _coverage(candidate: VersionRange, value: Version) -> Coverage:
    # Ranges and versions are immutable and few; the matrix asks the same questions thousands
    # of times.
    return candidate.coverage(value)


def _boundary(candidate: VersionRange, value: Version) -> Version | None:
    edges = [b for _, b in candidate.clauses if b.patch is not None and b.minor_version == value]
    return min(edges) if edges else None


def _match_fact(ref: FactRef, fact: Fact, version: Version, subject: Subject) -> Match:
    shown = subject.describe("kubernetes")
    available, boundary, backport = availability(fact, version)
    history = fact_history(fact)
    if available is Coverage.SOME:
        before = f"before {boundary}" if boundary else "in some patches"
        return Match(
            "kubernetes",
            Coverage.SOME,
            f"{shown} {before} lacks {fact.title} ({history})",
            boundary=boundary,
        )
    has_it = available is Coverage.ALL
    wanted = has_it if ref.has is not None else not has_it
    verb = "has" if has_it else "lacks"
    why = f"{shown} {verb} {fact.title} ({history})"
    lifted = backport if (has_it and ref.lacks is not None and backport) else None
    return Match("kubernetes", Coverage.ALL if wanted else Coverage.NONE, why, lifted_by=lifted)


def availability(fact: Fact, version: Version) -> tuple[Coverage, Version | None, Backport | None]:
    """Whether a server version has a fact: coverage, the deciding patch, the backport used."""
    main = _coverage(_served_range(fact), version)
    if main is Coverage.ALL:
        return Coverage.ALL, None, None
    for backport in fact.backports:
        if backport.version.minor_version != version.minor_version:
            continue
        if version.patch is None:
            return Coverage.SOME, backport.version, backport
        if version >= backport.version:
            return Coverage.ALL, None, backport
    return main, None, None


def _served_range(fact: Fact) -> VersionRange:
    clauses: list[tuple[str, Version]] = []
    if fact.since is not None:
        clauses.append((">=", fact.since))
    if fact.removed_in is not None:
        clauses.append(("<", fact.removed_in))
    return VersionRange.parse(",".join(f"{op}{v}" for op, v in clauses))


def fact_history(fact: Fact) -> str:
    """``since 1.21; 1.20.6 by backport`` — the fact's versions in a few words."""
    parts = []
    if fact.since is not None:
        parts.append(f"since {fact.since}")
    parts.extend(f"{b.version} by backport" for b in fact.backports)
    if fact.removed_in is not None:
        parts.append(f"removed in {fact.removed_in}")
    return "; ".join(parts)
