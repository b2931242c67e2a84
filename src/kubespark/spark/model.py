"""The typed SparkApplication and ScheduledSparkApplication (``sparkoperator.k8s.io/v1beta2``).

Owns the shape of the kubeflow spark-operator's v1beta2 spec: every field its Go API types declare
(``api/v1beta2/sparkapplication_types.go``), with the same JSON names, and the defaults its
defaulter applies (``api/v1beta2/defaults.go``). Kubernetes sub-objects (volumes, affinity,
tolerations, env, containers, pod templates...) are kept as plain mappings, checked only to be
objects: validating them deeply against a Kubernetes version is the API surface's job.

It must not know about Kubernetes servers, HTTP, or how the driver is built.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "BatchSchedulerConfiguration",
    "Dependencies",
    "DriverIngressConfiguration",
    "DriverSpec",
    "DynamicAllocation",
    "ExecutorSpec",
    "GPUSpec",
    "MonitoringSpec",
    "NameKey",
    "NamePath",
    "ObjectMeta",
    "Port",
    "PrometheusSpec",
    "RestartPolicy",
    "ScheduledSparkApplication",
    "ScheduledSparkApplicationSpec",
    "SecretInfo",
    "SparkApplication",
    "SparkApplicationSpec",
    "SparkUIConfiguration",
]

KubeObject = dict[str, Any]
"""A Kubernetes sub-object (Volume, Affinity, Container...), kept as its JSON mapping."""


class _Spec(BaseModel):
    """Strict like the API server: no unknown fields, no "2" where an integer is expected."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        populate_by_name=True,
        alias_generator=None,
    )


class NamePath(_Spec):
    name: str
    path: str


class NameKey(_Spec):
    name: str
    key: str


class SecretInfo(_Spec):
    name: str
    path: str
    # Required, and no enum: kubeflow's CRD (SecretInfo.Type has no omitempty, no Enum marker);
    # the driver builder acts on the types it knows and mounts any other as Generic.
    secret_type: str = Field(alias="secretType")


class Port(_Spec):
    name: str
    protocol: str  # required by kubeflow's CRD (Port.Protocol has no omitempty)
    container_port: int = Field(alias="containerPort", ge=1, le=65535)


class GPUSpec(_Spec):
    name: str
    quantity: int = Field(ge=0)


class _PodSpecFields(_Spec):
    """Fields shared by driver and executor (the operator's ``SparkPodSpec``)."""

    template: KubeObject | None = None
    cores: int | None = Field(default=None, ge=1)
    core_limit: str | None = Field(default=None, alias="coreLimit")
    core_request: str | None = Field(default=None, alias="coreRequest")
    memory: str | None = None
    memory_limit: str | None = Field(default=None, alias="memoryLimit")
    memory_overhead: str | None = Field(default=None, alias="memoryOverhead")
    gpu: GPUSpec | None = None
    image: str | None = None
    config_maps: list[NamePath] = Field(default_factory=list, alias="configMaps")
    secrets: list[SecretInfo] = Field(default_factory=list)
    env: list[KubeObject] = Field(default_factory=list)
    env_vars: dict[str, str] = Field(default_factory=dict, alias="envVars")
    env_from: list[KubeObject] = Field(default_factory=list, alias="envFrom")
    env_secret_key_refs: dict[str, NameKey] = Field(default_factory=dict, alias="envSecretKeyRefs")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    volume_mounts: list[KubeObject] = Field(default_factory=list, alias="volumeMounts")
    affinity: KubeObject | None = None
    tolerations: list[KubeObject] = Field(default_factory=list)
    pod_security_context: KubeObject | None = Field(default=None, alias="podSecurityContext")
    security_context: KubeObject | None = Field(default=None, alias="securityContext")
    scheduler_name: str | None = Field(default=None, alias="schedulerName")
    sidecars: list[KubeObject] = Field(default_factory=list)
    init_containers: list[KubeObject] = Field(default_factory=list, alias="initContainers")
    host_network: bool | None = Field(default=None, alias="hostNetwork")
    node_selector: dict[str, str] = Field(default_factory=dict, alias="nodeSelector")
    dns_config: KubeObject | None = Field(default=None, alias="dnsConfig")
    termination_grace_period_seconds: int | None = Field(
        default=None, alias="terminationGracePeriodSeconds", ge=0
    )
    service_account: str | None = Field(default=None, alias="serviceAccount")
    host_aliases: list[KubeObject] = Field(default_factory=list, alias="hostAliases")
    share_process_namespace: bool | None = Field(default=None, alias="shareProcessNamespace")
    java_options: str | None = Field(default=None, alias="javaOptions")
    lifecycle: KubeObject | None = None
    ports: list[Port] = Field(default_factory=list)
    priority_class_name: str | None = Field(default=None, alias="priorityClassName")


