"""Deterministic names and ids for one submission of one application.

spark-submit draws its ids at random (the application id ``spark-<uuid hex>``, the 16-hex
resource id in ``<app>-<id>-driver-svc``, the ConfigMap id, the local-dir UUID). kubespark derives
each from ``(namespace, application name, submission id, attempt)`` with SHA-256, in the same
shapes, so a retry of the same attempt computes the same names and adopts what exists instead of
creating a second driver. Owns that scheme and nothing else.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

__all__ = ["GeneratedIds", "ids_for_submission"]


@dataclass(frozen=True)
class GeneratedIds:
    """The values spark-submit would generate at random, fixed for one submission attempt."""

    app_id: str  # spark-<32 hex>, spark.app.id and the spark-app-selector label
    resource_id: str  # 16 hex: <app>-<resource_id> is the resource name prefix
    configmap_id: str  # 16 hex: spark-drv-<configmap_id>-conf-map
    local_dir_uuid: str  # /var/data/spark-<uuid>
    service_id: str  # 16 hex: spark-<service_id>-driver-svc when <prefix>-driver-svc is too long


def ids_for_submission(namespace: str, name: str, submission_id: str, attempt: int) -> GeneratedIds:
    seed = f"kubespark/v1\0{namespace}\0{name}\0{submission_id}\0{attempt}".encode()
    digest = hashlib.sha256(seed).hexdigest()
    more = hashlib.sha256(seed + b"\0more").digest()
    return GeneratedIds(
        app_id=f"spark-{digest[:32]}",
        resource_id=digest[32:48],
        configmap_id=digest[48:64],
        local_dir_uuid=str(uuid.UUID(bytes=more[:16], version=4)),
        service_id=more[16:24].hex(),
    )
