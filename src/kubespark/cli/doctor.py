"""``kubespark doctor``: say what a failure's text shows and what to do about it.

Reads logs and kubectl output from files or stdin (or, with ``--app``, a SparkApplication, its
events and its driver pod from a live cluster), diagnoses them with :mod:`kubespark.doctor`, and
renders the report. Exit codes: 0 nothing found; 1 a known issue diagnosed or a failure shown
(an unmatched failure is still a failed application, so it is still a finding); 2 input error.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.markup import escape

from kubespark.cli.flags import ContextFlag, KubeconfigFlag, NamespaceFlag, OutputFlag
from kubespark.cli.output import EXIT_FINDING, EXIT_OK, OutputFormat, print_json, stdout
from kubespark.doctor.engine import Input, examine
from kubespark.doctor.failure import ErrorChain, FailureSummary
from kubespark.doctor.lines import Line
from kubespark.doctor.live import fetch_app_inputs
from kubespark.doctor.report import Diagnosis, Evidence, Report, report_view
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.redaction import redact, redact_text

__all__ = ["doctor"]


def doctor(
    files: Annotated[
        list[str] | None,
        typer.Argument(help="logs, kubectl -o yaml|json, describe or events output; - for stdin"),
    ] = None,
    app: Annotated[
        str | None, typer.Option("--app", help="diagnose this SparkApplication on a live cluster")
    ] = None,
    namespace: NamespaceFlag = None,
    kubeconfig: KubeconfigFlag = None,
    context: ContextFlag = None,
    output: OutputFlag = OutputFormat.TEXT,
) -> None:
    """Diagnose a Spark-on-Kubernetes failure from its logs, objects and events."""
    names = files or []
    if app is not None and names:
        raise InputError(
            "give either files or --app, not both",
            where="--app",
            fix="run kubespark doctor --app NAME, or kubespark doctor FILE...",
        )
    if app is not None:
        report = examine(asyncio.run(_live(app, namespace, kubeconfig, context)))
    else:
        report = _from_files(names or ["-"])
    # The text read may quote credentials (bearer tokens, oauthToken confs): what is shown of it
    # is redacted, the diagnosis (made from the full text) is not changed.
    if output is OutputFormat.JSON:
        print_json(redact(report_view(report)))
    else:
        console = stdout()
        with console.capture() as captured:
            render(report, console)
        sys.stdout.write(redact_text(captured.get()))
    raise typer.Exit(EXIT_FINDING if report.found else EXIT_OK)


def _from_files(names: list[str]) -> Report:
    with ExitStack() as stack:
        inputs = []
        for name in names:
            if name == "-":
                if sys.stdin.isatty():
                    raise InputError(
                        "no input: stdin is a terminal",
                        where="FILE",
                        fix="give log files, or pipe one in: kubectl logs POD | kubespark doctor",
                    )
                inputs.append(Input("<stdin>", sys.stdin.buffer))
                continue
            inputs.append(Input(name, stack.enter_context(_open(name))))
        return examine(inputs)


def _open(name: str) -> BinaryIO:
    path = Path(name)
    if path.is_dir():
        raise InputError(f"{name} is a directory", where=name, fix="give the log files in it")
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{name} does not exist", where=name, fix="check the path") from None
    except OSError as err:
        raise InputError(
            f"{name} cannot be read: {err.strerror}", where=name, fix="check its permissions"
        ) from None


async def _live(
    app: str, namespace: str | None, kubeconfig: str | None, context: str | None
) -> list[Input]:
    async with KubeClient.from_kubeconfig(kubeconfig, context, pooled=False) as client:
        return await fetch_app_inputs(client, app, namespace or client.namespace)


# -- terminal view ------------------------------------------------------------------------------


def render(report: Report, console: Console) -> None:
    read = ", ".join(f"{s.name} ({s.lines} lines)" for s in report.sources)
    console.print(f"[dim]read {escape(read)}[/]")
    if report.versions:
        seen = "; ".join(f"{v.component} {v.version} ({v.what})" for v in report.versions)
        console.print(f"[bold]versions in the text:[/] {escape(seen)}")
    for diagnosis in report.diagnoses:
        _render_diagnosis(diagnosis, console)
    if not report.diagnoses:
        if report.failure.found:
            console.print("\n[bold yellow]no known issue matches[/]; what the text shows:")
        else:
            console.print("\n[green]no failure found in the text[/]")
    _render_failure(report.failure, console)
    generic = report.generic
    if generic is not None and not report.diagnoses:
        console.print(f"  [bold]cause:[/] {escape(generic.cause)}")
        console.print(f"  [bold]next step:[/] {escape(generic.next_step)}")
    for issue, why in report.ruled_out:
        console.print(
            f"  [dim]ruled out {issue}: {escape(why.means)} ({escape(str(why.line.where))})[/]"
        )


def _render_diagnosis(d: Diagnosis, console: Console) -> None:
    mark = "[bold red]✖ diagnosed[/]" if d.confidence == "diagnosed" else "[yellow]? possible[/]"
    console.print(f"\n{mark} [bold]{d.issue.id}[/]: {escape(d.issue.title)}")
    if d.note:
        console.print(f"  [dim]{escape(d.note)}[/]")
    for r in d.reasons:
        console.print(f"  [bold]reason[/] {r.reason.id}: {escape(r.reason.title)}")
        _render_evidence(r.evidence, console, "    ")
    _render_evidence(d.evidence, console, "  ")
    if d.consistency.why:
        console.print(f"  [bold]versions:[/] {d.consistency.verdict}")
        for why in d.consistency.why:
            console.print(f"    {escape(why)}")
    console.print(f"  [bold]root cause:[/] {escape(' '.join(d.issue.root_cause.split()))}")
    console.print("  [bold]remedies[/] (ranked):")
    for i, remedy in enumerate(d.remedies, 1):
        console.print(f"    {i}. \\[{remedy.cost}] {escape(remedy.action)}")
    console.print(f"  [bold]kubespark:[/] {escape(' '.join(d.issue.kubespark.how.split()))}")


def _render_evidence(evidence: tuple[Evidence, ...], console: Console, indent: str) -> None:
    """Each line once, with every symptom it shows."""
    by_line: dict[Line, list[str]] = {}
    for e in evidence:
        by_line.setdefault(e.line, []).append(e.means)
    for line, means in by_line.items():
        console.print(f"{indent}[cyan]{escape(str(line.where))}[/]  {escape(line.text.strip())}")
        for text in dict.fromkeys(means):
            console.print(f"{indent}  [dim]→ {escape(text)}[/]")


def _render_failure(f: FailureSummary, console: Console) -> None:
    if f.first is not None:
        _render_chain("first error", f.first, console)
    if f.app_state:
        console.print(f"  [bold]application state:[/] {f.app_state}")
    for name, line in f.signals:
        console.print(f"  [bold]{escape(name)}[/]  [cyan]{escape(str(line.where))}[/]")


def _render_chain(title: str, chain: ErrorChain, console: Console) -> None:
    console.print(f"\n  [bold]{title}:[/] [cyan]{escape(str(chain.first.where))}[/]")
    console.print(f"    {escape(chain.first.text.strip())}")
    if chain.causes:
        console.print(f"  [bold]root cause:[/] [cyan]{escape(str(chain.root.where))}[/]")
        console.print(f"    {escape(chain.root.text.strip())}")
    api = chain.api
    if api is not None:
        parts = [api.verb or "?", api.resource or "?"]
        if api.namespace or api.name:
            parts.append(f"{api.namespace or '-'}/{api.name or '-'}")
        status = f" → HTTP {api.status}" if api.status else ""
        reason = f" {api.reason}" if api.reason else ""
        console.print(f"  [bold]API call:[/] {escape(' '.join(parts))}{status}{reason}")
