"""``kubespark submit`` through the real CLI against emulated servers over real HTTP.

Bad input (one clear message, exit 2, nothing written), the namespace rule, ``--dry-run`` (the
planned writes of each server, nothing sent) and the JSON view. The end-to-end runs (drivers
completing, failures cleaned up) are in ``tests/e2e``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from kubespark.apisurface import newest_version
from kubespark.cli.app import app
from kubespark.emulator.testing import RunningEmulator

runner = CliRunner()


pytestmark = pytest.mark.usefixtures("own_caches")


NEWEST = str(newest_version())

SPARK_PI: dict[str, Any] = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "spark-pi", "namespace": "default"},
    "spec": {
        "type": "Scala",
        "mode": "cluster",
        "image": "apache/spark:3.5.1",
        "sparkVersion": "3.5.1",
        "mainClass": "org.apache.spark.examples.SparkPi",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
        "arguments": ["1000"],
        "driver": {"cores": 1, "memory": "512m"},
        "executor": {"instances": 2, "cores": 1, "memory": "512m"},
    },
}


def write_app(tmp_path: Path, app: dict[str, Any], name: str = "app.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(app, sort_keys=False))
    return path


def changed(path: str, value: Any) -> dict[str, Any]:
    """SparkPi with one field set (``value`` None: removed); ``path`` like ``spec.executor.x``."""
    app = copy.deepcopy(SPARK_PI)
    *parents, last = path.split(".")
    node = app
    for part in parents:
        node = node[part]
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value
    return app


def submit(emu: RunningEmulator, *args: str) -> Result:
    return runner.invoke(app, ["submit", *args, "--kubeconfig", str(emu.kubeconfig_path)])


# What every cluster holds before anything is submitted (the ``kubernetes`` Service).
BUILT_IN = {"kubernetes"}


def stored(emu: RunningEmulator, namespace: str = "default") -> dict[str, list[str]]:
    """Names of the pods, services and configmaps the server holds in ``namespace``."""
    out = {}
    with httpx.Client(base_url=emu.url, timeout=10) as client:
        for plural in ("pods", "services", "configmaps"):
            items = client.get(f"/api/v1/namespaces/{namespace}/{plural}").json()["items"]
            out[plural] = [
                i["metadata"]["name"] for i in items if i["metadata"]["name"] not in BUILT_IN
            ]
    return out


def assert_one_clear_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error:")
    assert result.stderr.count("error:") == 1
    assert "fix:" in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


# -- bad input: one message naming the field and the fix, exit 2, nothing written ----------------


@pytest.mark.parametrize(
    ("field", "value", "needles"),
    [
        ("spec.driver.coresLimit", "1", ("spec.driver.coresLimit", "unknown field", "coreLimit")),
        ("spec.executor.instances", "two", ("spec.executor.instances", "expected an integer")),
        ("spec.mainApplicationFile", None, ("spec.mainApplicationFile", "required field missing")),
        ("spec.executor.instances", -1, ("spec.executor.instances", "out of range")),
    ],
    ids=["unknown-field", "wrong-type", "no-main-application-file", "negative-instances"],
)
def test_bad_input_is_one_message_and_nothing_is_created(
    emulator: RunningEmulator, tmp_path: Path, field: str, value: Any, needles: tuple[str, ...]
) -> None:
    result = submit(emulator, str(write_app(tmp_path, changed(field, value))))
    assert_one_clear_error(result, *needles)
    assert stored(emulator) == {"pods": [], "services": [], "configmaps": []}


def test_no_spark_version_and_an_image_tag_without_one(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    app = changed("spec.sparkVersion", None)
    app["spec"]["image"] = "registry.example.com/team/spark-job:latest"
    result = submit(emulator, str(write_app(tmp_path, app)))
    assert_one_clear_error(result, "spec.sparkVersion", "no Spark version", "spark-job:latest")
    assert stored(emulator) == {"pods": [], "services": [], "configmaps": []}


def test_the_spark_version_comes_from_the_image_tag_when_not_given(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    app = changed("spec.sparkVersion", None)
    result = submit(emulator, str(write_app(tmp_path, app)), "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sparkVersion"] == "3.5.1"


def test_a_file_on_the_submitting_machine_is_refused_before_any_write(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    app = changed("spec.mainApplicationFile", "/home/me/spark-examples.jar")
    result = submit(emulator, str(write_app(tmp_path, app)))
    assert_one_clear_error(result, "spec.mainApplicationFile", "local://")
    assert stored(emulator) == {"pods": [], "services": [], "configmaps": []}


def test_missing_file_and_unreadable_yaml(emulator: RunningEmulator, tmp_path: Path) -> None:
    assert_one_clear_error(submit(emulator, str(tmp_path / "absent.yaml")), "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: [unclosed\n")
    assert_one_clear_error(submit(emulator, str(broken)), "broken.yaml", "not valid YAML")


def test_namespace_flag_must_agree_with_the_application(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    result = submit(emulator, str(write_app(tmp_path, SPARK_PI)), "-n", "elsewhere")
    assert_one_clear_error(result, "-n/--namespace", "'default'", "'elsewhere'")
    assert stored(emulator)["pods"] == []


@pytest.mark.emulator(version="1.19", namespaces=("team-a",))
def test_namespace_flag_places_an_application_without_one(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    app = copy.deepcopy(SPARK_PI)
    del app["metadata"]["namespace"]
    result = submit(emulator, str(write_app(tmp_path, app)), "-n", "team-a", "-o", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["namespace"] == "team-a"
    assert "spark-pi-driver" in stored(emulator, "team-a")["pods"]
    assert stored(emulator)["pods"] == []


def test_k8s_needs_dry_run(emulator: RunningEmulator, tmp_path: Path) -> None:
    result = submit(emulator, str(write_app(tmp_path, SPARK_PI)), "--k8s", "1.19")
    assert_one_clear_error(result, "--k8s", "--dry-run")


# -- --dry-run: the planned writes, nothing sent -------------------------------------------------


def test_dry_run_on_1_19_plans_a_post_for_the_service_and_sends_nothing(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    result = submit(emulator, str(write_app(tmp_path, SPARK_PI)), "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "nothing is sent" in out and "Kubernetes 1.19" in out
    assert "1. POST /api/v1/namespaces/default/pods?fieldManager=kubespark" in out
    assert "2. POST /api/v1/namespaces/default/services?fieldManager=kubespark" in out
    assert "created the Service with POST instead of apply" in out
    assert "dropped spec.ipFamilies (added in 1.20)" in out
    assert "content type application/apply-patch+yaml" in out  # the ConfigMaps are applied
    assert stored(emulator) == {"pods": [], "services": [], "configmaps": []}


def test_dry_run_json_carries_full_bodies(emulator: RunningEmulator, tmp_path: Path) -> None:
    result = submit(emulator, str(write_app(tmp_path, SPARK_PI)), "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    assert view["dryRun"] is True
    kinds = [w["object"]["kind"] for w in view["writes"]]
    assert kinds == ["Pod", "Service", "ConfigMap", "ConfigMap"]  # as spark-submit: no UI Service
    pod, service = view["writes"][0], view["writes"][1]
    assert pod["body"]["spec"]["containers"][0]["image"] == "apache/spark:3.5.1"
    assert pod["body"]["metadata"]["labels"]["kubespark.io/submitted-by"] == "cli"
    assert service["method"] == "POST" and service["contentType"] == "application/json"
    assert "ipFamilies" not in service["body"]["spec"]
    assert {n["code"] for n in service["notes"]} >= {"FALLBACK_TO_CREATE", "PRUNED_FIELD"}
    properties = view["writes"][3]["body"]["data"]["spark.properties"]
    assert "spark.kubernetes.driver.pod.name=spark-pi-driver" in properties
    assert stored(emulator)["pods"] == []


def test_dry_run_offline_for_the_newest_plans_server_side_apply(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["submit", str(write_app(tmp_path, SPARK_PI)), "--dry-run", "--k8s", NEWEST]
    )
    assert result.exit_code == 0, result.output
    assert f"Kubernetes {NEWEST}" in result.stdout
    assert "PATCH /api/v1/namespaces/default/services/spark-pi-" in result.stdout
    assert "force=true" in result.stdout
    assert "no compat notes" in result.stdout


def test_dry_run_offline_for_an_unknown_version_is_an_input_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["submit", str(write_app(tmp_path, SPARK_PI)), "--dry-run", "--k8s", "1.12"]
    )
    assert_one_clear_error(result, "1.12")


def test_spark_ui_options_ask_for_the_web_ui_service(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    app = changed("spec.sparkUIOptions", {"serviceType": "NodePort"})
    result = submit(emulator, str(write_app(tmp_path, app)), "--dry-run", "-o", "json")
    assert result.exit_code == 0, result.output
    (ui,) = [
        w for w in json.loads(result.stdout)["writes"] if w["object"]["name"] == "spark-pi-ui-svc"
    ]
    assert ui["body"]["spec"]["type"] == "NodePort"
    assert ui["body"]["metadata"]["ownerReferences"][0]["kind"] == "Pod"  # goes with the driver
