# ruff: noqa: PTH111, PTH118
# (os.path, not pathlib: the console script's first module calls this before pathlib is loaded)
"""Where kubespark keeps what it can always rebuild: one rule for every cache on disk.

``$KUBESPARK_CACHE/<part>``, else ``$XDG_CACHE_HOME/kubespark/<part>``, else
``~/.cache/kubespark/<part>``: pyspark releases, the knowledge base, API surfaces, discovery
documents, help texts and flag tables all follow it, so one variable moves (or isolates) them all.
Standard library ``os.path`` only: the console script's first module calls it before anything
else is loaded. It must not create, read or write anything.
"""

from __future__ import annotations

import os

__all__ = ["user_cache_dir"]


def user_cache_dir(part: str) -> str:
    """The directory of cache ``part`` (``"knowledge"``, ``"cli"``...), which may not exist yet."""
    root = os.environ.get("KUBESPARK_CACHE")
    if root:
        return os.path.join(root, part)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubespark", part)
