"""The matrix: every release on every minor, rows merged only where cells are identical."""

from __future__ import annotations

import json

from kubespark.knowledge import PathName, Verdict, build_matrix, load_knowledge, matrix_view
from kubespark.knowledge.matrix import Row


def _row(path: PathName, label: str) -> Row:
    return next(r for r in build_matrix().table(path).rows if r.label == label)


def _cell(row: Row, minor: str) -> dict[str, object]:
    cell = next(c for c in row.cells if str(c.kubernetes) == minor)
    return {"verdict": cell.verdict, "issues": cell.issue_ids}


def test_columns_are_every_minor_from_the_floor_to_the_newest() -> None:
    kb = load_knowledge()
    minors = [str(k) for k in build_matrix().kubernetes]
    assert minors[0] == "1.16"
    assert minors[-1] == str(kb.kubernetes.minors.newest)
    assert len(minors) == kb.kubernetes.minors.newest.minor - 16 + 1


def test_every_release_appears_in_exactly_one_row_of_each_spark_table() -> None:
    releases = [str(v) for v in load_knowledge().spark_releases]
    for path in (PathName.SPARK_SUBMIT, PathName.KUBESPARK):
        members = [m for r in build_matrix().table(path).rows for m in r.members]
        assert members == releases


def test_every_operator_release_appears_once() -> None:
    kb = load_knowledge()
    tags = [kb.operator_tag(line, r) for line in kb.operators.lines for r in line.releases]
    members = [m for r in build_matrix().table(PathName.OPERATOR).rows for m in r.members]
    assert members == tags
    assert "v1beta2-1.6.2-3.5.0" in members and "v2.1.0" in members


def test_spark_35_on_119_is_decided_by_the_ssa_issue() -> None:
    row = _row(PathName.SPARK_SUBMIT, "3.5.x")
    assert _cell(row, "1.19") == {
        "verdict": Verdict.INCOMPATIBLE,
        "issues": ("spark35-ssa-old-k8s",),
    }
    assert _cell(row, "1.20")["verdict"] is Verdict.DEPENDS
    assert _cell(row, "1.21") == {"verdict": Verdict.COMPATIBLE, "issues": ()}


def test_rows_merge_only_identical_releases() -> None:
    labels = [r.label for r in build_matrix().table(PathName.SPARK_SUBMIT).rows]
    # 2.4.0-2.4.4 bundle fabric8 < 4.4.2 (403 on patched servers); 2.4.5+ do not.
    assert "2.4.0–2.4.4" in labels and "2.4.5–2.4.8" in labels
    for table in build_matrix().tables:
        for row in table.rows:
            assert len(row.cells) == len(build_matrix().kubernetes)


def test_kubespark_table_has_no_ssa_verdicts() -> None:
    row = _row(PathName.KUBESPARK, "3.5.x")
    assert all(c.verdict is Verdict.COMPATIBLE for c in row.cells)
    assert "spark35-ssa-old-k8s" in [f.issue.id for f in row.cells[3].assessment.avoided]


def test_json_view_is_plain_data_with_issue_details() -> None:
    view = matrix_view(build_matrix())
    json.dumps(view)  # serialisable as is
    assert [t["path"] for t in view["tables"]] == ["spark-submit", "operator", "kubespark"]
    ssa = view["issues"]["spark35-ssa-old-k8s"]
    assert ssa["remedies"][0]["rank"] == 1 and ssa["remedies"][0]["cost"] == "upgrade"
    submit = view["tables"][0]
    row = next(r for r in submit["rows"] if r["label"] == "3.5.x")
    cell = next(c for c in row["cells"] if c["kubernetes"] == "1.20")
    assert cell["verdict"] == "depends"
    assert cell["issues"][0]["boundaries"] == ["1.20.6"]
