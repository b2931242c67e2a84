"""Reading Kubernetes manifests with their line numbers: files, directories, stdin, streams.

Owns turning what ``kubespark validate -f`` names into documents: YAML and JSON files,
directories (recursively, ``*.yaml``, ``*.yml``, ``*.json``, in sorted order), ``-`` for stdin,
multi-document streams (``---``, e.g. ``helm template`` output) and ``kind: List`` items. Each
document keeps its file and line, and can tell the line of any field path in it. Bad input
(unreadable files, binary data, YAML syntax errors, documents that are not objects) becomes one
:class:`InputProblem` each, and reading goes on with the next document or file.

YAML is parsed with libyaml (``yaml.CSafeLoader``) into nodes, which carry line marks, and the
nodes are turned into plain values here rather than by PyYAML's constructor: faster, and closer
to what kubectl does (timestamps stay strings, as sigs.k8s.io/yaml leaves them; duplicate keys
are reported). JSON files are read with the json module and located lazily, only when a problem
needs a line. No network I/O.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kubespark import bounded
from kubespark.errors import InputError

__all__ = [
    "Document",
    "InputProblem",
    "expand_paths",
    "line_of",
    "read_documents",
    "read_inputs",
]

_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_EXTENSIONS = (".yaml", ".yml", ".json")
_SEPARATOR = re.compile(r"^---(?=[ \t]|$)", re.M)
_TAG = "tag:yaml.org,2002:"
_STR, _INT, _BOOL, _NULL, _FLOAT = (f"{_TAG}{t}" for t in ("str", "int", "bool", "null", "float"))
_MERGE = f"{_TAG}merge"
_SAFE = SafeConstructor()  # only its stateless scalar constructors are used
# The safe resolver's implicit tags by first character, wildcard entries appended.
_IMPLICIT: dict[str, tuple[tuple[str, re.Pattern[str]], ...]] = {
    first: tuple(found) + tuple(_BASE_LOADER.yaml_implicit_resolvers.get(None, ()))
    for first, found in _BASE_LOADER.yaml_implicit_resolvers.items()
    if first is not None
}


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """libyaml's parser and composer without their per-node calls back into Python.

    The composer calls ``descend_resolver``/``ascend_resolver`` on every node (for path
    resolvers, which the safe loader has none of) and ``resolve`` on every untagged node.
    C builtins stand in for all three: ``resolve`` becomes ``slice``, so an untagged node's tag
    is ``slice(kind, value, implicit)`` and :func:`_scalar` resolves plain scalars itself, with
    the safe resolver's own rules (``_IMPLICIT``), only where a value is needed.
    """

    descend_resolver = staticmethod(operator.is_)
    ascend_resolver = staticmethod(tuple)
    resolve = staticmethod(slice)


_LOADER = _Loader


@dataclass(frozen=True, slots=True)
class InputProblem:
    """Input that is not a Kubernetes object: where, what, and the fix."""

    source: str
    line: int  # 1-based; 0 when the whole file is concerned
    message: str
    fix: str

    def render(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.message}\n  fix: {self.fix}"


@dataclass(slots=True)
class Document:
    """One object of an input, where it starts, and how to find the line of a field in it."""

    source: str
    line: int  # 1-based line of the object's first key
    obj: Any
    node: Node | None = None  # the YAML node, when parsed from YAML
    line_offset: int = 0  # lines before the text the node was parsed from
    text: str | None = field(default=None, repr=False)  # JSON text, located on demand
    duplicates: tuple[str, ...] = ()  # paths of keys given twice (the last one wins)

    def line_of(self, path: str) -> int:
        """The line of a field path such as ``.spec.ports[0].port``: the deepest part found."""
        if self.node is None and self.text is not None:
            self.node = _compose_quietly(self.text)
            self.text = None
        if self.node is None:
            return self.line
        return line_of(self.node, path) + 1 + self.line_offset


# --- reading inputs -----------------------------------------------------------------------------


def expand_paths(paths: Iterable[str]) -> tuple[list[str], list[InputProblem]]:
    """Files to read for ``-f`` arguments: directories walked, ``-`` kept for stdin."""
    files: list[str] = []
    problems: list[InputProblem] = []
    for given in paths:
        if given == "-":
            files.append(given)
            continue
        path = Path(given)
        if path.is_dir():
            found = sorted(
                str(p) for p in path.rglob("*") if p.suffix in _EXTENSIONS and p.is_file()
            )
            if not found:
                problems.append(
                    InputProblem(
                        given,
                        0,
                        "the directory has no *.yaml, *.yml or *.json files",
                        "name a directory or files that hold manifests",
                    )
                )
            files.extend(found)
        elif path.is_file():
            files.append(given)
        else:
            problems.append(
                InputProblem(given, 0, "no such file or directory", "check the path given to -f")
            )
    return files, problems


def read_inputs(
    files: Iterable[str], stdin: BinaryIO | None = None
) -> Iterator[Document | InputProblem]:
    """Every document of every file, in order; bad input as problems, never an exception."""
    for name in files:
        if name == "-":
            source = "<stdin>"
            try:
                data = bounded.read_stream(stdin, source) if stdin is not None else b""
            except bounded.LimitError as err:
                yield _limit_problem(err)
                continue
        else:
            source = name
            try:
                data = bounded.read_bytes(name)
            except bounded.LimitError as err:
                yield _limit_problem(err)
                continue
            except InputError as err:
                yield InputProblem(name, 0, err.message, "check it")
                continue
        text = _decode(data, source)
        if isinstance(text, InputProblem):
            yield text
            continue
        as_json = name.endswith(".json") or (name == "-" and text.lstrip()[:1] in ("{", "["))
        yield from read_documents(text, source, as_json=as_json)


def _limit_problem(err: bounded.LimitError) -> InputProblem:
    return InputProblem(err.source, err.line, err.message, err.fix or "")


def _decode(data: bytes, source: str) -> str | InputProblem:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            return InputProblem(
                source,
                line,
                f"not UTF-8 text (byte 0x{data[err.start]:02x})",
                "give YAML or JSON manifests in UTF-8",
            )
    return InputProblem(
        source, 0, "binary data, not a YAML or JSON manifest", "give YAML or JSON manifests"
    )


def read_documents(
    text: str, source: str, *, as_json: bool = False
) -> Iterator[Document | InputProblem]:
    """The objects of one YAML stream or JSON document, ``kind: List`` items expanded."""
    if as_json:
        try:
            value = bounded.load_json(text, source)
        except bounded.LimitError as err:
            yield _limit_problem(err)
            return
        except ValueError as err:
            line = getattr(err, "lineno", 0)
            if text.lstrip()[:1] not in ("{", "["):
                yield from read_documents(text, source)  # YAML in a .json file: read it so
                return
            yield InputProblem(source, line, f"JSON syntax error: {err}", "fix the JSON")
            return
        yield from _objects(Document(source, 1, value, text=text), None)
        return
    yield from _yaml_documents(text, source)


def _yaml_documents(text: str, source: str) -> Iterator[Document | InputProblem]:
    try:
        bounded.check_yaml(text, source)  # before libyaml composes (it recurses in C)
    except bounded.LimitError as err:
        yield _limit_problem(err)
        return
    offset = 0  # line offset of ``rest`` in ``text``
    rest = text
    while True:
        try:
            for node in yaml.compose_all(rest, Loader=_LOADER):
                line = node.start_mark.line + 1 + offset
                value, duplicates = _build(node)
                doc = Document(source, line, value, node, offset, duplicates=tuple(duplicates))
                yield from _objects(doc, node)
            return
        except yaml.YAMLError as err:
            yield _yaml_problem(source, offset, err)
            # Go on with the next document: the first separator at or after the error that
            # lies beyond where this attempt started (so a bad first line cannot loop).
            error_line = _error_line(err) + offset
            next_start = _next_document(text, max(error_line, offset + 1))
            if next_start is None:
                return
            offset, rest = next_start


def _error_line(err: yaml.YAMLError) -> int:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    return int(mark.line) if mark is not None else 0


def _yaml_problem(source: str, offset: int, err: yaml.YAMLError) -> InputProblem:
    problem = getattr(err, "problem", None) or str(err)
    context = getattr(err, "context", None)
    context_mark = getattr(err, "context_mark", None)
    if context and context_mark is not None:
        context = f"{context} started at line {context_mark.line + offset + 1}"
    what = f"{problem} ({context})" if context else str(problem)
    return InputProblem(
        source, _error_line(err) + offset + 1, f"YAML syntax error: {what}", "fix the YAML there"
    )


def _next_document(text: str, from_line: int) -> tuple[int, str] | None:
    """(line, text) of the first document separator at or after a 0-based line."""
    for match in _SEPARATOR.finditer(text):
        line = text.count("\n", 0, match.start())
        if line >= from_line:
            return line, text[match.start() :]
    return None


def _compose_quietly(text: str) -> Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError:
        return None


# --- objects and List items ---------------------------------------------------------------------


def _objects(doc: Document, node: Node | None) -> Iterator[Document | InputProblem]:
    obj = doc.obj
    if obj is None:
        return  # an empty document (a trailing ---, a file of comments): nothing to check
    if isinstance(obj, dict):
        items = obj.get("items")
        kind = obj.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            yield from _list_items(doc, node, items)
            return
        yield doc
        return
    if isinstance(obj, list) and node is None and doc.text is not None:
        # A JSON array of objects: each one a document.
        for i, item in enumerate(obj):
            yield from _objects(Document(doc.source, doc.line, item, text=doc.text), None)
            del i
        return
    yield InputProblem(
        doc.source,
        doc.line,
        f"expected a Kubernetes object (a mapping with apiVersion and kind), got {_word(obj)}",
        "give one object per YAML document, or a kind: List with items",
    )


def _list_items(
    doc: Document, node: Node | None, items: list[Any]
) -> Iterator[Document | InputProblem]:
    item_nodes: list[Node] = []
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, ScalarNode)
                and key.value == "items"
                and isinstance(value, SequenceNode)
            ):
                item_nodes = list(value.value)
    for i, item in enumerate(items):
        item_node = item_nodes[i] if i < len(item_nodes) else None
        line = item_node.start_mark.line + 1 + doc.line_offset if item_node else doc.line
        prefix = f".items[{i}]"
        dups = tuple(d[len(prefix) :] for d in doc.duplicates if d.startswith(prefix + "."))
        sub = Document(doc.source, line, item, item_node, doc.line_offset, doc.text, dups)
        if item_node is None and doc.text is not None:
            sub.text = None  # located by the list's line only
        yield from _objects(sub, item_node)


def _word(value: Any) -> str:
    if value is None:
        return "an empty document"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


# --- nodes to values ----------------------------------------------------------------------------


def _build(node: Node) -> tuple[Any, list[str]]:
    duplicated: list[bool] = []

    def value_of(node: Node) -> Any:
        cls = node.__class__
        if cls is ScalarNode:
            return _scalar(node)  # type: ignore[arg-type]
        if cls is MappingNode:
            out: dict[Any, Any] = {}
            pairs = node.value
            for key_node, value_node in pairs:
                key = _scalar(key_node) if key_node.__class__ is ScalarNode else value_of(key_node)
                if key is _MERGE_KEY:
                    _merge(out, value_node, value_of)
                    continue
                if key is not None and key.__class__ is not str:
                    key = key if isinstance(key, int | float | bool) else str(key)
                out[key] = (
                    _scalar(value_node)
                    if value_node.__class__ is ScalarNode
                    else value_of(value_node)
                )
            if len(out) != len(pairs):
                duplicated.append(True)  # or a merge key: told apart below
            return out
        return [value_of(item) for item in node.value]

    value = value_of(node)
    duplicates: list[str] = []
    if duplicated:
        _find_duplicates(node, "", duplicates)
    return value, duplicates


def _find_duplicates(node: Node, path: str, out: list[str]) -> None:
    if isinstance(node, MappingNode):
        seen: set[Any] = set()
        for k, v in node.value:
            key = k.value if isinstance(k, ScalarNode) else None
            if key is not None and key in seen and not _is_merge(k):
                out.append(f"{path}.{key}")
            seen.add(key)
            _find_duplicates(v, f"{path}.{key}", out)
    elif isinstance(node, SequenceNode):
        for i, v in enumerate(node.value):
            _find_duplicates(v, f"{path}[{i}]", out)


def _is_merge(node: ScalarNode) -> bool:
    return _scalar(node) is _MERGE_KEY


def _merge(out: dict[Any, Any], node: Node, value_of: Any) -> None:
    sources = node.value if isinstance(node, SequenceNode) else [node]
    for source in sources:
        merged = value_of(source)
        if isinstance(merged, dict):
            for k, v in merged.items():
                out.setdefault(k, v)


_MERGE_KEY = object()  # what a ``<<`` merge key stands for while building a mapping


def _scalar(node: ScalarNode) -> Any:
    tag: Any = node.tag
    if tag.__class__ is slice:  # untagged (see _Loader): plain scalars resolve implicitly
        return _plain(node.value) if tag.step[0] else node.value
    return _tagged(str(tag), node.value)


@functools.lru_cache(maxsize=1 << 16)
def _plain(value: str) -> Any:
    """A plain scalar's value by the safe resolver's rules (keys and values repeat a lot)."""
    for tag, regexp in _IMPLICIT.get(value[:1], ()):
        if regexp.match(value):
            return _tagged(tag, value)
    return value


def _tagged(tag: str, value: str) -> Any:
    if tag == _STR:
        return value
    if tag == _INT:
        if value.isdigit() and (value[0] != "0" or value == "0"):
            return int(value)
        try:
            return _SAFE.construct_yaml_int(ScalarNode(tag, value))
        except (ValueError, ConstructorError):
            return value
    if tag == _BOOL:
        return SafeConstructor.bool_values.get(value.lower(), value)
    if tag == _NULL:
        return None
    if tag == _FLOAT:
        try:
            return _SAFE.construct_yaml_float(ScalarNode(tag, value))
        except (ValueError, ConstructorError):
            return value
    if tag == _MERGE:
        return _MERGE_KEY
    return value  # timestamps, binary and custom tags: the text, as kubectl's YAML reader does


# --- locating paths -----------------------------------------------------------------------------

_PART = re.compile(r"\.([^.\[]+)|\[([^\]]*)\]")


def line_of(node: Node, path: str) -> int:
    """The 0-based line of the deepest node found along ``path`` (``.a.b[0][key]``)."""
    line = node.start_mark.line
    current: Node | None = node
    for match in _PART.finditer(path):
        name, bracket = match.group(1), match.group(2)
        if current is None:
            break
        if isinstance(current, MappingNode):
            key = name if name is not None else bracket
            # The last of duplicate keys is the one that counts.
            hits = [
                (k, v) for k, v in current.value if isinstance(k, ScalarNode) and k.value == key
            ]
            hit = hits[-1] if hits else None
            if hit is None:
                break
            line = hit[0].start_mark.line
            current = hit[1]
        elif isinstance(current, SequenceNode) and bracket is not None:
            element = _element(current, bracket)
            if element is None:
                break
            line = element.start_mark.line
            current = element
        else:
            break
    return line


def _element(node: SequenceNode, selector: str) -> Node | None:
    if selector.isdigit():
        index = int(selector)
        return node.value[index] if index < len(node.value) else None
    # structured-merge-diff's key selectors: [name="x"] or [port=80,protocol="TCP"]
    wanted = dict(part.split("=", 1) for part in selector.split(",") if "=" in part)
    for element in node.value:
        if isinstance(element, MappingNode):
            fields = {k.value: v for k, v in element.value if isinstance(k, ScalarNode)}
            if all(
                isinstance(fields.get(k), ScalarNode) and fields[k].value == v.strip('"')
                for k, v in wanted.items()
            ):
                return element
    return None
