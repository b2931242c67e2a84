"""Which Spark versions kubespark models, and the refusal of one it does not.

Owns the one judgement "is this Spark release inside what kubespark's data describes": at or
above ``supports.spark`` in ``kubespark.yaml`` (the oldest release whose submission kubespark
reproduces) and no newer than the newest minor in ``spark.yaml``'s releases (a later minor may
change what spark-submit writes, which the data cannot know yet). Callers (submit, check, the
operator) decide what a refusal does and how a user overrides it; this module only answers.
It must not read anything but the knowledge base.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubespark.errors import InputError
from kubespark.knowledge.disk_cache import disk_cached
from kubespark.versions import Version, VersionRange

if TYPE_CHECKING:
    from kubespark.knowledge.base import Knowledge

__all__ = [
    "ALLOW_ANNOTATION",
    "ALLOW_FLAG",
    "ModelledSpark",
    "modelled_spark",
    "require_modelled_spark",
    "unmodelled_spark",
]

ALLOW_FLAG = "--allow-unmodelled-spark"
ALLOW_ANNOTATION = "kubespark.io/allow-unmodelled-spark"


@dataclass(frozen=True, slots=True)
class ModelledSpark:
    """The two facts the judgement reads: the supported ranges and the newest minor described."""

    ranges: tuple[VersionRange, ...]
    newest_minor: tuple[int, int] | None

    @classmethod
    def of(cls, kb: Knowledge) -> ModelledSpark:
        newest = max((_minor(m) for m in kb.spark.releases), default=None)
        return cls(tuple(kb.kubespark.supports.spark), newest)


@functools.cache
def modelled_spark() -> ModelledSpark:
    """The packaged knowledge base's answer, kept on disk beside it: a ``submit`` reads these
    two facts without loading the knowledge base's record types (~20 ms of its start-up). Once
    per process, as the knowledge base itself: the operator asks for every application."""
    return disk_cached("modelled-spark", _from_packaged)


def _from_packaged() -> ModelledSpark:
    from kubespark.knowledge.loader import load_knowledge  # only when the disk cache misses

    return ModelledSpark.of(load_knowledge())


def unmodelled_spark(version: Version, kb: Knowledge | None = None) -> str | None:
    """Why kubespark does not model ``version``, or None when it does."""
    facts = ModelledSpark.of(kb) if kb is not None else modelled_spark()
    ranges = facts.ranges
    if not any(r.contains(version) for r in ranges):
        allowed = " or ".join(str(r) for r in ranges)
        return f"Spark {version} is outside what kubespark models (Spark {allowed})"
    newest = facts.newest_minor
    if newest is not None and (version.major, version.minor) > newest:
        return (
            f"Spark {version} is newer than kubespark's data knows (the newest release it "
            f"describes is {newest[0]}.{newest[1]}); what its spark-submit writes is unknown"
        )
    return None


def require_modelled_spark(version: Version, *, where: str, override: str) -> None:
    """Raise an InputError for a version kubespark does not model, naming the override."""
    reason = unmodelled_spark(version)
    if reason is not None:
        raise InputError(
            reason,
            where=where,
            fix=f"use a Spark release kubespark models, or {override} to try anyway",
        )


def _minor(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor)
