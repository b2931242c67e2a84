"""The values the compat planner returns: planned writes, their fallbacks, and the notes on them.

Owns the shape of a plan, not the decisions (``kubespark.compat.planner``) nor their execution
(``kubespark.compat.execute``). Everything here is a frozen value: a plan can be printed,
compared, sent over a wire or executed later, and it always says why each write looks as it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kubespark.apisurface.model import Resource
from kubespark.errors import InputError
from kubespark.kube.requests import KubeRequest
from kubespark.versions import Version

__all__ = [
    "ConflictAction",
    "Intent",
    "Note",
    "NoteCode",
    "ObjectRef",
    "OnConflict",
    "Plan",
    "PlanError",
    "PlannedWrite",
    "WriteMethod",
]


class Intent(Enum):
    """What the caller wants to happen to each object."""

    CREATE = "create"  # create; an existing object is an error
    CREATE_OR_REPLACE = "create-or-replace"  # create, or replace an existing one wholesale
    APPLY = "apply"  # server-side apply: create or update the fields this manager sets

    @classmethod
    def parse(cls, text: str) -> Intent:
        try:
            return cls(text)
        except ValueError:
            choices = ", ".join(i.value for i in cls)
            raise InputError(
                f"{text!r} is not a write intent", where="intent", fix=f"use one of {choices}"
            ) from None


class WriteMethod(Enum):
    """How the planned request writes the object."""

    APPLY = "apply"  # PATCH application/apply-patch+yaml
    CREATE = "create"  # POST


class NoteCode(Enum):
    """Every kind of change or decision the planner explains."""

    PRUNED_FIELD = "PRUNED_FIELD"  # a field the server's version does not know was dropped
    APPLY_WOULD_FAIL = "APPLY_WOULD_FAIL"  # the server cannot type the apply body (HTTP 500)
    APPLY_UNAVAILABLE = "APPLY_UNAVAILABLE"  # the server has no server-side apply
    FALLBACK_TO_CREATE = "FALLBACK_TO_CREATE"  # apply was asked for; POST (+ fallback) planned
    FILLED_LIST_MAP_KEY = "FILLED_LIST_MAP_KEY"  # a list-map key set to its API default
    MAPPED_API_VERSION = "MAPPED_API_VERSION"  # written under another, served, apiVersion
    CONVERTED_FIELD = "CONVERTED_FIELD"  # one field rewritten by an apiVersion mapping
    CUSTOM_RESOURCE = "CUSTOM_RESOURCE"  # a kind defined by a CRD of the same plan


@dataclass(frozen=True, slots=True, order=True)
class ObjectRef:
    """Which object a write or note is about."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    @classmethod
    def of(cls, obj: Mapping[str, Any], namespace: str | None = None) -> ObjectRef:
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        assert isinstance(meta, dict)
        name = meta.get("name") or meta.get("generateName") or ""
        return cls(
            str(obj.get("apiVersion", "")),
            str(obj.get("kind", "")),
            str(name),
            str(meta.get("namespace") or namespace or "") or None,
        )

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where}"


@dataclass(frozen=True, slots=True)
class Note:
    """One change or decision, in words a user reads.

    ``path`` is the field it is about (``.spec.ipFamilies``; ``""`` for the whole object);
    ``added_in`` is the first version that has the field or API concerned, when that matters.
    """

    code: NoteCode
    object: ObjectRef
    path: str
    message: str
    added_in: Version | None = None

    def render(self) -> str:
        return f"{self.code.value} {self.object}: {self.message}"


def notes_for_people(notes: Iterable[Note]) -> tuple[Note, ...]:
    """The notes a person reads, without repeats.

    A fallback to POST names the fields it dropped in its own sentence ("created the Service
    with POST instead of apply; dropped spec.ipFamilies (added in 1.20)"), so the separate
    PRUNED_FIELD notes of that object, kept for machines (-o json, status), are left out here.
    """
    kept = tuple(notes)
    folded = {n.object for n in kept if n.code is NoteCode.FALLBACK_TO_CREATE}
    return tuple(n for n in kept if not (n.code is NoteCode.PRUNED_FIELD and n.object in folded))


class ConflictAction(Enum):
    """What to do when the create of a planned write answers 409 AlreadyExists."""

    FAIL = "fail"  # the caller asked for a create: an existing object is an error
    REPLACE = "replace"  # GET the live object, PUT the body with its resourceVersion
    MERGE_PATCH = "merge-patch"  # PATCH the body as a JSON merge patch (what apply would set)


@dataclass(frozen=True, slots=True)
class OnConflict:
    """The fallback of a POST when the object already exists, as data (the planner is sans-I/O).

    For REPLACE: ``get`` reads the live object, ``then`` is the PUT whose body receives the live
    ``metadata.resourceVersion`` and, when the body lacks them, the live values at ``carry``
    (fields the server allocated and will not let a replace clear, e.g. a Service's clusterIP).
    For MERGE_PATCH: ``then`` is the PATCH to send. ``attempts`` bounds GET+PUT retries when the
    object changes between the GET and the PUT (409 Conflict on the PUT).
    """

    action: ConflictAction
    get: KubeRequest | None = None
    then: KubeRequest | None = None
    carry: tuple[str, ...] = ()
    attempts: int = 3


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """One write: the request to send first, what to do if the object exists, and why."""

    object: ObjectRef
    resource: Resource
    method: WriteMethod
    request: KubeRequest
    on_conflict: OnConflict
    notes: tuple[Note, ...] = ()

    @property
    def body(self) -> dict[str, Any]:
        body = self.request.body
        assert isinstance(body, dict)
        return body

    def describe(self) -> str:
        head = f"{self.request.describe()}  ({self.object})"
        if self.on_conflict.action is not ConflictAction.FAIL and self.on_conflict.then:
            head += f"; if it exists: {self.on_conflict.then.method}"
        return head


@dataclass(frozen=True, slots=True)
class Plan:
    """Ordered writes for one server, each with its notes."""

    server: Version
    intent: Intent
    writes: tuple[PlannedWrite, ...]

    @property
    def notes(self) -> tuple[Note, ...]:
        return tuple(n for w in self.writes for n in w.notes)

    def __iter__(self) -> Iterator[PlannedWrite]:
        return iter(self.writes)

    def __len__(self) -> int:
        return len(self.writes)

    def render(self) -> str:
        """The plan as a user reads it: one line per write, its notes indented below."""
        lines = [f"plan for Kubernetes {self.server} ({self.intent.value}):"]
        for n, write in enumerate(self.writes, 1):
            lines.append(f"{n}. {write.describe()}")
            lines.extend(f"   - {note.message}" for note in write.notes)
        return "\n".join(lines)


class PlanError(InputError):
    """Objects the planner cannot turn into writes the server accepts, each with the reason."""

    def __init__(self, problems: tuple[tuple[ObjectRef, str, str], ...], server: Version) -> None:
        self.problems = problems  # (object, what is wrong, the fix)
        lines = [f"{obj}: {message}" for obj, message, _ in problems]
        fixes = sorted({fix for _, _, fix in problems})
        super().__init__(
            f"Kubernetes {server} cannot take {len(problems)} object(s): " + "; ".join(lines),
            where="objects",
            fix="; ".join(fixes),
        )
