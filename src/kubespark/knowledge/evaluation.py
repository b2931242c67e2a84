"""Which known issues a combination of versions hits, per submission path, and the verdicts.

Owns the answer to "will this Spark / operator / Kubernetes combination work?" for each way of
submitting: the spark-submit of the app's Spark, the kubeflow operator image (whose spark-submit is
the Spark it was built on), and kubespark itself (which carries out the phases listed in
kubespark.yaml, so issues confined to them cannot reach it). Verdicts follow from data only:
confirmed, unconditional issues decide; unconfirmed ones, configuration-dependent ones, backports
and documented minimums become caveats. It must not render text for a terminal.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from kubespark.knowledge.base import Knowledge
from kubespark.knowledge.conditions import Subject
from kubespark.knowledge.findings import (
    COVERAGE_ORDER,
    Caveat,
    IssueFinding,
    ReasonFinding,
    caveat_for,
    collect,
)
from kubespark.knowledge.loader import load_knowledge
from kubespark.knowledge.schema import PathName, Phase, Remedy
from kubespark.knowledge.scope import unmodelled_spark
from kubespark.versions import Coverage, OperatorVersion, Version, VersionRange

__all__ = [
    "Assessment",
    "Caveat",
    "Combination",
    "IssueFinding",
    "PathAssessment",
    "ReasonFinding",
    "Verdict",
    "evaluate",
]


class Verdict(StrEnum):
    """A path's answer; ``depends`` names what would decide it (a patch, a version not given)."""

    COMPATIBLE = "compatible"
    DEPENDS = "depends"
    INCOMPATIBLE = "incompatible"
    NOT_ASSESSED = "not-assessed"


_SEVERITY = {
    Verdict.NOT_ASSESSED: 0,
    Verdict.COMPATIBLE: 1,
    Verdict.DEPENDS: 2,
    Verdict.INCOMPATIBLE: 3,
}


@dataclass(frozen=True)
class Combination:
    """The versions a user asks about; any may be unknown."""

    spark: Version | None = None
    operator: OperatorVersion | None = None
    kubernetes: Version | None = None
    jdk: Version | None = None


@dataclass(frozen=True)
class PathAssessment:
    path: PathName
    verdict: Verdict
    subject: str  # "spark-submit of Spark 3.5.1 (fabric8 6.7.2)"
    issues: tuple[IssueFinding, ...] = ()  # the findings that decide the verdict
    caveats: tuple[Caveat, ...] = ()
    blockers: tuple[str, ...] = ()  # non-issue reasons for the verdict (outside a promise)
    avoided: tuple[IssueFinding, ...] = ()  # kubespark: issues of the phases it replaces
    how: str = ""  # kubespark: how it avoids them

    def remedies(self, finding: IssueFinding) -> tuple[Remedy, ...]:
        """The finding's remedies that make sense on this path, in rank order."""
        return tuple(r for r in finding.issue.remedies if r.paths is None or self.path in r.paths)


@dataclass(frozen=True)
class Assessment:
    combination: Combination
    paths: tuple[PathAssessment, ...]

    @property
    def verdict(self) -> Verdict:
        """The worst verdict among the paths assessed."""
        return max((p.verdict for p in self.paths), key=_SEVERITY.__getitem__)

    @property
    def compatible(self) -> bool:
        """Every path that could be assessed works (none assessed: nothing found against it)."""
        return self.verdict in (Verdict.COMPATIBLE, Verdict.NOT_ASSESSED)

    def path(self, name: PathName) -> PathAssessment:
        return next(p for p in self.paths if p.path == name)


def evaluate(combination: Combination) -> Assessment:
    """Assess every submission path for ``combination`` against the packaged knowledge base."""
    return _evaluate_cached(combination)


@functools.cache
def _evaluate_cached(combination: Combination) -> Assessment:
    return evaluate_with(load_knowledge(), combination)


def evaluate_with(kb: Knowledge, combination: Combination) -> Assessment:
    """Like :func:`evaluate`, against a given knowledge base (tests load modified copies)."""
    return Assessment(
        combination,
        (
            _spark_submit_path(kb, combination),
            _operator_path(kb, combination),
            _kubespark_path(kb, combination),
        ),
    )


