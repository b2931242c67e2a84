"""Plain rendering: without rich, the same text rich prints where it prints no styles.

Every verdict ``check`` can print (each Spark release on each Kubernetes minor, with and without
an operator and a JDK) is rendered twice, through rich's console writing to a non-terminal and
through :class:`kubespark.cli.plain.PlainConsole`, and the two texts must be equal.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from kubespark.cli import output
from kubespark.cli import plain as plain_module
from kubespark.cli.app import app
from kubespark.cli.matrix import _plain_grid, _render_table
from kubespark.cli.plain import (
    PlainConsole,
    console_width,
    escape,
    plain_possible,
    plain_table,
    strip_markup,
)
from kubespark.cli.verdicts import render_assessment
from kubespark.emulator.testing import RunningEmulator
from kubespark.knowledge import Combination, PathName, build_matrix, evaluate, load_knowledge
from kubespark.versions import Version, parse_jdk_version, parse_operator_version

SPARK_PI = yaml.safe_load(
    (Path(__file__).parents[2] / "examples" / "spark-pi.yaml").read_text(encoding="utf-8")
)
SPARK_PI["spec"]["driver"].pop("serviceAccount", None)  # the emulator's default one is there

TRICKY = [
    "plain",
    "[bold]x[/] and [red]y[/red]",
    "a \\[literal] tag",
    "two \\\\[bold]backslashes[/] then a tag",
    "three \\\\\\[x] escaped",
    "list[0] and dict['k'] and [1.2] and [/path]",
    "brackets [A-Z] stay",
    "ends with a backslash \\",
    "[dim]note:[/] \x07bell\rreturn",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_escape_strip_and_print_are_riches(text: str) -> None:
    assert escape(text) == rich_escape(text)
    control = dict.fromkeys((7, 8, 11, 12, 13))  # what rich's Text strips, after the markup
    stripped = strip_markup(escape(text)).translate(control)
    assert stripped == Text.from_markup(escape(text), emoji=False).plain
    plain, rich = _both(lambda console: console.print(escape(text), "[bold]x[/]"))
    assert plain == rich
    if "[/path]" not in text:  # rich refuses a closing tag it did not open
        stripped = strip_markup(text).translate(control)
        assert stripped == Text.from_markup(text, emoji=False).plain
        plain, rich = _both(lambda console: console.print(text))
        assert plain == rich


# (text, whether it holds a name-shaped ``:code:`` that only rich's table can judge)
EMOJI_OR_NOT = [
    ("to Kubernetes 1.29.0 at http://127.0.0.1:43857 now", False),
    ("a URL https://h:1/x then a path /a:b/c", False),
    ("spaced : colons : here", False),
    ("a time 12:30:45 (':30:' could be a code, as ':100:' is)", True),
    ("real ones :smiley: and :+1: and :thumbs_up-text: and :SMILEY:", True),
    ("a URL then an emoji https://h:1/x :smiley:", True),
    ("not one :no_such_emoji_here:", True),
]


@pytest.mark.parametrize(("text", "name_shaped"), EMOJI_OR_NOT)
def test_emoji_codes_print_as_riches_and_urls_need_no_fallback(
    text: str, name_shaped: bool
) -> None:
    plain, rich = _both(lambda console: console.print(text, highlight=False))
    assert plain == rich
    console = PlainConsole()
    with contextlib.redirect_stdout(io.StringIO()):
        console.print(text)
    # Only a text that may hold an emoji code is handed to rich (which costs its import).
    assert (console._rich is not None) == name_shaped


def test_every_rich_emoji_name_is_taken_for_a_possible_emoji() -> None:
    from rich._emoji_codes import EMOJI  # rich's table, read to pin the character set

    names = [name for name in EMOJI if not plain_module._EMOJI_NAME.fullmatch(name)]
    assert names == []
    assert not plain_module._EMOJI_NAME.fullmatch("//127.0.0.1")


def _both(render: object) -> tuple[str, str]:
    rich_out = io.StringIO()
    render(Console(file=rich_out, soft_wrap=True))  # type: ignore[operator]
    plain_out = io.StringIO()
    with contextlib.redirect_stdout(plain_out):
        render(PlainConsole())  # type: ignore[operator]
    return plain_out.getvalue(), rich_out.getvalue()


def test_every_verdict_check_prints_is_the_same_without_rich() -> None:
    kb = load_knowledge()
    minors = sorted({v.minor_version for v in kb.spark_releases})
    operators = [
        None,
        parse_operator_version("v1beta2-1.6.2-3.5.0"),
        parse_operator_version("v2.1.0"),
    ]
    combos = [
        Combination(spark=spark, kubernetes=kube, operator=operator, jdk=jdk)
        for spark in [None, *minors, Version(3, 5, 1)]
        for kube in [None, *kb.kube_minors[::3]]
        for operator in operators
        for jdk in (None, parse_jdk_version("8u252"))
    ]
    assert len(combos) > 500
    for combo in combos:
        found = evaluate(combo)
        plain, rich = _both(lambda console, a=found: render_assessment(console, a, "a [title]"))
        assert plain == rich, combo


def test_what_plain_cannot_reproduce_goes_to_rich() -> None:
    for objects in (["a\tb"], ["an :smile: face"], [Text("a renderable")]):
        plain, rich = _both(lambda console: console.print(*objects))  # noqa: B023
        assert plain == rich


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, True),  # pytest's captured stdout is no terminal
        ({"FORCE_COLOR": "1"}, False),
        ({"FORCE_COLOR": ""}, True),
        ({"TTY_COMPATIBLE": "1"}, False),
        ({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, True),
    ],
)
def test_plain_only_where_rich_would_print_no_styles(
    monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], expected: bool
) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert plain_possible() is expected
    assert Console().is_terminal is not expected


@pytest.mark.parametrize("path", list(PathName))
def test_the_matrix_heatmap_is_the_same_without_rich(path: PathName) -> None:
    built = build_matrix()
    table = built.table(path)
    plain, rich = _both(lambda console: _render_table(console, table, built))
    assert plain == rich
    assert "✗" in plain or "✓" in plain


def test_a_title_rich_would_wrap_is_left_to_rich() -> None:
    built = build_matrix()
    table = built.table(PathName.SPARK_SUBMIT)
    assert _plain_grid("a title " * 20, built, [(r.label, []) for r in table.rows]) is None


@pytest.mark.usefixtures("own_caches")
def test_submit_prints_the_same_without_rich(
    emulator: RunningEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run, a submission and a refused second submission, through each console."""
    printed: dict[bool, list[str]] = {}
    for plain in (False, True):
        monkeypatch.setattr(output, "plain_possible", lambda plain=plain: plain)
        name = f"plain-{int(plain)}"  # the same length: body sizes are printed
        app_file = tmp_path / f"{name}.yaml"
        app_file.write_text(yaml.safe_dump({**SPARK_PI, "metadata": {"name": name}}))
        kubeconfig = ["--kubeconfig", str(emulator.kubeconfig_path)]
        runs = [
            ["submit", str(app_file), "--dry-run", "--k8s", "1.19"],
            ["submit", str(app_file), *kubeconfig],
            ["submit", str(app_file), *kubeconfig],  # it exists now: the failure's lines
        ]
        printed[plain] = []
        for argv in runs:
            result = CliRunner().invoke(app, argv)
            text = result.output.replace(name, "<name>").replace(str(emulator.url), "<url>")
            printed[plain].append(re.sub(r"[0-9a-f-]{36}|[0-9a-f]{16,}", "<id>", text))
    assert printed[True] == printed[False]
    assert "failed" in printed[True][2] and "kubespark delete <name>" in printed[True][2]


