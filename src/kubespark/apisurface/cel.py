"""CRD validation rules (``x-kubernetes-validations``, CEL) evaluated as the API server does.

Owns compiling a rule once and evaluating it with ``self`` bound to a value, and walking a
structural schema alongside an object to report every rule that does not hold, with the field
path the API server names (``spec.driverIngressOptions[0]``) and the rule's message. At the root
``self.metadata`` holds only ``name`` and ``generateName``, as on a real server.

Which servers evaluate rules at all is a fact of the API surface (``behaviours.yaml``), not
decided here. It must not know any particular CRD.

celpy builds its CEL parser (a Lark LALR table) on first use in a process: most of a short
command's CPU. :func:`_cel_parser` builds the same parser with Lark's analysis cache in
``$KUBESPARK_CACHE/cel`` (else the user's cache directory), which Lark keys by a digest of the
grammar, the options and the Lark and Python versions, and rebuilds when they change.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import celpy
import lark
from celpy.adapter import json_to_cel
from celpy.celparser import CELParser
from celpy.evaluation import CELEvalError

from kubespark.picklecache import user_cache_dir

__all__ = ["RuleViolation", "evaluated_message", "holds", "violations"]


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """One rule that does not hold: where (a field path) and the rule's message."""

    path: str
    message: str
    rule: str


def _cache_file() -> Path:
    version = ".".join(str(n) for n in sys.version_info[:2])
    return user_cache_dir("cel") / f"cel-parser-lark-{lark.__version__}-py{version}.cache"


@functools.cache
def _cel_parser() -> None:
    """Install celpy's parser singleton, built as celpy builds it, with Lark's cache.

    ``CELParser.CEL_PARSER`` is celpy's documented hook for the parser all environments share.
    A cache that cannot be read or written costs only the build (Lark carries on without it).
    """
    if CELParser.CEL_PARSER is not None:
        return
    grammar = (resources.files("celpy") / "cel.lark").read_text(encoding="utf-8")
    cache = _cache_file()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # celpy builds its own, uncached
    CELParser.CEL_PARSER = lark.Lark(
        grammar,
        parser="lalr",
        start="expr",
        debug=True,
        g_regex_flags=re.M,
        lexer_callbacks={"IDENT": CELParser.ambiguous_literals},
        propagate_positions=True,
        maybe_placeholders=False,
        priority="invert",
        tree_class=celpy.InterpretedRunner.tree_node_class,
        cache=str(cache),
    )


@functools.cache
def _program(rule: str) -> celpy.Runner:
    _cel_parser()
    env = celpy.Environment()
    return env.program(env.compile(rule))


def holds(rule: str, value: Any) -> bool:
    """Whether ``rule`` is true with ``self`` bound to the JSON ``value``.

    A rule that errors at evaluation (a missing key read without ``has()``) does not hold, as
    the API server reports such a rule as failed.
    """
    try:
        bound = json_to_cel(value)
    except (ValueError, OverflowError):
        # A number CEL cannot hold (beyond int64): an API server refuses it while decoding,
        # before any rule runs, and the schema check reports it; the rule has nothing to say.
        return True
    try:
        result = _program(rule).evaluate({"self": bound})
    except CELEvalError:
        return False
    return bool(result) and not isinstance(result, CELEvalError)


def evaluated_message(expression: str, value: Any) -> str | None:
    """A rule's ``messageExpression`` with ``self`` bound to ``value``; None when it fails.

    As the API server: an expression that errors, or gives no string or an empty or
    multi-line one, leaves the rule's static ``message`` in force.
    """
    try:
        result = _program(expression).evaluate({"self": json_to_cel(value)})
    except (CELEvalError, ValueError, OverflowError, TypeError):
        return None
    if isinstance(result, CELEvalError) or not isinstance(result, str):
        return None
    text = str(result)
    return text if text.strip() and "\n" not in text else None


def violations(schema: Mapping[str, Any], obj: Any, path: str = "") -> list[RuleViolation]:
    """Every rule of ``schema`` (and its sub-schemas) that ``obj`` breaks, outermost first."""
    out: list[RuleViolation] = []
    value = _root_view(obj) if not path else obj
    for entry in schema.get("x-kubernetes-validations") or []:
        rule = str(entry.get("rule", ""))
        if rule and not holds(rule, value):
            expression = str(entry.get("messageExpression") or "")
            message = (evaluated_message(expression, value) if expression else None) or str(
                entry.get("message") or f"failed rule: {rule}"
            )
            out.append(RuleViolation(path or "<root>", message, rule))
    if isinstance(obj, Mapping):
        for key, sub in (schema.get("properties") or {}).items():
            if key in obj and obj[key] is not None:
                out += violations(sub, obj[key], f"{path}.{key}" if path else key)
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and not schema.get("properties"):
            for key, item in obj.items():
                out += violations(extra, item, f"{path}[{key}]")
    elif isinstance(obj, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(obj):
            out += violations(schema["items"], item, f"{path}[{index}]")
    return out


def _root_view(obj: Any) -> Any:
    """The root object as CEL sees it: metadata reduced to name and generateName."""
    if not isinstance(obj, Mapping):
        return obj
    meta = obj.get("metadata")
    kept = (
        {k: meta[k] for k in ("name", "generateName") if k in meta}
        if isinstance(meta, Mapping)
        else {}
    )
    return {**obj, "metadata": kept}
