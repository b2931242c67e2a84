"""CEL expressions compiled to Python once, kept in the user cache, run without celpy.

Owns translating a subset of CEL into Python source that calls
:mod:`kubespark.apisurface.cel_runtime` (which owns what each operator means), compiling a set
of expressions into one code object, and keeping it in ``$KUBESPARK_CACHE/cel`` (else the user's
cache directory) keyed by a digest of the expressions, this module, the runtime and the Python
version: a warm process reads the marshalled code and never imports celpy, lark, pendulum or
dateutil (about 30 ms of a short command, and the interpretation after it).

The subset: ``! && || == != < <= > >= + ?: in``, ``has()``, ``size()``, ``string()``,
``matches()`` with a literal pattern, member and index access, list literals, string, int,
double, bool and null literals, ``self`` and the variables of the macros ``all``, ``exists``,
``exists_one`` and ``filter``. The syntax is CEL's: celpy's parser (its Lark grammar) reads each
expression, at compile time only. A ``matches`` pattern is translated from RE2 to Python's
``re`` only when it uses constructs whose meaning the two share (``$`` is end of text, ``\\s``
RE2's ASCII class); any other construct is refused.

It refuses (:class:`Refused`, naming the expression's label) anything outside the subset, so an
expression added to a data file is never silently mis-compiled: :meth:`CompiledSet.holds` and
:meth:`CompiledSet.message` evaluate a refused expression, and any value that is not plain JSON
(a YAML timestamp, an int beyond int64), with celpy through :mod:`kubespark.apisurface.cel`.

Why a cache and not a generated module in the repository: a rule added to a data file needs no
regeneration step, and a stale entry cannot be read (its key changes with the expressions).
It must not know any particular CRD or rule.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from kubespark.apisurface import cel_runtime
from kubespark.picklecache import read_or_build, user_cache_dir

if TYPE_CHECKING:
    import lark

__all__ = ["COMPILER_VERSION", "CompiledSet", "Refused", "compiled", "python_source"]

# Bumped when the Python this module writes changes meaning without its text changing.
COMPILER_VERSION: Final = 1

_MACROS: Final = {
    "all": "all_",
    "exists": "exists",
    "exists_one": "exists_one",
    "filter": "filter_",
}
_RELATIONS: Final = {
    "relation_eq": "eq",
    "relation_ne": "ne",
    "relation_lt": "lt",
    "relation_le": "le",
    "relation_gt": "gt",
    "relation_ge": "ge",
    "relation_in": "in_",
}
_FUNCTIONS: Final = {"size": "size", "string": "string"}


class Refused(ValueError):
    """An expression uses CEL outside the compiled subset (the message names it and what)."""


@dataclass(frozen=True, slots=True)
class CompiledSet:
    """Compiled expressions by their text; the refused ones, with why, go to celpy."""

    functions: Mapping[str, Callable[[Any], Any]]
    refused: Mapping[str, str]

    def evaluate(self, expression: str, value: Any) -> Any:
        """The expression's value with ``self`` bound to the plain JSON ``value``."""
        return self.functions[expression](value)

    def holds(self, expression: str, value: Any) -> bool:
        """As :func:`kubespark.apisurface.cel.holds`: true, not false nor an error."""
        function = self.functions.get(expression)
        if function is None or not cel_runtime.is_plain(value):
            from kubespark.apisurface import cel  # celpy: only for what was not compiled

            return cel.holds(expression, value)
        return function(value) is True

    def message(self, expression: str, value: Any) -> str | None:
        """As :func:`kubespark.apisurface.cel.evaluated_message`: a one-line string or None."""
        function = self.functions.get(expression)
        if function is None or not cel_runtime.is_plain(value):
            from kubespark.apisurface import cel

            return cel.evaluated_message(expression, value)
        result = function(value)
        if type(result) is not str or not result.strip() or "\n" in result:
            return None
        return result


def compiled(name: str, expressions: Sequence[tuple[str, str]]) -> CompiledSet:
    """``expressions`` (label, CEL text) compiled, from the cache ``name`` when it has them."""
    build = functools.partial(_build, expressions)
    try:
        code, refused = read_or_build(
            user_cache_dir("cel") / f"{name}-{_digest(expressions)}.pickle", build
        )
        return _loaded(expressions, code, refused)
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        # Sources unreadable here (no digest), or an entry that unpickled but is no code of
        # ours: compile in memory, as a cold cache would.
        return _loaded(expressions, *build())


def _loaded(
    expressions: Sequence[tuple[str, str]], code: bytes, refused: Mapping[str, str]
) -> CompiledSet:
    namespace = _namespace()
    exec(marshal.loads(code), namespace)  # our own compiler's output, keyed by its input
    texts = [text for _, text in expressions]
    functions = {text: namespace[f"_e{i}"] for i, text in enumerate(texts) if text not in refused}
    return CompiledSet(functions, dict(refused))


def _digest(expressions: Sequence[tuple[str, str]]) -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256(f"{COMPILER_VERSION}\0{sys.version}\0".encode())
    for source in (here / "cel_compile.py", here / "cel_runtime.py"):
        digest.update(hashlib.sha256(source.read_bytes()).digest())
    for label, text in expressions:
        digest.update(f"{label}\0{text}\0".encode())
    return digest.hexdigest()[:24]


