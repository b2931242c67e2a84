"""How long the knowledge base takes to answer: load, one check, the whole matrix, the CLI.

There is no peer that answers "will this combination work" before deploying, so this prints
absolute numbers (medians of a few runs, each in a fresh interpreter where caching would hide the
cost) rather than ratios. Run: .venv/bin/python bench/knowledge_bench.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 5

# name -> (setup, timed statement); each runs in a fresh interpreter, so no cache is warm.
SNIPPETS = {
    "import kubespark.knowledge": ("", "import kubespark.knowledge"),
    "load_knowledge() (parse + validate)": (
        "from kubespark.knowledge import load_knowledge",
        "load_knowledge()",
    ),
    "one evaluate() (3.5.1 on 1.19)": (
        "from kubespark.knowledge import load_knowledge, evaluate, Combination\n"
        "from kubespark.versions import parse_spark_version as s, parse_kube_version as k\n"
        "load_knowledge()",
        "evaluate(Combination(spark=s('3.5.1'), kubernetes=k('1.19')))",
    ),
    "build_matrix() (3 tables, 3322 evaluations)": (
        "from kubespark.knowledge import load_knowledge, build_matrix\nload_knowledge()",
        "build_matrix()",
    ),
}


def _timed(setup: str, statement: str) -> float:
    """Seconds ``statement`` takes after ``setup``, inside a fresh interpreter."""
    program = (
        f"import time\nexec({setup!r})\nt0 = time.perf_counter()\nexec({statement!r})\n"
        "print(time.perf_counter() - t0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def _cli(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kubespark", *args], capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    for name, (setup, statement) in SNIPPETS.items():
        median = statistics.median(_timed(setup, statement) for _ in range(RUNS))
        print(f"{name:40} {median * 1000:8.1f} ms")
    for args in (["check", "--spark", "3.5.1", "--k8s", "1.19"], ["matrix", "-o", "json"]):
        median = statistics.median(_cli(args) for _ in range(RUNS))
        print(f"{'kubespark ' + ' '.join(args):40} {median * 1000:8.1f} ms (wall, process)")


if __name__ == "__main__":
    main()
