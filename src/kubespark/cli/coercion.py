"""Flag values turned into Python values without pydantic: what typer does, for plain types.

typer (0.29) converts every parameter through a pydantic ``TypeAdapter`` it builds at parse
time: importing pydantic and generating a schema per flag costs a command more than its own
work (``kubespark check`` spent half its start-up there). kubespark's flags are all plain
(``str``, ``int``, ``float``, ``bool``, a ``StrEnum`` of choices, ``Path``, lists of ``str``;
no ``min``/``max``/``parser``/path checks), so :func:`install` gives each such parameter a
:class:`PlainParam` that converts as the adapter would, with the same error wording; anything
else keeps typer's own. Owns only that conversion; it relies on typer's private runtime-param
hook (``_TyperParameter._runtime_param``), taken as the pinned typer has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer._click.exceptions import BadParameter
from typer._coercion import RuntimeParam
from typer._param_types import coerce_cli_choice, coerce_cli_path, routes_to_path

__all__ = ["PlainParam", "install"]

# What pydantic's bool accepts from a string (lax mode), as typer's adapter does.
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"", "0", "off", "f", "false", "n", "no"})
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class PlainParam(RuntimeParam):
    """typer's coercion of one plain-typed parameter, without a TypeAdapter."""

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        annotation: Any = self.annotation
        if get_origin(annotation) is list:
            item = get_args(annotation)[0]
            values = value if isinstance(value, list | tuple) else [value]
            return [self._one(item, v, param, ctx) for v in values]
        return self._one(annotation, value, param, ctx)

    def _one(self, annotation: Any, value: Any, param: Any, ctx: Any) -> Any:
        try:
            return _convert(annotation, value, self, param, ctx)
        except ValueError as err:
            raise BadParameter(str(err), ctx=ctx, param=param) from None


def _convert(annotation: Any, value: Any, owner: PlainParam, param: Any, ctx: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        case = owner.parameter_info.case_sensitive
        return coerce_cli_choice(value, choices=list(annotation), case_sensitive=case, ctx=ctx)
    if annotation is bool:
        return _bool(value)
    if annotation is int:
        return _number(int, value, "integer")
    if annotation is float:
        return _number(float, value, "number")
    if annotation is str:
        return value if isinstance(value, str) else str(value)
    path_type = annotation if isinstance(annotation, type) else None
    return coerce_cli_path(value, owner.parameter_info, path_type=path_type, param=param, ctx=ctx)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("Input should be a valid boolean, unable to interpret input")


def _number(kind: type[int] | type[float], value: Any, name: str) -> int | float:
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    try:
        return kind(str(value).strip())
    except ValueError:
        raise ValueError(
            f"Input should be a valid {name}, unable to parse string as an {name}"
            if kind is int
            else f"Input should be a valid {name}, unable to parse string as a {name}"
        ) from None


def _plain(annotation: Any, info: Any) -> bool:
    """Whether typer's adapter would do no more than :func:`_convert` for this parameter."""
    if info.parser is not None or getattr(info, "formats", None):
        return False
    if getattr(info, "min", None) is not None or getattr(info, "max", None) is not None:
        return False
    if get_origin(annotation) is list:
        args = get_args(annotation)
        return len(args) == 1 and args[0] is str
    if isinstance(annotation, type) and issubclass(annotation, Enum | Path):
        return True  # choices; paths go through typer's own path checks (exists=, ...)
    return annotation in _SCALARS and not routes_to_path(annotation, info)


def install(command: Any, ctx: Any = None) -> None:
    """Give each plain parameter of ``command`` (a typer click command) a :class:`PlainParam`;
    with ``ctx``, the help option click adds per context too."""
    for param in command.get_params(ctx) if ctx is not None else command.params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or descriptor.file_annotation is not None:
            continue
        if getattr(param, "_runtime_param", None) is not None:
            continue
        if _plain(descriptor.annotation, descriptor.parameter_info):
            param._runtime_param = PlainParam(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
