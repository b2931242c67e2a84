"""The demo's emulator step: the real spark-submit against Kubernetes 1.19, or how to see it."""

from __future__ import annotations

import pytest
from rich.console import Console

import pyspark_env
from kubespark.cli import demo
from kubespark.sparkdist import cache_root


def _console() -> Console:
    return Console(record=True, width=400, color_system=None)


def test_without_a_cached_pyspark_the_step_says_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "_cached_spark_submit", lambda version: None)
    console = _console()
    demo.show_spark_submit_on_emulator(console)
    text = console.export_text()
    assert f"skipped: pyspark 3.5.1 in {cache_root() / '3.5.1'}/ not found" in text
    assert "pip install pyspark==3.5.1" in text


@pytest.mark.pyspark
@pytest.mark.skipif(pyspark_env.java_home() is None, reason="spark-submit needs Java")
def test_the_real_spark_submit_fails_on_the_emulated_1_19() -> None:
    pyspark_env.venv("3.5.1")
    console = _console()
    demo.show_spark_submit_on_emulator(console)
    text = console.export_text()
    assert "emulated Kubernetes v1.19.0" in text
    assert "spark-submit 3.5.1 exited with 1" in text
    assert "failed to create typed patch object" in text
    assert ".spec.ipFamilies: field not declared in schema" in text
