"""celpy as the oracle of compiled CEL: stock, and corrected where celpy is not CEL.

Stock celpy (what :mod:`kubespark.apisurface.cel` runs) is the oracle for documents a CRD's
schema accepts. On arbitrary JSON (a string where a list is expected, ...) celpy 0.5 lets
Python through where cel-go does not: ``true == 1`` and ``true < 2`` hold (``bool`` is an
``int``), ``string(true)`` is ``True`` and ``string(null)`` ``None``, ``size(null)`` is 0,
``'a' in 'abc'`` is a substring test, ``[1][-1]`` is 1, macros range over a string's
characters, ``filter`` and ``exists_one`` count an error as true. And an error inside a
macro's predicate escapes as an exception past the ``||`` or ``&&`` that should absorb it: in
``[{}, {'p': 1}].all(o, !has(o.p) || l.exists_one(x, has(x.p) && x.p == o.p))`` it makes the
whole an error, a false refusal of kubeflow's duplicate-port rule.

The corrected oracle keeps celpy's parser and evaluator (the structure under test: precedence,
``&&``/``||``/``?:`` absorption, scoping, member and index access, RE2 ``matches``) and
replaces only those: the operator functions through celpy's own override table, the four macros
in an evaluator subclass. ``has()`` of a missing or non-map operand stays celpy's false, which
the compiled code keeps (the rules rely on it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import celpy
import lark
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError, Evaluator

from kubespark.apisurface import cel_runtime
from kubespark.apisurface.cel import _cel_parser


def plain(value: Any) -> Any:
    """A celpy value as the JSON the compiled code sees."""
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [plain(v) for v in value]
    if isinstance(value, celtypes.MapType):
        return {plain(k): plain(v) for k, v in value.items()}
    if value is None:
        return None
    raise TypeError(f"no JSON for {type(value)}")


def _adapted(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        for arg in args:
            if isinstance(arg, CELEvalError):
                return arg
        result = function(*(plain(a) for a in args))
        if result is cel_runtime.ERR:
            raise TypeError("no such overload")  # celpy turns this into its error value
        return json_to_cel(result)

    return call


CORRECTIONS = {
    name: _adapted(function)
    for name, function in {
        "_==_": cel_runtime.eq,
        "_!=_": cel_runtime.ne,
        "_<_": cel_runtime.lt,
        "_<=_": cel_runtime.le,
        "_>_": cel_runtime.gt,
        "_>=_": cel_runtime.ge,
        "_in_": cel_runtime.in_,
        "_[_]": cel_runtime.index,
        "string": cel_runtime.string,
        "size": cel_runtime.size,
    }.items()
}


def _error(what: str) -> CELEvalError:
    return CELEvalError(what, TypeError, None)


class _CorrectedEvaluator(Evaluator):
    def sub_evaluator(self, ast: lark.Tree) -> Evaluator:
        return _CorrectedEvaluator(ast, activation=self.activation)  # macros in macros too

    def member_dot_arg(self, tree: lark.Tree) -> Any:
        name = str(tree.children[1])
        if name not in ("all", "exists", "exists_one", "filter"):
            return super().member_dot_arg(tree)
        items = self.visit(tree.children[0])
        if isinstance(items, CELEvalError):
            return items
        if not isinstance(items, celtypes.ListType | celtypes.MapType):
            return _error(f"{name}() over a {type(items).__name__}")
        predicate = self.build_macro_eval(tree)
        results = []
        for item in items:
            try:
                results.append(predicate(item))
            except CELEvalError as err:
                results.append(err)
        return _fold(name, list(items), results)


def _fold(name: str, items: list[Any], results: list[Any]) -> Any:
    bools = [r if isinstance(r, celtypes.BoolType) else None for r in results]
    if name == "all":
        return (
            celtypes.BoolType(False)
            if any(b is not None and not b for b in bools)
            else (_error("all") if None in bools else celtypes.BoolType(True))
        )
    if name == "exists":
        return (
            celtypes.BoolType(True)
            if any(b for b in bools)
            else (_error("exists") if None in bools else celtypes.BoolType(False))
        )
    if None in bools:
        return _error(name)
    if name == "exists_one":
        return celtypes.BoolType(sum(1 for b in bools if b) == 1)
    return celtypes.ListType([item for item, b in zip(items, bools, strict=True) if b])


class _CorrectedRunner(celpy.InterpretedRunner):
    def evaluate(self, context: Any) -> Any:
        return _CorrectedEvaluator(ast=self.ast, activation=self.new_activation()).evaluate(context)


_PROGRAMS: dict[str, Any] = {}


def corrected(expression: str) -> Any:
    """The expression as celpy with the corrections evaluates it (a runner, cached)."""
    if expression not in _PROGRAMS:
        _cel_parser()
        env = celpy.Environment(runner_class=_CorrectedRunner)
        _PROGRAMS[expression] = env.program(env.compile(expression), functions=CORRECTIONS)
    return _PROGRAMS[expression]


def corrected_value(expression: str, value: Any) -> Any:
    """The corrected oracle's value as plain JSON, or ``cel_runtime.ERR``."""
    try:
        result = corrected(expression).evaluate({"self": json_to_cel(value)})
    except CELEvalError:
        return cel_runtime.ERR
    if isinstance(result, CELEvalError):
        return cel_runtime.ERR
    return plain(result)


def corrected_holds(expression: str, value: Any) -> bool:
    """As ``cel.holds`` with the corrected oracle."""
    return corrected_value(expression, value) is True


def corrected_message(expression: str, value: Any) -> str | None:
    """As ``cel.evaluated_message`` with the corrected oracle."""
    result = corrected_value(expression, value)
    if not isinstance(result, str) or not result.strip() or "\n" in result:
        return None
    return cast(str, result)
