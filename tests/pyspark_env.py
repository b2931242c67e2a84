"""pyspark for the ``pyspark`` test tier: one cached virtualenv per release, installed on demand.

Each release lives in ``.cache/pyspark/<version>/`` at the repository root (a venv with that
``pyspark`` from PyPI); the first test that needs it installs it (a few minutes, ~300 MB) and
marks it complete with ``.kubespark-installed``, later runs reuse it. ``spark_submit_command``
builds the cluster-mode SparkPi submission ``capture_spark_submit.sh`` records, and
``spark_env`` the environment it needs (JAVA_HOME, SPARK_HOME, the venv first on PATH).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "pyspark"
DONE = ".kubespark-installed"


def java_home() -> Path | None:
    """The JDK spark-submit runs on (JAVA_HOME, else the java on PATH), or None."""
    if os.environ.get("JAVA_HOME"):
        return Path(os.environ["JAVA_HOME"])
    java = shutil.which("java")
    return Path(java).resolve().parent.parent if java else None


def venv(version: str) -> Path:
    """The virtualenv holding ``pyspark==version``, installed first if missing."""
    home = CACHE / version
    if (home / DONE).exists():
        return home
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{version}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (home / DONE).exists():
            shutil.rmtree(home, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
            subprocess.run(
                [
                    str(home / "bin" / "pip"),
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    f"pyspark=={version}",
                ],
                check=True,
                timeout=1800,
            )
            (home / DONE).touch()
    return home


def spark_home(version: str) -> Path:
    site = next((venv(version) / "lib").glob("python3*/site-packages"))
    return site / "pyspark"


def spark_env(version: str, kubeconfig: Path) -> dict[str, str]:
    env = dict(os.environ)
    home = venv(version)
    java = java_home()
    if java is not None:
        env["JAVA_HOME"] = str(java)
    env["SPARK_HOME"] = str(spark_home(version))
    env["PATH"] = f"{home / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["KUBECONFIG"] = str(kubeconfig)
    env.pop("PYSPARK_PYTHON", None)
    return env


def spark_submit_command(
    version: str, master: str, namespace: str = "spark-jobs", *extra_conf: str
) -> list[str]:
    scala = "2.13" if version.startswith("4.") else "2.12"
    confs = {
        "spark.kubernetes.namespace": namespace,
        "spark.kubernetes.container.image": f"apache/spark:{version}",
        "spark.kubernetes.authenticate.driver.serviceAccountName": "spark",
        "spark.driver.cores": "1",
        "spark.driver.memory": "512m",
        "spark.executor.instances": "2",
        "spark.executor.cores": "1",
        "spark.executor.memory": "512m",
        "spark.kubernetes.driver.label.team": "data",
    }
    cmd = [
        str(venv(version) / "bin" / "spark-submit"),
        "--master",
        f"k8s://{master}",
        "--deploy-mode",
        "cluster",
        "--name",
        "spark-pi",
        "--class",
        "org.apache.spark.examples.SparkPi",
    ]
    for key, value in confs.items():
        cmd += ["--conf", f"{key}={value}"]
    for item in extra_conf:
        cmd += ["--conf", item]
    cmd += [f"local:///opt/spark/examples/jars/spark-examples_{scala}-{version}.jar", "1000"]
    return cmd
