"""How each Spark release's ``spark-submit`` writes each kind, read without the knowledge base.

Owns a small table derived from the packaged knowledge base (every Spark release and minor it
knows -> kind -> ``create`` or ``apply``), kept on disk beside the knowledge base's own entry
(:mod:`kubespark.knowledge.disk_cache`, keyed by the same digest of the data). ``submit`` plans
its writes from it on every run; reading the whole knowledge base for that loads its record types,
~20 ms of the command's start-up. It must not judge what a server accepts: the planner does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from kubespark.knowledge.disk_cache import disk_cached
from kubespark.versions import Version

__all__ = ["write_methods"]


def write_methods(version: Version) -> Mapping[str, str]:
    """Per kind, how that release writes it; a release the data does not list, as its minor
    does; nothing for a minor it does not know."""
    table = _table()
    for candidate in (version, version.minor_version):
        found = table.get(candidate)
        if found is not None:
            return found
    return {}


@functools.cache
def _table() -> Mapping[Version, Mapping[str, str]]:
    return disk_cached("write-methods", _from_packaged)


def _from_packaged() -> dict[Version, dict[str, str]]:
    from kubespark.knowledge.loader import load_knowledge  # only when the disk cache misses

    kb = load_knowledge()
    known = (*kb.spark_releases, *dict.fromkeys(v.minor_version for v in kb.spark_releases))
    return {v: dict(kb.spark_release(v).writes) for v in known}
