"""kubeflow's validating-webhook refusals, as CEL rules read from ``data/webhook_rules.yaml``.

Owns reading that file (each rule with its kubeflow source), and evaluating the rules offline
against a raw SparkApplication or ScheduledSparkApplication document: ``kubespark validate``,
``submit`` and the operator (on servers that do not evaluate CEL, and for the rules no CRD can
express) refuse with the same message the CRD's rule gives on servers that do. The rules run
compiled to Python (:mod:`kubespark.apisurface.cel_compile`, kept in the user cache: a warm
process imports no CEL interpreter). The CRD builder reads :func:`webhook_rules` to place the
rules in the schemas it writes.

It must not decide which servers evaluate CEL, nor read anything but the bundled file.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from kubespark.apisurface.cel_compile import CompiledSet, compiled
from kubespark.errors import DataError
from kubespark.packagedata import package_files

__all__ = [
    "CONNECT_KINDS",
    "KINDS",
    "Breach",
    "WebhookRule",
    "list_bounds",
    "rule_violations",
    "spec_root",
    "webhook_rules",
]

KINDS = ("SparkApplication", "ScheduledSparkApplication")
CONNECT_KINDS = (*KINDS, "SparkConnect")


@dataclass(frozen=True, slots=True)
class WebhookRule:
    """One refusal: a CEL ``rule`` (or a ``required`` field) at ``at``, with its message."""

    id: str
    kinds: tuple[str, ...]
    at: str
    message: str
    source: str
    fix: str = ""
    rule: str = ""
    required: str = ""
    reported_at: str = "metadata.name"
    crd: bool = True
    message_expression: str = ""  # CEL giving kubeflow's message with the offending value


@dataclass(frozen=True, slots=True)
class Breach:
    """One rule a document breaks: where, which rule, and the message with the value in it."""

    path: str
    rule: WebhookRule
    message: str


@functools.cache
def _document() -> Mapping[str, Any]:
    text = (
        package_files(__file__, "kubespark.spark")
        .joinpath("data", "webhook_rules.yaml")
        .read_text()
    )
    # libyaml's safe loader when PyYAML has it: the same data, parsed an order of magnitude
    # faster (every submit reads this file).
    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(doc, dict):
        raise DataError("webhook_rules.yaml is not a mapping")
    return doc


def list_bounds() -> dict[str, int]:
    """Path (as ``at``) -> the ``maxItems`` a CRD gives that list, so its rules' cost is bounded."""
    return {str(k): int(v) for k, v in _document()["list_bounds"]["bounds"].items()}


@functools.cache
def webhook_rules() -> tuple[WebhookRule, ...]:
    """Every rule of the data file, the denied ``sparkConf`` keys expanded one rule per key."""
    doc = _document()
    out = [_rule(raw) for raw in doc["rules"]]
    denied = doc["denied_spark_conf"]
    for key, reason in denied["keys"].items():
        out.append(
            WebhookRule(
                id=f"denied-spark-conf:{key}",
                kinds=CONNECT_KINDS,
                at="spec.sparkConf",
                rule=f"!('{key}' in self)",
                message=f'sparkConf key "{key}" is not allowed: {reason}',
                source=str(denied["source"]),
                fix=str(denied["fix"]),
            )
        )
    return tuple(out)


def _rule(raw: Mapping[str, Any]) -> WebhookRule:
    if not all(raw.get(k) for k in ("source", "message", "fix")) or not (
        raw.get("rule") or raw.get("required")
    ):
        raise DataError(f"webhook_rules.yaml: {raw.get('id')!r} needs source, message, fix, rule")
    return WebhookRule(
        id=str(raw["id"]),
        kinds=tuple(raw["kinds"]),
        at=str(raw["at"]),
        message=" ".join(str(raw["message"]).split()),
        source=str(raw["source"]),
        fix=" ".join(str(raw.get("fix") or "").split()),
        reported_at=str(raw.get("reported_at") or "metadata.name"),
        rule=" ".join(str(raw.get("rule") or "").split()),
        required=str(raw.get("required") or ""),
        crd=bool(raw.get("crd", True)),
        message_expression=str(raw.get("message_expression") or "").strip(),
    )


def spec_root(kind: str) -> tuple[str, ...]:
    """Where the application spec sits in a document of ``kind``."""
    return ("spec", "template") if kind == "ScheduledSparkApplication" else ("spec",)


def rule_violations(document: Mapping[str, Any]) -> list[Breach]:
    """Every rule the raw ``document`` breaks, in the file's order."""
    kind = str(document.get("kind", "SparkApplication"))
    out = []
    for rule in webhook_rules():
        if kind not in rule.kinds:
            continue
        for path, value in _bound(document, rule.at, kind):
            if not _passes(rule, value):
                out.append(Breach(path or rule.reported_at, rule, _message(rule, value)))
    return out


@functools.cache
def _programs() -> CompiledSet:
    """Every rule and message expression, compiled to Python (celpy only for what is refused).

    The cache entry is keyed by the expressions themselves, so an edited data file compiles
    again on its first use and a warm command imports no CEL interpreter.
    """
    expressions: dict[str, str] = {}
    for rule in webhook_rules():
        for text in (rule.rule, rule.message_expression):
            if text:
                expressions.setdefault(text, rule.id)
    return compiled("webhook-rules", [(label, text) for text, label in expressions.items()])


def _message(rule: WebhookRule, value: Any) -> str:
    """kubeflow's message with the value when the expression gives one, else the fixed one."""
    if rule.message_expression:
        return _programs().message(rule.message_expression, value) or rule.message
    return rule.message


def _passes(rule: WebhookRule, value: Any) -> bool:
    if rule.required:
        return not isinstance(value, Mapping) or rule.required in value
    return _programs().holds(rule.rule, value)


def _bound(document: Mapping[str, Any], at: str, kind: str) -> Iterator[tuple[str, Any]]:
    """Each (path, value) that ``self`` is bound to for a rule at ``at``."""
    if not at:
        yield "", document
        return
    steps = at.replace("[]", ".[]").replace("{}", ".{}").split(".")
    first, *rest = steps
    root = ".".join(spec_root(kind)) if first == "spec" else first
    value: Any = document
    for key in root.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    yield from _walk(value, rest, root)


def _walk(value: Any, steps: list[str], path: str) -> Iterator[tuple[str, Any]]:
    if value is None:
        return
    if not steps:
        yield path, value
        return
    step, rest = steps[0], steps[1:]
    if step == "[]" and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, rest, f"{path}[{index}]")
    elif step == "{}" and isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, rest, f"{path}[{key}]")
    elif isinstance(value, Mapping):
        yield from _walk(value.get(step), rest, f"{path}.{step}")
