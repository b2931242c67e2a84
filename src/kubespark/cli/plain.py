"""Console markup printed as plain text, without rich, when the output takes no styles.

Owns one promise: where rich would print no escape codes (the output is not a terminal and no
``FORCE_COLOR`` / ``TTY_COMPATIBLE`` asks for one), :class:`PlainConsole` prints exactly the text
rich prints for the same markup strings (``[bold]...[/]`` tags dropped, ``\\[`` escapes
resolved, the control codes rich strips stripped), so an offline verdict piped to a file or a
test need not import rich (about 15 ms of start-up). Anything it does not reproduce (a rich
renderable, a tab, a possible ``:emoji:`` code) is handed to a rich console for that call, so the
output stays rich's. :func:`escape` is rich's ``escape``, for markup built from data.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, Protocol

__all__ = ["MarkupConsole", "PlainConsole", "escape", "plain_possible", "strip_markup"]

# rich.markup's tag and escape patterns, and rich.control's stripped codes (rich 15).
_TAGS = re.compile(r"""((\\*)\[([a-z#/@][^[]*?)])""")
_ESCAPE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_EMOJI = re.compile(r"(:(\S*?)(?:(?:\-)(emoji|text))?:)")
_CONTROL = dict.fromkeys((7, 8, 11, 12, 13))


class MarkupConsole(Protocol):
    """What the verdict renderers need of a console: rich's ``print`` of markup strings."""

    def print(
        self, *objects: Any, highlight: bool | None = None, markup: bool | None = None
    ) -> None:
        """Print ``objects`` separated by spaces, then a newline."""


def escape(markup: str) -> str:
    """rich.markup.escape: square brackets that would read as a tag, escaped."""

    def double(match: re.Match[str]) -> str:
        backslashes, text = match.groups()
        return f"{backslashes}{backslashes}\\{text}"

    markup = _ESCAPE.sub(double, markup)
    if markup.endswith("\\") and not markup.endswith("\\\\"):
        return markup + "\\"
    return markup


def strip_markup(markup: str) -> str:
    """The text rich renders from ``markup``, without its styles (rich.markup's parse)."""
    out: list[str] = []
    position = 0
    for match in _TAGS.finditer(markup):
        full, escapes, _ = match.groups()
        start, end = match.span()
        out.append(markup[position:start])
        position = end
        if escapes:
            backslashes, escaped = divmod(len(escapes), 2)
            out.append("\\" * backslashes)
            if escaped:
                out.append(full[len(escapes) :])
    out.append(markup[position:])
    return "".join(out)


def plain_possible() -> bool:
    """Whether rich would print no styles on stdout (the checks of its ``Console.is_terminal``)."""
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "0"
    if os.environ.get("FORCE_COLOR") is not None:
        return os.environ["FORCE_COLOR"] == ""
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return True


class PlainConsole:
    """The subset of ``rich.console.Console(soft_wrap=True)`` the renderers use, in plain text."""

    def __init__(self) -> None:
        self._rich: Any = None

    def print(
        self, *objects: Any, highlight: bool | None = None, markup: bool | None = None
    ) -> None:
        texts = [o for o in objects if isinstance(o, str)]
        if len(texts) != len(objects) or any("\t" in t or _EMOJI.search(t) for t in texts):
            self._fallback().print(*objects, highlight=highlight, markup=markup)
            return
        if markup is not False:
            texts = [strip_markup(t) for t in texts]
        sys.stdout.write(" ".join(texts).translate(_CONTROL) + "\n")

    def _fallback(self) -> Any:
        if self._rich is None:
            from rich.console import Console

            self._rich = Console(soft_wrap=True)
        return self._rich
