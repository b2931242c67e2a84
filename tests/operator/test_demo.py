"""README command (a): the demo's operator step runs Spark 3.5.1 to COMPLETED on emulated 1.19."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kubespark.cli.app import app

pytestmark = pytest.mark.slow


def test_demo_runs_the_operator_to_completed() -> None:
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.output
    step = out.index("kubespark install-crds, kubespark operator")
    assert "CRDs established: sparkapplications.sparkoperator.k8s.io" in out[step:]
    states = [
        line.strip() for line in out[step:].splitlines() if line.strip().startswith("spark-pi:")
    ]
    assert states[0] == "spark-pi: SUBMITTED" and states[-1] == "spark-pi: COMPLETED"
    assert "created the Service with POST instead of apply" in out[step:]
