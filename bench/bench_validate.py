"""``kubespark validate`` beside ``kubernetes-validate``: resources per second on the same corpus.

Generates a realistic corpus (default 10,000+ resources, ``helm template``-like multi-document
files: Deployments, StatefulSets, Pods, Services, ConfigMaps, Secrets, ServiceAccounts, RBAC,
Ingresses, CronJobs, PodDisruptionBudgets, autoscalers, NetworkPolicies, a CRD and
SparkApplications, some written for newer servers), installs the peer (PyPI
``kubernetes-validate``) into its own venv under ``.cache/bench/``, and times, in one run and in
CPU seconds (steadier than wall time on a shared machine; processes pinned to one core):

- ``kubespark validate`` as a user runs it (a process over the whole corpus), and its fixed
  start-up cost (the same command on an empty file);
- the same work in-process, split into its stages (YAML parsing, schema checks, apply
  prediction, the rest) to show where the time goes;
- ``kubernetes-validate --strict`` on the same files and version (all of them, or a sample with
  ``--peer-sample N`` since it runs at tens of resources per second).

Results are printed as rates and ratios; nothing is asserted (docs/engineering.md).

    .venv/bin/python bench/bench_validate.py [--resources 10000] [--k8s 1.19] [--peer-sample 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "bench"
CORPUS = CACHE / "validate-corpus"
PEER_VENV = CACHE / "kubernetes-validate-venv"
# 1.24.1 is the release that carries the 1.19 schemas (1.37.0 carries 1.25-1.37 only).
PEER = "kubernetes-validate==1.24.1"

Obj = dict[str, Any]


# --- the corpus ---------------------------------------------------------------------------------


def _labels(app: str, rng: random.Random) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/instance": f"{app}-{rng.choice(['prod', 'staging', 'dev'])}",
        "app.kubernetes.io/managed-by": "Helm",
    }
    if rng.random() < 0.5:
        labels["team"] = rng.choice(["data", "web", "platform", "ml"])
    return labels


def _container(app: str, rng: random.Random) -> Obj:
    port = rng.choice([80, 8080, 8443, 9090, 3000])
    container: Obj = {
        "name": app,
        "image": f"registry.example.com/{app}:{rng.randint(1, 9)}.{rng.randint(0, 30)}.0",
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": rng.choice(["info", "debug"])},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "requests": {
                "cpu": f"{rng.choice([100, 250, 500])}m",
                "memory": f"{rng.choice([128, 256, 512])}Mi",
            },
            "limits": {
                "cpu": rng.choice(["1", "2", "500m"]),
                "memory": f"{rng.choice([256, 512, 1024])}Mi",
            },
        },
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": port}, "initialDelaySeconds": 15},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
    }
    if rng.random() < 0.3:  # written for newer servers: no protocol (apply needs a default)
        del container["ports"][0]["protocol"]
    return container


def _pod_spec(app: str, rng: random.Random) -> Obj:
    spec: Obj = {
        "serviceAccountName": app,
        "containers": [_container(app, rng)],
        "volumes": [{"name": "config", "configMap": {"name": f"{app}-config"}}],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 2000},
    }
    if rng.random() < 0.2:
        spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
    if rng.random() < 0.1:  # a field 1.19 lacks (added in 1.20)
        spec["setHostnameAsFQDN"] = True
    return spec


def _meta(name: str, namespace: str, labels: dict[str, str]) -> Obj:
    return {"name": name, "namespace": namespace, "labels": labels}


def _chart(app: str, namespace: str, rng: random.Random) -> Iterator[Obj]:
    labels = _labels(app, rng)
    selector = {"app.kubernetes.io/name": app}
    yield {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(app, namespace, labels)}
    yield {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _meta(app, namespace, labels),
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["pods", "configmaps"],
                "verbs": ["get", "list", "watch"],
            }
        ],
    }
    yield {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(app, namespace, labels),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": app},
        "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": namespace}],
    }
    config: Obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(f"{app}-config", namespace, labels),
        "data": {f"key{i}": f"value-{rng.randint(0, 10**6)}" for i in range(rng.randint(2, 8))},
    }
    if rng.random() < 0.2:
        config["immutable"] = True
    yield config
    yield {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(f"{app}-secret", namespace, labels),
        "type": "Opaque",
        "stringData": {"password": f"pw-{rng.randint(0, 10**9)}"},
    }
    template = {"metadata": {"labels": {**labels}}, "spec": _pod_spec(app, rng)}
    workload = rng.random()
    if workload < 0.75:
        yield {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(app, namespace, labels),
            "spec": {
                "replicas": rng.randint(1, 5),
                "selector": {"matchLabels": selector},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
                },
                "template": template,
            },
        }
    elif workload < 0.9:
        yield {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": _meta(app, namespace, labels),
            "spec": {
                "serviceName": app,
                "replicas": rng.randint(1, 3),
                "selector": {"matchLabels": selector},
                "template": template,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{rng.choice([1, 10, 50])}Gi"}},
                        },
                    }
                ],
            },
        }
    else:
        yield {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _meta(app, namespace, labels),
            "spec": template["spec"],
        }
    service: Obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(app, namespace, labels),
        "spec": {
            "type": rng.choice(["ClusterIP", "ClusterIP", "NodePort"]),
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }
    if rng.random() < 0.15:  # as Spark 3.4+ and newer charts write it
        service["spec"]["ipFamilies"] = ["IPv4"]
        service["spec"]["ipFamilyPolicy"] = "SingleStack"
        del service["spec"]["ports"][0]["protocol"]
    yield service
    if rng.random() < 0.6:
        yield {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                **_meta(app, namespace, labels),
                "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
            },
            "spec": {
                "ingressClassName": "nginx",
                "tls": [{"hosts": [f"{app}.example.com"], "secretName": f"{app}-tls"}],
                "rules": [
                    {
                        "host": f"{app}.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": app, "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ],
            },
        }
    if rng.random() < 0.5:
        yield {
            "apiVersion": "policy/v1beta1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(app, namespace, labels),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": selector}},
        }
    if rng.random() < 0.4:
        yield {
            "apiVersion": "autoscaling/v2beta2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _meta(app, namespace, labels),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                "minReplicas": 1,
                "maxReplicas": 10,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
            },
        }
    if rng.random() < 0.3:
        yield {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(app, namespace, labels),
            "spec": {
                "podSelector": {"matchLabels": selector},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {"matchLabels": {"team": "web"}}}],
                        "ports": [{"port": 80}],
                    }
                ],
            },
        }
    if rng.random() < 0.35:
        yield {
            "apiVersion": "batch/v1beta1",
            "kind": "CronJob",
            "metadata": _meta(f"{app}-cleanup", namespace, labels),
            "spec": {
                "schedule": f"{rng.randint(0, 59)} {rng.randint(0, 23)} * * *",
                "concurrencyPolicy": "Forbid",
                "jobTemplate": {
                    "spec": {
                        "backoffLimit": 2,
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "containers": [
                                    {
                                        "name": "cleanup",
                                        "image": "busybox:1.36",
                                        "args": ["sh", "-c", "echo done"],
                                    }
                                ],
                            }
                        },
                    }
                },
            },
        }
    if rng.random() < 0.5:
        yield {
            "apiVersion": "sparkoperator.k8s.io/v1beta2",
            "kind": "SparkApplication",
            "metadata": _meta(f"{app}-etl", namespace, labels),
            "spec": {
                "type": "Scala",
                "mode": "cluster",
                "image": "apache/spark:3.5.1",
                "mainClass": "org.apache.spark.examples.SparkPi",
                "mainApplicationFile": "local:///opt/spark/examples/jars/spark-examples_2.12-3.5.1.jar",
                "sparkVersion": "3.5.1",
                "driver": {"cores": 1, "memory": "512m", "serviceAccount": app},
                "executor": {"cores": 1, "instances": rng.randint(1, 4), "memory": "512m"},
            },
        }


def _crd() -> Obj:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "sparkapplications.sparkoperator.k8s.io"},
        "spec": {
            "group": "sparkoperator.k8s.io",
            "names": {
                "kind": "SparkApplication",
                "plural": "sparkapplications",
                "shortNames": ["sparkapp"],
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1beta2",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def make_corpus(root: Path, resources: int, per_file: int, seed: int) -> Counter[str]:
    """Write the corpus; returns how many resources of each kind it holds."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = random.Random(seed)
    kinds: Counter[str] = Counter()
    objects: list[Obj] = [_crd()]
    n = 0
    while len(objects) < resources:
        app = f"app{n:05d}"
        objects.extend(_chart(app, f"ns-{n % 40}", rng))
        n += 1
    for i in range(0, len(objects), per_file):
        chunk = objects[i : i + per_file]
        parts = []
        for obj in chunk:
            kinds[obj["kind"]] += 1
            parts.append(
                f"# Source: chart/templates/{obj['kind'].lower()}.yaml\n"
                + yaml.safe_dump(obj, sort_keys=False)
            )
        (root / f"release-{i // per_file:04d}.yaml").write_text("---\n".join(parts))
    return kinds


