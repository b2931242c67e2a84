"""Reading an application's container logs: the driver's, an executor's, the previous instance's.

Owns which pod and container a log request names (the driver's ``spark-kubernetes-driver``;
executors found by ``spark-role=executor,spark-app-selector=<app id>`` and picked by their
``spark-exec-id``), the ``pods/log`` request (``tailLines``, ``previous``, ``follow``) and the
line prefix ``kubectl logs --prefix`` writes (``[pod/NAME/CONTAINER]``). It reads; it decides no
state and prints nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient
from kubespark.kube.requests import KubeRequest
from kubespark.submit.driverstate import DRIVER_CONTAINER, EXECUTOR_CONTAINERS

__all__ = ["LABEL_EXEC_ID", "LogTarget", "driver_target", "executor_targets", "log_request"]

LABEL_EXEC_ID = "spark-exec-id"  # set by Spark on every executor pod


@dataclass(frozen=True)
class LogTarget:
    """One container whose log is read."""

    namespace: str
    pod: str
    container: str
    executor_id: str = ""  # empty for the driver

    @property
    def prefix(self) -> str:
        """``[pod/NAME/CONTAINER]``: what ``kubectl logs --prefix`` puts before each line."""
        return f"[pod/{self.pod}/{self.container}]"


def driver_target(namespace: str, pod: str) -> LogTarget:
    return LogTarget(namespace, pod, DRIVER_CONTAINER)


def log_request(
    target: LogTarget, *, tail: int | None = None, previous: bool = False, follow: bool = False
) -> KubeRequest:
    """``GET pods/NAME/log`` for ``target``, with the API's own query parameters."""
    query = [("container", target.container)]
    if tail is not None:
        query.append(("tailLines", str(tail)))
    if previous:
        query.append(("previous", "true"))
    if follow:
        query.append(("follow", "true"))
    path = (
        f"/api/v1/namespaces/{quote(target.namespace, safe='')}/pods/"
        f"{quote(target.pod, safe='')}/log"
    )
    return KubeRequest("GET", path, tuple(query))


def _executor_target(namespace: str, pod: Mapping[str, Any]) -> LogTarget:
    meta = pod.get("metadata") or {}
    names = [str(c.get("name", "")) for c in (pod.get("spec") or {}).get("containers") or []]
    container = next((n for n in names if n in EXECUTOR_CONTAINERS), names[0] if names else "")
    exec_id = str((meta.get("labels") or {}).get(LABEL_EXEC_ID, ""))
    return LogTarget(namespace, str(meta.get("name", "")), container, exec_id)


def _by_id(target: LogTarget) -> tuple[int, str]:
    return (int(target.executor_id) if target.executor_id.isdigit() else 1 << 30, target.pod)


async def executor_targets(
    client: KubeClient, namespace: str, app_id: str, app: str, executor: str | None = None
) -> list[LogTarget]:
    """The executors of Spark application ``app_id`` (all, or the one with id ``executor``).

    An InputError names the fix when the application has no executors yet, or none by that id.
    """
    if not app_id:
        raise InputError(
            f"application {app!r} has no Spark application id yet: its driver has not started",
            where=app,
            fix="wait for the driver to run (kubespark status), then ask for executor logs",
        )
    selector = f"spark-role=executor,spark-app-selector={app_id}"
    path = f"/api/v1/namespaces/{quote(namespace, safe='')}/pods"
    body = await client.send(KubeRequest("GET", path, (("labelSelector", selector),)))
    items = body.get("items") if isinstance(body, dict) else None
    targets = sorted(
        (_executor_target(namespace, p) for p in items or [] if isinstance(p, dict)), key=_by_id
    )
    if not targets:
        raise InputError(
            f"application {app!r} has no executor pods (spark-app-selector={app_id})",
            where=app,
            fix="executors start after the driver; `kubespark status` shows them",
        )
    if executor is None:
        return targets
    chosen = [t for t in targets if t.executor_id == executor]
    if not chosen:
        ids = ", ".join(t.executor_id or t.pod for t in targets)
        raise InputError(
            f"application {app!r} has no executor {executor} (its executors: {ids})",
            where="--executor",
            fix="give one of the ids listed, or --all-executors",
        )
    return chosen
