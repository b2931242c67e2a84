"""Finding an installed Python interpreter no newer than a given version.

Owns where interpreters are looked for: pyenv's versions (``$PYENV_ROOT``, else ``~/.pyenv``),
uv's managed Pythons (``$UV_PYTHON_INSTALL_DIR``, else ``~/.local/share/uv/python``), then
``pythonX.Y`` on PATH (pyenv's shims skipped: they fail for versions not selected). Used by the
process kubelet for Spark releases whose PySpark is older than the venv's Python. It reads the
file system only; it installs nothing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["older_python"]

_OLDEST_MINOR = 6  # no PySpark release kubespark runs supports an older Python 3


def _candidates(minor: int) -> list[Path]:
    name = f"python3.{minor}"
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    uv = Path(
        os.environ.get("UV_PYTHON_INSTALL_DIR")
        or Path.home() / ".local" / "share" / "uv" / "python"
    )
    found = sorted(pyenv.glob(f"3.{minor}.*/bin/{name}"), reverse=True)
    found += sorted(uv.glob(f"cpython-3.{minor}.*/bin/{name}"), reverse=True)
    on_path = shutil.which(name)
    if on_path and "/shims/" not in on_path:
        found.append(Path(on_path))
    return [p for p in found if p.is_file() and os.access(p, os.X_OK)]


def older_python(ceiling: tuple[int, int]) -> Path | None:
    """The newest installed Python 3 interpreter of at most ``ceiling`` (major, minor), or None."""
    major, newest = ceiling
    if major != 3:
        return None
    for minor in range(newest, _OLDEST_MINOR - 1, -1):
        found = _candidates(minor)
        if found:
            return found[0]
    return None
