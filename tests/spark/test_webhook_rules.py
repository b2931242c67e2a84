"""kubeflow's validating webhook and CRD refusals, offline (``kubespark validate`` / ``submit``).

The cases re-express kubeflow/spark-operator's validator tests
(internal/webhook/sparkapplication_validator_test.go, sparkconf_validator.go,
scheduledsparkapplication_validator_test.go) and its CRD's required fields.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubespark.apisurface.cel import holds, violations
from kubespark.operator.crds import spark_application_crd, with_validation_rules
from kubespark.spark import ApplicationError, load_application, load_scheduled_application
from kubespark.spark.rules import webhook_rules


def _app(name: str = "spark-pi", namespace: str = "default", **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "Scala",
        "sparkVersion": "3.5.1",
        "image": "apache/spark:3.5.1",
        "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples.jar",
        "driver": {},
        "executor": {},
    }
    base.update(spec)
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": name, "namespace": namespace},
        "spec": base,
    }


def _refusal(doc: dict[str, Any]) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        load_application(yaml.safe_dump(doc))
    return caught.value


INGRESS = {"servicePort": 4040, "servicePortName": "ui", "ingressURLFormat": "a.example.com"}

REFUSED = [
    (_app(name="spark.pi"), "metadata.name", "invalid SparkApplication name"),
    (_app(name="1st"), "metadata.name", 'invalid SparkApplication name "1st": a DNS-1035 label'),
    (_app(name="a" * 64), "metadata.name", "must be no more than 63 characters"),
    (
        _app(nodeSelector={"a": "b"}, driver={"nodeSelector": {"c": "d"}}),
        "spec",
        "node selector cannot be defined at both",
    ),
    (
        _app(nodeSelector={"a": "b"}, executor={"nodeSelector": {"c": "d"}}),
        "spec",
        "node selector cannot be defined at both",
    ),
    (
        _app(driverIngressOptions=[INGRESS, {**INGRESS, "ingressURLFormat": "b.example.com"}]),
        "spec",
        "DriverIngressOptions has duplicate ServicePort: 4040",
    ),
    (
        _app(driverIngressOptions=[INGRESS, {**INGRESS, "servicePort": 4041}]),
        "spec",
        "DriverIngressOptions has duplicate IngressURLFormat: a.example.com",
    ),
    (
        _app(driverIngressOptions=[{**INGRESS, "ingressURLFormat": ""}]),
        "spec.driverIngressOptions[0]",
        "DriverIngressOptions has empty IngressURLFormat",
    ),
    (
        _app(driverIngressOptions=[{"servicePort": 4040, "ingressURLFormat": "x"}]),
        "spec.driverIngressOptions[0]",
        "Required value",
    ),
    (
        _app(sparkConf={"spark.master": "local"}),
        "spec.sparkConf",
        'sparkConf key "spark.master" is not allowed: this value is managed by the operator',
    ),
    (
        _app(sparkConf={"spark.kubernetes.authenticate.driver.oauthToken": "t"}),
        "spec.sparkConf",
        "authentication credentials are managed by the operator",
    ),
    (
        _app(sparkConf={"spark.kubernetes.container.image": "x"}),
        "spec.sparkConf",
        "use the image field on the CRD instead",
    ),
    (
        _app(namespace="team", sparkConf={"spark.kubernetes.namespace": "other"}),
        "spec.sparkConf",
        'must equal the application namespace "team", got "other"',
    ),
    (
        _app(sparkVersion="2.4.5", image="x:2.4.5", driver={"template": {"metadata": {}}}),
        "spec",
        "pod template feature requires Spark version 3.0.0 or higher",
    ),
    (
        _app(driver={"ports": [{"name": "p", "containerPort": 8080}]}),
        "spec.driver.ports[0].protocol",
        "required field missing",
    ),
    (
        _app(executor={"secrets": [{"name": "s", "path": "/s"}]}),
        "spec.executor.secrets[0].secretType",
        "required field missing",
    ),
]


@pytest.mark.parametrize(("doc", "where", "message"), REFUSED)
def test_kubeflow_refuses_and_so_does_kubespark(
    doc: dict[str, Any], where: str, message: str
) -> None:
    error = _refusal(doc)
    assert any(where in p.where and message in p.message for p in error.problems), error.render()
    assert all(p.fix for p in error.problems)


ACCEPTED = [
    _app(retryInterval=0, failureRetries=1),
    _app(timeToLiveSeconds=0),
    _app(timeToLiveSeconds=-5),
    _app(imagePullPolicy="Sometimes"),
    _app(sparkUIOptions={"serviceType": "Headless"}),
    _app(driver={"secrets": [{"name": "s", "path": "/s", "secretType": "Custom"}]}),
    _app(namespace="team", sparkConf={"spark.kubernetes.namespace": "team"}),
    _app(nodeSelector={"a": "b"}),
    _app(driver={"nodeSelector": {"a": "b"}}, executor={"nodeSelector": {"a": "b"}}),
    _app(driver={"template": {"metadata": {}}}),
    _app(driverIngressOptions=[INGRESS, {**INGRESS, "servicePort": 4041, "ingressURLFormat": "b"}]),
]


@pytest.mark.parametrize("doc", ACCEPTED)
def test_what_kubeflow_accepts_loads(doc: dict[str, Any]) -> None:
    assert load_application(yaml.safe_dump(doc)).metadata.name == "spark-pi"


def test_a_scheduled_application_is_checked_for_its_name_and_template_spark_conf() -> None:
    doc = {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "ScheduledSparkApplication",
        "metadata": {"name": "nightly.pi"},
        "spec": {"schedule": "@daily", "template": _app(sparkConf={"spark.master": "x"})["spec"]},
    }
    with pytest.raises(ApplicationError) as caught:
        load_scheduled_application(yaml.safe_dump(doc))
    messages = [p.message for p in caught.value.problems]
    assert any("invalid ScheduledSparkApplication name" in m for m in messages)
    assert any('"spark.master" is not allowed' in m for m in messages)


def test_the_crd_rules_give_the_same_refusals_as_offline() -> None:
    """The CRD's x-kubernetes-validations, evaluated as a CEL server does, agree with offline."""
    crd = with_validation_rules(spark_application_crd(), message_expressions=True)
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for doc, _, message in REFUSED:
        found = [v.message for v in violations(schema, doc)]
        offline = "namespace" in message or "required field" in message or "Required" in message
        assert offline or any(message in m for m in found), (message, found)
    for doc in ACCEPTED:
        assert violations(schema, doc) == []


