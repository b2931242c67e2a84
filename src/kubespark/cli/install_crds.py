"""``kubespark install-crds``: install the SparkApplication, ScheduledSparkApplication and kopf
peering CRDs on the kubeconfig's cluster, through the compat planner.

Prints the planned writes with their notes (``--dry-run`` stops there), writes them, and waits
until the server reports each CRD Established. ``-o yaml`` prints the CRDs instead.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from kubespark.cli.flags import (
    AssumedKubeVersionFlag,
    DryRunFlag,
    InClusterContextFlag,
    InClusterKubeconfigFlag,
)
from kubespark.cli.output import EXIT_FINDING, stdout
from kubespark.compat import offline_capabilities
from kubespark.kube.client import KubeClient
from kubespark.operator.connect import connection_for
from kubespark.operator.crds import render_crds, shipped_crds
from kubespark.operator.install import install_crds as install
from kubespark.operator.install import plan_crds
from kubespark.submit import server_capabilities


def install_crds(
    kubeconfig: InClusterKubeconfigFlag = None,
    context: InClusterContextFlag = None,
    dry_run: DryRunFlag = False,
    peering: Annotated[
        bool, typer.Option(help="Also install kopf's peering CRDs (leader election).")
    ] = True,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="yaml: print the CRDs and exit.")
    ] = None,
    kubernetes_version: AssumedKubeVersionFlag = None,
) -> None:
    """Install the operator's CRDs (apiextensions.k8s.io/v1) on any Kubernetes 1.16+."""
    out = stdout()
    if output == "yaml":
        out.print(render_crds(shipped_crds(peering=peering)), end="", highlight=False, markup=False)
        return
    if dry_run and kubernetes_version:
        out.print(
            plan_crds(offline_capabilities(kubernetes_version), peering=peering).render(),
            highlight=False,
        )
        return
    asyncio.run(_install(kubeconfig, context, dry_run, peering, kubernetes_version))


async def _install(
    kubeconfig: Path | None, context: str | None, dry_run: bool, peering: bool, version: str | None
) -> None:
    out = stdout()
    # In a pod without a kubeconfig (the chart's pre-upgrade hook): the service account.
    async with KubeClient.from_connection(
        connection_for(kubeconfig, context), pooled=False
    ) as client:
        capabilities = (
            offline_capabilities(version) if version else await server_capabilities(client)
        )
        plan = plan_crds(capabilities, peering=peering)
        out.print(plan.render(), highlight=False, markup=False)
        if dry_run:
            return
        result = await install(client, capabilities, peering=peering)
    for name in result.established:
        out.print(f"established {name}", highlight=False)
    if result.pending:
        out.print(f"not yet established: {', '.join(result.pending)}", highlight=False)
        raise typer.Exit(EXIT_FINDING)
