"""Throughput and memory of ``kubespark doctor`` over a multi-GB log, beside two peers.

    .venv/bin/python bench/bench_doctor.py [GB]      (default 2)

Writes a synthetic log of GB gigabytes to a temporary file: Spark driver, spark-submit and
operator lines as they appear in real logs (the lines below are quoted from the public threads
named next to them), with a real failure (kubeflow/spark-operator#2048) every 20,000 lines and
an executor OOM (kubeflow/spark-operator#766) every 50,000. Then it measures, each in its own
process so peak RSS is that process's alone:

- ``kubespark doctor`` (the engine, one pass, the packaged knowledge base);
- ``grep -F -f FRAGMENTS`` with the doctor's own prefilter fragments (GNU grep: the speed floor
  of "find the lines that hold any known fragment", no diagnosis);
- the naive design: every line searched with every symptom regex (on the first 200 MB only).

Prints MB/s, peak RSS and the ratios. Numbers are printed, never asserted.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOISE = [
    # kubeflow/spark-operator#1378 (a driver's start-up log)
    "21/11/04 19:38:30 INFO MemoryStore: MemoryStore started with capacity 117.0 MiB",
    "21/11/04 19:38:31 INFO SparkUI: Bound SparkUI to 0.0.0.0, and started at "
    "http://pyspark-pi-d952757cec759368-driver-svc.spark.svc:4040",
    "21/11/04 19:38:34 INFO ExecutorPodsAllocator: Going to request 1 executors from Kubernetes "
    "for ResourceProfile Id: 0, target: 1 running: 0.",
    "21/11/04 19:38:34 INFO NettyBlockTransferService: Server created on "
    "pyspark-pi-d952757cec759368-driver-svc.spark.svc:7079",
    # kubeflow/spark-operator#772 and #766 (task and block manager lines)
    "20/01/14 23:50:38 INFO TaskSetManager: Starting task 5.1 in stage 0.0 (TID 8, "
    "192.168.252.135, executor 7, partition 5, PROCESS_LOCAL, 281589 bytes)",
    "20/01/10 00:51:07 INFO BlockManagerMaster: Removed 1 successfully in removeExecutor",
    # kubeflow/spark-operator#1314 (operator v1, glog)
    'I0730 23:08:41.930086      11 event.go:282] Event(v1.ObjectReference{Kind:"SparkApplication"'
    ", Namespace:\"default\", Name:\"spark-pi\"}): type: 'Normal' reason: 'SparkDriverRunning'",
    # kubeflow/spark-operator#2260 (operator v2, zap console)
    "2024-10-17T12:13:31.168Z\tINFO\tsparkapplication/controller.go:164\tReconciling "
    'SparkApplication\t{"name": "spark-pi", "namespace": "default", "state": "RUNNING"}',
]
FAILURE = (  # kubeflow/spark-operator#2048
    'Exception in thread "main" io.fabric8.kubernetes.client.KubernetesClientException: Failure '
    "executing: PATCH at: https://192.18.0.1:443/api/v1/namespaces/spark/services/spark-pi-358e2"
    "58fec637e87-driver-svc?fieldManager=fabric8&force=true. Message: failed to create typed "
    "patch object: errors:\n"
    '   .spec.ports: element 0: associative list with keys has an element that omits key field "pr'
    'otocol"\n'
    "   .spec.ipFamilies: field not declared in schema. Received status: Status(apiVersion=v1, "
    "code=500)\n"
)
OOM = (  # kubeflow/spark-operator#766
    "20/01/10 00:51:08 ERROR TaskSchedulerImpl: Lost executor 1 on 192.169.80.146:\n"
    "The executor with id 1 exited with exit code 137.\n"
)


def write_log(path: Path, size: int) -> int:
    rng = random.Random(7)
    block_lines = []
    for i in range(100_000):
        block_lines.append(rng.choice(NOISE))
        if i % 20_000 == 19_999:
            block_lines.append(FAILURE.rstrip("\n"))
        if i % 50_000 == 49_999:
            block_lines.append(OOM.rstrip("\n"))
    block = ("\n".join(block_lines) + "\n").encode()
    written = 0
    with path.open("wb") as out:
        while written < size:
            out.write(block)
            written += len(block)
    return written


def run_child(code: str, *args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) of the child alone, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, proc.stdout.strip()


DOCTOR = """
import sys
from kubespark.doctor.engine import Input, examine
with open(sys.argv[1], "rb") as f:
    report = examine([Input(sys.argv[1], f)])
print(",".join(d.issue.id for d in report.diagnoses), report.sources[0].lines)
"""

FRAGMENTS = """
from kubespark.doctor.engine import vocabulary
for frag in vocabulary().automaton.fragments:
    print(frag.decode())
"""

NAIVE = """
import re, sys
from kubespark.knowledge import load_knowledge
kb = load_knowledge()
pats = [re.compile(s.regex if s.regex else re.escape(s.literal))
        for i in kb.issues for s in (*i.symptoms, *(x for r in i.reasons for x in r.symptoms))]
hits = 0
with open(sys.argv[1], "r", errors="replace") as f:
    read = 0
    for line in f:
        read += len(line)
        if any(p.search(line) for p in pats):
            hits += 1
        if read >= int(sys.argv[2]):
            break
print(hits, read)
"""


def main() -> None:
    gb = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    tmp = Path(tempfile.mkdtemp(prefix="kubespark-bench-"))
    try:
        log = tmp / "big.log"
        t0 = time.perf_counter()
        size = write_log(log, int(gb * (1 << 30)))
        mb = size / 1e6
        print(f"log: {mb:,.0f} MB written in {time.perf_counter() - t0:.1f} s ({log})")

        wall, rss, out = run_child(DOCTOR, str(log))
        doctor_rate = mb / wall
        print(f"kubespark doctor : {doctor_rate:8.0f} MB/s  peak RSS {rss:6.0f} MB  found: {out}")

        _, _, frags = run_child(FRAGMENTS)
        (tmp / "fragments").write_text(frags + "\n")
        if shutil.which("grep"):
            start = time.perf_counter()
            subprocess.run(
                ["grep", "-F", "-c", "-f", str(tmp / "fragments"), str(log)],
                capture_output=True,
                check=False,
                env={**os.environ, "LC_ALL": "C"},
            )
            grep_rate = mb / (time.perf_counter() - start)
            print(
                f"grep -F -f (peer): {grep_rate:8.0f} MB/s  (finds candidate lines only)  "
                f"doctor/grep = {doctor_rate / grep_rate:.2f}"
            )
        cap = min(size, 200 * 1_000_000)
        wall, rss, out = run_child(NAIVE, str(log), str(cap))
        naive_rate = cap / 1e6 / wall
        print(
            f"naive per-line   : {naive_rate:8.1f} MB/s  peak RSS {rss:6.0f} MB  "
            f"doctor/naive = {doctor_rate / naive_rate:.1f}x"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