# kubeflow's TestSparkApplicationValidatorValidateName table, against the CEL rule itself.
NAMES = [
    ("test-app", True),
    ("test-app-123", True),
    ("a", True),
    ("my-app-1", True),
    ("a" * 63, True),
    ("a-b-c-d-e", True),
    ("test--app", True),
    ("123test-app", False),
    ("Test-App", False),
    ("test-App", False),
    ("-test-app", False),
    ("test-app-", False),
    ("", False),
    ("a" * 64, False),
    ("test@app", False),
    ("test_app", False),
    ("test app", False),
]


@pytest.mark.parametrize(("name", "valid"), NAMES)
def test_names_as_kubeflows_validator_judges_them(name: str, valid: bool) -> None:
    rule = next(r for r in webhook_rules() if r.id == "name-dns1035")
    assert holds(rule.rule, {"metadata": {"name": name}}) is valid


@pytest.mark.parametrize(
    "conf",
    [
        {"spark.executor.memory": "4g"},
        {"spark.sql.shuffle.partitions": "200"},
        {"spark.kubernetes.namespace": "default"},
        {"spark.myapp.customSetting": "42"},
    ],
)
def test_benign_spark_conf_is_allowed(conf: dict[str, str]) -> None:
    assert load_application(yaml.safe_dump(_app(sparkConf=conf))).spec.spark_conf == conf
