"""Console markup printed as plain text, without rich, when the output takes no styles.

Owns one promise: where rich would print no escape codes (the output is not a terminal and no
``FORCE_COLOR`` / ``TTY_COMPATIBLE`` asks for one), :class:`PlainConsole` prints exactly the text
rich prints for the same markup strings (``[bold]...[/]`` tags dropped, ``\\[`` escapes
resolved, the control codes rich strips stripped), so an offline verdict piped to a file or a
test need not import rich (about 15 ms of start-up). Anything it does not reproduce (a rich
renderable, a tab, a possible ``:emoji:`` code) is handed to a rich console for that call, so the
output stays rich's. :func:`escape` is rich's ``escape``, for markup built from data.
:func:`plain_table` lays out rich's default bordered ``Table`` (heavy head, folding columns) the
way rich does, for cells of single-width characters, so ``plan`` to a pipe need not import rich.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = [
    "MarkupConsole",
    "PlainConsole",
    "console_width",
    "escape",
    "plain_possible",
    "plain_table",
    "strip_markup",
]

# rich.markup's tag and escape patterns, and rich.control's stripped codes (rich 15).
_TAGS = re.compile(r"""((\\*)\[([a-z#/@][^[]*?)])""")
_ESCAPE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")
_EMOJI = re.compile(r"(:(\S*?)(?:(?:\-)(emoji|text))?:)")
# Every character of rich's emoji names (and their upper case: rich lowers a name before the
# lookup). A ``:...:`` with any other character (a URL's ``://host:port``) is not an emoji, so
# printing it needs no fallback to rich.
_EMOJI_NAME = re.compile(r"[\w!#&()*+.\u2019-]+")
_CONTROL = dict.fromkeys((7, 8, 11, 12, 13))
# rich._wrap's word: leading whitespace, the word, its trailing whitespace.
_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
# Characters one cell wide in rich's tables (tests/cli/test_plain.py asserts rich agrees); any
# other character (wide, combining, a control code) leaves the table to rich.
_SINGLE_CELL = frozenset(map(chr, range(0x20, 0x7F))) | frozenset("→—–…✓✗·")
# rich.box.HEAVY_HEAD: top, header row, the rule under the header, body rows, bottom.
_TOP, _HEAD, _HEAD_RULE, _ROW, _BOTTOM = "┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "└─┴┘"


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
        if len(texts) != len(objects) or any("\t" in t or _may_have_emoji(t) for t in texts):
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


def _may_have_emoji(text: str) -> bool:
    """Whether rich could replace a ``:name:`` code in ``text`` with an emoji."""
    return any(_EMOJI_NAME.fullmatch(m.group(2)) for m in _EMOJI.finditer(text))


def console_width() -> int:
    """The width rich's console takes for stdout (``Console.size``): ``COLUMNS``, else the first
    of stdin, stdout, stderr that is a terminal, else 80."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    for descriptor in (0, 1, 2):
        try:
            width = os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):  # not a terminal
            continue
        return width or 80
    return 80


def plain_table(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], width: int
) -> list[str] | None:
    """The lines ``Console(soft_wrap=True).print(Table(title=title, title_justify="left"))``
    prints without styles, every column ``overflow="fold"``; None where they could differ.

    Cells and title are markup, as rich's ``add_row``. rich's layout, ported: a column is as
    wide as its widest cell plus one space each side; a table wider than ``width`` narrows its
    widest columns first (``Table._collapse_widths``), then all evenly (``ratio_reduce``); a cell
    wraps at words and folds a word longer than its column (``rich._wrap.divide_line``); the title
    is printed as it is (``soft_wrap``: neither wrapped nor padded).
    """
    texts = [_plain_text(title), *(_plain_text(cell) for row in (headers, *rows) for cell in row)]
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    if any(text is None for text in texts) or not encoding.lower().startswith("utf"):
        return None  # an emoji code, a wide character, a newline, or ASCII boxes: rich's
    plain = [text or "" for text in texts]
    columns = len(headers)
    grid = [plain[1 + i * columns : 1 + (i + 1) * columns] for i in range(len(rows) + 1)]
    widths = _column_widths(grid, width - (columns + 1))
    if widths is None:
        return None
    lines = [plain[0]] if title else []
    lines.append(_rule(_TOP, widths))
    for index, row in enumerate(grid):
        edge = _HEAD if index == 0 else _ROW
        cells = [_wrap(text, w - 2) for text, w in zip(row, widths, strict=True)]
        height = max(len(cell) for cell in cells)
        if index == 0:  # rich aligns header cells at the bottom, the others at the top
            cells = [
                [" " * (w - 2)] * (height - len(c)) + c for c, w in zip(cells, widths, strict=True)
            ]
        for line in range(height):
            parts = [
                f" {cell[line] if line < len(cell) else ' ' * (w - 2)} "
                for cell, w in zip(cells, widths, strict=True)
            ]
            lines.append(edge[0] + edge[2].join(parts) + edge[3])
        if index == 0:
            lines.append(_rule(_HEAD_RULE, widths))
    lines.append(_rule(_BOTTOM, widths))
    return lines


def _plain_text(markup: str) -> str | None:
    """The text rich renders from a cell's markup, or None if plain_table cannot lay it out."""
    if _EMOJI.search(markup):
        return None
    text = strip_markup(markup).translate(_CONTROL)
    return text if all(char in _SINGLE_CELL for char in text) else None


def _rule(box: str, widths: Sequence[int]) -> str:
    return box[0] + box[2].join(box[1] * w for w in widths) + box[3]


def _column_widths(grid: Sequence[Sequence[str]], max_width: int) -> list[int] | None:
    """``Table._calculate_column_widths`` for padded, folding, flexible columns."""
    if max_width < 1 or not grid or not grid[0]:
        return None  # rich's degenerate layouts: not reproduced
    widths = [
        min(
            max(max((len(line) for line in row[i].splitlines()), default=0) + 2 for row in grid),
            max_width,
        )
        for i in range(len(grid[0]))
    ]
    widths = [w or 1 for w in widths]
    if sum(widths) > max_width:
        widths = _collapse(widths, max_width)
        if sum(widths) > max_width:
            widths = _ratio_reduce(sum(widths) - max_width, [1] * len(widths), widths, widths)
        # rich measures again at the narrowed widths: a column is at most as wide as its cells
        if any(w < 3 for w in widths):
            return None  # a column too narrow for its padding: rich's own corner cases
    return widths


def _collapse(widths: list[int], max_width: int) -> list[int]:
    """``Table._collapse_widths``: narrow the widest columns down to the next widest, repeatedly."""
    excess = sum(widths) - max_width
    while sum(widths) and excess > 0:
        widest = max(widths)
        second = max((w for w in widths if w != widest), default=0)
        ratios = [1 if w == widest else 0 for w in widths]
        if not widest - second:
            break
        widths = _ratio_reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        excess = sum(widths) - max_width
    return widths


def _ratio_reduce(
    total: int, ratios: Sequence[int], maximums: Sequence[int], values: Sequence[int]
) -> list[int]:
    """``rich._ratio.ratio_reduce``: take ``total`` from ``values`` in proportion to ``ratios``."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return list(values)
    remaining = total
    result: list[int] = []
    for ratio, most, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            taken = min(most, round(ratio * remaining / total_ratio))
            result.append(value - taken)
            remaining -= taken
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _wrap(text: str, width: int) -> list[str]:
    """``Text.wrap`` with ``overflow="fold"``, justified left: lines padded to ``width``."""
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            chunks = [word[i : i + width] for i in range(0, len(word), width)]
            for last, chunk in ((n == len(chunks) - 1, c) for n, c in enumerate(chunks)):
                if start:
                    breaks.append(start)
                if last:
                    offset = len(chunk)
                else:
                    start += len(chunk)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    bounds = [0, *breaks, len(text)]
    lines = []
    for begin, end in itertools.pairwise(bounds):
        line = text[begin:end]
        if len(line) > width:  # Text.rstrip_end: trailing whitespace beyond the width goes
            trailing = _TRAILING_SPACE.search(line)
            if trailing is not None:
                line = line[: len(line) - min(len(trailing.group(0)), len(line) - width)]
        lines.append(line[:width].ljust(width))
    return lines
