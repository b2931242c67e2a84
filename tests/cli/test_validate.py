"""``kubespark validate``: inputs, formats (text, JSON, SARIF 2.1.0), --fix, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kubespark.apisurface import check_object, load_surface
from kubespark.cli.app import app
from kubespark.compat.applyability import predict_apply

runner = CliRunner()
TRACE = Path(__file__).parents[1] / "compat" / "traces" / "spark-3.5.1.jsonl"


def spark_objects() -> list[dict[str, Any]]:
    return [json.loads(line)["body"] for line in TRACE.read_text().splitlines()]


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    """A small tree: spark-submit 3.5.1's objects, an old Ingress, a clean Secret."""
    (tmp_path / "spark").mkdir()
    (tmp_path / "spark" / "submission.yaml").write_text(
        yaml.safe_dump_all(spark_objects(), sort_keys=False)
    )
    (tmp_path / "ingress.yml").write_text(
        "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: ui\n"
        "spec:\n  backend:\n    serviceName: ui\n    servicePort: 80\n"
    )
    (tmp_path / "secret.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    )
    return tmp_path


def invoke(*args: str, stdin: str | None = None) -> Any:
    return runner.invoke(app, ["validate", *args], input=stdin)


def test_clean_manifests_exit_0(manifests: Path) -> None:
    result = invoke("-f", str(manifests), "--k8s", "1.21")
    assert result.exit_code == 0, result.output
    assert "Kubernetes 1.21: 5 object(s) in 3 file(s), 0 error(s), 0 warning(s)" in result.stdout


def test_warnings_pass_and_strict_fails(manifests: Path) -> None:
    spark = str(manifests / "spark" / "submission.yaml")
    result = invoke("-f", spark, "--k8s", "1.19")
    assert result.exit_code == 0
    text = result.stdout
    line = next(
        n for n, row in enumerate(Path(spark).read_text().splitlines(), 1) if "ipFamilies" in row
    )
    assert f"{spark}:{line}: warning[unknown-field] Service" in text
    assert "spec.ipFamilies: " in text and "(added in 1.20)" in text
    assert "warning[apply-would-fail]" in text
    strict = invoke("-f", spark, "--k8s", "1.19", "--strict")
    assert strict.exit_code == 1
    assert f"{spark}:{line}: error[unknown-field]" in strict.stdout


def test_an_api_the_server_no_longer_serves_fails(manifests: Path) -> None:
    result = invoke("-f", str(manifests / "ingress.yml"), "--k8s", "1.22")
    assert result.exit_code == 1
    assert "ingress.yml:1: error[api-not-served] Ingress ui:" in result.stdout
    assert "removed in 1.22" in result.stdout


def test_stdin_and_multi_document_streams() -> None:
    stream = yaml.safe_dump_all(spark_objects(), sort_keys=False)
    result = invoke("-f", "-", "--k8s", "1.19", "-o", "json", stdin=stream)
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["summary"]["objects"] == 3
    (service,) = report["results"]
    assert service["file"] == "<stdin>"
    assert service["object"]["kind"] == "Service"
    assert {f["rule"] for f in service["findings"]} == {"unknown-field", "apply-would-fail"}
    assert {f.get("addedIn") for f in service["findings"]} == {"1.20", None}


def test_bad_input_is_one_message_each_and_the_rest_is_still_checked(tmp_path: Path) -> None:
    (tmp_path / "a-syntax.yaml").write_text("apiVersion: v1\nkind: [\n")
    (tmp_path / "b-binary.yaml").write_bytes(b"\x00\x01\x02\x03")
    (tmp_path / "c-nokind.yaml").write_text("apiVersion: v1\nmetadata: {name: x}\n")
    (tmp_path / "d-scalar.yaml").write_text("hello\n")
    (tmp_path / "e-good.yaml").write_text(
        "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: ui}\n"
        "spec: {backend: {serviceName: a, servicePort: 80}}\n"
    )
    result = invoke("-f", str(tmp_path), "--k8s", "1.22")
    assert result.exit_code == 2
    out = result.stdout
    assert f"{tmp_path / 'a-syntax.yaml'}:3: YAML syntax error" in out
    assert f"{tmp_path / 'b-binary.yaml'}: binary data" in out
    assert f"{tmp_path / 'c-nokind.yaml'}:1: error[input-error]" in out and "no kind" in out
    assert f"{tmp_path / 'd-scalar.yaml'}:1: expected a Kubernetes object" in out
    assert "error[api-not-served] Ingress ui" in out  # the good file was still checked
    assert "Traceback" not in result.output


def test_unknown_version_and_missing_path_are_usage_errors(tmp_path: Path) -> None:
    result = invoke("-f", str(tmp_path), "--k8s", "1.9")
    assert result.exit_code == 2
    assert "outside the bundled API surface" in result.stderr
    result = invoke("-f", str(tmp_path / "nope.yaml"), "--k8s", "1.19")
    assert result.exit_code == 2
    assert "no such file or directory" in result.stdout
    assert invoke("-f", str(tmp_path), "--fix-out", str(tmp_path)).exit_code == 2


def test_sarif_for_code_scanning(manifests: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(manifests)
    result = invoke("-f", ".", "--k8s", "1.22", "-o", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "kubespark"
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert {"api-not-served", "unknown-field", "apply-would-fail"} <= set(rule_ids)
    for result_ in run["results"]:
        assert driver["rules"][result_["ruleIndex"]]["id"] == result_["ruleId"]
        assert result_["level"] in ("error", "warning")
        assert result_["message"]["text"]
        location = result_["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith("/")  # relative to the repo
        assert location["region"]["startLine"] >= 1
    ingress = next(r for r in run["results"] if r["ruleId"] == "api-not-served")
    assert ingress["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "ingress.yml"},
        "region": {"startLine": 1},
    }
    assert run["invocations"][0]["exitCode"] == 1


def test_fix_writes_the_lowered_stream_to_stdout_and_never_touches_inputs(manifests: Path) -> None:
    before = {p: p.read_bytes() for p in manifests.rglob("*") if p.is_file()}
    result = invoke("-f", str(manifests), "--k8s", "1.19", "--fix")
    assert result.exit_code == 0
    assert "Kubernetes 1.19:" in result.stderr  # the report goes to stderr
    fixed = list(yaml.safe_load_all(result.stdout))
    assert [o["kind"] for o in fixed] == ["Ingress", "Secret", "Pod", "Service", "ConfigMap"]
    surface = load_surface("1.19")
    for obj in fixed:
        assert check_object(surface, obj) == [], obj["kind"]
        assert not predict_apply(surface, obj).fails, obj["kind"]
    service = fixed[3]
    assert "ipFamilies" not in service["spec"]
    assert [p["protocol"] for p in service["spec"]["ports"]] == ["TCP"] * 3
    assert {p: p.read_bytes() for p in manifests.rglob("*") if p.is_file()} == before


def test_fix_out_mirrors_the_inputs(manifests: Path, tmp_path: Path) -> None:
    out = tmp_path / "fixed"
    os.chdir(manifests)
    try:
        result = invoke("-f", ".", "--k8s", "1.22", "--fix", "--fix-out", str(out))
    finally:
        os.chdir(tmp_path)
    assert result.exit_code == 1  # the Ingress as written is still an error; its fix is written
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "ingress.yml",
        "secret.json",
        "spark/submission.yaml",
    ]
    (ingress,) = yaml.safe_load_all((out / "ingress.yml").read_text())
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    secret = json.loads((out / "secret.json").read_text())
    assert secret["kind"] == "Secret"
    assert "error[api-not-served]" in result.stdout


def test_a_version_and_a_live_server_together_are_a_usage_error(manifests: Path) -> None:
    result = invoke("-f", str(manifests), "--k8s", "1.19", "--context", "prod")
    assert result.exit_code == 2
    assert "--k8s and --kubeconfig/--context both name the server" in result.stderr


_REFUSED_APP = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata: {name: spark-pi, namespace: default}
spec:
  type: Scala
  sparkVersion: "3.5.1"
  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar
  nodeSelector: {pool: spark}
  sparkConf:
    spark.master: local
  driver:
    nodeSelector: {disk: ssd}
  executor: {}
"""


@pytest.mark.parametrize("with_crd", [False, True])
def test_kubeflows_webhook_refusals_at_their_lines(tmp_path: Path, with_crd: bool) -> None:
    """With or without the CRD among the inputs, kubeflow's refusals are findings, with fixes."""
    from kubespark.operator.crds import spark_application_crd

    path = tmp_path / "app.yaml"
    crd = yaml.safe_dump(spark_application_crd()) + "---\n" if with_crd else ""
    path.write_text(crd + _REFUSED_APP)
    offset = crd.count("\n")
    result = runner.invoke(app, ["validate", "-f", str(path), "--k8s", "1.30", "-o", "json"])
    assert result.exit_code == 1, result.output
    findings = [f for o in json.loads(result.output)["results"] for f in o["findings"]]
    refusals = {
        (f["path"], f["line"] - offset): f["message"]
        for f in findings
        if f["rule"] == "invalid-field"
    }
    assert "node selector cannot be defined at both" in refusals[(".spec", 4)]
    assert '"spark.master" is not allowed' in refusals[(".spec.sparkConf", 9)]


def test_validate_says_which_version_it_assumed(tmp_path: Path) -> None:
    from kubespark.apisurface import newest_version

    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
    assumed = CliRunner().invoke(app, ["validate", "-f", str(manifest)])
    assert assumed.exit_code == 0, assumed.output
    assert f"checking against Kubernetes {newest_version()}, the newest" in assumed.stderr
    given = CliRunner().invoke(app, ["validate", "-f", str(manifest), "--k8s", "1.19"])
    assert "checking against" not in given.stderr and "Kubernetes 1.19" in given.stdout
