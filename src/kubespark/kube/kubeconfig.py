"""Reading a kubeconfig (or a pod's service account) into a server, its TLS and its credentials.

Owns client-go's rules that kubespark's users rely on, and only those: the current or named
context; a cluster's ``server``, ``certificate-authority``/``-data`` and
``insecure-skip-tls-verify``; a user's ``token``, ``tokenFile``, ``client-certificate``/``-key``
(files or ``-data``), ``username``/``password`` and ``exec`` credential plugins
(``client.authentication.k8s.io``, token answers); relative paths taken from the kubeconfig's
directory; the in-cluster service account. The credentials (:class:`Credentials`) give the
headers a request carries and renew them after a 401 (a token file is read again, an exec
plugin run again); they are httpx auth flows too, for the requests httpx sends.

It sends no request and merges no multi-file ``$KUBECONFIG`` (the first file counts, as the CLI
documents). Auth-provider plugins (``gcp``, ``azure``, ``oidc``) are refused with the fix: they
left client-go in 1.26 for exec plugins.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import tempfile
from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from kubespark.errors import InputError

__all__ = [
    "SERVICE_ACCOUNT",
    "Cluster",
    "Credentials",
    "ExecPlugin",
    "KubeContext",
    "User",
    "auth_for",
    "read_kubeconfig",
    "service_account",
    "tls_for",
]

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
_FIX = "pass --kubeconfig PATH and --context NAME of a cluster"


@dataclass(frozen=True)
class Cluster:
    """Where the server is and how to trust it."""

    server: str
    ca_file: Path | None = None
    ca_data: bytes | None = None  # PEM, decoded from certificate-authority-data
    insecure: bool = False


@dataclass(frozen=True)
class ExecPlugin:
    """A ``users[].user.exec`` credential plugin (``aws eks get-token``, ``gke-gcloud-...``)."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = "client.authentication.k8s.io/v1"
    workdir: Path | None = None  # a relative command is found from the kubeconfig's directory


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
    exec: ExecPlugin | None = None


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
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as err:
        raise InputError(f"cannot read the kubeconfig: {err.strerror}", where=where) from None
    except yaml.YAMLError as err:
        raise InputError(f"the kubeconfig is not YAML: {err}", where=where, fix=_FIX) from None
    if not isinstance(doc, dict):
        raise InputError("malformed kubeconfig: not a mapping", where=where, fix=_FIX)
    name = context or doc.get("current-context")
    if not name:
        raise InputError("the kubeconfig has no current-context", where=where, fix=_FIX)
    ctx = _named(doc, "contexts", "context", str(name), where)
    cluster = _named(doc, "clusters", "cluster", str(ctx.get("cluster")), where)
    user = _named(doc, "users", "user", str(ctx["user"]), where) if ctx.get("user") else {}
    base = path.parent
    return KubeContext(
        name=str(name),
        cluster=_cluster(cluster, base, where),
        user=_user(user, base, where),
        namespace=str(ctx.get("namespace") or "default"),
    )


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
        user=User(token_file=root / "token"),
        namespace=namespace.read_text().strip() if namespace.exists() else "default",
    )


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
    return Cluster(
        server=str(server).rstrip("/"),
        ca_file=_path(raw.get("certificate-authority"), base),
        ca_data=_data(raw.get("certificate-authority-data"), where, "certificate-authority-data"),
        insecure=bool(raw.get("insecure-skip-tls-verify")),
    )


def _user(raw: Mapping[str, Any], base: Path, where: str) -> User:
    if raw.get("auth-provider"):
        raise InputError(
            f"auth-provider {raw['auth-provider'].get('name')!r} is not supported",
            where=where,
            fix="use the provider's exec credential plugin (client-go dropped auth-providers "
            "in 1.26), e.g. gke-gcloud-auth-plugin or kubelogin",
        )
    plugin = raw.get("exec")
    return User(
        token=str(raw["token"]) if raw.get("token") else None,
        token_file=_path(raw.get("tokenFile"), base),
        username=raw.get("username"),
        password=raw.get("password"),
        client_cert=_path(raw.get("client-certificate"), base),
        client_cert_data=_data(raw.get("client-certificate-data"), where, "client-certificate"),
        client_key=_path(raw.get("client-key"), base),
        client_key_data=_data(raw.get("client-key-data"), where, "client-key-data"),
        exec=_exec(plugin, base) if isinstance(plugin, dict) else None,
    )


def _exec(raw: Mapping[str, Any], base: Path) -> ExecPlugin:
    env = tuple((str(e["name"]), str(e["value"])) for e in raw.get("env") or [])
    return ExecPlugin(
        command=str(raw.get("command") or ""),
        args=tuple(str(a) for a in raw.get("args") or []),
        env=env,
        api_version=str(raw.get("apiVersion") or ExecPlugin.api_version),
        workdir=base,
    )


