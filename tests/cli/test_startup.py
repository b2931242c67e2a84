"""Start-up of the CLI: what an offline command imports, and the habits its ``--help`` keeps.

Each command runs in a fresh interpreter (as a shell runs it) and reports the modules it loaded:
an offline command that pulls the HTTP stack, the operator or the emulator fails here, whatever
the machine's speed. Timings are ``bench/bench_startup.py``'s, never asserted.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_probe import POD, probe
from typer.testing import CliRunner

import kubespark
from kubespark import __version__
from kubespark.cli.app import COMMANDS, EXAMPLES, SUMMARIES, app
from kubespark.emulator.testing import RunningEmulator

runner = CliRunner()

# What only a command that talks to a server, serves, or runs the operator may load.
HEAVY = (
    "httpx",
    "httpcore",
    "aiohttp",
    "kopf",
    "uvicorn",
    "cryptography",
    "prometheus_client",
    "croniter",
    # The knowledge base's records and the Spark model are dataclasses, and Status is built only
    # on a failure: an offline command's verdict needs no validation library.
    "pydantic",
    "kubespark.kube.client",
    "kubespark.kube.transport",
    "kubespark.emulator",
    "kubespark.operator",
    "kubespark.submit",
)


def _loaded(tmp_path: Path, *argv: str) -> tuple[object, set[str]]:
    got = probe(tmp_path, *argv, env={"COLUMNS": "80"})
    return got.code, set(got.modules)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["check", "--k8s", "1.29", "--spark", "3.5.1"],
        ["matrix"],
        ["plan", "--from", "spark=3.4.1,k8s=1.19", "--to", "spark=3.5.1,k8s=1.29"],
        ["validate", "-f", "{pod}", "--k8s", "1.29"],
        ["validate", "-f", "{app}", "-f", "{crd}", "--k8s", "1.29"],
    ],
    ids=lambda argv: " ".join(argv[:1]),
)
def test_offline_commands_load_no_heavy_module(tmp_path: Path, argv: list[str]) -> None:
    """Measured as every run but a command's first: that one is parsed by typer (whose per-flag
    pydantic adapters are the price) while it stores the flag table the short path reads."""
    args = _arguments(tmp_path, argv)
    _loaded(tmp_path, *args)  # the first run: the flag table and cached help are written
    code, modules = _loaded(tmp_path, *args)
    assert code in (0, None), f"{argv} exited {code}"
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))
    assert heavy == [], f"kubespark {' '.join(argv)} imported {heavy}"


def _arguments(tmp_path: Path, argv: list[str]) -> list[str]:
    """``argv`` with ``{pod}``, ``{app}`` and ``{crd}`` as files: a Pod, examples/spark-pi.yaml
    and the SparkApplication CRD (with it among the inputs, the application is checked by the
    Spark model and kubeflow's refusals)."""
    pod = tmp_path / "pod.yaml"
    pod.write_text(POD)
    files = {"{pod}": str(pod), "{app}": str(SPARK_PI), "{crd}": str(CRD)}
    return [files.get(a, a) for a in argv]


SPARK_PI = Path(__file__).resolve().parents[2] / "examples" / "spark-pi.yaml"
CRD = (
    Path(kubespark.__file__).parent
    / "operator/data/crds/sparkoperator.k8s.io_sparkapplications.yaml"
)


def test_an_offline_submission_plan_loads_no_validation_library(tmp_path: Path) -> None:
    """``submit --dry-run --k8s``: the application's model is dataclasses (kubespark.records)."""
    args = ["submit", str(SPARK_PI), "--dry-run", "--k8s", "1.29"]
    _loaded(tmp_path, *args)
    code, modules = _loaded(tmp_path, *args)
    assert code in (0, None), f"{args} exited {code}"
    assert sorted(m for m in modules if m.split(".")[0] == "pydantic") == []


def test_a_successful_submit_loads_no_validation_library_nor_the_knowledge_base(
    emulator: RunningEmulator, tmp_path: Path, spark_pi: Callable[[str], dict[str, Any]]
) -> None:
    """pydantic is for the failures a server answers (kube.status's Status): a submission the
    server takes never imports it. The second run is measured, as the first stores the flags."""
    for name in ("startup-a", "startup-b"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spark_pi(name)))
        argv = ("submit", str(path), "--kubeconfig", str(emulator.kubeconfig_path))
        got = probe(tmp_path, *argv, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
        assert got.code == 0, got.stderr
    assert "✓ submitted default/startup-b" in got.stdout, got.stdout
    assert sorted(m for m in got.modules if m.split(".")[0] == "pydantic") == []
    # Which Spark releases kubespark models is read from its own small cache entry: neither the
    # knowledge base's records nor its evaluation load.
    knowledge = ("kubespark.knowledge.schema", "kubespark.knowledge.evaluation")
    assert sorted(m for m in got.modules if m.startswith(knowledge)) == []


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--k8s", "1.29", "--spark", "3.5.1"],
        ["matrix"],
        ["plan", "--from", "spark=3.4.1,k8s=1.19", "--to", "spark=3.5.1,k8s=1.29"],
        ["plan", "--from", "spark=3.2.4,k8s=1.16", "--to", "spark=4.0.0,k8s=1.33"],
        ["validate", "-f", "{pod}", "--k8s", "1.29"],
    ],
    ids=lambda argv: " ".join(argv[:1]),
)
def test_piped_offline_output_needs_neither_rich_nor_importlib_resources(
    tmp_path: Path, argv: list[str]
) -> None:
    """Piped, these print plain text (cli/plain.py) and read their data from the package's
    directory (kubespark.packagedata): rich's console and importlib.resources (zipfile, tempfile,
    shutil) are start-up they do not need."""
    code, modules = _loaded(tmp_path, *_arguments(tmp_path, argv))
    assert code in (0, 1, None), f"{argv} exited {code}"
    unneeded = sorted(m for m in modules if m == "rich" or m.startswith("importlib.resources"))
    assert unneeded == [], f"kubespark {' '.join(argv)} imported {unneeded}"


