"""Real excerpts quoted in public issue threads, kept with their source (tests/doctor/excerpts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent / "excerpts"


@dataclass(frozen=True)
class Excerpt:
    name: str
    source: str
    shows: str
    text: str
    path: Path


def load(name: str) -> Excerpt:
    """``name`` is the file's stem; the header (``source:``, ``shows:``) ends at a ``---`` line."""
    path = HERE / f"{name}.txt"
    header, _, body = path.read_text().partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in header.splitlines())
    return Excerpt(name, fields["source"], fields["shows"], body, path)


def all_names() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.txt"))
