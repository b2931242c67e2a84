"""``metadata.managedFields``: who owns which fields, read from and written to objects.

Owns the managed-fields model of the API server's field manager
(``k8s.io/apimachinery/pkg/util/managedfields/internal``): manager identifiers (manager name,
operation, apiVersion for updaters, subresource), their field sets and times; decoding entries
with the server's own error texts, encoding them sorted as the server sorts them (Apply before
Update, then by time, manager, apiVersion, subresource); removing the metadata fields nobody
owns (stripmeta.go); and capping updaters at ten, merging the oldest into ``ancient-changes``
(capmanagers.go).

Plain data in and out; no schema knowledge and no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubespark.patch.fieldpath import FieldSet, FieldsV1Error, PathElement
from kubespark.patch.values import go_quote

__all__ = [
    "APPLY",
    "STRIPPED_METADATA",
    "UPDATE",
    "Managed",
    "ManagedFieldsError",
    "VersionedSet",
    "cap_update_managers",
    "decode_managed_fields",
    "encode_managed_fields",
    "format_time",
    "manager_identifier",
    "print_manager",
    "strip_meta",
]

APPLY = "Apply"
UPDATE = "Update"
MAX_UPDATE_MANAGERS = 10  # DefaultMaxUpdateManagers in fieldmanager.go
ANCIENT_CHANGES = "ancient-changes"  # capmanagers.go's bucket for the oldest updaters


class ManagedFieldsError(ValueError):
    """managedFields that do not decode; the message is the server's."""


@dataclass(frozen=True, slots=True)
class VersionedSet:
    fields: FieldSet
    api_version: str
    applied: bool


@dataclass
class Managed:
    """Field sets and times by manager identifier, for one request to work on."""

    fields: dict[str, VersionedSet] = field(default_factory=dict)
    times: dict[str, str | None] = field(default_factory=dict)

    def copy(self) -> Managed:
        return Managed(dict(self.fields), dict(self.times))