# -- the three paths ----------------------------------------------------------------------------


def _app_subject(kb: Knowledge, combo: Combination, origin: str = "") -> Subject | None:
    if combo.spark is None:
        return None
    release = kb.spark_release(combo.spark)
    return Subject(
        spark=combo.spark,
        fabric8=release.fabric8,
        kubernetes=combo.kubernetes,
        jdk=combo.jdk,
        spark_origin=origin,
    )


def _spark_submit_path(kb: Knowledge, combo: Combination) -> PathAssessment:
    app = _app_subject(kb, combo)
    if app is None:
        return PathAssessment(
            PathName.SPARK_SUBMIT,
            Verdict.NOT_ASSESSED,
            "give --spark, --image or -f app.yaml",
        )
    phases = {Phase.SUBMISSION: app, Phase.DRIVER: app}
    fabric8 = f" (fabric8 {app.fabric8})" if app.fabric8 else ""
    return _assess(
        kb,
        PathName.SPARK_SUBMIT,
        f"spark-submit of Spark {app.spark}{fabric8}",
        phases,
        extra=_version_caveats(kb, combo),
    )


def _operator_path(kb: Knowledge, combo: Combination) -> PathAssessment:
    if combo.operator is None:
        return PathAssessment(PathName.OPERATOR, Verdict.NOT_ASSESSED, "give --operator")
    line = kb.operator_line(combo.operator)
    tag = kb.operator_tag(line, combo.operator.release)
    bundled = kb.spark_release(line.spark)
    submitter = Subject(
        spark=line.spark,
        fabric8=bundled.fabric8,
        operator=combo.operator.release,
        operator_tag=tag,
        kubernetes=combo.kubernetes,
        jdk=combo.jdk,
        spark_origin=f"the spark-submit bundled in operator {tag}",
    )
    phases = {Phase.OPERATOR: submitter, Phase.SUBMISSION: submitter}
    app = _app_subject(kb, combo, origin="the application's")
    if app is not None:
        phases[Phase.DRIVER] = app
    extra = list(_operator_caveats(line.stated_minimum_kubernetes, tag, combo, line.spark))
    extra += _version_caveats(kb, combo)
    return _assess(
        kb,
        PathName.OPERATOR,
        f"operator {tag} (its spark-submit is Spark {line.spark})",
        phases,
        extra=tuple(extra),
    )


def _kubespark_path(kb: Knowledge, combo: Combination) -> PathAssessment:
    promise = kb.kubespark
    every: dict[Phase, Subject] = {}
    app = _app_subject(kb, combo)
    if app is not None:
        every[Phase.SUBMISSION] = every[Phase.DRIVER] = app
    if combo.operator is not None:
        line = kb.operator_line(combo.operator)
        every[Phase.OPERATOR] = Subject(
            operator=combo.operator.release,
            operator_tag=kb.operator_tag(line, combo.operator.release),
            kubernetes=combo.kubernetes,
        )
    # kubespark.yaml says which phases kubespark carries out itself; the rest still run as before.
    replaced = {p: s for p, s in every.items() if p in promise.replaces}
    kept = {p: s for p, s in every.items() if p not in promise.replaces}
    spark = f" running Spark {combo.spark}" if combo.spark else ""
    return _assess(
        kb,
        PathName.KUBESPARK,
        f"kubespark{spark}",
        kept,
        extra=_version_caveats(kb, combo),
        replaced=replaced,
        blockers={
            **_support(promise.supports.kubernetes, combo.kubernetes),
            **_modelled(kb, combo.spark),
        },
        how=promise.how,
    )


def _support(ranges: tuple[VersionRange, ...], kube: Version | None) -> dict[Coverage, str]:
    allowed = " or ".join(str(r) for r in ranges)
    if kube is None:
        return {Coverage.SOME: f"kubespark supports Kubernetes {allowed}; version not given"}
    coverage = max((r.coverage(kube) for r in ranges), key=COVERAGE_ORDER.__getitem__)
    if coverage is Coverage.ALL:
        return {}
    return {coverage: f"Kubernetes {kube} is outside kubespark's supported range ({allowed})"}


