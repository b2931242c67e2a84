"""``kubespark plan``: the order in which to upgrade Spark, the operator and Kubernetes.

Parses ``--from``/``--to``, asks :mod:`kubespark.upgrade.plan` for the plan on the user's path
and with kubespark, and renders both (a bordered table per path, or ``-o json``): through rich on
a terminal, as the same text without rich (:func:`kubespark.cli.plain.plain_table`) to a pipe.
Exit codes: 0 a safe order exists on the user's path; 1 none does (the reason is printed); 2
input error (an unknown version, a Kubernetes downgrade, a malformed flag).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, markup_stdout, print_json
from kubespark.cli.plain import MarkupConsole, PlainConsole, console_width, escape, plain_table
from kubespark.upgrade.plan import Plan, parse_state, plan_upgrade, policy

# typer and the shared flags are named only in the signature's annotations, which stay text
# (PEP 563) until kubespark.cli.app resolves them to build the typer command: entry's short path
# runs this command without importing typer.
if TYPE_CHECKING:
    import typer
    from rich.table import Table

    from kubespark.cli.flags import OutputFlag

__all__ = ["plan", "plan_view"]


def plan(
    start: Annotated[
        str,
        typer.Option("--from", help="the current versions: spark=3.4.1,k8s=1.19[,operator=TAG]"),
    ],
    target: Annotated[
        str, typer.Option("--to", help="the wanted versions: spark=3.5.1,k8s=1.29[,operator=TAG]")
    ],
    output: OutputFlag = OutputFormat.TEXT,
) -> None:
    """Plan an upgrade one component at a time, every intermediate state checked."""
    own, ours = plan_upgrade(parse_state(start, flag="--from"), parse_state(target, flag="--to"))
    if output is OutputFormat.JSON:
        print_json({"plan": plan_view(own), "with_kubespark": plan_view(ours)})
    else:
        console = markup_stdout()
        _render(own, console)
        _render(ours, console)
    raise SystemExit(EXIT_OK if own.possible else EXIT_FINDING)


def plan_view(p: Plan) -> dict[str, object]:
    return {
        "path": p.path.value,
        "from": p.start.as_json(),
        "to": p.target.as_json(),
        "possible": p.possible,
        "refusal": p.refusal or None,
        "lifted": list(p.lifted),
        "steps": [
            {
                "n": i,
                "component": s.component,
                "after": s.after.as_json(),
                "verdict": s.verdict.value,
                "why": s.why,
                "avoids": list(s.avoids),
                "issues": list(s.issues),
                "caveats": list(s.caveats),
            }
            for i, s in enumerate(p.steps, 1)
        ],
        "rules": {"kubernetes": _kubernetes_rule()},
    }


def _kubernetes_rule() -> str:
    rules = policy().get("kubernetes")
    why = rules.get("why", "") if isinstance(rules, dict) else ""
    return " ".join(str(why).split())


_HEADERS = ("#", "step", "state after", "verdict", "why here")


def _render(p: Plan, console: MarkupConsole) -> None:
    title = escape(f"plan on the {p.path.value} path: {p.start.describe()} → {p.target.describe()}")
    rows = _rows(p)
    lines = (
        plain_table(title, _HEADERS, rows, console_width())
        if isinstance(console, PlainConsole)
        else None
    )
    if lines is None:
        console.print(_rich_table(title, rows))
    else:
        sys.stdout.write("".join(f"{line}\n" for line in lines))
    if p.lifted:
        console.print(
            f"  [bold]with kubespark[/], these do not constrain the order: {', '.join(p.lifted)} "
            "(kubespark plans its writes per server)"
        )
    if not p.possible:
        console.print(f"  [bold red]no safe order:[/] {escape(p.refusal)}")
    console.print()


def _rows(p: Plan) -> list[tuple[str, ...]]:
    """The table's cells as markup, one row per step."""
    rows: list[tuple[str, ...]] = []
    for i, s in enumerate(p.steps, 1):
        colour = {"compatible": "green", "depends": "yellow", "incompatible": "red"}.get(
            s.verdict.value, "white"
        )
        why = s.why.split(" — ", 1)[1] if " — " in s.why else ""
        rows.append(
            (
                str(i),
                escape(s.why.split(" — ", 1)[0]),
                escape(s.after.describe()),
                f"[{colour}]{s.verdict.value}[/]",
                escape(why),
            )
        )
    return rows


def _rich_table(title: str, rows: list[tuple[str, ...]]) -> Table:
    """The table rich prints (a terminal, or what plain_table cannot lay out)."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=False)
    for col in _HEADERS:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table
