"""Where a line of evidence came from, and the line itself.

Owns the two small values every part of the doctor passes around: :class:`Where` (source, physical
line, the logical line inside an escaped one, the field of a structured document) and
:class:`Line`. It must not interpret the text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_TEXT", "Line", "Where"]

# Evidence lines are shown to people; a 5 MB single-line JSON log is cut to its useful start.
MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class Where:
    """A place in the input: ``f:42``, ``f:42 (part 3)``, ``f:17 status.x.errorMessage``."""

    source: str
    line: int  # 1-based physical line; 0 when the text did not come from a file
    part: int = 0  # 1-based logical line inside an escaped physical line or a multi-line value
    path: str = ""  # the field of a structured document the text is the value of

    def __str__(self) -> str:
        head = f"{self.source}:{self.line}" if self.line else self.source
        if self.path:
            head += f" {self.path}"
        return f"{head} (part {self.part})" if self.part else head

    def as_json(self) -> dict[str, object]:
        return {"source": self.source, "line": self.line, "part": self.part, "path": self.path}


@dataclass(frozen=True, slots=True)
class Line:
    """One logical line of text and where it is."""

    where: Where
    text: str

    @classmethod
    def of(cls, where: Where, text: str) -> Line:
        return cls(where, text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " …")

    def as_json(self) -> dict[str, object]:
        return {**self.where.as_json(), "text": self.text}
