"""Which Spark versions kubespark models, and the refusal of one it does not.

Owns the one judgement "is this Spark release inside what kubespark's data describes": at or
above ``supports.spark`` in ``kubespark.yaml`` (the oldest release whose submission kubespark
reproduces) and no newer than the newest minor in ``spark.yaml``'s releases (a later minor may
change what spark-submit writes, which the data cannot know yet). Callers (submit, check, the
operator) decide what a refusal does and how a user overrides it; this module only answers.
It must not read anything but the knowledge base.
"""

from __future__ import annotations

from kubespark.errors import InputError
from kubespark.knowledge.base import Knowledge
from kubespark.knowledge.loader import load_knowledge
from kubespark.versions import Version

__all__ = ["ALLOW_ANNOTATION", "ALLOW_FLAG", "require_modelled_spark", "unmodelled_spark"]

ALLOW_FLAG = "--allow-unmodelled-spark"
ALLOW_ANNOTATION = "kubespark.io/allow-unmodelled-spark"


def unmodelled_spark(version: Version, kb: Knowledge | None = None) -> str | None:
    """Why kubespark does not model ``version``, or None when it does."""
    kb = kb or load_knowledge()
    ranges = kb.kubespark.supports.spark
    if not any(r.contains(version) for r in ranges):
        allowed = " or ".join(str(r) for r in ranges)
        return f"Spark {version} is outside what kubespark models (Spark {allowed})"
    newest = max((_minor(m) for m in kb.spark.releases), default=None)
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