def _go_json_string(text: str) -> str:
    return (
        json.dumps(text, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def manager_identifier(
    manager: str, operation: str, api_version: str = "", subresource: str = ""
) -> str:
    """``BuildManagerIdentifier``: the entry as JSON without time, fields and (for appliers)
    apiVersion, so an applier is one manager across versions and updaters one per version."""
    parts = []
    if manager:
        parts.append(f'"manager":{_go_json_string(manager)}')
    if operation:
        parts.append(f'"operation":{_go_json_string(operation)}')
    if api_version and operation != APPLY:
        parts.append(f'"apiVersion":{_go_json_string(api_version)}')
    if subresource:
        parts.append(f'"subresource":{_go_json_string(subresource)}')
    return "{" + ",".join(parts) + "}"


def parse_identifier(identifier: str) -> dict[str, str]:
    try:
        decoded = json.loads(identifier)
    except ValueError:
        return {}
    return {k: str(v) for k, v in decoded.items()} if isinstance(decoded, dict) else {}


def print_manager(identifier: str) -> str:
    """How conflict messages name a manager (conflict.go ``printManager``)."""
    entry = parse_identifier(identifier)
    if not entry:
        return go_quote(identifier)
    text = go_quote(entry.get("manager", ""))
    if entry.get("subresource"):
        text = f"{text} with subresource {go_quote(entry['subresource'])}"
    if entry.get("operation") == UPDATE:
        # The identifier never carries a time, so "using <apiVersion>" is what shows.
        return f"{text} using {entry.get('apiVersion', '')}"
    return text


def format_time(moment: datetime) -> str:
    """``metav1.Time`` on the wire: RFC 3339 in UTC, whole seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _unix_seconds(text: str | None) -> int:
    if not text:
        return 0
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def decode_managed_fields(entries: object) -> Managed:
    """``DecodeManagedFields``: the entries of an object, or :class:`ManagedFieldsError`."""
    managed = Managed()
    if entries is None:
        return managed
    if not isinstance(entries, list):
        raise ManagedFieldsError("managedFields must be a list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ManagedFieldsError(f"managed fields entry {i} must be an object")
        operation = entry.get("operation")
        if operation not in (APPLY, UPDATE):
            raise ManagedFieldsError("operation must be `Apply` or `Update`")
        api_version = entry.get("apiVersion") or ""
        if not api_version:
            raise ManagedFieldsError("apiVersion must not be empty")
        fields_type = entry.get("fieldsType") or ""
        if fields_type == "":
            raise ManagedFieldsError(f"missing fieldsType in managed fields entry {i}")
        if fields_type != "FieldsV1":
            raise ManagedFieldsError(
                f'invalid fieldsType "{fields_type}" in managed fields entry {i}'
            )
        identifier = manager_identifier(
            str(entry.get("manager") or ""),
            str(operation),
            str(api_version),
            str(entry.get("subresource") or ""),
        )
        try:
            fields = FieldSet.from_fields_v1(entry.get("fieldsV1") or {})
        except FieldsV1Error as exc:
            raise ManagedFieldsError(f"error decoding versioned set: {exc}") from exc
        managed.fields[identifier] = VersionedSet(fields, str(api_version), operation == APPLY)
        time = entry.get("time")
        managed.times[identifier] = str(time) if time else None
    return managed


def encode_managed_fields(managed: Managed) -> list[dict[str, Any]] | None:
    """The ``managedFields`` list, sorted like ``sortEncodedManagedFields``; None when empty."""
    if not managed.fields:
        return None
    entries: list[dict[str, Any]] = []
    for identifier, versioned in managed.fields.items():
        base = parse_identifier(identifier)
        entry: dict[str, Any] = {}
        if base.get("manager"):
            entry["manager"] = base["manager"]
        entry["operation"] = APPLY if versioned.applied else base.get("operation", UPDATE)
        entry["apiVersion"] = versioned.api_version
        time = managed.times.get(identifier)
        if time:
            entry["time"] = time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = versioned.fields.to_fields_v1()
        if base.get("subresource"):
            entry["subresource"] = base["subresource"]
        entries.append(entry)
    entries.sort(
        key=lambda e: (
            e["operation"],
            _unix_seconds(e.get("time")),
            e.get("manager", ""),
            e["apiVersion"],
            e.get("subresource", ""),
        )
    )
    return entries


# The metadata fields stripmeta.go drops from every manager (all scalars in ObjectMeta).
STRIPPED_METADATA = frozenset(
    {
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    }
)
_STRIPPED = FieldSet.of(
    (PathElement.field("apiVersion"),),
    (PathElement.field("kind"),),
    (PathElement.field("metadata"),),
    *((PathElement.field("metadata"), PathElement.field(name)) for name in STRIPPED_METADATA),
)


def strip_meta(managed: Managed, identifier: str) -> None:
    """Drops the fields nobody owns (apiVersion, kind, name, uid, ...) from one manager."""
    versioned = managed.fields.get(identifier)
    if versioned is None:
        return
    rest = versioned.fields.difference(_STRIPPED)
    if rest.empty():
        del managed.fields[identifier]
    else:
        managed.fields[identifier] = VersionedSet(rest, versioned.api_version, versioned.applied)


def cap_update_managers(managed: Managed, limit: int = MAX_UPDATE_MANAGERS) -> None:
    """Merges the oldest updaters into ``ancient-changes`` buckets until ``limit`` remain."""
    updaters = [m for m, vs in managed.fields.items() if not vs.applied]
    if len(updaters) <= limit:
        return
    updaters.sort(key=lambda m: (_unix_seconds(managed.times.get(m)), m))
    first_by_version: dict[str, str] = {}
    length = len(updaters)
    for identifier in updaters:
        if length <= limit:
            break
        versioned = managed.fields[identifier]
        time = managed.times.get(identifier)
        version = versioned.api_version
        bucket = manager_identifier(ANCIENT_CHANGES, UPDATE, version)
        first = first_by_version.get(version)
        if first is None:
            first_by_version[version] = identifier
            continue
        if bucket not in managed.fields:
            managed.fields[bucket] = managed.fields.pop(first)
            managed.times.pop(first, None)
        merged = versioned.fields.union(managed.fields[bucket].fields)
        managed.fields[bucket] = VersionedSet(merged, version, versioned.applied)
        del managed.fields[identifier]
        managed.times.pop(identifier, None)
        managed.times[bucket] = time
        length -= 1


def drop_empty(managed: Managed, identifiers: Iterable[str]) -> None:
    for identifier in list(identifiers):
        versioned = managed.fields.get(identifier)
        if versioned is not None and versioned.fields.empty():
            del managed.fields[identifier]


def is_reset(entries: object) -> bool:
    """A request that sets ``managedFields: []`` (or ``[{}]``) resets ownership."""
    if isinstance(entries, list):
        return not entries or (len(entries) == 1 and entries[0] in ({}, None))
    return False


def times_of(managed: Managed) -> Mapping[str, str | None]:
    return managed.times
