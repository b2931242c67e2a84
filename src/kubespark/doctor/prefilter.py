"""The doctor's prefilter: which literal fragments to look for, and one automaton to find them.

Owns turning every pattern the doctor knows (symptom literals and regexes, failure markers,
version hints) into short literal *fragments* such that any line a pattern matches contains at
least one of its fragments, and finding those fragments in bytes with one Aho-Corasick pass.
Only lines holding a fragment are ever decoded or matched against a regex: that is what keeps a
multi-GB log at hundreds of MB/s. It knows nothing about issues or logs.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ahocorasick_rs import BytesAhoCorasick, Implementation

from kubespark.errors import DataError

__all__ = ["MIN_FRAGMENT", "Automaton", "fragments_of_literal", "fragments_of_regex"]

# The stdlib's regex parser has no type stubs; it is the same parser ``re.compile`` uses, so the
# fragments found here are exactly the literals the compiled pattern requires.
_sre: Any = importlib.import_module("re._parser")
_consts: Any = importlib.import_module("re._constants")

MIN_FRAGMENT = 3
# Characters that JSON, YAML and Go's %q may write escaped (\" \\ \u0026 \u003c \n \t): a fragment
# never spans one, so it is found in escaped and unescaped text alike.
_ESCAPABLE = re.compile(r"[\"\\&<>'\n\t\r]")


def fragments_of_literal(text: str) -> tuple[str, ...]:
    """The one fragment for a literal: its longest run free of escapable characters."""
    pieces = [p for p in _ESCAPABLE.split(text) if p.strip()]
    best = max(pieces, key=len, default="")
    if len(best.strip()) < MIN_FRAGMENT:
        raise DataError(
            f"literal {text!r} has no run of {MIN_FRAGMENT}+ plain characters to look for",
            fix="make the symptom longer or more specific",
        )
    return (best,)


def fragments_of_regex(pattern: str) -> tuple[str, ...]:
    """Fragments such that every match of ``pattern`` contains at least one of them.

    For an alternation there is one fragment per branch. Case-insensitive patterns are refused:
    the automaton matches bytes exactly, and messages have one spelling, so write that one.
    """
    parsed = _sre.parse(pattern)
    if parsed.state.flags & re.IGNORECASE:
        raise DataError(
            f"regex {pattern!r} is case-insensitive; the doctor matches messages as spelled",
            fix="drop (?i) and write the message's own spelling (an alternation for variants)",
        )
    options = _required(list(parsed))
    if not options:
        raise DataError(
            f"regex {pattern!r} requires no literal of {MIN_FRAGMENT}+ characters",
            fix="anchor the regex on a literal word of the message it matches",
        )
    frags: list[str] = []
    for literal in options:
        frags.extend(fragments_of_literal(literal))
    return tuple(dict.fromkeys(frags))


def _required(items: Sequence[tuple[Any, Any]]) -> list[str] | None:
    """The best set of literals one of which every match of this sequence must contain."""
    candidates: list[list[str]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            candidates.append(["".join(run)])
            run.clear()

    for op, av in items:
        if op is _consts.LITERAL:
            run.append(chr(av))
            continue
        whole = _literal_branches(op, av)
        if run and whole:
            # The parser factors a shared prefix out of "spark-core_|spark-sql_": put it back,
            # so the fragments are the distinctive whole words, not the common prefix.
            prefix = "".join(run)
            candidates.append([prefix + w for w in whole])
        close_run()
        inner = _required_of(op, av)
        if inner:
            candidates.append(inner)
    close_run()
    viable = [c for c in candidates if min(len(s.strip()) for s in c) >= MIN_FRAGMENT]
    if not viable:
        return None
    # Prefer the set whose shortest literal is longest (fewer false candidates), then fewer.
    return max(viable, key=lambda c: (min(len(s) for s in c), -len(c)))


def _literal_branches(op: Any, av: Any) -> list[str] | None:
    """The alternatives of a group or alternation made only of literals, else None."""
    if op is _consts.SUBPATTERN:
        sub = list(av[3])
        return _literal_branches(*sub[0]) if len(sub) == 1 else None
    if op is not _consts.BRANCH:
        return None
    words = []
    for branch in av[1]:
        if not all(o is _consts.LITERAL for o, _ in branch):
            return None
        words.append("".join(chr(c) for _, c in branch))
    return words


def _required_of(op: Any, av: Any) -> list[str] | None:
    if op is _consts.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        if add_flags & re.IGNORECASE:
            return None  # a scoped case-insensitive group: its spelling is unknown
        return _required(list(sub))
    if op is _consts.BRANCH:
        branches = [_required(list(b)) for b in av[1]]
        if any(b is None for b in branches):
            return None  # one branch needs no literal, so no literal is required
        return [s for b in branches if b for s in b]
    if op in (_consts.MAX_REPEAT, _consts.MIN_REPEAT, _consts.POSSESSIVE_REPEAT):
        low, _high, sub = av
        return _required(list(sub)) if low >= 1 else None
    if op is _consts.ATOMIC_GROUP:
        return _required(list(av))
    return None


@dataclass(frozen=True)
class Automaton:
    """Every fragment of a vocabulary in one Aho-Corasick automaton over bytes.

    ``owners[i]`` are the caller's keys for fragment ``i`` (several patterns may share one).
    """

    fragments: tuple[bytes, ...]
    owners: tuple[tuple[int, ...], ...]
    _ac: BytesAhoCorasick = field(repr=False, compare=False)

    @classmethod
    def build(cls, keyed: Iterable[tuple[str, int]]) -> Automaton:
        """Build from ``(fragment, owner key)`` pairs; equal fragments share one entry."""
        index: dict[bytes, list[int]] = {}
        for text, key in keyed:
            index.setdefault(text.encode(), []).append(key)
        frags = tuple(index)
        owners = tuple(tuple(dict.fromkeys(index[f])) for f in frags)
        # The DFA is the fastest to search; its size is small for a few hundred fragments.
        ac = BytesAhoCorasick(frags, implementation=Implementation.DFA)
        return cls(frags, owners, ac)

    def first_hits(self, haystack: bytes | memoryview) -> list[tuple[int, int, int]]:
        """Non-overlapping hits ``(fragment, start, end)``: enough to find candidate lines."""
        return self._ac.find_matches_as_indexes(haystack)

    def owners_in(self, line: bytes) -> set[int]:
        """Every owner key whose fragment occurs in ``line`` (overlapping search)."""
        found = {i for i, _s, _e in self._ac.find_matches_as_indexes(line, overlapping=True)}
        return {key for i in found for key in self.owners[i]}
