"""Finding an older Python for old PySpark releases (the process kubelet's PYSPARK_PYTHON)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubespark.emulator.workloads import interpreters, sparkimage


def _python(root: Path, version: str) -> Path:
    minor = ".".join(version.split(".")[:2])
    exe = root / version / "bin" / f"python{minor}"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return exe


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path


def test_the_newest_interpreter_under_the_ceiling_wins(places: Path) -> None:
    _python(places / "pyenv" / "versions", "3.8.18")
    newest = _python(places / "pyenv" / "versions", "3.9.18")
    _python(places / "pyenv" / "versions", "3.11.7")
    assert interpreters.older_python((3, 9)) == newest


def test_uv_pythons_count_and_none_found_is_none(places: Path) -> None:
    assert interpreters.older_python((3, 9)) is None
    found = _python(places / "uv", "cpython-3.8.20-linux-x86_64-gnu")
    found.rename(found.parent / "python3.8")
    assert interpreters.older_python((3, 9)) == found.parent / "python3.8"


def test_spark_3_0_to_3_3_have_a_python_ceiling_and_3_4_on_none() -> None:
    assert sparkimage.python_ceiling("3.2.4") == (3, 9)
    assert sparkimage.python_ceiling("3.0.3") == (3, 9)
    assert sparkimage.python_ceiling("3.3.4") == (3, 10)
    assert sparkimage.python_ceiling("3.4.4") is None
    assert sparkimage.python_ceiling("4.0.5") is None