class DriverSpec(_PodSpecFields):
    pod_name: str | None = Field(
        default=None,
        alias="podName",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        max_length=253,
    )
    kubernetes_master: str | None = Field(default=None, alias="kubernetesMaster")
    service_annotations: dict[str, str] = Field(default_factory=dict, alias="serviceAnnotations")
    service_labels: dict[str, str] = Field(default_factory=dict, alias="serviceLabels")


class ExecutorSpec(_PodSpecFields):
    instances: int | None = Field(default=None, ge=1)
    delete_on_termination: bool | None = Field(default=None, alias="deleteOnTermination")


class Dependencies(_Spec):
    jars: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    py_files: list[str] = Field(default_factory=list, alias="pyFiles")
    packages: list[str] = Field(default_factory=list)
    exclude_packages: list[str] = Field(default_factory=list, alias="excludePackages")
    repositories: list[str] = Field(default_factory=list)
    archives: list[str] = Field(default_factory=list)


class RestartPolicy(_Spec):
    type: Literal["Never", "OnFailure", "Always"] = "Never"
    on_submission_failure_retries: int | None = Field(
        default=None, alias="onSubmissionFailureRetries", ge=0
    )
    on_failure_retries: int | None = Field(default=None, alias="onFailureRetries", ge=0)
    on_submission_failure_retry_interval: int | None = Field(
        default=None, alias="onSubmissionFailureRetryInterval", ge=1
    )
    on_failure_retry_interval: int | None = Field(
        default=None, alias="onFailureRetryInterval", ge=1
    )


class BatchSchedulerConfiguration(_Spec):
    queue: str | None = None
    priority_class_name: str | None = Field(default=None, alias="priorityClassName")
    resources: dict[str, str | int] = Field(default_factory=dict)


class SparkUIConfiguration(_Spec):
    service_port: int | None = Field(default=None, alias="servicePort", ge=1, le=65535)
    service_port_name: str | None = Field(default=None, alias="servicePortName")
    # No enum in kubeflow's CRD: the API server judges the Service type it is given.
    service_type: str | None = Field(default=None, alias="serviceType")
    service_annotations: dict[str, str] = Field(default_factory=dict, alias="serviceAnnotations")
    service_labels: dict[str, str] = Field(default_factory=dict, alias="serviceLabels")
    ingress_annotations: dict[str, str] = Field(default_factory=dict, alias="ingressAnnotations")
    ingress_tls: list[KubeObject] = Field(default_factory=list, alias="ingressTLS")


class DriverIngressConfiguration(SparkUIConfiguration):
    service_port: int = Field(alias="servicePort", ge=1, le=65535)
    ingress_url_format: str = Field(default="", alias="ingressURLFormat")


class PrometheusSpec(_Spec):
    jmx_exporter_jar: str = Field(alias="jmxExporterJar")
    port: int | None = Field(default=None, ge=1024, le=49151)
    port_name: str | None = Field(default=None, alias="portName")
    config_file: str | None = Field(default=None, alias="configFile")
    configuration: str | None = None


class MonitoringSpec(_Spec):
    expose_driver_metrics: bool = Field(default=False, alias="exposeDriverMetrics")
    expose_executor_metrics: bool = Field(default=False, alias="exposeExecutorMetrics")
    metrics_properties: str | None = Field(default=None, alias="metricsProperties")
    metrics_properties_file: str | None = Field(default=None, alias="metricsPropertiesFile")
    prometheus: PrometheusSpec | None = None


class DynamicAllocation(_Spec):
    enabled: bool = False
    initial_executors: int | None = Field(default=None, alias="initialExecutors", ge=0)
    min_executors: int | None = Field(default=None, alias="minExecutors", ge=0)
    max_executors: int | None = Field(default=None, alias="maxExecutors", ge=0)
    shuffle_tracking_enabled: bool | None = Field(default=None, alias="shuffleTrackingEnabled")
    shuffle_tracking_timeout: int | None = Field(default=None, alias="shuffleTrackingTimeout", ge=0)