def _namespace() -> dict[str, Any]:
    return {f"_{n}": getattr(cel_runtime, n) for n in cel_runtime.__all__ if n[0].islower()} | {
        "_ERR": cel_runtime.ERR
    }


def _build(expressions: Sequence[tuple[str, str]]) -> tuple[bytes, dict[str, str]]:
    """One module of ``_e<i>(self)`` functions; refused expressions get none."""
    lines = ["import re as _re"]
    refused: dict[str, str] = {}
    patterns: list[str] = []
    for i, (label, text) in enumerate(expressions):
        try:
            body = python_source(text, label, patterns)
        except Refused as refusal:
            refused[text] = str(refusal)
            continue
        lines.append(f"def _e{i}(self):\n    return {body}")
    lines[1:1] = patterns
    code = compile("\n".join(lines) + "\n", "<kubespark compiled CEL>", "exec")
    return marshal.dumps(code), refused


def python_source(text: str, label: str, patterns: list[str] | None = None) -> str:
    """A Python expression of ``self`` computing CEL ``text``; :class:`Refused` outside the subset.

    ``patterns`` collects the module-level ``re.compile`` lines the expression's ``matches``
    need (their names are unique across calls sharing the list).
    """
    from celpy.celparser import CELParseError, CELParser

    from kubespark.apisurface.cel import _cel_parser

    _cel_parser()
    try:
        tree = CELParser().parse(text)
    except CELParseError as err:
        raise Refused(f"{label}: not CEL: {err}") from err
    return _Writer(label, [] if patterns is None else patterns).node(tree, ("self",))


