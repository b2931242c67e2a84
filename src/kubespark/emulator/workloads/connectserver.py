"""What a Spark Connect server pod does once its container runs, simulated for the kubelet.

Owns the server's side of a SparkConnect as ``start-connect-server.sh`` behaves in the pod
kubeflow's reconciler builds (``spark-role=connect-server``): read the ``--conf`` options from
the container's ``bash -c`` command, start the driver (a long-lived SparkContext) with the
Spark Connect service on port 15002, create ``spark.executor.instances`` executor pods
(``<podNamePrefix>-exec-<N>``, labelled from ``spark.kubernetes.executor.label.*``, owned by the
server pod) through the API server's create path, and serve until the pod is deleted. A real
server would never exit on its own; neither does this one.
"""

from __future__ import annotations

import hashlib
import itertools
import shlex

from kubespark.emulator.apiserver.api import WriteOptions
from kubespark.emulator.apiserver.objects import Obj, peek_meta
from kubespark.emulator.workloads.context import PodContext
from kubespark.emulator.workloads.sparkdriver import PodLogger, executor_pod, wait_running
from kubespark.emulator.workloads.steering import number
from kubespark.kube import errors

__all__ = ["command_conf", "is_connect_server", "run_connect_server"]

ROLE = "connect-server"
_FOREVER = 10.0**9


def is_connect_server(pod: Obj) -> bool:
    return (peek_meta(pod).get("labels") or {}).get("spark-role") == ROLE


def command_conf(pod: Obj) -> dict[str, str]:
    """The ``--conf key=value`` pairs of the first container's command line."""
    container = ((pod.get("spec") or {}).get("containers") or [{}])[0]
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    line = words[-1] if words[:2] == ["bash", "-c"] and len(words) > 2 else " ".join(words)
    try:
        tokens = shlex.split(line)
    except ValueError:  # an unbalanced quote: read what splits plainly
        tokens = line.split()
    out: dict[str, str] = {}
    for flag, value in itertools.pairwise(tokens):
        if flag == "--conf" and "=" in value:
            key, _, val = value.partition("=")
            out[key] = val
    return out


async def run_connect_server(ctx: PodContext, pod: Obj) -> int:
    """The server's life once its container runs: executors, then serving until deleted."""
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    say = PodLogger(ctx, str(containers[0].get("name") or "spark-kubernetes-driver"))
    conf = command_conf(pod)
    uid = str(peek_meta(pod).get("uid", ""))
    app_id = "spark-" + hashlib.sha256(uid.encode()).hexdigest()[:32]
    version = (peek_meta(pod).get("labels") or {}).get("spark-version", "")
    say(f"INFO SparkContext: Running Spark version {version}".rstrip())
    say("INFO SparkContext: Submitted application: Spark Connect server")
    count = int(conf.get("spark.executor.instances", "2") or 0)
    prefix = conf.get("spark.kubernetes.executor.podNamePrefix") or str(peek_meta(pod)["name"])
    created: list[str] = []
    for exec_id in range(1, count + 1):
        body = executor_pod(pod, conf, exec_id, prefix, app_id)
        try:
            ctx.api.create(ctx.pods, ctx.namespace, body, WriteOptions(field_manager="fabric8"))
        except errors.APIError as err:
            say(f"ERROR ExecutorPodsAllocator: Failed to create executor pod: {err.message}")
            continue  # Spark's allocator retries on its next batch; the server stays up
        created.append(body["metadata"]["name"])
    await wait_running(ctx, ctx.namespace, created)
    say("INFO SparkConnectServer: Spark Connect server started at: [::]:15002")
    await ctx.clock.sleep(number(pod, "run-seconds", _FOREVER))
    return int(number(pod, "exit-code", 0))
