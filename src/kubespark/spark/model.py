"""The typed SparkApplication and ScheduledSparkApplication (``sparkoperator.k8s.io/v1beta2``).

Owns the shape of the kubeflow spark-operator's v1beta2 spec: every field its Go API types declare
(``api/v1beta2/sparkapplication_types.go``), with the same JSON names, and the defaults its
defaulter applies (``api/v1beta2/defaults.go``). Kubernetes sub-objects (volumes, affinity,
tolerations, env, containers, pod templates...) are kept as plain mappings, checked only to be
objects: validating them deeply against a Kubernetes version is the API surface's job.

The records are frozen, slotted dataclasses; each field's JSON name and bounds are ``Annotated``
rules of :mod:`kubespark.records`, whose decoder checks a document against them as strictly as
the API server (unknown fields refused, no ``"2"`` where an integer is expected) and collects
every problem for :mod:`kubespark.spark.loading` to word. Why not pydantic: every ``submit``,
``validate`` and dry-run plan of an application reads this model, and pydantic cost each of those
processes about 70 ms before the first field was checked (its import, about 37 ms, and building
these 30-odd models' validators, about 32 ms) for a check the typed decoder does as well.

It must not know about Kubernetes servers, HTTP, or how the driver is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, TypeVar

from kubespark.records import Alias, Extras, Ge, Le, MaxLen, MinLen, Pattern, Tracked

__all__ = [
    "BatchSchedulerConfiguration",
    "Dependencies",
    "DriverIngressConfiguration",
    "DriverSpec",
    "DynamicAllocation",
    "ExecutorSpec",
    "GPUSpec",
    "KubeflowResource",
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

# RFC 1123: a DNS subdomain (object names) and a DNS label (namespaces).
SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

# Every record is @dataclass(frozen=True, slots=True, kw_only=True), spelled out on each class so
# type checkers see the dataclass: immutable, compact, and keyword-only (a subclass may make a
# field required after defaulted ones, as DriverIngressConfiguration does). Tracked: each remembers
# the fields its document set.


@dataclass(frozen=True, slots=True, kw_only=True)
class NamePath(Tracked):
    name: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NameKey(Tracked):
    name: str
    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretInfo(Tracked):
    name: str
    path: str
    # Required, and no enum: kubeflow's CRD (SecretInfo.Type has no omitempty, no Enum marker);
    # the driver builder acts on the types it knows and mounts any other as Generic.
    secret_type: Annotated[str, Alias("secretType")]


@dataclass(frozen=True, slots=True, kw_only=True)
class Port(Tracked):
    name: str
    protocol: str  # required by kubeflow's CRD (Port.Protocol has no omitempty)
    container_port: Annotated[int, Alias("containerPort"), Ge(1), Le(65535)]


@dataclass(frozen=True, slots=True, kw_only=True)
class GPUSpec(Tracked):
    name: str
    quantity: Annotated[int, Ge(0)]


@dataclass(frozen=True, slots=True, kw_only=True)
class _PodSpecFields(Tracked):
    """Fields shared by driver and executor (the operator's ``SparkPodSpec``)."""

    template: KubeObject | None = None
    cores: Annotated[int | None, Ge(1)] = None
    core_limit: Annotated[str | None, Alias("coreLimit")] = None
    core_request: Annotated[str | None, Alias("coreRequest")] = None
    memory: str | None = None
    memory_limit: Annotated[str | None, Alias("memoryLimit")] = None
    memory_overhead: Annotated[str | None, Alias("memoryOverhead")] = None
    gpu: GPUSpec | None = None
    image: str | None = None
    config_maps: Annotated[list[NamePath], Alias("configMaps")] = field(default_factory=list)
    secrets: list[SecretInfo] = field(default_factory=list)
    env: list[KubeObject] = field(default_factory=list)
    env_vars: Annotated[dict[str, str], Alias("envVars")] = field(default_factory=dict)
    env_from: Annotated[list[KubeObject], Alias("envFrom")] = field(default_factory=list)
    env_secret_key_refs: Annotated[dict[str, NameKey], Alias("envSecretKeyRefs")] = field(
        default_factory=dict
    )
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    volume_mounts: Annotated[list[KubeObject], Alias("volumeMounts")] = field(default_factory=list)
    affinity: KubeObject | None = None
    tolerations: list[KubeObject] = field(default_factory=list)
    pod_security_context: Annotated[KubeObject | None, Alias("podSecurityContext")] = None
    security_context: Annotated[KubeObject | None, Alias("securityContext")] = None
    scheduler_name: Annotated[str | None, Alias("schedulerName")] = None
    sidecars: list[KubeObject] = field(default_factory=list)
    init_containers: Annotated[list[KubeObject], Alias("initContainers")] = field(
        default_factory=list
    )
    host_network: Annotated[bool | None, Alias("hostNetwork")] = None
    node_selector: Annotated[dict[str, str], Alias("nodeSelector")] = field(default_factory=dict)
    dns_config: Annotated[KubeObject | None, Alias("dnsConfig")] = None
    termination_grace_period_seconds: Annotated[
        int | None, Alias("terminationGracePeriodSeconds"), Ge(0)
    ] = None
    service_account: Annotated[str | None, Alias("serviceAccount")] = None
    host_aliases: Annotated[list[KubeObject], Alias("hostAliases")] = field(default_factory=list)
    share_process_namespace: Annotated[bool | None, Alias("shareProcessNamespace")] = None
    java_options: Annotated[str | None, Alias("javaOptions")] = None
    lifecycle: KubeObject | None = None
    ports: list[Port] = field(default_factory=list)
    priority_class_name: Annotated[str | None, Alias("priorityClassName")] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverSpec(_PodSpecFields):
    pod_name: Annotated[str | None, Alias("podName"), MaxLen(253), Pattern(SUBDOMAIN)] = None
    kubernetes_master: Annotated[str | None, Alias("kubernetesMaster")] = None
    service_annotations: Annotated[dict[str, str], Alias("serviceAnnotations")] = field(
        default_factory=dict
    )
    service_labels: Annotated[dict[str, str], Alias("serviceLabels")] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutorSpec(_PodSpecFields):
    instances: Annotated[int | None, Ge(1)] = None
    delete_on_termination: Annotated[bool | None, Alias("deleteOnTermination")] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependencies(Tracked):
    jars: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    py_files: Annotated[list[str], Alias("pyFiles")] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    exclude_packages: Annotated[list[str], Alias("excludePackages")] = field(default_factory=list)
    repositories: list[str] = field(default_factory=list)
    archives: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartPolicy(Tracked):
    type: Literal["Never", "OnFailure", "Always"] = "Never"
    on_submission_failure_retries: Annotated[
        int | None, Alias("onSubmissionFailureRetries"), Ge(0)
    ] = None
    on_failure_retries: Annotated[int | None, Alias("onFailureRetries"), Ge(0)] = None
    on_submission_failure_retry_interval: Annotated[
        int | None, Alias("onSubmissionFailureRetryInterval"), Ge(1)
    ] = None
    on_failure_retry_interval: Annotated[int | None, Alias("onFailureRetryInterval"), Ge(1)] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchSchedulerConfiguration(Tracked):
    queue: str | None = None
    priority_class_name: Annotated[str | None, Alias("priorityClassName")] = None
    resources: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkUIConfiguration(Tracked):
    service_port: Annotated[int | None, Alias("servicePort"), Ge(1), Le(65535)] = None
    service_port_name: Annotated[str | None, Alias("servicePortName")] = None
    # No enum in kubeflow's CRD: the API server judges the Service type it is given.
    service_type: Annotated[str | None, Alias("serviceType")] = None
    service_annotations: Annotated[dict[str, str], Alias("serviceAnnotations")] = field(
        default_factory=dict
    )
    service_labels: Annotated[dict[str, str], Alias("serviceLabels")] = field(default_factory=dict)
    ingress_annotations: Annotated[dict[str, str], Alias("ingressAnnotations")] = field(
        default_factory=dict
    )
    ingress_tls: Annotated[list[KubeObject], Alias("ingressTLS")] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class DriverIngressConfiguration(SparkUIConfiguration):
    service_port: Annotated[int, Alias("servicePort"), Ge(1), Le(65535)]
    ingress_url_format: Annotated[str, Alias("ingressURLFormat")] = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PrometheusSpec(Tracked):
    jmx_exporter_jar: Annotated[str, Alias("jmxExporterJar")]
    port: Annotated[int | None, Ge(1024), Le(49151)] = None
    port_name: Annotated[str | None, Alias("portName")] = None
    config_file: Annotated[str | None, Alias("configFile")] = None
    configuration: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitoringSpec(Tracked):
    expose_driver_metrics: Annotated[bool, Alias("exposeDriverMetrics")] = False
    expose_executor_metrics: Annotated[bool, Alias("exposeExecutorMetrics")] = False
    metrics_properties: Annotated[str | None, Alias("metricsProperties")] = None
    metrics_properties_file: Annotated[str | None, Alias("metricsPropertiesFile")] = None
    prometheus: PrometheusSpec | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DynamicAllocation(Tracked):
    enabled: bool = False
    initial_executors: Annotated[int | None, Alias("initialExecutors"), Ge(0)] = None
    min_executors: Annotated[int | None, Alias("minExecutors"), Ge(0)] = None
    max_executors: Annotated[int | None, Alias("maxExecutors"), Ge(0)] = None
    shuffle_tracking_enabled: Annotated[bool | None, Alias("shuffleTrackingEnabled")] = None
    shuffle_tracking_timeout: Annotated[int | None, Alias("shuffleTrackingTimeout"), Ge(0)] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkApplicationSpec(Tracked):
    """``spec`` of a SparkApplication, and ``spec.template`` of a ScheduledSparkApplication."""

    type: Literal["Java", "Scala", "Python", "R"] = "Scala"
    spark_version: Annotated[str | None, Alias("sparkVersion")] = None
    mode: Literal["cluster", "client", "in-cluster-client"] = "cluster"
    proxy_user: Annotated[str | None, Alias("proxyUser")] = None
    image: str | None = None
    # No enum in kubeflow's CRD: the API server judges the pods' pull policy.
    image_pull_policy: Annotated[str | None, Alias("imagePullPolicy")] = None
    image_pull_secrets: Annotated[list[str], Alias("imagePullSecrets")] = field(
        default_factory=list
    )
    main_class: Annotated[str | None, Alias("mainClass")] = None
    main_application_file: Annotated[str | None, Alias("mainApplicationFile")] = None
    arguments: list[str] = field(default_factory=list)
    spark_conf: Annotated[dict[str, str], Alias("sparkConf")] = field(default_factory=dict)
    hadoop_conf: Annotated[dict[str, str], Alias("hadoopConf")] = field(default_factory=dict)
    spark_config_map: Annotated[str | None, Alias("sparkConfigMap")] = None
    hadoop_config_map: Annotated[str | None, Alias("hadoopConfigMap")] = None
    volumes: list[KubeObject] = field(default_factory=list)
    driver: DriverSpec = field(default_factory=DriverSpec)
    executor: ExecutorSpec = field(default_factory=ExecutorSpec)
    deps: Dependencies = field(default_factory=Dependencies)
    restart_policy: Annotated[RestartPolicy, Alias("restartPolicy")] = field(
        default_factory=RestartPolicy
    )
    node_selector: Annotated[dict[str, str], Alias("nodeSelector")] = field(default_factory=dict)
    failure_retries: Annotated[int | None, Alias("failureRetries"), Ge(0)] = None
    # No minimum in kubeflow's CRD: 0 retries at once.
    retry_interval: Annotated[int | None, Alias("retryInterval")] = None
    python_version: Annotated[Literal["2", "3"] | None, Alias("pythonVersion")] = None
    memory_overhead_factor: Annotated[str | None, Alias("memoryOverheadFactor")] = None
    monitoring: MonitoringSpec | None = None
    batch_scheduler: Annotated[str | None, Alias("batchScheduler")] = None
    # No minimum in kubeflow's CRD: 0 or less expires the application as soon as it ends.
    time_to_live_seconds: Annotated[int | None, Alias("timeToLiveSeconds")] = None
    batch_scheduler_options: Annotated[
        BatchSchedulerConfiguration | None, Alias("batchSchedulerOptions")
    ] = None
    spark_ui_options: Annotated[SparkUIConfiguration | None, Alias("sparkUIOptions")] = None
    driver_ingress_options: Annotated[
        list[DriverIngressConfiguration], Alias("driverIngressOptions")
    ] = field(default_factory=list)
    dynamic_allocation: Annotated[DynamicAllocation | None, Alias("dynamicAllocation")] = None
    suspend: bool | None = None
    driver_pod_disruption_budget: Annotated[bool | None, Alias("driverPodDisruptionBudget")] = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectMeta(Tracked):
    """The metadata kubespark reads; the rest of a stored object's metadata is kept, unread
    (``extra``: generateName, ownerReferences, resourceVersion...)."""

    name: Annotated[str, MinLen(1), MaxLen(253), Pattern(SUBDOMAIN)]
    namespace: Annotated[str, Pattern(LABEL)] = "default"
    uid: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    extra: Annotated[dict[str, Any], Extras()] = field(default_factory=dict)


SpecT = TypeVar("SpecT", bound=Tracked)


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeflowResource(Tracked, Generic[SpecT]):
    """One of kubeflow's custom resources as its operator reads it: the kinds narrow
    ``apiVersion`` and ``kind`` to their own and give the spec's type."""

    api_version: Annotated[str, Alias("apiVersion")]
    kind: str
    metadata: ObjectMeta
    spec: SpecT
    # Status is the controller's; a document read back from a cluster carries it, unread here.
    status: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SparkApplication(KubeflowResource[SparkApplicationSpec]):
    """A SparkApplication as the kubeflow operator reads it, defaults applied."""

    api_version: Annotated[Literal["sparkoperator.k8s.io/v1beta2"], Alias("apiVersion")]
    kind: Literal["SparkApplication"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledSparkApplicationSpec(Tracked):
    schedule: Annotated[str, MinLen(1)]
    time_zone: Annotated[str, Alias("timeZone")] = "Local"
    template: SparkApplicationSpec
    suspend: bool = False
    concurrency_policy: Annotated[
        Literal["Allow", "Forbid", "Replace"], Alias("concurrencyPolicy")
    ] = "Allow"
    successful_run_history_limit: Annotated[int, Alias("successfulRunHistoryLimit"), Ge(0)] = 1
    failed_run_history_limit: Annotated[int, Alias("failedRunHistoryLimit"), Ge(0)] = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledSparkApplication(KubeflowResource[ScheduledSparkApplicationSpec]):
    api_version: Annotated[Literal["sparkoperator.k8s.io/v1beta2"], Alias("apiVersion")]
    kind: Literal["ScheduledSparkApplication"]
