"""The shape of every knowledge-base data file, as frozen dataclasses.

Owns what a well-formed data file is: field names, types, version and range syntax, the rules a
single file can check by itself (exactly one of literal/regex, unique reason ids, regexes that
compile). Rules that span files (a fact id an issue names must exist; every Spark release in
exactly one row) live in :mod:`kubespark.knowledge.loader`. It must not read files or evaluate
anything: data in, validated objects out. The records are plain frozen dataclasses (slots): every
command that judges a version reads them back from the disk cache, and that must not import a
validation library; :mod:`kubespark.records` checks them against these declarations
when the data is loaded from YAML (the cache's miss).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from kubespark.errors import VersionError
from kubespark.records import Before, MinLen, Parse, Pattern
from kubespark.versions import Version, VersionRange, parse_kube_like

__all__ = [
    "Backport",
    "Conditions",
    "Cost",
    "DocsMinimumRow",
    "Fabric8Row",
    "Fact",
    "FactRef",
    "Issue",
    "KubernetesData",
    "KubesparkData",
    "NeedRow",
    "OperatorData",
    "OperatorLine",
    "PathName",
    "Phase",
    "Reason",
    "Remedy",
    "Source",
    "SparkData",
    "SparkRow",
    "Symptom",
    "WritesRow",
]


class Phase(StrEnum):
    """Where in a Spark-on-Kubernetes run an issue strikes; paths differ in the phases they run."""

    SUBMISSION = "submission"  # the client that creates the driver's objects (spark-submit)
    DRIVER = "driver"  # the driver JVM in the cluster, creating and watching executors
    OPERATOR = "operator"  # installing and running the kubeflow operator (CRDs, webhook, chart)
    # A running application's failure that depends on its configuration or the cluster rather
    # than on versions (RBAC, quotas, memory, DNS). No submission path lists it, so such issues
    # never change a version verdict; the doctor still matches their symptoms.
    RUNTIME = "runtime"


class PathName(StrEnum):
    """The ways to get a Spark application onto a cluster that kubespark assesses."""

    SPARK_SUBMIT = "spark-submit"
    OPERATOR = "operator"
    KUBESPARK = "kubespark"


Cost = Literal["upgrade", "downgrade", "rebuild", "config", "workaround"]


def _version(value: Any) -> Version:
    if isinstance(value, Version):
        return value
    try:
        return parse_kube_like(str(value))
    except VersionError as err:
        raise ValueError(err.message) from None


def _range(value: Any) -> VersionRange:
    if isinstance(value, VersionRange):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a version range is a string such as '>=3.5.0', not {value!r}")
    try:
        return VersionRange.parse(value)
    except VersionError as err:
        raise ValueError(err.message) from None


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


VersionField = Annotated[Version, Parse(_version)]
RangeField = Annotated[VersionRange, Parse(_range)]
# One range, or several meaning "any of them" (a fix that reached each patch line separately).
Ranges = Annotated[tuple[RangeField, ...], Before(_one_or_many), MinLen(1)]
Id = Annotated[str, Pattern(r"^[a-z0-9][a-z0-9.-]*$")]
NonEmpty = MinLen(1)

# Every record is @dataclass(frozen=True, slots=True, kw_only=True): immutable, compact, and
# keyword-only (subclasses add required fields after defaulted ones), spelled out on each class
# so type checkers see the dataclass.


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where a fact comes from, and what exactly that place shows."""

    url: str
    shows: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Symptom:
    """Text a failure produces, matched literally or as a regex, with what it means."""

    literal: str | None = None
    regex: str | None = None
    means: str

    def __post_init__(self) -> None:
        if (self.literal is None) == (self.regex is None):
            raise ValueError("give exactly one of 'literal' or 'regex'")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as err:
                raise ValueError(f"regex {self.regex!r} does not compile: {err}") from None

    @property
    def pattern(self) -> str:
        return self.literal if self.literal is not None else str(self.regex)


@dataclass(frozen=True, slots=True, kw_only=True)
class FactRef:
    """A Kubernetes condition stated through a fact: the server has it, or lacks it."""

    lacks: Id | None = None
    has: Id | None = None

    def __post_init__(self) -> None:
        if (self.lacks is None) == (self.has is None):
            raise ValueError("give exactly one of 'lacks' or 'has'")

    @property
    def fact_id(self) -> str:
        return str(self.lacks if self.lacks is not None else self.has)


