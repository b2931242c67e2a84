"""Installing the operator's CRDs on a server, through the compat planner.

Owns ``install_crds``: the shipped CRDs (``operator/data/crds``) planned for the server's
capabilities (create, or replace what exists, with every adaptation explained in notes), written,
then waited on until the server reports them Established. apiextensions.k8s.io/v1 is served by
every Kubernetes kubespark supports (1.16+), so no v1beta1 copy is needed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from kubespark.apisurface import ApiSurface
from kubespark.compat import Intent, Plan, execute_plan, plan_writes
from kubespark.kube.client import KubeClient
from kubespark.kube.errors import NotFound
from kubespark.kube.requests import KubeRequest
from kubespark.operator.crds import shipped_crds, with_validation_rules

__all__ = ["InstallResult", "install_crds", "plan_crds"]


@dataclass(frozen=True)
class InstallResult:
    plan: Plan
    established: tuple[str, ...]
    pending: tuple[str, ...]


def plan_crds(surface: ApiSurface, *, peering: bool = True) -> Plan:
    """The writes that install the CRDs on a server of ``surface``.

    Where the server evaluates CRD validation rules, kubeflow's webhook refusals go in as CEL.
    """
    docs = shipped_crds(peering=peering)
    if surface.behaviours.crd_validation_rules:
        expressions = _knows_message_expressions(surface)
        docs = [with_validation_rules(d, message_expressions=expressions) for d in docs]
    return plan_writes(
        docs,
        surface,
        Intent.CREATE_OR_REPLACE,
        field_manager="kubespark",
    )


def _knows_message_expressions(surface: ApiSurface) -> bool:
    """Whether the server's ``ValidationRule`` has ``messageExpression`` (its schema says)."""
    rule = surface.types.get(
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.ValidationRule"
    )
    return rule is not None and "messageExpression" in rule.properties


async def install_crds(
    client: KubeClient, capabilities: ApiSurface, *, peering: bool = True, wait: float = 30.0
) -> InstallResult:
    """Write the CRDs and wait (at most ``wait`` seconds) until each is Established."""
    plan = plan_crds(capabilities, peering=peering)
    await execute_plan(client, plan)
    names = [w.object.name for w in plan.writes]
    deadline = time.monotonic() + wait
    pending = list(names)
    while pending and time.monotonic() < deadline:
        pending = [n for n in pending if not await _established(client, n)]
        if pending:
            await asyncio.sleep(0.1)
    done = tuple(n for n in names if n not in pending)
    return InstallResult(plan, done, tuple(pending))


async def _established(client: KubeClient, name: str) -> bool:
    path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
    try:
        crd: Any = await client.send(KubeRequest("GET", path))
    except NotFound:
        return False
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)
