"""Kubernetes API requests as values: built without I/O, executed once by the client.

A :class:`KubeRequest` is what the compat planner returns and what the client sends: method, path,
query, content type and body. Building requests here (a sans-I/O shape, as lightkube's) keeps every
decision about *what* to send testable without a server, and lets ``--dry-run`` print exactly
what would go over the wire.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from kubespark.apisurface.model import Resource

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

__all__ = [
    "APPLY_PATCH",
    "JSON",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "KubeRequest",
    "ResourcePath",
]


@dataclass(frozen=True, slots=True)
class KubeRequest:
    """One HTTP request to an API server."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    content_type: str | None = None
    body: Any = None  # a JSON-able object, or raw text for YAML bodies

    @property
    def target(self) -> str:
        """Path and query, as a request line carries them."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    def body_bytes(self) -> bytes | None:
        if self.body is None:
            return None
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        # JSON is valid YAML, so apply-patch bodies go as JSON too (as client-go sends them).
        return json.dumps(self.body, separators=(",", ":")).encode()

    def describe(self) -> str:
        """``POST /api/v1/namespaces/x/pods`` for logs and notes."""
        return f"{self.method} {self.target}"


@dataclass(frozen=True, slots=True)
class ResourcePath:
    """REST paths of one served resource; builds requests for objects of it."""

    resource: Resource

    def collection(self, namespace: str | None = None) -> str:
        gvk = self.resource.gvk
        root = f"/apis/{gvk.group}/{gvk.version}" if gvk.group else f"/api/{gvk.version}"
        if self.resource.namespaced:
            if not namespace:
                return f"{root}/{self.resource.plural}"  # across all namespaces (list/watch)
            return f"{root}/namespaces/{quote(namespace, safe='')}/{self.resource.plural}"
        return f"{root}/{self.resource.plural}"

    def item(self, name: str, namespace: str | None = None, subresource: str | None = None) -> str:
        path = f"{self.collection(namespace)}/{quote(name, safe='')}"
        return f"{path}/{subresource}" if subresource else path

    # -- requests ---------------------------------------------------------------------------

    def create(
        self, obj: Mapping[str, Any], *, query: Mapping[str, str] | None = None
    ) -> KubeRequest:
        ns = _namespace_of(obj)
        return KubeRequest("POST", self.collection(ns), _q(query), JSON, dict(obj))

    def replace(
        self, obj: Mapping[str, Any], *, query: Mapping[str, str] | None = None
    ) -> KubeRequest:
        path = self.item(_name_of(obj), _namespace_of(obj))
        return KubeRequest("PUT", path, _q(query), JSON, dict(obj))

    def apply(
        self, obj: Mapping[str, Any], *, field_manager: str, force: bool = False
    ) -> KubeRequest:
        query = {"fieldManager": field_manager}
        if force:
            query["force"] = "true"
        path = self.item(_name_of(obj), _namespace_of(obj))
        return KubeRequest("PATCH", path, _q(query), APPLY_PATCH, dict(obj))

    def patch(
        self,
        name: str,
        body: Any,
        *,
        namespace: str | None = None,
        content_type: str = MERGE_PATCH,
        subresource: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> KubeRequest:
        path = self.item(name, namespace, subresource)
        return KubeRequest("PATCH", path, _q(query), content_type, body)

    def get(
        self, name: str, namespace: str | None = None, subresource: str | None = None
    ) -> KubeRequest:
        return KubeRequest("GET", self.item(name, namespace, subresource))

    def list(
        self,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> KubeRequest:
        query = {"labelSelector": label_selector, "fieldSelector": field_selector}
        return KubeRequest("GET", self.collection(namespace), _q(query))

    def watch(
        self,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        timeout_seconds: int | None = None,
    ) -> KubeRequest:
        query = {
            "watch": "true",
            "resourceVersion": resource_version,
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "timeoutSeconds": str(timeout_seconds) if timeout_seconds is not None else None,
            "allowWatchBookmarks": "true",
        }
        return KubeRequest("GET", self.collection(namespace), _q(query))

    def delete(
        self, name: str, namespace: str | None = None, *, propagation: str = "Background"
    ) -> KubeRequest:
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": propagation}
        return KubeRequest("DELETE", self.item(name, namespace), (), JSON, body)


def _q(query: Mapping[str, str | None] | None) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in (query or {}).items() if v is not None)


def _name_of(obj: Mapping[str, Any]) -> str:
    name = (obj.get("metadata") or {}).get("name")
    if not name:
        raise ValueError("object has no metadata.name; only create may use generateName")
    return str(name)


def _namespace_of(obj: Mapping[str, Any]) -> str | None:
    ns = (obj.get("metadata") or {}).get("namespace")
    return str(ns) if ns else None
