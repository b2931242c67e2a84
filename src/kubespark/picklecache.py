"""Values kept on disk between processes as pickles, in kubespark's user cache.

Owns the mechanics the knowledge base's cache and the API surface's minor cache share: where
the cache lives (``$KUBESPARK_CACHE/<part>``, else ``$XDG_CACHE_HOME`` or ``~/.cache`` under
``kubespark/<part>``), reading an entry, and writing one aside then renaming it so a reader never
sees half of it. An unreadable, corrupt or unwritable entry, a missing or read-only directory,
only cost the build. It must not decide what an entry is keyed by: its callers name entries by
digests of what they are built from.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from kubespark import usercache

__all__ = ["read_or_build", "user_cache_dir"]

T = TypeVar("T")


def user_cache_dir(part: str) -> Path:
    """The directory of cache ``part``, by :mod:`kubespark.usercache`'s rule."""
    return Path(usercache.user_cache_dir(part))


def read_or_build(path: Path, build: Callable[[], T]) -> T:
    """The value pickled at ``path``; else ``build()``, written there for the next process."""
    try:
        with path.open("rb") as file:
            value: T = pickle.load(file)  # written by this module only, in the user's cache
        return value
    except Exception:  # any unreadable entry is rebuilt, never trusted
        pass
    value = build()
    _write(path, value)
    return value


def _proxy(items: dict[str, Any]) -> Mapping[str, Any]:
    """Unpickles a read-only mapping (``MappingProxyType`` itself cannot be pickled)."""
    return MappingProxyType(items)


def _write(path: Path, value: object) -> None:
    import tempfile  # only when an entry is written: a reading command need not pay for it

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
