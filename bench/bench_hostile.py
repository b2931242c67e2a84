"""The worst hostile inputs through each command: exit code, wall time and peak memory per run.

The inputs too large to commit (tests/hostile/make_corpus.py's ``large_inputs``: a 50 MB line,
100,000 nested brackets, 50,000 nested block sequences, 60,000 documents, a 5,001-digit integer,
a 1 KB alias bomb, a 70 MB file) are written to a temporary directory and each command runs as a
user runs it, a fresh ``kubespark`` process, measured with ``/usr/bin/time -v`` (CPU seconds and
peak resident set size; wall time too, which on a shared machine mostly measures the others).
The bar: exit 2, one line naming file:line and the limit, within 2 s and under 200 MB. Nothing
is asserted (docs/engineering.md).

    .venv/bin/python bench/bench_hostile.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile.make_corpus import large_inputs

KUBESPARK = str(Path(sys.executable).with_name("kubespark"))
COMMANDS = {
    "validate": lambda p: ["validate", "-f", p, "--k8s", "1.19"],
    "submit": lambda p: ["submit", p, "--dry-run", "--k8s", "1.19"],
    "check": lambda p: ["check", "-f", p, "--k8s", "1.29"],
    "doctor": lambda p: ["doctor", p],
}


def measure(argv: list[str]) -> tuple[int, float, float, float, str]:
    """(exit code, wall s, CPU s, peak RSS MB, first line said), by ``/usr/bin/time -v``."""
    with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        code = subprocess.call(["/usr/bin/time", "-v", KUBESPARK, *argv], stdout=out, stderr=err)
        wall = time.perf_counter() - started
        err.seek(0)
        out.seek(0)
        errors, said = err.read(), out.read()
    stats = dict(
        line.strip().rsplit(": ", 1) for line in errors.splitlines() if line.startswith("\t")
    )
    cpu = float(stats["User time (seconds)"]) + float(stats["System time (seconds)"])
    peak = int(stats["Maximum resident set size (kbytes)"]) / 1024
    lines = [x for x in (errors + said).splitlines() if x and not x.startswith(("\t", "Command"))]
    return code, wall, cpu, peak, lines[0][:100] if lines else ""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("| input | command | exit | wall s | CPU s | peak MB | first line |")
        print("|---|---|---|---|---|---|---|")
        baseline = [("baseline-empty.yaml", b"")]  # each command's start-up, for comparison
        for name, data in [*baseline, *large_inputs()]:
            path = Path(tmp) / name
            path.write_bytes(data)
            for command, argv in COMMANDS.items():
                code, wall, cpu, peak, line = measure(argv(str(path)))
                line = line.replace(tmp + "/", "").replace("|", "\\|")
                row = f"| {name} | {command} | {code} | {wall:.2f} | {cpu:.2f} | {peak:.0f} |"
                print(f"{row} {line} |")
            path.unlink()


if __name__ == "__main__":
    main()