class SparkApplicationSpec(_Spec):
    """``spec`` of a SparkApplication, and ``spec.template`` of a ScheduledSparkApplication."""

    type: Literal["Java", "Scala", "Python", "R"] = "Scala"
    spark_version: str | None = Field(default=None, alias="sparkVersion")
    mode: Literal["cluster", "client", "in-cluster-client"] = "cluster"
    proxy_user: str | None = Field(default=None, alias="proxyUser")
    image: str | None = None
    # No enum in kubeflow's CRD: the API server judges the pods' pull policy.
    image_pull_policy: str | None = Field(default=None, alias="imagePullPolicy")
    image_pull_secrets: list[str] = Field(default_factory=list, alias="imagePullSecrets")
    main_class: str | None = Field(default=None, alias="mainClass")
    main_application_file: str | None = Field(default=None, alias="mainApplicationFile")
    arguments: list[str] = Field(default_factory=list)
    spark_conf: dict[str, str] = Field(default_factory=dict, alias="sparkConf")
    hadoop_conf: dict[str, str] = Field(default_factory=dict, alias="hadoopConf")
    spark_config_map: str | None = Field(default=None, alias="sparkConfigMap")
    hadoop_config_map: str | None = Field(default=None, alias="hadoopConfigMap")
    volumes: list[KubeObject] = Field(default_factory=list)
    driver: DriverSpec = Field(default_factory=DriverSpec)
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)
    deps: Dependencies = Field(default_factory=Dependencies)
    restart_policy: RestartPolicy = Field(default_factory=RestartPolicy, alias="restartPolicy")
    node_selector: dict[str, str] = Field(default_factory=dict, alias="nodeSelector")
    failure_retries: int | None = Field(default=None, alias="failureRetries", ge=0)
    # No minimum in kubeflow's CRD: 0 retries at once.
    retry_interval: int | None = Field(default=None, alias="retryInterval")
    python_version: Literal["2", "3"] | None = Field(default=None, alias="pythonVersion")
    memory_overhead_factor: str | None = Field(default=None, alias="memoryOverheadFactor")
    monitoring: MonitoringSpec | None = None
    batch_scheduler: str | None = Field(default=None, alias="batchScheduler")
    # No minimum in kubeflow's CRD: 0 or less expires the application as soon as it ends.
    time_to_live_seconds: int | None = Field(default=None, alias="timeToLiveSeconds")
    batch_scheduler_options: BatchSchedulerConfiguration | None = Field(
        default=None, alias="batchSchedulerOptions"
    )
    spark_ui_options: SparkUIConfiguration | None = Field(default=None, alias="sparkUIOptions")
    driver_ingress_options: list[DriverIngressConfiguration] = Field(
        default_factory=list, alias="driverIngressOptions"
    )
    dynamic_allocation: DynamicAllocation | None = Field(default=None, alias="dynamicAllocation")
    suspend: bool | None = None
    driver_pod_disruption_budget: bool | None = Field(
        default=None, alias="driverPodDisruptionBudget"
    )


class ObjectMeta(BaseModel):
    """The metadata kubespark reads; the rest of a stored object's metadata is kept, unread."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, populate_by_name=True)

    name: str = Field(
        min_length=1,
        max_length=253,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    )
    namespace: str = Field(default="default", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    uid: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


SpecT = TypeVar("SpecT", bound=BaseModel)


class KubeflowResource(_Spec, Generic[SpecT]):
    """One of kubeflow's custom resources as its operator reads it: the kinds narrow
    ``apiVersion`` and ``kind`` to their own and give the spec's type."""

    api_version: str = Field(alias="apiVersion")
    kind: str
    metadata: ObjectMeta
    spec: SpecT
    # Status is the controller's; a document read back from a cluster carries it, unread here.
    status: dict[str, Any] | None = None


class SparkApplication(KubeflowResource[SparkApplicationSpec]):
    """A SparkApplication as the kubeflow operator reads it, defaults applied."""

    api_version: Literal["sparkoperator.k8s.io/v1beta2"] = Field(alias="apiVersion")
    kind: Literal["SparkApplication"]


class ScheduledSparkApplicationSpec(_Spec):
    schedule: str = Field(min_length=1)
    time_zone: str = Field(default="Local", alias="timeZone")
    template: SparkApplicationSpec
    suspend: bool = False
    concurrency_policy: Literal["Allow", "Forbid", "Replace"] = Field(
        default="Allow", alias="concurrencyPolicy"
    )
    successful_run_history_limit: int = Field(default=1, alias="successfulRunHistoryLimit", ge=0)
    failed_run_history_limit: int = Field(default=1, alias="failedRunHistoryLimit", ge=0)


class ScheduledSparkApplication(KubeflowResource[ScheduledSparkApplicationSpec]):
    api_version: Literal["sparkoperator.k8s.io/v1beta2"] = Field(alias="apiVersion")
    kind: Literal["ScheduledSparkApplication"]
