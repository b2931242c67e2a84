"""Which component versions a failure's text shows: Spark, fabric8, Kubernetes, the operator.

Owns the version hints (``doctor/data/version_hints.yaml``: jar names, labels, kubectl and
``/version`` output, image tags), reading a version out of a line with them, and keeping the
distinct versions seen per component with the first line that showed each. Which Spark a fabric8
client belongs to is the knowledge base's answer (:func:`spark_from_fabric8`); nothing here
compares versions against facts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from kubespark.doctor.lines import Line
from kubespark.doctor.prefilter import fragments_of_regex
from kubespark.errors import DataError, VersionError
from kubespark.knowledge import Knowledge
from kubespark.versions import (
    Version,
    parse_kube_like,
    parse_kube_version,
    parse_operator_version,
    parse_spark_version,
)

__all__ = ["Component", "Hint", "Inferred", "VersionLedger", "load_hints", "spark_from_fabric8"]

Component = Literal["spark", "fabric8", "kubernetes", "operator"]
COMPONENTS: tuple[Component, ...] = ("spark", "fabric8", "kubernetes", "operator")
MAX_PER_COMPONENT = 5


class _HintRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    component: Component
    what: str
    regex: str


class _HintFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    hints: tuple[_HintRow, ...]


@dataclass(frozen=True)
class Hint:
    component: Component
    what: str
    regex: re.Pattern[str]
    fragments: tuple[str, ...]


@functools.cache
def load_hints() -> tuple[Hint, ...]:
    """The packaged hints, validated; a malformed file is a :class:`DataError` naming the row."""
    path = resources.files("kubespark.doctor") / "data" / "version_hints.yaml"
    try:
        rows = _HintFile.model_validate(yaml.safe_load(path.read_text())).hints
    except ValidationError as err:
        raise DataError(f"doctor/data/version_hints.yaml: {err}") from None
    hints = []
    for i, row in enumerate(rows):
        try:
            compiled = re.compile(row.regex)
        except re.error as err:
            raise DataError(f"doctor/data/version_hints.yaml: hints[{i}].regex: {err}") from None
        if "v" not in compiled.groupindex:
            raise DataError(f"doctor/data/version_hints.yaml: hints[{i}].regex has no group 'v'")
        hints.append(Hint(row.component, row.what, compiled, fragments_of_regex(row.regex)))
    return tuple(hints)


_PARSERS: dict[Component, Callable[[str], Version]] = {
    "spark": parse_spark_version,
    "fabric8": parse_kube_like,
    "kubernetes": parse_kube_version,
    "operator": lambda text: parse_operator_version(text).release,
}


@dataclass(frozen=True, slots=True)
class Inferred:
    """One version of one component, where it showed, and how it was read."""

    component: Component
    version: Version
    spelled: str  # as the text wrote it: "v1.19.16-eks-25803e", "v1beta2-1.6.2-3.5.0"
    what: str
    line: Line | None  # None when derived (Spark from its fabric8 client)

    def as_json(self) -> dict[str, object]:
        return {
            "component": self.component,
            "version": str(self.version),
            "spelled": self.spelled,
            "from": self.what,
            "where": self.line.as_json() if self.line else None,
        }


@dataclass
class VersionLedger:
    """The distinct versions seen per component, first sighting kept, bounded."""

    seen: dict[Component, list[Inferred]] = field(default_factory=dict)

    def read(self, hint: Hint, line: Line) -> None:
        for m in hint.regex.finditer(line.text):
            spelled = m["v"]
            try:
                version = _PARSERS[hint.component](spelled)
            except VersionError:
                continue
            self.add(Inferred(hint.component, version, spelled, hint.what, line))

    def add(self, found: Inferred) -> None:
        known = self.seen.setdefault(found.component, [])
        if len(known) < MAX_PER_COMPONENT and all(k.version != found.version for k in known):
            known.append(found)

    def versions(self, component: Component) -> tuple[Inferred, ...]:
        return tuple(self.seen.get(component, ()))

    def complete(self, kb: Knowledge) -> VersionLedger:
        """Add what follows from the knowledge base: the Spark that bundles a fabric8 seen."""
        if not self.versions("spark"):
            for client in self.versions("fabric8"):
                spark = spark_from_fabric8(kb, client.version)
                if spark is not None:
                    why = f"the Spark line bundling fabric8 {client.version} ({client.what})"
                    self.add(Inferred("spark", spark, str(spark), why, client.line))
        return self


def spark_from_fabric8(kb: Knowledge, client: Version) -> Version | None:
    """The Spark minor whose releases bundle ``client``, if exactly one minor does."""
    minors = {v.minor_version for v in kb.spark_releases if kb.spark_release(v).fabric8 == client}
    return minors.pop() if len(minors) == 1 else None
