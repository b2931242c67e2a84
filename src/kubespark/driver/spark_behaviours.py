"""Which spark-submit behaviours a Spark version has, read from ``data/spark_submit.yaml``.

Owns loading that file (each behaviour: a Spark version range and its evidence) and answering
"does Spark X do B?". It is the one place the driver builder compares versions; the facts
themselves live in the YAML, with their sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from kubespark.errors import DataError
from kubespark.versions import Version, VersionRange

__all__ = ["Behaviour", "SparkSubmitBehaviours", "behaviours_for", "defaults"]


@dataclass(frozen=True)
class Behaviour:
    name: str
    spark: VersionRange
    what: str
    evidence: str


@dataclass(frozen=True)
class SparkSubmitBehaviours:
    """The behaviours of one Spark version's spark-submit."""

    version: Version
    enabled: frozenset[str]

    def has(self, name: str) -> bool:
        if name not in _catalogue():
            raise DataError(f"unknown spark-submit behaviour {name!r}: not in spark_submit.yaml")
        return name in self.enabled


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("kubespark.driver").joinpath("data/spark_submit.yaml").read_text()
    # libyaml's safe loader when PyYAML has it: the same data, parsed an order of magnitude
    # faster (every submit reads this file).
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict) or "behaviours" not in data or "defaults" not in data:
        raise DataError("spark_submit.yaml needs 'behaviours' and 'defaults'")
    return data


@cache
def _catalogue() -> dict[str, Behaviour]:
    out = {}
    for name, entry in _raw()["behaviours"].items():
        missing = {"spark", "what", "evidence"} - set(entry)
        if missing:
            raise DataError(f"spark_submit.yaml: behaviour {name} lacks {sorted(missing)}")
        out[name] = Behaviour(
            name, VersionRange.parse(entry["spark"]), entry["what"], entry["evidence"]
        )
    return out


def catalogue() -> tuple[Behaviour, ...]:
    """Every behaviour the data file knows, for docs and tests."""
    return tuple(_catalogue().values())


@cache
def behaviours_for(version: Version) -> SparkSubmitBehaviours:
    # Versions here are releases (3.5.1); a minor-only version counts as its .0 patch.
    enabled = frozenset(b.name for b in _catalogue().values() if b.spark.contains(version))
    return SparkSubmitBehaviours(version, enabled)


def defaults() -> dict[str, Any]:
    """Spark's built-in defaults the builder needs (ports, overhead factors, paths)."""
    return dict(_raw()["defaults"])
