"""``kubespark operator``: run the SparkApplication / ScheduledSparkApplication operator.

Parses flags into :class:`~kubespark.operator.options.OperatorOptions` and runs
:func:`~kubespark.operator.runtime.run_operator` until SIGTERM or Ctrl+C (graceful shutdown);
with ``--ui-listen`` it serves the dashboard (:mod:`kubespark.ui`) from the same process.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from kubespark.cli.flags import (
    AssumedKubeVersionFlag,
    InClusterContextFlag,
    InClusterKubeconfigFlag,
    WatchedNamespacesFlag,
)
from kubespark.operator.options import OperatorOptions
from kubespark.operator.runtime import configure_logging, run_operator
from kubespark.submit.submitted_apps import connect
from kubespark.ui import UIOptions, UIServer, parse_listen

# The flags' defaults are the options' own: one place says what the operator does unasked.
_DEFAULT = OperatorOptions()


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def operator(
    kubeconfig: InClusterKubeconfigFlag = None,
    context: InClusterContextFlag = None,
    namespace: WatchedNamespacesFlag = None,
    namespace_selector: Annotated[
        str | None, typer.Option(help="Watch the namespaces this label selector picks.")
    ] = None,
    peering: Annotated[
        str, typer.Option(help="kopf peering object for leader election among replicas.")
    ] = _DEFAULT.peering,
    standalone: Annotated[
        bool, typer.Option(help="No leader election: this process is always active.")
    ] = _DEFAULT.standalone,
    priority: Annotated[
        int | None,
        typer.Option(help="Peering priority (default: random; the highest live one leads)."),
    ] = None,
    peering_lifetime: Annotated[
        int,
        typer.Option(help="Seconds a silent replica stays leader (a crash's takeover delay)."),
    ] = _DEFAULT.peering_lifetime,
    workers: Annotated[
        int, typer.Option(help="Concurrent SparkApplication reconciles.")
    ] = _DEFAULT.workers,
    metrics_port: Annotated[
        int, typer.Option(help="Port of /metrics, /healthz and /readyz (0: none).")
    ] = _DEFAULT.metrics_port,
    metrics_host: Annotated[
        str, typer.Option(help="Address /metrics listens on.")
    ] = _DEFAULT.metrics_host,
    metrics_prefix: Annotated[
        str, typer.Option(help="Prefix of every kubeflow metric name.")
    ] = _DEFAULT.metrics_prefix,
    metrics_labels: Annotated[
        str, typer.Option(help="Application labels to add to the metrics, comma-separated.")
    ] = ",".join(_DEFAULT.metrics_labels),
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Structured JSON logs.")
    ] = _DEFAULT.log_json,
    log_level: Annotated[
        str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")
    ] = _DEFAULT.log_level,
    ui_listen: Annotated[
        str | None,
        typer.Option(help="Also serve `kubespark ui` on HOST:PORT (default: no dashboard)."),
    ] = None,
    ui_allow_actions: Annotated[
        bool,
        typer.Option(help="With --ui-listen: offer the dashboard's actions (delete, suspend...)."),
    ] = False,
    kubernetes_version: AssumedKubeVersionFlag = None,
    ui_service: Annotated[
        bool, typer.Option(help="Create the web UI Service per application.")
    ] = _DEFAULT.ui_service,
    ingress_url_format: Annotated[
        str | None, typer.Option(help="Web UI Ingress URL format, e.g. {{$appName}}.example.com.")
    ] = None,
    ingress_class_name: Annotated[
        str | None, typer.Option(help="IngressClass of the UI Ingresses.")
    ] = None,
    max_tracked_executors: Annotated[
        int, typer.Option(help="Executors per application tracked in status.executorState.")
    ] = _DEFAULT.max_tracked_executors,
    driver_pod_creation_grace: Annotated[
        float, typer.Option(help="Seconds a missing driver pod is waited for after submission.")
    ] = _DEFAULT.driver_pod_creation_grace,
    kube_api_qps: Annotated[
        float, typer.Option(help="API requests per second, sustained (0: no limit).")
    ] = _DEFAULT.kube_api_qps,
    kube_api_burst: Annotated[
        int, typer.Option(help="API requests at once above the QPS (the bucket's size).")
    ] = _DEFAULT.kube_api_burst,
    request_retries: Annotated[
        int, typer.Option(help="Attempts per API request on 429/5xx/connection errors.")
    ] = _DEFAULT.request_retries,
    default_batch_scheduler: Annotated[
        str | None,
        typer.Option(help="Batch scheduler of applications that set none (kubeflow's flag)."),
    ] = None,
    default_time_to_live_seconds: Annotated[
        int | None,
        typer.Option(help="timeToLiveSeconds of applications that set none (kubeflow's flag)."),
    ] = None,
    enable_driver_pdb: Annotated[
        bool,
        typer.Option(help="PodDisruptionBudget over drivers asking for one (kubeflow's flag)."),
    ] = _DEFAULT.enable_driver_pdb,
    kube_scheduler_names: Annotated[
        str,
        typer.Option(help="Coscheduling kube-scheduler names, comma-separated (kubeflow's flag)."),
    ] = ",".join(_DEFAULT.kube_scheduler_names),
) -> None:
    """Run the operator for SparkApplications and ScheduledSparkApplications (kubeflow's CRDs)."""
    options = OperatorOptions(
        kubeconfig=kubeconfig,
        context=context,
        namespaces=tuple(namespace or ()),
        namespace_selector=namespace_selector,
        peering=peering,
        standalone=standalone,
        priority=priority,
        peering_lifetime=peering_lifetime,
        workers=workers,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        metrics_prefix=metrics_prefix,
        metrics_labels=_comma_list(metrics_labels),
        log_json=log_json,
        log_level=log_level,
        kubernetes_version=kubernetes_version,
        ui_service=ui_service,
        ingress_url_format=ingress_url_format,
        ingress_class_name=ingress_class_name,
        max_tracked_executors=max_tracked_executors,
        driver_pod_creation_grace=driver_pod_creation_grace,
        request_retries=request_retries,
        kube_api_qps=kube_api_qps,
        kube_api_burst=kube_api_burst,
        default_batch_scheduler=default_batch_scheduler,
        default_ttl_seconds=default_time_to_live_seconds,
        enable_driver_pdb=enable_driver_pdb,
        kube_scheduler_names=_comma_list(kube_scheduler_names),
    )
    configure_logging(options)
    if ui_listen is None:
        asyncio.run(run_operator(options))
        return
    host, port = parse_listen(ui_listen)
    ui = UIOptions(host, port, ui_allow_actions, namespaces=options.namespaces)
    asyncio.run(_with_dashboard(options, ui))


async def _with_dashboard(options: OperatorOptions, ui: UIOptions) -> None:
    """The operator and the dashboard in one process (the dashboard with its own client)."""
    kubeconfig = str(options.kubeconfig) if options.kubeconfig else None
    async with connect(kubeconfig, options.context) as client:
        server = UIServer(client, ui)
        server.bind()  # a taken port fails the start, before the operator runs
        dashboard = asyncio.create_task(server.serve(_announce))
        try:
            await run_operator(options)
        finally:
            await server.stop()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(10):
                    await dashboard
            dashboard.cancel()


def _announce(url: str) -> None:
    typer.echo(f"kubespark ui: {url}")