@pytest.mark.parametrize(
    ("argv", "imports_a_command"),
    [
        (["--version"], False),
        (["check", "--k8s", "1.29", "--spark", "3.5.1"], True),  # the short path, once warm
        (["completion", "bash"], True),  # parsed by typer
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else str(v),
)
def test_start_up_is_frozen_out_of_the_collector_which_runs_again(
    tmp_path: Path, argv: list[str], imports_a_command: bool
) -> None:
    """The collector is paused while a command's modules load, then what they built is frozen
    and collection resumes: a long command (``submit --wait``, the operator) still collects."""
    for _ in range(2):  # the second run is the warm one
        run = probe(tmp_path, *argv, env={})
    assert run.code == 0, run.stderr
    assert run.collecting
    # Frozen: the command's start-up (tens of thousands of objects), and nothing without one.
    assert (run.frozen > 10_000) == imports_a_command, run.frozen


@pytest.mark.parametrize("argv", [["completion", "bash"], ["check", "--k8s", "1.29"]])
def test_the_app_run_in_process_leaves_the_collector_alone(argv: list[str]) -> None:
    """Only the console script pauses and freezes the collector: a program (or a test) that
    runs the app in-process keeps its own collector as it was, so its garbage is collected when
    it would have been."""
    frozen = gc.get_freeze_count()
    result = runner.invoke(app, argv)
    assert result.exit_code in (0, 1), result.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_warm_validate_of_a_spark_application_loads_no_cel_interpreter_nor_the_model(
    tmp_path: Path,
) -> None:
    """kubeflow's webhook rules run compiled to Python from the cache (apisurface/cel_compile):
    only the run that compiles them (the first with this cache) parses CEL with celpy."""
    example = Path(__file__).parents[2] / "examples" / "spark-pi.yaml"
    env = {"KUBESPARK_CACHE": str(tmp_path / "cache"), "COLUMNS": "80"}
    first = probe(tmp_path, "validate", "-f", str(example), env=env)
    warm = probe(tmp_path, "validate", "-f", str(example), env=env)
    assert "celpy" in first.modules
    assert warm.stdout == first.stdout and warm.code == first.code
    interpreters = ("celpy", "lark", "pendulum", "dateutil")
    assert sorted(m for m in warm.modules if m.split(".")[0] in interpreters) == []
    # Only the rules: not the SparkApplication model (kubespark.spark loads its names lazily),
    # nor importlib.resources for the rules' data file (kubespark.packagedata).
    unneeded = ("kubespark.spark.model", "kubespark.spark.loading", "importlib.resources")
    assert sorted(m for m in warm.modules if m.startswith(unneeded)) == []


def test_help_lists_commands_without_importing_them(tmp_path: Path) -> None:
    _, modules = _loaded(tmp_path, "--help")
    commands = {target.partition(":")[0] for target in COMMANDS.values()}
    assert commands & modules == set()


def test_summaries_are_the_commands_docstrings() -> None:
    assert set(SUMMARIES) == set(COMMANDS)
    for name, target in COMMANDS.items():
        module, _, function = target.partition(":")
        doc = getattr(importlib.import_module(module), function).__doc__ or ""
        assert doc.strip().splitlines()[0] == SUMMARIES[name], name


def test_version_and_short_help() -> None:
    for flag in ("--version", "-V"):
        result = runner.invoke(app, [flag])
        assert result.exit_code == 0
        assert result.output.strip() == f"kubespark {__version__}"
    assert runner.invoke(app, ["-h"]).output == runner.invoke(app, ["--help"]).output


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_help_has_examples_fits_80_columns_and_no_bool_placeholder(name: str) -> None:
    result = runner.invoke(app, [name, "-h"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Examples:" in text
    assert name in EXAMPLES or name == "emulate"
    assert "<bool>" not in text
    assert "--no-no-" not in text
    assert "K8S" not in text
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert too_wide == []


def test_check_refuses_an_unknown_kubernetes_version_as_plan_does() -> None:
    check = runner.invoke(app, ["check", "--k8s", "1.99", "--spark", "3.5.1"])
    plan = runner.invoke(
        app, ["plan", "--from", "spark=3.5.1,k8s=1.29", "--to", "spark=3.5.1,k8s=1.99"]
    )
    assert check.exit_code == plan.exit_code == 2
    assert "Kubernetes 1.99 is not a minor kubespark knows" in check.output
    assert "fix: give a minor from 1.16 to" in check.output


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_and_answers(shell: str) -> None:
    script = runner.invoke(app, ["completion", shell])
    assert script.exit_code == 0
    assert "_KUBESPARK_COMPLETE" in script.output
    env = {**os.environ, "_KUBESPARK_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        env |= {"COMP_WORDS": "kubespark list --all", "COMP_CWORD": "2"}
    else:
        # fish asks twice (is-args, then get-args); the second returns the candidates.
        env |= {"_TYPER_COMPLETE_ARGS": "kubespark list --all"}
        env |= {"_TYPER_COMPLETE_FISH_ACTION": "get-args"} if shell == "fish" else {}
    # The console script, as a shell calls it: the variable's name comes from the program's.
    script_path = Path(sys.executable).with_name("kubespark")
    answer = subprocess.run([script_path], env=env, capture_output=True, text=True, timeout=60)
    assert "--all-namespaces" in answer.stdout


def test_completion_scripts_start_where_the_shells_look() -> None:
    # zsh autoloads a file on its fpath only when "#compdef" is its first line.
    zsh = runner.invoke(app, ["completion", "zsh"]).output
    assert zsh.splitlines()[0] == "#compdef kubespark"
    bash = runner.invoke(app, ["completion", "bash"]).output
    assert bash.startswith("_kubespark_completion() {")
    assert bash.endswith("complete -o default -F _kubespark_completion kubespark\n")


def test_no_private_module_of_another_package_is_imported() -> None:
    src = Path(kubespark.__file__).parent
    private = re.compile(r"^\s*(?:from|import)\s+(?!kubespark\b)[\w.]*\._", re.M)
    found = [f"{p.relative_to(src)}" for p in src.rglob("*.py") if private.search(p.read_text())]
    assert found == []


def test_completion_refuses_an_unknown_shell() -> None:
    result = runner.invoke(app, ["completion", "tcsh"])
    assert result.exit_code == 2
