"""Regenerate the precision/recall table of docs/doctor.md from the real-world corpus.

    .venv/bin/python tools/doctor_table.py           rewrite the table in docs/doctor.md
    .venv/bin/python tools/doctor_table.py --check   exit 1 if docs/doctor.md is out of date

Runs the doctor on every case of tests/doctor/corpus (and tests/doctor/excerpts), per sample
(tune: what the knowledge base was written against; fresh: the held-out sample), and writes,
per expected class, how many cases it got right (recall) and how often its answer of that class
was right (precision), between the table markers of docs/doctor.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from doctor.realworld import SAMPLES, Row, Verdict, judge, load_cases, table  # noqa: E402

DOC = ROOT / "docs" / "doctor.md"
BEGIN, END = "<!-- doctor-table:begin -->", "<!-- doctor-table:end -->"


def render() -> str:
    verdicts = {s: [judge(c) for c in load_cases(s)] for s in SAMPLES}
    lines = [BEGIN, "", _summary(verdicts), ""]
    lines += ["| class | sample | cases | right | recall | answered | precision |"]
    lines += ["|---|---|---:|---:|---:|---:|---:|"]
    for sample in SAMPLES:
        lines += [_row(r, sample) for r in table(verdicts[sample])]
    lines += ["", END]
    return "\n".join(lines)


def _summary(verdicts: dict[str, list[Verdict]]) -> str:
    parts = []
    for sample, vs in verdicts.items():
        right = sum(v.right for v in vs)
        wrong = sum(bool(v.wrong_issues) for v in vs)
        parts.append(
            f"**{sample}**: {right}/{len(vs)} right cause ({100 * right / len(vs):.0f}%), "
            f"{wrong} wrong known issues"
        )
    return "; ".join(parts) + "."


def _row(r: Row, sample: str) -> str:
    return (
        f"| {r.cls} | {sample} | {r.cases} | {r.right} | {r.recall:.0%} | {r.named} "
        f"| {r.precision:.0%} |"
    )


def main() -> int:
    text = DOC.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    updated = head + render() + tail
    if "--check" in sys.argv:
        if updated != text:
            print("docs/doctor.md is out of date: run tools/doctor_table.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(updated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
