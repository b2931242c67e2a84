"""The compat planner: turn objects into writes a given server accepts, and explain each change.

Owns ``plan_writes``: choice of create / replace / server-side apply / merge patch, pruning of
fields the server's version lacks, filling of defaulted list-map keys, mapping of apiVersions to
served ones, the write order; ``execute_plan``, which runs a plan with a KubeClient and follows
its fallbacks; and the per-object checks of ``kubespark validate``. The planning is pure: it
reads the API surface and returns planned requests plus notes.
"""

from kubespark.compat.applyability import ApplyPrediction, TypingError, predict_apply
from kubespark.compat.capabilities import live_capabilities, offline_capabilities
from kubespark.compat.conversions import CONVERSIONS, Conversion
from kubespark.compat.execute import PlanExecutionFailed, execute_plan
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
)
from kubespark.compat.planner import Lowered, lower_object, plan_writes

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
    "offline_capabilities",
    "plan_writes",
    "predict_apply",
]
