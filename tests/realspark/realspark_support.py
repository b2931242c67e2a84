"""Shared by the real-Spark tier: skip, with the reason, where Spark pods cannot run here."""

from __future__ import annotations

import os
import shutil

import pytest

from kubespark import sparkdist


def need_spark(version: str) -> None:
    """Skip unless Java, root with unshare(1) and the cached pyspark ``version`` are here."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java on PATH")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the process kubelet needs root and unshare(1) for its mount namespaces")
    if sparkdist.cached_spark_submit(version) is None:
        pytest.skip(f"pyspark {version} is not cached in {sparkdist.cache_root()}")
