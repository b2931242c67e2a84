"""Applications ``kubespark submit`` created, found again without a CRD.

Owns what the CLI records on a driver pod and how ``status``, ``logs``, ``list`` and ``delete``
find it: the label ``kubespark.io/submitted-by=cli`` (set through ``spec.driver.labels``, so it is
on the pod from its first write), the annotation with the compat notes (written after the
submission, only when the server needed any), and the labels spark-submit and the kubeflow
operator already set (``sparkoperator.k8s.io/app-name``, ``submission-id``,
``spark-app-selector``, ``spark-version``). What a submission wrote besides the pod is found as the
garbage collector finds it: by owner references to the driver pod. Also the rules every such
command shares: which kubeconfig, how patient to be with a busy server.

It reads; the only writes are the submitter's (``kubespark.submit``) and ``delete``'s.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from kubespark import records
from kubespark.compat import ObjectRef
from kubespark.driver.kubeflow import LABEL_APP_NAME, LABEL_SUBMISSION_ID
from kubespark.errors import InputError
from kubespark.kube.client import KubeClient, RetryPolicy
from kubespark.kube.requests import KubeRequest
from kubespark.spark.model import SparkApplication
from kubespark.submit import DriverStatus, ExecutorState, executor_state, status_of_pod
from kubespark.submit.sparkui import UIService, ui_service_of
from kubespark.versions import spark_version_from_image

__all__ = [
    "ANNOTATION_NOTES",
    "LABEL_SUBMITTED_BY",
    "SUBMITTED_BY_CLI",
    "Executor",
    "SubmittedApp",
    "connect",
    "find_app",
    "find_apps",
    "find_drivers",
    "marked",
    "owned_by",
]

LABEL_SUBMITTED_BY = "kubespark.io/submitted-by"
SUBMITTED_BY_CLI = "cli"
ANNOTATION_NOTES = "kubespark.io/compat-notes"
# The CLI retries what a busy or restarting server answers (429, 5xx, no connection) a few times;
# a retried create that had in fact succeeded is adopted by the submitter (same submission id).
CLI_RETRY = RetryPolicy(attempts=4, base_delay=0.2, max_delay=2.0)

Obj = dict[str, Any]


def connect(kubeconfig: str | None, context: str | None) -> KubeClient:
    """A client of the kubeconfig's server (``$KUBECONFIG``, ``~/.kube/config``, or the flag),
    for one command's few requests (httpx's own connections: no aiohttp to import)."""
    return KubeClient.from_kubeconfig(kubeconfig, context, retry=CLI_RETRY, pooled=False)


def marked(app: SparkApplication, namespace: str) -> SparkApplication:
    """``app`` in ``namespace`` with the driver label that makes it findable by the CLI."""
    labels = {**app.spec.driver.labels, LABEL_SUBMITTED_BY: SUBMITTED_BY_CLI}
    driver = records.replace(app.spec.driver, labels=labels)
    metadata = records.replace(app.metadata, namespace=namespace)
    spec = records.replace(app.spec, driver=driver)
    return records.replace(app, metadata=metadata, spec=spec)


@dataclass(frozen=True)
class Executor:
    """One executor pod of an application."""

    name: str
    state: ExecutorState
    phase: str


@dataclass(frozen=True)
class SubmittedApp:
    """A submitted application, as its driver pod and executor pods show it."""

    name: str
    namespace: str
    pod: Obj
    driver: DriverStatus
    executors: tuple[Executor, ...]
    owned: tuple[ObjectRef, ...] = ()  # the Services and ConfigMaps owned by the driver pod
    ui: UIService | None = None  # the owned Service that exposes the Spark UI port

    @property
    def labels(self) -> Mapping[str, str]:
        return (self.pod.get("metadata") or {}).get("labels") or {}

    @property
    def annotations(self) -> Mapping[str, str]:
        return (self.pod.get("metadata") or {}).get("annotations") or {}

    @property
    def spark_version(self) -> str:
        if self.labels.get("spark-version"):
            return str(self.labels["spark-version"])
        # Spark 3.0-3.2 drivers carry no spark-version label (version_label): read the image.
        containers = (self.pod.get("spec") or {}).get("containers") or [{}]
        return str(spark_version_from_image(str(containers[0].get("image", ""))) or "")

    @property
    def submission_id(self) -> str:
        return str(self.labels.get(LABEL_SUBMISSION_ID, ""))

    @property
    def created(self) -> str:
        return str((self.pod.get("metadata") or {}).get("creationTimestamp") or "")

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(str(n) for n in _json_list(self.annotations.get(ANNOTATION_NOTES)))

    @property
    def uid(self) -> str:
        return str((self.pod.get("metadata") or {}).get("uid") or "")

    @property
    def objects(self) -> tuple[ObjectRef, ...]:
        """The driver pod and what it owns: everything the submission wrote."""
        return (ObjectRef("v1", "Pod", self.driver.pod_name, self.namespace), *self.owned)

    def executor_counts(self) -> Counter[ExecutorState]:
        return Counter(e.state for e in self.executors)

    def state_text(self) -> str:
        """The driver's state, with why it waits when it does."""
        text = self.driver.state.value
        if self.driver.waiting is not None:
            text += f" ({self.driver.waiting.reason})"
        return text

    def view(self) -> dict[str, Any]:
        """Plain data for ``-o json``."""
        return {
            "name": self.name,
            "namespace": self.namespace,
            "state": self.driver.state.value,
            "phase": self.driver.phase,
            "waiting": self.driver.waiting.render() if self.driver.waiting else None,
            "failure": self.driver.failure or None,
            "driverPod": self.driver.pod_name,
            "sparkVersion": self.spark_version,
            "sparkApplicationId": self.driver.spark_application_id,
            "submissionId": self.submission_id,
            "created": self.created,
            "executors": [
                {"name": e.name, "state": e.state.value, "phase": e.phase} for e in self.executors
            ],
            "notes": list(self.notes),
            "objects": [str(r) for r in self.objects],
            "uiService": f"{self.ui.name}:{self.ui.port}" if self.ui else None,
        }


