"""``kubespark matrix``: every known release on every Kubernetes minor, and the deciding issues.

Renders :func:`kubespark.knowledge.build_matrix` as a terminal heatmap of one path
(``--path``), as JSON (``-o json``, every path) or as one self-contained HTML page (``--html FILE``:
inline CSS and JS, no network) whose cells show their issues, reasons and remedies on hover and
click. It must not evaluate anything itself.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kubespark import __version__
from kubespark.cli.output import EXIT_OK, OutputFormat, print_json, stdout
from kubespark.cli.verdicts import VERDICT_STYLE
from kubespark.errors import InputError
from kubespark.knowledge import (
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
        console = stdout()
        table = built.table(path)
        # Pipes default to 80 columns; a heatmap row must not wrap.
        widest = max(len(r.label) for r in table.rows) + 3 * len(built.kubernetes) + 4
        console.width = max(console.width, widest)
        _render_table(console, table, built)
        if html is not None:
            console.print(f"\nwrote {escape(str(html))}")
    raise SystemExit(EXIT_OK)


def matrix_html(view: dict[str, Any]) -> str:
    """The page: the template with the matrix data embedded (``</`` escaped for the script tag)."""
    template = resources.files("kubespark.cli").joinpath("templates/matrix.html")
    data = json.dumps({**view, "generator": __version__}, separators=(",", ":"))
    return template.read_text(encoding="utf-8").replace(_PLACEHOLDER, data.replace("</", "<\\/"))


def _write(target: Path, page: str) -> None:
    try:
        target.write_text(page, encoding="utf-8")
    except OSError as err:
        raise InputError(
            f"cannot write the page: {err.strerror}",
            where=str(target),
            fix="give --html a path in an existing, writable directory",
        ) from None


def _render_table(console: Console, table: MatrixTable, built: Matrix) -> None:
    grid = Table(title=table.title, title_justify="left", box=None, padding=(0, 0, 0, 1))
    grid.add_column("release", justify="right", no_wrap=True)
    for minor in built.kubernetes:
        grid.add_column(f"{minor.minor}", justify="center", no_wrap=True)
    deciding: dict[str, None] = {}
    for row in table.rows:
        cells = []
        for cell in row.cells:
            symbol, style = VERDICT_STYLE[cell.verdict]
            if cell.assessment.caveats and cell.verdict is Verdict.COMPATIBLE:
                symbol = "~"
            cells.append(f"[{style}]{symbol}[/]")
            deciding.update(dict.fromkeys(cell.issue_ids))
        grid.add_row(escape(row.label), *cells)
    console.print(grid)
    console.print(
        "[dim]columns: Kubernetes 1.<minor>   "
        "[green]✓[/] compatible  [green]~[/] compatible with caveats  "
        "[yellow]?[/] depends (a patch, or a version not given)  [red]✗[/] incompatible[/]"
    )
    kb = load_knowledge()
    for issue_id in deciding:
        console.print(f"  [bold]{issue_id}[/]: {escape(kb.issue(issue_id).title)}")
    console.print("[dim]details per cell: kubespark check --spark X --k8s Y, or --html FILE[/]")
