"""kubeflow's webhook rules compiled to Python give what celpy gives, on generated documents.

Every rule and ``message_expression`` of ``webhook_rules.yaml`` is evaluated both ways with
``self`` bound as ``rule_violations`` binds it: compiled against stock celpy on documents a
CRD's schema accepts (names valid, invalid, long, Unicode, with a newline; sparkConf with and
without the denied keys; ingress options duplicated or incomplete; dynamic allocation; pod
templates with and without containers), and against celpy corrected to CEL (cel_oracle) on the
same documents with any JSON in any field (a string where a list is expected, a bool where an
int is, null, nested lists and maps). ``holds`` and the message are compared exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from cel_oracle import corrected_holds, corrected_message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubespark.apisurface import cel
from kubespark.apisurface.cel_compile import CompiledSet
from kubespark.spark import rules
from kubespark.spark.rules import CONNECT_KINDS, rule_violations, webhook_rules

DENIED = [r.id.partition(":")[2] for r in webhook_rules() if r.id.startswith("denied-")]

ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats()
    | st.sampled_from(["", "a", "4040", "true", "spark.master"])
    | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)

NAME_CASES = [
    "spark-pi", "a", "a-1", "Bad_Name", "spark.pi", "1st", "-a", "a-", "a" * 56, "a" * 57,
    "a" * 63, "a" * 64, "b" * 70, "abc\n", "abc\n\n", "é", "naïve-app", "ａｂｃ", "", " ",
]  # fmt: skip
VERSION_CASES = [
    "3.5.1", "v3.0.0", "3", "4.0.0", "10.1", "2.4.8", "v2.4", "3x", "30", "", "3.5.1\n", "٣.0",
]  # fmt: skip
MEMORY_CASES = [
    "1g", "512m", "1024k", " 1G ", "1gb", "10PB", "1 g", "", "x", "1\n", "1\v", "\t2m\t",
    "1\u212a", "1\u212ab", "１g", "1gbx", "0", "1ſ", "1\u00a0",
]  # fmt: skip
NAMES = st.sampled_from(NAME_CASES) | st.text(alphabet="az09-_.A\n é", max_size=70)
VERSIONS = st.sampled_from(VERSION_CASES) | st.text(alphabet="v0123456789.x\n", max_size=6)
MEMORY = st.sampled_from(MEMORY_CASES) | st.text(alphabet="0123 gmkKbBpPt\n\t\v\u212a", max_size=6)


def _field(typed: st.SearchStrategy[Any], wrong: bool) -> st.SearchStrategy[Any]:
    """The field's own type; with ``wrong``, also any JSON in its place."""
    return typed | ANY_JSON if wrong else typed


