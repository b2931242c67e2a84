"""The root of kubespark's error hierarchy, and the one shape bad input takes.

Every error a user can cause is a :class:`KubesparkError` carrying *what* is wrong (naming the
field path or thing), *why*, and *the fix*. The CLI turns these into one clear message and exit
code 2; it never shows a traceback for bad input. Errors from the Kubernetes API live in
``kubespark.kube.errors`` (keyed by HTTP status); this module must not know about HTTP.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class KubesparkError(Exception):
    """Base of every error kubespark raises on purpose."""

    def __init__(self, message: str, *, fix: str | None = None, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.where = where

    def render(self) -> str:
        """One line (two with a fix) a user can act on."""
        head = f"{self.where}: {self.message}" if self.where else self.message
        return f"{head}\n  fix: {self.fix}" if self.fix else head


class InputError(KubesparkError):
    """The user's input (a flag, a file, a field) is malformed or names something unknown."""


class VersionError(InputError):
    """A version string that cannot be read as the component it claims to be."""


class DataError(KubesparkError):
    """A bundled data file (knowledge base, API surface) is malformed: a bug, caught by tests."""


class UnreachableError(KubesparkError):
    """A server, file or endpoint the user named cannot be reached."""


@contextlib.contextmanager
def refusing_os_errors(what: str, *, where: str, fix: str | None = None) -> Iterator[None]:
    """Turn an ``OSError`` in the block into an :class:`InputError`: ``what`` and the system's
    reason (``cannot read x: Permission denied``), naming ``where``.

    A file or directory the user named that cannot be read or written is their input to mend,
    not a crash; the traceback would add nothing they can act on.
    """
    try:
        yield
    except OSError as err:
        raise InputError(f"{what}: {err.strerror or err}", where=where, fix=fix) from None
