"""The view of its pod a workload gets from the kubelet that runs it.

Owns :class:`PodContext`: the API server, the clock, the pod's key and uid, and the pod's log.
A workload sees no kubelet internals; it must not import a kubelet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kubespark.emulator.apiserver.api import ApiServer
from kubespark.emulator.apiserver.objects import Clock, Obj, peek_meta
from kubespark.emulator.apiserver.registry import ServedResource

__all__ = ["PodContext"]


@dataclass(frozen=True)
class PodContext:
    """One running pod as its workload sees it."""

    api: ApiServer
    clock: Clock
    pods: ServedResource
    key: tuple[str, str]
    uid: str
    append_log: Callable[[str, str], None]
    """``append_log(container, line)``: a line of the container's log."""

    @property
    def namespace(self) -> str:
        return self.key[0]

    def current(self) -> Obj | None:
        """The pod as stored now, or None once it is gone (or replaced by a namesake)."""
        pod = self.api.store.get(self.pods.bucket, *self.key)
        if pod is None or peek_meta(pod).get("uid") != self.uid:
            return None
        return pod
