"""Running a proxy: options, listening, routing each request, the kubeconfig clients use.

Owns a :class:`Proxy`'s lifetime: reading the upstream's kubeconfig context, listening on one
address (HTTPS with a given or self-signed pair, or plain HTTP on a loopback address), the first
read of the upstream's capabilities, routing (server-side applies to the rewriter, upgrades to
the upstream's upgrade, everything else forwarded as it is), the kubeconfig it writes for
clients, and stopping (open watches and upgraded connections included). Use
:func:`run_proxy` (``async with``) or :class:`ProxyThread` for synchronous callers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import ipaddress
import logging
import re
import secrets
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from kubespark import bounded
from kubespark.errors import InputError, refusing_os_errors
from kubespark.kube.config import Connection, load_connection
from kubespark.privatefiles import write_private
from kubespark.proxy.applies import RewriteAs, is_apply
from kubespark.proxy.capabilities import Capabilities
from kubespark.proxy.guard import (
    DEFAULT_ACCEPT_HOSTS,
    DEFAULT_REJECT_PATHS,
    Guard,
    Limits,
    unauthorised,
)
from kubespark.proxy.messages import ClientRequest, ProxyResponse, status_response
from kubespark.proxy.rewrite import ApplyRewriter
from kubespark.proxy.tls import ServingPair, self_signed_pair, server_context
from kubespark.proxy.upstream import Upstream
from kubespark.proxy.wire import Upgraded, serve_connection
from kubespark.redaction import remember_secret
from kubespark.serving import ServerThread, started

__all__ = ["Proxy", "ProxyOptions", "ProxyThread", "parse_listen", "run_proxy"]

log = logging.getLogger("kubespark.proxy")

DEFAULT_LISTEN = "127.0.0.1:8443"
MAX_BODY = 64 * 1024 * 1024


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:8443``, ``[::1]:8443`` or ``:8443`` (loopback) as host and port."""
    host, sep, port_text = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
        ipaddress.ip_address(host)
    except ValueError:
        port = -1
    if not sep or not 0 <= port <= 65535:
        raise InputError(
            f"{text!r} is not an address to listen on",
            where="--listen",
            fix="give IP:PORT, e.g. 127.0.0.1:8443 (port 0: any free port)",
        )
    return host, port


