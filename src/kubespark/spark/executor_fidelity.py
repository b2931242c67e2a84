"""Executor fields the real Spark driver overwrites, for the compat note at submission.

Owns reading ``data/executor_fidelity.yaml`` (each overwritten field with the Spark releases
that overwrite it, its Spark source and the real runs that measured it) and finding, in a raw
SparkApplication spec, the fields that are set and will not reach the executor pods of its Spark
release. ``kubespark validate`` reports them as warnings, ``submit`` and ``check -f`` as notes.
It judges a document only; it does not change one.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from kubespark.errors import DataError, VersionError
from kubespark.packagedata import package_files
from kubespark.versions import (
    Version,
    VersionRange,
    parse_spark_version,
    spark_version_from_image,
)

__all__ = ["ExecutorFieldLost", "executor_fields_lost", "spark_release_of"]


@dataclass(frozen=True, slots=True)
class ExecutorFieldLost:
    """A field set in the application that the executors of its Spark release will not carry."""

    id: str
    path: str  # under spec, e.g. executor.memoryLimit
    spark: Version
    lost: str
    fix: str
    source: str

    @property
    def message(self) -> str:
        return (
            f"spec.{self.path} does not reach the executor pods on Spark {self.spark}: {self.lost}"
        )


@dataclass(frozen=True, slots=True)
class _Fact:
    id: str
    fields: tuple[str, ...]
    spark: VersionRange
    lost: str
    fix: str
    source: str


@functools.cache
def _facts() -> tuple[_Fact, ...]:
    text = (
        package_files(__file__, "kubespark.spark")
        .joinpath("data", "executor_fidelity.yaml")
        .read_text()
    )
    # libyaml's safe loader when PyYAML has it: the same data, parsed an order of magnitude
    # faster (every submit reads this file).
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(doc, dict) or not isinstance(doc.get("overwritten"), list):
        raise DataError("executor_fidelity.yaml needs a list 'overwritten'")
    return tuple(
        _Fact(
            id=str(raw["id"]),
            fields=tuple(str(f) for f in raw["fields"]),
            spark=VersionRange.parse(str(raw["spark"])),
            lost=" ".join(str(raw["lost"]).split()),
            fix=" ".join(str(raw["fix"]).split()),
            source=str(raw["source"]),
        )
        for raw in doc["overwritten"]
    )


def _value(spec: Mapping[str, Any], path: str) -> Any:
    node: Any = spec
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def executor_fields_lost(spec: Mapping[str, Any], spark: Version) -> tuple[ExecutorFieldLost, ...]:
    """The set fields of a raw application ``spec`` that Spark ``spark`` overwrites in executors."""
    out = []
    for fact in _facts():
        if not fact.spark.contains(spark):
            continue
        given = next(
            (f for f in fact.fields if _value(spec, f) not in (None, "", [], {}, False)), None
        )
        if given is not None:
            out.append(ExecutorFieldLost(fact.id, given, spark, fact.lost, fact.fix, fact.source))
    return tuple(out)


def spark_release_of(spec: Mapping[str, Any]) -> Version | None:
    """The Spark release of a raw application spec (sparkVersion, else the image tag), or None."""
    text = spec.get("sparkVersion")
    if isinstance(text, str) and text:
        try:
            return parse_spark_version(text)
        except VersionError:
            return None
    image = spec.get("image") or _value(spec, "driver.image")
    return spark_version_from_image(image) if isinstance(image, str) else None