# ---- TLS ----------------------------------------------------------------------------------------


def tls_for(context: KubeContext) -> ssl.SSLContext | bool:
    """What to verify the server with, and the client certificate to present; False: insecure.

    A plain ``http://`` server needs none (True: httpx's default for any https redirect).
    """
    cluster, user = context.cluster, context.user
    if not cluster.server.startswith("https://"):
        return True
    tls = ssl.create_default_context()
    if cluster.insecure:
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    if cluster.ca_file is not None:
        tls.load_verify_locations(cafile=str(cluster.ca_file))
    if cluster.ca_data is not None:
        tls.load_verify_locations(cadata=cluster.ca_data.decode())
    _client_certificate(tls, user)
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
    path.write_bytes(data)
    return path


# ---- credentials ---------------------------------------------------------------------------------


def auth_for(user: User) -> Credentials | None:
    """The user's credentials (None: a client certificate or nothing)."""
    if user.exec is not None:
        return ExecAuth(user.exec)
    if user.token_file is not None:
        return TokenFileAuth(user.token_file)
    if user.token:
        return StaticHeaders({"Authorization": f"Bearer {user.token}"})
    if user.username is not None and user.password is not None:
        pair = base64.b64encode(f"{user.username}:{user.password}".encode()).decode()
        return StaticHeaders({"Authorization": f"Basic {pair}"})
    return None


class Credentials(httpx.Auth):
    """Headers that prove who the user is, renewed when the server answers 401.

    The client asks :meth:`headers` for every request it sends itself and calls :meth:`renew`
    once after a 401; the same object is httpx's auth flow for the requests httpx sends.
    """

    async def headers(self) -> dict[str, str]:
        raise NotImplementedError

    async def renew(self) -> None:
        """Drop what is held so the next :meth:`headers` reads or runs the source again."""

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers.update(await self.headers())
        response = yield request
        if response.status_code == 401:
            await self.renew()
            request.headers.update(await self.headers())
            yield request


class StaticHeaders(Credentials):
    """A token or a user name and password from the kubeconfig: nothing to renew."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)

    async def headers(self) -> dict[str, str]:
        return dict(self._headers)


class TokenFileAuth(Credentials):
    """A bearer token from a file, read again after a 401 (projected tokens are rotated)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._token: str | None = None

    async def headers(self) -> dict[str, str]:
        if self._token is None:
            try:
                self._token = self._path.read_text().strip()
            except OSError as err:
                raise InputError(
                    f"cannot read the token file: {err.strerror}", where=str(self._path), fix=_FIX
                ) from None
        return {"Authorization": f"Bearer {self._token}"}

    async def renew(self) -> None:
        self._token = None


class ExecAuth(Credentials):
    """An exec credential plugin's token, kept until it expires or the server answers 401."""

    def __init__(self, plugin: ExecPlugin) -> None:
        self._plugin = plugin
        self._token: str | None = None
        self._expires: datetime | None = None

    async def headers(self) -> dict[str, str]:
        fresh = self._expires is None or self._expires > datetime.now(UTC)
        if self._token is None or not fresh:
            await self._run()
        return {"Authorization": f"Bearer {self._token}"}

    async def renew(self) -> None:
        self._token = None

    async def _run(self) -> None:
        plugin = self._plugin
        info = {"apiVersion": plugin.api_version, "kind": "ExecCredential", "spec": {}}
        env = {**os.environ, **dict(plugin.env), "KUBERNETES_EXEC_INFO": json.dumps(info)}
        command = plugin.command
        if plugin.workdir is not None and ("/" in command and not Path(command).is_absolute()):
            command = str(plugin.workdir / command)  # client-go: relative to the kubeconfig
        try:
            proc = await asyncio.create_subprocess_exec(
                command,
                *plugin.args,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as err:
            raise InputError(
                f"cannot run the exec credential plugin: {err.strerror}",
                where=f"users[].user.exec.command {plugin.command!r}",
                fix="install it or put it on PATH",
            ) from None
        out, err_out = await proc.communicate()
        self._token, self._expires = _exec_answer(plugin, proc.returncode, out, err_out)


def _exec_answer(
    plugin: ExecPlugin, code: int | None, out: bytes, err: bytes
) -> tuple[str, datetime | None]:
    where = f"users[].user.exec.command {plugin.command!r}"
    if code != 0:
        detail = err.decode(errors="replace").strip()[-500:]
        raise InputError(f"the exec credential plugin failed ({code}): {detail}", where=where)
    try:
        status = json.loads(out)["status"]
        token = str(status["token"])
    except (ValueError, KeyError, TypeError):
        raise InputError(
            "the exec credential plugin did not answer an ExecCredential with status.token",
            where=where,
            fix="kubespark takes token credentials; certificate answers are not supported",
        ) from None
    stamp = status.get("expirationTimestamp")
    expires = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")) if stamp else None
    return token, expires
