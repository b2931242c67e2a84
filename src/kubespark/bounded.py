"""Bounded reading of untrusted YAML and JSON: every reader of user files, stdin and bodies.

Owns the limits hostile input meets before a parser or constructor spends time or memory on it:
the bytes read, the length of a line, UTF-8 / UTF-16-with-BOM decoding, the number of documents
in a stream, nesting depth, YAML aliases (how many, and how many nodes they expand to) and the
digits of an integer. A refusal is one :class:`LimitError` naming ``file:line`` and the limit.

The checks run before the expensive step: byte and line limits on the raw bytes, then (only when
a cheap look at the text says the input could break a limit) one iterative pass over libyaml's
events, which neither recurses nor expands aliases, so a 1 KB alias bomb or 100,000 nested
brackets cost what their bytes cost. libyaml's composer recurses in C and crashes the process on
deep enough input, so nothing may compose text this module has not checked.

This module must not know what the documents mean (Kubernetes objects, SparkApplications): it
hands back text, nodes or plain values, and its callers judge them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.nodes import Node

from kubespark.errors import InputError, refusing_os_errors

__all__ = [
    "DEFAULT",
    "LimitError",
    "Limits",
    "check_bytes",
    "check_yaml",
    "compose_all",
    "decode",
    "load_all",
    "load_json",
    "read_bytes",
    "read_text",
]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Limits:
    """What one input may hold. The defaults admit anything a Kubernetes API server stores."""

    # A stream may hold many objects (``helm template`` of a large chart); 64 MiB is ~20x the
    # largest chart output seen, and the doctor's own bound for a structured document.
    max_bytes: int = 64 << 20
    # apiserver refuses request bodies over 3 MiB (MaxRequestBodyBytes), so no object, even
    # minified onto one line, is longer; 4 MiB leaves room for a List on one line.
    max_line: int = 4 << 20
    # CRD schemas, the deepest objects in practice, nest under ~60 levels; libyaml's composer
    # crashes (C stack) near 50,000.
    max_depth: int = 200
    # go-yaml v2 stops at "excessive aliasing"; these bounds admit every chart that uses anchors.
    max_aliases: int = 10_000
    max_expanded_nodes: int = 1_000_000
    max_documents: int = 50_000
    # Kubernetes integers are int64 (19 digits); Python refuses str->int past 4,300 digits with a
    # ValueError, which must never reach a user as a traceback.
    max_int_digits: int = 64


DEFAULT = Limits()

# YAML 1.1 integers as the safe resolver reads them (decimal, hex, octal, binary, sexagesimal).
_INT = re.compile(
    r"[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|0o?[0-7_]+|0b[01_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)"
)


_DOCUMENT_START = re.compile(r"^---", re.M)


@functools.cache
def _deep_indent(columns: int) -> re.Pattern[str]:
    # Each block level indents by at least one column or one "- "/"? " marker (two per level
    # when a mapping holds a sequence at its own indentation).
    return re.compile(rf"^[ \t?:-]{{{columns},}}", re.M)


@functools.cache
def _long_digits(count: int) -> re.Pattern[str]:
    # Digits with the separators YAML 1.1 integers allow ("1_000", sexagesimal "1:30").
    return re.compile(rf"[\d_:]{{{count},}}")


class LimitError(InputError):
    """Input refused before parsing finished: where (``file:line``), what and which limit."""

    def __init__(self, source: str, line: int, message: str, fix: str) -> None:
        super().__init__(message, fix=fix, where=f"{source}:{line}" if line else source)
        self.source = source
        self.line = line


# --- bytes and text -----------------------------------------------------------------------------


def read_bytes(path: Path | str, limits: Limits = DEFAULT) -> bytes:
    """A file's bytes, refused past ``max_bytes`` without reading more than one byte beyond."""
    name = str(path)
    with (
        refusing_os_errors(
            f"cannot read {name}", where=name, fix="check the path and its permissions"
        ),
        Path(path).open("rb") as stream,
    ):
        return _bounded_read(stream, name, limits)


