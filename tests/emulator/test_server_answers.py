"""Answers a real API server gives that clients depend on: the deleted object from DELETE,
Go's trailing newline on Status bodies, resourceVersion on create, the scale subresource and
access reviews. Checked with the official Python client, kubectl and raw HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from emu_helpers import kubectl, needs_kubectl
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kubespark.emulator.testing import RunningEmulator


@pytest.fixture
def api_client(emulator: RunningEmulator) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(emulator.kubeconfig_path))
    try:
        yield api
    finally:
        api.close()


def _service(name: str) -> client.V1Service:
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)], selector={"a": "b"}),
    )


def _deployment(name: str, replicas: int = 1) -> client.V1Deployment:
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx")]),
            ),
        ),
    )


@pytest.mark.emulator(version="1.29")
def test_deleting_a_service_returns_it_from_1_23(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service("default", _service("svc"))
    deleted = core.delete_namespaced_service("svc", "default", _preload_content=False)
    body = deleted.json()
    assert body["kind"] == "Service" and body["metadata"]["name"] == "svc"


def test_deleting_a_service_on_1_19_answers_a_status(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service("default", _service("svc"))
    body = core.delete_namespaced_service("svc", "default", _preload_content=False).json()
    assert body["kind"] == "Status" and body["status"] == "Success"


@pytest.mark.parametrize("version", ["1.19", "1.29"])
def test_service_accounts_and_storage_classes_return_the_deleted_object(
    emulator_factory: Callable[..., RunningEmulator], version: str
) -> None:
    emu = emulator_factory(version=version)
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        core = client.CoreV1Api(api)
        core.create_namespaced_service_account(
            "default", client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="sa"))
        )
        sa = core.delete_namespaced_service_account("sa", "default", _preload_content=False)
        assert sa.json()["kind"] == "ServiceAccount"
        storage = client.StorageV1Api(api)
        storage.create_storage_class(
            client.V1StorageClass(metadata=client.V1ObjectMeta(name="fast"), provisioner="x")
        )
        sc = storage.delete_storage_class("fast", _preload_content=False).json()
        assert sc["kind"] == "StorageClass" and sc["provisioner"] == "x"
        cm = core.create_namespaced_config_map(
            "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm"))
        )
        assert cm.metadata.name == "cm"
        gone = core.delete_namespaced_config_map("cm", "default", _preload_content=False)
        assert gone.json()["kind"] == "Status"
    finally:
        api.close()


def test_status_bodies_end_with_gos_newline(api_client: client.ApiClient) -> None:
    core = client.CoreV1Api(api_client)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="dup"))
    core.create_namespaced_config_map("default", body)
    with pytest.raises(ApiException) as conflict:
        core.create_namespaced_config_map("default", body)
    assert conflict.value.status == 409
    body_text = conflict.value.body
    assert isinstance(body_text, str) and body_text.endswith("}\n")


@pytest.mark.parametrize("rv", ["v1", "0"])
def test_a_resource_version_on_create_is_cleared(api_client: client.ApiClient, rv: str) -> None:
    core = client.CoreV1Api(api_client)
    meta = client.V1ObjectMeta(name=f"rv-{rv.lower()}", resource_version=rv)
    created = core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=meta))
    assert created.metadata.resource_version not in (rv, "", None)
    assert int(created.metadata.resource_version) > 0


def test_a_numeric_resource_version_on_create_is_refused_as_etcd_does(
    api_client: client.ApiClient,
) -> None:
    core = client.CoreV1Api(api_client)
    meta = client.V1ObjectMeta(name="rv-num", resource_version="42")
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=meta))
    assert refused.value.status == 500
    assert "resourceVersion should not be set on objects to be created" in str(refused.value.body)


def test_the_scale_subresource_reads_puts_and_patches(api_client: client.ApiClient) -> None:
    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment("default", _deployment("web", 2))
    scale = apps.read_namespaced_deployment_scale("web", "default")
    assert scale.spec.replicas == 2 and scale.status.selector == "app=web"
    patched = apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 4}})
    assert patched.spec.replicas == 4
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 4
    for _ in range(20):  # the Deployment controller writes too: retry on conflict, as clients do
        scale = apps.read_namespaced_deployment_scale("web", "default")
        scale.spec.replicas = 1
        try:
            replaced = apps.replace_namespaced_deployment_scale("web", "default", scale)
            break
        except ApiException as err:
            assert err.status == 409
    assert replaced.spec.replicas == 1
    stale = client.V1Scale(
        metadata=client.V1ObjectMeta(name="web", resource_version="1"),
        spec=client.V1ScaleSpec(replicas=3),
    )
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_deployment_scale("web", "default", stale)
    assert conflict.value.status == 409


def test_access_reviews_allow_everything(api_client: client.ApiClient) -> None:
    authz = client.AuthorizationV1Api(api_client)
    review = client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(verb="create", resource="pods")
        )
    )
    answered = authz.create_self_subject_access_review(review)
    assert answered.status.allowed is True
    assert answered.spec.resource_attributes.resource == "pods"
    rules = authz.create_self_subject_rules_review(
        client.V1SelfSubjectRulesReview(
            spec=client.V1SelfSubjectRulesReviewSpec(namespace="default")
        )
    )
    assert rules.status.incomplete is False
    assert rules.status.resource_rules[0].verbs == ["*"]


@needs_kubectl
@pytest.mark.parametrize("version", ["1.19", "1.29"])
def test_kubectl_scale_and_auth_can_i(
    emulator_factory: Callable[..., RunningEmulator], version: str, tmp_path: Path
) -> None:
    emu = emulator_factory(version=version)
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        client.AppsV1Api(api).create_namespaced_deployment("default", _deployment("web"))
    finally:
        api.close()
    kubectl(emu, tmp_path, "scale", "deployment/web", "--replicas=3")
    got = kubectl(emu, tmp_path, "get", "deployment/web", "-o", "jsonpath={.spec.replicas}")
    assert got.stdout == "3"
    can = kubectl(emu, tmp_path, "auth", "can-i", "create", "pods")
    assert (can.returncode, can.stdout.strip()) == (0, "yes")
    listed = kubectl(emu, tmp_path, "auth", "can-i", "--list")
    assert listed.returncode == 0 and "*.*" in listed.stdout


@pytest.mark.parametrize(
    ("version", "selector_key"),
    [("1.19", "controller-uid"), ("1.29", "batch.kubernetes.io/controller-uid")],
)
def test_workloads_get_the_versions_defaults(
    emulator_factory: Callable[..., RunningEmulator], version: str, selector_key: str
) -> None:
    emu = emulator_factory(version=version)
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    try:
        apps = client.AppsV1Api(api)
        dep = _deployment("web")
        dep.spec.replicas = None
        got = apps.create_namespaced_deployment("default", dep).spec
        assert (got.replicas, got.revision_history_limit, got.progress_deadline_seconds) == (
            1,
            10,
            600,
        )
        assert got.strategy.type == "RollingUpdate"
        assert got.strategy.rolling_update.max_surge == "25%"
        container = got.template.spec.containers[0]
        assert container.image_pull_policy == "Always"
        assert got.template.spec.restart_policy == "Always"
        job = client.V1Job(
            metadata=client.V1ObjectMeta(name="pi"),
            spec=client.V1JobSpec(
                template=client.V1PodTemplateSpec(
                    spec=client.V1PodSpec(
                        restart_policy="Never",
                        containers=[client.V1Container(name="c", image="busybox:1.36")],
                    )
                )
            ),
        )
        created = client.BatchV1Api(api).create_namespaced_job("default", job)
        spec = created.spec
        assert (spec.backoff_limit, spec.completions, spec.parallelism) == (6, 1, 1)
        uid = created.metadata.uid
        assert spec.selector.match_labels == {selector_key: uid}
        labels = spec.template.metadata.labels
        assert labels["controller-uid"] == uid and labels["job-name"] == "pi"
        assert created.metadata.labels == labels
        assert (spec.completion_mode == "NonIndexed") == (version != "1.19")
    finally:
        api.close()


@pytest.mark.parametrize("version", ["1.19", "1.29"])
def test_apply_to_a_posted_deployment_answers_as_the_version_does(
    emulator_factory: Callable[..., RunningEmulator], version: str
) -> None:
    """kubernetes issue 92332: before 1.20 (PR 96480) an apply body whose container ports omit
    ``protocol`` cannot be typed, whoever created the object; from 1.20 it applies."""
    from kubernetes import utils

    emu = emulator_factory(version=version)
    api = config.new_client_from_config(config_file=str(emu.kubeconfig_path))
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx-app", "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": "nginx:1.15.4", "ports": [{"containerPort": 80}]}
                    ]
                },
            },
        },
    }
    try:
        client.AppsV1Api(api).create_namespaced_deployment("default", body)
        if version == "1.19":
            with pytest.raises(utils.FailToCreateError) as failed:
                utils.create_from_dict(api, body, apply=True)
            text = str(failed.value)
            assert "failed to create typed patch object" in text
            assert 'omits key field \\"protocol\\"' in text
        else:
            applied = utils.create_from_dict(api, body, apply=True)
            assert applied[0].metadata.name == "nginx-app"
    finally:
        api.close()
