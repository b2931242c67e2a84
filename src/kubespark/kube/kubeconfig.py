"""Reading a kubeconfig (or a pod's service account) into a server, its TLS and its credentials.

Owns client-go's rules that kubespark's users rely on, and only those: the current or named
context; a cluster's ``server``, ``certificate-authority``/``-data`` and
``insecure-skip-tls-verify``; a user's ``token``, ``tokenFile``, ``client-certificate``/``-key``
(files or ``-data``), ``username``/``password``; relative paths taken from the kubeconfig's
directory; the in-cluster service account. Bearer credentials (tokens, token files, ``exec``
plugins, ``auth-provider`` entries) are kept as the file wrote them and handed to
:mod:`kubespark.kube.credentials`, which renews them for every client of a process.

It sends no request and merges no multi-file ``$KUBECONFIG`` (the first file counts, as the CLI
documents).
"""

from __future__ import annotations

import base64
import contextlib
import os
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from kubespark import bounded
from kubespark.errors import InputError, refusing_os_errors
from kubespark.kube.credentials import CredentialSource, RefreshingAuth
from kubespark.privatefiles import write_private
from kubespark.redaction import is_secret_key, redact_text, redact_url, remember_secret

__all__ = [
    "SERVICE_ACCOUNT",
    "Cluster",
    "KubeContext",
    "User",
    "auth_for",
    "credential_source",
    "read_kubeconfig",
    "service_account",
    "tls_for",
]

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_FIX = "pass --kubeconfig PATH and --context NAME of a cluster"
BEARER_KEYS = ("token", "tokenFile", "exec", "auth-provider")


@dataclass(frozen=True)
class Cluster:
    """Where the server is and how to trust it."""

    server: str
    ca_file: Path | None = None
    ca_data: bytes | None = None  # PEM, decoded from certificate-authority-data
    insecure: bool = False


@dataclass(frozen=True)
class User:
    """How the user proves who they are; every field optional, as in a kubeconfig."""

    token: str | None = None
    token_file: Path | None = None
    username: str | None = None
    password: str | None = None
    client_cert: Path | None = None
    client_cert_data: bytes | None = None  # PEM
    client_key: Path | None = None
    client_key_data: bytes | None = None  # PEM
    # The bearer part as written (token, tokenFile, exec, auth-provider), for the credential
    # source, and the directory its relative paths start from.
    bearer: Mapping[str, Any] = field(default_factory=dict)
    base_dir: Path | None = None


@dataclass(frozen=True)
class KubeContext:
    """One context: a cluster, a user and the default namespace."""

    name: str
    cluster: Cluster
    user: User = field(default_factory=User)
    namespace: str = "default"


def read_kubeconfig(path: Path, context: str | None = None) -> KubeContext:
    """The named (else current) context of the kubeconfig at ``path``; an InputError naming
    the file and the missing or wrong entry otherwise."""
    where = str(path)
    doc = _read_mapping(path)
    name = context or doc.get("current-context")
    if not name:
        raise InputError("the kubeconfig has no current-context", where=where, fix=_FIX)
    ctx = _named(doc, "contexts", "context", str(name), where)
    cluster = _named(doc, "clusters", "cluster", str(ctx.get("cluster")), where)
    user = _named(doc, "users", "user", str(ctx["user"]), where) if ctx.get("user") else {}
    _remember_user_secrets(user, _entry_names(doc))
    base = path.parent
    return KubeContext(
        name=str(name),
        cluster=_cluster(cluster, base, where),
        user=_user(user, base, where),
        namespace=str(ctx.get("namespace") or "default"),
    )


def _read_mapping(path: Path) -> dict[str, Any]:
    """The file's one mapping, read bounded; a syntax error says where, never what (a kubeconfig
    holds secrets, and PyYAML's message quotes the offending line)."""
    with refusing_os_errors("cannot read the kubeconfig", where=str(path)):
        text = bounded.read_text(path)
    try:
        documents = [doc for doc, _ in bounded.load_all(text, str(path))]
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
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