def _modelled(kb: Knowledge, spark: Version | None) -> dict[Coverage, str]:
    reason = unmodelled_spark(spark, kb) if spark is not None else None
    return {Coverage.NONE: reason} if reason else {}


# -- shared machinery -------------------------------------------------------------------------


def _assess(
    kb: Knowledge,
    path: PathName,
    subject_text: str,
    phases: dict[Phase, Subject],
    *,
    extra: tuple[Caveat, ...] = (),
    replaced: dict[Phase, Subject] | None = None,
    blockers: dict[Coverage, str] | None = None,
    how: str = "",
) -> PathAssessment:
    hit = collect(kb, phases)
    # An issue that also strikes in a phase kept is not avoided, only narrowed.
    avoided = [f for i, f in collect(kb, replaced or {}).findings.items() if i not in hit.findings]
    deciding = tuple(f for f in hit.findings.values() if f.decides)
    caveats = [caveat_for(f) for f in hit.findings.values() if not f.decides]
    caveats += hit.caveats + list(extra)
    verdict = _verdict(deciding, blockers or {})
    return PathAssessment(
        path=path,
        verdict=verdict,
        subject=subject_text,
        issues=deciding,
        caveats=tuple(dict.fromkeys(caveats)),
        blockers=tuple((blockers or {}).values()),
        avoided=tuple(avoided),
        how=how if avoided else "",
    )


def _verdict(deciding: tuple[IssueFinding, ...], blockers: dict[Coverage, str]) -> Verdict:
    coverages = {f.coverage for f in deciding} | set(blockers)
    if Coverage.ALL in coverages or Coverage.NONE in blockers:
        return Verdict.INCOMPATIBLE
    return Verdict.DEPENDS if Coverage.SOME in coverages else Verdict.COMPATIBLE


def _version_caveats(kb: Knowledge, combo: Combination) -> tuple[Caveat, ...]:
    """What every path shares: the caveats of the Spark and Kubernetes versions asked about."""
    return _spark_caveats(kb, combo.spark, combo.kubernetes) + _kube_caveats(kb, combo.kubernetes)


def _spark_caveats(
    kb: Knowledge, spark: Version | None, kube: Version | None
) -> tuple[Caveat, ...]:
    """Below the Kubernetes Spark's own docs ask for: no incompatibility known, no promise."""
    if spark is None or kube is None:
        return ()
    minimum = kb.spark_release(spark).docs_minimum
    if minimum is None or kube.minor_version >= minimum.kubernetes.minor_version:
        return ()
    recorded = "" if minimum.confirmed else " (as recorded; not re-checked)"
    return (
        Caveat(
            f"Kubernetes {kube} is below {minimum.kubernetes}, the minimum Spark "
            f"{spark.minor_version}'s documentation states{recorded}: Spark does not test it there"
        ),
    )


def _kube_caveats(kb: Knowledge, kube: Version | None) -> tuple[Caveat, ...]:
    newest = kb.kubernetes.minors.newest
    if kube is None or kube.minor_version <= newest:
        return ()
    return (Caveat(f"Kubernetes {kube} is newer than the newest minor known ({newest})"),)


def _operator_caveats(
    stated: Version, tag: str, combo: Combination, bundled: Version
) -> tuple[Caveat, ...]:
    out = []
    kube = combo.kubernetes
    if kube is not None and kube.minor_version < stated.minor_version:
        text = f"Kubernetes {kube} is below {stated}, the minimum operator {tag} states"
        out.append(Caveat(text))
    if combo.spark is not None and combo.spark.minor_version != bundled.minor_version:
        out.append(
            Caveat(
                f"operator {tag} submits with its own spark-submit (Spark {bundled}); the "
                f"application's Spark {combo.spark} only runs the driver and executors"
            )
        )
    return tuple(out)
