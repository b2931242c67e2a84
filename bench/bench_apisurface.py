#!/usr/bin/env python3
"""Measure the API surface: cold load time per version, all versions, and bundled data size.

Run: ``.venv/bin/python bench/bench_apisurface.py``. Each cold load runs in a fresh interpreter,
so nothing is cached; the numbers are printed next to the targets (< 50 ms per version,
< 15 MB on disk) as ratios. No assertion: a benchmark reports, tests judge behaviour.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

import kubespark.apisurface as aps

LOAD_TARGET_MS = 50.0
SIZE_TARGET_MB = 15.0
RUNS = 5

_COLD = """
import time, sys
t0 = time.perf_counter()
import kubespark.apisurface as a
t1 = time.perf_counter()
a.load_surface(sys.argv[1])
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1e3:.2f} {(t2 - t1) * 1e3:.2f}")
"""

_ALL = """
import time
import kubespark.apisurface as a
t = time.perf_counter()
for v in a.known_versions():
    a.load_surface(v)
print(f"{(time.perf_counter() - t) * 1e3:.2f}")
"""


def cold_load_ms(version: str) -> tuple[float, float]:
    """Median (import ms, load ms) of RUNS fresh interpreters."""
    imports, loads = [], []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", _COLD, version], capture_output=True, text=True, check=True
        ).stdout.split()
        imports.append(float(out[0]))
        loads.append(float(out[1]))
    return statistics.median(imports), statistics.median(loads)


def main() -> None:
    versions = aps.known_versions()
    print(f"API surface: {len(versions)} minors, {versions[0]} to {versions[-1]}")
    for v in (versions[0], "1.19", "1.20.6", versions[-1]):
        imp, load = cold_load_ms(str(v))
        print(
            f"  cold load_surface({v!s:>6}): {load:6.1f} ms  "
            f"(target {LOAD_TARGET_MS:.0f} ms: {load / LOAD_TARGET_MS:.2f}x of budget; "
            f"package import {imp:.0f} ms)"
        )
    all_ms = float(
        subprocess.run(
            [sys.executable, "-c", _ALL], capture_output=True, text=True, check=True
        ).stdout
    )
    print(f"  every version, one process: {all_ms:.1f} ms ({all_ms / len(versions):.1f} ms each)")
    data = Path(aps.__file__).parent / "data"
    size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file()) / 1e6
    print(
        f"  bundled data: {size:.2f} MB (target {SIZE_TARGET_MB:.0f} MB: "
        f"{size / SIZE_TARGET_MB:.2f}x of budget)"
    )


if __name__ == "__main__":
    main()
