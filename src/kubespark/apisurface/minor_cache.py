"""A minor's decoded API surface, kept on disk between processes.

Owns one promise: a cached minor is what :func:`kubespark.apisurface.load` builds from the
bundled data as it is now. An entry is named by a digest of the files it is built from (the type
store, the minor's index) and of the modules whose classes it holds (``model.py``, ``load.py``),
so edited data or a changed model misses instead of reading a stale answer. Entries live in
``$KUBESPARK_CACHE/apisurface`` (else the user's cache directory, as the knowledge base's); an
unreadable, corrupt or unwritable entry, a missing or read-only directory only cost the build.

Why: an offline ``validate`` decodes the 700 KB type store and builds the minor's 500-odd types
on every run (about 30 ms of its start-up on the 2-core machines of docs/performance.md); the
pickled minor reads in about 8.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kubespark.picklecache import read_or_build, user_cache_dir

__all__ = ["cached_minor"]

T = TypeVar("T")


def cached_minor(name: str, sources: tuple[Path, ...], build: Callable[[], T]) -> T:
    """``build()``, read from the cache when an entry for ``sources`` as they are exists."""
    try:
        path = user_cache_dir("apisurface") / f"minor-{name}-{_digest(sources)}.pickle"
    except OSError:  # a source unreadable here: the build reports it
        return build()
    return read_or_build(path, build)


def _digest(sources: tuple[Path, ...]) -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256(str(pickle.HIGHEST_PROTOCOL).encode())
    for path in (*sources, here / "model.py", here / "load.py"):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]
