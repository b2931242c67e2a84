"""Unmodified spark-submit 3.5 and 4.0 (pyspark from PyPI, Java 17, cluster mode) through the proxy
to emulated Kubernetes 1.19, 1.20.0 and 1.20.15: each submission succeeds, and what the server
stores equals what Kubernetes 1.21 stores from a direct submission, except the fields the older
version lacks (managedFields included: who owns what, by which operation).

pyspark is installed into the repository's ``.cache/pyspark`` by the shared helper the driver
conformance suite and the emulator's tests use (``tests/pyspark_env.py``).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import pyspark_env
from kubespark.apisurface import load_surface, prune_unknown_fields
from kubespark.driver.javaprops import load_properties
from kubespark.emulator.testing import RunningEmulator
from kubespark.proxy import Proxy, ProxyOptions, ProxyThread

pytestmark = [
    pytest.mark.pyspark,
    pytest.mark.slow,
    pytest.mark.skipif(pyspark_env.java_home() is None, reason="spark-submit needs Java"),
]

NAMESPACE = "spark-jobs"
# Properties of the driver's ConfigMap that say where, when and how spark-submit connected, not
# what it asked for: the master URL (the proxy's or the server's), the CA it trusted, the time.
_CIRCUMSTANTIAL = (
    "spark.master",
    "spark.app.submitTime",
    "spark.kubernetes.submission.",
    "spark.kubernetes.authenticate.submission.",
)
_LOCAL_DIR = re.compile(r"/var/data/spark-[0-9a-f-]{36}")  # a fresh UUID per submission
_SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "selfLink", "managedFields")


def submit(
    spark: str, master: str, kubeconfig: Path, *conf: str
) -> subprocess.CompletedProcess[str]:
    """Cluster-mode SparkPi with the flags of shared/tools/capture_spark_submit.sh."""
    args = pyspark_env.spark_submit_command(spark, master, NAMESPACE, *conf)
    env = pyspark_env.spark_env(spark, kubeconfig)
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)


def prepare(emulator: RunningEmulator) -> None:
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "spark"}}
    answer = httpx.post(
        f"{emulator.url}/api/v1/namespaces/{NAMESPACE}/serviceaccounts", json=account
    )
    assert answer.status_code == 201, answer.text


def stored(emulator: RunningEmulator) -> dict[str, dict[str, Any]]:
    """The driver Pod, Service and ConfigMap the submission left, by kind."""
    out = {}
    for kind, plural in (("Pod", "pods"), ("Service", "services"), ("ConfigMap", "configmaps")):
        listing = httpx.get(f"{emulator.url}/api/v1/namespaces/{NAMESPACE}/{plural}").json()
        items = [
            i
            for i in listing["items"]
            if i["metadata"]["name"].endswith(("-driver", "-driver-svc", "-conf-map"))
        ]
        assert len(items) == 1, [i["metadata"]["name"] for i in listing["items"]]
        out[kind] = {"apiVersion": "v1", "kind": kind, **items[0]}
    return out


def comparable(objects: dict[str, dict[str, Any]], version: str) -> dict[str, Any]:
    """The objects as a server of ``version`` can hold them, without what differs per run."""
    pod = objects["Pod"]
    pod_uid = pod["metadata"]["uid"]  # the owner of the Service and ConfigMap
    app_id = pod["metadata"]["labels"]["spark-app-selector"]
    prefix = pod["metadata"]["name"].removesuffix("-driver")
    conf_map = objects["ConfigMap"]["metadata"]["name"]
    surface = load_surface(version)
    out = {}
    for kind, obj in objects.items():
        pruned, removed = prune_unknown_fields(surface, obj)
        pruned = {k: v for k, v in pruned.items() if k != "status"}
        meta = {k: v for k, v in pruned["metadata"].items() if k not in _SERVER_SET}
        meta["managedFields"] = [_ownership(m, removed) for m in obj["metadata"]["managedFields"]]
        for ref in meta.get("ownerReferences") or []:
            ref.pop("uid", None)
        pruned["metadata"] = meta
        if kind == "ConfigMap":
            pruned["data"] = {
                key: _properties(text) if key == "spark.properties" else text
                for key, text in pruned["data"].items()
            }
        text = _LOCAL_DIR.sub("/var/data/spark-UUID", json.dumps(pruned, sort_keys=True))
        replaced = ((pod_uid, "POD-UID"), (app_id, "APP-ID"), (conf_map, "CONF-MAP"))
        for real, placeholder in (*replaced, (prefix, "PREFIX")):
            text = text.replace(real, placeholder)
        out[kind] = json.loads(text)
    return out


def _ownership(entry: dict[str, Any], removed: list[str]) -> dict[str, Any]:
    """A managedFields entry without its time and without the fields the version lacks.

    Also without ``status`` (the server's and kubelet's; before 1.21 a create owned what the
    server set there, from 1.21 it does not, with or without the proxy) and without the
    ``protocol`` of Service ports: where the rewrite filled that list-map key (the value every
    version defaults it to) the applying manager owns it, where 1.21 defaulted it nobody does.
    """
    fields = json.loads(json.dumps(entry.get("fieldsV1") or {}))
    fields.pop("f:status", None)
    for port in (fields.get("f:spec", {}).get("f:ports") or {}).values():
        port.pop("f:protocol", None)
    for path in removed:
        node = fields
        *parents, last = [f"f:{part}" for part in path.lstrip(".").split(".")]
        for part in parents:
            node = node.get(part, {})
        node.pop(last, None)
    return {k: v for k, v in {**entry, "fieldsV1": fields}.items() if k != "time"}


def _properties(text: str) -> dict[str, str]:
    props = load_properties(text)
    return {k: v for k, v in props.items() if not k.startswith(_CIRCUMSTANTIAL)}


@pytest.fixture(scope="module")
def reference() -> Iterator[Callable[[str], dict[str, dict[str, Any]]]]:
    """What Kubernetes 1.21 stores from a direct submission, per Spark version (run once each)."""
    from kubespark.emulator import EmulatorOptions, EmulatorThread
    from kubespark.emulator.testing import RunningEmulator as Running

    done: dict[str, dict[str, dict[str, Any]]] = {}
    runners: list[EmulatorThread] = []

    def run(spark: str) -> dict[str, dict[str, Any]]:
        if spark not in done:
            runner = EmulatorThread(EmulatorOptions("1.21", speed=20, namespaces=(NAMESPACE,)))
            runners.append(runner)
            emulator = Running(runner, runner.start())
            prepare(emulator)
            result = submit(spark, emulator.url, emulator.kubeconfig_path)
            assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
            done[spark] = stored(emulator)
        return done[spark]

    yield run
    for runner in runners:
        runner.stop()


@pytest.fixture
def proxy(emulator: RunningEmulator, tmp_path: Path) -> Iterator[Proxy]:
    options = ProxyOptions(
        upstream_kubeconfig=emulator.kubeconfig_path,
        listen="127.0.0.1:0",
        tls_dir=tmp_path / "pki",
    )
    with ProxyThread.running(options) as running:
        yield running


def served(version: str) -> Any:
    return pytest.mark.emulator(version=version, namespaces=(NAMESPACE,))


@pytest.mark.parametrize("spark", ["3.5.1", "4.0.5"])
@pytest.mark.parametrize(
    ("k8s", "rewrites"),
    [
        # 1.19: ipFamilies unknown and no default for the ports' protocol key (rewritten);
        # 1.20.0: the field known, the key still without an apply default (filled);
        # 1.20.15: the protocol default backported in 1.20.6 (forwarded as it is).
        pytest.param("1.19", 1, marks=served("1.19")),
        pytest.param("1.20.0", 1, marks=served("1.20.0")),
        pytest.param("1.20.15", 0, marks=served("1.20.15")),
    ],
)
def test_spark_submit_through_the_proxy_succeeds_and_stores_what_121_stores(
    emulator: RunningEmulator,
    proxy: Proxy,
    reference: Callable[[str], dict[str, dict[str, Any]]],
    spark: str,
    k8s: str,
    rewrites: int,
) -> None:
    prepare(emulator)
    assert proxy.pair is not None and proxy.pair.ca_file is not None
    result = submit(
        spark,
        proxy.url,
        emulator.kubeconfig_path,  # the user's own kubeconfig: its credentials, the proxy's URL
        f"spark.kubernetes.authenticate.submission.caCertFile={proxy.pair.ca_file}",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"phase: Succeeded", output)
    assert proxy.rewriter.rewrites == rewrites and proxy.rewriter.refusals == 0
    # fabric8 follows the driver pod with a watch over a WebSocket: an upgrade, spliced.
    assert proxy.upgrades >= 1
    got, want = stored(emulator), reference(spark)
    version = ".".join(k8s.split(".")[:2])
    # Ownership included: the same managers own the same fields by the same operations.
    assert comparable(got, version) == comparable(want, version)


@pytest.mark.emulator(version="1.19", namespaces=(NAMESPACE,))
def test_without_the_proxy_the_same_submission_fails_on_119(emulator: RunningEmulator) -> None:
    """The control: what the proxy is for."""
    prepare(emulator)
    result = submit("3.5.1", emulator.url, emulator.kubeconfig_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "failed to create typed patch object" in output


@pytest.mark.emulator(version="1.19", namespaces=(NAMESPACE,))
def test_spark_submit_through_a_plain_http_sidecar_on_119(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The in-cluster sidecar recipe: plain HTTP on loopback, spark-submit's own token forwarded."""
    prepare(emulator)
    options = ProxyOptions(
        upstream_kubeconfig=emulator.kubeconfig_path, listen="127.0.0.1:0", tls=False
    )
    with ProxyThread.running(options) as proxy:
        result = submit("3.5.1", proxy.url, emulator.kubeconfig_path)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-4000:]
        assert "phase: Succeeded" in output
        assert proxy.rewriter.rewrites == 1 and proxy.upgrades >= 1
