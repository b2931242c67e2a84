"""Shared by the real-Spark tier: skip, with the reason, where Spark pods cannot run here."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

import pyspark_env


def need_spark(version: str) -> None:
    """Skip unless Java and root with unshare(1) are here; install pyspark ``version`` if absent."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java on PATH")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("the process kubelet needs root and unshare(1) for its mount namespaces")
    # The tier installs the release it needs (once, under a lock), as the pyspark tier does:
    # a fresh CI machine runs every case instead of skipping the uncached ones.
    pyspark_env.venv(version)


def need_python_for(version: str) -> None:
    """Skip where Spark ``version``'s PySpark needs an older Python and none is installed."""
    from kubespark.emulator.workloads import interpreters, sparkimage

    ceiling = sparkimage.python_ceiling(version)
    if ceiling is not None and sys.version_info[:2] > ceiling:
        if interpreters.older_python(ceiling) is None:
            wanted = ".".join(map(str, ceiling))
            pytest.skip(f"Spark {version}'s PySpark needs Python <= {wanted}: none installed")
