"""What a submission failure says: the API error, the doctor's diagnosis, what was cleaned up.

Owns :class:`SubmissionFailed` (and :class:`SubmissionConflict` for a name taken by an object
that is not this submission's) and :func:`diagnose`, the one place the submitter asks the doctor
about a failure's text. A failure is either *temporary* (the server was overloaded or
unreachable; the objects written so far are left for the retry to adopt) or permanent (they were
deleted, as spark-submit deletes its driver pod when a later write fails).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubespark.compat import ObjectRef
from kubespark.errors import KubesparkError
from kubespark.kube.errors import APIError, TemporaryAPIError

__all__ = ["Diagnosis", "SubmissionConflict", "SubmissionFailed", "diagnose"]


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The doctor's finding for a failure: the known issue and its cheapest remedy."""

    issue_id: str
    title: str
    remedy: str
    detail: str = ""

    def render(self) -> str:
        head = f"known issue {self.issue_id}: {self.title}; remedy: {self.remedy}"
        return f"{head} ({self.detail})" if self.detail else head


def diagnose(text: str) -> Diagnosis | None:
    """The doctor's best diagnosis of ``text`` (an API error as the server words it), or None."""
    # Imported here: only a failed submission needs the doctor, and it is slow to load.
    from kubespark.doctor.engine import examine_text

    report = examine_text(text, "submission")
    for found in report.diagnoses:
        remedies = found.remedies
        remedy = remedies[0].action if remedies else "see the issue's root cause"
        detail = " ".join(((remedies[0].detail or "") if remedies else "").split())
        return Diagnosis(found.issue.id, found.issue.title, remedy, detail)
    return None


class SubmissionFailed(KubesparkError):
    """A submission that did not complete.

    ``cause`` is the typed API error (or the planner's error) that stopped it; ``diagnosis`` the
    doctor's finding for its text; ``written`` the objects the attempt had written and
    ``deleted`` those it removed again (permanent failures only); ``temporary`` says whether the
    same attempt may simply be retried.
    """

    def __init__(
        self,
        message: str,
        *,
        cause: KubesparkError | None,
        diagnosis: Diagnosis | None = None,
        written: tuple[ObjectRef, ...] = (),
        deleted: tuple[ObjectRef, ...] = (),
        temporary: bool = False,
        fix: str | None = None,
        where: str | None = None,
    ) -> None:
        if diagnosis is not None:
            fix = diagnosis.remedy + (f" ({diagnosis.detail})" if diagnosis.detail else "")
        super().__init__(message, fix=fix or (cause.fix if cause else None), where=where)
        self.cause = cause
        self.diagnosis = diagnosis
        self.written = written
        self.deleted = deleted
        self.temporary = temporary

    @property
    def api_error(self) -> APIError | None:
        return self.cause if isinstance(self.cause, APIError) else None

    def summary(self) -> str:
        """One line for ``status.applicationState.errorMessage``: the error, then the diagnosis."""
        text = self.message
        if self.diagnosis is not None:
            text += f" [{self.diagnosis.render()}]"
        return text

    @classmethod
    def from_api_error(
        cls,
        err: APIError,
        *,
        what: str,
        written: tuple[ObjectRef, ...] = (),
        deleted: tuple[ObjectRef, ...] = (),
    ) -> SubmissionFailed:
        temporary = isinstance(err, TemporaryAPIError)
        where = err.where or ""
        text = f"{where}: HTTP {err.status.code} {err.reason}: {err.message}".strip(": ")
        return cls(
            f"{what}: {err.message}",
            cause=err,
            diagnosis=None if temporary else diagnose(text),
            written=written,
            deleted=deleted,
            temporary=temporary,
            where=where or None,
        )


class SubmissionConflict(SubmissionFailed):
    """An object with a name this submission needs exists and is not this submission's."""

    def __init__(
        self,
        ref: ObjectRef,
        why: str,
        *,
        terminating: bool = False,
        existing: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            f"{ref} already exists and {why}",
            cause=None,
            temporary=terminating,
            fix="delete it, or give the application another name (spec.driver.podName for the pod)"
            if not terminating
            else "wait until it is gone; the submission is retried",
        )
        self.ref = ref
        self.terminating = terminating
        self.existing: Mapping[str, Any] = existing or {}
