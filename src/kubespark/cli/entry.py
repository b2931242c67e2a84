"""The ``kubespark`` console script: a quick start for the commands people run in loops.

Owns one decision: ``kubespark submit|status|logs|list|delete ...`` runs that command alone, with
its own imports only, instead of building the whole application (``cli.app`` imports every
subcommand, the operator framework among them: about twice the start-up CPU). Everything else,
``--help`` and no arguments included, goes to :func:`kubespark.cli.app.main` unchanged. The
commands are the same functions ``cli.app`` registers, so their flags, help and exit codes are
the same either way.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["QUICK", "main"]

# command -> (module, function): light modules that start without the rest of the CLI.
QUICK = {
    "submit": ("kubespark.cli.submit", "submit"),
    "status": ("kubespark.cli.status", "status"),
    "logs": ("kubespark.cli.logs", "logs"),
    "list": ("kubespark.cli.list_apps", "list_apps"),
    "delete": ("kubespark.cli.delete", "delete"),
}


def main() -> None:
    """Console-script entry point."""
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in QUICK:
        from kubespark.cli.app import main as full

        full()
        return
    import typer

    from kubespark.cli.output import fail_on_input_errors

    module, function = QUICK[name]
    command = getattr(importlib.import_module(module), function)
    one = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    one.command(name)(fail_on_input_errors(command))
    try:
        one(args=sys.argv[2:], prog_name=f"kubespark {name}")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
