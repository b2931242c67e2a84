"""Where a client connects and how it authenticates, read from a kubeconfig.

Parsing and authentication (exec plugins, client certificates, bearer tokens and token files)
are lightkube's: a well-kept implementation of client-go's rules, rather than our own. This
module only adapts it to kubespark's errors and to an injectable httpx transport.
"""

from __future__ import annotations

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

DEFAULT_KUBECONFIG = "~/.kube/config"


@dataclass(frozen=True)
class Connection:
    """Everything httpx needs to reach one API server as one user."""

    server: str
    namespace: str
    context: str
    client_params: dict[str, Any]  # base_url, verify, auth for httpx.AsyncClient


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
    if single.user is None:
        single = single._replace(user=User())
    params = client_adapter.ConnectionParams(trust_env=False).httpx_params(single)
    for unused in ("transport", "proxy", "http2"):
        params.pop(unused, None)
    return Connection(
        server=single.cluster.server,
        namespace=single.namespace,
        context=single.context_name,
        client_params=params,
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
