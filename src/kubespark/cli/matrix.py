"""``kubespark matrix``: every known release on every Kubernetes minor, and the deciding issues.

Renders :func:`kubespark.knowledge.build_matrix` as a terminal heatmap of one path
(``--path``), as JSON (``-o json``, every path) or as one self-contained HTML page (``--html FILE``:
inline CSS and JS, no network) whose cells show their issues, reasons and remedies on hover and
click. It must not evaluate anything itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from kubespark import __version__
from kubespark.cli.output import EXIT_OK, OutputFormat, markup_stdout, print_json
from kubespark.cli.plain import MarkupConsole, PlainConsole, escape
from kubespark.cli.verdicts import VERDICT_STYLE
from kubespark.errors import refusing_os_errors
from kubespark.knowledge import (
    Cell,
    Matrix,
    PathName,
    Verdict,
    build_matrix,
    load_knowledge,
    matrix_view,
)
from kubespark.knowledge import Table as MatrixTable

# typer and the shared flags are named only in the signature's annotations, which stay text
# (PEP 563) until kubespark.cli.app resolves them to build the typer command: entry's short path
# runs this command without importing typer.
if TYPE_CHECKING:
    import typer

    from kubespark.cli.flags import OutputFlag

# rich (its console and Table) is imported only for a terminal: a piped matrix is plain text.

__all__ = ["matrix", "matrix_html"]

_PLACEHOLDER = "__MATRIX_JSON__"


def matrix(
    output: OutputFlag = OutputFormat.TEXT,
    html: Annotated[
        Path | None, typer.Option("--html", help="write one self-contained HTML page to FILE")
    ] = None,
    path: Annotated[
        PathName, typer.Option("--path", help="which submission path the terminal table shows")
    ] = PathName.SPARK_SUBMIT,
) -> None:
    """Show the verdict of every Spark release (and operator image) on every Kubernetes minor."""
    built = build_matrix()
    view = matrix_view(built)
    if html is not None:
        _write(html, matrix_html(view))
    if output is OutputFormat.JSON:
        print_json(view)
    else:
        console = markup_stdout()
        _render_table(console, built.table(path), built)
        if html is not None:
            console.print(f"\nwrote {escape(str(html))}")
    raise SystemExit(EXIT_OK)


def matrix_html(view: dict[str, Any]) -> str:
    """The page: the template with the matrix data embedded (``</`` escaped for the script tag)."""
    from importlib import resources  # --html only

    template = resources.files("kubespark.cli").joinpath("templates/matrix.html")
    data = json.dumps({**view, "generator": __version__}, separators=(",", ":"))
    return template.read_text(encoding="utf-8").replace(_PLACEHOLDER, data.replace("</", "<\\/"))


def _write(target: Path, page: str) -> None:
    with refusing_os_errors(
        "cannot write the page",
        where=str(target),
        fix="give --html a path in an existing, writable directory",
    ):
        target.write_text(page, encoding="utf-8")


def _render_table(console: MarkupConsole, table: MatrixTable, built: Matrix) -> None:
    rows = [(row.label, [_cell(cell) for cell in row.cells]) for row in table.rows]
    lines = _plain_grid(table.title, built, rows) if isinstance(console, PlainConsole) else None
    if lines is None:
        _print_grid(console, table.title, built, rows)
    else:
        for line in lines:
            console.print(line, markup=False)
    deciding = dict.fromkeys(i for row in table.rows for cell in row.cells for i in cell.issue_ids)
    console.print(
        "[dim]columns: Kubernetes 1.<minor>   "
        "[green]✓[/] compatible  [green]~[/] compatible with caveats  "
        "[yellow]?[/] depends (a patch, or a version not given)  [red]✗[/] incompatible[/]"
    )
    kb = load_knowledge()
    for issue_id in deciding:
        console.print(f"  [bold]{issue_id}[/]: {escape(kb.issue(issue_id).title)}")
    console.print("[dim]details per cell: kubespark check --spark X --k8s Y, or --html FILE[/]")


def _cell(cell: Cell) -> tuple[str, str]:
    """The cell's symbol and style: ``~`` for compatible with caveats."""
    symbol, style = VERDICT_STYLE[cell.verdict]
    if cell.assessment.caveats and cell.verdict is Verdict.COMPATIBLE:
        symbol = "~"
    return symbol, style


Grid = list[tuple[str, list[tuple[str, str]]]]


def _print_grid(console: MarkupConsole, title: str, built: Matrix, rows: Grid) -> None:
    """The heatmap as a rich Table (a terminal: styles)."""
    from rich.console import Console
    from rich.table import Table

    grid = Table(title=title, title_justify="left", box=None, padding=(0, 0, 0, 1))
    grid.add_column("release", justify="right", no_wrap=True)
    for minor in built.kubernetes:
        grid.add_column(f"{minor.minor}", justify="center", no_wrap=True)
    for label, cells in rows:
        grid.add_row(escape(label), *(f"[{style}]{symbol}[/]" for symbol, style in cells))
    if isinstance(console, Console):
        # Pipes default to 80 columns; a heatmap row must not wrap.
        widest = max(len(label) for label, _ in rows) + 3 * len(built.kubernetes) + 4
        console.width = max(console.width, widest)
    console.print(grid)


def _plain_grid(title: str, built: Matrix, rows: Grid) -> list[str] | None:
    """The lines rich prints for that Table without styles, or None where they could differ.

    rich lays this table out simply (no box, one space before each cell, no wrapping): a column
    is as wide as its widest cell, a label right-justified, a symbol centred. Cells are single
    characters and labels plain text of single-width characters; a title wider than the table
    (rich would wrap it) is left to rich.
    """
    labels = [label for label, _ in rows]
    headers = [f"{minor.minor}" for minor in built.kubernetes]
    label_width = max(len("release"), *(len(label) for label in labels))
    widths = [max(len(h), 1) for h in headers]
    if len(title) > 1 + label_width + sum(1 + w for w in widths):
        return None
    if not all(_single_width(label) for label in labels):
        return None
    lines = [title, " " + "release".rjust(label_width) + "".join(f" {h}" for h in headers)]
    for label, (_, cells) in zip(labels, rows, strict=True):
        centred = (_centre(symbol, width) for (symbol, _), width in zip(cells, widths, strict=True))
        lines.append(" " + label.rjust(label_width) + "".join(f" {c}" for c in centred))
    return lines


def _single_width(text: str) -> bool:
    """Every character one column wide, as rich measures it (no wide, combining or control)."""
    import unicodedata

    return all(
        c.isprintable()
        and not unicodedata.combining(c)
        and unicodedata.east_asian_width(c) in "NaA"
        for c in text
    )


def _centre(text: str, width: int) -> str:
    # rich centres with the odd space on the right.
    excess = width - len(text)
    return " " * (excess // 2) + text + " " * (excess - excess // 2)
