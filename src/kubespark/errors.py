"""The root of kubespark's error hierarchy, and the one shape bad input takes.

Every error a user can cause is a :class:`KubesparkError` carrying *what* is wrong (naming the
field path or thing), *why*, and *the fix*. The CLI turns these into one clear message and exit
code 2; it never shows a traceback for bad input. Errors from the Kubernetes API live in
``kubespark.kube.errors`` (keyed by HTTP status); this module must not know about HTTP.
"""

from __future__ import annotations


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
