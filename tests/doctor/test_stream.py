"""The streaming scanner finds exactly the lines a naive line-by-line search finds."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from kubespark.doctor.prefilter import Automaton
from kubespark.doctor.stream import LineScanner

FRAGMENTS = ["Exception", "failed to create typed patch object", "code=500", "OOMKilled"]
AUTOMATON = Automaton.build((f, i) for i, f in enumerate(FRAGMENTS))

_words = st.sampled_from(
    ["INFO", "spark", "Exception", "code=500", "x", "failed to create typed patch object", "OOM"]
)
_lines = st.lists(st.lists(_words, max_size=6).map(" ".join), max_size=40)


def _naive(lines: list[str]) -> list[tuple[int, str, frozenset[int]]]:
    found = []
    for no, line in enumerate(lines, 1):
        owners = frozenset(i for i, f in enumerate(FRAGMENTS) if f in line)
        if owners:
            found.append((no, line, owners))
    return found


@given(lines=_lines, chunk=st.integers(min_value=1, max_value=64), trailing=st.booleans())
def test_candidates_match_a_naive_search_at_any_chunk_size(
    lines: list[str], chunk: int, trailing: bool
) -> None:
    text = "\n".join(lines) + ("\n" if trailing and lines else "")
    scanner = LineScanner(AUTOMATON, chunk_size=chunk)
    got = [(c.line_no, c.raw.decode(), c.owners) for c in scanner.scan(io.BytesIO(text.encode()))]
    assert got == _naive(text.split("\n") if text else [])
    assert scanner.bytes_read == len(text.encode())


@given(lines=_lines, chunk=st.integers(min_value=1, max_value=32))
def test_context_holds_the_preceding_lines_across_chunk_boundaries(
    lines: list[str], chunk: int
) -> None:
    text = "\n".join(lines) + "\n"
    scanner = LineScanner(AUTOMATON, chunk_size=chunk, context=2)
    for cand in scanner.scan(io.BytesIO(text.encode())):
        start = max(0, cand.line_no - 3)
        expected = tuple(s.encode() for s in lines[start : cand.line_no - 1])
        assert cand.before == expected


def test_counts_lines_and_bytes() -> None:
    data = b"a\nException b\nc"
    scanner = LineScanner(AUTOMATON, chunk_size=4)
    assert [c.line_no for c in scanner.scan(io.BytesIO(data))] == [2]
    assert scanner.lines == 3
    assert scanner.bytes_read == len(data)
