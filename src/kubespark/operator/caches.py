"""What the operator last saw of each object: applications, scheduled applications and pods.

Owns the informer-like stores the watch events fill and the reconcilers read: the newest body of
each object by (namespace, name), an index of Spark pods by application, and the rule that an
answer to our own write never gets replaced by an older watch event still in flight (compared by
resourceVersion when both are the integers every API server sends in practice). Pods are kept
slim (metadata and status; specs are large and never read) so 1,000 applications fit in a few MB.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["Key", "ObjectCache", "PodCache", "key_of"]

Key = tuple[str, str]  # namespace, name
Obj = dict[str, Any]

LABEL_APP_NAME = "sparkoperator.k8s.io/app-name"
LABEL_SPARK_ROLE = "spark-role"


def key_of(obj: Mapping[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def _version(obj: Mapping[str, Any]) -> int | None:
    text = str((obj.get("metadata") or {}).get("resourceVersion") or "")
    return int(text) if text.isdigit() else None


def is_older(candidate: Mapping[str, Any], current: Mapping[str, Any] | None) -> bool:
    """True when ``candidate`` is known to be older than ``current`` (same object)."""
    if current is None:
        return False
    uid_a = (candidate.get("metadata") or {}).get("uid")
    uid_b = (current.get("metadata") or {}).get("uid")
    if uid_a and uid_b and uid_a != uid_b:
        return False  # a new object of the same name replaces the old one
    a, b = _version(candidate), _version(current)
    return a is not None and b is not None and a < b


class ObjectCache:
    """The newest known body of each object of one kind."""

    def __init__(self) -> None:
        self._objects: dict[Key, Obj] = {}

    def __len__(self) -> int:
        return len(self._objects)

    def __iter__(self) -> Iterator[Key]:
        return iter(list(self._objects))

    def get(self, key: Key) -> Obj | None:
        return self._objects.get(key)

    def put(self, obj: Obj) -> Obj | None:
        """Store ``obj`` unless an answer newer than it is stored; returns the previous body."""
        key = key_of(obj)
        current = self._objects.get(key)
        if is_older(obj, current):
            return current
        self._objects[key] = obj
        return current

    def remove(self, obj: Mapping[str, Any]) -> Obj | None:
        key = key_of(obj)
        current = self._objects.get(key)
        uid = (obj.get("metadata") or {}).get("uid")
        if (
            current is not None
            and uid
            and (current.get("metadata") or {}).get("uid") not in (uid, None)
        ):
            return None  # a newer object of that name already replaced it
        return self._objects.pop(key, None)

    def values(self) -> list[Obj]:
        return list(self._objects.values())


def slim_pod(pod: Mapping[str, Any]) -> Obj:
    """What the reconcilers read of a pod: its metadata and status."""
    meta = dict(pod.get("metadata") or {})
    meta.pop("managedFields", None)
    meta.pop("annotations", None)
    return {"metadata": meta, "status": pod.get("status") or {}}


class PodCache(ObjectCache):
    """Spark pods, with an index from (namespace, application name) to pod names."""

    def __init__(self) -> None:
        super().__init__()
        self._by_app: dict[Key, set[str]] = defaultdict(set)

    @staticmethod
    def _app_key(pod: Mapping[str, Any]) -> Key | None:
        meta = pod.get("metadata") or {}
        app = (meta.get("labels") or {}).get(LABEL_APP_NAME)
        return (str(meta.get("namespace") or ""), str(app)) if app else None

    def put(self, obj: Obj) -> Obj | None:
        slim = slim_pod(obj)
        previous = super().put(slim)
        stored = self.get(key_of(slim))
        if stored is slim:
            app = self._app_key(slim)
            if app is not None:
                self._by_app[app].add(key_of(slim)[1])
        return previous

    def remove(self, obj: Mapping[str, Any]) -> Obj | None:
        previous = super().remove(obj)
        if previous is not None:
            app = self._app_key(previous)
            if app is not None:
                names = self._by_app.get(app)
                if names is not None:
                    names.discard(key_of(previous)[1])
                    if not names:
                        self._by_app.pop(app, None)
        return previous

    def of_app(self, namespace: str, app: str, role: str | None = None) -> list[Obj]:
        out = []
        for name in sorted(self._by_app.get((namespace, app), ())):
            pod = self.get((namespace, name))
            if pod is None:
                continue
            if role is None or (pod["metadata"].get("labels") or {}).get(LABEL_SPARK_ROLE) == role:
                out.append(pod)
        return out
