"""``kubespark matrix``: terminal heatmap, JSON, and the HTML page rendered by headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubespark.cli.app import app

runner = CliRunner()
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_terminal_table_shows_every_minor_and_the_deciding_issues() -> None:
    result = runner.invoke(app, ["matrix"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.split()[:1] == ["release"])
    assert header.split()[1:] == [str(m) for m in range(16, 38)]
    row = next(line for line in lines if line.strip().startswith("3.5.x"))
    assert row.split()[1:5] == ["✗"] * 4  # 1.16-1.19
    assert row.split()[5] == "?"  # 1.20: depends on the patch
    assert "spark35-ssa-old-k8s:" in result.stdout


def test_terminal_table_of_another_path() -> None:
    result = runner.invoke(app, ["matrix", "--path", "operator"])
    assert result.exit_code == 0
    assert "v1beta2-1.4.0–1.6.2 · Spark 3.5.0" in result.stdout
    assert runner.invoke(app, ["matrix", "--path", "nope"]).exit_code == 2


def test_json_has_all_tables() -> None:
    result = runner.invoke(app, ["matrix", "-o", "json"])
    assert result.exit_code == 0
    view = json.loads(result.stdout)
    assert [t["path"] for t in view["tables"]] == ["spark-submit", "operator", "kubespark"]
    assert view["kubernetes"][0] == "1.16"


def test_unwritable_html_target_is_an_input_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["matrix", "--html", str(tmp_path / "no" / "such" / "m.html")])
    assert result.exit_code == 2
    assert "error:" in result.stderr and "--html" in result.stderr


def _write_page(tmp_path: Path) -> Path:
    page = tmp_path / "matrix.html"
    result = runner.invoke(app, ["matrix", "--html", str(page)])
    assert result.exit_code == 0, result.output
    return page


def test_page_is_self_contained(tmp_path: Path) -> None:
    html = _write_page(tmp_path).read_text()
    assert "__MATRIX_JSON__" not in html
    assert not re.search(r"<(link|img|iframe)\b", html)
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert "@import" not in html and "url(" not in html
    # The embedded data cannot close its own script element early.
    data = html.split('id="kubespark-matrix">', 1)[1].split("</script>", 1)[0]
    assert json.loads(data)["issues"]["spark35-ssa-old-k8s"]["title"]


class _Cells(HTMLParser):
    """Collects the matrix cells and the details panel text from a rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str | None]] = []
        self.body: dict[str, str | None] = {}
        self.details: list[str] = []
        self._in_details = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "td" and "data-k8s" in found:
            self.cells.append(found)
        if tag == "body":
            self.body = found
        if tag == "aside" or self._in_details:
            self._in_details += 1

    def handle_endtag(self, tag: str) -> None:
        if self._in_details:
            self._in_details -= 1

    def handle_data(self, data: str) -> None:
        if self._in_details:
            self.details.append(data)


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed here: apt-get install -y chromium")
    profile = tmp_path / "chromium-profile"
    command = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.chromium
def test_page_renders_and_the_35x_119_cell_names_the_issue(tmp_path: Path) -> None:
    page = _write_page(tmp_path)
    done = _chromium(tmp_path, "--dump-dom", page.as_uri() + "#spark-submit/3.5.x/1.19")
    dom = _Cells()
    dom.feed(done.stdout)
    assert dom.body.get("data-rendered") == "true"  # the script ran to its end
    cell = next(
        c
        for c in dom.cells
        if c["data-path"] == "spark-submit" and c["data-row"] == "3.5.x" and c["data-k8s"] == "1.19"
    )
    assert cell["data-verdict"] == "incompatible"
    assert "spark35-ssa-old-k8s" in (cell["data-issues"] or "").split()
    assert "spark35-ssa-old-k8s" in (cell["title"] or "")
    assert "pinned" in (cell["class"] or "")
    # The pinned cell's details: the issue, its reasons, ranked remedies with their cost.
    details = " ".join(dom.details)
    assert "spark35-ssa-old-k8s" in details
    assert "ipfamilies-not-in-schema" in details and "protocol-key-without-default" in details
    assert "Remedies, cheapest first" in details and "upgrade" in details
    # Every table rendered: Spark releases through spark-submit and kubespark, operator images.
    paths = {c["data-path"] for c in dom.cells}
    assert paths == {"spark-submit", "operator", "kubespark"}
    minors = {c["data-k8s"] for c in dom.cells}
    assert {"1.16", "1.37"} <= minors


@pytest.mark.chromium
def test_page_screenshot_is_drawn(tmp_path: Path) -> None:
    page = _write_page(tmp_path)
    shot = tmp_path / "matrix.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,900", page.as_uri())
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a blank page is a few KB; the heatmap is far more
