"""``kubespark submit`` names an executor field the real Spark driver overwrites, as a compat note.

The note is printed with the submission and recorded with its other compat notes, so ``status``
shows it later.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from submit_support import kubespark, prepare, spark_pi, write_app

from kubespark.emulator.testing import RunningEmulator


def test_submit_and_status_name_a_memory_limit_spark_overwrites(
    emulator_factory: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory("1.21")
    prepare(emu)
    app = spark_pi()
    app["spec"]["executor"]["memoryLimit"] = "2g"
    result = kubespark(emu, "submit", str(write_app(tmp_path, app)))
    assert result.exit_code == 0, result.output
    note = "spec.executor.memoryLimit does not reach the executor pods on Spark 3.5.1"
    assert note in result.stdout
    assert "instead, size spec.executor.memoryOverhead" in result.stdout
    status = kubespark(emu, "status", "spark-pi", "-n", "spark-jobs")
    assert note in status.stdout, status.output


def test_no_note_when_no_overwritten_field_is_set(
    emulator_factory: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    emu = emulator_factory("1.21")
    prepare(emu)
    result = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())))
    assert result.exit_code == 0, result.output
    assert "does not reach the executor pods" not in result.stdout
