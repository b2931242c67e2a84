"""Structured inputs: ``kubectl get -o yaml|json`` of SparkApplications, pods and events.

Owns recognising a YAML or JSON document (rather than a log) from its first bytes, and turning
it into lines the matchers read: ``key: value`` for each scalar, a multi-line value (an
``errorMessage`` holding a whole spark-submit output) line by line, and one ``Warning Reason
kind/name message`` row per Event, as ``kubectl get events`` prints it. Each line keeps its place:
the file line of the value and its field path. Documents are small; logs are never parsed here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from kubespark import bounded
from kubespark.doctor.lines import Line, Where

__all__ = ["MAX_DOCUMENT", "document_lines", "looks_structured"]

# A document bigger than this is read as text instead (still matched, only without field paths).
MAX_DOCUMENT = 64 << 20
_YAML_STARTS = (b"apiVersion:", b"kind:", b"items:", b"metadata:", b"status:", b"spec:", b"---")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def looks_structured(head: bytes) -> bool:
    """Whether the first bytes of an input start a YAML or pretty-printed JSON document."""
    text = head.lstrip()
    if text.startswith((b"{\n", b"{\r\n", b"[\n", b"[\r\n")):
        return True
    return text.startswith(_YAML_STARTS)


def document_lines(source: str, data: bytes) -> list[Line] | None:
    """The lines of a YAML/JSON document, or None when it does not parse (read it as text)."""
    try:
        # Bounded: a document whose aliases, depth or integers break a limit is read as text.
        nodes = bounded.compose_all(data.decode("utf-8", "replace"), source, loader=_Loader)
    except (yaml.YAMLError, bounded.LimitError):
        return None
    out: list[Line] = []
    for node in nodes:
        if node is not None:
            out.extend(_walk(source, node, ""))
    return out


def _walk(source: str, node: Any, path: str) -> Iterator[Line]:
    if isinstance(node, yaml.MappingNode):
        event = _event_row(source, node, path)
        if event is not None:
            yield event
        for key, value in node.value:
            name = str(key.value)
            yield from _walk(source, value, f"{path}.{name}" if path else name)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(source, item, f"{path}[{i}]")
    elif isinstance(node, yaml.ScalarNode):
        yield from _scalar(source, node, path)


def _scalar(source: str, node: yaml.ScalarNode, path: str) -> Iterator[Line]:
    value = str(node.value)
    line = node.start_mark.line + 1
    key = path.rsplit(".", 1)[-1]
    parts = value.split("\n")
    if len(parts) == 1:
        yield Line.of(Where(source, line, 0, path), f"{key}: {value}")
        return
    # The first part carries the key, so "errorMessage: failed to run spark-submit ..." reads as
    # it does in kubectl describe.
    for i, part in enumerate(parts, 1):
        yield Line.of(Where(source, line, i, path), f"{key}: {part}" if i == 1 else part)


def _event_row(source: str, node: yaml.MappingNode, path: str) -> Line | None:
    """``Warning  FailedMount  pod/x  MountVolume.SetUp failed ...`` for an Event object."""
    fields = {str(k.value): v for k, v in node.value}
    kind, reason, message = fields.get("type"), fields.get("reason"), fields.get("message")
    if not all(isinstance(n, yaml.ScalarNode) for n in (kind, reason, message)):
        return None
    assert kind is not None and reason is not None and message is not None
    if kind.value not in ("Warning", "Normal"):
        return None
    obj = fields.get("involvedObject") or fields.get("regarding")
    target = ""
    if isinstance(obj, yaml.MappingNode):
        ref = {str(k.value): str(v.value) for k, v in obj.value if isinstance(v, yaml.ScalarNode)}
        target = f"{ref.get('kind', '').lower()}/{ref.get('name', '')}"
    text = f"{kind.value}  {reason.value}  {target}  {message.value}"
    return Line.of(Where(source, node.start_mark.line + 1, 0, path or "event"), text)
