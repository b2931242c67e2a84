"""pyspark for the ``pyspark`` test tier: one cached virtualenv per release, installed on demand.

The cache, the SparkPi command and the environment are ``kubespark.sparkdist``'s (the demo
and the benchmark use the same ones): each release lives in ``sparkdist.cache_root()/<version>/``
(shared by every checkout on the machine), marked complete once pip has finished. What the tier
adds: the first test that needs a release installs it (a few minutes, ~300 MB), under a lock so
parallel test processes install it once.
"""

from __future__ import annotations

import fcntl
from pathlib import Path

from kubespark import sparkdist

CACHE = sparkdist.cache_root()


def java_home() -> Path | None:
    """The JDK spark-submit runs on (JAVA_HOME, else the java on PATH), or None."""
    found = sparkdist.java_home()
    return Path(found) if found else None


def _spark_submit(version: str) -> Path:
    exe = sparkdist.cached_spark_submit(version)
    if exe is not None:
        return exe
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return sparkdist.cached_spark_submit(version) or sparkdist.install_pyspark(version)


def venv(version: str) -> Path:
    """The virtualenv holding ``pyspark==version``, installed first if missing."""
    return _spark_submit(version).parent.parent


def spark_env(version: str, kubeconfig: Path) -> dict[str, str]:
    """What spark-submit of ``version`` needs to run against ``kubeconfig``."""
    java = java_home()
    assert java is not None, "the pyspark tier skips without Java"
    return sparkdist.spark_env(_spark_submit(version), kubeconfig, str(java))


def spark_submit_command(
    version: str, master: str, namespace: str = "spark-jobs", *extra_conf: str
) -> list[str]:
    """The cluster-mode SparkPi submission ``capture_spark_submit.sh`` records."""
    return sparkdist.spark_pi_command(
        _spark_submit(version), master, version, namespace=namespace, extra_conf=extra_conf
    )
