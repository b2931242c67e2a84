"""The curated public surface: its names and signatures are what ``public_surface.txt`` lists.

An accidental change to a public name, a parameter (its kind, default or annotation) or a public
method fails here; an intended one is one edit: change that name's block in
``tests/public_surface.txt`` (the failure prints the block to paste). Importing stays lazy.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import kubespark

LISTING = Path(__file__).with_name("public_surface.txt")


def _annotation(value: Any) -> str:
    return value if isinstance(value, str) else inspect.formatannotation(value)


def _parameter(p: inspect.Parameter) -> str:
    text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
    if p.annotation is not p.empty:
        text += f": {_annotation(p.annotation)}"
    if p.default is not p.empty:
        text += f" = {re.sub(r' at 0x[0-9a-f]+', '', repr(p.default))}"  # no object addresses
    return text


def render_signature(sig: inspect.Signature) -> str:
    """``(a: int, /, b: str = 'x', *, c: bool = False) -> R``: kinds, defaults, annotations."""
    params = list(sig.parameters.values())
    parts: list[str] = []
    starred = False
    for i, p in enumerate(params):
        if p.kind is p.KEYWORD_ONLY and not starred:
            parts.append("*")
        starred = starred or p.kind in (p.KEYWORD_ONLY, p.VAR_POSITIONAL)
        parts.append(_parameter(p))
        last_positional_only = p.kind is p.POSITIONAL_ONLY and (
            i + 1 == len(params) or params[i + 1].kind is not p.POSITIONAL_ONLY
        )
        if last_positional_only:
            parts.append("/")
    returns = sig.return_annotation
    arrow = "" if returns is sig.empty else f" -> {_annotation(returns)}"
    return f"({', '.join(parts)}){arrow}"


def _def(name: str, fn: Callable[..., Any], prefix: str = "") -> str:
    is_async = inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)
    signature = render_signature(inspect.signature(fn))
    return f"{prefix}{'async ' if is_async else ''}def {name}{signature}"


def _members(cls: type) -> Iterator[str]:
    """The public methods and properties ``cls`` itself defines, by name."""
    for attr, value in sorted(vars(cls).items()):
        if attr.startswith("_"):
            continue
        if isinstance(value, property):
            yield f"    property {attr}"
        elif isinstance(value, classmethod | staticmethod):
            yield _def(attr, value.__func__, f"    {type(value).__name__} ")
        elif inspect.isfunction(value):
            yield _def(attr, value, "    ")


def render(name: str) -> str:
    """The listing block of one public name: its signature, and a class's own members."""
    obj = getattr(kubespark, name)
    if not inspect.isclass(obj):
        return _def(name, obj)
    head = f"class {name}{render_signature(inspect.signature(obj))}"
    return "\n".join([head, *_members(obj)])


def expected() -> dict[str, str]:
    """The listing's blocks by name: a block starts at an unindented line; ``#`` lines are notes."""
    lines = [line for line in LISTING.read_text().splitlines() if not line.startswith("#")]
    blocks: dict[str, str] = {}
    for block in re.split(r"\n(?=\S)", "\n".join(lines).strip()):
        name = re.match(r"(?:async )?(?:def|class) (\w+)", block)
        assert name, f"{LISTING.name}: cannot read the block {block!r}"
        blocks[name.group(1)] = block
    return blocks


PUBLIC = sorted(set(kubespark.__all__) - {"__version__"})


def test_the_listing_names_exactly_the_public_surface() -> None:
    assert sorted(expected()) == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_signature_matches_the_listing(name: str) -> None:
    actual = render(name)
    assert actual == expected().get(name), (
        f"the public signature of kubespark.{name} changed; if intended, put this block in "
        f"tests/{LISTING.name}:\n{actual}"
    )


def test_render_shows_kinds_defaults_and_annotations() -> None:
    def sample(a: int, /, b: str = "x", *args: int, c: bool = False, **kw: Any) -> None: ...

    async def coro(*, d: float) -> int:
        return 0

    assert render_signature(inspect.signature(sample)) == (
        "(a: int, /, b: str = 'x', *args: int, c: bool = False, **kw: Any) -> None"
    )
    assert _def("coro", coro) == "async def coro(*, d: float) -> int"


def test_all_lists_exactly_the_exports() -> None:
    assert set(kubespark.__all__) == {"__version__", *kubespark._EXPORTS}


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = kubespark.no_such_thing  # type: ignore[attr-defined]


def test_import_kubespark_loads_no_heavy_parts() -> None:
    code = (
        "import sys, kubespark; print(sorted(m for m in sys.modules if m.startswith('kubespark')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['kubespark']"
