"""Precision rules: what must be true for an issue to apply, and near misses that must not match.

Each near miss is a real shape of message that shares words with an issue's symptoms but is
another cause; the doctor must not name the issue for it (and, where it rules one out, says so).
"""

from __future__ import annotations

import pytest

from kubespark.doctor.engine import examine_text

ANONYMOUS_403 = (
    'Exception in thread "main" io.fabric8.kubernetes.client.KubernetesClientException: Failure '
    "executing: POST at: https://10.0.0.1/api/v1/namespaces/spark/pods. Message: Forbidden!"
    "Configured service account doesn't have access. Service account may have been revoked. "
    'pods "spark-pi-driver" is forbidden: User "system:anonymous" cannot create resource "pods" '
    'in API group "" in the namespace "spark".'
)
RBAC_WATCH_403 = (
    'WARN WatchConnectionManager:185 - Exec Failure: HTTP 403, Status: 403 - pods "x-driver" is '
    'forbidden: User "system:serviceaccount:spark:spark" cannot watch pods in the namespace '
    '"spark"\n'
    "java.net.ProtocolException: Expected HTTP 101 response but was '403 Forbidden'\n"
)


def named(text: str) -> list[str]:
    return [d.issue.id for d in examine_text(text).diagnoses]


def test_anonymous_refusal_is_not_the_driver_service_accounts_rbac() -> None:
    report = examine_text(ANONYMOUS_403)
    ids = [d.issue.id for d in report.diagnoses]
    assert ids == ["submission-client-unauthenticated"]
    assert "driver-rbac-forbidden" in dict(report.ruled_out)
    assert report.generic is not None and report.generic.id == "forbidden"
    assert "system:anonymous" in report.generic.cause


def test_service_account_refusal_is_rbac() -> None:
    text = ANONYMOUS_403.replace("system:anonymous", "system:serviceaccount:spark:spark")
    assert named(text) == ["driver-rbac-forbidden"]


def test_a_403_watch_with_rbacs_own_message_is_not_the_2019_patch() -> None:
    # RBAC named the service account and the verb: the account's grants, not the patch.
    assert named(RBAC_WATCH_403) == ["driver-rbac-forbidden"]


def test_the_2019_patch_403_without_a_message_still_matches() -> None:
    text = "WARN WatchConnectionManager:185 - Exec Failure: HTTP 403, Status: 403 - \n" + (
        "java.net.ProtocolException: Expected HTTP 101 response but was '403 Forbidden'\n"
    )
    assert named(text) == ["fabric8-41x-403-watch"]


@pytest.mark.parametrize(
    ("text", "issue"),
    [
        # spark-submit's own Kubernetes client missing: a broken distribution, not the app's jar.
        (
            "java.lang.ClassNotFoundException: org.apache.spark.deploy.k8s.submit.Client",
            "app-file-not-in-image",
        ),
        # A ClassNotFoundException inside a task is the application's code, not a missing jar.
        ("java.lang.ClassNotFoundException: com.example.Udf", "app-file-not-in-image"),
        # Exit code 137 is the container limit (container-oom-killed), not Spark's 52.
        ("The executor with id 3 exited with exit code 137.", "executor-exit-code"),
        ("The executor with id 3 exited with exit code 152.", "executor-exit-code"),
        # The operator's own webhook unreachable is not another webhook's denial.
        (
            'failed calling webhook "webhook.sparkoperator.k8s.io": Post "https://x:443/webhook": '
            "dial tcp 10.0.0.5:443: connect: connection refused",
            "admission-webhook-denied",
        ),
        # A certificate rejection is not an unreachable webhook.
        (
            'failed calling webhook "webhook.sparkoperator.k8s.io": Post "https://x:443/webhook": '
            "x509: certificate signed by unknown authority",
            "operator-webhook-unreachable",
        ),
        # A ConfigMap that already exists is not a second driver pod.
        ('configmaps "spark-drv-conf-map" already exists', "driver-pod-already-exists"),
        # "limits required" quota is its own issue; exhaustion is another.
        (
            'pods "x-exec-1" is forbidden: failed quota: q: must specify limits.cpu',
            "resource-quota-exceeded",
        ),
        # A missing Secret is not a missing service account.
        ('secret "spark-webhook-certs" not found', "service-account-missing"),
        # Another kind's missing CRD is not the SparkApplication CRD.
        (
            'error: unable to recognize "x.yaml": no matches for kind "Ingress" in version '
            '"extensions/v1beta1"',
            "operator-crd-missing",
        ),
        # A scheduled pod's event is not a scheduling failure.
        (
            "Normal  Scheduled  10s  default-scheduler  Successfully assigned spark/x to node-1",
            "pod-unschedulable",
        ),
        # spark-submit output surfaced in the status: not the hidden-output case.
        (
            "failed to run spark-submit for SparkApplication default/spark-pi: Exception in thread "
            '"main" io.fabric8.kubernetes.client.KubernetesClientException: Failure executing',
            "submission-output-hidden",
        ),
    ],
)
def test_near_misses_do_not_match(text: str, issue: str) -> None:
    assert issue not in named(text)


def test_the_real_shapes_do_match() -> None:
    assert named("The executor with id 3 exited with exit code 52.") == ["executor-exit-code"]
    assert named('pods "x-exec-1" is forbidden: exceeded quota: q, requested: cpu=1') == [
        "resource-quota-exceeded"
    ]


def test_a_missing_service_account_is_named_with_the_api_call_and_the_fix() -> None:
    text = (
        'Exception in thread "main" io.fabric8.kubernetes.client.KubernetesClientException: '
        "Failure executing: POST at: https://10.0.0.1/api/v1/namespaces/jobs/pods. Message: "
        "Forbidden!Configured service account doesn't have access. "
        "Service account may have been revoked. "
        'pods "spark-pi-driver" is forbidden: error looking up service account jobs/spark: '
        'serviceaccount "spark" not found.'
    )
    report = examine_text(text)
    assert [d.issue.id for d in report.diagnoses] == ["service-account-missing"]
    assert "create serviceaccount" in report.diagnoses[0].remedies[0].action
    api = report.failure.api
    assert api is not None
    assert (api.verb, api.resource, api.namespace, api.name, api.status) == (
        "POST",
        "pods",
        "jobs",
        "spark-pi-driver",
        403,
    )
    assert report.generic is not None and report.generic.id == "forbidden-admission"