@dataclass(frozen=True)
class ProxyOptions:
    """How to run one proxy."""

    upstream_kubeconfig: Path | None = None  # None: $KUBECONFIG, else ~/.kube/config
    context: str | None = None
    listen: str = DEFAULT_LISTEN
    tls: bool = True  # False: plain HTTP, allowed on loopback addresses only
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None  # the CA of tls_cert, for the client kubeconfig
    tls_dir: Path | None = None  # where a self-signed pair is written (default: a temp dir)
    tls_names: tuple[str, ...] = ()  # extra names for the self-signed certificate
    kubeconfig_out: Path | None = None
    max_body: int = MAX_BODY
    recheck_seconds: float = 30.0
    rewrite_as: RewriteAs = RewriteAs.APPLY
    accept_hosts: tuple[str, ...] | None = None  # None: kubectl proxy's, plus the listen address
    reject_paths: tuple[str, ...] = DEFAULT_REJECT_PATHS
    allow_impersonation: bool = False
    token_file: Path | None = None  # clients must send this bearer token
    client_ca: Path | None = None  # clients must present a certificate this CA signed
    limits: Limits = dataclasses.field(default_factory=Limits)

    def __post_init__(self) -> None:
        host, _ = parse_listen(self.listen)
        if not self.tls and not ipaddress.ip_address(host).is_loopback:
            raise InputError(
                f"plain HTTP on {host} would send bearer tokens over the network unencrypted",
                where="--listen",
                fix="listen on 127.0.0.1 (a sidecar shares the pod's loopback), or serve TLS",
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise InputError(
                "a certificate needs its key and a key its certificate",
                where="--tls-cert/--tls-key",
                fix="give both, or neither for a self-signed pair",
            )


class Proxy:
    """One rewriting proxy in front of one API server."""

    def __init__(
        self,
        options: ProxyOptions,
        *,
        connection: Connection | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.options = options
        self.max_body = options.max_body
        self.connection = connection or load_connection(
            options.upstream_kubeconfig, options.context
        )
        self.upstream = Upstream(self.connection, transport=transport)
        self.capabilities = Capabilities(self.upstream, recheck_seconds=options.recheck_seconds)
        self.rewriter = ApplyRewriter(self.upstream, self.capabilities, options.rewrite_as)
        self.host, self.port = parse_listen(options.listen)
        self.pair: ServingPair | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self.requests = 0
        self.upgrades = 0  # connections switched to another protocol (exec, port-forward, ...)
        # The bearer token of the kubeconfig written for clients. kubectl prompts for a password
        # when an HTTPS server's kubeconfig user has no credentials; with this token it does not,
        # and a request bearing it is sent with the upstream kubeconfig's credentials instead.
        required = _read_token(options.token_file) if options.token_file else None
        self.client_token = required or secrets.token_urlsafe(32)
        self._client_authorization = f"Bearer {self.client_token}".encode()
        self.guard = Guard.of(
            options.accept_hosts or (*DEFAULT_ACCEPT_HOSTS, *_listen_host(self.host)),
            options.reject_paths,
            allow_impersonation=options.allow_impersonation,
            required_token=required.encode() if required else None,
        )
        self.refused = 0

    # --- addresses --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.options.tls else 'http'}://{host}:{self.port}"

    @property
    def kubeconfig_path(self) -> Path | None:
        return self.options.kubeconfig_out

    def kubeconfig(self) -> dict[str, Any]:
        """A kubeconfig for clients of the proxy: its address, its CA and its client token."""
        cluster: dict[str, Any] = {"server": self.url}
        if self.pair is not None and self.pair.ca_file is not None:
            cluster["certificate-authority"] = str(self.pair.ca_file.resolve())
        context: dict[str, Any] = {"cluster": "kubespark-proxy", "user": "kubespark-proxy"}
        if self.connection.namespace:
            context["namespace"] = self.connection.namespace
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kubespark-proxy", "cluster": cluster}],
            "users": [{"name": "kubespark-proxy", "user": {"token": self.client_token}}],
            "contexts": [{"name": "kubespark-proxy", "context": context}],
            "current-context": "kubespark-proxy",
            "preferences": {},
        }

    # --- lifetime ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen, write the client kubeconfig, read the upstream's capabilities."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        ssl_context = None
        if self.options.tls:
            self.pair = self._serving_pair()
            ssl_context = server_context(self.pair)
            if self.options.client_ca is not None:
                _require_client_certificates(ssl_context, self.options.client_ca)
        elif self.options.client_ca is not None:
            raise InputError(
                "client certificates need TLS",
                where="--client-ca",
                fix="drop --plain-http, or use --token-file for client authentication",
            )
        with refusing_os_errors(
            f"cannot listen on {self.options.listen}",
            where="--listen",
            fix="choose a free port, or port 0 for any",
        ):
            self._server = await asyncio.start_server(
                self._accept, self.host, self.port, ssl=ssl_context, limit=2**20, backlog=1024
            )
        self.port = self._server.sockets[0].getsockname()[1]
        if self.options.kubeconfig_out is not None:
            write_private(self.options.kubeconfig_out, yaml.safe_dump(self.kubeconfig()))
        await self.capabilities.current()

    def _serving_pair(self) -> ServingPair:
        opts = self.options
        if opts.tls_cert is not None and opts.tls_key is not None:
            return ServingPair(opts.tls_cert, opts.tls_key, opts.tls_ca)
        directory = opts.tls_dir
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="kubespark-proxy-")
            directory = Path(self._tmp.name)
        names = (*opts.tls_names, *([self.host] if self.host not in ("0.0.0.0", "::") else []))
        return self_signed_pair(directory, names)

    async def stop(self) -> None:
        """Stop listening, end open connections (watches, upgrades), release everything."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        await self.upstream.aclose()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= self.options.limits.max_connections:
            # Past the limit: one short answer and close, before reading anything.
            self.refused += 1
            writer.write(_TOO_MANY)
            with contextlib.suppress(Exception):
                await writer.drain()
            writer.close()
            return
        self._connections.add(task)
        try:
            await serve_connection(reader, writer, self, self.options.limits)
        except asyncio.CancelledError:
            # Only stop() cancels a connection; asyncio would report it as an error otherwise.
            writer.close()
        finally:
            self._connections.discard(task)

    # --- routing (the front end's Handler) --------------------------------------------------

    def _own_token_removed(self, request: ClientRequest) -> ClientRequest:
        """The request without the proxy's own client token (it goes no further than here)."""
        value = request.header(b"authorization")
        if value is None or not hmac.compare_digest(value, self._client_authorization):
            return request
        headers = tuple((k, v) for k, v in request.headers if k != b"authorization")
        return dataclasses.replace(request, headers=headers)

    def _refusal(self, request: ClientRequest) -> ProxyResponse | None:
        status = self.guard.refusal(request)
        if status is None and not self.guard.authorised(request.header(b"authorization")):
            status = unauthorised()
        if status is None:
            return None
        self.refused += 1
        log.info("kubespark proxy: refused %s: %s", request.describe(), status.message)
        return status_response(status)

    async def handle(self, request: ClientRequest) -> ProxyResponse:
        self.requests += 1
        refused = self._refusal(request)
        if refused is not None:
            return refused
        started = time.perf_counter()
        request = self._own_token_removed(request)
        if is_apply(request):
            response = await self.rewriter.handle(request)
        else:
            response = await self.upstream.forward(request)
        if log.isEnabledFor(logging.DEBUG):
            took = (time.perf_counter() - started) * 1000
            log.debug("%s -> %d (%.1f ms)", request.describe(), response.status, took)
        return response

    async def upgrade(self, request: ClientRequest) -> tuple[ProxyResponse, Upgraded | None]:
        self.requests += 1
        refused = self._refusal(request)
        if refused is not None:
            return refused, None
        response, stream = await self.upstream.upgrade(self._own_token_removed(request))
        if stream is not None:
            self.upgrades += 1
        log.debug("%s upgrade -> %d", request.describe(), response.status)
        return response, stream


