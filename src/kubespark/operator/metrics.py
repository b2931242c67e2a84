"""The operator's Prometheus metrics, named and counted as kubeflow's spark-operator v2 does.

Owns the metric families of ``internal/metrics`` (``spark_application_count``,
``spark_application_submit_count``, ``spark_application_failed_submission_count``,
``spark_application_running_count``, ``spark_application_success_count``,
``spark_application_failure_count``, the success/failure execution time summaries, the submit
and start latency summaries and histograms, and the executor counts), the rules that move them
(state changes of applications and executor pods, as kubeflow's event handlers do), a few
kubespark-only operator gauges, and the text exposition.

kubeflow's Go client exposes counters under their declared names; prometheus-client would add
``_total``. :meth:`OperatorMetrics.render` writes the Prometheus text format itself so dashboards
built for kubeflow work unchanged. State lives in one registry per instance: no global state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from kubespark.kube.ratelimit import RequestBudget
from kubespark.operator.states import AppState
from kubespark.operator.status import parse_time
from kubespark.submit.driverstate import ExecutorState, executor_state

__all__ = ["DEFAULT_START_BUCKETS", "DEFAULT_SUBMIT_BUCKETS", "OperatorMetrics"]

# The chart defaults of kubeflow v2 (values.yaml prometheus.metrics.job*LatencyBuckets).
DEFAULT_SUBMIT_BUCKETS = (0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256)
DEFAULT_START_BUCKETS = (30, 60, 90, 120, 150, 180, 210, 240, 270, 300)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Obj = Mapping[str, Any]


M = TypeVar("M", bound=MetricWrapperBase)


def metric_name(prefix: str, name: str) -> str:
    """``util.CreateValidMetricNameLabel``: prefix + name with ``-`` made ``_``."""
    return (prefix + name).replace("-", "_")


class OperatorMetrics:
    """Every metric of one operator, in its own registry."""

    def __init__(
        self,
        *,
        prefix: str = "",
        labels: Sequence[str] = ("app_type",),
        submit_buckets: Sequence[float] = DEFAULT_SUBMIT_BUCKETS,
        start_buckets: Sequence[float] = DEFAULT_START_BUCKETS,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.labels = tuple(metric_name("", label) for label in labels)
        r, lb = self.registry, self.labels

        def made(kind: type[M], n: str, text: str, **extra: Any) -> M:
            """One of kubeflow's metrics: its name under ``prefix``, labelled per application."""
            return kind(metric_name(prefix, n), text, lb, registry=r, **extra)

        self.count = made(Counter, "spark_application_count", "Total number of SparkApplication")
        self.submit_count = made(
            Counter, "spark_application_submit_count", "Total number of submitted SparkApplication"
        )
        self.failed_submission_count = made(
            Counter,
            "spark_application_failed_submission_count",
            "Total number of failed SparkApplication submission",
        )
        self.running_count = made(
            Gauge, "spark_application_running_count", "Total number of running SparkApplication"
        )
        self.success_count = made(
            Counter,
            "spark_application_success_count",
            "Total number of successful SparkApplication",
        )
        self.failure_count = made(
            Counter, "spark_application_failure_count", "Total number of failed SparkApplication"
        )
        self.success_time = made(Summary, "spark_application_success_execution_time_seconds", "")
        self.failure_time = made(Summary, "spark_application_failure_execution_time_seconds", "")
        self.submit_latency = made(
            Summary,
            "spark_application_submit_latency_seconds",
            "Spark App Submit Latency from creation to submitted state",
        )
        self.submit_latency_histogram = made(
            Histogram,
            "spark_application_submit_latency_seconds_histogram",
            "Spark App Submit Latency counts in buckets from creation to submitted state",
            buckets=tuple(submit_buckets),
        )
        self.start_latency = made(
            Summary,
            "spark_application_start_latency_seconds",
            "Spark App Start Latency via the Operator",
        )
        self.start_latency_histogram = made(
            Histogram,
            "spark_application_start_latency_seconds_histogram",
            "Spark App Start Latency counts in buckets via the Operator",
            buckets=tuple(start_buckets),
        )
        self.executor_running = made(
            Gauge, "spark_executor_running_count", "Total number of running Spark executors"
        )
        self.executor_success = made(
            Counter, "spark_executor_success_count", "Total number of successful Spark executors"
        )
        self.executor_failure = made(
            Counter, "spark_executor_failure_count", "Total number of failed Spark executors"
        )
        # kubespark's own: how busy the controller is.
        self.queue_depth = Gauge(
            "kubespark_operator_queue_depth",
            "Keys waiting in the work queues",
            ["controller"],
            registry=r,
        )
        self.reconciles = Counter(
            "kubespark_operator_reconcile_count",
            "Reconciliations by controller and result",
            ["controller", "result"],
            registry=r,
        )
        self.leader = Gauge(
            "kubespark_operator_leader", "1 while this replica is the active one", registry=r
        )
        self.applications = Gauge(
            "kubespark_operator_applications",
            "SparkApplications this replica knows, by state (NEW: no state yet)",
            ["state"],
            registry=r,
        )
        self.oldest_in_state = Gauge(
            "kubespark_operator_oldest_in_state_seconds",
            "Seconds the longest-waiting application has been in each state",
            ["state"],
            registry=r,
        )
        self._states_seen: set[str] = set()
        # Parsed times by their text: the gauges walk every application each second, and
        # with 10,000 of them parsing each time was a tenth of the operator's CPU.
        self._times: dict[str, datetime | None] = {}
        # The client side of the API: requests sent by verb, and the rate limit's effect.
        self.api_requests = Counter(
            "kubespark_operator_api_request_count",
            "API requests sent by the operator's client, by HTTP verb (WATCH for streams) and "
            "resource (pods/status for a subresource)",
            ["verb", "resource"],
            registry=r,
        )
        self.api_throttled = Counter(
            "kubespark_operator_api_throttled_count",
            "API requests that waited for the client-side rate limit (--kube-api-qps/burst)",
            registry=r,
        )
        self.api_throttled_seconds = Counter(
            "kubespark_operator_api_throttled_seconds",
            "Seconds API requests spent waiting for the client-side rate limit",
            registry=r,
        )

    def observe_states(self, apps: Iterable[Obj], now: datetime) -> None:
        """Applications per state and how long the oldest has waited in it.

        The wait is since the last submission attempt while SUBMITTED (the driver not yet
        running), else since creation for the states before it (new, PENDING_RERUN): what the
        "stuck" alerts of deploy/monitoring watch.
        """
        counts: dict[str, int] = {}
        earliest: dict[str, datetime] = {}
        for app in apps:
            status = app.get("status") or {}
            state = str((status.get("applicationState") or {}).get("state") or "NEW")
            counts[state] = counts.get(state, 0) + 1
            since = status.get("lastSubmissionAttemptTime") if state == "SUBMITTED" else None
            started = self._time(since or (app.get("metadata") or {}).get("creationTimestamp"))
            if started is not None and (state not in earliest or started < earliest[state]):
                earliest[state] = started
        oldest = {s: max(0.0, (now - t).total_seconds()) for s, t in earliest.items()}
        for state in set(counts) | self._states_seen:
            self.applications.labels(state).set(counts.get(state, 0))
            self.oldest_in_state.labels(state).set(oldest.get(state, 0.0))
        self._states_seen |= set(counts)

    def _time(self, text: object) -> datetime | None:
        """``parse_time``, remembered by text (bounded: forgotten all at once when large)."""
        if not isinstance(text, str):
            return None
        if text not in self._times:
            if len(self._times) >= 100_000:
                self._times.clear()
            self._times[text] = parse_time(text)
        return self._times[text]

    def observe_requests(self, budget: RequestBudget, exported: RequestBudget) -> None:
        """Move the client's request accounting into the counters (``exported``: what they
        already hold, updated here)."""
        for key, count in list(budget.by_resource.items()):
            if count > exported.by_resource[key]:
                self.api_requests.labels(*key).inc(count - exported.by_resource[key])
                exported.by_resource[key] = count
        if budget.throttled > exported.throttled:
            self.api_throttled.inc(budget.throttled - exported.throttled)
            self.api_throttled_seconds.inc(budget.waited_seconds - exported.waited_seconds)
            exported.throttled, exported.waited_seconds = budget.throttled, budget.waited_seconds

    # -- label values ----------------------------------------------------------------------------

    def _label_values(self, obj: Obj) -> dict[str, str]:
        meta = obj.get("metadata") or {}
        given = {metric_name("", str(k)): str(v) for k, v in (meta.get("labels") or {}).items()}
        out = {}
        for label in self.labels:
            if label in given:
                out[label] = given[label]
            elif label == "namespace":
                out[label] = str(meta.get("namespace") or "")
            else:
                out[label] = "Unknown"
        return out

    # -- applications ----------------------------------------------------------------------------

    def app_created(self, app: Obj, now: datetime) -> None:
        """``HandleSparkApplicationCreate``: count an application seen for the first time."""
        self._count_arrival(_state(app), self._label_values(app))

    def app_updated(self, old: Obj, new: Obj, now: datetime) -> None:
        """``HandleSparkApplicationUpdate``: move the counts on a change of state."""
        before, after = _state(old), _state(new)
        if before is after:
            return
        labels = self._label_values(new)
        if before is AppState.RUNNING:
            self.running_count.labels(**self._label_values(old)).dec()
        self._count_arrival(after, labels)
        if after is AppState.SUBMITTED:
            if _status(new).get("submissionAttempts") == 1:
                self._observe_since_creation(
                    new, now, self.submit_latency, self.submit_latency_histogram
                )
        elif after is AppState.RUNNING:
            if _status(new).get("executionAttempts") == 1:
                self._observe_since_creation(
                    new, now, self.start_latency, self.start_latency_histogram
                )
        elif after is AppState.COMPLETED:
            self._observe_execution(new, self.success_time)
        elif after is AppState.FAILED:
            self._observe_execution(new, self.failure_time)

    def _count_arrival(self, state: AppState, labels: dict[str, str]) -> None:
        """One more application in ``state``, in the metric kubeflow keeps for it (if any)."""
        arrivals: dict[AppState, Counter | Gauge] = {
            AppState.NEW: self.count,
            AppState.SUBMITTED: self.submit_count,
            AppState.SUBMISSION_FAILED: self.failed_submission_count,
            AppState.RUNNING: self.running_count,
            AppState.FAILED: self.failure_count,
            AppState.COMPLETED: self.success_count,
        }
        metric = arrivals.get(state)
        if metric is not None:
            metric.labels(**labels).inc()

    def app_deleted(self, app: Obj) -> None:
        if _state(app) is AppState.RUNNING:
            self.running_count.labels(**self._label_values(app)).dec()

    def _observe_since_creation(
        self, app: Obj, now: datetime, summary: Summary, histogram: Histogram
    ) -> None:
        created = parse_time((app.get("metadata") or {}).get("creationTimestamp"))
        if created is None:
            return
        latency = max(0.0, (now - created).total_seconds())
        labels = self._label_values(app)
        summary.labels(**labels).observe(latency)
        histogram.labels(**labels).observe(latency)

    def _observe_execution(self, app: Obj, summary: Summary) -> None:
        status = _status(app)
        start = parse_time(status.get("lastSubmissionAttemptTime"))
        end = parse_time(status.get("terminationTime"))
        if start is not None and end is not None:
            summary.labels(**self._label_values(app)).observe((end - start).total_seconds())

    # -- executors ---------------------------------------------------------------------------------

    def executor_seen(self, old: Obj | None, new: Obj | None) -> None:
        """``HandleSparkExecutorCreate/Update/Delete`` for one pod event (None: absent)."""
        if new is None:
            if old is not None and executor_state(old) is ExecutorState.RUNNING:
                self.executor_running.labels(**self._label_values(old)).dec()
            return
        after = executor_state(new)
        labels = self._label_values(new)
        if old is None:
            if after is ExecutorState.RUNNING:
                self.executor_running.labels(**labels).inc()
            return
        before = executor_state(old)
        if before is after:
            return
        if before is ExecutorState.RUNNING:
            self.executor_running.labels(**self._label_values(old)).dec()
        if after is ExecutorState.RUNNING:
            self.executor_running.labels(**labels).inc()
        elif after is ExecutorState.COMPLETED:
            self.executor_success.labels(**labels).inc()
        elif after is ExecutorState.FAILED:
            self.executor_failure.labels(**labels).inc()

    # -- exposition --------------------------------------------------------------------------------

    def render(self) -> bytes:
        """The Prometheus text format (0.0.4) with kubeflow's counter names (no ``_total``)."""
        lines: list[str] = []
        for family in self.registry.collect():
            kind = "untyped" if family.type == "unknown" else family.type
            lines.append(f"# HELP {family.name} {_escape_help(family.documentation)}")
            lines.append(f"# TYPE {family.name} {kind}")
            lines.extend(
                _sample_line(family.name, family.type, s)
                for s in family.samples
                if _wanted(family.name, s)
            )
        return ("\n".join(lines) + "\n").encode()


def _wanted(name: str, sample: Sample) -> bool:
    # OpenMetrics' _created samples are not part of the Prometheus text format kubeflow serves.
    return not sample.name.endswith("_created")


def _sample_line(name: str, kind: str, sample: Sample) -> str:
    sample_name = name if kind == "counter" and sample.name == name + "_total" else sample.name
    labels = ",".join(f'{k}="{_escape_value(v)}"' for k, v in sorted(sample.labels.items()))
    value = str(floatToGoString(sample.value))  # type: ignore[no-untyped-call]
    return f"{sample_name}{{{labels}}} {value}" if labels else f"{sample_name} {value}"


def _escape_help(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _status(app: Obj) -> Mapping[str, Any]:
    status = app.get("status")
    return status if isinstance(status, Mapping) else {}


def _state(app: Obj) -> AppState:
    return AppState.parse((_status(app).get("applicationState") or {}).get("state"))


def parse_exposition(text: str) -> dict[str, float]:
    """``name{labels}`` -> value for every sample line (for tests and the demo)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def iter_names(text: str) -> Iterable[str]:
    """The metric family names a rendered exposition declares."""
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            yield line.split()[2]