def service_account(
    root: Path = SERVICE_ACCOUNT, env: Mapping[str, str] = os.environ
) -> KubeContext:
    """The pod's own identity: its service-account token (re-read: it is rotated) and CA."""
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise InputError(
            "not in a pod: KUBERNETES_SERVICE_HOST/PORT are not set",
            where="in-cluster configuration",
            fix=_FIX,
        )
    host = f"[{host}]" if ":" in host else host  # an IPv6 service address
    namespace = root / "namespace"
    return KubeContext(
        name="in-cluster",
        cluster=Cluster(f"https://{host}:{port}", ca_file=root / "ca.crt"),
        user=User(
            token_file=root / "token", bearer={"tokenFile": str(root / "token")}, base_dir=root
        ),
        namespace=namespace.read_text().strip() if namespace.exists() else "default",
    )


def _entry_names(doc: Mapping[str, Any]) -> set[str]:
    """The names of the kubeconfig's clusters, users and contexts: shown openly everywhere."""
    names: set[str] = set()
    for section in ("clusters", "users", "contexts"):
        entries = doc.get(section)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("name"):
                names.add(str(entry["name"]))
    return names


def _remember_user_secrets(raw: Mapping[str, Any], names: set[str]) -> None:
    """Register the user's credentials for redaction by value (``kubespark.redaction``).

    A value the kubeconfig also uses as a name (the emulator's user and token are both
    ``kubespark-emulator``) is in the open already; registering it would only blank the name.
    """
    found: list[str | bytes] = []
    for key in ("token", "password", "client-key-data"):
        if raw.get(key):
            found.append(str(raw[key]))
    if raw.get("username") and raw.get("password"):
        found.append(f"{raw['username']}:{raw['password']}")  # basic auth, base64'd on the wire
    key_data = raw.get("client-key-data")
    if key_data:
        with contextlib.suppress(ValueError):  # refused with its own message when read
            found.append(base64.b64decode(str(key_data), validate=True))
    exec_spec = raw.get("exec")
    for env in exec_spec.get("env") or () if isinstance(exec_spec, Mapping) else ():
        if isinstance(env, Mapping) and is_secret_key(str(env.get("name") or "")):
            found.append(str(env.get("value") or ""))
    provider = raw.get("auth-provider")
    config = provider.get("config") if isinstance(provider, Mapping) else None
    for key, value in config.items() if isinstance(config, Mapping) else ():
        if is_secret_key(str(key)) and value:
            found.append(str(value))
    for value in found:
        if (value.decode(errors="replace") if isinstance(value, bytes) else value) not in names:
            remember_secret(value)


def _named(doc: Mapping[str, Any], section: str, key: str, name: str, where: str) -> Any:
    entries = doc.get(section)
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get(key)
            return value if isinstance(value, dict) else {}
    raise InputError(
        f"the kubeconfig has no {section[:-1]} named {name!r}",
        where=where,
        fix=f"`kubectl config get-{section} --kubeconfig {where}` lists them; {_FIX}",
    )


def _path(value: object, base: Path) -> Path | None:
    return base / Path(str(value)).expanduser() if value else None


def _data(value: object, where: str, what: str) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except ValueError:
        raise InputError(f"{what} is not base64", where=where, fix=_FIX) from None


def _cluster(raw: Mapping[str, Any], base: Path, where: str) -> Cluster:
    server = raw.get("server")
    if not server:
        raise InputError("the context's cluster has no server", where=where, fix=_FIX)
    _refuse_unusable_server(str(server), where)
    return Cluster(
        server=str(server).rstrip("/"),
        ca_file=_path(raw.get("certificate-authority"), base),
        ca_data=_data(raw.get("certificate-authority-data"), where, "certificate-authority-data"),
        insecure=bool(raw.get("insecure-skip-tls-verify")),
    )


