"""Bundled data files read with libyaml's safe loader give the same data as PyYAML's own.

The modules that read them on every submit use ``CSafeLoader`` (an order of magnitude faster);
this keeps that choice from changing what any file means.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import kubespark

FILES = sorted(Path(kubespark.__file__).parent.rglob("data/**/*.yaml"))


def test_there_are_data_files() -> None:
    assert len(FILES) > 10


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(p.parents[2])))
def test_the_c_loader_reads_what_the_python_loader_reads(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert list(yaml.load_all(text, Loader=yaml.CSafeLoader)) == list(yaml.safe_load_all(text))
