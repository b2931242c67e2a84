"""Running an emulated API server: options, start and stop, restart, TLS, the kubeconfig.

Owns an :class:`Emulator`'s lifetime: loading the version's API surface, wiring the API server,
controllers, kubelet and HTTP app, serving them with uvicorn on 127.0.0.1 (plain HTTP or TLS
with a fresh CA), writing a kubeconfig clients can use, changing faults at runtime and
"restarting" (connections cut, store kept). Use :func:`run_emulator` (async context manager)
or :func:`emulator_in_thread` (for synchronous code: kubectl, the official client).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
import yaml

from kubespark.apisurface import load_surface
from kubespark.emulator.apiserver.api import ApiServer, WriteOptions
from kubespark.emulator.apiserver.asgi import DropConnection, EmulatorApp
from kubespark.emulator.apiserver.authn import BearerTokens, TokenAuthority
from kubespark.emulator.apiserver.facts import server_facts
from kubespark.emulator.apiserver.faults import FaultInjector, Faults
from kubespark.emulator.apiserver.guarded import MAX_CONNECTIONS
from kubespark.emulator.apiserver.objects import Clock
from kubespark.emulator.apiserver.patching import Patcher
from kubespark.emulator.apiserver.rbac import RbacAuthorizer, bootstrap_objects
from kubespark.emulator.apiserver.tls import ServerCertificates, make_certificates
from kubespark.emulator.controllers import ControllerSet
from kubespark.emulator.controllers.cronjobs import CronJobController
from kubespark.emulator.controllers.workloads import WorkloadControllers
from kubespark.emulator.kubelet.process import ProcessKubelet
from kubespark.emulator.kubelet.simulated import Kubelet
from kubespark.errors import InputError
from kubespark.privatefiles import write_private
from kubespark.serving import EmbeddedServer, ServerThread, listening_socket, started
from kubespark.versions import parse_kube_version

__all__ = [
    "Emulator",
    "EmulatorOptions",
    "RunningEmulator",
    "emulator_in_thread",
    "run_emulator",
    "tune_collector_for_serving",
]

T = TypeVar("T")

log = logging.getLogger("kubespark.emulator")

KUBELETS = ("simulated", "process")
# The cyclic collector's generation-0 threshold for a serving process: Python's 700 runs a
# young collection every few requests (each create allocates hundreds of containers), and the
# full collections it leads to walk every stored object; 50,000 makes them rare.
SERVING_GC_THRESHOLDS = (50_000, 20, 100)


def tune_collector_for_serving() -> None:
    """Fit the garbage collector to a process that only serves the emulator (``kubespark
    emulate``): what is loaded by now (the API surface, schemas, modules: long-lived) moves to
    the permanent generation, and young collections run less often. Measured in
    docs/performance.md (Pod creates/s up by a third to a half). Process-wide, so never called
    by the library for embedded emulators (tests, demo): their process is not only ours."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_GC_THRESHOLDS)


AUTHORIZERS = ("always-allow", "rbac")
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class EmulatorOptions:
    """How to run one emulated server."""

    version: str = "1.19"  # a minor (1.19) or a patch (1.20.6) the API surface has
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    tls: bool = False
    kubeconfig_out: Path | None = None  # default: a file in the server's own temp directory
    speed: float = 1.0  # emulated time runs this many times faster (pods, drivers, back-off)
    faults: Faults = field(default_factory=Faults)
    seed: int | None = None  # for generateName suffixes
    service_account_admission: bool = True  # pods need their ServiceAccount, as in clusters
    events: bool = True  # the kubelet records Events
    namespaces: tuple[str, ...] = ()  # created at start, besides the built-in ones
    bookmark_interval: float = 60.0  # emulated seconds between watch bookmarks
    # Bearer tokens the server requires (emulator.apiserver.authn); empty: no authentication. The
    # kubeconfig it writes carries the first.
    bearer_tokens: tuple[str, ...] = ()
    kubelet: str = "simulated"  # or "process": Apache Spark image pods run as local processes
    spark_image_map: tuple[tuple[str, str], ...] = ()  # (image, Spark version) for custom images
    # "always-allow" (every request allowed) or "rbac": Roles, ClusterRoles and bindings decide
    # for users a request impersonates (kubectl --as); the emulator's own user is an admin.
    authorization: str = "always-allow"

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise InputError(
                f"speed {self.speed} is not positive",
                where="--speed",
                fix="give a factor > 0, e.g. 10 to run pods ten times faster",
            )
        if self.kubelet not in KUBELETS:
            raise InputError(
                f"unknown kubelet {self.kubelet!r}",
                where="--kubelet",
                fix=f"choose one of: {', '.join(KUBELETS)}",
            )
        if self.authorization not in AUTHORIZERS:
            raise InputError(
                f"unknown authorization mode {self.authorization!r}",
                where="--authorization-mode",
                fix=f"choose one of: {', '.join(AUTHORIZERS)}",
            )
        if not 0 <= self.port <= 65535:
            raise InputError(
                f"port {self.port} is out of range",
                where="--port",
                fix="give 0 (any free port) or 1-65535",
            )


