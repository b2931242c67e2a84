"""Where a kubespark package's bundled data files are read from.

Owns one choice: a package installed as a directory (every wheel install, the source tree) is
read straight from that directory, without importing ``importlib.resources`` (which brings
zipfile, tempfile, shutil and random: 5 to 15 ms of an offline command's start-up on the 2-core
machines of docs/performance.md); a package inside a zip archive is read through
``importlib.resources``, as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

__all__ = ["package_files"]


def package_files(module_file: str, package: str) -> Path | Traversable:
    """The files of ``package``, whose ``__init__`` or any module directly in it is
    ``module_file`` (pass ``__file__``): its directory, else ``importlib.resources.files``."""
    here = Path(module_file).parent
    if here.is_dir():
        return here
    from importlib import resources  # a zipped install only

    return resources.files(package)