def _refuse_unusable_server(server: str, where: str) -> None:
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"the cluster server {redact_url(server)!r} is not an http(s) URL with a host",
            where=where,
            fix="give the API server's URL, e.g. https://10.0.0.1:6443",
        )
    # client-go would send it as basic auth beside the user's own credentials; the URL is printed
    # in banners and errors. One place for credentials: the user entry.
    if "@" in parts.netloc:
        raise InputError(
            f"the cluster server URL {redact_url(server)} carries credentials (user:password@)",
            where=where,
            fix="put them in the user entry (username/password, token or client certificate) "
            "and give the server URL without them",
        )


def _user(raw: Mapping[str, Any], base: Path, where: str) -> User:
    return User(
        token=str(raw["token"]) if raw.get("token") else None,
        token_file=_path(raw.get("tokenFile"), base),
        username=raw.get("username"),
        password=raw.get("password"),
        client_cert=_path(raw.get("client-certificate"), base),
        client_cert_data=_data(raw.get("client-certificate-data"), where, "client-certificate"),
        client_key=_path(raw.get("client-key"), base),
        client_key_data=_data(raw.get("client-key-data"), where, "client-key-data"),
        bearer={key: raw[key] for key in BEARER_KEYS if raw.get(key)},
        base_dir=base,
    )


# ---- TLS ----------------------------------------------------------------------------------------


def tls_for(context: KubeContext) -> ssl.SSLContext:
    """What to verify the server with, and the client certificate to present.

    A plain ``http://`` server gets a context that trusts no certificate: an https redirect
    from it fails closed. httpx's default (True) would load certifi's bundle, ~17 ms of every
    command against a local server, for a TLS handshake that never happens.
    """
    cluster, user = context.cluster, context.user
    if not cluster.server.startswith("https://"):
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    tls = ssl.create_default_context()
    if cluster.insecure:
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    if cluster.ca_file is not None:
        tls.load_verify_locations(cafile=str(cluster.ca_file))
    if cluster.ca_data is not None:
        tls.load_verify_locations(cadata=cluster.ca_data.decode())
    try:
        _client_certificate(tls, user)
    except (ssl.SSLError, OSError):
        raise InputError(
            f"context {context.name}: the user's client certificate or key cannot be loaded "
            "(missing, not PEM, or they do not match)",
            where="kubeconfig user client-certificate / client-key",
            fix="check client-certificate(-data) and client-key(-data) of the kubeconfig's user",
        ) from None
    return tls


def _client_certificate(tls: ssl.SSLContext, user: User) -> None:
    if user.client_cert is None and user.client_cert_data is None:
        return
    # ssl loads a certificate chain only from files: data goes through a private temp directory.
    with tempfile.TemporaryDirectory() as tmp:
        cert = user.client_cert or _written(Path(tmp) / "cert.pem", user.client_cert_data)
        key = user.client_key or _written(Path(tmp) / "key.pem", user.client_key_data)
        tls.load_cert_chain(str(cert), str(key) if key else None)


def _written(path: Path, data: bytes | None) -> Path | None:
    if data is None:
        return None
    write_private(path, data)  # a private key: 0600 from the start, even in a private dir
    return path


# ---- credentials ---------------------------------------------------------------------------------


def credential_source(user: User) -> CredentialSource | None:
    """The renewing source of the user's bearer credentials (None: certificates, basic or none)."""
    return CredentialSource(user.bearer, base_dir=user.base_dir) if user.bearer else None


def auth_for(user: User, source: CredentialSource | None) -> httpx.Auth | None:
    """The user's credentials as an httpx auth flow (None: a certificate or nothing)."""
    if source is not None:
        return RefreshingAuth(source)
    if user.username is not None and user.password is not None:
        return httpx.BasicAuth(user.username, user.password)
    return None
