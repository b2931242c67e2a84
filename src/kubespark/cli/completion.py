"""``kubespark completion bash|zsh|fish``: the shell's completion script, printed.

Owns nothing but the printing: completion itself is answered by the command group at run time
(typer's ``_KUBESPARK_COMPLETE`` protocol), so subcommands, options and choices complete from
the same definitions ``--help`` shows, and a command's module is imported only once its name is
typed. The ``kubectl-spark`` entry point completes through kubectl's own plugin completion.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from typer._completion_shared import get_completion_script

__all__ = ["completion"]


class Shell(StrEnum):
    """The shells kubectl prints completion for, less PowerShell."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completion(
    shell: Annotated[Shell, typer.Argument(help="the shell to print the script for")],
) -> None:
    """Print the shell completion script for bash, zsh or fish."""
    script = get_completion_script(
        prog_name="kubespark", complete_var="_KUBESPARK_COMPLETE", shell=shell.value
    )
    typer.echo(script)
