"""Flag defaults are the library's own, never restated: ``kubespark operator``'s are
``OperatorOptions()``'s, ``kubespark emulate``'s ``EmulatorOptions()``'s and ``Faults()``'s. Bad
operator flags are refused with the flag named (exit 2, no traceback) before anything connects."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from kubespark.cli.app import app as cli
from kubespark.emulator import EmulatorOptions, Faults
from kubespark.operator.options import OperatorOptions

runner = CliRunner()


def _help_defaults(command: str) -> dict[str, str]:
    text = runner.invoke(cli, [command, "--help"], terminal_width=400).stdout
    return dict(re.findall(r"(--[a-z0-9-]+)(?: <\w+>)?\s.*?\[default: ([^\]]+)\]", text))


def test_the_flags_defaults_are_the_options_defaults() -> None:
    shown, options = _help_defaults("operator"), OperatorOptions()
    assert shown["--workers"] == str(options.workers)
    assert shown["--peering"] == options.peering
    assert shown["--peering-lifetime"] == str(options.peering_lifetime)
    assert shown["--metrics-port"] == str(options.metrics_port)
    assert shown["--metrics-labels"] == ",".join(options.metrics_labels)
    assert shown["--max-tracked-executors"] == str(options.max_tracked_executors)
    assert shown["--driver-pod-creation-grace"] == str(options.driver_pod_creation_grace)
    assert shown["--request-retries"] == str(options.request_retries)


def test_the_emulators_flag_defaults_are_its_options_defaults() -> None:
    shown, options, faults = _help_defaults("emulate"), EmulatorOptions(), Faults()
    assert shown["--k8s"] == options.version
    assert shown["--port"] == str(options.port)
    assert shown["--speed"] == str(options.speed)
    assert shown["--error-rate"] == str(faults.error_rate)
    assert shown["--error-codes"] == ",".join(str(code) for code in faults.error_codes)
    assert shown["--kubelet"] == options.kubelet


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--workers", "0"], "--workers"),
        (["--peering-lifetime", "5"], "--peering-lifetime"),
        (["--metrics-port", "70000"], "--metrics-port"),
        (["--kube-api-qps", "-1"], "--kube-api-qps"),
        (["-n", "a", "--namespace-selector", "team=data"], "--namespace-selector"),
    ],
)
def test_bad_flags_name_the_flag_and_exit_2(args: list[str], flag: str) -> None:
    result = runner.invoke(cli, ["operator", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {flag}: ")
    assert "fix: " in result.stderr and "Traceback" not in result.output
