"""The ``kubespark`` typer application and its entry point.

Subcommands register in :mod:`kubespark.cli.commands`, in the order ``--help`` shows them, as
``module:function`` names that are imported only when the command runs: a command pays for its
own dependencies and no others (``kubespark validate`` does not load the emulator), and
``kubespark --help`` lists them from ``SUMMARIES`` without importing any
(``tests/cli/test_startup.py`` holds both promises). The console scripts start in
:mod:`kubespark.cli.entry`, which answers ``--version`` and a help it has shown before without
importing this module at all.

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
from typing import Annotated, Any

import typer
import typer.core
import typer.main

from kubespark.cli.coercion import install as install_plain_coercion
from kubespark.cli.commands import COMMANDS, EXAMPLES, SUMMARIES
from kubespark.cli.output import EXIT_INPUT, EXIT_INTERNAL, fail_on_input_errors, stderr
from kubespark.errors import KubesparkError
from kubespark.redaction import RedactingStream, redact_text

# kubectl's spellings: -h beside --help.
CONTEXT = {"help_option_names": ["-h", "--help"]}


class _LazyCommands(typer.core.TyperGroup):
    """A command group that imports a subcommand's module when it is asked for."""

    # The context and command types are those of typer's vendored click (typer._click, private):
    # taken as given, and the command returned as typer.main.get_command builds it.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        install_plain_coercion(self, ctx)  # --version, --debug, --help: no pydantic either
        rest: list[str] = super().parse_args(ctx, args)
        return rest

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, function = target.partition(":")
        single = typer.Typer(
            add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None
        )
        single.command(cmd_name, context_settings=CONTEXT, epilog=_epilog(cmd_name))(
            fail_on_input_errors(getattr(importlib.import_module(module), function))
        )
        command = typer.main.get_command(single)
        _drop_flag_placeholders(command)
        install_plain_coercion(command, ctx)
        return command

    def _main_shell_completion(
        self, ctx_args: Any, prog_name: str, complete_var: str | None = None
    ) -> None:
        # The shells' completion classes register only when a shell asks (see `completion`).
        var = complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()
        if os.environ.get(var):
            from kubespark.cli.completion import register_shells

            register_shells()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # From the table, not the modules: listing the commands must not import them all.
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUMMARIES.get(name, "")) for name in COMMANDS])


def _epilog(name: str) -> str | None:
    examples = EXAMPLES.get(name)
    if not examples:
        return None
    # \b keeps click from re-wrapping the lines into one paragraph.
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in examples)


def _drop_flag_placeholders(command: Any) -> None:
    """A flag takes no value: show ``--wait``, not ``--wait <bool>`` (typer's default)."""
    for param in command.params:
        if getattr(param, "is_flag", False):
            param.metavar = ""


app = typer.Typer(
    name="kubespark",
    cls=_LazyCommands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT,
)


def _print_version(value: bool) -> None:
    if value:
        from kubespark import __version__

        typer.echo(f"kubespark {__version__}")
        raise typer.Exit()


@app.callback()
def kubespark(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            "-V",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="On an internal error, print the traceback (or KUBESPARK_DEBUG=1)."
        ),
    ] = False,
) -> None:
    """Run Spark 3.x/4.x on any Kubernetes 1.16+, and know before you deploy what will break.

    \b
    Examples:
      kubespark check --k8s 1.19 --spark 3.5.1
      kubespark validate -f deploy/ --k8s 1.21
      kubespark submit examples/spark-pi.yaml --wait
    """


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs a command and holds the exit-code contract."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("KUBESPARK_DEBUG", "") not in ("", "0")
    # --debug is accepted after the subcommand too, where users type it.
    args = [a for a in args if a != "--debug"]
    streams = sys.stdout, sys.stderr
    # Whatever a command prints, a credential this process has read is not in it.
    sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    try:
        app(args=args, prog_name="kubespark")
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
    except KubesparkError as err:  # raised outside a command (e.g. while one is imported)
        stderr().print(f"error: {redact_text(err.render())}", highlight=False, markup=False)
        sys.exit(EXIT_INPUT)
    except Exception as err:  # the contract: no traceback unless asked for
        sys.exit(_internal_error(err, debug=debug))
    finally:
        sys.stdout, sys.stderr = streams


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
