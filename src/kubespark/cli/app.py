"""The ``kubespark`` typer application and its entry point.

Subcommands register here, in the order ``--help`` shows them, as ``module:function`` names that
are imported only when the command runs: a command pays for its own dependencies and no others
(``kubespark validate`` does not load the emulator).

Owns the exit-code contract, in :func:`main` and nowhere else: 0 success / compatible, 1 a
finding (incompatible, an issue diagnosed, a failed application), 2 usage or input error (one
message naming the thing and the fix), 3 an internal error: one line saying so, with the
traceback only under ``--debug`` (anywhere on the command line) or ``KUBESPARK_DEBUG=1``. Every
message on that path is redacted: an exception's text may quote a URL or header with a credential.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import typer
import typer.core
import typer.main

from kubespark.cli.output import EXIT_INPUT, EXIT_INTERNAL, fail_on_input_errors, stderr
from kubespark.errors import KubesparkError
from kubespark.redaction import redact_text

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
def kubespark(
    debug: bool = typer.Option(
        False, "--debug", help="On an internal error, print the traceback (or KUBESPARK_DEBUG=1)."
    ),
) -> None:
    """Run Spark 3.x/4.x on any Kubernetes 1.16+, and know before you deploy what will break."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs a command and holds the exit-code contract."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("KUBESPARK_DEBUG", "") not in ("", "0")
    # --debug is accepted after the subcommand too, where users type it.
    args = [a for a in args if a != "--debug"]
    try:
        app(args=args, prog_name="kubespark")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
    except KubesparkError as err:  # raised outside a command (e.g. while one is imported)
        stderr().print(f"error: {redact_text(err.render())}", highlight=False, markup=False)
        sys.exit(EXIT_INPUT)
    except Exception as err:  # the contract: no traceback unless asked for
        sys.exit(_internal_error(err, debug=debug))


def _internal_error(err: BaseException, *, debug: bool) -> int:
    if debug:
        text = "".join(traceback.format_exception(err))
        sys.stderr.write(redact_text(text))
    what = redact_text(f"{type(err).__name__}: {err}".splitlines()[0][:300])
    hint = "" if debug else " (run again with --debug for the traceback)"
    stderr().print(
        f"error: internal error, a bug in kubespark: {what}{hint}", highlight=False, markup=False
    )
    return EXIT_INTERNAL
