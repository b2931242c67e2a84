"""``build_driver_resources``: a SparkApplication in, every object its submission creates out.

Owns putting the parts together: the kubeflow operator's spark-submit command for the application
(``submit_command``), what that command's spark-submit creates for the application's own Spark
version (``sparksubmit``), the webhook patches applied to the driver pod (``kubeflow``), and the
operator's UI Service/Ingress and Prometheus ConfigMap (``monitoring``). The result is a frozen
:class:`DriverResources` of plain dicts in creation order. Pure and deterministic: names come from
``names.ids_for_submission``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from kubespark.driver.kubeflow import apply_pod_patches, owner_reference, ui_resources
from kubespark.driver.monitoring import prometheus_config_map
from kubespark.driver.names import GeneratedIds, ids_for_submission
from kubespark.driver.spark_behaviours import behaviours_for
from kubespark.driver.sparksubmit import run_spark_submit
from kubespark.driver.submit_command import DEFAULT_MASTER, SubmitCommand, spark_submit_command
from kubespark.spark.loading import spark_version_of
from kubespark.spark.model import SparkApplication
from kubespark.versions import Version

__all__ = ["BuildOptions", "DriverResources", "build_driver_resources"]

Obj = dict[str, Any]


@dataclass(frozen=True)
class BuildOptions:
    """Settings of the submitting side that spark-submit would take from its environment."""

    master: str = DEFAULT_MASTER  # spark.master as the operator passes it
    spark_user: str = "spark"  # SPARK_USER: the operator image runs as user spark (uid 185)
    submit_time_ms: int | None = None  # spark.app.submitTime; None keeps the ConfigMap stable
    ui_service: bool = True  # the operator's --enable-ui-service (on by default)
    ingress_url_format: str | None = None  # the operator's --ingress-url-format
    ingress_class_name: str | None = None
    enable_service_links: bool = False  # drivers need no service env vars (kubespark default)


@dataclass(frozen=True)
class DriverResources:
    """What one submission creates, as plain dicts ready for the planner.

    ``pod`` first; ``dependents`` (driver Service, NetworkPolicy, executor pod template ConfigMap,
    spark.properties ConfigMap) are created after it, owned by it (see :meth:`owned_by`);
    ``operator_resources`` (UI Service, Ingresses, the ``<app>-prom-conf`` metrics ConfigMap)
    are owned by the SparkApplication (by the driver pod when there is none).
    """

    spark_version: Version
    ids: GeneratedIds
    command: SubmitCommand
    pod: Obj
    dependents: tuple[Obj, ...]
    operator_resources: tuple[Obj, ...]
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def service(self) -> Obj:
        return next(o for o in self.dependents if o["kind"] == "Service")

    @property
    def config_maps(self) -> tuple[Obj, ...]:
        return tuple(o for o in self.dependents if o["kind"] == "ConfigMap")

    @property
    def network_policy(self) -> Obj | None:
        return next((o for o in self.dependents if o["kind"] == "NetworkPolicy"), None)

    def in_creation_order(self) -> tuple[Obj, ...]:
        return (self.pod, *self.dependents, *self.operator_resources)

    def owned_by(self, pod_uid: str) -> DriverResources:
        """The dependents with the owner reference spark-submit adds once the pod exists."""
        ref = {
            "apiVersion": "v1",
            "kind": "Pod",
            "controller": True,
            "name": self.pod["metadata"]["name"],
            "uid": pod_uid,
        }
        owned = []
        for obj in self.dependents:
            obj = copy.deepcopy(obj)
            obj["metadata"]["ownerReferences"] = [ref]
            owned.append(obj)
        return replace(self, dependents=tuple(owned))


def build_driver_resources(
    app: SparkApplication,
    *,
    submission_id: str,
    attempt: int = 0,
    options: BuildOptions | None = None,
    ids: GeneratedIds | None = None,
) -> DriverResources:
    """Everything submitting ``app`` creates, as its own sparkVersion's spark-submit would.

    ``ids`` replaces the derived names only to replay a submission whose ids were drawn
    elsewhere (a driver spark-submit created, a recorded trace).
    """
    options = options or BuildOptions()
    version = spark_version_of(app.spec)
    if ids is None:
        ids = ids_for_submission(app.metadata.namespace, app.metadata.name, submission_id, attempt)
    command = spark_submit_command(app, submission_id=submission_id, master=options.master)
    submitted = run_spark_submit(
        command,
        behaviours=behaviours_for(version),
        ids=ids,
        spark_user=options.spark_user,
        submit_time_ms=options.submit_time_ms,
    )
    pod = apply_pod_patches(submitted.pod, app, "driver")
    if not options.enable_service_links:
        pod["spec"].setdefault("enableServiceLinks", False)
    extra = ui_resources(
        app,
        submission_id=submission_id,
        app_id=ids.app_id,
        ui_service=options.ui_service,
        ingress_url_format=options.ingress_url_format,
        ingress_class_name=options.ingress_class_name,
    )
    metrics = prometheus_config_map(app, owner_reference(app, controller=True))
    if metrics is not None:
        extra = (*extra, metrics)
    return DriverResources(
        spark_version=version,
        ids=ids,
        command=command,
        pod=pod,
        dependents=submitted.dependents,
        operator_resources=extra,
        properties=dict(submitted.properties),
    )
