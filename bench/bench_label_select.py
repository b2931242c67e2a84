#!/usr/bin/env python3
"""A list by label selector in a namespace of N objects: what one call costs as N grows.

Run: ``.venv/bin/python bench/bench_label_select.py [--sizes 300,1000,3000] [--calls 300]``.

The emulated Spark driver deletes its executors with a delete-collection by
``spark-app-selector=<id>,spark-role=executor``; the API server's list path is the same. This
fills one namespace with N ConfigMaps labelled as executors of N applications, then issues
``--calls`` lists by one application's selector (each finds one object) over real HTTP, and
prints the process CPU per call (client and emulator share this process; the client's share is
the same whatever N is). Compare two checkouts with ``PYTHONPATH=<checkout>/src``. No assertion:
a benchmark reports; tests judge behaviour.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from kubespark.emulator import run_emulator

PATH = "/api/v1/namespaces/default/configmaps"


async def measure(size: int, calls: int) -> float:
    """CPU milliseconds per selector list with ``size`` objects in the namespace."""
    async with (
        run_emulator("1.21", speed=50.0) as emu,
        httpx.AsyncClient(base_url=emu.url, timeout=30) as client,
    ):
        for i in range(size):
            labels = {"spark-app-selector": f"spark-{i:05d}", "spark-role": "executor"}
            body = {"metadata": {"name": f"exec-{i:05d}", "labels": labels}, "data": {"k": "v"}}
            resp = await client.post(PATH, json=body)
            resp.raise_for_status()
        start = time.process_time()
        for n in range(calls):
            selector = f"spark-app-selector=spark-{n % size:05d},spark-role=executor"
            resp = await client.get(PATH, params={"labelSelector": selector})
            assert len(resp.json()["items"]) == 1
        return (time.process_time() - start) / calls * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,1000,3000")
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    print("objects in the namespace   CPU per selector list")
    for size in (int(s) for s in args.sizes.split(",")):
        per_call = asyncio.run(measure(size, args.calls))
        print(f"  {size:6d}                   {per_call:7.2f} ms")


if __name__ == "__main__":
    main()
