"""The ``kubespark`` typer application and its entry point.

Subcommands register here, in the order ``--help`` shows them, as ``module:function`` names that
are imported only when the command runs: a command pays for its own dependencies and no others
(``kubespark validate`` does not load the emulator). Exit codes shared by all commands: 0 success
/ compatible, 1 a finding (incompatible, an issue diagnosed, a failed application), 2 usage or
input error.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import typer
import typer.core
import typer.main

from kubespark.cli.output import fail_on_input_errors

COMMANDS: dict[str, str] = {
    "demo": "kubespark.cli.demo:demo",
    "check": "kubespark.cli.check:check",
    "matrix": "kubespark.cli.matrix:matrix",
    "validate": "kubespark.cli.validate:validate",
    "doctor": "kubespark.cli.doctor:doctor",
    "plan": "kubespark.cli.plan:plan",
    "emulate": "kubespark.cli.emulate:emulate",
    "proxy": "kubespark.cli.proxy:proxy",
    "install-crds": "kubespark.cli.install_crds:install_crds",
    "operator": "kubespark.cli.operator:operator",
    "submit": "kubespark.cli.submit:submit",
    "status": "kubespark.cli.status:status",
    "logs": "kubespark.cli.logs:logs",
    "list": "kubespark.cli.list_apps:list_apps",
    "delete": "kubespark.cli.delete:delete",
}


class _LazyCommands(typer.core.TyperGroup):
    """A command group that imports a subcommand's module when it is asked for."""

    # The context and command types are those of typer's vendored click (typer._click, private):
    # taken as given, and the command returned as typer.main.get_command builds it.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, function = target.partition(":")
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(cmd_name)(
            fail_on_input_errors(getattr(importlib.import_module(module), function))
        )
        return typer.main.get_command(single)


app = typer.Typer(
    name="kubespark",
    cls=_LazyCommands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def kubespark() -> None:
    """Run Spark 3.x/4.x on any Kubernetes 1.16+, and know before you deploy what will break."""


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
