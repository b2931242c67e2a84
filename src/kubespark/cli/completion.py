"""``kubespark completion bash|zsh|fish``: the shell's completion script, printed.

Owns nothing but the printing: completion itself is answered by the command group at run time
(typer's ``_KUBESPARK_COMPLETE`` protocol), so subcommands, options and choices complete from
the same definitions ``--help`` shows, and a command's module is imported only once its name is
typed. The ``kubectl-spark`` entry point completes through kubectl's own plugin completion.
"""

from __future__ import annotations

import contextlib
import io
from enum import StrEnum
from typing import Annotated

import typer
import typer.completion

__all__ = ["completion", "register_shells"]

_PROG = "kubespark"
_COMPLETE_VAR = "_KUBESPARK_COMPLETE"


class Shell(StrEnum):
    """The shells kubectl prints completion for, less PowerShell."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def register_shells() -> None:
    """Register typer's completion classes (bash, zsh, fish, PowerShell) with its click.

    Through typer's public ``typer.completion`` only: preparing the parameters of typer's own
    ``--show-completion`` registers them, and typer has no other public call that does. Its
    classes, not click's defaults: the scripts they print ask in typer's ``complete_bash`` form.
    """
    typer.completion.get_completion_inspect_parameters()


def completion(
    ctx: typer.Context,
    shell: Annotated[Shell, typer.Argument(help="the shell to print the script for")],
) -> None:
    """Print the shell completion script for bash, zsh or fish."""
    register_shells()
    # typer's "source" instruction prints the shell class's script, as _KUBESPARK_COMPLETE=
    # source_bash would; printed again without the blank lines around it, so that zsh's
    # "#compdef" stays the first line of a file installed on its fpath.
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = typer.completion.shell_complete(
            ctx.find_root().command, {}, _PROG, _COMPLETE_VAR, f"source_{shell.value}"
        )
    if code:
        raise typer.Exit(code)
    typer.echo(printed.getvalue().strip())
