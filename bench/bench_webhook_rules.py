"""kubeflow's webhook rules (``rule_violations``) compiled to Python beside celpy interpreting them.

    .venv/bin/python bench/bench_webhook_rules.py [--repeat 7] [--number 200]

Prints, in CPU time (``time.process_time``, steadier than wall time on a shared machine):

- one ``rule_violations`` of each example (``examples/spark-pi.yaml``, ``examples/nightly.yaml``)
  in a warm process: the compiled rules (``apisurface/cel_compile``) and the same rules through
  celpy (what every rule ran through before; ``spark.rules._programs`` swapped for an empty
  compiled set sends every expression there): the operator pays this per application change;
- the first ``rule_violations`` in a fresh process (with ``kubespark.spark.rules`` already
  imported, the cache warm): compiled rules read the marshalled code from the user cache, celpy
  imports itself, lark, pendulum and dateutil and loads its parser: what ``kubespark validate``
  and ``submit`` pay once.

Printed, never asserted (docs/engineering.md).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

from kubespark.apisurface.cel_compile import CompiledSet
from kubespark.spark import rules

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = [REPO / "examples" / "spark-pi.yaml", REPO / "examples" / "nightly.yaml"]

FIRST_CALL = """
import sys, time, yaml
from kubespark.apisurface.cel_compile import CompiledSet
from kubespark.spark import rules
doc = yaml.safe_load(open(sys.argv[1]))
if sys.argv[2] == "celpy":
    rules._programs = lambda: CompiledSet({}, {})
rules.webhook_rules()
start = time.process_time()
rules.rule_violations(doc)
print(time.process_time() - start)
"""


def _per_call(document: Any, repeat: int, number: int) -> float:
    rules.rule_violations(document)  # warm: compiled or parsed once
    runs = []
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            rules.rule_violations(document)
        runs.append((time.process_time() - start) / number)
    return statistics.median(runs)


def _first_call(example: Path, how: str, repeat: int) -> float:
    argv = [sys.executable, "-c", FIRST_CALL, str(example), how]
    subprocess.run(argv, check=True, capture_output=True)  # caches written
    runs = [
        float(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
        for _ in range(repeat)
    ]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=200)
    args = parser.parse_args()
    print(f"{'rule_violations, warm process':44} {'compiled':>10} {'celpy':>10} {'ratio':>7}")
    for example in EXAMPLES:
        document = yaml.safe_load(example.read_text())
        compiled = _per_call(document, args.repeat, args.number)
        with mock.patch.object(rules, "_programs", lambda: CompiledSet({}, {})):
            interpreted = _per_call(document, args.repeat, max(args.number // 10, 1))
        label = f"{example.name} ({document['kind']})"
        ms = f"{compiled * 1e3:8.3f}ms {interpreted * 1e3:8.3f}ms"
        print(f"{label:44} {ms} {interpreted / compiled:6.0f}x", flush=True)
    print(f"{'first rule_violations in a fresh process':44} {'compiled':>10} {'celpy':>10}")
    for example in EXAMPLES:
        compiled = _first_call(example, "compiled", args.repeat)
        interpreted = _first_call(example, "celpy", args.repeat)
        ms = f"{compiled * 1e3:8.1f}ms {interpreted * 1e3:8.1f}ms"
        print(f"{example.name:44} {ms} {interpreted / compiled:6.0f}x", flush=True)


if __name__ == "__main__":
    main()
