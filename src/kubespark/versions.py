"""Version strings as real inputs spell them, and ranges over them.

Owns parsing of Kubernetes server versions (``v1.19.16-eks-25803e``, ``1.20.4-gke.2200``,
``v1.27.3+k3s1``), Spark versions (``3.5.1``, and the ones hidden in image references such as
``apache/spark:3.5.1-scala2.12-java17-python3-ubuntu``), kubeflow spark-operator tags
(``v1beta2-1.6.2-3.5.0``, ``v2.1.0``, ``ghcr.io/kubeflow/spark-operator/controller:2.1.0``) and the
range notation the data files use (``">=1.20.0,<1.20.6"``).

It knows the *syntax* of versions only. Which versions exist, and what they mean, is data in the
knowledge base and the API surface; nothing here compares a version against a fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import total_ordering
from typing import Literal

from kubespark.errors import VersionError

__all__ = [
    "Coverage",
    "OperatorVersion",
    "Version",
    "VersionRange",
    "parse_jdk_version",
    "parse_kube_version",
    "parse_operator_version",
    "parse_spark_version",
    "spark_version_from_image",
]

_KUBE_RE = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?P<vendor>[-+].*)?$")
_SPARK_RE = re.compile(
    r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?P<vendor>-(?:preview\d*|rc\d+|SNAPSHOT))?$"
)
# The leading part of an image tag that names a Spark version:
# "3.5.1-scala2.12-java17-python3-ubuntu", "v3.1.1", "spark-3.5.0", "3.5.0-hadoop3".
# Everything after the version is a build flavour.
_SPARK_TAG_RE = re.compile(r"^(?:spark-|v)?(?P<version>\d+\.\d+(?:\.\d+)?)(?:[-_.].*)?$")
_OPERATOR_TAG_RE = re.compile(
    r"^v?(?:(?P<api>v1beta\d+)-)?(?P<op>\d+\.\d+\.\d+)(?:-(?P<spark>\d+\.\d+\.\d+))?$"
)


@total_ordering
@dataclass(frozen=True)
class Version:
    """A ``MAJOR.MINOR[.PATCH]`` version; ``patch`` is None when only the minor is known.

    A minor-only version stands for every patch of that minor: whether a range holds it is then
    answered by :meth:`VersionRange.coverage`, which can say "some patches".
    """

    major: int
    minor: int
    patch: int | None = None
    vendor: str = ""  # build suffix as given: "-eks-25803e", "+k3s1", "-preview2"; not compared

    def __str__(self) -> str:
        return (
            f"{self.major}.{self.minor}"
            if self.patch is None
            else (f"{self.major}.{self.minor}.{self.patch}")
        )

    @property
    def minor_version(self) -> Version:
        """The minor this version belongs to (``1.20.6`` -> ``1.20``)."""
        return Version(self.major, self.minor)

    @property
    def is_minor_only(self) -> bool:
        return self.patch is None

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch or 0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.major, self.minor, self.patch) == (other.major, other.minor, other.patch)

    def __hash__(self) -> int:
        return hash((self.major, self.minor, self.patch))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        # "1.20" sorts before "1.20.0": the minor as a whole precedes its first patch.
        return (self._key(), self.patch is not None) < (other._key(), other.patch is not None)

    def next_minor(self) -> Version:
        return Version(self.major, self.minor + 1)

    def with_patch(self, patch: int) -> Version:
        return Version(self.major, self.minor, patch, self.vendor)


def parse_kube_version(text: str, *, what: str = "Kubernetes version") -> Version:
    """Read a Kubernetes server version as API servers and vendors report it."""
    fix = (
        "give MAJOR.MINOR[.PATCH] as the server reports it, e.g. 1.19, 1.20.6 or "
        "v1.19.16-eks-25803e"
    )
    return _matched(_KUBE_RE, text, what, fix, majors=range(1, 2))


def parse_spark_version(text: str, *, what: str = "Spark version") -> Version:
    """Read a Spark release version (``3.5.1``, ``3.5``, ``4.0.0-preview2``)."""
    fix = (
        "give MAJOR.MINOR[.PATCH], e.g. 3.5.1, or an image whose tag starts with it "
        "(apache/spark:3.5.1-scala2.12-java17-python3-ubuntu)"
    )
    return _matched(_SPARK_RE, text, what, fix, majors=range(1, 10))


def _matched(pattern: re.Pattern[str], text: str, what: str, fix: str, *, majors: range) -> Version:
    """``text`` read by ``pattern`` (groups major, minor, patch, vendor), or a VersionError."""
    m = pattern.match(text.strip())
    if not m or int(m["major"]) not in majors:
        raise VersionError(f"{text!r} is not a {what}", fix=fix)
    patch = int(m["patch"]) if m["patch"] is not None else None
    return Version(int(m["major"]), int(m["minor"]), patch, m["vendor"] or "")


def image_tag(reference: str) -> str | None:
    """The tag of an image reference, or None (``repo@sha256:...``, ``host:5000/repo``)."""
    ref = reference.strip().split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def spark_version_from_image(reference: str) -> Version | None:
    """The Spark version an image tag reveals (``spark:3.5.0`` -> 3.5.0), else None."""
    tag = image_tag(reference)
    if tag is None:
        return None
    m = _SPARK_TAG_RE.match(tag)
    if not m:
        return None
    try:
        return parse_spark_version(m["version"])
    except VersionError:
        return None


@dataclass(frozen=True)
class OperatorVersion:
    """A kubeflow spark-operator release as its image tag spells it.

    ``v1beta2-1.6.2-3.5.0`` is operator 1.6.2 serving API v1beta2 with Spark 3.5.0 in its image;
    from v2 the tag (``v2.1.0``) no longer names the bundled Spark; the knowledge base knows it.
    """

    release: Version
    bundled_spark: Version | None
    tag: str

    def __str__(self) -> str:
        return self.tag


# 8u252, 1.8.0_252, 1.8.0-252 (Java 8's spellings); 11, 17.0.9, 21.0.2+13 (later ones).
_JDK8_RE = re.compile(r"^(?:1\.)?8(?:u|\.0[_-])(?P<update>\d+)")
_JDK_RE = re.compile(r"^(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?(?:[+-].*)?$")


def parse_jdk_version(text: str) -> Version:
    """A JDK as people write it; 8u252 becomes 8.0.252, the form the knowledge base's ranges use."""
    raw = text.strip()
    old = _JDK8_RE.match(raw)
    if old:
        return Version(8, 0, int(old["update"]))
    new = _JDK_RE.match(raw)
    if new and int(new["major"]) >= 8:
        return Version(int(new["major"]), int(new["minor"] or 0), int(new["patch"] or 0))
    raise VersionError(
        f"{text!r} is not a JDK version",
        fix="give it as java -version prints it: 8u252, 11, 17.0.9",
    )