def read_stream(stream: BinaryIO, name: str, limits: Limits = DEFAULT) -> bytes:
    """Bytes from stdin or a socket body, refused past ``max_bytes``."""
    return _bounded_read(stream, name, limits)


def _bounded_read(stream: BinaryIO, name: str, limits: Limits) -> bytes:
    data = stream.read(limits.max_bytes + 1)
    check_bytes(data, name, limits)
    return data


def read_text(path: Path | str, limits: Limits = DEFAULT) -> str:
    """A file's text, bounded and decoded (see :func:`decode`)."""
    name = str(path)
    return decode(read_bytes(path, limits), name, limits)


def check_bytes(data: bytes, name: str, limits: Limits = DEFAULT) -> None:
    """Refuse input over ``max_bytes`` or with a line over ``max_line``."""
    if len(data) > limits.max_bytes:
        raise LimitError(
            name,
            0,
            f"input larger than {_size(limits.max_bytes)} (the limit for one input)",
            "split the input into smaller files",
        )
    if len(data) <= limits.max_line:
        return
    start = 0
    line = 1
    while start < len(data):
        end = data.find(b"\n", start)
        if end < 0:
            end = len(data)
        if end - start > limits.max_line:
            raise LimitError(
                name,
                line,
                f"line longer than {_size(limits.max_line)} (the limit for one line)",
                "break the line; no Kubernetes object is this long (apiserver's limit is 3 MiB)",
            )
        start = end + 1
        line += 1


