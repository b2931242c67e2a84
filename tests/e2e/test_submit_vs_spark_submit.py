"""The same SparkPi, the same emulated server: the real spark-submit 3.5.1 fails, kubespark runs it.

spark-submit of pyspark 3.5.1 (a real JVM, pyspark from PyPI cached by ``pyspark_env``)
server-side-applies the driver Service; Kubernetes 1.19 and 1.20 before the protocol backport
(1.20.6) answer HTTP 500 ``failed to create typed patch object`` (kubeflow/spark-operator#2048,
#2051) and spark-submit deletes its driver pod and exits 1. ``kubespark submit --wait`` of the
same application on the same server completes and exits 0.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from submit_support import eventually, kubespark, prepare, spark_pi, stored, write_app

import pyspark_env
from kubespark.emulator.testing import RunningEmulator

pytestmark = [
    pytest.mark.pyspark,
    pytest.mark.skipif(pyspark_env.java_home() is None, reason="spark-submit needs Java"),
]

TYPED_PATCH = "failed to create typed patch object"
IP_FAMILIES = ".spec.ipFamilies: field not declared in schema"
PROTOCOL = 'associative list with keys has an element that omits key field "protocol"'


def spark_submit(emu: RunningEmulator) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        pyspark_env.spark_submit_command("3.5.1", emu.url),
        env=pyspark_env.spark_env("3.5.1", emu.kubeconfig_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(
    ("k8s", "missing_field"), [("1.19", True), ("1.20", False), ("1.20.5", False)]
)
def test_spark_submit_fails_and_kubespark_completes_on_the_same_server(
    emulator_factory: Callable[..., RunningEmulator],
    tmp_path: Path,
    k8s: str,
    missing_field: bool,
) -> None:
    emu = emulator_factory(k8s)
    prepare(emu)

    theirs = spark_submit(emu)
    output = theirs.stdout + theirs.stderr
    assert theirs.returncode != 0, output[-3000:]
    assert "?fieldManager=fabric8&force=true" in output and "code=500" in output
    assert TYPED_PATCH in output and PROTOCOL in output
    assert (IP_FAMILIES in output) is missing_field
    # spark-submit deletes its driver pod after the failed write; the kubelet stops it first.
    assert eventually(lambda: stored(emu)["pods"] == [])

    ours = kubespark(emu, "submit", str(write_app(tmp_path, spark_pi())), "--wait")
    assert ours.exit_code == 0, ours.output
    assert "✓ spark-pi completed" in ours.stdout
    if missing_field:
        assert "created the Service with POST instead of apply" in ours.stdout
    else:
        assert "filled spec.ports[0].protocol: TCP" in ours.stdout
