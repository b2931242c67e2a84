"""The offline commands' short path: parsed from the stored flag table, run without typer.

Each run is a fresh interpreter with its own cache directory, as a shell runs the console
script. The first run of a command goes through typer, which stores the command's flag table;
later runs parse from it. What users see (stdout, stderr, exit code) must not depend on which
path ran: every case below runs the same command line both ways and compares.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from cli_probe import POD, probe

from kubespark.cli import entry, shortpath
from kubespark.cli.commands import COMMANDS, SHORT_PATH
from kubespark.cli.entry import help_cache_key, short_path_key


def run(cache: Path, *argv: str) -> tuple[str, str, object, bool]:
    """stdout, stderr, exit code, and whether typer was loaded."""
    stdout, stderr, code, modules = run_loading(cache, *argv)
    return stdout, stderr, code, "typer" in modules


def run_loading(cache: Path, *argv: str) -> tuple[str, str, object, set[str]]:
    """stdout, stderr, exit code, and the top-level packages loaded."""
    got = probe(cache.parent, *argv, env={"KUBESPARK_CACHE": str(cache), "COLUMNS": "80"})
    modules = {name.split(".")[0] for name in got.modules}
    return got.stdout, got.stderr, got.code, modules


def tables(cache: Path) -> list[Path]:
    return sorted((cache / "cli").glob("flags-*.json"))


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--k8s", "1.29", "--spark", "3.5.1"],
        ["check", "--k8s=1.19", "--spark", "3.5.1", "-o", "json"],
        ["check", "--k8s", "1.99", "--spark", "3.5.1"],  # an input error: exit 2
        ["check", "--debug", "--k8s", "1.29"],
        ["matrix", "--path", "kubespark"],
        ["plan", "--from", "spark=3.4.1,k8s=1.19", "--to", "spark=3.5.1,k8s=1.29"],
        ["validate", "-f", "{pod}", "--k8s", "1.29", "-o", "json"],
        ["validate", "-f", "{pod}", "-f", "{pod}", "--strict"],
        ["submit", "{app}", "--dry-run", "--k8s", "1.19"],
        ["submit", "--dry-run", "--k8s=1.29", "{app}", "-o", "json", "--timeout", "5"],
        ["submit", "{app}", "--dry-run", "--k8s", "1.29", "--kube-scheduler-name", "a"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_the_short_path_prints_what_typer_prints(tmp_path: Path, argv: list[str]) -> None:
    pod = tmp_path / "pod.yaml"
    pod.write_text(POD)
    app = Path(__file__).parents[2] / "examples" / "spark-pi.yaml"
    line = [a.replace("{pod}", str(pod)).replace("{app}", str(app)) for a in argv]
    cache = tmp_path / "cache"
    *first, typer_loaded = run(cache, *line)
    assert typer_loaded  # no table yet: typer parsed, and stored the table
    assert len(tables(cache)) == 1
    *again, loaded = run_loading(cache, *line)
    assert "typer" not in loaded
    assert [_ids(text) for text in again] == [_ids(text) for text in first]
    # Piped (as here), only plan's bordered table and an error message are rich's to print.
    if argv[0] != "plan" and again[2] != 2:
        assert "rich" not in loaded


def _ids(text: object) -> object:
    """Output with what spark-submit draws anew per run (ids in names, UUIDs) masked."""
    random = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}"
    return re.sub(random, "<id>", text) if isinstance(text, str) else text


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--nosuch"],  # an unknown option
        ["check", "-o", "xml"],  # no such choice
        ["check", "--k8s"],  # a missing value
        ["check", "extra"],  # a positional argument
        ["check", "--k8s", "1.29", "--k8s", "1.30"],  # a repeat
        ["plan", "--from", "spark=3.4.1,k8s=1.19"],  # a required option missing
        ["matrix", "--html"],
        ["submit"],  # the file argument missing
        ["submit", "a.yaml", "b.yaml"],  # one argument too many
        ["submit", "a.yaml", "--timeout", "soon"],  # not a number
    ],
    ids=lambda argv: " ".join(argv),
)
def test_a_line_the_short_path_does_not_take_is_typers(tmp_path: Path, argv: list[str]) -> None:
    cache = tmp_path / "cache"
    run(cache, argv[0], "--help")  # stores the table, through typer
    extra = {"plan": ["--from", "a", "--to", "b"], "submit": ["absent.yaml"]}.get(argv[0], [])
    run(cache, argv[0], "-o", "json", *extra)
    assert len(tables(cache)) == 1
    *answer, typer_loaded = run(cache, *argv)
    assert typer_loaded
    (cache / "cli").joinpath(tables(cache)[0].name).unlink()
    *without_table, _ = run(cache, *argv)
    assert answer == without_table


def test_an_unreadable_table_is_ignored(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    line = ["check", "--k8s", "1.29", "--spark", "3.5.1"]
    *first, _ = run(cache, *line)
    tables(cache)[0].write_text("{not json")
    *again, typer_loaded = run(cache, *line)
    assert typer_loaded and again == first
    assert shortpath.read_table(str(tables(cache)[0])) is not None  # typer wrote it afresh


def test_a_read_only_cache_only_costs_the_short_path(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.write_text("a file where the directory should be")
    stdout, _, code, typer_loaded = run(cache, "check", "--k8s", "1.29", "--spark", "3.5.1")
    assert code == 0 and "overall: compatible" in stdout and typer_loaded


def test_each_command_has_its_own_table_key() -> None:
    keys = {short_path_key(name) for name in ("check", "matrix", "plan", "validate", "submit")}
    assert None not in keys and len(keys) == 5
    assert short_path_key("nosuch") is None


@pytest.mark.parametrize("shared", ["flags.py", "output.py"])
def test_an_edit_of_a_shared_flag_module_makes_every_key_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared: str
) -> None:
    """A stored table or help text names the shared flags as they were: an edit of the module
    that declares them (or the -o choices) must make the commands' tables and help new."""
    sources = tmp_path / "cli"
    sources.mkdir()
    for module in Path(entry.__file__).parent.glob("*.py"):
        shutil.copy(module, sources / module.name)
    monkeypatch.setattr(entry, "HERE", str(sources))

    def keys() -> dict[str, str | None]:
        tables = {f"flags {name}": short_path_key(name) for name in SHORT_PATH}
        helps = {f"help {name}": help_cache_key([name, "--help"]) for name in COMMANDS}
        return tables | helps

    before = keys()
    with (sources / shared).open("a", encoding="utf-8") as edited:
        edited.write("\n# an edit\n")
    after = keys()
    assert None not in before.values()
    assert [what for what in before if before[what] == after[what]] == []