def decode(data: bytes, name: str, limits: Limits = DEFAULT) -> str:
    """Text from UTF-8 (BOM allowed) or UTF-16 with a BOM, as Kubernetes reads manifests."""
    check_bytes(data, name, limits)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise LimitError(
                name, 0, f"not UTF-16 text (at byte {err.start})", "give UTF-8 text"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise LimitError(
            name,
            line,
            f"not UTF-8 text (byte 0x{data[err.start]:02x})",
            "give the file in UTF-8 (or UTF-16 with a byte-order mark)",
        ) from None


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"


# --- YAML ---------------------------------------------------------------------------------------


def check_yaml(text: str, name: str, limits: Limits = DEFAULT) -> None:
    """Refuse a YAML stream that would break a limit once composed or constructed.

    YAML syntax errors are left to the caller's parser (it reports them its own way); only the
    limits are judged here.
    """
    if _plainly_small(text, limits):
        return
    try:
        _scan_events(text, name, limits)
    except yaml.YAMLError:
        return  # the caller's parser reports the syntax error, with its line


def _plainly_small(text: str, limits: Limits) -> bool:
    """Whether a C-speed look shows no limit can be near (most inputs; skips the event pass)."""
    half = limits.max_depth // 2
    return (
        "&" not in text
        and _most_flow_openers(text) < half
        and _deep_indent(half - 2).search(text) is None
        and _long_digits(limits.max_int_digits + 1).search(text) is None
        and text.count("\n---") + 1 < limits.max_documents
    )


def _most_flow_openers(text: str) -> int:
    """An upper bound of flow nesting: the most non-empty ``[``/``{`` in any one document.

    Every level of flow nesting needs an opener of its own (quoted or not, each is counted), and a
    ``---`` at the start of a line ends a document even inside a flow collection, so a bound per
    document holds; streams with a few flow mappings per object stay on the fast path.
    """
    most = 0
    for chunk in _DOCUMENT_START.split(text):
        flow = chunk.count("[") - chunk.count("[]") + chunk.count("{") - chunk.count("{}")
        most = max(most, flow)
    return most


def _scan_events(text: str, name: str, limits: Limits) -> None:
    parser = _Loader(text)
    try:
        _Scan(name, limits).run(parser)
    finally:
        parser.dispose()


class _Scan:
    """One pass over parser events: depth, documents, aliases and their expanded size."""

    def __init__(self, name: str, limits: Limits) -> None:
        self.name = name
        self.limits = limits
        self.depth = 0
        self.documents = 0
        self.aliases = 0
        self.expanded = 0  # nodes of the current document, aliases counted as what they copy
        self.anchors: dict[str, int] = {}  # anchor -> expanded nodes under it
        self.open: list[tuple[str | None, int]] = []  # (anchor, expanded count at its start)

    def run(self, parser: Any) -> None:
        # Scalars are most events: they take the shortest path (class identity, no isinstance).
        scalar, get, more = yaml.ScalarEvent, parser.get_event, parser.check_event
        while more():
            event = get()
            if event.__class__ is scalar:
                self.node(event, event.anchor, 1)
                if not event.style and len(event.value) > self.limits.max_int_digits:
                    self.scalar(event)
            else:
                self.event(event)

    def event(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            self.expanded = 0
            self.anchors.clear()
            if self.documents > self.limits.max_documents:
                self.refuse(event, f"more than {self.limits.max_documents:,} documents")
        elif isinstance(event, yaml.AliasEvent):
            self.alias(event)
        elif isinstance(event, yaml.CollectionStartEvent):
            self.depth += 1
            if self.depth > self.limits.max_depth:
                self.refuse(event, f"nested deeper than {self.limits.max_depth} levels")
            self.open.append((event.anchor, self.expanded))
            self.count(event, 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            self.depth -= 1
            anchor, start = self.open.pop()
            if anchor is not None:
                self.anchors[anchor] = self.expanded - start

    def node(self, event: yaml.Event, anchor: str | None, size: int) -> None:
        self.expanded += size
        if anchor is not None:
            self.anchors[anchor] = size

    def alias(self, event: yaml.AliasEvent) -> None:
        self.aliases += 1
        if self.aliases > self.limits.max_aliases:
            self.refuse(event, f"more than {self.limits.max_aliases:,} YAML aliases")
        self.count(event, self.anchors.get(event.anchor or "", 1))

    def count(self, event: yaml.Event, size: int) -> None:
        self.expanded += size
        if self.expanded > self.limits.max_expanded_nodes:
            self.refuse(
                event,
                f"YAML aliases expand to more than {self.limits.max_expanded_nodes:,} nodes",
            )

    def scalar(self, event: yaml.ScalarEvent) -> None:
        # Only plain scalars resolve to integers (libyaml's plain style is "", PyYAML's None).
        if _INT.fullmatch(event.value) is not None:
            value = event.value
            self.refuse(
                event, f"an integer of {len(value):,} digits (limit {self.limits.max_int_digits})"
            )

    def refuse(self, event: yaml.Event, what: str) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        raise LimitError(
            self.name, line, what, "remove or shorten it; Kubernetes stores no such object"
        )


def compose_all(text: str, name: str, limits: Limits = DEFAULT, loader: Any = None) -> list[Node]:
    """The node of each document (None for empty ones dropped), after :func:`check_yaml`."""
    check_yaml(text, name, limits)
    return [n for n in yaml.compose_all(text, Loader=loader or _Loader) if n is not None]


def load_all(text: str, name: str, limits: Limits = DEFAULT) -> Iterator[tuple[Any, Node]]:
    """(value, node) per non-empty document: one parse gives both, values built from the nodes."""
    for node in compose_all(text, name, limits):
        constructor = _Loader("")
        try:
            yield _construct(constructor, node, name), node
        finally:
            constructor.dispose()


def _construct(constructor: Any, node: Node, name: str) -> Any:
    try:
        return constructor.construct_document(node)
    except ValueError as err:  # e.g. an integer past Python's str->int limit, if one slipped by
        line = node.start_mark.line + 1
        raise LimitError(name, line, f"a value cannot be read: {err}", "shorten it") from None


# --- JSON ---------------------------------------------------------------------------------------


def load_json(text: str, name: str, limits: Limits = DEFAULT) -> Any:
    """A JSON value with integers bounded and nesting bounded; syntax errors stay ValueError."""

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > limits.max_int_digits:
            raise LimitError(
                name,
                0,
                f"an integer of {len(digits):,} digits (limit {limits.max_int_digits})",
                "shorten it; Kubernetes integers are 64-bit",
            )
        return int(digits)

    try:
        return json.loads(text, parse_int=bounded_int)
    except RecursionError:
        raise LimitError(
            name, 0, f"nested deeper than {limits.max_depth} levels", "flatten the document"
        ) from None