# --- timing -------------------------------------------------------------------------------------


def _child_cpu(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds user+system, result) of one child process.

    CPU time is what "resources per second on one core" means, and it is steadier than wall
    time on a machine where other work runs; both are printed.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def _one_core() -> list[str]:
    return ["taskset", "-c", "0"] if shutil.which("taskset") else []


def time_kubespark_process(version: str) -> tuple[float, float, int, str]:
    """Wall and CPU time of ``kubespark validate -o json`` over the corpus, on one core."""
    exe = ROOT / ".venv" / "bin" / "kubespark"
    cmd = [*_one_core(), str(exe), "validate", "-f", str(CORPUS), "--k8s", version, "-o", "json"]
    wall, cpu, done = _child_cpu(cmd)
    report = json.loads(done.stdout)
    return wall, cpu, report["summary"]["objects"], f"exit {done.returncode}, {report['summary']}"


def time_stages(version: str) -> dict[str, float]:
    """In-process, as the CLI runs it (cyclic GC paused): cumulative time of each stage."""
    import gc

    from kubespark.apisurface import check_object, load_surface
    from kubespark.compat.applyability import predict_apply
    from kubespark.compat.manifests import Document, expand_paths, read_inputs
    from kubespark.compat.validate_run import run_validation

    surface = load_surface(version)
    files, _ = expand_paths([str(CORPUS)])

    def parse() -> None:
        for _ in read_inputs(files):
            pass

    def parse_check() -> None:
        for d in read_inputs(files):
            if isinstance(d, Document):
                check_object(surface, d.obj)

    def parse_check_predict() -> None:
        for d in read_inputs(files):
            if isinstance(d, Document):
                check_object(surface, d.obj)
                predict_apply(surface, d.obj)

    stages = {
        "read + parse YAML (libyaml nodes -> objects)": parse,
        "+ schema checks (check_object)": parse_check,
        "+ apply prediction (predict_apply)": parse_check_predict,
        "whole run (run_validation)": lambda: run_validation(surface, [str(CORPUS)]),
    }
    run_validation(surface, [str(CORPUS)])  # warm: compiled checkers, caches
    gc.freeze()
    gc.disable()
    try:
        timings = {}
        for name, work in stages.items():
            best = float("inf")
            for _ in range(3):
                start = time.process_time()
                work()
                best = min(best, time.process_time() - start)
            timings[name] = best
        return timings
    finally:
        gc.enable()
        gc.unfreeze()


