"""submit, status, logs, list and delete start with their own imports only.

Each run is a fresh interpreter, as the ``kubespark`` script is: these commands must not pull in
the rest of the CLI (the operator framework above all), and keep the CLI's one-message errors.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kubespark.emulator.testing import RunningEmulator

PROBE = """
import sys
sys.argv = ["kubespark", *{args!r}]
from kubespark.cli.app import main
try:
    main()
    code = 0
except SystemExit as exit:
    code = exit.code
print("kopf imported:", "kopf" in sys.modules, "exit:", code)
"""


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path), "HOME": str(tmp_path)},
    )


def test_list_starts_without_the_rest_of_the_cli(emulator: RunningEmulator, tmp_path: Path) -> None:
    result = run(tmp_path, "list", "--kubeconfig", str(emulator.kubeconfig_path))
    assert "no Spark applications in namespace default" in result.stdout, result.stderr
    assert result.stdout.strip().endswith("kopf imported: False exit: 0")


def test_bad_input_is_still_one_message(tmp_path: Path) -> None:
    result = run(tmp_path, "submit", str(tmp_path / "absent.yaml"), "--dry-run", "--k8s", "1.19")
    assert result.stderr.startswith("error:") and "absent.yaml" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip().endswith("exit: 2")


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    for command in ("submit", "status", "logs", "list", "delete", "doctor", "operator"):
        assert f" {command} " in result.stdout
    assert result.stdout.strip().endswith("exit: 0")
