"""Writing files that hold secrets (private keys, kubeconfigs with tokens): mode 0600 from birth.

Owns the one way kubespark writes such a file: created with mode 0600 (never written first and
narrowed after, which leaves a window where others can read it), an existing file truncated,
narrowed to 0600 *before* anything is written into it, and a symlink refused (a planted link would
send the secret elsewhere). An existing file kubespark cannot narrow (owned by another user) is
refused with a message. It must not decide what is secret: callers say so by using it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from kubespark.errors import refusing_os_errors

__all__ = ["PRIVATE_MODE", "write_private"]

PRIVATE_MODE = 0o600
log = logging.getLogger("kubespark")


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` readable and writable by its owner only."""
    payload = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    with refusing_os_errors(
        f"cannot write the private file {path}",
        where=str(path),
        fix="give a path you own that is not a symbolic link",
    ):
        fd = os.open(path, flags, PRIVATE_MODE)
    with os.fdopen(fd, "wb") as out:
        _narrow(fd, path)
        out.write(payload)


def _narrow(fd: int, path: Path) -> None:
    mode = stat.S_IMODE(os.fstat(fd).st_mode)
    if mode & 0o077 == 0:
        return
    with refusing_os_errors(
        f"{path} exists with mode {mode:04o} and cannot be narrowed to 0600",
        where=str(path),
        fix="remove the file or give another path",
    ):
        os.fchmod(fd, PRIVATE_MODE)
    log.warning("kubespark: %s had mode %04o; narrowed to 0600 before writing a secret", path, mode)
