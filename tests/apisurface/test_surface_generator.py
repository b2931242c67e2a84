"""The committed data set is what the generator makes from the packages its manifest names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import kubespark.apisurface as aps

REPO = Path(__file__).resolve().parents[2]
DATA = Path(aps.__file__).parent / "data"


@pytest.mark.slow
@pytest.mark.network  # pip downloads the packages the manifest names
def test_regenerating_sample_minors_reproduces_the_committed_data(tmp_path: Path) -> None:
    # Downloads (once, into .cache/) kubernetes-validate 1.24.1 and 1.37.0 and the pinned
    # lightkube-models of the sampled minors, as the manifest records them.
    cache = REPO / ".cache" / "gen_apisurface"
    cmd = [sys.executable, str(REPO / "tools" / "gen_apisurface.py"), "--pinned"]
    cmd += ["--cache", str(cache), "--out", str(tmp_path), "--minors", "19,25,37"]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=900)
    committed_types = json.loads((DATA / "types.json").read_text())
    fresh_types = json.loads((tmp_path / "types.json").read_text())
    for minor in ("1.19", "1.25", "1.37"):
        fresh = (tmp_path / "versions" / f"{minor}.json").read_text()
        assert fresh == (DATA / "versions" / f"{minor}.json").read_text(), minor
    assert all(committed_types[h] == entry for h, entry in fresh_types.items())
    fresh_manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert fresh_manifest["packages"] == aps.manifest()["packages"]  # same files, same sha256
    for minor, entry in fresh_manifest["minors"].items():
        assert entry == aps.manifest()["minors"][minor]
