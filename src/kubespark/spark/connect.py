"""The typed SparkConnect (``sparkoperator.k8s.io/v1alpha1``): a long-running Spark Connect server.

Owns the shape of kubeflow spark-operator's ``api/v1alpha1/sparkconnect_types.go``: the same
JSON names, the fields its CRD requires (``sparkVersion``, ``server``, ``executor``) and its
bounds (cores at least 1, instances at least 0). Pod templates and the server's Service stay
plain mappings; the records are frozen dataclasses with :mod:`kubespark.records` rules, as in
:mod:`kubespark.spark.model` (which says why not pydantic). kubeflow's validating webhook
refusals (``internal/webhook/sparkconnect_validator.go``) are rules of
``data/webhook_rules.yaml``, applied by :func:`kubespark.spark.loading.load_spark_connect`.

It must not know about Kubernetes servers, HTTP, or how the server pod is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from kubespark.records import Alias, Ge, Tracked
from kubespark.spark.model import DynamicAllocation, KubeflowResource, KubeObject

__all__ = [
    "CONNECT_API_VERSION",
    "ConnectExecutorSpec",
    "ConnectServerSpec",
    "SparkConnect",
    "SparkConnectSpec",
]

CONNECT_API_VERSION = "sparkoperator.k8s.io/v1alpha1"


@dataclass(frozen=True, slots=True, kw_only=True)
class _ConnectPodSpec(Tracked):
    """``SparkPodSpec``: cores, memory and a pod template."""

    cores: Annotated[int | None, Ge(1)] = None
    memory: str | None = None
    template: KubeObject | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectServerSpec(_ConnectPodSpec):
    """``ServerSpec``: the server pod, and the Service before it (``<name>-server`` if unset)."""

    service: KubeObject | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectExecutorSpec(_ConnectPodSpec):
    instances: Annotated[int | None, Ge(0)] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkConnectSpec(Tracked):
    spark_version: Annotated[str, Alias("sparkVersion")]
    image: str | None = None
    hadoop_conf: Annotated[dict[str, str], Alias("hadoopConf")] = field(default_factory=dict)
    spark_conf: Annotated[dict[str, str], Alias("sparkConf")] = field(default_factory=dict)
    server: ConnectServerSpec
    executor: ConnectExecutorSpec
    dynamic_allocation: Annotated[DynamicAllocation | None, Alias("dynamicAllocation")] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkConnect(KubeflowResource[SparkConnectSpec]):
    """A SparkConnect as kubeflow's reconciler reads it."""

    api_version: Annotated[Literal["sparkoperator.k8s.io/v1alpha1"], Alias("apiVersion")]
    kind: Literal["SparkConnect"]
