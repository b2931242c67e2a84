"""The compat planner: turn objects into writes a given server accepts, and explain each change.

Owns ``plan_writes``: choice of create / replace / server-side apply / merge patch, pruning of
fields the server's version lacks, filling of defaulted list-map keys, mapping of apiVersions to
served ones, the write order; ``execute_plan``, which runs a plan with a KubeClient and follows
its fallbacks; and the per-object checks of ``kubespark validate``. The planning is pure: it
reads the API surface and returns planned requests plus notes.
"""

from typing import TYPE_CHECKING, Any

from kubespark.compat.applyability import ApplyPrediction, TypingError, predict_apply
from kubespark.compat.conversions import CONVERSIONS, Conversion
from kubespark.compat.model import (
    ConflictAction,
    Intent,
    Note,
    NoteCode,
    ObjectRef,
    OnConflict,
    Plan,
    PlanError,
    PlannedWrite,
    WriteMethod,
    notes_for_people,
)
from kubespark.compat.planner import Lowered, lower_object, plan_writes

if TYPE_CHECKING:
    from kubespark.compat.capabilities import live_capabilities, offline_capabilities
    from kubespark.compat.execute import PlanExecutionFailed, execute_plan

# The parts that talk to a server pull in the HTTP client and kubeconfig handling; importing
# them on first use keeps offline users (``kubespark validate``) fast to start.
_LAZY = {
    "live_capabilities": "kubespark.compat.capabilities",
    "offline_capabilities": "kubespark.compat.capabilities",
    "PlanExecutionFailed": "kubespark.compat.execute",
    "execute_plan": "kubespark.compat.execute",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "CONVERSIONS",
    "ApplyPrediction",
    "ConflictAction",
    "Conversion",
    "Intent",
    "Lowered",
    "Note",
    "NoteCode",
    "ObjectRef",
    "OnConflict",
    "Plan",
    "PlanError",
    "PlanExecutionFailed",
    "PlannedWrite",
    "TypingError",
    "WriteMethod",
    "execute_plan",
    "live_capabilities",
    "lower_object",
    "notes_for_people",
    "offline_capabilities",
    "plan_writes",
    "predict_apply",
]
