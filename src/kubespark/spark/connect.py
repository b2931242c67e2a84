"""The typed SparkConnect (``sparkoperator.k8s.io/v1alpha1``): a long-running Spark Connect server.

Owns the shape of kubeflow spark-operator's ``api/v1alpha1/sparkconnect_types.go``: the same
JSON names, the fields its CRD requires (``sparkVersion``, ``server``, ``executor``) and its
bounds (cores at least 1, instances at least 0). Pod templates and the server's Service stay
plain mappings, as in :mod:`kubespark.spark.model`. kubeflow's validating webhook refusals
(``internal/webhook/sparkconnect_validator.go``) are rules of ``data/webhook_rules.yaml``, applied
by :func:`kubespark.spark.loading.load_spark_connect`.

It must not know about Kubernetes servers, HTTP, or how the server pod is built.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kubespark.spark.model import DynamicAllocation, KubeflowResource, KubeObject

__all__ = [
    "CONNECT_API_VERSION",
    "ConnectExecutorSpec",
    "ConnectServerSpec",
    "SparkConnect",
    "SparkConnectSpec",
]

CONNECT_API_VERSION = "sparkoperator.k8s.io/v1alpha1"


class _Spec(BaseModel):
    """Strict like the API server: no unknown fields, no "2" where an integer is expected."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class _ConnectPodSpec(_Spec):
    """``SparkPodSpec``: cores, memory and a pod template."""

    cores: int | None = Field(default=None, ge=1)
    memory: str | None = None
    template: KubeObject | None = None


class ConnectServerSpec(_ConnectPodSpec):
    """``ServerSpec``: the server pod, and the Service before it (``<name>-server`` if unset)."""

    service: KubeObject | None = None


class ConnectExecutorSpec(_ConnectPodSpec):
    instances: int | None = Field(default=None, ge=0)


class SparkConnectSpec(_Spec):
    spark_version: str = Field(alias="sparkVersion")
    image: str | None = None
    hadoop_conf: dict[str, str] = Field(default_factory=dict, alias="hadoopConf")
    spark_conf: dict[str, str] = Field(default_factory=dict, alias="sparkConf")
    server: ConnectServerSpec
    executor: ConnectExecutorSpec
    dynamic_allocation: DynamicAllocation | None = Field(default=None, alias="dynamicAllocation")


class SparkConnect(KubeflowResource[SparkConnectSpec]):
    """A SparkConnect as kubeflow's reconciler reads it."""

    api_version: Literal["sparkoperator.k8s.io/v1alpha1"] = Field(alias="apiVersion")
    kind: Literal["SparkConnect"]
