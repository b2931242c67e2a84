"""Generic failure extraction: first real error, root cause, HTTP status, verb and resource."""

from __future__ import annotations

from doctor.excerpts import load
from kubespark.doctor.failure import FailureTracker
from kubespark.doctor.lines import Line, Where
from kubespark.doctor.unescape import logical_lines


def _track(text: str) -> FailureTracker:
    tracker = FailureTracker()
    for no, physical in enumerate(text.splitlines(), 1):
        for part, line in enumerate(logical_lines(physical), 1):
            tracker.feed(Line.of(Where("t", no, part), line))
    return tracker


def test_fabric8_patch_failure_gives_verb_resource_and_status() -> None:
    summary = _track(load("spark35-ssa-old-k8s--kubeflow-2048").text).summary()
    first = summary.first
    assert first is not None
    assert first.exception == "io.fabric8.kubernetes.client.KubernetesClientException"
    assert first.api is not None
    assert first.api.verb == "PATCH"
    assert first.api.resource == "services"
    assert first.api.namespace == "spark"
    assert first.api.name == "spark-pi-358e258fec637e87-driver-svc"
    assert first.api.status == 500
    assert "fieldManager=fabric8" in (first.api.url or "")


def test_noise_and_thread_wrapper_are_skipped() -> None:
    text = (
        "WARNING: An illegal reflective access operation has occurred\n"
        "24/06/06 07:11:34 WARN NativeCodeLoader: Unable to load native-hadoop library\n"
        "24/06/06 07:11:34 INFO Foo: nothing failed here\n"
        'Exception in thread "main" org.apache.spark.SparkException: Please specify '
        "spark.kubernetes.file.upload.path property.\n"
    )
    first = _track(text).summary().first
    assert first is not None
    assert first.first.where.line == 4
    assert first.exception == "org.apache.spark.SparkException"


def test_root_cause_is_the_deepest_caused_by() -> None:
    text = (
        "22/04/11 09:15:45 ERROR SparkContext: Error initializing SparkContext.\n"
        "org.apache.spark.SparkException: External scheduler cannot be instantiated\n"
        "\tat org.apache.spark.SparkContext$.createTaskScheduler(SparkContext.scala:2967)\n"
        "Caused by: io.fabric8.kubernetes.client.KubernetesClientException: Operation: [get]  "
        "for kind: [Pod]  with name: [spark-pi-driver]  in namespace: [default]  failed.\n"
        "\tat io.fabric8.kubernetes.client.KubernetesClientException.launderThrowable(x.java:64)\n"
        "Caused by: java.net.UnknownHostException: kubernetes.default.svc: "
        "Name or service not known\n"
    )
    summary = _track(text).summary()
    assert len(summary.chains) == 1
    chain = summary.chains[0]
    assert chain.exception == "org.apache.spark.SparkException"
    assert chain.root.text.startswith("Caused by: java.net.UnknownHostException")
    assert chain.api is not None and chain.api.verb == "get" and chain.api.resource == "Pod"


def test_go_client_forbidden_gives_verb_resource_and_403() -> None:
    text = (
        "Failure executing: GET at: https://kubernetes.default.svc/api/v1/namespaces/default/"
        "pods/spark-pi-spark-driver. Message: Forbidden!Configured service account doesn't have "
        'access. Service account may have been revoked. pods "spark-pi-spark-driver" is forbidden: '
        'User "system:serviceaccount:default:spark-pi-spark-spark" cannot get resource "pods" in '
        'API group "" in the namespace "default".\n'
    )
    api = _track(text).summary().api
    assert api is not None
    assert (api.verb, api.resource, api.name, api.namespace) == (
        "GET",
        "pods",
        "spark-pi-spark-driver",
        "default",
    )


def test_kubespark_submit_refusal_keeps_verb_namespace_name_and_status() -> None:
    # The line `kubespark submit` hands the doctor when the server refuses a write: a create's
    # URL ends at the collection (with a query), so the name comes from the message.
    text = (
        "error: POST /api/v1/namespaces/spark-jobs/pods?fieldManager=kubespark: HTTP 403 "
        'Forbidden: pods "spark-pi-driver" is forbidden: error looking up service account '
        'spark-jobs/spark: serviceaccount "spark" not found\n'
    )
    api = _track(text).summary().api
    assert api is not None
    assert (api.verb, api.resource, api.namespace, api.name, api.status, api.reason) == (
        "POST",
        "pods",
        "spark-jobs",
        "spark-pi-driver",
        403,
        "Forbidden",
    )


def test_glog_error_line_with_go_404() -> None:
    text = (
        "I1209 15:32:34.736209      10 sparkui.go:134] Creating an Ingress spark-pi-ui-ingress\n"
        "E1209 15:32:34.737008      10 controller.go:692] failed to create UI Ingress for "
        "SparkApplication spark/spark-pi: the server could not find the requested resource "
        "(post ingresses.extensions)\n"
    )
    first = _track(text).summary().first
    assert first is not None and first.first.where.line == 2
    assert first.api is not None
    assert (first.api.verb, first.api.resource, first.api.status) == (
        "POST",
        "ingresses.extensions",
        404,
    )


def test_container_signals_and_app_state() -> None:
    text = (
        "Status:\n  Application State:\n"
        "    Error Message:  driver container failed with ExitCode: 137, Reason: OOMKilled\n"
        "    State:          FAILED\n"
        "  Warning  Evicted  3m  kubelet  The node was low on resource: ephemeral-storage.\n"
    )
    summary = _track(text).summary()
    names = [name for name, _ in summary.signals]
    assert "exit code 137 (OOMKilled)" in names
    assert "OOMKilled" in names
    assert "event Evicted" in names
    assert summary.app_state == "FAILED"
    assert summary.app_error is not None and summary.app_error.where.line == 3


def test_nothing_found_in_a_clean_log() -> None:
    text = "24/06/06 07:11:34 INFO SparkContext: Running Spark version 3.5.1\n"
    assert not _track(text).summary().found


def test_a_pyspark_drivers_python_exception_is_the_first_error_before_the_watch_warning() -> None:
    # A PySpark driver that raised: the traceback's last line is the failure; the executor
    # watch closing afterwards is only a warning.
    text = (
        "26/12/07 00:05:50 INFO DAGScheduler: Job 0 finished: count at job.py:5\n"
        "Traceback (most recent call last):\n"
        '  File "/mnt/job/job.py", line 6, in <module>\n'
        '    raise ValueError("kubespark-boom: the job gave up")\n'
        "ValueError: kubespark-boom: the job gave up\n"
        "26/12/07 00:05:58 WARN ExecutorPodsWatchSnapshotSource: Kubernetes client has been "
        "closed.\n"
    )
    first = _track(text).summary().first
    assert first is not None
    assert first.exception == "ValueError"
    assert first.first.text == "ValueError: kubespark-boom: the job gave up"
