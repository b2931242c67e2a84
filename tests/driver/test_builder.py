"""The driver builder's own rules: memory overhead, names, version data, webhook fields, UI."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from kubespark.driver import BuildOptions, build_driver_resources, ids_for_submission
from kubespark.driver.javaprops import load_properties, mebibytes, store_properties
from kubespark.driver.kubeflow import config_map_volume_name, generated_name, kube_memory
from kubespark.driver.spark_behaviours import behaviours_for, catalogue
from kubespark.errors import InputError
from kubespark.spark import SparkApplication, load_application
from kubespark.versions import parse_spark_version

APPS = Path(__file__).resolve().parent / "conformance" / "apps"

BASE = """\
apiVersion: sparkoperator.k8s.io/v1beta2
kind: SparkApplication
metadata:
  name: pi
  namespace: jobs
  uid: 11111111-2222-4333-8444-555555555555
spec:
  type: {type}
  sparkVersion: "{version}"
  image: apache/spark:{version}
  mainClass: org.apache.spark.examples.SparkPi
  mainApplicationFile: {main}
  driver:
    memory: {memory}
{driver}
  executor:
    instances: 1
{extra}
"""


def app(
    version: str = "3.5.1",
    *,
    type: str = "Scala",
    main: str = "local:///opt/spark/examples/jars/spark-examples.jar",
    memory: str = "512m",
    driver: str = "",
    extra: str = "",
) -> SparkApplication:
    text = BASE.format(
        version=version, type=type, main=main, memory=memory, driver=driver, extra=extra
    )
    return load_application(text)


def driver_container(pod: dict) -> dict:  # type: ignore[type-arg]
    return next(c for c in pod["spec"]["containers"] if c["name"] == "spark-kubernetes-driver")


def memory_request(application: SparkApplication) -> str:
    pod = build_driver_resources(application, submission_id="s").pod
    return str(driver_container(pod)["resources"]["requests"]["memory"])


def test_jvm_overhead_is_ten_percent_with_a_384_floor() -> None:
    assert memory_request(app(memory="512m")) == "896Mi"  # 512 + 384
    assert memory_request(app(memory="8g")) == "9011Mi"  # 8192 + 819


def test_python_overhead_is_forty_percent() -> None:
    python = app(
        type="Python", main="local:///opt/spark/examples/src/main/python/pi.py", memory="2g"
    )
    assert memory_request(python) == "2867Mi"  # 2048 + int(0.4 * 2048)
    props = build_driver_resources(python, submission_id="s").properties
    assert props["spark.kubernetes.memoryOverheadFactor"] == "0.4"
    assert props["spark.kubernetes.resource.type"] == "python"


def test_driver_overhead_factor_exists_from_3_3() -> None:
    extra = "  sparkConf:\n    spark.driver.memoryOverheadFactor: '0.5'"
    assert memory_request(app("3.3.4", memory="2g", extra=extra)) == "3072Mi"
    assert memory_request(app("3.2.4", memory="2g", extra=extra)) == "2432Mi"  # ignored: 2048+384


def test_min_overhead_conf_exists_from_4_0() -> None:
    extra = "  sparkConf:\n    spark.driver.minMemoryOverhead: 1g"
    assert memory_request(app("4.0.5", extra=extra)) == "1536Mi"
    assert memory_request(app("3.5.1", extra=extra)) == "896Mi"


def test_explicit_overhead_wins() -> None:
    assert memory_request(app(memory="1g", driver="    memoryOverhead: 100m")) == "1124Mi"


def test_names_are_deterministic_per_attempt() -> None:
    application = app()
    first = build_driver_resources(application, submission_id="abc", attempt=1)
    again = build_driver_resources(application, submission_id="abc", attempt=1)
    retry = build_driver_resources(application, submission_id="abc", attempt=2)
    assert first.in_creation_order() == again.in_creation_order()
    assert first.service["metadata"]["name"] != retry.service["metadata"]["name"]
    assert first.pod["metadata"]["name"] == "pi-driver"  # the operator's name, stable
    assert first.service["metadata"]["name"] == f"pi-{first.ids.resource_id}-driver-svc"
    assert first.ids.app_id.startswith("spark-") and len(first.ids.app_id) == 38


def test_long_names_fall_back_to_spark_id_service_name() -> None:
    ids = ids_for_submission("ns", "x", "s", 0)
    text = BASE.format(
        version="3.5.1", type="Scala", main="local:///a.jar", memory="1g", driver="", extra=""
    )
    long_app = load_application(text.replace("name: pi", "name: " + "a" * 50))
    built = build_driver_resources(long_app, submission_id="s")
    assert built.service["metadata"]["name"] == f"spark-{built.ids.service_id}-driver-svc"
    assert len(ids.service_id) == 16


def test_version_data_drives_service_shape() -> None:
    old = build_driver_resources(app("3.3.4"), submission_id="s")
    new = build_driver_resources(app("3.4.4"), submission_id="s")
    assert "ipFamilies" not in old.service["spec"]
    assert new.service["spec"]["ipFamilies"] == ["IPv4"]
    assert old.pod["spec"]["nodeSelector"] == {}  # fabric8 5 sent empty maps
    latest = build_driver_resources(app("4.3.0"), submission_id="s")
    assert latest.network_policy is not None
    assert latest.service["spec"]["publishNotReadyAddresses"] is False
    assert [o["kind"] for o in latest.dependents] == [
        "Service",
        "NetworkPolicy",
        "ConfigMap",
        "ConfigMap",
    ]


def test_every_behaviour_has_a_range_and_evidence() -> None:
    for behaviour in catalogue():
        assert behaviour.evidence and behaviour.what
    assert behaviours_for(parse_spark_version("3.4.0")).has("service_ip_families")
    assert not behaviours_for(parse_spark_version("3.3.4")).has("service_ip_families")


def test_webhook_fields_reach_driver_pod_and_executor_template() -> None:
    application = load_application(APPS / "webhook-fields.yaml", kubeflow_refusals=False)
    built = build_driver_resources(application, submission_id="s")
    spec = built.pod["spec"]
    assert spec["tolerations"][0]["key"] == "dedicated"
    assert spec["nodeSelector"] == {"pool": "spark", "disk": "ssd"}
    assert [c["name"] for c in spec["containers"]] == ["spark-kubernetes-driver", "log-shipper"]
    assert spec["initContainers"][0]["name"] == "wait"
    assert spec["schedulerName"] == "custom-scheduler"
    assert spec["priorityClassName"] == "high"
    assert spec["enableServiceLinks"] is False
    driver = driver_container(built.pod)
    assert driver["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert driver["resources"]["limits"]["memory"] == "2Gi"  # memoryLimit
    env = [e["name"] for e in driver["env"]]
    assert env[-2:] == ["HADOOP_CONF_DIR", "SPARK_CONF_DIR"]  # after Spark's: they win
    template_map = next(c for c in built.config_maps if "podspec-configmap-key" in c["data"])
    template = yaml.safe_load(template_map["data"]["podspec-configmap-key"])
    assert template["spec"]["hostNetwork"] is True
    assert template["spec"]["priorityClassName"] == "low"
    assert [c["name"] for c in template["spec"]["containers"]] == [
        "spark-kubernetes-executor",
        "log-shipper",
    ]
    assert template["metadata"]["ownerReferences"][0]["kind"] == "SparkApplication"
    assert "controller" not in template["metadata"]["ownerReferences"][0]
    props = built.properties
    assert (
        props["spark.kubernetes.executor.podTemplateFile"]
        == "/opt/spark/pod-template/pod-spec-template.yml"
    )


def test_driver_owned_by_the_application_through_its_template() -> None:
    built = build_driver_resources(app(), submission_id="s")
    ref = built.pod["metadata"]["ownerReferences"][0]
    assert ref == {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "name": "pi",
        "uid": "11111111-2222-4333-8444-555555555555",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    owned = built.owned_by("pod-uid")
    assert all(o["metadata"]["ownerReferences"][0]["uid"] == "pod-uid" for o in owned.dependents)
    assert all("ownerReferences" not in o["metadata"] for o in built.dependents)


def test_no_operator_mutation_label() -> None:
    built = build_driver_resources(app(), submission_id="s")
    labels = built.pod["metadata"]["labels"]
    assert labels["sparkoperator.k8s.io/submission-id"] == "s"
    assert "sparkoperator.k8s.io/mutated-by-spark-operator" not in labels


def test_ui_service_and_ingress() -> None:
    extra = (
        "  sparkUIOptions:\n    servicePort: 80\n    serviceType: NodePort\n"
        "  driverIngressOptions:\n  - servicePort: 8888\n    servicePortName: notebook\n"
        "    ingressURLFormat: '{{$appName}}.example.com/nb'"
    )
    built = build_driver_resources(
        app(extra=extra),
        submission_id="s",
        options=BuildOptions(ingress_url_format="spark.example.com/{{$appNamespace}}/{{$appName}}"),
    )
    service, ingress, nb_service, nb_ingress = built.operator_resources
    assert service["metadata"]["name"] == "pi-ui-svc"
    assert service["spec"]["ports"] == [
        {"name": "spark-driver-ui-port", "port": 80, "targetPort": 4040}
    ]
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["selector"] == {
        "sparkoperator.k8s.io/app-name": "pi",
        "spark-role": "driver",
    }
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "spark.example.com"
    assert rule["http"]["paths"][0]["path"] == "/jobs/pi(/|$)(.*)"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
    assert nb_service["metadata"]["name"] == "pi-driver-8888"
    assert nb_ingress["metadata"]["name"] == "pi-ing-8888"
    assert nb_ingress["spec"]["rules"][0]["host"] == "pi.example.com"


def test_client_local_files_are_refused_with_the_field() -> None:
    with pytest.raises(InputError) as info:
        build_driver_resources(app(main="/home/me/app.jar"), submission_id="s")
    assert info.value.where == "spec.mainApplicationFile"
    assert info.value.fix is not None and "local://" in info.value.fix


def test_properties_round_trip_and_escaping() -> None:
    props = {"spark.master": "k8s://https://h:443", "a b": " lead=x#y", "spark.x": "ü\\t"}
    text = store_properties(props, comment="c", epoch_ms=0)
    assert text.splitlines()[:2] == ["#c", "#Thu Jan 01 00:00:00 UTC 1970"]
    assert "spark.master=k8s\\://https\\://h\\:443" in text
    assert load_properties(text) == props


def test_sizes() -> None:
    assert [mebibytes(v, what="x") for v in ("512m", "1g", "2048", "1024k")] == [512, 1024, 2048, 1]
    with pytest.raises(InputError):
        mebibytes("lots", what="spec.driver.memory")
    assert kube_memory("512m") == "512Mi" and kube_memory("2G") == "2Gi"
    assert config_map_volume_name("a.b").endswith("-vol") and "." not in config_map_volume_name(
        "a.b"
    )
    assert len(generated_name("x" * 70, "ui-svc")) == 63


def test_build_is_fast_enough_to_measure() -> None:
    # Not a timing assertion: the bench measures; this only proves the build is pure and repeatable.
    application = load_application(APPS / "webhook-fields.yaml", kubeflow_refusals=False)
    start = time.perf_counter()
    results = {
        repr(build_driver_resources(application, submission_id="s").in_creation_order())
        for _ in range(20)
    }
    assert len(results) == 1
    assert time.perf_counter() - start >= 0


def test_conformance_doc_lists_every_behaviour() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "driver-conformance.md").read_text()
    missing = [b.name for b in catalogue() if f"`{b.name}`" not in doc]
    assert missing == []