PLAN_PAIRS = [
    ("spark=3.4.1,k8s=1.19", "spark=3.5.1,k8s=1.29"),
    ("spark=3.2.4,k8s=1.16", "spark=4.0.0,k8s=1.33"),
    ("spark=3.5.1,k8s=1.21", "spark=3.5.1,k8s=1.22"),
    ("spark=3.3.2,k8s=1.23,operator=v1beta2-1.3.8-3.1.1", "spark=3.5.1,k8s=1.29,operator=v2.1.0"),
    ("spark=3.4.1,k8s=1.19", "spark=3.4.1,k8s=1.19"),
]


@pytest.mark.parametrize(("start", "target"), PLAN_PAIRS)
@pytest.mark.parametrize("width", [20, 40, 60, 80, 100, 132, 200])
def test_plan_tables_are_the_same_without_rich(start: str, target: str, width: int) -> None:
    from kubespark.cli.plan import _HEADERS, _render, _rich_table, _rows
    from kubespark.upgrade.plan import parse_state, plan_upgrade

    for p in plan_upgrade(parse_state(start, flag="--from"), parse_state(target, flag="--to")):
        title = escape(f"a plan: {p.start.describe()} → {p.target.describe()}")
        lines = plain_table(title, _HEADERS, _rows(p), width)
        rich_out = io.StringIO()
        Console(file=rich_out, soft_wrap=True, width=width).print(_rich_table(title, _rows(p)))
        if width > 20:  # five columns in 20: too narrow for their padding, left to rich
            assert lines is not None, (start, target, width)
            assert "".join(f"{line}\n" for line in lines) == rich_out.getvalue()
        else:
            assert lines is None
        plain_print, rich_print = _both(lambda console, p=p: _render(p, console))
        assert plain_print == rich_print


