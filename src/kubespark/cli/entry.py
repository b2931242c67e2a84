# ruff: noqa: PTH100, PTH103, PTH105, PTH118, PTH120, PTH123
# (os.path, not pathlib: pathlib is not loaded yet at this point, and would cost start-up)
"""The console scripts' entry point: ``--version`` and help at once, everything else to the app.

Owns the shortest path through start-up. ``kubespark --version`` prints without loading the
CLI framework; ``kubespark --help`` and ``kubespark COMMAND --help`` print the text the app
rendered the last time for the same code and terminal width, kept in ``$KUBESPARK_CACHE/cli``
(else the user's cache directory, as the knowledge cache). Entries are named by a digest of the
files that decide the text (the app, the command table, the shared flags, the command's module),
the version and the width, so an edit or upgrade renders afresh. The offline commands of
``SHORT_PATH`` (``check``, ``matrix``, ``plan``, ``validate``) are parsed from the flag table
the app stored for them (:mod:`kubespark.cli.shortpath`, keyed the same way) and run under the
same exit-code contract (:mod:`kubespark.cli.contract`) without typer. A miss, a command line
the short path does not take, or any other command goes to :func:`kubespark.cli.app.main`.
Imports only the standard library here: this module is what every invocation pays for first.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sys

from kubespark import __version__
from kubespark.cli.commands import COMMANDS, SHORT_PATH
from kubespark.usercache import user_cache_dir

# Only the standard library's cheapest modules at import: every invocation pays for them.
HERE = os.path.dirname(os.path.abspath(__file__))
# The modules that declare flags several commands use: part of every key a command's flags decide.
SHARED_FLAGS = ("kubespark.cli.flags", "kubespark.cli.output")

__all__ = ["cache_dir", "collect_from_here", "help_cache_key", "main", "short_path_key"]

HELP = frozenset({"--help", "-h"})
VERSION = frozenset({"--version", "-V"})


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (``kubespark``, ``kubectl-spark``, ``python -m kubespark``).

    The cyclic garbage collector is paused until the command's modules are imported
    (:func:`collect_from_here`): start-up builds hundreds of thousands of objects that live as
    long as the process (classes, functions, tables), and the collector would traverse them again
    and again for no garbage, about a tenth of a ``submit``.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        _main(argv)
    finally:
        if collecting:
            gc.enable()


def collect_from_here() -> None:
    """Start-up is over: freeze what it built out of the collector's sight, and collect again.

    Later collections (a long ``submit --wait``, the operator, the emulator) look only at
    objects made from here on. Called once a command's module is imported, by this module only:
    freezing is process-wide, so the app run in-process (``kubespark.cli.app``) never does it.
    """
    gc.freeze()
    gc.enable()


def _main(argv: list[str] | None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 1 and args[0] in VERSION:
        sys.stdout.write(f"kubespark {__version__}\n")
        return
    key = help_cache_key(args)
    if key is None:
        if not _short_path(args):
            _run(args)
        return
    path = os.path.join(cache_dir(), f"help-{key}.txt")
    try:
        with open(path, encoding="utf-8") as cached:
            text = cached.read()
    except (OSError, UnicodeDecodeError):
        _render_and_keep(args, path)
        return
    sys.stdout.write(text)


def _without_httpx_cli() -> None:
    # httpx's package imports its own command line (httpx._main: click, rich.progress, pygments)
    # when it can; a None entry makes that import fail, which httpx handles (its `httpx` command
    # is not ours to run). Nothing in kubespark uses it; a command process need not load it.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _run(args: list[str]) -> None:
    _without_httpx_cli()
    from kubespark.cli.app import main as run_app

    if args and args[0] in COMMANDS:
        # The command's module, imported here (typer finds it loaded) so that start-up is over
        # before the command runs. Only the console script does this: the app called in-process
        # (tests, a user's program) leaves the process's collector alone.
        import importlib

        importlib.import_module(COMMANDS[args[0]].partition(":")[0])
        collect_from_here()
    run_app(args)


def _short_path(args: list[str]) -> bool:
    """Run a command from its stored flag table; False when typer must parse the line."""
    name = args[0] if args else ""
    key = short_path_key(name) if name in SHORT_PATH else None
    if key is None:
        return False
    from kubespark.cli import shortpath  # json: not for --version and help

    table = shortpath.read_table(shortpath.table_path(cache_dir(), key))
    if table is None:
        return False
    from kubespark.cli.contract import without_debug

    values = shortpath.parse(table, without_debug(args[1:]))
    if values is None:
        return False
    import importlib

    from kubespark.cli.contract import guarded
    from kubespark.cli.output import fail_on_input_errors

    _without_httpx_cli()
    module, _, function = COMMANDS[name].partition(":")
    command = fail_on_input_errors(getattr(importlib.import_module(module), function))
    collect_from_here()
    guarded(lambda _: command(**values), args)
    return True


def short_path_key(name: str) -> str | None:
    """The flag-table entry of an offline command: the files that declare its flags decide it."""
    if name not in COMMANDS:
        return None
    module = COMMANDS[name].partition(":")[0]
    # The table's builder and reader, the shared flags and the -o choices, and the command.
    declaring = ("kubespark.cli.app", "kubespark.cli.shortpath", *SHARED_FLAGS)
    return _digest(f"flags\0{name}", (*declaring, module))


def help_cache_key(args: list[str]) -> str | None:
    """The cache entry of a help request (``--help``, ``COMMAND --help``), else None."""
    if len(args) == 1 and args[0] in HELP:
        modules: tuple[str, ...] = ()
    elif len(args) == 2 and args[1] in HELP and args[0] in COMMANDS:
        modules = (COMMANDS[args[0]].partition(":")[0],)
    else:
        return None
    # A command's help shows the shared flags' spelling and help, and the -o choices, too.
    return _digest(f"{args[0]}\0{_width()}", ("kubespark.cli.app", *SHARED_FLAGS, *modules))


def _digest(what: str, modules: tuple[str, ...]) -> str | None:
    """A digest of the version, ``what`` and the sources of ``modules`` and the command table."""
    digest = hashlib.sha256(f"{__version__}\0{what}".encode())
    for module in ("kubespark.cli.commands", *modules):
        # Every command module is a sibling of this one (kubespark.cli.NAME).
        try:
            with open(os.path.join(HERE, module.rpartition(".")[2] + ".py"), "rb") as source:
                digest.update(source.read())
        except OSError:
            return None
    return digest.hexdigest()[:24]


def _width() -> int:
    """The width click's help formatter reads: ``shutil.get_terminal_size`` without shutil."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def cache_dir() -> str:
    """``$KUBESPARK_CACHE/cli``, else the user's cache directory's ``kubespark/cli``."""
    return user_cache_dir("cli")


def _render_and_keep(args: list[str], path: str) -> None:
    """Let the app print the help, and keep what it printed when it succeeded."""
    import contextlib
    import io

    captured = io.StringIO()
    code: object = 0
    try:
        with contextlib.redirect_stdout(captured):
            _run(args)
    except SystemExit as exit_:
        code = exit_.code
    text = captured.getvalue()
    sys.stdout.write(text)
    if code in (0, None) and text:
        _keep(path, text)
    if code not in (0, None):
        raise SystemExit(code)


def _keep(path: str, text: str) -> None:
    """Write atomically (a concurrent reader sees the old entry or the new one); best effort."""
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".help-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError:
        return
