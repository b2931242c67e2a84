"""How a command given to ``kubectl exec`` runs in a pod whose containers run no real process.

Owns the :class:`~kubespark.emulator.apiserver.podstreams.ExecPlan` of the simulated kubelet:
the command as a local process, in a directory of the pod's own (never the user's working or
home directory, so ``touch x`` in one pod is seen by the next exec in that pod and nowhere
else), with the container's environment as the kubelet would give it (its ``env`` and
``envFrom``, resolved from the pod's fields, ConfigMaps and Secrets) and the pod's host name.
It is not a container: the command sees this machine's files and programs. It must not talk to
the API server beyond reading ConfigMaps and Secrets through the lookup it is given.
"""

from __future__ import annotations

import os
from pathlib import Path

from kubespark.emulator.apiserver.objects import Obj, peek_meta
from kubespark.emulator.apiserver.podstreams import ExecPlan
from kubespark.emulator.workloads import sparkimage

__all__ = ["sandbox_plan"]

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sandbox_plan(
    pod: Obj, container: str, command: list[str], sandbox: Path, lookup: sparkimage.Lookup
) -> ExecPlan:
    """Run ``command`` as a local process in ``sandbox`` with the container's environment."""
    sandbox.mkdir(parents=True, exist_ok=True, mode=0o700)
    spec = pod.get("spec") or {}
    declared = [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]
    found: Obj = next((c for c in declared if c.get("name") == container), {})
    base = {
        "PATH": os.environ.get("PATH", _PATH),
        "HOME": str(sandbox),
        "HOSTNAME": str(spec.get("hostname") or peek_meta(pod).get("name", "")),
        "LANG": "C.UTF-8",
    }
    env = sparkimage.container_env(pod, found, lookup, base)
    return ExecPlan(tuple(command), env, str(sandbox))
