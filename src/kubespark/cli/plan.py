"""``kubespark plan``: the order in which to upgrade Spark, the operator and Kubernetes.

Parses ``--from``/``--to``, asks :mod:`kubespark.upgrade.plan` for the plan on the user's path
and with kubespark, and renders both (a rich table per path, or ``-o json``). Exit codes: 0 a
safe order exists on the user's path; 1 none does (the reason is printed); 2 input error (an
unknown version, a Kubernetes downgrade, a malformed flag).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, print_json, stdout
from kubespark.upgrade.plan import Plan, parse_state, plan_upgrade, policy

# typer and the shared flags are named only in the signature's annotations, which stay text
# (PEP 563) until kubespark.cli.app resolves them to build the typer command: entry's short path
# runs this command without importing typer.
if TYPE_CHECKING:
    import typer

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
        console = stdout()
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


def _render(p: Plan, console: Console) -> None:
    title = f"plan on the {p.path.value} path: {p.start.describe()} → {p.target.describe()}"
    table = Table(title=escape(title), title_justify="left", show_lines=False)
    for col in ("#", "step", "state after", "verdict", "why here"):
        table.add_column(col, overflow="fold")
    for i, s in enumerate(p.steps, 1):
        colour = {"compatible": "green", "depends": "yellow", "incompatible": "red"}.get(
            s.verdict.value, "white"
        )
        why = s.why.split(" — ", 1)[1] if " — " in s.why else ""
        table.add_row(
            str(i),
            escape(s.why.split(" — ", 1)[0]),
            escape(s.after.describe()),
            f"[{colour}]{s.verdict.value}[/]",
            escape(why),
        )
    console.print(table)
    if p.lifted:
        console.print(
            f"  [bold]with kubespark[/], these do not constrain the order: {', '.join(p.lifted)} "
            "(kubespark plans its writes per server)"
        )
    if not p.possible:
        console.print(f"  [bold red]no safe order:[/] {escape(p.refusal)}")
    console.print()
