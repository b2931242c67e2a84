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

import copyreg
import hashlib
import io
import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

__all__ = ["cached_minor"]

T = TypeVar("T")


def cached_minor(name: str, sources: tuple[Path, ...], build: Callable[[], T]) -> T:
    """``build()``, read from the cache when an entry for ``sources`` as they are exists."""
    try:
        path = _cache_dir() / f"minor-{name}-{_digest(sources)}.pickle"
    except OSError:  # a source unreadable here: the build reports it
        return build()
    try:
        with path.open("rb") as file:
            value: T = pickle.load(file)  # written by this module only, in the user's cache
        return value
    except Exception:  # any unreadable entry is rebuilt, never trusted
        pass
    value = build()
    _write(path, value)
    return value


def _cache_dir() -> Path:
    if os.environ.get("KUBESPARK_CACHE"):
        return Path(os.environ["KUBESPARK_CACHE"]) / "apisurface"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kubespark" / "apisurface"


def _digest(sources: tuple[Path, ...]) -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256(str(pickle.HIGHEST_PROTOCOL).encode())
    for path in (*sources, here / "model.py", here / "load.py"):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


def _proxy(items: dict[str, Any]) -> Mapping[str, Any]:
    """Unpickles a read-only mapping (``MappingProxyType`` itself cannot be pickled)."""
    return MappingProxyType(items)


def _write(path: Path, value: object) -> None:
    import tempfile  # only when an entry is written

    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    # Per pickler, not copyreg's process-wide table.
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        MappingProxyType: lambda proxy: (_proxy, (dict(proxy),)),
    }
    pickler.dump(value)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half an entry.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as file:
            file.write(buffer.getvalue())
        Path(file.name).replace(path)
    except OSError:
        pass  # a read-only or full cache directory only costs the build next time
