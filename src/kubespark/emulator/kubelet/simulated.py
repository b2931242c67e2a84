"""The simulated scheduler and kubelet: one node, and pods that live through their phases.

Owns the Node ``emulated-node-1``, binding pods to it, and each pod's life: waiting for its
ConfigMap and Secret volumes, pulling images, running containers (status, conditions, pod IP,
start time, restarts with back-off), finishing (Succeeded/Failed, exit codes, OOMKilled,
eviction), graceful termination on delete, container logs and Events. Annotations steer a pod
(see :data:`ANNOTATIONS`); a pod labelled ``spark-role=driver`` runs the Spark driver
simulation of ``sparkdriver``. Every write goes through the API server's verbs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubespark.emulator.apiserver.api import ApiServer, WriteOptions
from kubespark.emulator.apiserver.metrics import Usage
from kubespark.emulator.apiserver.objects import Clock, Obj, clone, core_event, peek_meta, rfc3339
from kubespark.emulator.apiserver.podstreams import ExecPlan
from kubespark.emulator.apiserver.registry import ServedResource
from kubespark.emulator.apiserver.store import DELETED, Event
from kubespark.emulator.kubelet import usage
from kubespark.emulator.workloads import podshell
from kubespark.emulator.workloads.connectserver import is_connect_server, run_connect_server
from kubespark.emulator.workloads.context import PodContext
from kubespark.emulator.workloads.sparkdriver import is_driver, run_driver
from kubespark.emulator.workloads.steering import ANNOTATIONS, annotation, flag, number
from kubespark.kube import errors
from kubespark.kube.status import Status

__all__ = ["ANNOTATIONS", "NODE_NAME", "Kubelet"]

log = logging.getLogger("kubespark.emulator")

NODE_NAME = "emulated-node-1"
NODE_IP = "10.0.0.11"
_FOREVER = 10.0**9


@dataclass
class PodRun:
    """The kubelet's record of one pod it runs."""

    task: asyncio.Task[None]
    ip: str
    uid: str
    logs: dict[str, list[str]] = field(default_factory=dict)
    # the log of each container's previous instance (its lastState.terminated), for previous=true
    previous_logs: dict[str, list[str]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    terminating: bool = False
    messages: list[str] = field(default_factory=list)  # why the next termination happened


class Kubelet:
    """Scheduler and kubelet of the single emulated node."""

    def __init__(self, api: ApiServer, clock: Clock, *, events: bool = True) -> None:
        self.api = api
        self.clock = clock
        self.events = events
        self._runs: dict[tuple[str, str], PodRun] = {}
        self._next_ip = 1
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = False
        self._exec_root: Path | None = None  # sandboxes of exec'd commands, made on first use
        self.pods: ServedResource = api.must_resource("v1", "Pod")
        api.store.listen(self.on_event)

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._started = True
        self._ensure_node()
        for pod in self.api.store.items(self.pods.bucket):
            self._adopt(pod)

    async def stop(self) -> None:
        self._started = False
        tasks = [r.task for r in self._runs.values()] + list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._runs.clear()
        self._tasks.clear()
        if self._exec_root is not None:
            shutil.rmtree(self._exec_root, ignore_errors=True)

    def _ensure_node(self) -> None:
        res = self.api.registry.for_kind("v1", "Node")
        if res is None or self.api.store.get(res.bucket, "", NODE_NAME) is not None:
            return
        now = rfc3339()
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE_NAME,
                "labels": {
                    "kubernetes.io/hostname": NODE_NAME,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "node-role.kubernetes.io/control-plane": "",
                },
            },
            "spec": {"podCIDR": "10.244.0.0/24"},
        }
        created = self.api.create(res, "", node, WriteOptions()).obj
        capacity = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
        status = {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": NODE_IP},
                {"type": "Hostname", "address": NODE_NAME},
            ],
            "nodeInfo": {
                "kubeletVersion": self.api.facts.git_version,
                "kubeProxyVersion": self.api.facts.git_version,
                "operatingSystem": "linux",
                "architecture": "amd64",
                "osImage": "kubespark emulated node",
                "kernelVersion": "emulated",
                "containerRuntimeVersion": "containerd://emulated",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        }
        self.api.write_status(res, {**created, "status": status})

    # --- events -------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        if event.bucket != self.pods.bucket or not self._started:
            return
        key = (peek_meta(event.obj).get("namespace", ""), peek_meta(event.obj).get("name", ""))
        run = self._runs.get(key)
        if event.type == DELETED:
            if run is not None and run.task is not asyncio.current_task():
                run.task.cancel()
            self._runs.pop(key, None)
            return
        if run is not None and run.uid != peek_meta(event.obj).get("uid"):
            run.task.cancel()
            self._runs.pop(key, None)
            run = None
        if run is None:
            self._adopt(event.obj)
        elif peek_meta(event.obj).get("deletionTimestamp") and not run.terminating:
            run.terminating = True
            self._spawn(self._terminate(key, run))

    def _adopt(self, pod: Obj) -> None:
        m = peek_meta(pod)
        key = (m.get("namespace", ""), m.get("name", ""))
        node = (pod.get("spec") or {}).get("nodeName")
        phase = (pod.get("status") or {}).get("phase")
        if key in self._runs or (node and node != NODE_NAME) or phase in ("Succeeded", "Failed"):
            return
        if m.get("deletionTimestamp"):
            return
        ip = self._address()
        uid = m.get("uid", "")
        self._runs[key] = PodRun(asyncio.ensure_future(self._live(key, uid)), ip, uid)

    def _address(self) -> str:
        """The next pod IP (from the node's podCIDR)."""
        self._next_ip += 1
        return f"10.244.0.{(self._next_ip - 1) % 250 + 2}"

    # --- exec (podstreams.PodRuntime) -----------------------------------------------------------
    def exec_plan(self, pod: Obj, container: str, command: list[str]) -> ExecPlan:
        """How ``kubectl exec`` runs here: a local process in the pod's own sandbox directory."""
        key, uid = self._running_container(pod, container)
        if self._exec_root is None:
            self._exec_root = Path(tempfile.mkdtemp(prefix="kubespark-exec-"))
        sandbox = self._exec_root / f"{key[0]}_{key[1]}_{uid[:8]}"
        lookup = self._namespace_lookup(key[0])
        return podshell.sandbox_plan(pod, container, command, sandbox, lookup)

    def _running_container(self, pod: Obj, container: str) -> tuple[tuple[str, str], str]:
        """The pod's key and uid if ``container`` runs, else the error the kubelet answers."""
        m = peek_meta(pod)
        key = (str(m.get("namespace", "")), str(m.get("name", "")))
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        running = any(
            s.get("name") == container and "running" in (s.get("state") or {}) for s in statuses
        )
        if key not in self._runs or not running:
            raise errors.BadRequest(Status.failure(400, f'container not found ("{container}")'))
        return key, str(m.get("uid", ""))

    def _namespace_lookup(self, namespace: str) -> Callable[[str, str], Obj | None]:
        return lambda plural, name: self.api.store.get(("", plural), namespace, name)

    def reachable(self, ip: str) -> bool:
        """Whether a connection to a pod address can be made: simulated pods run no process,
        so the proxy and port-forward answer as for a port nobody listens on."""
        return False

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _context(self, key: tuple[str, str], uid: str) -> PodContext:
        return PodContext(
            self.api, self.clock, self.pods, key, uid, lambda c, line: self.append_log(key, c, line)
        )

    # --- reading and writing pods --------------------------------------------------------------
    def _current(self, key: tuple[str, str], uid: str) -> Obj | None:
        pod = self.api.store.get(self.pods.bucket, *key)
        if pod is None or peek_meta(pod).get("uid") != uid:
            return None
        return pod

    def _write_status(self, key: tuple[str, str], uid: str, status: Obj) -> Obj | None:
        pod = self._current(key, uid)
        if pod is None:
            return None
        return self.api.write_status(self.pods, {**pod, "status": status})

    def event(self, pod: Obj, reason: str, message: str, kind: str = "Normal") -> None:
        """Record a core/v1 Event about ``pod``, as the kubelet and scheduler do."""
        res = self.api.registry.for_kind("v1", "Event")
        if not self.events or res is None:
            return
        m = peek_meta(pod)
        component = "kubelet" if reason != "Scheduled" else "default-scheduler"
        source = {"component": component, "host": NODE_NAME}
        reference = {"kind": "Pod", "apiVersion": "v1"}
        body = core_event(pod, reference, reason, message, type_=kind, source=source)
        # Events are best effort, as in clusters; they skip the field manager (no
        # managedFields) and, built here, pruning and validation (trusted): together most of
        # what a pod's life costs the server (docs/performance.md).
        with contextlib.suppress(errors.APIError):
            self.api.create(
                res, m.get("namespace", ""), body, WriteOptions(), managed=True, trusted=True
            )

    # --- logs (LogSource) ----------------------------------------------------------------------
    def log_lines(self, namespace: str, pod: str, container: str) -> list[str]:
        run = self._runs.get((namespace, pod))
        return list(run.logs.get(container, [])) if run is not None else []

    def previous_log_lines(self, namespace: str, pod: str, container: str) -> list[str]:
        """The log of the container's previous (last terminated, restarted) instance."""
        run = self._runs.get((namespace, pod))
        return list(run.previous_logs.get(container, [])) if run is not None else []

    def container_done(self, namespace: str, pod: str, container: str) -> bool:
        run = self._runs.get((namespace, pod))
        return run is None or container in run.done

    def append_log(self, key: tuple[str, str], container: str, line: str) -> None:
        run = self._runs.get(key)
        if run is not None:
            run.logs.setdefault(container, []).append(line)

    # --- usage (UsageSource of the metrics API) --------------------------------------------------
    def container_usage(self, pod: Obj) -> dict[str, Usage]:
        """Each running container's usage: the model of kubelet.usage (they run nothing)."""
        return {
            name: usage.modelled(str(pod["metadata"].get("uid", "")), container)
            for name, container in _running_containers(pod, self._runs)
        }

    # --- a pod's life ----------------------------------------------------------------------------
    async def _live(self, key: tuple[str, str], uid: str) -> None:
        try:
            await self._life(key, uid)
        except asyncio.CancelledError:
            raise
        except errors.APIError as err:
            log.debug("pod %s/%s: %s", *key, err)
        except Exception:
            log.exception("simulated kubelet failed on pod %s/%s", *key)

    async def _life(self, key: tuple[str, str], uid: str) -> None:
        pod = self._current(key, uid)
        if pod is None:
            return
        if not (pod.get("spec") or {}).get("nodeName"):
            pod = await self._schedule(key, uid)
            if pod is None:
                return
        run = self._runs.get(key)
        if run is None:
            return
        pod = await self._wait_for_volumes(key, uid)
        if pod is None:
            return
        await self.clock.sleep(number(pod, "start-seconds", 0.5))
        if flag(pod, "image-pull-failure"):
            await self._image_pull_failure(key, uid, pod)
            return
        await self._run_containers(key, uid, run)

    async def _schedule(self, key: tuple[str, str], uid: str) -> Obj | None:
        await self.clock.sleep(0.05)
        pod = self._current(key, uid)
        if pod is None:
            return None
        now = rfc3339()
        status = dict(pod.get("status") or {})
        if flag(pod, "unschedulable"):
            message = (
                "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
            )
            status["conditions"] = [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": now,
                    "reason": "Unschedulable",
                    "message": message,
                }
            ]
            status["phase"] = "Pending"
            self._write_status(key, uid, status)
            self.event(pod, "FailedScheduling", message, "Warning")
            return None
        status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": now,
            }
        ]
        bound = {**pod, "spec": {**pod["spec"], "nodeName": NODE_NAME}, "status": status}
        stored = self.api.write_object(self.pods, bound)
        if stored is not None:
            self.event(
                stored, "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {NODE_NAME}"
            )
        return stored

    def _missing_volume(self, pod: Obj) -> str | None:
        namespace = peek_meta(pod).get("namespace", "")
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            for source, plural, field_name in (
                ("configMap", "configmaps", "name"),
                ("secret", "secrets", "secretName"),
            ):
                ref = vol.get(source)
                if not isinstance(ref, dict) or ref.get("optional"):
                    continue
                name = ref.get(field_name, "")
                if self.api.store.get(("", plural), namespace, name) is None:
                    kind = "configmap" if source == "configMap" else "secret"
                    return (
                        f'MountVolume.SetUp failed for volume "{vol.get("name")}" : '
                        f'{kind} "{name}" not found'
                    )
        return None

    async def _wait_for_volumes(self, key: tuple[str, str], uid: str) -> Obj | None:
        warned = ""
        while True:
            pod = self._current(key, uid)
            if pod is None:
                return None
            problem = self._missing_volume(pod)
            if problem is None:
                return pod
            # A real kubelet reports every failed mount attempt (the recorder folds repeats into
            # one Event's count): once one volume's source appears, the next missing one shows.
            if problem != warned:
                if not warned:
                    self._write_status(key, uid, self._pending_status(pod, "ContainerCreating"))
                self.event(pod, "FailedMount", problem, "Warning")
                warned = problem
            await self.clock.sleep(1.0)

    def _containers(self, pod: Obj) -> list[Obj]:
        return [c for c in (pod.get("spec") or {}).get("containers") or [] if isinstance(c, dict)]

    def _pending_status(self, pod: Obj, reason: str, message: str = "") -> Obj:
        status = dict(pod.get("status") or {})
        now = rfc3339()
        status["phase"] = "Pending"
        status.setdefault("startTime", now)
        status["hostIP"] = NODE_IP
        waiting: dict[str, Any] = {"reason": reason}
        if message:
            waiting["message"] = message
        status["containerStatuses"] = [
            {
                "name": c.get("name"),
                "state": {"waiting": waiting},
                "lastState": {},
                "ready": False,
                "restartCount": 0,
                "image": c.get("image"),
                "imageID": "",
                "started": False,
            }
            for c in self._containers(pod)
        ]
        status["conditions"] = _conditions(status, ready=False, reason="ContainersNotReady")
        return status

    async def _image_pull_failure(self, key: tuple[str, str], uid: str, pod: Obj) -> None:
        image = (self._containers(pod) or [{}])[0].get("image", "")
        message = (
            f"rpc error: code = NotFound desc = failed to pull and unpack image "
            f'"{image}": not found'
        )
        self._write_status(key, uid, self._pending_status(pod, "ErrImagePull", message))
        self.event(pod, "Failed", f'Failed to pull image "{image}": {message}', "Warning")
        await self.clock.sleep(2.0)
        current = self._current(key, uid)
        if current is not None:
            pod = current
            backoff = f'Back-off pulling image "{image}"'
            self._write_status(key, uid, self._pending_status(pod, "ImagePullBackOff", backoff))
            self.event(pod, "BackOff", backoff, "Normal")

    def _running_status(self, pod: Obj, run: PodRun, restarts: int, started: str) -> Obj:
        status = dict(pod.get("status") or {})
        status.update(
            {"phase": "Running", "hostIP": NODE_IP, "podIP": run.ip, "podIPs": [{"ip": run.ip}]}
        )
        status.setdefault("startTime", started)
        # A restarted container keeps the instance that ended as lastState (kubectl logs -p).
        last = {
            s.get("name"): s.get("lastState") or {}
            for s in status.get("containerStatuses") or []
            if restarts
        }
        status["containerStatuses"] = [
            {
                "name": c.get("name"),
                "state": {"running": {"startedAt": started}},
                "lastState": last.get(c.get("name"), {}),
                "ready": True,
                "restartCount": restarts,
                "image": c.get("image"),
                "imageID": _image_id(c.get("image", "")),
                "containerID": _container_id(pod, c.get("name", ""), restarts),
                "started": True,
            }
            for c in self._containers(pod)
        ]
        status["conditions"] = _conditions(status, ready=True)
        return status

    async def _run_containers(self, key: tuple[str, str], uid: str, run: PodRun) -> None:
        restarts = 0
        backoff = 10.0
        while True:
            pod = self._current(key, uid)
            if pod is None:
                return
            started = rfc3339()
            pod = self._write_status(key, uid, self._running_status(pod, run, restarts, started))
            if pod is None:
                return
            for c in self._containers(pod):
                self.event(pod, "Started", f"Started container {c.get('name')}")
                for line in (annotation(pod, "log") or "").splitlines():
                    self.append_log(key, c.get("name", ""), line)
            exit_code = await self._workload(key, uid, run, pod)
            pod = self._current(key, uid)
            if pod is None:
                return
            policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
            restart = policy == "Always" or (policy == "OnFailure" and exit_code != 0)
            if flag(pod, "evicted"):
                self._evict(key, uid, pod, started)
                return
            self._terminated(key, uid, pod, exit_code, started, restarts, final=not restart)
            if not restart:
                return
            # The instance that ended is now lastState.terminated: its log is the previous one.
            run.previous_logs = run.logs
            run.logs = {}
            restarts += 1
            await self.clock.sleep(backoff)
            backoff = min(backoff * 2, 300.0)

    async def _workload(self, key: tuple[str, str], uid: str, run: PodRun, pod: Obj) -> int:
        """Run the pod's containers until they exit; their exit code."""
        if is_driver(pod):
            return await run_driver(self._context(key, uid), pod)
        if is_connect_server(pod):
            return await run_connect_server(self._context(key, uid), pod)
        await self.clock.sleep(number(pod, "run-seconds", _FOREVER))
        return int(number(pod, "exit-code", 0))

    def _terminated(
        self,
        key: tuple[str, str],
        uid: str,
        pod: Obj,
        exit_code: int,
        started: str,
        restarts: int,
        *,
        final: bool,
    ) -> None:
        oom = flag(pod, "oom-killed")
        code = 137 if oom else exit_code
        reason = "OOMKilled" if oom else ("Completed" if code == 0 else "Error")
        message = run.messages.pop(0) if (run := self._runs.get(key)) and run.messages else ""
        finished = rfc3339()
        status = dict(pod.get("status") or {})
        statuses = []
        for c in self._containers(pod):
            term = {
                "exitCode": code,
                "reason": reason,
                "startedAt": started,
                "finishedAt": finished,
                "containerID": _container_id(pod, c.get("name", ""), restarts),
            }
            if message:
                term["message"] = message
            entry: dict[str, Any] = {
                "name": c.get("name"),
                "ready": False,
                "restartCount": restarts,
                "image": c.get("image"),
                "imageID": _image_id(c.get("image", "")),
                "containerID": term["containerID"],
                "started": False,
            }
            if final:
                entry.update({"state": {"terminated": term}, "lastState": {}})
            else:
                entry.update(
                    {
                        "state": {
                            "waiting": {
                                "reason": "CrashLoopBackOff",
                                "message": f"back-off restarting failed container {c.get('name')}",
                            }
                        },
                        "lastState": {"terminated": term},
                    }
                )
            statuses.append(entry)
            run = self._runs.get(key)
            if run is not None and final:
                run.done.add(c.get("name", ""))
        status["containerStatuses"] = statuses
        if final:
            status["phase"] = "Succeeded" if code == 0 else "Failed"
            status["conditions"] = _conditions(status, ready=False, reason="PodCompleted")
        else:
            status["conditions"] = _conditions(status, ready=False, reason="ContainersNotReady")
        self._write_status(key, uid, status)

    def _evict(self, key: tuple[str, str], uid: str, pod: Obj, started: str) -> None:
        status = dict(pod.get("status") or {})
        names = [c.get("name") for c in self._containers(pod)]
        status.update(
            {
                "phase": "Failed",
                "reason": "Evicted",
                "message": "The node was low on resource: memory. Container "
                f"{names[0] if names else ''} was using 1Gi, which exceeds its request "
                "of 0. ",
            }
        )
        status["containerStatuses"] = [
            {
                "name": n,
                "ready": False,
                "restartCount": 0,
                "started": False,
                "image": c.get("image"),
                "imageID": _image_id(c.get("image", "")),
                "state": {
                    "terminated": {
                        "exitCode": 137,
                        "reason": "ContainerStatusUnknown",
                        "startedAt": started,
                        "finishedAt": rfc3339(),
                    }
                },
                "lastState": {},
            }
            for n, c in zip(names, self._containers(pod), strict=True)
        ]
        status["conditions"] = _conditions(status, ready=False, reason="PodCompleted")
        self._write_status(key, uid, status)
        self.event(pod, "Evicted", status["message"], "Warning")
        run = self._runs.get(key)
        if run is not None:
            run.done.update(str(n) for n in names)

    async def _terminate(self, key: tuple[str, str], run: PodRun) -> None:
        """A pod being deleted: stop its containers, then let the API server remove it."""
        pod = self.api.store.get(self.pods.bucket, *key)
        if pod is None:
            return
        uid = peek_meta(pod).get("uid", "")
        run.task.cancel()
        await asyncio.gather(run.task, return_exceptions=True)
        grace = float(peek_meta(pod).get("deletionGracePeriodSeconds") or 0)
        await self.clock.sleep(min(grace, 1.0))
        pod = self._current(key, uid)
        if pod is None:
            return
        for c in self._containers(pod):
            self.event(pod, "Killing", f"Stopping container {c.get('name')}")
        run.done.update(c.get("name", "") for c in self._containers(pod))
        final = clone(pod)
        final["metadata"]["deletionGracePeriodSeconds"] = 0
        if not final["metadata"].get("finalizers"):
            self.api._finish_delete(self.pods, final)
        self._runs.pop(key, None)


