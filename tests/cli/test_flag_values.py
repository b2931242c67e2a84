"""Flag values as typer converts them, through the real CLI.

Integers, numbers, choices, lists and paths arrive as the commands' types; a bad value is exit 2
with typer's wording naming the flag.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubespark.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["logs", "x", "--tail", "abc"], "'--tail': Input should be a valid integer"),
        (["logs", "x", "--tail", "1.5"], "Input should be a valid integer"),
        (["logs", "x", "--timeout", "soon"], "'--timeout': Input should be a valid number"),
        (["list", "-o", "table"], "'table' is not one of 'text', 'wide', 'json', 'yaml', 'name'."),
        (["check", "--k8s", "1.29", "-o", "xml"], "'xml' is not one of 'text', 'json'."),
        (["completion", "tcsh"], "'tcsh' is not one of 'bash', 'zsh', 'fish'."),
    ],
)  # fmt: skip
def test_bad_values_are_usage_errors_naming_the_flag(argv: list[str], message: str) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_good_values_arrive_typed(tmp_path: Path) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    # A path, a choice, a string: validate reads the file and prints JSON.
    result = runner.invoke(app, ["validate", "-f", str(pod), "--k8s", "1.29", "-o", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)
