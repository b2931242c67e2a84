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
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

# importlib.resources and tempfile cost a command reading the cache more than the read itself
# (zipfile, shutil, random): the package is read from its directory, and tempfile is imported
# only to write an entry.
if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["cache_dir", "data_digest", "disk_cached"]

T = TypeVar("T")


def cache_dir() -> Path:
    """``$KUBESPARK_CACHE/knowledge``, else ``$XDG_CACHE_HOME`` (~/.cache)/kubespark/knowledge."""
    if os.environ.get("KUBESPARK_CACHE"):
        return Path(os.environ["KUBESPARK_CACHE"]) / "knowledge"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kubespark" / "knowledge"


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
    path = (directory or cache_dir()) / f"{name}-{data_digest()}.pickle"
    try:
        with path.open("rb") as file:
            value: T = pickle.load(file)  # written by this function only, in the user's cache
        return value
    except Exception:  # any unreadable entry is rebuilt, never trusted
        pass
    value = build()
    _write(path, value)
    return value


def _write(path: Path, value: object) -> None:
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half an entry.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as file:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        Path(file.name).replace(path)
    except OSError:
        pass  # a read-only or full cache directory only costs the computation next time