class _Writer:
    """Turns celpy's parse tree into a Python expression; refuses what it does not know."""

    def __init__(self, label: str, patterns: list[str]) -> None:
        self.label = label
        self.patterns = patterns
        self.temps = 0

    def refuse(self, what: str) -> Refused:
        return Refused(f"{self.label}: {what} is outside the CEL subset kubespark compiles")

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def node(self, tree: lark.Tree[Any], scope: tuple[str, ...]) -> str:
        kids = tree.children
        rule = str(tree.data)
        if len(kids) == 1 and rule in _PASS_THROUGH:
            return self.node(kids[0], scope)
        method = getattr(self, f"n_{rule}", None)
        if method is None:
            raise self.refuse(f"{rule!r}")
        result: str = method(kids, scope)
        return result

    def n_expr(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        cond, yes, no = (self.node(k, scope) for k in kids)
        t = self.temp()
        return f"(({yes}) if ({t} := {cond}) is True else (({no}) if {t} is False else _ERR))"

    def n_conditionalor(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        a, b = (self.node(k, scope) for k in kids)
        t = self.temp()
        return f"(True if ({t} := {a}) is True else _or_({t}, {b}))"

    def n_conditionaland(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        a, b = (self.node(k, scope) for k in kids)
        t = self.temp()
        return f"(False if ({t} := {a}) is False else _and_({t}, {b}))"

    def n_relation(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        operator, right = kids
        function = _RELATIONS.get(str(operator.data))
        if function is None:
            raise self.refuse(str(operator.data))
        left = self.node(operator.children[0], scope)
        return f"_{function}({left}, {self.node(right, scope)})"

    def n_addition(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        operator, right = kids
        if operator.data != "addition_add":
            raise self.refuse(str(operator.data))
        return f"_add({self.node(operator.children[0], scope)}, {self.node(right, scope)})"

    def n_unary(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        operator, operand = kids
        if operator.data != "unary_not":
            raise self.refuse(str(operator.data))
        return f"_not_({self.node(operand, scope)})"

    def n_member_dot(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        member, name = kids
        return f"_field({self.node(member, scope)}, {str(name)!r})"

    def n_member_index(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        member, key = kids
        return f"_index({self.node(member, scope)}, {self.node(key, scope)})"

    def n_member_dot_arg(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        member, name, *rest = kids
        args = rest[0].children if rest and rest[0] is not None else []
        receiver = self.node(member, scope)
        if str(name) in _MACROS and len(args) == 2:
            variable = self.variable(args[0])
            body = self.node(args[1], (*scope, variable))
            return f"_{_MACROS[str(name)]}({receiver}, lambda v_{variable}: {body})"
        if str(name) == "matches" and len(args) == 1:
            return f"_matches({receiver}, {self.pattern(args[0])})"
        raise self.refuse(f"the method {name}()")

    def n_ident_arg(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        name, *rest = kids
        args = rest[0].children if rest and rest[0] is not None else []
        if len(args) != 1:
            raise self.refuse(f"{name}() with {len(args)} arguments")
        if str(name) == "has":
            selection = _unwrap(args[0])
            if selection.data != "member_dot":
                raise self.refuse("has() of anything but a field selection")
            member, field = selection.children
            return f"_has({self.node(member, scope)}, {str(field)!r})"
        if str(name) in _FUNCTIONS:
            return f"_{_FUNCTIONS[str(name)]}({self.node(args[0], scope)})"
        raise self.refuse(f"the function {name}()")

    def n_ident(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        name = str(kids[0])
        if name == "self":
            return "self"
        if name in scope:
            return f"v_{name}"
        raise self.refuse(f"the identifier {name!r}")

    def n_paren_expr(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        return self.node(kids[0], scope)

    def n_list_lit(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        items = [self.node(k, scope) for k in (kids[0].children if kids and kids[0] else [])]
        return f"_list_(({''.join(i + ', ' for i in items)}))"

    def n_literal(self, kids: list[Any], scope: tuple[str, ...]) -> str:
        return repr(self.literal(kids[0]))

    def literal(self, token: lark.Token) -> object:
        kind, text = token.type, str(token)
        if kind == "STRING_LIT" and text[:1] not in "rR":
            from celpy.evaluation import celstr

            return str(celstr(token))
        if kind == "INT_LIT":
            digits = text.lstrip("-")
            if digits.startswith("0") and digits != "0" and not digits.startswith("0x"):
                raise self.refuse(f"the int literal {text} with a leading zero")
            number = int(text, 16 if digits.startswith("0x") else 10)
            if not -(1 << 63) <= number < (1 << 63):
                raise self.refuse(f"the int literal {text} beyond int64")
            return number
        if kind == "FLOAT_LIT":
            return float(text)
        if kind == "BOOL_LIT":
            return text == "true"
        if kind == "NULL_LIT":
            return None
        raise self.refuse(f"the literal {text} ({kind})")

    def variable(self, tree: lark.Tree[Any]) -> str:
        ident = _unwrap(tree)
        if ident.data != "ident" or str(ident.children[0]) == "self":
            raise self.refuse("a macro variable that is not a name other than self")
        return str(ident.children[0])

    def pattern(self, tree: lark.Tree[Any]) -> str:
        literal = _unwrap(tree)
        if literal.data != "literal":
            raise self.refuse("matches() with a pattern that is not a literal")
        text = self.literal(cast("lark.Token", literal.children[0]))  # a literal is one token
        if not isinstance(text, str):
            raise self.refuse("matches() with a pattern that is not a string")
        translated, flags = _python_regex(text, self.refuse)
        compiling = f"_re.compile({translated!r}, {flags})"
        for line in self.patterns:  # one compiled pattern however many rules use it
            name, _, known = line.partition(" = ")
            if known == compiling:
                return name
        name = f"_re{len(self.patterns)}"
        self.patterns.append(f"{name} = {compiling}")
        return name


# The grammar's precedence levels: one child means the level adds nothing.
_PASS_THROUGH: Final = frozenset(
    {
        "expr",
        "conditionalor",
        "conditionaland",
        "relation",
        "addition",
        "multiplication",
        "unary",
        "member",
        "primary",
    }
)


def _unwrap(tree: lark.Tree[Any]) -> lark.Tree[Any]:
    """The node below a chain of one-child precedence levels (and parentheses)."""
    while tree.data in _PASS_THROUGH | {"paren_expr"} and len(tree.children) == 1:
        tree = tree.children[0]
    return tree


# RE2 -> Python, for the constructs both read alike once translated. RE2's \s is ASCII
# [\t\n\f\r ] (Python's also takes \v and Unicode spaces), \d ASCII [0-9]; RE2's $ is the end
# of the text (Python's also matches before a final newline: \Z does not).
_CLASS_ESCAPES: Final = {"s": "\\t\\n\\f\\r ", "d": "0-9"}
_LITERAL_ESCAPES: Final = frozenset(".-^$*+?()[]{}|\\/")


def _python_regex(pattern: str, refuse: Callable[[str], Refused]) -> tuple[str, str]:
    """``pattern`` (RE2) as a Python ``re`` pattern and flags with the same search results."""
    flags = "0"
    if pattern.startswith("(?i)"):
        # Unicode simple case folding in both (the Kelvin sign is a k in each).
        flags, pattern = "_re.IGNORECASE", pattern[4:]
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            following = pattern[i + 1 : i + 2]
            if following in _CLASS_ESCAPES:
                body = _CLASS_ESCAPES[following]
                out.append(body if in_class else f"[{body}]")
            elif following in _LITERAL_ESCAPES:
                out.append("\\" + following)
            else:
                raise refuse(f"the regular-expression escape \\{following} in {pattern!r}")
            i += 2
            continue
        if not (char.isascii() and char.isprintable()):
            raise refuse(f"the character {char!r} in {pattern!r}")
        if in_class:
            if char == "[":
                raise refuse(f"a nested character class in {pattern!r}")
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] in ("^", "]"):
                raise refuse(f"a negated or ']'-first character class in {pattern!r}")
        elif char == "$":
            char = "\\Z"
        elif char == "(" and pattern[i + 1 : i + 2] == "?":
            raise refuse(f"a group flag or assertion in {pattern!r}")
        elif char == "{":
            raise refuse(f"a counted repetition in {pattern!r}")
        out.append(char)
        i += 1
    if in_class:
        raise refuse(f"an unclosed character class in {pattern!r}")
    return "".join(out), flags
