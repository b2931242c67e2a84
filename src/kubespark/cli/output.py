"""What every command shares about output: consoles, the input-error boundary, exit codes.

Owns the promise that a user never sees a traceback for bad input: :func:`fail_on_input_errors`
wraps each command so a :class:`KubesparkError` prints one message (what, where, the fix) on
stderr and exits 2.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from kubespark.errors import KubesparkError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_INPUT = 2


def stdout() -> Console:
    return Console(soft_wrap=True)


def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)


def fail_on_input_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a KubesparkError raised by ``command`` into one message on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except KubesparkError as err:
            # escaped: messages quote regexes and paths such as '[a-z]' and spec.ports[0]
            text = escape(err.render())
            stderr().print(f"[bold red]error:[/] {text}", highlight=False, markup=True)
            raise typer.Exit(EXIT_INPUT) from None

    return wrapper


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, no colour, no wrapping."""
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


class OutputFormat(StrEnum):
    """``-o``: human text (the default) or machine-readable JSON."""

    TEXT = "text"
    JSON = "json"