def time_startup(version: str) -> float:
    """The process's fixed cost in CPU seconds: ``kubespark validate`` of an empty file."""
    empty = CACHE / "empty.yaml"
    empty.write_text("")
    exe = ROOT / ".venv" / "bin" / "kubespark"
    cmd = [*_one_core(), str(exe), "validate", "-f", str(empty), "--k8s", version]
    return min(_child_cpu(cmd)[1] for _ in range(3))


def ensure_peer() -> Path:
    exe = PEER_VENV / "bin" / "kubernetes-validate"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(PEER_VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", PEER],
            check=True,
        )
    return exe


def time_peer(version: str, sample: int | None) -> tuple[float, int]:
    exe = ensure_peer()
    files = sorted(CORPUS.glob("*.yaml"))
    chosen: list[Path] = []
    count = 0
    for f in files:
        if sample is not None and count >= sample:
            break
        chosen.append(f)
        count += sum(1 for line in f.read_text().splitlines() if line.startswith("kind: "))
    cmd = [*_one_core(), str(exe), "-k", f"{version}.0", "--strict", "--quiet", *map(str, chosen)]
    return _child_cpu(cmd)[1], count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--k8s", default="1.19")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--peer-sample",
        type=int,
        default=2000,
        help="resources the peer validates (0: the whole corpus)",
    )
    parser.add_argument("--no-peer", action="store_true")
    args = parser.parse_args()

    kinds = make_corpus(CORPUS, args.resources, args.per_file, args.seed)
    total = sum(kinds.values())
    print(f"corpus: {total} resources in {len(list(CORPUS.glob('*.yaml')))} files under {CORPUS}")
    print("  " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))

    wall, cpu, objects, summary = time_kubespark_process(args.k8s)
    startup = time_startup(args.k8s)
    ours = objects / cpu
    steady = objects / max(cpu - startup, 1e-9)
    print(
        f"\nkubespark validate --k8s {args.k8s} -o json (one process, one core): {objects} "
        f"resources in {cpu:.2f} CPU-s ({wall:.2f} s wall) = {ours:,.0f} resources/s end to end "
        f"({summary})"
    )
    print(
        f"  of which process start-up (Python, the CLI's imports, the surface): "
        f"{startup:.2f} CPU-s; without it {steady:,.0f} resources/s"
    )

    stages = time_stages(args.k8s)
    whole = stages["whole run (run_validation)"]
    print("where the time goes (in-process, cumulative, per resource):")
    for name, seconds in stages.items():
        print(f"  {name:<46} {seconds / total * 1e6:6.1f} us  {total / seconds:9,.0f} resources/s")
    print(
        f"  (the rest of the run: findings, lines, reports: "
        f"{(whole - stages['+ apply prediction (predict_apply)']) / total * 1e6:.1f} us)"
    )

    if args.no_peer:
        return
    sample = None if args.peer_sample == 0 else args.peer_sample
    peer_cpu, peer_count = time_peer(args.k8s, sample)
    theirs = peer_count / peer_cpu
    print(
        f"\n{PEER} --strict -k {args.k8s}.0 (one core): {peer_count} resources in "
        f"{peer_cpu:.1f} CPU-s = {theirs:,.1f} resources/s"
    )
    print(
        f"ratio: kubespark validate is {ours / theirs:,.0f}x kubernetes-validate end to end "
        f"({steady / theirs:,.0f}x without start-up)"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
