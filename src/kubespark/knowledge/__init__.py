"""The knowledge base: releases and known issues, as data with sources.

Owns the data files under ``knowledge/data`` (Spark releases and their fabric8 client and write
methods, spark-operator releases, Kubernetes facts, known issues with symptom patterns, affected
ranges, root causes, ranked remedies and sources), their schema, and the evaluation "which known
issues apply to this combination of versions". It must not do I/O beyond reading its own package
data, and must not know about HTTP or the API surface.

Public surface::

    load_knowledge()                  the validated, cached knowledge base
    evaluate(Combination(...))        an Assessment: a verdict per submission path
    build_matrix()                    every Spark release / operator image x Kubernetes minor
    assessment_view(a), matrix_view(m)  the plain data ``-o json`` prints

The names load on first use (PEP 562): ``submit`` and the operator read only which Spark
releases kubespark models (:mod:`kubespark.knowledge.scope`), and importing that submodule runs
this file, which would otherwise load the evaluation, the matrix and every record type.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubespark.knowledge.base import Knowledge, SparkRelease
    from kubespark.knowledge.evaluation import (
        Assessment,
        Caveat,
        Combination,
        IssueFinding,
        PathAssessment,
        ReasonFinding,
        Verdict,
        evaluate,
        evaluate_with,
    )
    from kubespark.knowledge.loader import load_knowledge, load_knowledge_from
    from kubespark.knowledge.matrix import Cell, Matrix, Row, Table, build_matrix, matrix_view
    from kubespark.knowledge.report import assessment_view
    from kubespark.knowledge.schema import Issue, PathName, Phase

__all__ = [
    "Assessment",
    "Caveat",
    "Cell",
    "Combination",
    "Issue",
    "IssueFinding",
    "Knowledge",
    "Matrix",
    "PathAssessment",
    "PathName",
    "Phase",
    "ReasonFinding",
    "Row",
    "SparkRelease",
    "Table",
    "Verdict",
    "assessment_view",
    "build_matrix",
    "evaluate",
    "evaluate_with",
    "load_knowledge",
    "load_knowledge_from",
    "matrix_view",
]

_HOME = {
    "Knowledge": "base",
    "SparkRelease": "base",
    "load_knowledge": "loader",
    "load_knowledge_from": "loader",
    "Cell": "matrix",
    "Matrix": "matrix",
    "Row": "matrix",
    "Table": "matrix",
    "build_matrix": "matrix",
    "matrix_view": "matrix",
    "assessment_view": "report",
    "Issue": "schema",
    "PathName": "schema",
    "Phase": "schema",
}  # the rest: kubespark.knowledge.evaluation


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_HOME.get(name, 'evaluation')}")
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
