# ruff: noqa: PTH103, PTH105, PTH118, PTH120, PTH123
# (os.path, not pathlib: this runs before anything else is loaded; pathlib costs start-up)
"""The short path of the offline commands: their flags parsed without typer, from a stored table.

Owns the flag table of each command in :data:`kubespark.cli.commands.SHORT_PATH` (``check``,
``matrix``, ``plan``, ``validate``): which options it takes, of which plain kind (a string, a
path, a flag, a choice of an enum, a repeated string), required or with which default. The table
is written by :mod:`kubespark.cli.app` from the typer command it builds (so typer stays the one
declaration), into the same cache directory and under the same kind of key as the help text
(a digest of the version and of the files that declare the command), and read by
:mod:`kubespark.cli.entry`, which then calls the command with the parsed values.

The short path accepts only the plain grammar (``--flag value``, ``--flag=value``, ``-f value``,
each option at most once, positional arguments as many as the command declares, no help);
anything else, and any value it
cannot convert exactly, is ``None``: the caller hands the command line to typer, whose messages
and exit codes are then the ones users see. Standard library only: it runs on every invocation.
"""

from __future__ import annotations

import importlib
import json
import os
from typing import Any

__all__ = ["KINDS", "parse", "read_table", "table_path", "write_table"]

# The kinds a table may hold; a command with any other parameter gets no table.
KINDS = frozenset({"str", "path", "flag", "enum", "strs", "float"})


def table_path(directory: str, key: str) -> str:
    return os.path.join(directory, f"flags-{key}.json")


def read_table(path: str) -> list[dict[str, Any]] | None:
    """The stored table, or None when there is none (or it is unreadable: typer then parses)."""
    try:
        with open(path, encoding="utf-8") as stored:
            table = json.load(stored)
    except (OSError, ValueError):
        return None
    if not isinstance(table, list) or not all(
        isinstance(row, dict) and row.get("kind") in KINDS for row in table
    ):
        return None
    return table


def write_table(path: str, table: list[dict[str, Any]]) -> None:
    """Write atomically (a concurrent reader sees the old table or the new one); best effort."""
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".flags-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(table, out)
        os.replace(tmp, path)
    except OSError:
        return


def parse(table: list[dict[str, Any]], args: list[str]) -> dict[str, Any] | None:
    """The command's keyword arguments from ``args``, or None: let typer parse this line."""
    by_option = {opt: row for row in table for opt in row["opts"]}
    positional = [row for row in table if row.get("argument")]
    given: dict[str, Any] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if positional and (arg == "-" or arg[:1] != "-"):
            given[positional.pop(0)["name"]] = arg
            index += 1
            continue
        name, eq, attached = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        row = by_option.get(name)
        if row is None or (row["name"] in given and row["kind"] != "strs"):
            return None  # an unknown option, a positional argument, --help, a repeat: typer's
        if row["kind"] == "flag":
            if eq:
                return None
            given[row["name"]] = True
            index += 1
            continue
        if eq:
            value = attached
            index += 1
        elif index + 1 < len(args) and (args[index + 1] == "-" or args[index + 1][:1] != "-"):
            value = args[index + 1]
            index += 2
        else:
            return None  # a missing value, or one click might read as an option
        if row["kind"] == "strs":
            given.setdefault(row["name"], []).append(value)
        else:
            given[row["name"]] = value
    return _values(table, given)


def _values(table: list[dict[str, Any]], given: dict[str, Any]) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    for row in table:
        name = row["name"]
        raw = given.get(name, row["default"])
        if name not in given and row["required"]:
            return None
        converted = _convert(row, raw)
        if converted is None and raw is not None:
            return None  # a choice that is no member: typer says which ones are
        values[name] = converted
    return values


def _convert(row: dict[str, Any], raw: Any) -> Any:
    if raw is None:
        return None
    kind = row["kind"]
    if kind == "path":
        from pathlib import Path

        return Path(raw)
    if kind == "enum":
        module, _, name = row["enum"].partition(":")
        enum = getattr(importlib.import_module(module), name)
        return next((member for member in enum if member.value == raw), None)
    if kind == "strs":
        return list(raw)
    if kind == "float":
        # As typer reads a number; anything else is typer's to refuse.
        try:
            return float(str(raw).strip())
        except ValueError:
            return None
    return raw  # str, flag
