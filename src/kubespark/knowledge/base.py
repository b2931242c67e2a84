"""The loaded knowledge base: validated data plus the lookups evaluation needs.

Owns answering "what does the data say about this version": which Spark releases exist, the
fabric8 client and write methods of a release, the operator line of an image tag, a Kubernetes
fact by id, the minors known. It must not decide verdicts (that is
:mod:`kubespark.knowledge.evaluation`) and must not read files (that is the loader).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from kubespark.errors import InputError
from kubespark.knowledge.schema import (
    DocsMinimumRow,
    Fact,
    Issue,
    KubernetesData,
    KubesparkData,
    NeedRow,
    OperatorData,
    OperatorLine,
    SparkData,
    SparkRow,
)
from kubespark.versions import OperatorVersion, Version

__all__ = ["Knowledge", "SparkRelease"]

Row = TypeVar("Row", bound=SparkRow)


@dataclass(frozen=True)
class SparkRelease:
    """What the data says about one Spark release (or, minor-only, about all of its releases)."""

    version: Version
    fabric8: Version | None  # None: the releases of a minor-only version bundle different clients
    writes: dict[str, str]
    needs: tuple[NeedRow, ...]
    docs_minimum: DocsMinimumRow | None  # the Kubernetes minimum Spark's docs state, if any


@dataclass(frozen=True, eq=False)  # identity semantics: one loaded base, cached by the loader
class Knowledge:
    """Everything under ``knowledge/data``, validated and cross-checked by the loader."""

    spark: SparkData
    operators: OperatorData
    kubernetes: KubernetesData
    kubespark: KubesparkData
    issues: tuple[Issue, ...]

    # -- Spark --------------------------------------------------------------------------------

    @cached_property
    def spark_releases(self) -> tuple[Version, ...]:
        """Every Spark release the data knows, oldest first."""
        found: list[Version] = []
        for minor, patches in self.spark.releases.items():
            major, minor_number = (int(p) for p in minor.split("."))
            found.extend(Version(major, minor_number, patch) for patch in patches)
        return tuple(sorted(found))

    def spark_release(self, version: Version) -> SparkRelease:
        """The data about a Spark release; a minor-only version stands for all its releases."""
        found = self._release_index.get(version)
        return found if found is not None else self._resolve_release(version)

    @cached_property
    def _release_index(self) -> dict[Version, SparkRelease]:
        # Evaluation asks about the same few dozen releases thousands of times (the matrix).
        minors = dict.fromkeys(v.minor_version for v in self.spark_releases)
        return {v: self._resolve_release(v) for v in (*self.spark_releases, *minors)}

    def _resolve_release(self, version: Version) -> SparkRelease:
        members = self._releases_of(version)
        clients = {self._fabric8_row_client(v) for v in members}
        writes = self._one_row(self.spark.writes, members[0]).resources
        docs = [r for r in self.spark.docs_minimum_kubernetes if r.spark.contains(members[0])]
        return SparkRelease(
            version=version,
            fabric8=clients.pop() if len(clients) == 1 else None,
            writes=dict(writes),
            needs=tuple(n for n in self.spark.needs if n.spark.contains(members[0])),
            docs_minimum=docs[0] if docs else None,
        )

    def _releases_of(self, version: Version) -> tuple[Version, ...]:
        if version.patch is not None:
            members: tuple[Version, ...] = (version,) if version in self.spark_releases else ()
        else:
            members = tuple(v for v in self.spark_releases if v.minor_version == version)
        if not members:
            first, last = self.spark_releases[0], self.spark_releases[-1]
            raise InputError(
                f"Spark {version} is not a release kubespark knows",
                fix=f"give a released version between {first} and {last} (e.g. 3.5.1), or a minor "
                "such as 3.5",
            )
        return members

    def _fabric8_row_client(self, version: Version) -> Version:
        return self._one_row(self.spark.fabric8, version).client

    @staticmethod
    def _one_row(rows: tuple[Row, ...], version: Version) -> Row:
        # The loader guarantees exactly one row per release for the tables this is used on.
        return next(r for r in rows if r.spark.contains(version))

    # -- operator -------------------------------------------------------------------------------

    def operator_line(self, operator: OperatorVersion) -> OperatorLine:
        """The line an operator image belongs to; unknown releases are an input error."""
        for line in self.operators.lines:
            if operator.release in line.releases:
                return line
        known = [str(r) for line in self.operators.lines for r in line.releases]
        raise InputError(
            f"spark-operator {operator.tag} is not a release kubespark knows",
            fix=f"give a released tag such as v1beta2-1.6.2-3.5.0 or v2.1.0 (known releases "
            f"{known[0]} to {known[-1]})",
        )

    def operator_tag(self, line: OperatorLine, release: Version) -> str:
        """The image tag as kubeflow spells it: ``v1beta2-1.6.2-3.5.0`` or ``v2.1.0``."""
        return f"{line.api}-{release}-{line.spark}" if line.api else f"v{release}"

    # -- Kubernetes -----------------------------------------------------------------------------

    @cached_property
    def facts(self) -> dict[str, Fact]:
        return {f.id: f for f in self.kubernetes.facts}

    def fact(self, fact_id: str) -> Fact:
        return self.facts[fact_id]

    @cached_property
    def kube_minors(self) -> tuple[Version, ...]:
        """Every Kubernetes minor from kubespark's floor to the newest released, oldest first."""
        first, newest = self.kubernetes.minors.first, self.kubernetes.minors.newest
        return tuple(Version(1, m) for m in range(first.minor, newest.minor + 1))

    # -- issues ---------------------------------------------------------------------------------

    def issue(self, issue_id: str) -> Issue:
        for issue in self.issues:
            if issue.id == issue_id:
                return issue
        raise KeyError(issue_id)
