"""Where a client connects and how it authenticates: a kubeconfig context as httpx parameters.

Reading the kubeconfig is ``kubespark.kube.kubeconfig``'s, renewing bearer credentials
``kubespark.kube.credentials``'; this module picks the file (the flag, ``$KUBECONFIG``,
``~/.kube/config``) and turns a context into what an httpx client with an injectable transport
needs, keeping the credential source on the :class:`Connection` so every client of one process
(kopf's watches included) shares it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kubespark.kube.credentials import CredentialSource
from kubespark.kube.kubeconfig import (
    KubeContext,
    auth_for,
    credential_source,
    read_kubeconfig,
    tls_for,
)

DEFAULT_KUBECONFIG = "~/.kube/config"


@dataclass(frozen=True)
class Connection:
    """Everything httpx needs to reach one API server as one user."""

    server: str
    namespace: str
    context: str
    client_params: dict[str, Any]  # base_url, verify, auth for httpx.AsyncClient
    credentials: CredentialSource | None = None  # the bearer credentials behind the auth


def kubeconfig_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The kubeconfig meant: the flag, else $KUBECONFIG's first entry, else ~/.kube/config."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("KUBECONFIG", "")
    first = next((p for p in env.split(os.pathsep) if p), None)
    return Path(first or DEFAULT_KUBECONFIG).expanduser()


def load_connection(
    kubeconfig: str | os.PathLike[str] | None = None, context: str | None = None
) -> Connection:
    """Read a kubeconfig and pick a context; bad files and names become one clear InputError."""
    return connection_of(read_kubeconfig(kubeconfig_path(kubeconfig), context))


def connection_of(context: KubeContext) -> Connection:
    """A context's server, TLS and credentials as httpx client parameters."""
    params: dict[str, Any] = {
        "base_url": context.cluster.server,
        "verify": tls_for(context),
        "trust_env": False,  # the kubeconfig says where the server is: no proxy from the env
    }
    source = credential_source(context.user)
    auth = auth_for(context.user, source)
    if auth is not None:
        params["auth"] = auth
    return Connection(
        server=context.cluster.server,
        namespace=context.namespace,
        context=context.name,
        client_params=params,
        credentials=source,
    )


def http_client(
    connection: Connection,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
) -> httpx.AsyncClient:
    """An httpx client for a connection; tests pass a transport to reach an emulator in-process."""
    params = dict(connection.client_params)
    params["timeout"] = httpx.Timeout(timeout)
    if transport is not None:
        params["transport"] = transport
    return httpx.AsyncClient(**params)
