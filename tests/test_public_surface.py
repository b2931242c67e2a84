"""The curated public surface: every advertised name resolves, and importing stays lazy."""

from __future__ import annotations

import subprocess
import sys

import pytest

import kubespark


@pytest.mark.parametrize("name", kubespark.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(kubespark, name) is not None


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
