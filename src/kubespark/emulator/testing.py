"""A pytest plugin: emulated Kubernetes API servers as fixtures.

Register it with ``pytest_plugins = ["kubespark.emulator.testing"]`` (kubespark's own
``tests/conftest.py`` does). Each server runs in a background thread with its own event loop
and answers over real HTTP on 127.0.0.1, so synchronous code (kubectl, the official client,
spark-submit) and async tests alike can use it.

- ``emulator``: one server per test; ``@pytest.mark.emulator(version="1.21", speed=20)``
  chooses its version and :class:`~kubespark.emulator.EmulatorOptions`; default 1.19, speed 20.
- ``emulator_factory``: ``emulator_factory(version="1.30", tls=True)`` starts more servers in a
  test; all stop when it ends.

Both yield :class:`RunningEmulator` (``url``, ``kubeconfig_path``, ``version``, ``call`` to run a
coroutine on the server's loop, e.g. ``running.call(running.emulator.restart())``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubespark.emulator.server import EmulatorOptions, EmulatorThread, RunningEmulator

__all__ = ["RunningEmulator", "emulator", "emulator_factory"]

DEFAULT_TEST_SPEED = 20.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulator(version='1.19', **options): the version and EmulatorOptions of the `emulator` "
        "fixture's server",
    )


def _start(version: str, settings: dict[str, Any]) -> RunningEmulator:
    settings.setdefault("speed", DEFAULT_TEST_SPEED)
    runner = EmulatorThread(EmulatorOptions(version=version, **settings))
    emu = runner.start()
    return RunningEmulator(runner, emu)


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., RunningEmulator]]:
    started: list[RunningEmulator] = []

    def start(version: str = "1.19", **settings: Any) -> RunningEmulator:
        running = _start(version, settings)
        started.append(running)
        return running

    yield start
    for running in started:
        running.runner.stop()


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[RunningEmulator]:
    marker = request.node.get_closest_marker("emulator")
    settings: dict[str, Any] = dict(marker.kwargs) if marker else {}
    version = str(settings.pop("version", marker.args[0] if marker and marker.args else "1.19"))
    running = _start(version, settings)
    try:
        yield running
    finally:
        running.runner.stop()
