"""The bearer credentials a kubeconfig user gives, current at every ask, as client-go keeps them.

Owns turning a kubeconfig ``user`` into credentials that stay valid for a long-running process:
a static token; a token file, re-read (the kubelet rotates projected service-account tokens, so
client-go re-reads it every minute); an exec plugin (``client.authentication.k8s.io`` v1alpha1,
v1beta1 and v1: EKS's ``aws``, GKE's ``gke-gcloud-auth-plugin``, AKS's ``kubelogin``), re-run
when its ``expirationTimestamp`` nears or the server answers 401; and the legacy
``auth-provider`` entries (``oidc``'s id-token, ``gcp``/``azure``'s access-token with its expiry,
``gcp``'s ``cmd-path`` re-run when expired). :class:`RefreshingAuth` applies them to every httpx
request; the operator hands the same :class:`CredentialSource` to kopf's login handler with the
expiry, so kopf's watches renew too. It does not parse kubeconfig files
(:mod:`kubespark.kube.kubeconfig` does) and does not open connections.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import threading
from collections.abc import AsyncGenerator, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from kubespark.errors import InputError, refusing_os_errors
from kubespark.redaction import REDACTED, redact_text, remember_secret

__all__ = ["CredentialSource", "Credentials", "RefreshingAuth", "credential_source"]

EXEC_API_VERSIONS = (
    "client.authentication.k8s.io/v1alpha1",
    "client.authentication.k8s.io/v1beta1",
    "client.authentication.k8s.io/v1",
)
# Renew this long before the expiry a plugin or provider states (client-go renews on expiry;
# a margin keeps requests in flight from carrying a token that dies on the way).
RENEW_MARGIN = timedelta(seconds=10)
# A token file is trusted this long before it is read again (client-go: one minute).
TOKEN_FILE_PERIOD = timedelta(seconds=60)
EXEC_TIMEOUT = 60.0  # seconds an exec plugin may take


@dataclass(frozen=True, slots=True)
class Credentials:
    """What to present: a bearer token and/or a client certificate, and until when."""

    token: str | None = None
    expiration: datetime | None = None  # None: until the server answers 401
    client_certificate_data: bytes | None = None  # PEM, from an exec plugin
    client_key_data: bytes | None = None

    def fresh(self, now: datetime) -> bool:
        return self.expiration is None or now + RENEW_MARGIN < self.expiration


def _timestamp(value: object, where: str) -> datetime | None:
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"cannot read the expiry {value!r}",
            where=where,
            fix="the plugin or provider must give an RFC 3339 time, e.g. 2026-01-01T00:00:00Z",
        ) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


class CredentialSource:
    """The credentials of one kubeconfig user, renewed when they expire or are refused.

    Thread-safe (kopf's login handler and the client's auth may ask at once): one renewal at a
    time, and a renewal asked for a credential already replaced returns the replacement.
    """

    def __init__(self, user: Mapping[str, Any], *, base_dir: Path | None = None) -> None:
        self.user = dict(user)
        self.base_dir = base_dir or Path.cwd()
        self._current: Credentials | None = None
        self._read_at: datetime | None = None
        self._lock = threading.Lock()

    @property
    def renews(self) -> bool:
        """Whether asking again may give something new (else the first answer stands)."""
        return any(self.user.get(k) for k in ("tokenFile", "exec", "auth-provider"))

    def current(self, *, refused: Credentials | None = None) -> Credentials:
        """Valid credentials; ``refused``: the ones the server just answered 401 to."""
        with self._lock:
            now = datetime.now(UTC)
            held = self._current
            if held is not None and (refused is None or held != refused) and self._valid(now):
                return held
            self._current = self._obtain()
            self._read_at = now
            return self._current

    def expiring(self) -> bool:
        """Whether the credentials held are due for renewal (never reads or runs anything)."""
        with self._lock:
            return self._current is None or not self._valid(datetime.now(UTC))

    def _valid(self, now: datetime) -> bool:
        assert self._current is not None
        if self.user.get("tokenFile") and not self.user.get("exec"):
            return self._read_at is not None and now - self._read_at < TOKEN_FILE_PERIOD
        return self._current.fresh(now)

    def _obtain(self) -> Credentials:
        if self.user.get("exec"):
            return self._exec(self.user["exec"])
        if self.user.get("tokenFile"):
            return Credentials(token=self._token_file(str(self.user["tokenFile"])))
        if self.user.get("token"):
            return Credentials(token=str(self.user["token"]))
        if self.user.get("auth-provider"):
            return self._provider(self.user["auth-provider"])
        return Credentials()

    def _token_file(self, name: str) -> str:
        path = self.base_dir / Path(name).expanduser()
        with refusing_os_errors(
            "cannot read the token file",
            where=f"kubeconfig user tokenFile {path}",
            fix="mount the token file, or give the user a token or an exec plugin",
        ):
            token = path.read_text().strip()
        remember_secret(token)
        return token

    # ---- exec plugins (client.authentication.k8s.io) --------------------------------------
    def _exec(self, spec: Mapping[str, Any]) -> Credentials:
        where = "kubeconfig user exec"
        api_version = str(spec.get("apiVersion") or "")
        if api_version not in EXEC_API_VERSIONS:
            raise InputError(
                f"exec plugin apiVersion {api_version!r} is not one kubespark speaks",
                where=f"{where}.apiVersion",
                fix=f"use one of {', '.join(EXEC_API_VERSIONS)}",
            )
        command = str(spec.get("command") or "")
        if "/" in command and not Path(command).is_absolute():
            command = str(self.base_dir / command)  # client-go: relative to the kubeconfig
        env = dict(os.environ)
        env.update({str(e["name"]): str(e["value"]) for e in spec.get("env") or ()})
        info: dict[str, Any] = {"apiVersion": api_version, "kind": "ExecCredential"}
        info["spec"] = {"interactive": False}
        env["KUBERNETES_EXEC_INFO"] = json.dumps(info)
        argv = [command, *(str(a) for a in spec.get("args") or ())]
        output = self._run(argv, env, where, str(spec.get("installHint") or ""))
        try:
            status = json.loads(output)["status"]
        except (ValueError, KeyError, TypeError):
            raise InputError(
                f"the exec plugin {argv[0]} printed no ExecCredential status",
                where=where,
                fix="run the command yourself: it must print an ExecCredential JSON",
            ) from None
        cert, key = status.get("clientCertificateData"), status.get("clientKeyData")
        remember_secret(status.get("token"))
        remember_secret(key)
        return Credentials(
            token=status.get("token"),
            expiration=_timestamp(status.get("expirationTimestamp"), f"{where} status"),
            client_certificate_data=cert.encode() if cert else None,
            client_key_data=key.encode() if key else None,
        )

    @staticmethod
    def _run(argv: list[str], env: dict[str, str], where: str, hint: str) -> str:
        # Only the command's name is ever shown: its arguments may carry a secret.
        try:
            done = subprocess.run(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=EXEC_TIMEOUT,
                check=False,
            )
        except OSError as err:
            raise InputError(
                f"cannot run the credential command {argv[0]}: {err.strerror}",
                where=where,
                fix=hint or "install the plugin the kubeconfig names, or fix its path",
            ) from None
        except subprocess.TimeoutExpired:
            raise InputError(
                f"the credential command {argv[0]} did not finish in {EXEC_TIMEOUT:.0f} s",
                where=where,
                fix=hint or "run it yourself: it may be waiting for a login",
            ) from None
        if done.returncode != 0:
            said = plugin_said(done.stderr)
            raise InputError(
                f"exec: executable {argv[0]} failed with exit code {done.returncode}"
                + (f": {said}" if said else ""),
                where=where,
                fix=hint or "run it yourself to see why (expired login? missing permissions?)",
            )
        return done.stdout

    # ---- legacy auth providers -------------------------------------------------------------
    def _provider(self, provider: Mapping[str, Any]) -> Credentials:
        name = str(provider.get("name") or "")
        config = dict(provider.get("config") or {})
        where = f"kubeconfig user auth-provider {name}"
        if name == "oidc" and config.get("id-token"):
            return Credentials(token=str(config["id-token"]))
        if name in ("gcp", "azure"):
            expiry = _timestamp(config.get("expiry") or config.get("expires-on"), where)
            held = Credentials(token=config.get("access-token"), expiration=expiry)
            if held.token and held.fresh(datetime.now(UTC)):
                return held
            if name == "gcp" and config.get("cmd-path"):
                return self._gcp_command(config, where)
        raise InputError(
            f"the {name or 'unnamed'} auth-provider gives no current token",
            where=where,
            fix="use the provider's exec plugin (gke-gcloud-auth-plugin, kubelogin, "
            "aws eks get-token), or refresh the kubeconfig with kubectl first",
        )

    def _gcp_command(self, config: Mapping[str, Any], where: str) -> Credentials:
        argv = [str(config["cmd-path"]), *shlex.split(str(config.get("cmd-args") or ""))]
        try:
            output = json.loads(self._run(argv, dict(os.environ), where, ""))
        except ValueError:
            raise InputError(
                f"the gcp auth-provider command {argv[0]} printed no JSON",
                where=where,
                fix="run it yourself, or use gke-gcloud-auth-plugin",
            ) from None
        token = _json_path(output, str(config.get("token-key") or "{.access_token}"))
        remember_secret(str(token) if token else None)
        expiry = _json_path(output, str(config.get("expiry-key") or "{.token_expiry}"))
        return Credentials(token=str(token), expiration=_timestamp(expiry, where))


# A word that looks generated rather than written: long, from a token's alphabet, and either
# very long or mixing letters and digits ("gke-gcloud-auth-plugin" and "AADSTS700082" stay).
_RANDOM_WORD = re.compile(r"[A-Za-z0-9+/_=.~-]{16,}")
PLUGIN_LINE_LIMIT = 200  # characters of the plugin's first line an error shows


def _looks_random(word: str) -> bool:
    return len(word) >= 24 or (any(c.isdigit() for c in word) and any(c.isalpha() for c in word))


def plugin_said(stderr: str) -> str:
    """What of a failed credential plugin's stderr an error may show: its first line, at most
    200 characters, redacted by shape and by value, with generated-looking words replaced.

    kubectl hands the plugin its own terminal as stderr, so the user sees everything the plugin
    writes, secrets included. kubespark captures it (it must not interleave with ``-o json``, and
    the operator would log it), so it shows the one line that usually says why ("Unable to
    locate credentials", "AADSTS700082: The refresh token has expired") and nothing that reads
    like a credential, even one with no known shape. Later lines are never shown.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return ""
    first = redact_text(lines[0][:PLUGIN_LINE_LIMIT])
    return _RANDOM_WORD.sub(lambda m: REDACTED if _looks_random(m.group()) else m.group(), first)


def _json_path(doc: Any, path: str) -> Any:
    """kubectl's ``{.a.b}`` paths as the gcp provider's token-key and expiry-key use them."""
    for part in path.strip("{}").lstrip(".").split("."):
        doc = doc.get(part) if isinstance(doc, Mapping) else None
    return doc


def credential_source(user: Mapping[str, Any], *, base_dir: Path | None = None) -> CredentialSource:
    """The source of a kubeconfig user (as written in the file: ``tokenFile``, ``exec``...)."""
    return CredentialSource(user, base_dir=base_dir)


class RefreshingAuth(httpx.Auth):
    """httpx auth from a :class:`CredentialSource`: current token on every request, renewed and
    the request resent once when the server answers 401."""

    def __init__(self, source: CredentialSource) -> None:
        self.source = source
        self._held: Credentials | None = None  # what headers() handed out last

    def expiring(self) -> bool:
        """Whether the next request needs new credentials (no I/O: the client asks it often)."""
        return self.source.expiring()

    async def headers(self) -> dict[str, str]:
        """The headers for a request sent past httpx (the client's aiohttp exchange): the held
        credentials while fresh (no thread, no I/O), else the source's current ones."""
        if self._held is None or self.source.expiring():
            self._held = await asyncio.to_thread(self.source.current)
        return {"Authorization": f"Bearer {self._held.token}"} if self._held.token else {}

    async def renew(self) -> None:
        """After a 401: credentials other than the ones just refused (when the source can)."""
        if self.source.renews:
            self._held = await asyncio.to_thread(self.source.current, refused=self._held)

    @staticmethod
    def _apply(request: httpx.Request, credentials: Credentials) -> None:
        if credentials.token:
            request.headers["Authorization"] = f"Bearer {credentials.token}"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        used = self.source.current()
        self._apply(request, used)
        response = yield request
        if response.status_code == 401 and self.source.renews:
            self._apply(request, self.source.current(refused=used))
            yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # An exec plugin may take seconds: never on the event loop.
        used = await asyncio.to_thread(self.source.current)
        self._apply(request, used)
        response = yield request
        if response.status_code == 401 and self.source.renews:
            renewed = await asyncio.to_thread(self.source.current, refused=used)
            self._apply(request, renewed)
            yield request