TABLE = [
    {"name": "k8s", "opts": ["--k8s"], "kind": "str", "required": False, "default": None},
    {"name": "file", "opts": ["-f", "--file"], "kind": "path", "required": False, "default": None},
    {"name": "strict", "opts": ["--strict"], "kind": "flag", "required": False, "default": False},
    {"name": "names", "opts": ["-n"], "kind": "strs", "required": True, "default": None},
    {
        "name": "output",
        "opts": ["-o", "--output"],
        "kind": "enum",
        "enum": "kubespark.cli.output:OutputFormat",
        "required": False,
        "default": "text",
    },
]


def test_parse_takes_the_plain_grammar() -> None:
    from kubespark.cli.output import OutputFormat

    values = shortpath.parse(TABLE, ["-n", "a", "--k8s=1.29", "-f", "-", "--strict", "-n", "b"])
    assert values == {
        "k8s": "1.29",
        "file": Path("-"),
        "strict": True,
        "names": ["a", "b"],
        "output": OutputFormat.TEXT,
    }
    assert shortpath.parse(TABLE, ["-n", "a", "-o", "json"])["output"] is OutputFormat.JSON  # type: ignore[index]


ARGUMENTS = [
    {
        "name": "app",
        "opts": [],
        "kind": "path",
        "argument": True,
        "required": True,
        "default": None,
    },
    {"name": "wait", "opts": ["--t"], "kind": "float", "required": False, "default": 2.5},
]


def test_parse_takes_arguments_and_numbers() -> None:
    assert shortpath.parse(ARGUMENTS, ["a.yaml"]) == {"app": Path("a.yaml"), "wait": 2.5}
    assert shortpath.parse(ARGUMENTS, ["--t", " 7 ", "-"]) == {"app": Path("-"), "wait": 7.0}
    for args in ([], ["a", "b"], ["a", "--t", "x"], ["-x"]):
        assert shortpath.parse(ARGUMENTS, args) is None, args


@pytest.mark.parametrize(
    "args",
    [
        [],  # -n is required
        ["-n", "a", "--k8s"],
        ["-n", "a", "--k8s", "--strict"],
        ["-n", "a", "--strict=yes"],
        ["-n", "a", "-o", "xml"],
        ["-n", "a", "--help"],
        ["-n", "a", "positional"],
        ["-n", "a", "--k8s", "1", "--k8s", "2"],
        ["-n", "a", "--", "--k8s"],
    ],
)
def test_parse_leaves_anything_else_to_typer(args: list[str]) -> None:
    assert shortpath.parse(TABLE, args) is None
