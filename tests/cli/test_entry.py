"""The entry point's short path: ``--version`` and a help shown before, without the framework.

Each run is a fresh interpreter (as a shell runs it), with its own cache directory: the first
``--help`` is rendered by the app and kept; the second is the same text, read back, and loads
neither typer nor rich; another terminal width or command is another entry.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_probe import probe

from kubespark import __version__
from kubespark.cli.entry import help_cache_key
from kubespark.emulator.testing import RunningEmulator

FRAMEWORK = ("typer", "rich", "click", "pydantic", "yaml")


def run(tmp_path: Path, *argv: str, columns: int = 80) -> tuple[str, object, set[str]]:
    env = {"KUBESPARK_CACHE": str(tmp_path / "cache"), "COLUMNS": str(columns)}
    got = probe(tmp_path, *argv, env=env)
    return got.stdout, got.code, set(got.modules)


def framework(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in FRAMEWORK)


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["check", "--help"], ["logs", "-h"]])
def test_a_help_shown_before_is_read_back_without_the_framework(
    tmp_path: Path, argv: list[str]
) -> None:
    first, code, loaded = run(tmp_path, *argv)
    assert code == 0 and first.startswith("Usage: kubespark")
    assert "typer" in loaded  # rendered by the app the first time
    again, code, loaded = run(tmp_path, *argv)
    assert code == 0 and again == first
    assert framework(loaded) == []
    entries = list((tmp_path / "cache" / "cli").glob("help-*"))
    assert len(entries) == 1
    # Another width is another entry, rendered for that width.
    wide, _, _ = run(tmp_path, *argv, columns=200)
    assert len(list((tmp_path / "cache" / "cli").glob("help-*"))) == 2
    assert max(len(line) for line in wide.splitlines()) > 80 or wide == first


def test_version_and_other_commands(tmp_path: Path) -> None:
    text, code, loaded = run(tmp_path, "--version")
    assert (text, code) == (f"kubespark {__version__}\n", 0)
    assert framework(loaded) == []
    assert help_cache_key(["check", "--k8s", "1.29"]) is None
    assert help_cache_key(["nosuch", "--help"]) is None
    assert help_cache_key(["--help"]) != help_cache_key(["check", "--help"])
    # A failing help request (an unknown option before --help) is not kept.
    _, code, _ = run(tmp_path, "check", "--nosuch")
    assert code == 2
    assert list((tmp_path / "cache" / "cli").glob("help-*")) == []


def test_a_command_that_talks_to_a_server_loads_no_aiohttp(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    """One command's few requests go through httpx's own connections (``pooled=False``)."""
    _, code, loaded = run(
        tmp_path, "status", "absent", "--kubeconfig", str(emulator.kubeconfig_path)
    )
    assert code == 2  # it asked the server: no such application
    assert "httpx" in loaded
    assert sorted(m for m in loaded if m.startswith(("aiohttp", "httpx._main", "click"))) == []
