"""Built-in objects against the emulated version's types, answered as apiserver answers.

Owns turning the API surface's object checks (``check_object``, ``prune_unknown_fields``) into
what the server does with a write: unknown fields are dropped (and, by field-validation mode,
warned about or refused); a value of the wrong JSON type fails decoding (400, ``cannot be
handled as a``); a missing required field or a value outside an enum is a field error (422).
The checks themselves are the surface's; this module only maps their findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubespark.apisurface import (
    FieldProblem,
    ProblemKind,
    check_object,
    check_value,
    prune_unknown_fields,
)
from kubespark.apisurface.model import ApiSurface
from kubespark.emulator.apiserver.wire import FieldError

__all__ = ["BuiltinChecks", "CheckResult"]

_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@dataclass
class CheckResult:
    decode_errors: list[str] = field(default_factory=list)  # -> 400, as a decoding failure
    field_errors: list[FieldError] = field(default_factory=list)  # -> 422


def _field_path(path: str) -> str:
    """``.spec.ports[0].name`` as apiserver writes field paths: ``spec.ports[0].name``."""
    return path[1:] if path.startswith(".") else path


@dataclass(frozen=True)
class BuiltinChecks:
    """Unknown-field pruning and type checks for one version's built-in kinds."""

    surface: ApiSurface

    def prune(self, obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The object without fields the version does not know, and their paths."""
        pruned, removed = prune_unknown_fields(self.surface, obj)
        return pruned, [_field_path(p) for p in removed]

    def check(self, obj: dict[str, Any]) -> CheckResult:
        return self._result(obj, check_object(self.surface, obj))

    def check_metadata(self, metadata: Any) -> CheckResult:
        """ObjectMeta alone (custom resources: their schema does not describe metadata)."""
        problems = check_value(self.surface, _OBJECT_META, metadata) if metadata else []
        result = self._result({"metadata": metadata}, problems)
        result.decode_errors = [
            f"metadata{e}" if e.startswith("[") else f"metadata.{e}" for e in result.decode_errors
        ]
        return result

    def _result(self, obj: dict[str, Any], problems: list[FieldProblem]) -> CheckResult:
        result = CheckResult()
        for problem in problems:
            path = _field_path(problem.path)
            if problem.kind is ProblemKind.MISSING_REQUIRED:
                if path not in ("apiVersion", "kind", "metadata"):
                    result.field_errors.append(FieldError("Required", path))
            elif problem.kind is ProblemKind.NOT_IN_ENUM:
                value = _value_at(obj, path)
                result.field_errors.append(
                    FieldError("NotSupported", path, value=value, supported=_supported(problem.fix))
                )
            elif problem.kind in (ProblemKind.WRONG_TYPE, ProblemKind.INVALID_VALUE):
                result.decode_errors.append(f"{path}: {problem.message}")
        return result


def _supported(fix: str) -> tuple[str, ...]:
    listed = fix.removeprefix("use one of ")
    return tuple(s.strip() for s in listed.split(",") if s.strip())


def _value_at(obj: Any, path: str) -> Any:
    node = obj
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if part.startswith("[") and isinstance(node, list):
            try:
                node = node[int(part[1:-1])]
            except (ValueError, IndexError):
                return None
        elif isinstance(node, dict):
            node = node.get(part.strip("[]"))
        else:
            return None
    return node