_TOO_MANY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
    b"retry-after: 1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
)


def _listen_host(host: str) -> tuple[str, ...]:
    # The address the proxy listens on is the one its own kubeconfig gives clients.
    if host in ("0.0.0.0", "::", "127.0.0.1", "::1"):
        return ()
    return (f"^{re.escape(f'[{host}]' if ':' in host else host)}$",)


def _read_token(path: Path) -> str:
    try:
        token = bounded.read_text(path, bounded.Limits(max_bytes=4096, max_line=4096)).strip()
    except InputError as err:
        raise InputError(
            err.message, where="--token-file", fix="give a file holding one token"
        ) from None
    if not token or any(c.isspace() for c in token):
        raise InputError(
            f"{path} does not hold one token",
            where="--token-file",
            fix="write the token alone on one line",
        )
    remember_secret(token)  # whatever the proxy logs or answers never repeats it
    return token


def _require_client_certificates(context: ssl.SSLContext, ca: Path) -> None:
    try:
        context.load_verify_locations(cafile=str(ca))
    except (OSError, ssl.SSLError) as err:
        raise InputError(
            f"cannot load the client CA {ca}: {getattr(err, 'strerror', None) or err}",
            where="--client-ca",
            fix="give a PEM file of the CA certificates that sign client certificates",
        ) from None
    context.verify_mode = ssl.CERT_REQUIRED


@contextlib.asynccontextmanager
async def run_proxy(
    options: ProxyOptions,
    *,
    connection: Connection | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Proxy]:
    """``async with run_proxy(ProxyOptions(...)) as proxy:`` ``proxy.url`` serves meanwhile."""
    async with started(Proxy(options, connection=connection, transport=transport)) as proxy:
        yield proxy


class ProxyThread(ServerThread[Proxy]):
    """A proxy served from its own event loop in a background thread (tests, benchmarks)."""

    def __init__(self, options: ProxyOptions) -> None:
        super().__init__("kubespark-proxy", lambda: Proxy(options))
        self.options = options

    @property
    def proxy(self) -> Proxy | None:
        return self.server

    @classmethod
    @contextlib.contextmanager
    def running(cls, options: ProxyOptions) -> Iterator[Proxy]:
        runner = cls(options)
        try:
            yield runner.start()
        finally:
            runner.stop()
