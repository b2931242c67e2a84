"""Label and field selectors, parsed and matched as the API server does.

Owns the ``labelSelector`` grammar of ``k8s.io/apimachinery/pkg/labels`` (``=``, ``==``, ``!=``,
``in``, ``notin``, ``key``, ``!key``, ``>``, ``<``) and the ``fieldSelector`` grammar of
``pkg/fields`` (``=``, ``==``, ``!=`` over the fields a resource supports). A malformed selector
is a 400 with apiserver's wording. Matching is pure: no storage, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubespark.emulator.apiserver.wire import bad_request

__all__ = [
    "FieldSelector",
    "LabelSelector",
    "parse_field_selector",
    "parse_label_selector",
]

# Fields every resource supports, and the extra ones the built-in kinds register
# (pkg/registry/*/strategy.go ...FieldsSet / AddFieldLabelConversionFunc).
COMMON_FIELDS = frozenset({"metadata.name", "metadata.namespace"})
FIELDS_BY_KIND: Mapping[str, frozenset[str]] = {
    "Pod": frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.podIPs",
            "status.nominatedNodeName",
        }
    ),
    "Event": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    "Secret": frozenset({"type"}),
    "Node": frozenset({"spec.unschedulable"}),
    "Namespace": frozenset({"status.phase"}),
    "Job": frozenset({"status.successful"}),
    "ReplicaSet": frozenset({"status.replicas"}),
    "ReplicationController": frozenset({"status.replicas"}),
}

_KEY_RE = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_TOKEN_RE = re.compile(r"\s*(!=|==|=|!|\(|\)|,|<|>|[^\s!=(),<>]+)")

Labels = Mapping[str, str]
Predicate = Callable[[Labels], bool]


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    text: str
    predicates: tuple[Predicate, ...]
    # The (key, value) pairs every match must carry (``k=v``, ``k==v``, ``k in (v)``): the
    # store's label index narrows a list to the objects holding one of them before matching.
    required: tuple[tuple[str, str], ...] = ()

    def matches(self, labels: Labels | None) -> bool:
        got = labels or {}
        return all(p(got) for p in self.predicates)

    @property
    def empty(self) -> bool:
        return not self.predicates


def _parse_error(text: str, detail: str) -> Exception:
    return bad_request(f"unable to parse requirement: {detail}")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:  # only trailing whitespace is left
            break
        out.append(m.group(1))
        pos = m.end()
    return out


def _check_key(key: str) -> None:
    if not _KEY_RE.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise _parse_error(
            key,
            f'<nil>: Invalid value: "{key}": name part must consist of alphanumeric characters, '
            "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        )


def _values(tokens: list[str], i: int, text: str) -> tuple[frozenset[str], int]:
    if i >= len(tokens) or tokens[i] != "(":
        raise _parse_error(text, f"found '{tokens[i] if i < len(tokens) else ''}', expected: '('")
    i += 1
    values: set[str] = set()
    expect_value = True
    while i < len(tokens) and tokens[i] != ")":
        tok = tokens[i]
        if tok == ",":
            if expect_value:
                values.add("")
            expect_value = True
        else:
            values.add(tok)
            expect_value = False
        i += 1
    if i >= len(tokens):
        raise _parse_error(text, "found '', expected: ')'")
    return frozenset(values), i + 1


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse ``labelSelector``; raises a 400 BadRequest when malformed."""
    if not text or not text.strip():
        return LabelSelector("", ())
    tokens = _tokens(text)
    preds: list[Predicate] = []
    required: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            key = tokens[i + 1] if i + 1 < len(tokens) else ""
            _check_key(key)
            preds.append(_absent(key))
            i += 2
        else:
            key = tok
            _check_key(key)
            op = tokens[i + 1] if i + 1 < len(tokens) else ","
            if op == ",":
                preds.append(_present(key))
                i += 1
            elif op in ("=", "==", "!="):
                value = tokens[i + 2] if i + 2 < len(tokens) and tokens[i + 2] != "," else ""
                i += 3 if value else 2
                preds.append(_equals(key, value, negate=op == "!="))
                if op != "!=":
                    required.append((key, value))
            elif op in ("in", "notin"):
                values, i = _values(tokens, i + 2, text)
                preds.append(_member(key, values, negate=op == "notin"))
                if op == "in" and len(values) == 1:
                    required.append((key, next(iter(values))))
            elif op in (">", "<"):
                raw = tokens[i + 2] if i + 2 < len(tokens) else ""
                try:
                    bound = int(raw)
                except ValueError:
                    raise _parse_error(
                        text, f"for 'Gt', 'Lt' operators, the value must be an integer: {raw}"
                    ) from None
                preds.append(_numeric(key, bound, greater=op == ">"))
                i += 3
            else:
                raise _parse_error(
                    text,
                    f"found '{op}', expected: in, notin, =, ==, !=, gt, lt",
                )
        if i < len(tokens):
            if tokens[i] != ",":
                raise _parse_error(text, f"found '{tokens[i]}', expected: ',' or 'end of string'")
            i += 1
    return LabelSelector(text, tuple(preds), tuple(required))


def _absent(key: str) -> Predicate:
    return lambda labels: key not in labels


def _present(key: str) -> Predicate:
    return lambda labels: key in labels


def _equals(key: str, value: str, *, negate: bool) -> Predicate:
    if negate:
        return lambda labels: labels.get(key) != value
    return lambda labels: key in labels and labels[key] == value


def _member(key: str, values: frozenset[str], *, negate: bool) -> Predicate:
    if negate:
        return lambda labels: labels.get(key) not in values
    return lambda labels: key in labels and labels[key] in values


def _numeric(key: str, bound: int, *, greater: bool) -> Predicate:
    def check(labels: Labels) -> bool:
        try:
            have = int(labels[key])
        except (KeyError, ValueError):
            return False
        return have > bound if greater else have < bound

    return check


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    field: str
    value: str
    equal: bool


@dataclass(frozen=True, slots=True)
class FieldSelector:
    """A parsed field selector; the empty selector matches everything."""

    text: str
    requirements: tuple[FieldRequirement, ...]

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for req in self.requirements:
            have = field_value(obj, req.field)
            if (have == req.value) != req.equal:
                return False
        return True

    def value_for(self, field: str) -> str | None:
        """The value an equality requirement pins ``field`` to, if any (an index hint)."""
        for req in self.requirements:
            if req.field == field and req.equal:
                return req.value
        return None


def field_value(obj: Mapping[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    if path == "source" and isinstance(node, Mapping):  # events: source is source.component
        return str(node.get("component", ""))
    return str(node)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_field_selector(text: str | None, kind: str, *, custom: bool = False) -> FieldSelector:
    """Parse ``fieldSelector`` for one kind; unsupported fields are a 400 as apiserver says."""
    if not text or not text.strip():
        return FieldSelector("", ())
    allowed = COMMON_FIELDS if custom else COMMON_FIELDS | FIELDS_BY_KIND.get(kind, frozenset())
    reqs: list[FieldRequirement] = []
    for part in _split_unescaped(text, ","):
        part = part.strip()
        if not part:
            continue
        op = next((o for o in ("!=", "==", "=") if o in part), None)
        if op is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, _, value = part.partition(op)
        equal = op != "!="
        field = field.strip()
        if field not in allowed:
            raise bad_request(f"field label not supported: {field}")
        reqs.append(FieldRequirement(field, value.replace("\\", ""), equal))
    return FieldSelector(text, tuple(reqs))
