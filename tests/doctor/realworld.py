"""The real-world corpus (tests/doctor/corpus) and how the doctor is scored on it.

``tune.yaml`` holds excerpts the knowledge base was written against, together with the files of
tests/doctor/excerpts; ``fresh.yaml`` is the held-out sample. Each case names the cause its thread
settled on and what the doctor must say: a known issue (and no other), a generic class (and no
known issue), or a near miss (none of the listed issues). Shared by the tests and by
tools/doctor_table.py, which writes the precision/recall table of docs/doctor.md.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from doctor.excerpts import all_names, load
from kubespark.doctor.engine import examine_text
from kubespark.doctor.report import Report

HERE = Path(__file__).parent / "corpus"
SAMPLES = ("tune", "fresh")


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    cause: str
    text: str
    sample: str  # tune | fresh
    issue: str | None = None
    generic: str | None = None
    never: tuple[str, ...] = ()

    @property
    def expected(self) -> str:
        if self.issue:
            return self.issue
        if self.generic:
            return f"generic:{self.generic}"
        return "near-miss"


@dataclass(frozen=True)
class Verdict:
    case: Case
    named: tuple[str, ...]  # known issues the doctor named
    generic: str | None  # the generic class, when no known issue was named
    exit_code: int

    @property
    def answer(self) -> str | None:
        if self.named:
            return self.named[0]
        return f"generic:{self.generic}" if self.generic else None

    @property
    def wrong_issues(self) -> tuple[str, ...]:
        """Known issues named that the thread's cause is not: the errors that mislead."""
        if self.case.never:
            return tuple(i for i in self.named if i in self.case.never)
        return tuple(i for i in self.named if i != self.case.issue)

    @property
    def right(self) -> bool:
        if self.exit_code != 1 and not self.case.never:
            return False
        if self.wrong_issues:
            return False
        if self.case.issue:
            return self.case.issue in self.named
        if self.case.generic:
            return self.generic == self.case.generic
        return True


def load_cases(sample: str) -> list[Case]:
    rows = yaml.safe_load((HERE / f"{sample}.yaml").read_text())
    cases = [_case(row, sample) for row in rows]
    if sample == "tune":
        cases += [_excerpt_case(name) for name in all_names()]
    return cases


def _case(row: dict[str, object], sample: str) -> Case:
    expect = row["expect"]
    assert isinstance(expect, dict), f"{row['id']}: expect is a mapping"
    return Case(
        id=str(row["id"]),
        source=str(row["source"]),
        cause=str(row["cause"]),
        text=str(row["text"]),
        sample=sample,
        issue=expect.get("issue"),
        generic=expect.get("generic"),
        never=tuple(expect.get("not", ())),
    )


def _excerpt_case(name: str) -> Case:
    ex = load(name)
    return Case(name, ex.source, ex.shows, ex.text, "tune", issue=name.split("--", 1)[0])


def judge(case: Case) -> Verdict:
    report: Report = examine_text(case.text, case.id)
    named = tuple(d.issue.id for d in report.diagnoses)
    generic = report.generic.id if report.generic and not named else None
    return Verdict(case, named, generic, 1 if report.found else 0)


@dataclass(frozen=True)
class Row:
    cls: str
    cases: int
    right: int
    named: int  # times the doctor gave this answer
    named_right: int

    @property
    def recall(self) -> float:
        return self.right / self.cases if self.cases else 0.0

    @property
    def precision(self) -> float:
        return self.named_right / self.named if self.named else 1.0


def table(verdicts: list[Verdict]) -> list[Row]:
    """Per expected class: cases, right answers, how often the doctor answered that class."""
    expected = Counter(v.case.expected for v in verdicts)
    right = Counter(v.case.expected for v in verdicts if v.right)
    answered = Counter(a for v in verdicts if (a := v.answer) is not None)
    answered_right = Counter(v.answer for v in verdicts if v.right and v.answer is not None)
    classes = sorted(set(expected) | set(answered))
    return [
        Row(c, expected[c], right[c], answered[c], answered_right[c])
        for c in classes
        if c != "near-miss"
    ]
