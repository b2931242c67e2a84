"""Every ``$`` command of the README's console block, run as written from the repository's root.

Against an emulated 1.19 server that ``~/.kube/config`` names (``HOME`` is a temporary directory
holding that kubeconfig), with ``kubespark`` and ``kubectl`` on ``PATH``: what a new user on a
fresh clone types. A command may find something (``check`` exits 1 for an incompatible path) but
none may fail on its input (exit 2: a missing file, an unknown flag) or crash (a traceback).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubespark.emulator.testing import RunningEmulator

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("kubespark", "kubectl")


def readme_commands() -> list[str]:
    """The ``$`` lines of the README's console blocks, split at ``;``, comments dropped."""
    text = (REPO / "README.md").read_text()
    commands = []
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if not line.startswith("$ "):
                continue
            code = line[2:].split("  #", 1)[0].split(" # ", 1)[0].strip()
            commands += [c.strip() for c in code.split(";") if c.strip().startswith(TOOLS)]
    return commands


def test_the_readme_has_commands_to_run() -> None:
    commands = readme_commands()
    assert any(c.startswith("kubespark submit examples/spark-pi.yaml --wait") for c in commands)
    for command in commands:
        for word in command.split():
            if word.startswith("examples/"):
                assert (REPO / word).exists(), f"{command}: {word} is not in the repository"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_every_readme_command_runs_as_written(emulator: RunningEmulator, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    shutil.copy(emulator.kubeconfig_path, home / ".kube" / "config")
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **{k: v for k, v in os.environ.items() if k != "KUBECONFIG"},
        "HOME": str(home),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    work = tmp_path / "clone"
    shutil.copytree(REPO / "examples", work / "examples")  # outputs (matrix.html) stay here
    for command in readme_commands():
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        output = result.stdout + result.stderr
        assert result.returncode in (0, 1), f"$ {command}\nexit {result.returncode}\n{output}"
        assert "Traceback" not in output, f"$ {command}\n{output}"
        if command.startswith(("kubespark submit examples/spark-pi.yaml --wait", "kubectl")):
            assert result.returncode == 0, f"$ {command}\n{output}"
