"""What every command shares about output: consoles, the input-error boundary, exit codes.

Owns the promise that a user never sees a traceback for bad input: :func:`fail_on_input_errors`
wraps each command so a :class:`KubesparkError` prints one message (what, where, the fix) on
stderr and exits 2. Exits are ``SystemExit`` and text goes straight to ``sys.stdout``: a command
run through :mod:`kubespark.cli.entry`'s short path has not imported typer, and under typer the
effect is the same (click lets ``SystemExit`` through; ``typer.echo`` writes and flushes).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from kubespark.cli.plain import MarkupConsole, PlainConsole, escape, plain_possible
from kubespark.errors import KubesparkError
from kubespark.redaction import redact, redact_text

# rich is imported when a console is made: an offline verdict printed to a pipe needs none.
if TYPE_CHECKING:
    from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 3


def stdout() -> Console:
    from rich.console import Console

    return Console(soft_wrap=True)


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def markup_stdout() -> MarkupConsole:
    """A console for markup strings: rich's on a terminal, the same text without rich elsewhere."""
    return PlainConsole() if plain_possible() else stdout()


def fail_on_input_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a KubesparkError raised by ``command`` into one message on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except KubesparkError as err:
            stderr().print(
                f"[bold red]error:[/] {escape(redact_text(err.render()))}",
                highlight=False,
                markup=True,
            )
            raise SystemExit(EXIT_INPUT) from None

    return wrapper


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, no colour, no wrapping; credentials in it
    (a planned ConfigMap's ``oauthToken``, a quoted bearer token) redacted, for every command."""
    echo(json.dumps(redact(data), indent=2, sort_keys=False, default=str))


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Plain text on stdout (or stderr), as ``typer.echo`` writes it, without typer."""
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n" if nl else text)
    stream.flush()


def kind_name(kind: str, name: str) -> str:
    """``-o name``: ``sparkapplication/spark-pi``, ``submission/spark-pi``, as kubectl's."""
    return f"{kind.lower()}/{name}"


def print_yaml(data: Any) -> None:
    """``-o yaml``: the data ``print_json`` would print, as YAML, redacted the same way."""
    import yaml  # only the commands that print YAML pay for it

    # A JSON round trip first: plain types only (dates and enums as text), as ``-o json``.
    plain = json.loads(json.dumps(redact(data), default=str))
    echo(yaml.safe_dump(plain, sort_keys=False), nl=False)


class OutputFormat(StrEnum):
    """``-o``: human text (the default) or machine-readable JSON."""

    TEXT = "text"
    JSON = "json"


class ObjectFormat(StrEnum):
    """``-o`` wherever objects are shown (``list``, ``status``): kubectl's output formats."""

    TEXT = "text"
    WIDE = "wide"
    JSON = "json"
    YAML = "yaml"
    NAME = "name"
