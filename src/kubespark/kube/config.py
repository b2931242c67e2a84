"""Where a client connects and how it authenticates, read from a kubeconfig.

Parsing, server verification and client certificates are lightkube's: a well-kept implementation
of client-go's rules, rather than our own. Bearer credentials (tokens, token files re-read, exec
plugins and auth providers renewed as they expire) are :mod:`kubespark.kube.credentials`', kept on
the :class:`Connection` so every client of one process (kopf's watches included) shares them.
This module only adapts both to kubespark's errors and to an injectable httpx transport.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from lightkube.config import client_adapter
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.config.models import User
from lightkube.core.exceptions import ConfigError

from kubespark.errors import InputError
from kubespark.kube.credentials import CredentialSource, RefreshingAuth

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
    path = kubeconfig_path(kubeconfig)
    where = str(path)
    try:
        single: SingleConfig | None = KubeConfig.from_file(path).get(context)
    except ConfigError as err:
        raise InputError(
            str(err), where=where, fix="pass --kubeconfig PATH and --context NAME of a cluster"
        ) from None
    except (KeyError, TypeError, AttributeError) as err:
        raise InputError(
            f"malformed kubeconfig: missing or wrong entry {err}",
            where=where,
            fix="check the file with `kubectl config view --kubeconfig PATH`",
        ) from None
    except OSError as err:
        raise InputError(f"cannot read the kubeconfig: {err.strerror}", where=where) from None
    assert single is not None  # get() without default raises instead of returning None
    return connection_of(single)


BEARER_FIELDS = ("token", "token_file", "exec", "auth_provider")


def connection_of(single: SingleConfig) -> Connection:
    """The connection of one selected kubeconfig context (a file's, or the service account's)."""
    user = single.user or User()
    source: CredentialSource | None = None
    if any(getattr(user, name) for name in BEARER_FIELDS):
        base = single.fname.parent if single.fname else None
        source = CredentialSource(user.to_dict(), base_dir=base)  # type: ignore[no-untyped-call]
        # lightkube keeps verification and client certificates; the bearer part is ours.
        user = dataclasses.replace(user, **dict.fromkeys(BEARER_FIELDS))
    params = client_adapter.ConnectionParams(trust_env=False).httpx_params(
        single._replace(user=user)
    )
    for unused in ("transport", "proxy", "http2"):
        params.pop(unused, None)
    if source is not None:
        params["auth"] = RefreshingAuth(source)
    return Connection(
        server=single.cluster.server,
        namespace=single.namespace,
        context=single.context_name,
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
