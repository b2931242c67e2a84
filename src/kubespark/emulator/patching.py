"""PATCH requests: choosing the patch kind from the content type, then handing over.

Owns the emulator's side of PATCH: which patch media types a resource accepts on this version
(strategic merge patch only for built-in kinds; apply-patch only where server-side apply
exists), the 415 for anything else, and storing the patched object through the API server's
write pipeline (or creating it, for an apply of something that does not exist). What a patch
*does* to an object is the patch engine's (``kubespark.patch``).

ADAPTER (temporary): until the ``patch`` branch lands, applying a patch answers 500
("patch engine not available"); the content-type checks and 415 answers are already real.
"""

from __future__ import annotations

from typing import Any

from kubespark.emulator.api import ApiServer, WriteOptions, WriteResult
from kubespark.emulator.objects import Obj
from kubespark.emulator.registry import ServedResource
from kubespark.emulator.wire import internal_error, unsupported_media_type

__all__ = ["PATCH_TYPES", "Patcher", "accepted_patch_types"]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC, APPLY)


def accepted_patch_types(res: ServedResource, server_side_apply: bool) -> list[str]:
    types = [JSON_PATCH, MERGE_PATCH]
    if res.custom is None:
        types.append(STRATEGIC)
    if server_side_apply:
        types.append(APPLY)
    return types


class Patcher:
    """Applies PATCH bodies for one API server."""

    def __init__(self, api: ApiServer) -> None:
        self.api = api

    def record_create(self, res: ServedResource, obj: Obj, opts: WriteOptions) -> None:
        """managedFields of a create (the patch engine's field manager, once merged)."""

    def record_update(
        self, res: ServedResource, old: Obj, new: Obj, opts: WriteOptions, subresource: str
    ) -> None:
        """managedFields of an update (the patch engine's field manager, once merged)."""

    def patch(
        self,
        res: ServedResource,
        namespace: str,
        name: str,
        body: bytes,
        media_type: str,
        opts: WriteOptions,
        subresource: str = "",
    ) -> WriteResult:
        accepted = accepted_patch_types(res, self.api.surface.behaviours.server_side_apply)
        if media_type not in accepted:
            raise unsupported_media_type(accepted)
        raise internal_error("patch engine not available in this build of the emulator")

    def _unused(self) -> Any:  # pragma: no cover - placeholder for the engine's hooks
        return None