class _QuietDrops(logging.Filter):
    """uvicorn logs an ASGI exception when a watch is cut on purpose; that is not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection | asyncio.CancelledError)


class Emulator:
    """One emulated API server. Start with :meth:`start`, or use :func:`run_emulator`."""

    def __init__(self, options: EmulatorOptions | None = None) -> None:
        self.options = options or EmulatorOptions()
        asked = parse_kube_version(self.options.version, what="Kubernetes version (--k8s)")
        facts = server_facts(asked)
        self.newest_known_patch = facts.git_version
        # A minor alone means its first release, X.Y.0: the conservative reading, since patch
        # releases only add backports (1.20.6's ServicePort protocol default). The exact patch a
        # cluster runs is given in full (--k8s 1.20.15); behaviours follow the reported version.
        patch = asked.patch if asked.patch is not None else 0
        facts = replace(facts, git_version=f"v{asked.major}.{asked.minor}.{patch}")
        self.surface = load_surface(facts.git_version)
        self.clock = Clock(self.options.speed)
        self.api = ApiServer(
            self.surface,
            facts,
            seed=self.options.seed,
            service_account_admission=self.options.service_account_admission,
        )
        patcher = Patcher(self.api)
        self.api.patcher = patcher
        self.api.field_manager = patcher
        self.faults = FaultInjector(self.options.faults)
        self._dir = tempfile.TemporaryDirectory(prefix="kubespark-emulator-")
        self.workdir = Path(self._dir.name)
        self.certificates: ServerCertificates | None = None
        self.port = self.options.port
        self.controllers: ControllerSet | None = None
        self.workloads: WorkloadControllers | None = None
        self.cronjobs: CronJobController | None = None
        self._root_ca: ServerCertificates | None = None  # plain HTTP: a CA only to publish
        self.kubelet: Kubelet | None = None
        self.app: EmulatorApp | None = None
        self.authn = TokenAuthority(self.options.bearer_tokens)
        self._server: uvicorn.Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.restarts = 0

    # --- addresses ------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self.api.facts.git_version

    @property
    def url(self) -> str:
        scheme = "https" if self.options.tls else "http"
        return f"{scheme}://{self.options.host}:{self.port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.options.kubeconfig_out or self.workdir / "kubeconfig"

    def kubeconfig(self, namespace: str = "default") -> dict[str, Any]:
        cluster: dict[str, Any] = {"server": self.url}
        if self.certificates is not None:
            import base64

            cluster["certificate-authority-data"] = base64.b64encode(
                self.certificates.ca_pem()
            ).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kubespark-emulator", "cluster": cluster}],
            "users": [{"name": "kubespark-emulator", "user": {"token": self._token()}}],
            "contexts": [
                {
                    "name": "kubespark-emulator",
                    "context": {
                        "cluster": "kubespark-emulator",
                        "user": "kubespark-emulator",
                        "namespace": namespace,
                    },
                }
            ],
            "current-context": "kubespark-emulator",
            "preferences": {},
        }

    def _token(self) -> str:
        return self.options.bearer_tokens[0] if self.options.bearer_tokens else "kubespark-emulator"

    def _write_kubeconfig(self) -> None:
        write_private(self.kubeconfig_path, yaml.safe_dump(self.kubeconfig(), sort_keys=False))

    # --- lifetime -------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.options.tls and self.certificates is None:
            self.certificates = make_certificates(self.workdir / "pki", self.options.host)
        self.controllers = ControllerSet(self.api, self.clock)
        self.workloads = WorkloadControllers(
            self.api, self.clock, ca_pem=self._ca_pem, events=self.options.events
        )
        self.cronjobs = CronJobController(self.api, self.clock, self.workloads.record_event)
        self._seed_objects()
        self.kubelet = self._make_kubelet()
        self.app = EmulatorApp(
            self.api,
            self.faults,
            self.kubelet,
            self.clock,
            address=lambda: f"{self.options.host}:{self.port}",
            on_restart=self.restart,
            network=self.kubelet,
            runtime=self.kubelet,
            usage=self.kubelet,
            authorizer=RbacAuthorizer(self.api.store)
            if self.options.authorization == "rbac"
            else None,
            bookmark_interval=self.options.bookmark_interval,
        )
        self.controllers.start()
        self.workloads.start()
        self.cronjobs.start()
        self.kubelet.start()
        for logger in ("uvicorn.error", "uvicorn"):
            logging.getLogger(logger).addFilter(_QuietDrops())
        await self._serve()
        self._write_kubeconfig()

    def _ca_pem(self) -> bytes:
        """The cluster CA kube-root-ca.crt publishes: the serving CA, or (plain HTTP) one made
        for the purpose on first use, as every real cluster has one."""
        if self.certificates is not None:
            return self.certificates.ca_pem()
        if self._root_ca is None:
            self._root_ca = make_certificates(self.workdir / "root-ca", self.options.host)
        return self._root_ca.ca_pem()

    def _make_kubelet(self) -> Kubelet:
        if self.options.kubelet == "process":
            return ProcessKubelet(
                self.api,
                self.clock,
                endpoint=lambda: self.url,
                ca_pem=lambda: self.certificates.ca_pem() if self.certificates else None,
                image_map=dict(self.options.spark_image_map),
                events=self.options.events,
            )
        return Kubelet(self.api, self.clock, events=self.options.events)

    def _seed_rbac(self) -> None:
        """The bootstrap policy an RBAC-authorizing server writes at start."""
        for plural, body in bootstrap_objects():
            res = self.api.registry.storage_version("rbac.authorization.k8s.io", plural)
            name = body["metadata"]["name"]
            if res is not None and self.api.store.get(res.bucket, "", name) is None:
                self.api.create(res, "", body, WriteOptions(field_manager="kube-apiserver"))

    def _seed_objects(self) -> None:
        if self.options.authorization == "rbac":
            self._seed_rbac()
        res = self.api.registry.for_kind("v1", "Namespace")
        if res is None:
            raise InputError(f"Kubernetes {self.version} has no v1 Namespace in its API surface")
        for name in (*DEFAULT_NAMESPACES, *self.options.namespaces):
            if self.api.store.get(res.bucket, "", name) is None:
                body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                self.api.create(res, "", body, WriteOptions())
        services = self.api.registry.for_kind("v1", "Service")
        if (
            services is not None
            and self.api.store.get(services.bucket, "default", "kubernetes") is None
        ):
            # The API server's own Service, as every cluster has it in "default".
            body = {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": "kubernetes",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "type": "ClusterIP",
                    "ports": [
                        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}
                    ],
                },
            }
            self.api.create(services, "default", body, WriteOptions(field_manager="kube-apiserver"))

    def _bind(self) -> socket.socket:
        sock = listening_socket(
            self.options.host,
            self.port,
            where="--port",
            fix="choose a free port, or 0 for any",
            backlog=1024,
        )
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        return sock

    async def _serve(self) -> None:
        assert self.app is not None
        sock = self._bind()
        certs = self.certificates
        app: Any = BearerTokens(self.app, self.authn) if self.options.bearer_tokens else self.app
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="wsproto",  # fabric8 7 (Spark 4) watches over WebSocket
            http=_http_implementation(),
            server_header=False,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
            ssl_certfile=str(certs.cert_file) if certs else None,
            ssl_keyfile=str(certs.key_file) if certs else None,
        )
        server = EmbeddedServer(config)
        self._server = server
        self._serve_task = asyncio.ensure_future(server.serve(sockets=[sock]))
        for _ in range(500):
            if server.started or self._serve_task.done():
                break
            await asyncio.sleep(0.01)
        if self._serve_task.done():
            self._serve_task.result()

    async def _shutdown_http(self) -> None:
        if self.app is not None:
            self.api.store.close_watchers()
            for task in list(self.app.open_streams):
                task.cancel()
        if self._server is not None:
            self._server.should_exit = True
        if self._serve_task is not None:
            with contextlib.suppress(Exception):
                await self._serve_task
        self._server, self._serve_task = None, None

    async def stop(self) -> None:
        await self._shutdown_http()
        if self.kubelet is not None:
            await self.kubelet.stop()
        if self.controllers is not None:
            await self.controllers.stop()
        if self.workloads is not None:
            await self.workloads.stop()
        if self.cronjobs is not None:
            await self.cronjobs.stop()
        self._dir.cleanup()

    async def restart(self, downtime: float = 0.2) -> None:
        """As if the apiserver process restarted: every connection cut, the store kept."""
        await self._shutdown_http()
        await asyncio.sleep(max(0.0, downtime))
        self.restarts += 1
        await self._serve()

    def set_faults(self, faults: Faults) -> None:
        self.faults.set(faults)


def _http_implementation() -> Any:
    try:
        import httptools  # noqa: F401
    except ImportError:  # pragma: no cover - httptools is a pinned dependency
        return "h11"
    # httptools with a header timeout and an idle timeout for new connections (apiserver.guarded)
    # that hands SPDY/3.1 upgrades to the app (apiserver.upgrades)
    from kubespark.emulator.apiserver.upgrades import UpgradingHttpToolsProtocol

    return UpgradingHttpToolsProtocol


@contextlib.asynccontextmanager
async def run_emulator(
    version: str = "1.19", options: EmulatorOptions | None = None, **settings: Any
) -> AsyncIterator[Emulator]:
    """``async with run_emulator(version="1.19") as emu:``; ``emu.url``, ``emu.kubeconfig_path``."""
    opts = options or EmulatorOptions(version=version, **settings)
    async with started(Emulator(opts)) as emu:
        yield emu


class EmulatorThread(ServerThread[Emulator]):
    """An emulator served from its own event loop in a background thread."""

    def __init__(self, options: EmulatorOptions) -> None:
        super().__init__("kubespark-emulator", lambda: Emulator(options))
        self.options = options

    @property
    def emulator(self) -> Emulator | None:
        return self.server


@contextlib.contextmanager
def emulator_in_thread(
    version: str = "1.19", options: EmulatorOptions | None = None, **settings: Any
) -> Iterator[EmulatorThread]:
    """``with emulator_in_thread("1.21") as t: t.emulator.url`` for synchronous callers."""
    runner = EmulatorThread(options or EmulatorOptions(version=version, **settings))
    runner.start()
    try:
        yield runner
    finally:
        runner.stop()


@dataclass(frozen=True)
class RunningEmulator:
    """A started emulated server, as tests see it."""

    runner: EmulatorThread
    emulator: Emulator

    @property
    def url(self) -> str:
        return self.emulator.url

    @property
    def kubeconfig_path(self) -> Path:
        return self.emulator.kubeconfig_path

    @property
    def version(self) -> str:
        return self.emulator.version

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coro`` on the server's event loop (where its state lives) and wait."""
        result: T = self.runner.call(coro, timeout)
        return result

    def run(self, func: Callable[[], T], timeout: float = 60) -> T:
        """Run a plain function on the server's loop (to read or change its state safely)."""

        async def wrapped() -> T:
            return func()

        return self.call(wrapped(), timeout)

    def set_faults(self, faults: Faults) -> None:
        self.run(lambda: self.emulator.set_faults(faults))
