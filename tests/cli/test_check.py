"""``kubespark check`` through the real CLI: verdicts, exit codes, inputs, one message per error."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from kubespark.cli import demo
from kubespark.cli.app import app

SSA = "spark35-ssa-old-k8s"
OPERATOR_IMAGE = "docker.io/kubeflow/spark-operator:v1beta2-1.6.2-3.5.0"
runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, ["check", *args])


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = run(*args, "-o", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def path(view: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in view["paths"] if p["path"] == name)


def reasons(view: dict[str, Any], name: str = "spark-submit") -> set[str]:
    issues = path(view, name)["issues"]
    return {r["id"] for i in issues if i["id"] == SSA for r in i["reasons"]}


def assert_one_clear_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error:")
    assert "fix:" in result.stderr
    for needle in needles:
        assert needle in result.stderr


# -- the issue's "must hold" list ----------------------------------------------------------------


def test_351_on_119_names_both_reasons_and_exits_1() -> None:
    result = run("--spark", "3.5.1", "--k8s", "1.19")
    assert result.exit_code == 1
    out = result.stdout
    assert "spark-submit: incompatible" in out
    assert SSA in out
    assert "ipfamilies-not-in-schema" in out and "protocol-key-without-default" in out
    assert "remedies, cheapest first" in out and "[upgrade]" in out
    assert "kubespark: compatible" in out and f"avoids {SSA}" in out


def test_351_on_119_json() -> None:
    code, view = run_json("--spark", "3.5.1", "--k8s", "1.19")
    assert code == 1
    assert view["input"] == {"spark": "3.5.1", "operator": None, "kubernetes": "1.19", "jdk": None}
    assert path(view, "spark-submit")["verdict"] == "incompatible"
    assert reasons(view) == {"ipfamilies-not-in-schema", "protocol-key-without-default"}
    issue = path(view, "spark-submit")["issues"][0]
    assert [r["rank"] for r in issue["remedies"]] == list(range(1, len(issue["remedies"]) + 1))
    assert {r["cost"] for r in issue["remedies"]} <= {
        "upgrade",
        "downgrade",
        "rebuild",
        "config",
        "workaround",
    }
    assert issue["kubespark_instead"] and issue["sources"]
    assert path(view, "kubespark")["verdict"] == "compatible"
    assert path(view, "operator")["verdict"] == "not-assessed"


def test_351_on_1202_protocol_only() -> None:
    code, view = run_json("--spark", "3.5.1", "--k8s", "1.20.2")
    assert code == 1
    assert path(view, "spark-submit")["verdict"] == "incompatible"
    assert reasons(view) == {"protocol-key-without-default"}


def test_351_on_1206_compatible_with_backport_caveat() -> None:
    code, view = run_json("--spark", "3.5.1", "--k8s", "1.20.6")
    assert code == 0
    submit = path(view, "spark-submit")
    assert submit["verdict"] == "compatible" and submit["issues"] == []
    assert any(c["issue"] == SSA and "backport" in c["text"] for c in submit["caveats"])
    text = run("--spark", "3.5.1", "--k8s", "1.20.6").stdout
    assert "caveat:" in text and "backport" in text


def test_351_on_121_compatible() -> None:
    code, view = run_json("--spark", "3.5.1", "--k8s", "1.21")
    assert code == 0
    submit = path(view, "spark-submit")
    assert submit["verdict"] == "compatible" and submit["issues"] == []
    assert not any(c["issue"] == SSA for c in submit["caveats"])


def test_341_on_119_compatible() -> None:
    code, view = run_json("--spark", "3.4.1", "--k8s", "1.19")
    assert code == 0
    assert path(view, "spark-submit")["verdict"] == "compatible"


def test_operator_with_bundled_350_on_118_incompatible() -> None:
    code, view = run_json("--operator", "v1beta2-1.6.2-3.5.0", "--k8s", "1.18")
    assert code == 1
    operator = path(view, "operator")
    assert operator["verdict"] == "incompatible"
    assert [i["id"] for i in operator["issues"]] == [SSA]
    assert any("bundled in operator v1beta2-1.6.2-3.5.0" in w for w in operator["issues"][0]["why"])
    assert any(r["cost"] == "rebuild" for r in operator["issues"][0]["remedies"])


@pytest.mark.parametrize(
    ("flags", "needles"),
    [
        (["--spark", "3.5.1", "--k8s", "1.x"], ["'1.x'", "--k8s"]),
        (["--spark", "banana", "--k8s", "1.19"], ["'banana'", "--spark"]),
        (["--operator", "latest", "--k8s", "1.19"], ["'latest'", "--operator"]),
        (["--spark", "3.6.0", "--k8s", "1.19"], ["3.6.0"]),
    ],
)
def test_bad_versions_give_one_message_and_exit_2(flags: list[str], needles: list[str]) -> None:
    assert_one_clear_error(run(*flags), *needles)


# -- other inputs -------------------------------------------------------------------------------


def test_minor_only_kubernetes_depends_and_exits_1() -> None:
    code, view = run_json("--spark", "3.5.1", "--k8s", "1.20")
    assert code == 1
    submit = path(view, "spark-submit")
    assert submit["verdict"] == "depends"
    assert submit["issues"][0]["boundaries"] == ["1.20.6"]
    assert "boundary 1.20.6" in run("--spark", "3.5.1", "--k8s", "1.20").stdout


def test_image_reference_gives_the_spark_version() -> None:
    _, view = run_json(
        "--image", "apache/spark:3.5.1-scala2.12-java17-python3-ubuntu", "--k8s", "1.19"
    )
    assert view["input"]["spark"] == "3.5.1"
    assert path(view, "spark-submit")["verdict"] == "incompatible"


def test_image_without_a_version_is_an_input_error() -> None:
    assert_one_clear_error(run("--image", "spark:latest", "--k8s", "1.19"), "--image")


def test_conflicting_spark_versions_are_an_input_error() -> None:
    result = run("--spark", "3.5.1", "--image", "spark:3.4.1", "--k8s", "1.19")
    assert_one_clear_error(result, "--spark says 3.5.1", "--image says 3.4.1")


BASE_SPEC: dict[str, Any] = {
    "type": "Scala",
    "mode": "cluster",
    "mainClass": "org.apache.spark.examples.SparkPi",
    "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
    "driver": {"cores": 1, "memory": "512m", "serviceAccount": "spark"},
    "executor": {"instances": 1, "cores": 1, "memory": "512m"},
}


def _app(tmp_path: Path, spec: dict[str, Any], kind: str = "SparkApplication") -> Path:
    doc = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": kind,
        "metadata": {"name": "pi"},
        "spec": spec,
    }
    target = tmp_path / "app.yaml"
    target.write_text(yaml.safe_dump(doc, sort_keys=False))
    return target


def test_spark_application_file(tmp_path: Path) -> None:
    spec = {**BASE_SPEC, "sparkVersion": "3.5.1", "image": "spark:3.5.1"}
    code, view = run_json("-f", str(_app(tmp_path, spec)), "--k8s", "1.19")
    assert code == 1 and view["input"]["spark"] == "3.5.1"
    assert path(view, "spark-submit")["verdict"] == "incompatible"


def test_scheduled_spark_application_uses_its_template(tmp_path: Path) -> None:
    template = {**BASE_SPEC, "sparkVersion": "3.4.1", "image": "spark:3.4.1"}
    spec = {"schedule": "@daily", "template": template}
    app_file = _app(tmp_path, spec, kind="ScheduledSparkApplication")
    code, view = run_json("-f", str(app_file), "--k8s", "1.19")
    assert code == 0 and view["input"]["spark"] == "3.4.1"


def test_application_image_alone_gives_the_version(tmp_path: Path) -> None:
    app_file = _app(tmp_path, {**BASE_SPEC, "image": "apache/spark:3.5.0-python3"})
    _, view = run_json("-f", str(app_file), "--k8s", "1.19")
    assert view["input"]["spark"] == "3.5.0"


def test_yaml_error_names_file_and_line(tmp_path: Path) -> None:
    app_file = tmp_path / "app.yaml"
    app_file.write_text("kind: SparkApplication\nspec:\n  sparkVersion: [3.5.1\n  image: x\n")
    result = run("-f", str(app_file), "--k8s", "1.19")
    assert_one_clear_error(result, f"{app_file}:")
    line = int(result.stderr.split(f"{app_file}:")[1].split(":")[0])
    assert line in (3, 4, 5)


def test_bad_spark_version_in_file_names_file_and_field(tmp_path: Path) -> None:
    app_file = _app(tmp_path, {**BASE_SPEC, "sparkVersion": "banana"})
    result = run("-f", str(app_file), "--k8s", "1.19")
    assert_one_clear_error(result, f"{app_file}: spec.sparkVersion", "'banana'")


def test_a_malformed_application_is_reported_like_submitting_it_would(tmp_path: Path) -> None:
    spec = {k: v for k, v in BASE_SPEC.items() if k != "mainApplicationFile"}
    result = run("-f", str(_app(tmp_path, {**spec, "sparkVersion": "3.5.1"})), "--k8s", "1.19")
    assert_one_clear_error(result, "spec.mainApplicationFile")


def test_version_and_image_must_agree(tmp_path: Path) -> None:
    app_file = _app(tmp_path, {**BASE_SPEC, "sparkVersion": "3.5.1", "image": "spark:3.4.1"})
    assert_one_clear_error(run("-f", str(app_file), "--k8s", "1.19"), "disagrees")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    assert_one_clear_error(run("-f", str(tmp_path / "nope.yaml"), "--k8s", "1.19"), "nope.yaml")


def test_not_a_spark_application(tmp_path: Path) -> None:
    target = tmp_path / "pod.yaml"
    target.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
    assert run("-f", str(target), "--k8s", "1.19").exit_code == 2


# -- a live server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    target = tmp_path / "kubeconfig"
    target.write_text(yaml.safe_dump(doc))
    return target


class _Handler(BaseHTTPRequestHandler):
    """Answers the two reads check makes, as an EKS 1.19 server with the operator installed."""

    answers: ClassVar[dict[str, Any]] = {
        "/version": {"major": "1", "minor": "19+", "gitVersion": "v1.19.16-eks-25803e"},
        "/apis/apps/v1/deployments": {
            "kind": "DeploymentList",
            "items": [
                {"spec": {"template": {"spec": {"containers": [{"image": "nginx:1.25"}]}}}},
                {"spec": {"template": {"spec": {"containers": [{"image": OPERATOR_IMAGE}]}}}},
            ],
        },
    }

    def do_GET(self) -> None:
        body = self.answers.get(self.path.split("?")[0])
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body or {"kind": "Status", "code": 404}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_live_server_version_and_operator_image(tmp_path: Path, api_server: str) -> None:
    kubeconfig = _kubeconfig(tmp_path, api_server)
    code, view = run_json("--kubeconfig", str(kubeconfig), "--spark", "3.5.1")
    assert code == 1
    assert view["input"]["kubernetes"] == "1.19.16"
    assert view["cluster"]["gitVersion"] == "v1.19.16-eks-25803e"
    assert view["cluster"]["operator_images"] == [
        "docker.io/kubeflow/spark-operator:v1beta2-1.6.2-3.5.0"
    ]
    assert path(view, "operator")["verdict"] == "incompatible"
    text = run("--kubeconfig", str(kubeconfig), "--spark", "3.5.1").stdout
    assert "v1.19.16-eks-25803e" in text


def test_unreachable_server_is_one_clear_message(tmp_path: Path) -> None:
    kubeconfig = _kubeconfig(tmp_path, f"http://127.0.0.1:{_free_port()}")
    result = run("--kubeconfig", str(kubeconfig), "--spark", "3.5.1")
    assert_one_clear_error(result, "cannot reach the API server")
    assert result.stderr.count("error:") == 1


def test_missing_kubeconfig_is_an_input_error(tmp_path: Path) -> None:
    result = run("--kubeconfig", str(tmp_path / "none"), "--spark", "3.5.1")
    assert result.exit_code == 2 and "none" in result.stderr and "Traceback" not in result.output


def test_k8s_and_kubeconfig_together_are_refused(tmp_path: Path) -> None:
    result = run("--kubeconfig", str(tmp_path / "k"), "--k8s", "1.19", "--spark", "3.5.1")
    assert_one_clear_error(result, "--k8s")


@pytest.mark.parametrize(
    ("jdk", "code", "shown"),
    [("8u252", 1, "8.0.252"), ("1.8.0_202", 0, "8.0.202"), ("17.0.9+9", 0, "17.0.9")],
)
def test_jdk_decides_what_depended_on_it(jdk: str, code: int, shown: str) -> None:
    # Spark 2.4.8 bundles fabric8 4.6.1: OkHttp negotiates HTTP/2 on JDK 8u252+ (1.17+ breaks).
    # (kubespark's own path is incompatible for 2.4, which it does not model; spark-submit's is
    # what the JDK decides.)
    def submit_path(view: dict[str, Any]) -> str:
        return str(next(p for p in view["paths"] if p["path"] == "spark-submit")["verdict"])

    assert submit_path(run_json("--spark", "2.4.8", "--k8s", "1.19")[1]) == "depends"
    _, view = run_json("--spark", "2.4.8", "--k8s", "1.19", "--jdk", jdk)
    verdict = {1: "incompatible", 0: "compatible"}[code]
    assert (submit_path(view), view["input"]["jdk"]) == (verdict, shown)
    assert next(p for p in view["paths"] if p["path"] == "kubespark")["verdict"] == "incompatible"


def test_bad_jdk_is_an_input_error() -> None:
    assert_one_clear_error(run("--spark", "2.4.8", "--k8s", "1.19", "--jdk", "banana"), "--jdk")


def test_demo_shows_the_seed_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    # The verdict, not the real spark-submit step: that one starts a JVM where pyspark is
    # cached (the pyspark tier's tests/emulator/test_demo_step.py runs it).
    monkeypatch.setattr(demo, "_cached_spark_submit", lambda version: None)
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0
    assert "Spark 3.5.1 on Kubernetes 1.19" in result.stdout
    assert "spark-submit: incompatible" in result.stdout
    assert "ipfamilies-not-in-schema" in result.stdout
    assert "kubespark: compatible" in result.stdout
