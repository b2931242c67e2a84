"""Results derived from the packaged knowledge base, kept on disk between processes.

Owns one promise: a cached value is the value its builder returns for the data files and code as
they are now. Entries are named by a digest of every file of the ``kubespark.knowledge`` package
(its data and the modules whose classes are pickled) and of ``kubespark/versions.py``, so an
edited data file, a changed model or an upgrade misses the cache instead of reading a stale
answer. The cache lives in ``$KUBESPARK_CACHE/knowledge`` (else the user's cache directory, as
the pyspark cache does); an unreadable, corrupt or unwritable entry only costs the computation.
It must not cache anything that depends on input other than the packaged data.

Why: ``kubespark matrix`` evaluates every release against every minor (about 2,000
evaluations, a second of CPU); a CLI that starts in 150 ms cannot pay that on every run.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kubespark.picklecache import read_or_build, user_cache_dir

# importlib.resources and tempfile cost a command reading the cache more than the read itself
# (zipfile, shutil, random): the package is read from its directory, and tempfile is imported
# only to write an entry.
if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["cache_dir", "data_digest", "disk_cached"]

T = TypeVar("T")


def cache_dir() -> Path:
    """``$KUBESPARK_CACHE/knowledge``, else ``$XDG_CACHE_HOME`` (~/.cache)/kubespark/knowledge."""
    return user_cache_dir("knowledge")


@functools.cache
def data_digest() -> str:
    """A digest of the knowledge package's files (names and bytes) and of the version types."""
    here = Path(__file__).parent
    if here.is_dir():
        files = _files(here, "knowledge/")
        versions = (here.parent / "versions.py").read_bytes()
    else:  # a zipped install: only importlib.resources reads it
        from importlib import resources

        files = _files(resources.files("kubespark.knowledge"), "knowledge/")
        versions = (resources.files("kubespark") / "versions.py").read_bytes()
    files.append(("versions.py", versions))
    digest = hashlib.sha256(str(pickle.HIGHEST_PROTOCOL).encode())
    for name, data in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:24]


def _files(root: Traversable | Path, prefix: str) -> list[tuple[str, bytes]]:
    found: list[tuple[str, bytes]] = []
    for entry in root.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            found.extend(_files(entry, f"{name}/"))
        elif entry.is_file():
            found.append((name, entry.read_bytes()))
    return found


def disk_cached(name: str, build: Callable[[], T], *, directory: Path | None = None) -> T:
    """``build()``, read from disk when this data's entry exists, written there when not."""
    return read_or_build((directory or cache_dir()) / f"{name}-{data_digest()}.pickle", build)
