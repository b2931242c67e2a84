"""The real-Spark tier: Spark drivers and executors as processes of the process kubelet.

Skips (with the reason) where this machine cannot run them: no Java, not root (the kubelet uses
mount namespaces), or the pyspark release not cached (``kubespark demo --with-spark-submit``
caches 3.5.1). Every emulator a test starts is stopped with it, which kills its pods' processes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kubespark import sparkdist


def need_spark(version: str) -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java on PATH")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the process kubelet needs root and unshare(1) for its mount namespaces")
    if sparkdist.cached_spark_submit(version) is None:
        pytest.skip(f"pyspark {version} is not cached in {sparkdist.cache_root()}")


@pytest.fixture(autouse=True)
def _own_discovery_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # KUBESPARK_CACHE keeps the shared pyspark cache where it is despite XDG_CACHE_HOME.
    monkeypatch.setenv("KUBESPARK_CACHE", str(sparkdist.cache_root().parent))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
