"""The compatibility matrix: every known release against every Kubernetes minor, per path.

Owns laying :func:`kubespark.knowledge.evaluation.evaluate` out as tables (Spark releases through
spark-submit and through kubespark, operator images) over the minors from kubespark's floor to
the newest, and merging consecutive releases of one line whose cells are identical into one row
("3.5.x", "3.2.0-3.2.1") so the table shows only the boundaries that matter. It must not render.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kubespark.knowledge.base import Knowledge
from kubespark.knowledge.disk_cache import disk_cached
from kubespark.knowledge.evaluation import Combination, PathAssessment, Verdict, evaluate
from kubespark.knowledge.loader import load_knowledge
from kubespark.knowledge.report import caveat_view, issue_view
from kubespark.knowledge.schema import OperatorLine, PathName
from kubespark.versions import OperatorVersion, Version

__all__ = ["Cell", "Matrix", "Row", "Table", "build_matrix", "matrix_view"]


@dataclass(frozen=True)
class Cell:
    kubernetes: Version
    assessment: PathAssessment

    @property
    def verdict(self) -> Verdict:
        return self.assessment.verdict

    @property
    def issue_ids(self) -> tuple[str, ...]:
        return tuple(f.issue.id for f in self.assessment.issues)

    def signature(self) -> tuple[Any, ...]:
        """What a reader sees in the cell; equal signatures may share a row."""
        a = self.assessment
        return (
            a.verdict,
            tuple(
                (f.issue.id, f.coverage, tuple(r.reason.id for r in f.reasons)) for f in a.issues
            ),
            tuple(b for f in a.issues for b in f.boundaries),
            a.caveats,
            a.blockers,
            tuple(f.issue.id for f in a.avoided),
        )


@dataclass(frozen=True)
class Row:
    label: str
    members: tuple[str, ...]  # the releases or tags the row stands for
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    path: PathName
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Matrix:
    kubernetes: tuple[Version, ...]
    tables: tuple[Table, ...]

    def table(self, path: PathName) -> Table:
        return next(t for t in self.tables if t.path == path)


@functools.cache
def build_matrix() -> Matrix:
    """The matrix of the packaged knowledge base (computed once per data, kept on disk)."""
    return disk_cached("matrix", compute_matrix)


def compute_matrix() -> Matrix:
    """The matrix of the packaged knowledge base, computed now."""
    kb = load_knowledge()
    minors = kb.kube_minors
    return Matrix(
        minors,
        (
            _spark_table(kb, minors, PathName.SPARK_SUBMIT, "spark-submit of each Spark release"),
            _operator_table(kb, minors),
            _spark_table(kb, minors, PathName.KUBESPARK, "kubespark running each Spark release"),
        ),
    )


def _spark_table(kb: Knowledge, minors: tuple[Version, ...], path: PathName, title: str) -> Table:
    lines: dict[Version, list[Version]] = {}
    for release in kb.spark_releases:
        lines.setdefault(release.minor_version, []).append(release)
    cells = functools.partial(_spark_cells, path, minors)
    rows = [
        row
        for line, releases in lines.items()
        for row in _merge_rows(
            releases, cells, functools.partial(_spark_label, line, len(releases))
        )
    ]
    return Table(path, title, tuple(rows))


def _spark_cells(path: PathName, minors: tuple[Version, ...], spark: Version) -> tuple[Cell, ...]:
    return tuple(
        Cell(k, evaluate(Combination(spark=spark, kubernetes=k)).path(path)) for k in minors
    )


def _spark_label(line: Version, line_size: int, group: list[Version]) -> str:
    if len(group) == line_size and line_size > 1:
        return f"{line}.x"
    return str(group[0]) if len(group) == 1 else f"{group[0]}–{group[-1]}"


def _operator_table(kb: Knowledge, minors: tuple[Version, ...]) -> Table:
    rows: list[Row] = []
    for line in kb.operators.lines:
        rows.extend(
            _merge_rows(
                list(line.releases),
                functools.partial(_operator_cells, kb, line, minors),
                functools.partial(_operator_label, line),
                member=functools.partial(kb.operator_tag, line),
            )
        )
    title = "kubeflow spark-operator images (the spark-submit bundled in each)"
    return Table(PathName.OPERATOR, title, tuple(rows))


def _operator_cells(
    kb: Knowledge, line: OperatorLine, minors: tuple[Version, ...], release: Version
) -> tuple[Cell, ...]:
    operator = OperatorVersion(release, None, kb.operator_tag(line, release))
    return tuple(
        Cell(k, evaluate(Combination(operator=operator, kubernetes=k)).path(PathName.OPERATOR))
        for k in minors
    )


def _operator_label(line: OperatorLine, group: list[Version]) -> str:
    prefix = f"{line.api}-" if line.api else "v"
    span = f"{prefix}{group[0]}" if len(group) == 1 else f"{prefix}{group[0]}–{group[-1]}"
    return f"{span} · Spark {line.spark}"


def _merge_rows(
    members: list[Version],
    cells: Callable[[Version], tuple[Cell, ...]],
    label: Callable[[list[Version]], str],
    member: Callable[[Version], str] = str,
) -> Iterator[Row]:
    """Consecutive members with identical cells become one row."""
    group: list[Version] = []
    group_cells: tuple[Cell, ...] = ()
    for version in members:
        mine = cells(version)
        if group and [c.signature() for c in mine] == [c.signature() for c in group_cells]:
            group.append(version)
            continue
        if group:
            yield Row(label(group), tuple(member(v) for v in group), group_cells)
        group, group_cells = [version], mine
    if group:
        yield Row(label(group), tuple(member(v) for v in group), group_cells)


# -- plain data ---------------------------------------------------------------------------------


def matrix_view(matrix: Matrix) -> dict[str, Any]:
    """The matrix as ``-o json`` prints it and the HTML page embeds it."""
    kb = load_knowledge()
    return {
        "kubernetes": [str(k) for k in matrix.kubernetes],
        "tables": [_table_view(t) for t in matrix.tables],
        "issues": {i.id: issue_view(i) for i in kb.issues},
    }


def _table_view(table: Table) -> dict[str, Any]:
    return {
        "path": table.path.value,
        "title": table.title,
        "rows": [
            {
                "label": r.label,
                "members": list(r.members),
                "cells": [_cell_view(c) for c in r.cells],
            }
            for r in table.rows
        ],
    }


def _cell_view(cell: Cell) -> dict[str, Any]:
    a = cell.assessment
    return {
        "kubernetes": str(cell.kubernetes),
        "verdict": a.verdict.value,
        "issues": [
            {
                "id": f.issue.id,
                "applies": "yes" if f.coverage.value == "all" else "depends",
                "reasons": [r.reason.id for r in f.reasons],
                "boundaries": [str(b) for b in f.boundaries],
                "why": [m.why for m in f.why] + [m.why for r in f.reasons for m in r.why],
            }
            for f in a.issues
        ],
        "caveats": [caveat_view(c) for c in a.caveats],
        "blockers": list(a.blockers),
        "avoided": [f.issue.id for f in a.avoided],
    }
