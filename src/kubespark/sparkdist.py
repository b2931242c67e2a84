"""Local Spark distributions: the pyspark release of a Spark version, and the Java it runs on.

Owns where a pyspark release is cached (``<cache>/pyspark/<version>/``, a venv with that
``pyspark``, marked complete with ``.kubespark-installed``; ``<cache>`` is ``$KUBESPARK_CACHE``,
else ``$XDG_CACHE_HOME/kubespark``, else ``~/.cache/kubespark``, so every checkout and CI run on a
machine shares one copy), installing one when explicitly asked, finding Java, the cluster-mode
SparkPi command (the one the test tier runs), and running it against a kubeconfig. Used by the
demo, the benchmarks, the test tiers and anything that runs real Spark. Also owns the Spark
Connect Python client's dependencies for a cached release (``<cache>/connect-client/<version>``,
a ``--target`` directory for ``PYTHONPATH``, what that pyspark's own metadata lists for its
``connect`` extra). It never installs anything unless its caller asks (``kubespark demo
--with-spark-submit``, :func:`install_connect_client`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from kubespark.usercache import user_cache_dir

__all__ = [
    "cache_root",
    "cached_spark_submit",
    "connect_client_requirements",
    "failure_excerpt",
    "install_connect_client",
    "install_pyspark",
    "java_home",
    "run_spark_pi",
    "spark_env",
    "spark_pi_command",
]

INSTALLED = ".kubespark-installed"  # written once pip has finished: a complete venv


def cache_root() -> Path:
    """Where pyspark releases live: ``$KUBESPARK_CACHE/pyspark``, else the user's cache dir."""
    return Path(user_cache_dir("pyspark"))


def cached_spark_submit(version: str) -> Path | None:
    """``spark-submit`` of a completely installed pyspark ``version`` in the cache, or None."""
    home = cache_root() / version
    exe = home / "bin" / "spark-submit"
    return exe if exe.exists() and (home / INSTALLED).exists() else None


def install_pyspark(version: str, *, log: Path | None = None) -> Path:
    """Install ``pyspark==version`` into the cache (a few minutes, ~300 MB); its spark-submit."""
    home = cache_root() / version
    shutil.rmtree(home, ignore_errors=True)
    home.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("w") if log else subprocess.DEVNULL
    try:
        subprocess.run([sys.executable, "-m", "venv", str(home)], check=True, timeout=300)
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
            stdout=out,
            stderr=out,
        )
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    (home / INSTALLED).touch()
    return home / "bin" / "spark-submit"


def connect_client_requirements(version: str) -> list[str]:
    """The requirements of the cached pyspark ``version``'s ``connect`` extra (its METADATA)."""
    home = cache_root() / version
    found = sorted(home.glob(f"lib/python3*/site-packages/pyspark-{version}.dist-info/METADATA"))
    if not found:
        return []
    out = []
    for line in found[0].read_text().splitlines():
        head, _, marker = line.removeprefix("Requires-Dist: ").partition(";")
        if line.startswith("Requires-Dist: ") and marker.strip() == 'extra == "connect"':
            out.append(head.strip())
    return out


def install_connect_client(version: str) -> Path:
    """A directory holding the Spark Connect client's dependencies for pyspark ``version``.

    Installed once (network; hundreds of MB) with the release's own pip into a fresh directory,
    then moved into place, so concurrent callers never see half of it.
    """
    target = cache_root().parent / "connect-client" / version
    if (target / INSTALLED).exists():
        return target
    requirements = connect_client_requirements(version)
    if not requirements:
        raise FileNotFoundError(f"pyspark {version} is not cached, or has no connect extra")
    staging = target.with_name(f"{version}.{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    pip = [str(cache_root() / version / "bin" / "python"), "-m", "pip", "install", "-q"]
    pip += ["--disable-pip-version-check", "--target", str(staging), *requirements]
    subprocess.run(pip, check=True, timeout=1800, capture_output=True)
    (staging / INSTALLED).touch()
    try:
        staging.rename(target)
    except OSError:  # another caller finished first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def java_home() -> str | None:
    """The JDK spark-submit runs on: ``$JAVA_HOME``, else the ``java`` on PATH; None without."""
    if os.environ.get("JAVA_HOME"):
        return os.environ["JAVA_HOME"]
    java = shutil.which("java")
    return str(Path(java).resolve().parent.parent) if java else None


def spark_pi_command(
    exe: Path,
    master: str,
    version: str,
    *,
    namespace: str = "spark-jobs",
    extra_conf: Sequence[str] = (),
) -> list[str]:
    """Cluster-mode SparkPi, as the test tier submits it (``tests/pyspark_env.py``), with
    ``extra_conf`` (``key=value``) after the standard confs."""
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
    cmd = [str(exe), "--master", f"k8s://{master}", "--deploy-mode", "cluster"]
    cmd += ["--name", "spark-pi", "--class", "org.apache.spark.examples.SparkPi"]
    for item in (*(f"{key}={value}" for key, value in confs.items()), *extra_conf):
        cmd += ["--conf", item]
    cmd += [f"local:///opt/spark/examples/jars/spark-examples_{scala}-{version}.jar", "1000"]
    return cmd


def spark_env(exe: Path, kubeconfig: Path, java: str) -> dict[str, str]:
    """The environment spark-submit needs: JAVA_HOME, SPARK_HOME, KUBECONFIG, the venv first."""
    site = next((exe.parent.parent / "lib").glob("python3*/site-packages"))
    env = dict(os.environ)
    env.pop("PYSPARK_PYTHON", None)
    env |= {
        "JAVA_HOME": java,
        "SPARK_HOME": str(site / "pyspark"),
        "KUBECONFIG": str(kubeconfig),
        "PATH": f"{exe.parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return env


def run_spark_pi(
    exe: Path,
    version: str,
    master: str,
    kubeconfig: Path,
    java: str,
    *,
    extra_conf: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run SparkPi's spark-submit against ``master`` and wait for it (at most five minutes)."""
    cmd = spark_pi_command(exe, master, version, extra_conf=extra_conf)
    return subprocess.run(
        cmd,
        env=spark_env(exe, kubeconfig, java),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def failure_excerpt(output: str) -> list[str]:
    """The lines of spark-submit's output that carry the server's answer."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if "Failure executing" in line), None)
    if start is None:
        return [line for line in lines if "Exception" in line][:3]
    excerpt = [lines[start]]
    for line in lines[start + 1 : start + 8]:
        if line.startswith(("\tat ", "Caused by")):
            break
        excerpt.append(line)
    return excerpt
