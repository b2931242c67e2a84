"""Where a client connects and how it authenticates, read from a kubeconfig.

Parsing and authentication (exec plugins, client certificates, bearer tokens and token files)
are lightkube's: a well-kept implementation of client-go's rules, rather than our own. This
module only adapts it to kubespark's errors and to an injectable httpx transport.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from lightkube.config import client_adapter
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.config.models import User
from lightkube.core.exceptions import ConfigError

from kubespark import bounded
from kubespark.errors import InputError
from kubespark.redaction import redact_text, redact_url

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
        single: SingleConfig | None = KubeConfig.from_dict(_read_kubeconfig(path), fname=path).get(
            context
        )
    except ConfigError as err:
        raise InputError(
            redact_text(str(err)),
            where=where,
            fix="pass --kubeconfig PATH and --context NAME of a cluster",
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
    _refuse_userinfo(single.cluster.server, where)
    if single.user is None:
        single = single._replace(user=User())
    params = _httpx_params(single, where)
    for unused in ("transport", "proxy", "http2"):
        params.pop(unused, None)
    return Connection(
        server=single.cluster.server,
        namespace=single.namespace,
        context=single.context_name,
        client_params=params,
    )


def _read_kubeconfig(path: Path) -> dict[str, Any]:
    """The file's mapping, bounded; a syntax error says where, never what (it holds secrets)."""
    if not path.is_file():
        raise ConfigError(f"Configuration file {path} not found")
    text = bounded.read_text(path)
    try:
        documents = [d for d, _ in bounded.load_all(text, str(path))]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        # PyYAML's str() quotes the offending line, which may be a token: only its problem shows.
        problem = redact_text(str(getattr(err, "problem", None) or type(err).__name__))
        raise InputError(
            f"the kubeconfig is not valid YAML: {problem}",
            where=f"{path}{line}",
            fix="check the file with `kubectl config view --kubeconfig PATH`",
        ) from None
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise InputError(
            "the kubeconfig is not one YAML mapping",
            where=str(path),
            fix="give a kubeconfig (apiVersion: v1, kind: Config)",
        )
    return documents[0]


def _httpx_params(single: SingleConfig, where: str) -> dict[str, Any]:
    """lightkube's client parameters; what it cannot use becomes an InputError, redacted."""
    try:
        params: dict[str, Any] = client_adapter.ConnectionParams(trust_env=False).httpx_params(
            single
        )
    except ssl.SSLError:
        raise InputError(
            f"context {single.context_name}: the user's client certificate or key cannot be "
            "loaded (not PEM, or they do not match)",
            where=where,
            fix="check client-certificate(-data) and client-key(-data) of the kubeconfig's user",
        ) from None
    except (ConfigError, ValueError, OSError) as err:
        raise InputError(
            f"context {single.context_name}: {redact_text(str(err))}",
            where=where,
            fix="check the kubeconfig's user and cluster entries (kubectl config view)",
        ) from None
    return params


def _refuse_userinfo(server: str, where: str) -> None:
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"the cluster server {redact_url(server)!r} is not an http(s) URL with a host",
            where=where,
            fix="give the API server's URL, e.g. https://10.0.0.1:6443",
        )
    # client-go would send it as basic auth beside the user's own credentials; the HTTP clients
    # refuse the mix, and the URL is printed in banners and errors. One place for credentials.
    if "@" in urlsplit(server).netloc:
        raise InputError(
            f"the cluster server URL {redact_url(server)} carries credentials (user:password@)",
            where=where,
            fix="put them in the user entry (username/password, token or client certificate) "
            "and give the server URL without them",
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
