"""Where the operator connects, for its own client and for kopf's.

Owns choosing the credentials: ``--kubeconfig``/``--context`` (or $KUBECONFIG, ~/.kube/config)
when a kubeconfig exists, else the pod's service account (in-cluster). The same choice feeds
kubespark's :class:`KubeClient` (through ``kubespark.kube.kubeconfig``, as everywhere) and
kopf's login handler (a :class:`kopf.ConnectionInfo` with the same server, CA and user), so the
two never talk to different clusters. Bearer credentials come from one
:class:`~kubespark.kube.credentials.CredentialSource` for both: exec plugins (EKS, GKE, AKS),
auth providers and token files reach kopf's watches too, with their expiry, so kopf logs in
again before a token dies (and after a 401, when the source is asked for a new one). Also owns
the namespace label selectors ``--namespace-selector`` takes, matched client-side as kubeflow's
NamespaceMatcher does.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kopf

from kubespark.errors import InputError
from kubespark.kube.client import KubeClient, RetryPolicy
from kubespark.kube.config import Connection, connection_of, kubeconfig_path
from kubespark.kube.credentials import (
    RENEW_MARGIN,
    TOKEN_FILE_PERIOD,
    Credentials,
    CredentialSource,
)
from kubespark.kube.kubeconfig import (
    SERVICE_ACCOUNT,
    KubeContext,
    read_kubeconfig,
    service_account,
)
from kubespark.kube.ratelimit import RequestBudget

__all__ = ["connection_for", "kopf_login", "label_selector_matcher"]

TIMEOUT = 60.0  # seconds: connect, and between bytes of an answer


def _in_cluster(kubeconfig: Path | None) -> bool:
    return (
        kubeconfig is None
        and not kubeconfig_path().exists()
        and (SERVICE_ACCOUNT / "token").exists()
    )


def _context(kubeconfig: Path | None, context: str | None) -> KubeContext:
    if _in_cluster(kubeconfig):
        return service_account()
    return read_kubeconfig(kubeconfig_path(kubeconfig), context)


def connection_for(kubeconfig: Path | None, context: str | None) -> Connection:
    """The operator's connection: the kubeconfig's, or the service account's in a pod."""
    return connection_of(_context(kubeconfig, context))


def client_for(
    connection: Connection,
    retries: int,
    *,
    connections: int = 64,
    budget: RequestBudget | None = None,
) -> KubeClient:
    """The operator's client: patient with throttling and restarts, with as many keep-alive
    connections (:mod:`kubespark.kube.transport`) as its workers use at once, and the client-side
    rate limit (``budget``) that also counts its requests by verb."""
    policy = RetryPolicy(attempts=retries, base_delay=0.1, max_delay=5.0)
    return KubeClient.from_connection(
        connection, retry=policy, timeout=TIMEOUT, connections=connections, budget=budget
    )


def kopf_login(
    kubeconfig: Path | None, context: str | None, connection: Connection
) -> Callable[..., Any]:
    """A kopf login handler giving kopf the same server and user as the operator's client.

    kopf calls it at start, when the expiry it was given passes, and after a 401 (having
    dropped what it held); every call after the first therefore asks the connection's
    credential source for credentials other than the ones handed out last.
    """
    found = _context(kubeconfig, context)
    source = connection.credentials
    given: list[Credentials] = []

    async def login(**_: Any) -> kopf.ConnectionInfo:
        cluster, user = found.cluster, found.user
        held = Credentials()
        if source is not None:
            refused = given[-1] if given else None
            held = await asyncio.to_thread(source.current, refused=refused)
            given[:] = [held]
        return kopf.ConnectionInfo(
            server=cluster.server,
            ca_path=_path(cluster.ca_file),
            ca_data=cluster.ca_data,
            insecure=cluster.insecure or None,
            username=user.username,
            password=user.password,
            token=held.token,
            certificate_path=_path(user.client_cert),
            certificate_data=held.client_certificate_data or user.client_cert_data,
            private_key_path=_path(user.client_key),
            private_key_data=held.client_key_data or user.client_key_data,
            default_namespace=found.namespace,
            expiration=_expiry(source, held),
            priority=100,
        )

    return login


def _expiry(source: CredentialSource | None, held: Credentials) -> datetime | None:
    """When kopf must log in again: the credentials' own expiry (less the renewal margin), or,
    for a token file, the period after which client-go re-reads it."""
    if held.expiration is not None:
        return held.expiration - RENEW_MARGIN
    if source is not None and source.user.get("tokenFile") and not source.user.get("exec"):
        return datetime.now(UTC) + TOKEN_FILE_PERIOD
    return None


def _path(value: Path | None) -> str | None:
    return str(value) if value else None


# ---- namespace label selectors ----------------------------------------------------------------

_TERM = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9_.-]*)"
    r"|\s+(?P<set>in|notin)\s*\((?P<values>[^)]*)\))?\s*$"
)


def _split_terms(selector: str) -> list[str]:
    terms, depth, current = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    return [t for t in [*terms, current] if t.strip()]


def label_selector_matcher(selector: str) -> Callable[[Mapping[str, str]], bool]:
    """A predicate for a Kubernetes label selector (=, ==, !=, in, notin, exists, !exists)."""
    checks: list[Callable[[Mapping[str, str]], bool]] = []
    for term in _split_terms(selector):
        match = _TERM.match(term)
        if match is None or (match["neg"] and (match["op"] or match["set"])):
            raise InputError(
                f"cannot read the label selector term {term.strip()!r}",
                where="--namespace-selector",
                fix="write terms such as team=spark, env!=dev, tier in (a,b), !legacy",
            )
        checks.append(_check(match))
    return lambda labels: all(check(labels) for check in checks)


def _check(match: re.Match[str]) -> Callable[[Mapping[str, str]], bool]:
    key = match["key"]
    if match["neg"]:
        return lambda labels: key not in labels
    if match["op"] in ("=", "=="):
        value = match["value"]
        return lambda labels: labels.get(key) == value
    if match["op"] == "!=":
        value = match["value"]
        return lambda labels: labels.get(key) != value
    if match["set"]:
        values = {v.strip() for v in match["values"].split(",")}
        if match["set"] == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    return lambda labels: key in labels
