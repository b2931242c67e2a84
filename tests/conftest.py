"""Shared test configuration: the test tiers and the strictness that applies to every test.

- Tiers: a test leaves the fast default tier by carrying one of :data:`HEAVY_MARKERS` (declared,
  with what each means, in ``pyproject.toml``). A plain run deselects heavy tests; ``--all``
  (what CI runs) or an explicit ``-m`` expression selects them. This list is the only place that
  says which markers are heavy.
- The fast tier reaches no package index: pip in any subprocess it starts runs with
  ``PIP_NO_INDEX``, so a test that would download fails instead of silently going online.
- hypothesis: the ``quick`` profile for the fast tier, ``thorough`` with ``--all``;
  ``HYPOTHESIS_PROFILE`` or ``--hypothesis-profile`` choose another. No deadline in either:
  a loaded machine must not turn a slow example into a failure.
- Every async test ends with no task of its own still pending (a leaked-task check, as kopf's
  own suite does): a task left running is a bug in the code under test or in the test.
- Fixtures many areas share: ``own_caches`` (kubespark's caches in the test's folder, never the
  user's) and ``spark_pi`` (a fresh SparkPi SparkApplication to submit).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, settings

pytest_plugins = ["kubespark.emulator.testing"]  # the emulator and emulator_factory fixtures

# Markers that take a test out of the fast default tier (why each is heavy: pyproject.toml).
HEAVY_MARKERS = ("pyspark", "chromium", "slow", "fuzz", "realspark", "image", "network")

# Example counts live here, not on each test, so one switch scales every property test.
settings.register_profile(
    "quick", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all",
        action="store_true",
        dest="all_tiers",
        help=f"run every tier, heavy ones included ({', '.join(HEAVY_MARKERS)}); CI runs this",
    )


def _runs_every_tier(config: pytest.Config) -> bool:
    return bool(config.getoption("all_tiers") or config.getoption("markexpr"))


def pytest_configure(config: pytest.Config) -> None:
    declared = {line.split(":", 1)[0].strip() for line in config.getini("markers")}
    undeclared = sorted(set(HEAVY_MARKERS) - declared)
    if undeclared:
        raise pytest.UsageError(f"heavy markers {undeclared} are not declared in pyproject.toml")
    if not config.getoption("hypothesis_profile"):  # that option loads its profile itself
        tier_default = "thorough" if config.getoption("all_tiers") else "quick"
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or tier_default)
    if not _runs_every_tier(config):
        os.environ["PIP_NO_INDEX"] = "1"  # the fast tier stays off package indexes


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _runs_every_tier(config):
        heavy = [i for i in items if any(i.get_closest_marker(m) for m in HEAVY_MARKERS)]
        if heavy:
            config.hook.pytest_deselected(items=heavy)
            chosen = set(heavy)
            items[:] = [i for i in items if i not in chosen]
    for item in items:
        func = getattr(item, "function", None)
        if func is not None and inspect.iscoroutinefunction(func):
            item.fixturenames.insert(0, "_no_leaked_tasks")  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    if _runs_every_tier(config):
        return "tiers: all (heavy markers included)"
    return f"tiers: fast (deselects {', '.join(HEAVY_MARKERS)}; --all runs everything)"


@pytest_asyncio.fixture
async def _no_leaked_tasks() -> AsyncIterator[None]:
    before = set(asyncio.all_tasks())
    yield
    # Give cancelled tasks their last step before judging.
    for _ in range(3):
        await asyncio.sleep(0)
    leaked = [
        t
        for t in asyncio.all_tasks()
        if t not in before and t is not asyncio.current_task() and not t.done()
    ]
    if leaked:
        for task in leaked:
            task.cancel()
        pytest.fail(f"test leaked {len(leaked)} pending task(s): {leaked!r}")


@pytest.fixture
def own_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kubespark's caches (discovery, ...) in the test's own folder, not the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


# SparkPi as a user writes it for ``kubespark submit`` or ``Client.submit``: no sparkVersion (the
# image says it), the default namespace (the caller's).
_SPARK_PI: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "spark-pi"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "image": "apache/spark:3.5.1",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
        "driver": {"cores": 1, "memory": "512m"},
        "executor": {"instances": 2, "cores": 1, "memory": "512m"},
    },
}


@pytest.fixture
def spark_pi() -> Callable[[str], dict[str, Any]]:
    """Makes a fresh SparkPi SparkApplication (a copy the test may change) with the given name."""

    def make(name: str = "spark-pi") -> dict[str, Any]:
        app = copy.deepcopy(_SPARK_PI)
        app["metadata"]["name"] = name
        return app

    return make
