"""One pass over a byte stream, yielding only the lines that hold a known fragment.

Owns reading any log (a file, stdin, a pipe) in fixed-size chunks, finding candidate lines with
the prefilter automaton over each whole chunk, and numbering them, in constant memory: one chunk,
the partial line carried into the next, and a ring of the last few lines for context. Lines
without a fragment are never decoded. It knows nothing about what the fragments mean.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from kubespark.doctor.prefilter import Automaton

__all__ = ["CHUNK", "ByteSource", "Candidate", "LineScanner"]

CHUNK = 8 << 20
# A "line" longer than this (a binary blob, a log without newlines) is cut, so memory stays bounded.
MAX_LINE = 32 << 20


class ByteSource(Protocol):
    """Anything with ``read(n) -> bytes``: a file, stdin's buffer, a pipe, a wrapper."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """A physical line holding at least one fragment."""

    line_no: int  # 1-based
    raw: bytes  # without its newline
    owners: frozenset[int]  # owner keys of the fragments in it
    before: tuple[bytes, ...]  # up to ``context`` preceding lines, oldest first


class LineScanner:
    """Scans streams with one automaton; counts what it read (``bytes_read``, ``lines``)."""

    def __init__(self, automaton: Automaton, *, chunk_size: int = CHUNK, context: int = 2) -> None:
        self.automaton = automaton
        self.chunk_size = chunk_size
        self.context = context
        self.bytes_read = 0
        self.lines = 0

    def scan(self, stream: ByteSource) -> Iterator[Candidate]:
        carry = b""
        base_line = 0
        ring: deque[bytes] = deque(maxlen=self.context)
        while True:
            data = stream.read(self.chunk_size)
            self.bytes_read += len(data)
            buf = carry + data if carry else data
            eof = not data
            end = len(buf) if eof else buf.rfind(b"\n") + 1
            if end == 0 and not eof:
                if len(buf) <= MAX_LINE:
                    carry = buf
                    continue
                end = len(buf)
            yield from self._candidates(buf, end, base_line, ring)
            newlines = buf.count(b"\n", 0, end)
            base_line += newlines
            self.lines = base_line + (1 if eof and end and not buf.endswith(b"\n") else 0)
            _remember_tail(ring, buf, end, self.context)
            carry = buf[end:]
            if eof:
                return

    def _candidates(
        self, buf: bytes, end: int, base_line: int, ring: deque[bytes]
    ) -> Iterator[Candidate]:
        counted_pos = 0
        counted = 0
        next_free = 0  # hits before this offset belong to a line already yielded
        for _frag, start, _stop in self.automaton.first_hits(memoryview(buf)[:end]):
            if start < next_free:
                continue
            line_start = buf.rfind(b"\n", 0, start) + 1
            line_end = buf.find(b"\n", start, end)
            if line_end == -1:
                line_end = end
            counted += buf.count(b"\n", counted_pos, line_start)
            counted_pos = line_start
            raw = buf[line_start:line_end]
            yield Candidate(
                line_no=base_line + counted + 1,
                raw=raw,
                owners=frozenset(self.automaton.owners_in(raw)),
                before=self._before(buf, line_start, ring),
            )
            next_free = line_end + 1

    def _before(self, buf: bytes, line_start: int, ring: deque[bytes]) -> tuple[bytes, ...]:
        lines: list[bytes] = []
        pos = line_start
        while len(lines) < self.context and pos > 0:
            prev_start = buf.rfind(b"\n", 0, pos - 1) + 1
            lines.append(buf[prev_start : pos - 1])
            pos = prev_start
        if len(lines) < self.context and pos == 0:
            lines.extend(reversed(list(ring)[-(self.context - len(lines)) :] if ring else []))
        return tuple(reversed(lines))


def _remember_tail(ring: deque[bytes], buf: bytes, end: int, context: int) -> None:
    """Keep the last ``context`` complete lines of this chunk for the next chunk's first lines."""
    pos = end
    tail: list[bytes] = []
    while len(tail) < context and pos > 0:
        start = buf.rfind(b"\n", 0, pos - 1) + 1
        tail.append(buf[start : pos - 1] if buf[pos - 1 : pos] == b"\n" else buf[start:pos])
        pos = start
    for line in reversed(tail):
        ring.append(line)