LONG = "a-very-long-word-without-any-break " * 3
CELLS = [
    "",
    "   ",
    "x",
    "short words here",
    LONG,
    "trailing spaces   ",
    "  leading spaces",
    "[green]styled[/] and \\[escaped]",
    "mixed a-rather-long-hyphenated-token and short ones " * 2,
    "→ arrows — dashes… ✓ ✗ · –",
    "tail\x07bell",
]


@pytest.mark.parametrize("width", [12, 17, 25, 33, 48, 64, 80, 101, 150])
def test_wrapping_and_folding_are_riches(width: int) -> None:
    rows = [[CELLS[(i + j) % len(CELLS)] for j in range(4)] for i in range(len(CELLS))]
    for title in ("", "t", "a title longer than most tables would be at all " * 2):
        lines = plain_table(title, ["#", "header with words", "h", "a-long-header"], rows, width)
        if lines is None:  # four columns in 12: too narrow for their padding, left to rich
            assert width < 17
            continue
        rich_out = io.StringIO()
        table = Table(title=title, title_justify="left")
        for header in ["#", "header with words", "h", "a-long-header"]:
            table.add_column(header, overflow="fold")
        for row in rows:
            table.add_row(*row)
        Console(file=rich_out, soft_wrap=True, width=width).print(table)
        assert "".join(f"{line}\n" for line in lines) == rich_out.getvalue(), (width, title)


def test_what_plain_table_cannot_lay_out_is_left_to_rich() -> None:
    assert plain_table("t", ["a"], [["wide 字"]], 80) is None
    assert plain_table("t", ["a"], [["two\nlines"]], 80) is None
    assert plain_table("t", ["a"], [["an :smile: face"]], 80) is None
    assert plain_table("t", ["a", "b", "c"], [["x", "y", "z"]], 6) is None


def test_single_cell_characters_are_single_cell_for_rich() -> None:
    from rich.cells import cell_len

    from kubespark.cli.plain import _SINGLE_CELL

    assert all(cell_len(char) == 1 for char in _SINGLE_CELL)


@pytest.mark.parametrize("columns", ["37", "80", "211"])
def test_the_width_is_riches(monkeypatch: pytest.MonkeyPatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert console_width() == Console().width == int(columns)