def _json_list(text: str | None) -> tuple[Any, ...]:
    if not text:
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    return tuple(value) if isinstance(value, list) else ()


def owned_by(items: Iterable[Obj]) -> dict[str, list[ObjectRef]]:
    """Objects by the uid of each owner they name (as the garbage collector reads them)."""
    out: dict[str, list[ObjectRef]] = {}
    for item in items:
        for owner in (item.get("metadata") or {}).get("ownerReferences") or []:
            if isinstance(owner, dict) and owner.get("uid"):
                out.setdefault(str(owner["uid"]), []).append(ObjectRef.of(item))
    return out


def _core_path(namespace: str | None, plural: str) -> str:
    if namespace is None:
        return f"/api/v1/{plural}"
    return f"/api/v1/namespaces/{quote(namespace, safe='')}/{plural}"


async def _list(
    client: KubeClient, namespace: str | None, plural: str, selector: str = ""
) -> list[Obj]:
    """Core-API objects of one kind, with apiVersion and kind set (lists leave them out)."""
    path = _core_path(namespace, plural)
    query = (("labelSelector", selector),) if selector else ()
    body = await client.send(KubeRequest("GET", path, query))
    items = body.get("items") if isinstance(body, dict) else None
    kind = {"pods": "Pod", "services": "Service", "configmaps": "ConfigMap"}[plural]
    return [{"apiVersion": "v1", "kind": kind, **i} for i in items or [] if isinstance(i, dict)]


def _driver_selector(name: str | None) -> str:
    selector = f"spark-role=driver,{LABEL_SUBMITTED_BY}={SUBMITTED_BY_CLI}"
    return f"{selector},{LABEL_APP_NAME}={name}" if name else selector


def _executors_by_app(pods: Iterable[Obj]) -> dict[tuple[str, str], list[Executor]]:
    out: dict[tuple[str, str], list[Executor]] = {}
    for pod in pods:
        meta = pod.get("metadata") or {}
        key = (
            str(meta.get("namespace", "")),
            str((meta.get("labels") or {}).get("spark-app-selector", "")),
        )
        phase = str((pod.get("status") or {}).get("phase") or "")
        out.setdefault(key, []).append(
            Executor(str(meta.get("name", "")), executor_state(pod), phase)
        )
    return out


async def find_apps(
    client: KubeClient, namespace: str | None, name: str | None = None
) -> list[SubmittedApp]:
    """The applications submitted by the CLI in ``namespace`` (None: all), newest first."""
    drivers, executor_pods, services, config_maps = await asyncio.gather(
        _list(client, namespace, "pods", _driver_selector(name)),
        _list(client, namespace, "pods", "spark-role=executor"),
        _list(client, namespace, "services"),
        _list(client, namespace, "configmaps"),
    )
    executors = _executors_by_app(executor_pods)
    owned = owned_by([*services, *config_maps])
    services_of: dict[str, list[Obj]] = {}
    for service in services:
        for owner in (service.get("metadata") or {}).get("ownerReferences") or []:
            if isinstance(owner, dict) and owner.get("uid"):
                services_of.setdefault(str(owner["uid"]), []).append(service)
    apps = []
    for pod in drivers:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        ns = str(meta.get("namespace", ""))
        app_id = str(labels.get("spark-app-selector", ""))
        found = sorted(executors.get((ns, app_id), []), key=lambda e: e.name)
        apps.append(
            SubmittedApp(
                name=str(labels.get(LABEL_APP_NAME) or meta.get("name", "")),
                namespace=ns,
                pod=pod,
                driver=status_of_pod(pod),
                executors=tuple(found),
                owned=tuple(owned.get(str(meta.get("uid") or ""), ())),
                ui=ui_service_of(services_of.get(str(meta.get("uid") or ""), ())),
            )
        )
    return sorted(apps, key=lambda a: (a.created, a.namespace, a.name), reverse=True)


async def find_app(client: KubeClient, namespace: str, name: str) -> SubmittedApp:
    """The newest driver of application ``name``; an InputError naming the fix when none."""
    return (await find_drivers(client, namespace, name))[0]


async def find_drivers(client: KubeClient, namespace: str, name: str) -> list[SubmittedApp]:
    """Every driver of application ``name``, newest first; an InputError when there is none."""
    apps = await find_apps(client, namespace, name)
    if not apps:
        raise InputError(
            f"no application {name!r} submitted by kubespark in namespace {namespace!r} "
            f"on {client.server}",
            where=name,
            fix="check the name and -n NAMESPACE; `kubespark list -A` lists them all",
        )
    return apps


def age(timestamp: str, now: datetime | None = None) -> str:
    """``2024-01-01T00:00:00Z`` -> ``3m``, as kubectl prints ages."""
    try:
        then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "?"
    seconds = max(0, int(((now or datetime.now(UTC)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