def parse_operator_version(text: str) -> OperatorVersion:
    """Read an operator tag or image (``ghcr.io/kubeflow/spark-operator/controller:2.1.0``)."""
    raw = text.strip()
    tag = image_tag(raw) if ("/" in raw or ":" in raw) else raw
    m = _OPERATOR_TAG_RE.match(tag or "")
    if not m:
        raise VersionError(
            f"{text!r} is not a spark-operator release",
            fix="give an image tag such as v1beta2-1.6.2-3.5.0 or v2.1.0, or an image reference "
            "such as ghcr.io/kubeflow/spark-operator/controller:2.1.0",
        )
    release = parse_kube_like(m["op"])
    spark = parse_spark_version(m["spark"]) if m["spark"] else None
    return OperatorVersion(release, spark, tag or raw)


def parse_kube_like(text: str) -> Version:
    """A plain ``MAJOR.MINOR.PATCH`` of any component (operator releases, fabric8)."""
    parts = text.split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise VersionError(f"{text!r} is not MAJOR.MINOR[.PATCH]")
    patch = int(parts[2]) if len(parts) == 3 else None
    return Version(int(parts[0]), int(parts[1]), patch)


class Coverage(Enum):
    """How much of a minor-only version a range holds."""

    ALL = "all"
    SOME = "some"
    NONE = "none"


_Op = Literal[">=", ">", "<=", "<", "==", "!="]
_CLAUSE_RE = re.compile(r"^(?P<op>>=|<=|==|!=|>|<)?\s*(?P<version>v?\d+\.\d+(?:\.\d+)?)$")
_PATCH_PROBE = 1000  # a patch number beyond any real release, to test "every patch of a minor"


@dataclass(frozen=True)
class VersionRange:
    """A conjunction of clauses such as ``">=1.20.0,<1.20.6"``; the empty range holds everything."""

    clauses: tuple[tuple[_Op, Version], ...] = ()
    text: str = ""

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        clauses: list[tuple[_Op, Version]] = []
        for part in (p.strip() for p in text.split(",")):
            if not part or part == "*":
                continue
            m = _CLAUSE_RE.match(part)
            if not m:
                raise VersionError(
                    f"{part!r} in range {text!r} is not a version clause",
                    fix="write clauses like '>=1.20.0' or '<1.21', joined by commas",
                )
            op: _Op = m["op"] or "=="  # type: ignore[assignment]
            clauses.append((op, parse_kube_like(m["version"].lstrip("v"))))
        return cls(tuple(clauses), text.strip())

    def __str__(self) -> str:
        return self.text or "*"

    def contains(self, version: Version) -> bool:
        """Whether a version is in the range; a minor-only version counts as its ``.0`` patch.

        Use :meth:`coverage` where the patch is unknown and might matter.
        """
        full = version if version.patch is not None else version.with_patch(0)
        return all(_holds(op, full, bound) for op, bound in self.clauses)

    def coverage(self, version: Version) -> Coverage:
        """For a minor-only version: whether all, some or none of its patches are in range."""
        if version.patch is not None:
            return Coverage.ALL if self.contains(version) else Coverage.NONE
        probes = {0, _PATCH_PROBE}
        probes |= {
            b.patch for _, b in self.clauses if b.patch is not None and _same_minor(b, version)
        }
        probes |= {p - 1 for p in probes if p > 0} | {p + 1 for p in probes}
        hits = [self.contains(version.with_patch(p)) for p in sorted(probes)]
        if all(hits):
            return Coverage.ALL
        return Coverage.SOME if any(hits) else Coverage.NONE


def _same_minor(a: Version, b: Version) -> bool:
    return (a.major, a.minor) == (b.major, b.minor)


def _holds(op: _Op, version: Version, bound: Version) -> bool:
    # A bound without a patch compares as ".0" except for "<=" and "==", where "1.20" means
    # "anything in 1.20" as people write it.
    if bound.patch is None and op in ("<=", "==", "!="):
        same = _same_minor(version, bound)
        if op == "==":
            return same
        if op == "!=":
            return not same
        return same or version < bound
    full = bound if bound.patch is not None else bound.with_patch(0)
    key, ref = (version.major, version.minor, version.patch or 0), full._key()
    return {
        ">=": key >= ref,
        ">": key > ref,
        "<=": key <= ref,
        "<": key < ref,
        "==": key == ref,
        "!=": key != ref,
    }[op]
