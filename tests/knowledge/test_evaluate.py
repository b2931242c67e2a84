"""Verdicts per submission path, reasons named per version, caveats for what verdicts rest on."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from kubespark.errors import InputError
from kubespark.knowledge import (
    Combination,
    PathName,
    Verdict,
    evaluate,
    evaluate_with,
    load_knowledge_from,
)
from kubespark.knowledge.evaluation import PathAssessment
from kubespark.versions import parse_kube_version, parse_operator_version, parse_spark_version

SSA = "spark35-ssa-old-k8s"


def _path(
    spark: str | None, k8s: str | None, name: PathName, operator: str | None = None
) -> PathAssessment:
    combo = Combination(
        spark=parse_spark_version(spark) if spark else None,
        operator=parse_operator_version(operator) if operator else None,
        kubernetes=parse_kube_version(k8s) if k8s else None,
    )
    return evaluate(combo).path(name)


def _reasons(path: PathAssessment, issue_id: str) -> set[str]:
    finding = next(f for f in path.issues if f.issue.id == issue_id)
    return {r.reason.id for r in finding.reasons}


def test_spark_351_on_119_is_incompatible_for_both_reasons() -> None:
    path = _path("3.5.1", "1.19", PathName.SPARK_SUBMIT)
    assert path.verdict is Verdict.INCOMPATIBLE
    assert _reasons(path, SSA) == {"ipfamilies-not-in-schema", "protocol-key-without-default"}
    why = " ".join(m.why for f in path.issues for r in f.reasons for m in r.why)
    assert "lacks Service spec.ipFamilies" in why and "since 1.20" in why
    assert "ServicePort.protocol" in why and "1.20.6 by backport" in why


def test_spark_351_on_1202_is_incompatible_by_protocol_only() -> None:
    path = _path("3.5.1", "1.20.2", PathName.SPARK_SUBMIT)
    assert path.verdict is Verdict.INCOMPATIBLE
    assert _reasons(path, SSA) == {"protocol-key-without-default"}


def test_spark_351_on_1206_is_compatible_with_a_backport_caveat() -> None:
    path = _path("3.5.1", "1.20.6", PathName.SPARK_SUBMIT)
    assert path.verdict is Verdict.COMPATIBLE
    assert not path.issues
    backport = [c for c in path.caveats if c.issue_id == SSA]
    assert len(backport) == 1
    assert "backport" in backport[0].text and "1.20.6" in backport[0].text
    assert "100714" in backport[0].text


def test_spark_351_on_121_is_compatible_without_the_backport_caveat() -> None:
    path = _path("3.5.1", "1.21", PathName.SPARK_SUBMIT)
    assert path.verdict is Verdict.COMPATIBLE
    assert not path.issues
    assert not [c for c in path.caveats if c.issue_id == SSA]


def test_spark_341_on_119_is_compatible() -> None:
    path = _path("3.4.1", "1.19", PathName.SPARK_SUBMIT)
    assert path.verdict is Verdict.COMPATIBLE
    assert not path.issues


def test_operator_with_bundled_350_on_118_is_incompatible_through_its_spark() -> None:
    path = _path(None, "1.18", PathName.OPERATOR, operator="v1beta2-1.6.2-3.5.0")
    assert path.verdict is Verdict.INCOMPATIBLE
    assert [f.issue.id for f in path.issues] == [SSA]
    why = [m.why for m in path.issues[0].why]
    assert any("Spark 3.5.0" in w and "bundled in operator v1beta2-1.6.2-3.5.0" in w for w in why)


def test_operator_v2_tag_uses_the_spark_of_its_image() -> None:
    image = "ghcr.io/kubeflow/spark-operator/controller:2.1.0"
    path = _path("3.4.1", "1.19", PathName.OPERATOR, operator=image)
    assert path.verdict is Verdict.INCOMPATIBLE  # its spark-submit is 3.5.3, whatever the app uses
    assert "Spark 3.5.3" in path.subject
    assert any("own spark-submit (Spark 3.5.3)" in c.text for c in path.caveats)


def test_minor_only_kubernetes_depends_on_the_patch_and_names_the_boundary() -> None:
    path = _path("3.5.1", "1.20", PathName.SPARK_SUBMIT)
    assert path.verdict is Verdict.DEPENDS
    finding = path.issues[0]
    assert [str(b) for b in finding.boundaries] == ["1.20.6"]
    assert _reasons(path, SSA) == {"protocol-key-without-default"}


def test_vendor_versions_are_judged_by_their_numbers() -> None:
    assert _path("3.5.1", "v1.20.4-gke.2200", PathName.SPARK_SUBMIT).verdict is Verdict.INCOMPATIBLE
    assert _path("3.5.1", "v1.27.3+k3s1", PathName.SPARK_SUBMIT).verdict is Verdict.COMPATIBLE


def test_kubespark_avoids_submission_issues_and_says_how() -> None:
    path = _path("3.5.1", "1.19", PathName.KUBESPARK)
    assert path.verdict is Verdict.COMPATIBLE
    assert [f.issue.id for f in path.avoided] == [SSA]
    assert "POST" in path.avoided[0].issue.kubespark.how


def test_kubespark_keeps_driver_issues() -> None:
    # fabric8 < 4.4.2 in the driver: kubespark's own submission cannot fix the driver's watches.
    path = _path("2.4.3", "1.19", PathName.KUBESPARK)
    assert path.verdict is Verdict.INCOMPATIBLE
    certain = [f.issue.id for f in path.issues if f.coverage.value == "all"]
    assert certain == ["fabric8-41x-403-watch"]
    assert not path.avoided  # its phases include the driver, which kubespark does not replace


def test_kubespark_promise_ends_below_its_floor() -> None:
    path = _path("3.5.1", "1.15", PathName.KUBESPARK)
    assert path.verdict is Verdict.INCOMPATIBLE
    assert any(">=1.16" in b for b in path.blockers)


def test_spark_submit_below_apply_support_names_that_reason() -> None:
    assert "apply-not-served" in _reasons(_path("3.5.1", "1.15", PathName.SPARK_SUBMIT), SSA)


def test_unconfirmed_issue_is_a_caveat_not_a_verdict() -> None:
    path = _path("3.1.3", "1.25", PathName.SPARK_SUBMIT)
    assert path.verdict is Verdict.COMPATIBLE
    assert any(c.issue_id == "fabric8-412-k8s123" and "unconfirmed" in c.text for c in path.caveats)


def test_configuration_dependent_issue_is_a_caveat() -> None:
    path = _path(None, "1.23", PathName.OPERATOR, operator="v1beta2-1.3.0-3.1.1")
    ids = [f.issue.id for f in path.issues]
    assert "operator-webhook-k8s122" not in ids
    webhook = [c for c in path.caveats if c.issue_id == "operator-webhook-k8s122"]
    assert webhook and webhook[0].text.startswith("if ")


def test_unknown_component_makes_the_verdict_depend_on_it() -> None:
    path = _path("2.4.8", "1.19", PathName.SPARK_SUBMIT)  # JDK 8u252+ matters; not given
    assert path.verdict is Verdict.DEPENDS
    assert any("JDK" in m.why for f in path.issues for m in f.why)
    jdk = Combination(
        spark=parse_spark_version("2.4.8"),
        kubernetes=parse_kube_version("1.19"),
        jdk=parse_spark_version("8.0.202"),
    )
    assert evaluate(jdk).path(PathName.SPARK_SUBMIT).verdict is Verdict.COMPATIBLE


def test_paths_without_their_input_are_not_assessed() -> None:
    assessment = evaluate(Combination(kubernetes=parse_kube_version("1.19")))
    assert assessment.path(PathName.SPARK_SUBMIT).verdict is Verdict.NOT_ASSESSED
    assert assessment.path(PathName.OPERATOR).verdict is Verdict.NOT_ASSESSED
    assert assessment.path(PathName.KUBESPARK).verdict is Verdict.COMPATIBLE


def test_unknown_releases_are_input_errors_with_a_fix() -> None:
    with pytest.raises(InputError) as err:
        evaluate(Combination(spark=parse_spark_version("3.6.0")))
    assert "3.6.0" in err.value.message and err.value.fix
    with pytest.raises(InputError) as err:
        evaluate(Combination(operator=parse_operator_version("v9.9.9")))
    assert "v9.9.9" in err.value.message


def test_remedies_are_ranked_and_filtered_per_path() -> None:
    submit = _path("3.5.1", "1.19", PathName.SPARK_SUBMIT)
    operator = _path(None, "1.19", PathName.OPERATOR, operator="v1beta2-1.6.2-3.5.0")
    finding_s, finding_o = submit.issues[0], operator.issues[0]
    assert submit.remedies(finding_s)[0].cost == "upgrade"
    assert not any(r.cost == "rebuild" for r in submit.remedies(finding_s))
    assert any(r.cost == "rebuild" for r in operator.remedies(finding_o))


def test_kubespark_path_is_data_driven(tmp_path: Path) -> None:
    """kubespark's promise lives in kubespark.yaml: stop replacing submission and the issue hits."""
    data = tmp_path / "data"
    shutil.copytree(Path(str(resources.files("kubespark.knowledge") / "data")), data)
    promise = yaml.safe_load((data / "kubespark.yaml").read_text())
    promise["replaces"] = ["operator"]
    (data / "kubespark.yaml").write_text(yaml.safe_dump(promise))
    combo = Combination(spark=parse_spark_version("3.5.1"), kubernetes=parse_kube_version("1.19"))
    path = evaluate_with(load_knowledge_from(data), combo).path(PathName.KUBESPARK)
    assert path.verdict is Verdict.INCOMPATIBLE
    assert [f.issue.id for f in path.issues] == [SSA]


def test_below_sparks_documented_minimum_is_a_caveat() -> None:
    path = _path("3.5.1", "1.22", PathName.SPARK_SUBMIT)
    assert path.verdict is Verdict.COMPATIBLE
    docs = [c.text for c in path.caveats if "documentation states" in c.text]
    assert len(docs) == 1 and "1.24" in docs[0] and "not re-checked" in docs[0]
    assert not _path("3.5.1", "1.24", PathName.SPARK_SUBMIT).caveats


def test_a_kubernetes_newer_than_known_is_a_caveat_on_every_path() -> None:
    combo = Combination(
        spark=parse_spark_version("3.5.1"),
        operator=parse_operator_version("v2.1.0"),
        kubernetes=parse_kube_version("1.45"),
    )
    for path in evaluate(combo).paths:
        assert path.verdict is Verdict.COMPATIBLE
        assert any("newer than the newest minor known" in c.text for c in path.caveats)
