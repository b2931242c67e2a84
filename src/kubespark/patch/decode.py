"""Request bodies decoded as the API server decodes them, with its error texts.

Owns turning patch bodies into values: JSON (Go's ``encoding/json``: syntax errors worded as Go
words them, integers kept integers) and YAML for apply bodies (``sigs.k8s.io/yaml``: YAML 1.1
scalars as go-yaml v2 resolves them -- ``yes`` is true, but timestamps stay strings -- and
non-string keys turned into strings). Raises :class:`BodyError` with the message a server would
put in its 400.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from kubespark.patch.values import JSON

__all__ = ["BodyError", "decode_json", "decode_yaml", "go_json_error"]


class BodyError(ValueError):
    """A body that does not decode; ``message`` is the Go decoder's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _text(body: bytes | str) -> str:
    return body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body


def go_json_error(text: str, exc: json.JSONDecodeError) -> str:
    """The text of Go's ``json.SyntaxError`` for the error Python's decoder found."""
    if exc.pos >= len(text.rstrip()):
        return "unexpected end of JSON input"
    ch = text[exc.pos]
    quoted = "'\\''" if ch == "'" else f"'{ch}'"
    msg = exc.msg
    if msg.startswith("Expecting property name"):
        where = "looking for beginning of object key string"
    elif msg.startswith("Expecting ':'"):
        where = "after object key"
    elif msg.startswith("Expecting ',' delimiter"):
        # Go says which container the value was in.
        where = _after_value(text, exc.pos)
    elif msg.startswith("Extra data"):
        where = "after top-level value"
    elif msg.startswith("Invalid control character"):
        where = "in string literal"
    elif msg.startswith("Invalid \\escape"):
        where = "in string escape code"
    else:
        where = "looking for beginning of value"
    return f"invalid character {quoted} {where}"


def _after_value(text: str, pos: int) -> str:
    in_string = escaped = False
    stack: list[str] = []
    for ch in text[:pos]:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    if stack and stack[-1] == "[":
        return "after array element"
    return "after object key:value pair"


def decode_json(body: bytes | str) -> JSON:
    """A JSON body; :class:`BodyError` with Go's wording when it is not JSON."""
    text = _text(body)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(go_json_error(text, exc)) from exc


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _GoYamlLoader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader without timestamp resolution: go-yaml v2 keeps them as strings for JSON."""


_GoYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _jsonify(value: Any) -> JSON:
    # YAMLToJSON: map keys become strings (1 -> "1", true -> "true"); a float prints as Go's
    # float64 does (1.0 -> 1), which apimachinery's JSON decoding then reads as an integer.
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, dict):
        return {_key(k): _jsonify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonify(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)


def decode_yaml(body: bytes | str) -> JSON:
    """A YAML (or JSON) apply body as ``sigs.k8s.io/yaml`` would turn it into JSON."""
    text = _text(body)
    if text.lstrip().startswith("{"):
        # Most clients send JSON (valid YAML); decoding it as JSON gives the same value, fast.
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    try:
        value = yaml.load(text, Loader=_GoYamlLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        line = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            line = f"line {mark.line + 1}: "
        problem = getattr(exc, "problem", None) or str(exc)
        raise BodyError(f"error converting YAML to JSON: yaml: {line}{problem}") from exc
    return _jsonify(value)