def _object(wrong: bool, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    mapping = st.fixed_dictionaries({}, optional={k: _field(v, wrong) for k, v in fields.items()})
    return _field(mapping, wrong)


def _documents(wrong: bool, whole_ingress: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """SparkApplications, scheduled ones and SparkConnects; ``whole_ingress``: each ingress
    option with its servicePort and ingressURLFormat (stock celpy's false refusal needs one
    without, see cel_oracle)."""
    word = st.sampled_from(["", "a", "b", "img", "default", "x"])
    selector = st.dictionaries(st.sampled_from(["a", "b"]), word, max_size=2)
    container = _object(
        wrong,
        name=st.sampled_from(["spark-kubernetes-driver", "spark-kubernetes-executor", "c"]),
        image=word,
    )
    template = _object(
        wrong, spec=_object(wrong, containers=_field(st.lists(container, max_size=3), wrong))
    )
    role = _object(wrong, template=template, nodeSelector=selector, memory=MEMORY)
    ingress_fields = {
        "servicePort": st.sampled_from([4040, 4041, 8080]),
        "ingressURLFormat": st.sampled_from(["", "a.example.com", "b.example.com"]),
        "servicePortName": st.sampled_from(["ui", "ui2"]),
    }
    ingress = (
        st.fixed_dictionaries(ingress_fields) if whole_ingress else _object(wrong, **ingress_fields)
    )
    counts = st.integers(0, 4)
    spec_fields = {
        "sparkConf": st.dictionaries(
            st.sampled_from([*DENIED, "spark.kubernetes.namespace", "spark.app.name"]),
            _field(word, wrong),
            max_size=4,
        ),
        "driverIngressOptions": st.lists(ingress, max_size=4),
        "dynamicAllocation": _object(
            wrong,
            enabled=st.booleans(),
            minExecutors=counts,
            maxExecutors=counts,
            initialExecutors=counts,
        ),
        "sparkVersion": VERSIONS,
        "image": word,
        "nodeSelector": selector,
        "driver": role,
        "executor": role,
        "server": role,
    }
    spec = _object(wrong, **spec_fields)
    metadata = _object(wrong, name=NAMES, namespace=st.sampled_from(["default", "x", ""]))
    return st.fixed_dictionaries(
        {"kind": st.sampled_from(CONNECT_KINDS)},
        optional={"metadata": metadata, "spec": spec | _object(wrong, template=spec)},
    )


def _bindings(document: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(rule, message expression, value) for every rule, bound as rule_violations binds."""
    kind = str(document.get("kind"))
    for rule in webhook_rules():
        if rule.rule:
            for _, value in rules._bound(document, rule.at, kind):
                yield rule.rule, rule.message_expression, value


@pytest.fixture(scope="module", autouse=True)
def _warm_celpy() -> None:
    """Both oracles' programs built before hypothesis runs: celpy raises the recursion limit
    when it first parses, which hypothesis would report as a change made by the test."""
    for rule in webhook_rules():
        for expression in (rule.rule, rule.message_expression):
            if expression:
                cel.holds(expression, {})
                corrected_holds(expression, {})


def _program() -> CompiledSet:
    return rules._programs()


def test_every_expression_of_the_data_file_compiles() -> None:
    program = _program()
    assert dict(program.refused) == {}
    for rule in webhook_rules():
        for expression in (rule.rule, rule.message_expression):
            assert not expression or expression in program.functions, rule.id


EXAMPLES = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@EXAMPLES
@given(_documents(wrong=False))
def test_compiled_equals_corrected_celpy_on_documents_the_schema_accepts(
    document: dict[str, Any],
) -> None:
    program = _program()
    for rule, message, value in _bindings(document):
        assert program.holds(rule, value) == corrected_holds(rule, value), rule
        if message:
            assert program.message(message, value) == corrected_message(message, value)


@EXAMPLES
@given(_documents(wrong=False, whole_ingress=True))
def test_compiled_equals_stock_celpy_on_documents_the_schema_accepts(
    document: dict[str, Any],
) -> None:
    program = _program()
    for rule, message, value in _bindings(document):
        assert program.holds(rule, value) == cel.holds(rule, value), rule
        if message:
            assert program.message(message, value) == cel.evaluated_message(message, value)


@EXAMPLES
@given(_documents(wrong=True))
def test_compiled_equals_corrected_celpy_on_any_json(document: dict[str, Any]) -> None:
    program = _program()
    for rule, message, value in _bindings(document):
        assert program.holds(rule, value) == corrected_holds(rule, value), rule
        if message:
            assert program.message(message, value) == corrected_message(message, value)


@EXAMPLES
@given(_documents(wrong=False, whole_ingress=True))
def test_rule_violations_compiled_equal_celpys(document: dict[str, Any]) -> None:
    compiled = rule_violations(document)
    with mock.patch.object(rules, "_programs", lambda: CompiledSet({}, {})):  # all to celpy
        interpreted = rule_violations(document)
    assert compiled == interpreted


@pytest.mark.fuzz
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_documents(wrong=True))
def test_many_more_documents_with_any_json(document: dict[str, Any]) -> None:
    program = _program()
    for rule, message, value in _bindings(document):
        assert program.holds(rule, value) == corrected_holds(rule, value), rule
        if message:
            assert program.message(message, value) == corrected_message(message, value)


def test_an_ingress_option_without_a_port_is_no_duplicate() -> None:
    """Stock celpy says the duplicate-port rule fails here (its macro leaks an error past the
    ``||``); CEL says it holds: only the missing servicePort is refused."""
    document = {
        "kind": "SparkApplication",
        "metadata": {"name": "a"},
        "spec": {"driverIngressOptions": [{}, {"servicePort": 4040, "servicePortName": "ui"}]},
    }
    refused = {breach.rule.id for breach in rule_violations(document)}
    assert "ingress-service-port-unique" not in refused
    assert "ingress-service-port-set" in refused
    rule = next(r.rule for r in webhook_rules() if r.id == "ingress-service-port-unique")
    assert not cel.holds(rule, document["spec"])
