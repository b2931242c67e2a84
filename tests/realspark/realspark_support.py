"""Shared by the real-Spark tier: skip, with the reason, where Spark pods cannot run here."""

from __future__ import annotations

import os
import shutil
import sys

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


def need_python_for(version: str) -> None:
    """Skip where Spark ``version``'s PySpark needs an older Python and none is installed."""
    from kubespark.emulator.workloads import interpreters, sparkimage

    ceiling = sparkimage.python_ceiling(version)
    if ceiling is not None and sys.version_info[:2] > ceiling:
        if interpreters.older_python(ceiling) is None:
            wanted = ".".join(map(str, ceiling))
            pytest.skip(f"Spark {version}'s PySpark needs Python <= {wanted}: none installed")
