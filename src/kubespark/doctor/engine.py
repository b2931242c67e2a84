"""The doctor's single pass: every input read once, every line that matters fed to every matcher.

Owns the vocabulary (one automaton over the fragments of the knowledge base's symptoms, the
generic failure markers and the version hints), reading each input as a stream or, when it is a
small YAML/JSON document, as a document, and collecting evidence into a :class:`Report`: the
symptoms of each issue, the ``excludes`` that rule one out, the generic cause. Lines that are
kubespark's own compat notes are skipped (they quote refusals kubespark worked around). Memory
is bounded however large the input: one chunk, a few evidence lines per symptom, a few versions.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from kubespark.doctor.documents import MAX_DOCUMENT, document_lines, looks_structured
from kubespark.doctor.failure import FAILURE_FRAGMENTS, FailureTracker
from kubespark.doctor.generic import classify
from kubespark.doctor.infer import COMPONENTS, Hint, VersionLedger, load_hints
from kubespark.doctor.lines import Line, Where
from kubespark.doctor.prefilter import Automaton, fragments_of_literal, fragments_of_regex
from kubespark.doctor.report import (
    Evidence,
    EvidenceKey,
    Report,
    SourceStats,
    diagnose,
)
from kubespark.doctor.stream import CHUNK, ByteSource, LineScanner
from kubespark.doctor.unescape import logical_lines
from kubespark.errors import DataError
from kubespark.knowledge import Issue, Knowledge, load_knowledge
from kubespark.knowledge.schema import Reason, Symptom

__all__ = ["Input", "Vocabulary", "examine", "examine_text", "vocabulary"]

FAILURE_KEY = 0
MAX_EVIDENCE_PER_SYMPTOM = 3
_SNIFF = 64 << 10


@dataclass(frozen=True)
class Rule:
    """One symptom of one issue (or one of its reasons), ready to test a line."""

    issue: Issue
    reason: Reason | None
    symptom: Symptom
    regex: re.Pattern[str] | None
    veto: bool = False  # one of the issue's ``excludes``: seeing it rules the issue out

    def test(self, text: str) -> bool:
        if self.regex is not None:
            return self.regex.search(text) is not None
        return str(self.symptom.literal) in text

    @property
    def key(self) -> EvidenceKey:
        return (self.issue.id, self.reason.id if self.reason else None)


@dataclass(frozen=True)
class Vocabulary:
    """Everything the doctor looks for, behind one automaton; owner keys index the tables."""

    automaton: Automaton
    rules: dict[int, Rule]
    hints: dict[int, Hint]

    @classmethod
    def build(cls, kb: Knowledge) -> Vocabulary:
        pairs: list[tuple[str, int]] = [(f, FAILURE_KEY) for f in FAILURE_FRAGMENTS]
        hints: dict[int, Hint] = {}
        rules: dict[int, Rule] = {}
        key = FAILURE_KEY + 1
        for hint in load_hints():
            hints[key] = hint
            pairs += [(f, key) for f in hint.fragments]
            key += 1
        for rule in _rules(kb):
            rules[key] = rule
            pairs += [(f, key) for f in _fragments(rule)]
            key += 1
        return cls(Automaton.build(pairs), rules, hints)


def _rules(kb: Knowledge) -> Iterable[Rule]:
    for issue in kb.issues:
        owners: list[tuple[Reason | None, tuple[Symptom, ...]]] = [(None, issue.symptoms)]
        owners += [(r, r.symptoms) for r in issue.reasons]
        for reason, symptoms in owners:
            for symptom in symptoms:
                yield Rule(issue, reason, symptom, _compiled(symptom))
        for symptom in issue.excludes:
            yield Rule(issue, None, symptom, _compiled(symptom), veto=True)


def _compiled(symptom: Symptom) -> re.Pattern[str] | None:
    return re.compile(symptom.regex) if symptom.regex is not None else None


def _fragments(rule: Rule) -> tuple[str, ...]:
    where = f"issues/{rule.issue.id}.yaml" + (f" reason {rule.reason.id}" if rule.reason else "")
    try:
        if rule.symptom.regex is not None:
            return fragments_of_regex(rule.symptom.regex)
        return fragments_of_literal(str(rule.symptom.literal))
    except DataError as err:
        raise DataError(f"{where}: {err.message}", fix=err.fix) from None


@functools.cache
def vocabulary() -> Vocabulary:
    """The vocabulary of the packaged knowledge base, built once per process."""
    return Vocabulary.build(load_knowledge())


@dataclass(frozen=True)
class Input:
    """One input: a name for messages (a path, ``<stdin>``, ``cluster: pod/x``) and its bytes."""

    name: str
    stream: BinaryIO


@dataclass
class _Examination:
    vocab: Vocabulary
    evidence: dict[EvidenceKey, list[Evidence]] = field(default_factory=dict)
    tracker: FailureTracker = field(default_factory=FailureTracker)
    ledger: VersionLedger = field(default_factory=VersionLedger)
    vetoes: dict[str, Evidence] = field(default_factory=dict)  # issue id -> the line ruling it out

    def take(self, line: Line, owners: Iterable[int]) -> None:
        if _kubesparks_own_note(line):
            return
        for key in owners:
            if key == FAILURE_KEY:
                self.tracker.feed(line)
            elif (hint := self.vocab.hints.get(key)) is not None:
                self.ledger.read(hint, line)
            else:
                self._symptom(self.vocab.rules[key], line)

    def _symptom(self, rule: Rule, line: Line) -> None:
        if rule.veto:
            if rule.issue.id not in self.vetoes and rule.test(line.text):
                means = " ".join(rule.symptom.means.split())
                self.vetoes[rule.issue.id] = Evidence(line, rule.symptom.pattern, means)
            return
        kept = self.evidence.setdefault(rule.key, [])
        same = [e for e in kept if e.pattern == rule.symptom.pattern]
        if len(same) >= MAX_EVIDENCE_PER_SYMPTOM or not rule.test(line.text):
            return
        kept.append(Evidence(line, rule.symptom.pattern, " ".join(rule.symptom.means.split())))


# kubespark's own compat notes quote the server refusals it worked around: never evidence,
# whether read from the annotation, the status, or the operator's Event repeating them.
_OWN_NOTE_KEYS = ("kubespark.io/compat-notes", "compatNotes", "SparkApplicationCompatNotes")
# One note as kubectl describe lists it under "Compat Notes:" (compat.planner's prefix), or as
# the message of the operator's Event that repeats them.
_OWN_NOTE_LINE = re.compile(r"\s*(?:-\s+)?(?:message:\s+)?server v?\d+\.\d+(?:\.\d+)?\S*: ")


def _kubesparks_own_note(line: Line) -> bool:
    path = line.where.path or ""
    if any(k in path or k in line.text for k in _OWN_NOTE_KEYS):
        return True
    return _OWN_NOTE_LINE.match(line.text) is not None


def examine(
    inputs: Sequence[Input], kb: Knowledge | None = None, *, chunk_size: int = CHUNK
) -> Report:
    """Read every input once and diagnose; ``kb`` defaults to the packaged knowledge base."""
    kb = kb or load_knowledge()
    vocab = vocabulary() if kb is load_knowledge() else Vocabulary.build(kb)
    exam = _Examination(vocab)
    stats = [_read_one(exam, item, chunk_size) for item in inputs]
    ledger = exam.ledger.complete(kb)
    versions = tuple(v for c in COMPONENTS for v in ledger.versions(c))
    failure = exam.tracker.summary()
    return Report(
        sources=tuple(stats),
        diagnoses=diagnose(kb, exam.evidence, ledger, frozenset(exam.vetoes)),
        versions=versions,
        failure=failure,
        generic=classify(failure, (e.line for kept in exam.evidence.values() for e in kept)),
        ruled_out=tuple(
            (issue, why)
            for issue, why in sorted(exam.vetoes.items())
            if any(key[0] == issue and kept for key, kept in exam.evidence.items())
        ),
    )


def examine_text(text: str, name: str = "<text>", kb: Knowledge | None = None) -> Report:
    """Diagnose text already in memory (tests, the live ``--app`` mode)."""
    return examine([Input(name, io.BytesIO(text.encode()))], kb)


def _read_one(exam: _Examination, item: Input, chunk_size: int) -> SourceStats:
    head = item.stream.read(_SNIFF)
    if looks_structured(head):
        rest = item.stream.read(MAX_DOCUMENT - len(head) + 1)
        data = head + rest
        if len(data) <= MAX_DOCUMENT:
            lines = document_lines(item.name, data)
            if lines is not None:
                for line in lines:
                    exam.take(line, exam.vocab.automaton.owners_in(line.text.encode()))
                count = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
                return SourceStats(item.name, len(data), count, "document")
        head = data
    return _read_text(exam, item.name, _Prefixed(head, item.stream), chunk_size)


def _read_text(exam: _Examination, name: str, stream: ByteSource, chunk_size: int) -> SourceStats:
    scanner = LineScanner(exam.vocab.automaton, chunk_size=chunk_size)
    automaton = exam.vocab.automaton
    for cand in scanner.scan(stream):
        parts = logical_lines(cand.raw.decode("utf-8", "replace"))
        if len(parts) == 1:
            exam.take(Line.of(Where(name, cand.line_no), parts[0]), cand.owners)
            continue
        for i, part in enumerate(parts, 1):
            owners = automaton.owners_in(part.encode())
            if owners:
                exam.take(Line.of(Where(name, cand.line_no, i), part), owners)
    return SourceStats(name, scanner.bytes_read, scanner.lines, "text")


class _Prefixed:
    """Bytes already read (the sniffed head), then the rest of the stream."""

    def __init__(self, head: bytes, rest: ByteSource) -> None:
        self._head = head
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if not self._head:
            return self._rest.read(size)
        cut = len(self._head) if size < 0 else size
        out, self._head = self._head[:cut], self._head[cut:]
        return out
