"""Terminal rendering of compatibility assessments, shared by ``check`` and ``demo``.

Owns how a verdict reads to a person: one block per submission path with the deciding issues,
why each applies (the fact or range, the reasons by name), ranked remedies with their cost, what
kubespark does instead, and caveats. Data text is escaped, never interpreted as markup. It must
not evaluate anything.
"""

from __future__ import annotations

from kubespark.cli.plain import MarkupConsole, escape
from kubespark.knowledge import (
    Assessment,
    IssueFinding,
    PathAssessment,
    Verdict,
)

__all__ = ["VERDICT_STYLE", "render_assessment", "render_path"]

VERDICT_STYLE = {
    Verdict.COMPATIBLE: ("✓", "green"),
    Verdict.DEPENDS: ("?", "yellow"),
    Verdict.INCOMPATIBLE: ("✗", "red"),
    Verdict.NOT_ASSESSED: ("–", "dim"),
}


def render_assessment(console: MarkupConsole, assessment: Assessment, title: str) -> None:
    """Every path's block, then the overall verdict."""
    console.print(f"[bold]{escape(title)}[/]")
    for path in assessment.paths:
        console.print()
        render_path(console, path)
    symbol, style = VERDICT_STYLE[assessment.verdict]
    console.print()
    console.print(f"[bold {style}]{symbol} overall: {assessment.verdict.value}[/]")


def render_path(console: MarkupConsole, path: PathAssessment) -> None:
    symbol, style = VERDICT_STYLE[path.verdict]
    verdict = path.verdict.value.replace("-", " ")
    console.print(
        f"[bold {style}]{symbol} {path.path.value}: {verdict}[/]  [dim]{escape(path.subject)}[/]"
    )
    for blocker in path.blockers:
        console.print(f"  [{style}]{escape(blocker)}[/]")
    for finding in path.issues:
        _render_finding(console, path, finding)
    for avoided in path.avoided:
        how = " ".join(avoided.issue.kubespark.how.split())
        console.print(f"  [green]avoids[/] [bold]{avoided.issue.id}[/]: {escape(how)}")
    for caveat in path.caveats:
        console.print(f"  [yellow]caveat:[/] {escape(caveat.text)}")


def _render_finding(console: MarkupConsole, path: PathAssessment, finding: IssueFinding) -> None:
    issue = finding.issue
    depends = ""
    if finding.coverage.value == "some":
        edges = ", ".join(str(b) for b in finding.boundaries)
        depends = f" [yellow](depends{' on the patch: boundary ' + edges if edges else ''})[/]"
    console.print(f"  [bold]{issue.id}[/]{depends}: {escape(issue.title)}")
    for match in finding.why:
        console.print(f"    why: {escape(match.why)}")
    for found in finding.reasons:
        flag = "" if found.reason.confirmed else " [dim](unconfirmed)[/]"
        console.print(f"    reason [bold]{found.reason.id}[/]{flag}: {escape(found.reason.title)}")
        for match in found.why:
            console.print(f"      {escape(match.why)}")
    console.print("    remedies, cheapest first:")
    for rank, remedy in enumerate(path.remedies(finding), 1):
        console.print(f"      {rank}. [cyan]\\[{remedy.cost}][/] {escape(remedy.action)}")
    how = " ".join(issue.kubespark.how.split())
    console.print(f"    kubespark instead: {escape(how)}")
