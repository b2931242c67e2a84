"""Per-application build time of the driver builder, beside spark-submit's recorded cost.

    .venv/bin/python bench/driver_build.py [ROUNDS]

Builds every application of tests/driver/conformance/apps for Spark 3.5.1 ROUNDS times (default
200) and prints the median wall and CPU time per build, and peak memory of one build; then the
ratio to one spark-submit 3.5.1 submission as the captured traces' README measured it (the
figures: docs/performance.md). Numbers are printed, never asserted.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from kubespark.driver import build_driver_resources
from kubespark.records import replace
from kubespark.spark import load_application

APPS = Path(__file__).resolve().parents[1] / "tests" / "driver" / "conformance" / "apps"
SPARK_SUBMIT_351 = {"wall_s": 6.9, "cpu_s": 7.6, "rss_mb": 239.0}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    apps = []
    for path in sorted(APPS.glob("*.yaml")):
        app = load_application(path)
        apps.append(replace(app, spec=replace(app.spec, spark_version="3.5.1")))
    walls, cpus = [], []
    for index in range(rounds):
        for app in apps:
            wall, cpu = time.perf_counter(), time.process_time()
            build_driver_resources(app, submission_id=f"bench-{index}")
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    tracemalloc.start()
    build_driver_resources(apps[0], submission_id="bench-memory")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"applications: {len(apps)}, builds: {len(walls)}")
    print(
        f"kubespark build: median {wall * 1e3:.3f} ms wall, {cpu * 1e3:.3f} ms CPU, "
        f"peak {peak / 1e3:.0f} kB"
    )
    print(
        f"spark-submit 3.5.1 (recorded): {SPARK_SUBMIT_351['wall_s']} s wall, "
        f"{SPARK_SUBMIT_351['cpu_s']} CPU-s, {SPARK_SUBMIT_351['rss_mb']} MB"
    )
    print(
        f"ratio: {SPARK_SUBMIT_351['wall_s'] / wall:,.0f}x less wall, "
        f"{SPARK_SUBMIT_351['cpu_s'] / cpu:,.0f}x less CPU, "
        f"{SPARK_SUBMIT_351['rss_mb'] * 1e6 / peak:,.0f}x less memory (build only)"
    )


if __name__ == "__main__":
    main()
