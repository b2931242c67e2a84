"""The driver's PodDisruptionBudget, as kubeflow's ``driver_pdb.go`` makes and removes it.

Owns the PDB's shape (named as the driver pod, ``minAvailable: 1``, selecting the application's
driver, owned by the SparkApplication) and converging it: with ``--enable-driver-pdb`` it exists
while the driver runs for an application with ``spec.driverPodDisruptionBudget: true`` and is
deleted otherwise and once the application terminates; without the flag nothing is touched. The
group-version (``policy/v1``, else ``policy/v1beta1`` before 1.21) is the server's, read from
its API surface. It must not decide states.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubespark.apisurface import ApiSurface
from kubespark.driver.kubeflow import LABEL_APP_NAME, LABEL_LAUNCHED_BY
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import Conflict, NotFound
from kubespark.kube.requests import JSON, KubeRequest

__all__ = ["delete_driver_pdb", "driver_pdb", "ensure_driver_pdb", "pdb_api_version"]

Obj = dict[str, Any]


def pdb_api_version(surface: ApiSurface) -> str | None:
    """The PodDisruptionBudget group-version the server serves (newest first)."""
    for version in ("policy/v1", "policy/v1beta1"):
        if surface.resource(version, "PodDisruptionBudget") is not None:
            return version
    return None


def driver_pdb(app: Mapping[str, Any], driver_pod: str, api_version: str) -> Obj:
    """``createDriverPDBObject``: minAvailable 1 over the application's driver pod."""
    meta = app["metadata"]
    name = str(meta["name"])
    return {
        "apiVersion": api_version,
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": driver_pod,
            "namespace": meta["namespace"],
            "labels": {LABEL_LAUNCHED_BY: "true", LABEL_APP_NAME: name},
            "ownerReferences": [
                {
                    "apiVersion": str(app.get("apiVersion", "sparkoperator.k8s.io/v1beta2")),
                    "kind": "SparkApplication",
                    "name": name,
                    "uid": meta.get("uid"),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "minAvailable": 1,
            "selector": {"matchLabels": {LABEL_APP_NAME: name, "spark-role": "driver"}},
        },
    }


def _path(api_version: str, namespace: str, name: str = "") -> str:
    base = f"/apis/{api_version}/namespaces/{namespace}/poddisruptionbudgets"
    return f"{base}/{name}" if name else base


async def ensure_driver_pdb(
    client: KubeClient, surface: ApiSurface, app: Mapping[str, Any], driver_pod: str
) -> None:
    """``ensureDriverPDB`` (the operator flag is the caller's): create or delete per the spec."""
    spec = app.get("spec") or {}
    if spec.get("driverPodDisruptionBudget") is not True:
        await delete_driver_pdb(client, surface, app, driver_pod)
        return
    version = pdb_api_version(surface)
    if version is None:
        return
    namespace = str(app["metadata"]["namespace"])
    try:
        await client.send(KubeRequest("GET", _path(version, namespace, driver_pod)))
        return
    except NotFound:
        pass
    body = driver_pdb(app, driver_pod, version)
    try:
        await client.send(KubeRequest("POST", _path(version, namespace), (), JSON, body))
    except Conflict:
        return  # a concurrent reconcile (or a foreign PDB of that name) got there first


async def delete_driver_pdb(
    client: KubeClient, surface: ApiSurface, app: Mapping[str, Any], driver_pod: str
) -> None:
    """``deleteDriverPDB``: gone, whatever the spec says now (NotFound is success)."""
    version = pdb_api_version(surface)
    if version is None:
        return
    path = _path(version, str(app["metadata"]["namespace"]), driver_pod)
    try:
        await client.send(KubeRequest("DELETE", path))
    except NotFound:
        return
