"""One watched collection of the cluster, kept in memory: list once, then watch, resuming.

Owns the list-then-watch loop of one resource path (``/apis/.../sparkapplications``, pods with a
label selector...): a list fills the store and gives the resourceVersion the watch resumes
from; a watch that ends is reopened from the last version seen (bookmarks move it too); a
``410 Gone`` (the version expired) or a store that cannot be trusted is relisted. A 404 (the CRD
is not installed) leaves the store empty and tries again later; a 403 is recorded as the reason
the collection is empty (the UI shows it). Every change is handed to ``on_change`` as
``(key, before, after)``. It decides nothing about what the objects mean and writes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubespark.kube.client import KubeClient
from kubespark.kube.errors import APIError, Forbidden, Gone, NotFound
from kubespark.kube.requests import KubeRequest

__all__ = ["Change", "Informer", "Key", "compact", "key_of", "stub"]

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)
Change = Callable[[Key, Obj | None, Obj | None], None]

WATCH_SECONDS = 290  # servers end a watch after at most their own limit; we ask for less
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)  # back-off after failures, capped at the last


def key_of(obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def compact(obj: Obj) -> Obj:
    """``obj`` without what the UI never reads and that dominates memory at 10,000 objects:
    managedFields and the last-applied annotation (a full copy of the spec)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return obj
    slim = {k: v for k, v in meta.items() if k != "managedFields"}
    annotations = slim.get("annotations")
    if isinstance(annotations, dict) and LAST_APPLIED in annotations:
        slim["annotations"] = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
    return {**obj, "metadata": slim}


def stub(obj: Obj) -> Obj:
    """Only the key and version of ``obj``: enough to relist by."""
    meta = obj.get("metadata") or {}
    keep = ("namespace", "name", "resourceVersion")
    return {"metadata": {k: meta[k] for k in keep if k in meta}}


LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass
class Informer:
    """The objects at ``path`` (a collection, cluster-wide or in one namespace)."""

    client: KubeClient
    path: str
    on_change: Change
    selector: str = ""
    kind: str = ""  # set on objects (lists leave it out)
    api_version: str = ""
    # What the store keeps of each object (``on_change`` is handed the whole one): Events
    # need only their key and version, since the cache keeps its own short lines of them.
    keep: Callable[[Obj], Obj] = compact

    def __post_init__(self) -> None:
        self.store: dict[Key, Obj] = {}
        self.resource_version = ""
        self.synced = asyncio.Event()
        self.problem = ""  # why the collection is empty or stale (403, no CRD), for the UI

    async def run(self) -> None:
        """List and watch until cancelled."""
        failures = 0
        while True:
            try:
                if not self.resource_version:
                    await self._relist()
                await self._watch()
                failures = 0
            except Gone:
                self.resource_version = ""  # expired: the next round relists
            except NotFound:
                self.problem = "not served (CRD not installed?)"
                self._replace({})
                self.synced.set()
                await asyncio.sleep(5.0)
            except Forbidden as err:
                self.problem = f"forbidden: {err.status.message}"
                self._replace({})
                self.synced.set()
                await asyncio.sleep(30.0)
            except APIError as err:
                self.problem = f"{err.status.code}: {err.status.message}"
                self.resource_version = ""
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
                failures += 1

    def _query(self) -> tuple[tuple[str, str], ...]:
        return (("labelSelector", self.selector),) if self.selector else ()

    async def _relist(self) -> None:
        body = await self.client.send(KubeRequest("GET", self.path, self._query()))
        body = body if isinstance(body, dict) else {}
        fresh: dict[Key, Obj] = {}
        for item in body.get("items") or []:
            if isinstance(item, dict):
                obj = {"apiVersion": self.api_version, "kind": self.kind, **item}
                fresh[key_of(obj)] = obj
        self._replace(fresh)
        self.resource_version = str((body.get("metadata") or {}).get("resourceVersion") or "")
        self.problem = ""
        self.synced.set()

    def _replace(self, fresh: dict[Key, Obj]) -> None:
        old = self.store
        self.store = {key: self.keep(obj) for key, obj in fresh.items()}
        for key in old.keys() - fresh.keys():
            self.on_change(key, old[key], None)
        for key, obj in fresh.items():
            before = old.get(key)
            if before is None or _version(before) != _version(obj):
                self.on_change(key, before, obj)

    async def _watch(self) -> None:
        query = (
            *self._query(),
            ("watch", "true"),
            ("resourceVersion", self.resource_version),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(WATCH_SECONDS)),
        )
        async for event in self.client.watch(KubeRequest("GET", self.path, query)):
            obj = event.object
            version = _version(obj)
            if version:
                self.resource_version = version
            if event.type == "BOOKMARK":
                continue
            obj = {"apiVersion": self.api_version, "kind": self.kind, **obj}
            key = key_of(obj)
            before = self.store.get(key)
            if event.type == "DELETED":
                self.store.pop(key, None)
                self.on_change(key, before, None)
            else:
                self.store[key] = self.keep(obj)
                self.on_change(key, before, obj)


def _version(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")
