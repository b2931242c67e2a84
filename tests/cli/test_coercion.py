"""Flag values converted without pydantic, as typer's adapters convert them.

Through the real CLI: integers, numbers, choices, lists and paths arrive as the commands' types;
a bad value is exit 2 with typer's wording naming the flag; and a command whose own work needs no
pydantic (``completion``) does not load it (nor typer's adapters) to parse its flags.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kubespark.cli.app import app
from kubespark.cli.coercion import PlainParam

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
    # Every plain flag of every command got the pydantic-free converter; a bounded one
    # (proxy's --max-connections, min=1) keeps typer's own.
    from kubespark.cli.app import COMMANDS, _LazyCommands

    group: Any = _LazyCommands(name="kubespark")
    for name in COMMANDS:
        command = group.get_command(None, name)
        plain = [p for p in command.params if isinstance(p._runtime_param, PlainParam)]
        typed = [
            p
            for p in command.params
            if getattr(p, "type_descriptor", None) is not None
            and p.type_descriptor.parameter_info.min is None
            and p.type_descriptor.parameter_info.max is None
        ]
        assert len(plain) == len(typed), name


def test_parsing_flags_loads_no_pydantic(tmp_path: Path) -> None:
    out = tmp_path / "modules.json"
    probe = (
        "import json, sys\n"
        "from kubespark.cli.entry import main\n"
        "try:\n    main(['completion', 'bash'])\nexcept SystemExit:\n    pass\n"
        f"json.dump(sorted(sys.modules), open({str(out)!r}, 'w'))\n"
    )
    subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        timeout=120,
        check=True,
        env={**os.environ, "KUBESPARK_CACHE": str(tmp_path / "cache")},
    )
    loaded = set(json.loads(out.read_text()))
    assert "typer" in loaded
    assert sorted(m for m in loaded if m.startswith(("pydantic", "typer._adapters"))) == []
