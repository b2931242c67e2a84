"""The ``kubespark`` typer application and its entry point.

Subcommands register in :mod:`kubespark.cli.commands`, in the order ``--help`` shows them, as
``module:function`` names that are imported only when the command runs: a command pays for its
own dependencies and no others (``kubespark validate`` does not load the emulator), and
``kubespark --help`` lists them from ``SUMMARIES`` without importing any
(``tests/cli/test_startup.py`` holds both promises). The console scripts start in
:mod:`kubespark.cli.entry`, which answers ``--version`` and a help it has shown before without
importing this module at all.

Runs commands under the exit-code contract of :mod:`kubespark.cli.contract` (0 success, 1 a
finding, 2 usage or input error, 3 internal error). For the offline commands of
``commands.SHORT_PATH`` it also stores their flag table (:mod:`kubespark.cli.shortpath`), from
which the entry point parses them next time without typer.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import typing
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
import typer.main

from kubespark.cli import flags, shortpath
from kubespark.cli.commands import COMMANDS, EXAMPLES, SHORT_PATH, SUMMARIES
from kubespark.cli.contract import guarded
from kubespark.cli.output import fail_on_input_errors

# kubectl's spellings: -h beside --help.
CONTEXT = {"help_option_names": ["-h", "--help"]}


class _LazyCommands(typer.core.TyperGroup):
    """A command group that imports a subcommand's module when it is asked for."""

    # The context and command types are those of typer's vendored click (typer._click, private):
    # taken as given, and the command returned as typer.main.get_command builds it.
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
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
        declared = getattr(importlib.import_module(module), function)
        callback = _resolved(fail_on_input_errors(declared), declared)
        single.command(cmd_name, context_settings=CONTEXT, epilog=_epilog(cmd_name))(callback)
        command = typer.main.get_command(single)
        _drop_flag_placeholders(command)
        if cmd_name in SHORT_PATH:
            _keep_flag_table(cmd_name, command, callback)
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


def _resolved(callback: Callable[..., Any], declared: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` with the declared signature's annotations evaluated for typer.

    A command module may name typer and the shared flags (:mod:`kubespark.cli.flags`) only in its
    annotations, imported for type checkers alone, so that entry's short path runs it without
    importing typer; they are resolved here, in the module's namespace plus those names.
    """
    namespace = {
        **getattr(declared, "__globals__", {}),
        "typer": typer,
        **{name: getattr(flags, name) for name in flags.__all__},
    }
    hints = typing.get_type_hints(declared, globalns=namespace, include_extras=True)
    signature = inspect.signature(declared)
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    callback.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    callback.__annotations__ = hints
    return callback


def _keep_flag_table(name: str, command: Any, callback: Callable[..., Any]) -> None:
    """Store the command's flags for entry's short path, when every one is of a plain kind."""
    from kubespark.cli import entry

    key = entry.short_path_key(name)
    rows = [_flag_row(param, callback.__annotations__) for param in command.params]
    if key is None or None in rows:
        return
    shortpath.write_table(shortpath.table_path(entry.cache_dir(), key), rows)  # type: ignore[arg-type]


def _flag_row(param: Any, hints: dict[str, Any]) -> dict[str, Any] | None:
    """One option as the short path parses it, or None when it is not of a plain kind."""
    hint = hints.get(param.name)
    if hint is None or getattr(param, "envvar", None) or param.nargs != 1 or param.secondary_opts:
        return None
    kind = _kind(typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint)
    default: Any = param.default
    if kind is None or getattr(param, "is_flag", False) != (kind == "flag"):
        return None
    if kind == "strs" and not param.required and default is not None:
        return None
    argument = getattr(param, "param_type_name", "option") == "argument"
    opts = [] if argument else list(param.opts)
    row: dict[str, Any] = {"name": param.name, "opts": opts, "kind": kind, "argument": argument}
    if isinstance(default, Enum):
        row["enum"] = f"{type(default).__module__}:{type(default).__qualname__}"
        default = default.value
    elif kind == "enum":
        return None
    if not isinstance(default, str | bool | None) and not (
        kind == "float" and type(default) is float
    ):
        return None
    return {**row, "required": bool(param.required), "default": default}


def _kind(annotation: Any) -> str | None:
    options = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, type(int | None)) and len(options) == 1:
        annotation = options[0]
    if annotation is str:
        return "str"
    if annotation is bool:
        return "flag"
    if annotation is Path:
        return "path"
    if annotation is float:
        return "float"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "enum"
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,):
        return "strs"
    return None


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
    """Console-script entry point: typer parses, :func:`kubespark.cli.contract.guarded` holds
    the exit-code contract."""
    args = list(sys.argv[1:] if argv is None else argv)
    guarded(lambda rest: app(args=rest, prog_name="kubespark"), args)