def _running_containers(pod: Obj, runs: dict[tuple[str, str], PodRun]) -> list[tuple[str, Obj]]:
    """The pod's containers whose status says running, on a pod this kubelet runs."""
    meta = pod.get("metadata") or {}
    if (meta.get("namespace", ""), meta.get("name", "")) not in runs:
        return []
    running = {
        s.get("name")
        for s in (pod.get("status") or {}).get("containerStatuses") or []
        if "running" in (s.get("state") or {})
    }
    containers = (pod.get("spec") or {}).get("containers") or []
    return [(str(c.get("name")), c) for c in containers if c.get("name") in running]


def _conditions(status: Obj, *, ready: bool, reason: str = "") -> list[Obj]:
    now = rfc3339()
    previous = {c.get("type"): c for c in status.get("conditions") or []}
    out = []
    for kind, value in (
        ("Initialized", True),
        ("Ready", ready),
        ("ContainersReady", ready),
        ("PodScheduled", True),
    ):
        cond: dict[str, Any] = {
            "type": kind,
            "status": "True" if value else "False",
            "lastProbeTime": None,
        }
        old = previous.get(kind)
        same = old is not None and old.get("status") == cond["status"]
        cond["lastTransitionTime"] = old.get("lastTransitionTime") if same and old else now
        if not value and reason:
            cond["reason"] = reason
        out.append(cond)
    return out


def _image_id(image: str) -> str:
    digest = hashlib.sha256(image.encode()).hexdigest()
    repo = image.split(":", 1)[0]
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    elif repo.count("/") == 1 and "." not in repo.split("/", 1)[0]:
        repo = f"docker.io/{repo}"
    return f"{repo}@sha256:{digest}"


def _container_id(pod: Obj, name: str, restarts: int) -> str:
    seed = f"{peek_meta(pod).get('uid')}/{name}/{restarts}"
    return "containerd://" + hashlib.sha256(seed.encode()).hexdigest()
