"""The generic fallback: a cause and a next step for the common API answers, known issue or not.

Owns loading ``data/generic.yaml`` (ordered classes: a regex over the failure's lines, the HTTP
status it stands for, a cause and a next step with ``{who}``/``{what}`` filled from the match) and
picking the first class any failure line shows. It reads only a :class:`FailureSummary`; it
knows no known issue and must not read input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict

from kubespark.doctor.failure import FailureSummary
from kubespark.doctor.lines import Line

__all__ = ["GenericCause", "GenericClass", "classify", "load_classes"]


class GenericClass(BaseModel):
    """One common API answer, as a data row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    regex: str
    cause: str
    next: str
    status: int | None = None

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.regex)


@functools.cache
def _compiled(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


@dataclass(frozen=True)
class GenericCause:
    """The class a failure's text shows, said in its own words."""

    id: str
    cause: str
    next_step: str
    status: int | None
    line: Line

    def as_json(self) -> dict[str, object]:
        return {
            "class": self.id,
            "cause": self.cause,
            "next_step": self.next_step,
            "status": self.status,
            **self.line.as_json(),
        }


@functools.cache
def load_classes() -> tuple[GenericClass, ...]:
    text = resources.files("kubespark.doctor").joinpath("data/generic.yaml").read_text()
    return tuple(GenericClass.model_validate(row) for row in yaml.safe_load(text))


def classify(failure: FailureSummary, evidence: Iterable[Line] = ()) -> GenericCause | None:
    """The first class (in data order) whose regex any failure line matches.

    ``evidence``: the lines known issues matched, which a warning-level log line (a watch's
    ``Exec Failure: HTTP 410``) may have kept out of the failure summary.
    """
    lines = [*_lines(failure), *evidence]
    for cls in load_classes():
        for line in lines:
            m = cls.pattern.search(line.text)
            if m is None:
                continue
            fill = _Fill({k: v for k, v in m.groupdict().items() if v})
            return GenericCause(
                cls.id, cls.cause.format_map(fill), cls.next.format_map(fill), cls.status, line
            )
    return None


def _lines(failure: FailureSummary) -> Iterator[Line]:
    for chain in failure.chains:
        yield chain.first
        yield from chain.causes
    yield from (line for _, line in failure.signals)
    if failure.app_error is not None:
        yield failure.app_error


class _Fill(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return {"who": "?", "res": "the resource"}.get(key, "that")