def _kube_condition(value: Any) -> Any:
    if isinstance(value, dict | FactRef):
        return value
    return _one_or_many(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditions:
    """Per component, the versions affected; every given component must match (AND)."""

    spark: Ranges | None = None
    fabric8: Ranges | None = None
    operator: Ranges | None = None  # the operator release (1.6.2 of v1beta2-1.6.2-3.5.0)
    jdk: Ranges | None = None  # 8u252 is written 8.0.252
    kubernetes: Annotated[FactRef | Ranges, Before(_kube_condition)] | None = None

    def given(self) -> dict[str, tuple[VersionRange, ...] | FactRef]:
        """The components this condition constrains, in a stable order."""
        fields = ("spark", "fabric8", "operator", "jdk", "kubernetes")
        return {name: getattr(self, name) for name in fields if getattr(self, name) is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """One distinct way an issue strikes, with its own affected ranges and symptoms."""

    id: Id
    title: str
    affects: Conditions
    explanation: str
    symptoms: tuple[Symptom, ...] = ()
    confirmed: bool
    note: str | None = None
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Remedy:
    """One way out, with what it costs; list order is the rank (cheapest sensible first)."""

    cost: Cost
    action: str
    detail: str | None = None
    paths: tuple[PathName, ...] | None = None  # None: useful on every path


@dataclass(frozen=True, slots=True, kw_only=True)
class KubesparkNote:
    """What kubespark does instead, in the issue's own terms."""

    how: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """A known incompatibility: one file under ``data/issues/<id>.yaml``."""

    id: Id
    title: str
    phases: Annotated[tuple[Phase, ...], NonEmpty]
    confirmed: bool
    note: str | None = None
    affects: Conditions
    only_if: str | None = None  # a configuration precondition: reported as a caveat, not a verdict
    reasons: tuple[Reason, ...] = ()
    symptoms: tuple[Symptom, ...] = ()
    # Precision: text that rules the issue out wherever it shows in the same input (a refusal of
    # system:anonymous is no service account's RBAC); the doctor never names it then.
    excludes: tuple[Symptom, ...] = ()
    root_cause: str
    remedies: Annotated[tuple[Remedy, ...], NonEmpty]
    kubespark: KubesparkNote
    sources: Annotated[tuple[Source, ...], NonEmpty]

    def __post_init__(self) -> None:
        ids = [r.id for r in self.reasons]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"reason ids must be unique: {', '.join(duplicates)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Backport:
    """A fact that reached an older patch line after its minor was released."""

    version: VersionField
    via: str
    confirmed: bool
    detail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """Something a Kubernetes server has from one version on (and maybe not after another)."""

    id: Id
    title: str
    kind: Literal["api-behaviour", "field", "list-map-key-default", "group-version"]
    resource: str | None = None
    path: str | None = None
    group_version: str | None = None
    since: VersionField | None = None
    removed_in: VersionField | None = None
    stages: dict[Literal["alpha", "beta", "ga"], VersionField] = field(default_factory=dict)
    backports: tuple[Backport, ...] = ()
    detail: str | None = None
    confirmed: bool
    sources: Annotated[tuple[Source, ...], NonEmpty]

    def __post_init__(self) -> None:
        if self.since is None and self.removed_in is None:
            raise ValueError("give 'since', 'removed_in' or both")


@dataclass(frozen=True, slots=True, kw_only=True)
class MinorsSpan:
    first: VersionField
    newest: VersionField
    sources: Annotated[tuple[Source, ...], NonEmpty]


@dataclass(frozen=True, slots=True, kw_only=True)
class KubernetesData:
    """``kubernetes.yaml``: the minors known and the facts that decide submissions."""

    minors: MinorsSpan
    facts: tuple[Fact, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkRow:
    spark: RangeField
    confirmed: bool
    evidence: str
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Fabric8Row(SparkRow):
    client: VersionField


@dataclass(frozen=True, slots=True, kw_only=True)
class WritesRow(SparkRow):
    resources: dict[str, Literal["create", "apply"]]


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedRow(SparkRow):
    fact: Id
    resource: str
    how: Literal["emits", "omits", "writes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DocsMinimumRow(SparkRow):
    kubernetes: VersionField


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkData:
    """``spark.yaml``: releases, their client, write methods, needs and documented minimum."""

    releases: dict[str, tuple[int, ...]]
    releases_sources: Annotated[tuple[Source, ...], NonEmpty]
    fabric8: tuple[Fabric8Row, ...]
    writes: tuple[WritesRow, ...]
    needs: tuple[NeedRow, ...]
    docs_minimum_kubernetes: tuple[DocsMinimumRow, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorLine:
    """Operator releases built on one Spark image."""

    releases: Annotated[tuple[VersionField, ...], NonEmpty]
    api: str | None = None  # "v1beta2" for tags spelled v1beta2-<release>-<spark>
    spark: VersionField
    stated_minimum_kubernetes: VersionField
    evidence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OperatorData:
    """``operator.yaml``: kubeflow spark-operator releases."""

    lines: tuple[OperatorLine, ...]
    sources: Annotated[tuple[Source, ...], NonEmpty]


@dataclass(frozen=True, slots=True, kw_only=True)
class KubesparkSupport:
    kubernetes: Ranges
    spark: Ranges  # the releases whose submission kubespark reproduces (see knowledge.scope)


@dataclass(frozen=True, slots=True, kw_only=True)
class KubesparkData:
    """``kubespark.yaml``: the product's own promise, as data."""

    supports: KubesparkSupport
    replaces: tuple[Phase, ...]
    how: str
    sources: Annotated[tuple[Source, ...], NonEmpty]
