"""The exit-code contract every command runs under, whichever parser read its command line.

Owns, in :func:`guarded` and nowhere else: 0 success / compatible, 1 a finding (incompatible, an
issue diagnosed, a failed application), 2 usage or input error (one message naming the thing and
the fix), 3 an internal error: one line saying so, with the traceback only under ``--debug``
(anywhere on the command line) or ``KUBESPARK_DEBUG=1``. Every message on that path is redacted:
an exception's text may quote a URL or header with a credential. :func:`kubespark.cli.app.main`
(typer) and :mod:`kubespark.cli.entry`'s short path both run commands through it. It does not
import typer.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from kubespark.cli.output import EXIT_INPUT, EXIT_INTERNAL, stderr
from kubespark.errors import KubesparkError
from kubespark.redaction import RedactingStream, redact_text

__all__ = ["guarded", "without_debug"]


def without_debug(args: list[str]) -> list[str]:
    """The command line without ``--debug``, accepted after the subcommand too (users type it)."""
    return [a for a in args if a != "--debug"]


def guarded(run: Callable[[list[str]], object], args: list[str]) -> None:
    """``run(args without --debug)`` under the contract: streams redacted, errors as exit codes."""
    debug = "--debug" in args or os.environ.get("KUBESPARK_DEBUG", "") not in ("", "0")
    streams = sys.stdout, sys.stderr
    # Whatever a command prints, a credential this process has read is not in it.
    sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    try:
        run(without_debug(args))
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
