"""How one operator process runs: what it watches, how it elects, how busy it may get.

Owns :class:`OperatorOptions` (frozen; every CLI flag of ``kubespark operator`` lands here) with
kubeflow's defaults where kubeflow has the same knob, and the checks that reject a bad
combination with one message naming the flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kubespark.errors import InputError

__all__ = ["OperatorOptions"]


@dataclass(frozen=True)
class OperatorOptions:
    """Settings of one ``kubespark operator`` process."""

    kubeconfig: Path | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()  # empty: every namespace
    namespace_selector: str | None = None  # label selector of the namespaces to watch
    # Leader election through kopf peering: one ClusterKopfPeering (or KopfPeering per
    # namespace) named so; the live replica with the highest priority is the active one.
    peering: str = "kubespark-operator"
    standalone: bool = False  # no peering: this process is always active
    priority: int | None = None  # None: a random one (replicas then elect by it)
    identity: str | None = None  # None: POD_ID, else user@host/time/random
    # Seconds a replica's peering record stays valid without a keep-alive (kopf's default 60
    # made a SIGKILLed leader's follower wait up to a minute). kopf renews it every lifetime
    # minus 5-10 s, so 15 s means a keep-alive PATCH every 5-10 s and a takeover within about
    # 15 s of a crash; a graceful stop removes the record at once. Peers compare ``lastseen``
    # with their own clocks: clock skew between nodes shifts the takeover by as much.
    peering_lifetime: int = 15
    workers: int = 32  # concurrent reconciles of SparkApplications
    scheduled_workers: int = 4
    metrics_port: int = 8080  # Prometheus /metrics and /healthz, /readyz; 0 disables
    metrics_host: str = "127.0.0.1"  # the Helm chart sets 0.0.0.0 so Prometheus reaches the pod
    metrics_prefix: str = ""
    metrics_labels: tuple[str, ...] = ("app_type",)
    log_json: bool = False
    log_level: str = "INFO"
    max_tracked_executors: int = 1000  # kubeflow's --max-tracked-executor-per-app
    driver_pod_creation_grace: float = 10.0  # kubeflow's --driver-pod-creation-grace-period
    resync_seconds: float = 30.0  # re-read live applications this often, events or not
    ui_service: bool = True  # kubeflow's --enable-ui-service
    ingress_url_format: str | None = None
    ingress_class_name: str | None = None
    kubernetes_version: str | None = None  # assume this server version instead of discovering
    openapi: bool = False  # read the server's /openapi/v2 for its capabilities
    request_retries: int = 6  # attempts per API request on 429/5xx/no connection
    # Client-side rate limit of kubespark's own API requests (kubeflow's --kube-api-qps and
    # --kube-api-burst; client-go's token bucket). 0: unlimited. kopf's few long-lived watch
    # streams and peering keep-alives go through kopf's own client and are not limited.
    kube_api_qps: float = 0.0
    kube_api_burst: int = 0
    extra_labels: dict[str, str] = field(default_factory=dict)
    # kubeflow's --default-batch-scheduler: for applications that name none (spec.batchScheduler)
    default_batch_scheduler: str | None = None
    # kubeflow's --default-time-to-live-seconds: for applications without spec.timeToLiveSeconds
    default_ttl_seconds: int | None = None
    # kubeflow's --enable-driver-pdb: a PDB over the driver of applications asking for one
    enable_driver_pdb: bool = False
    # kubeflow's --kube-scheduler-names: batchScheduler values that are kube-schedulers running
    # the coscheduling plugin (a scheduling.x-k8s.io PodGroup per application)
    kube_scheduler_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.namespaces and self.namespace_selector:
            raise InputError(
                "--namespace and --namespace-selector cannot be combined",
                where="--namespace-selector",
                fix="watch a list of namespaces, or the namespaces a label selector picks",
            )
        if self.workers < 1 or self.scheduled_workers < 1:
            raise InputError(
                "the number of workers must be at least 1",
                where="--workers",
                fix="give a positive number, e.g. --workers 32",
            )
        if not 0 <= self.metrics_port <= 65535:
            raise InputError(
                f"port {self.metrics_port} is out of range",
                where="--metrics-port",
                fix="give 1-65535, or 0 to serve no metrics",
            )
        if not 12 <= self.peering_lifetime <= 3600:
            raise InputError(
                f"--peering-lifetime {self.peering_lifetime} is out of range",
                where="--peering-lifetime",
                fix="give 12-3600 seconds (kopf renews a record 5-10 s before it lapses)",
            )
        if self.kube_api_qps < 0 or self.kube_api_burst < 0:
            raise InputError(
                "--kube-api-qps and --kube-api-burst must not be negative",
                where="--kube-api-qps",
                fix="give 0 (no limit) or a rate, e.g. --kube-api-qps 50 --kube-api-burst 100",
            )
        if self.request_retries < 1:
            raise InputError(
                "--request-retries must be at least 1",
                where="--request-retries",
                fix="give 1 (no retry) or more",
            )

    @property
    def clusterwide(self) -> bool:
        return not self.namespaces
