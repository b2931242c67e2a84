"""The knowledge base loads once; a malformed data file fails loudly, naming file and field."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
import yaml

from kubespark.errors import DataError
from kubespark.knowledge import load_knowledge, load_knowledge_from
from kubespark.knowledge.schema import FactRef

DATA = Path(str(resources.files("kubespark.knowledge") / "data"))


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the packaged data directory that a test may corrupt."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def _edit_yaml(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_packaged_data_loads_and_is_cached() -> None:
    kb = load_knowledge()
    assert load_knowledge() is kb
    assert {i.id for i in kb.issues} >= {"spark35-ssa-old-k8s", "fabric8-41x-403-watch"}
    assert str(kb.kube_minors[0]) == "1.16"
    assert kb.kube_minors == tuple(sorted(kb.kube_minors))


def test_every_issue_and_fact_carries_sources_and_a_confirmed_flag() -> None:
    kb = load_knowledge()
    for issue in kb.issues:
        assert issue.sources, issue.id
        assert all(s.url and s.shows for s in issue.sources), issue.id
        assert issue.remedies, issue.id
        for reason in issue.reasons:
            # An unconfirmed reason says why it is believed; a confirmed one says where it was seen.
            assert reason.sources or reason.note, f"{issue.id}/{reason.id}"
    for fact in kb.kubernetes.facts:
        assert fact.sources, fact.id


def test_a_copy_loads_like_the_package(data_copy: Path) -> None:
    copy = load_knowledge_from(data_copy)
    assert [i.id for i in copy.issues] == [i.id for i in load_knowledge().issues]


def test_bad_remedy_cost_names_file_and_field(data_copy: Path) -> None:
    issue = data_copy / "issues" / "spark35-ssa-old-k8s.yaml"
    _edit_yaml(issue, lambda d: d["remedies"][1].update(cost="magic"))  # type: ignore[index]
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "issues/spark35-ssa-old-k8s.yaml: remedies[1].cost"
    assert "upgrade" in err.value.message  # pydantic lists the allowed values
    assert err.value.fix and "README.md" in err.value.fix


def test_bad_version_range_names_the_reason_field(data_copy: Path) -> None:
    issue = data_copy / "issues" / "spark35-ssa-old-k8s.yaml"
    _edit_yaml(issue, lambda d: d["reasons"][3]["affects"].update(spark=">=four"))  # type: ignore[index]
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "issues/spark35-ssa-old-k8s.yaml: reasons[3].affects.spark[0]"
    assert ">=four" in err.value.message


def test_unknown_fact_reference_is_rejected(data_copy: Path) -> None:
    issue = data_copy / "issues" / "spark35-ssa-old-k8s.yaml"
    _edit_yaml(
        issue,
        lambda d: d["reasons"][0]["affects"].update(kubernetes={"lacks": "no-such-fact"}),  # type: ignore[index]
    )
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "issues/spark35-ssa-old-k8s.yaml: reasons[0].affects.kubernetes"
    assert "no-such-fact" in err.value.message


def test_yaml_syntax_error_names_file_and_line(data_copy: Path) -> None:
    spark = data_copy / "spark.yaml"
    lines = spark.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("fabric8:"))
    lines.insert(index + 1, "  - spark: [unclosed")
    spark.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where is not None
    assert re.fullmatch(r"spark\.yaml:\d+", err.value.where)
    assert abs(int(err.value.where.split(":")[1]) - (index + 2)) <= 1


def test_a_release_missing_from_the_fabric8_table_is_rejected(data_copy: Path) -> None:
    spark = data_copy / "spark.yaml"
    _edit_yaml(spark, lambda d: d["fabric8"].pop(3))  # type: ignore[attr-defined]  # the 3.0.x row
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "spark.yaml: fabric8"
    assert "Spark 3.0.0" in err.value.message and "0 rows" in err.value.message


def test_a_regex_that_does_not_compile_is_rejected(data_copy: Path) -> None:
    issue = data_copy / "issues" / "spark35-ssa-old-k8s.yaml"
    _edit_yaml(issue, lambda d: d["reasons"][1]["symptoms"][0].update(regex="omits (key"))  # type: ignore[index]
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "issues/spark35-ssa-old-k8s.yaml: reasons[1].symptoms[0]"
    assert "does not compile" in err.value.message


def test_an_issue_file_must_be_named_for_its_id(data_copy: Path) -> None:
    issues = data_copy / "issues"
    (issues / "spark35-ssa-old-k8s.yaml").rename(issues / "renamed.yaml")
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "issues/renamed.yaml: id"


def test_unknown_keys_are_rejected_not_ignored(data_copy: Path) -> None:
    issue = data_copy / "issues" / "fabric8-41x-403-watch.yaml"
    _edit_yaml(issue, lambda d: d.update(remedys=[]))
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "issues/fabric8-41x-403-watch.yaml: remedys"


def test_every_symptom_pattern_matches_some_text_it_is_meant_for() -> None:
    # The literal error lines of the public reports (kubeflow/spark-operator#2048, #2051).
    reported = [
        "failed to create typed patch object: errors:\n  .spec.ports: element 0: associative list "
        'with keys has an element that omits key field "protocol"\n  .spec.ipFamilies: field not '
        "declared in schema",
        ".spec.ipFamilies: schema error: invalid atom: inlined",
        'element 0: associative list with keys has an element that omits key field \\"protocol\\"',
    ]
    issue = load_knowledge().issue("spark35-ssa-old-k8s")
    for reason_id in ("ipfamilies-not-in-schema", "protocol-key-without-default"):
        reason = next(r for r in issue.reasons if r.id == reason_id)
        assert any(
            re.search(s.regex, text) if s.regex else s.pattern in text
            for s in reason.symptoms
            for text in reported
        ), reason_id


def test_kubernetes_conditions_through_facts_parse_as_fact_refs() -> None:
    issue = load_knowledge().issue("spark35-ssa-old-k8s")
    refs = [r.affects.kubernetes for r in issue.reasons]
    assert all(isinstance(r, FactRef) for r in refs)
    assert {r.fact_id for r in refs if isinstance(r, FactRef)} >= {
        "service-ipfamilies",
        "serviceport-protocol-apply-default",
    }


def test_a_value_of_the_wrong_type_names_the_field(data_copy: Path) -> None:
    issue = data_copy / "issues" / "spark35-ssa-old-k8s.yaml"
    _edit_yaml(issue, lambda d: d.update(confirmed="yes"))
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "issues/spark35-ssa-old-k8s.yaml: confirmed"
    assert "boolean" in err.value.message


def test_a_missing_required_field_is_named(data_copy: Path) -> None:
    kubernetes = data_copy / "kubernetes.yaml"
    _edit_yaml(kubernetes, lambda d: d["facts"][2].pop("sources"))  # type: ignore[index]
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "kubernetes.yaml: facts[2].sources"
    assert err.value.message == "Field required"


def test_an_empty_list_where_one_item_is_needed_is_rejected(data_copy: Path) -> None:
    issue = data_copy / "issues" / "fabric8-41x-403-watch.yaml"
    _edit_yaml(issue, lambda d: d.update(remedies=[]))
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "issues/fabric8-41x-403-watch.yaml: remedies"
    assert "at least 1" in err.value.message


def test_an_id_outside_the_id_pattern_is_rejected(data_copy: Path) -> None:
    kubernetes = data_copy / "kubernetes.yaml"
    _edit_yaml(kubernetes, lambda d: d["facts"][0].update(id="Not An Id"))  # type: ignore[index]
    with pytest.raises(DataError) as err:
        load_knowledge_from(data_copy)
    assert err.value.where == "kubernetes.yaml: facts[0].id"
    assert "pattern" in err.value.message


def test_the_records_are_plain_frozen_dataclasses_that_survive_pickling() -> None:
    # The disk cache pickles them; a process reading it back must not need a validation library.
    import dataclasses
    import pickle

    kb = load_knowledge()
    issue = kb.issues[0]
    assert dataclasses.is_dataclass(issue)
    with pytest.raises(dataclasses.FrozenInstanceError):
        issue.id = "changed"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(kb.issues)) == kb.issues
    assert pickle.loads(pickle.dumps(kb.kubernetes)) == kb.kubernetes
