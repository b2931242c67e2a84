"""The annotations that steer a simulated pod's life, and how to read them.

Owns :data:`ANNOTATIONS` (documented in docs/emulator.md) and the readers the simulated kubelet
and the simulated driver share. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubespark.emulator.apiserver.objects import Obj, peek_meta

__all__ = ["ANNOTATIONS", "PREFIX", "annotation", "flag", "number"]

PREFIX = "kubespark.io/emulate-"

ANNOTATIONS: Mapping[str, str] = {
    PREFIX + "run-seconds": "seconds the containers run before exiting (default: forever; "
    "a Spark driver: 5)",
    PREFIX + "exit-code": "the containers' exit code when they finish (default 0)",
    PREFIX + "start-seconds": "seconds spent in ContainerCreating (default 0.5)",
    PREFIX + "image-pull-failure": "'true': the image cannot be pulled (ErrImagePull, then "
    "ImagePullBackOff; the pod stays Pending)",
    PREFIX + "unschedulable": "'true': no node fits (PodScheduled=False, reason Unschedulable)",
    PREFIX + "oom-killed": "'true': the containers end OOMKilled (exit code 137)",
    PREFIX + "evicted": "'true': the kubelet evicts the pod when it would finish (phase Failed, "
    "reason Evicted)",
    PREFIX + "log": "text appended to every container's log (lines separated by newlines)",
}


def annotation(pod: Obj, name: str) -> str | None:
    value = (peek_meta(pod).get("annotations") or {}).get(PREFIX + name)
    return str(value) if value is not None else None


def flag(pod: Obj, name: str) -> bool:
    return (annotation(pod, name) or "").lower() in ("true", "1", "yes")


def number(pod: Obj, name: str, default: float) -> float:
    text = annotation(pod, name)
    try:
        return float(text) if text is not None else default
    except ValueError:
        return default
