"""The worst hostile inputs through each command: exit code, wall time and peak memory per run.

The inputs too large to commit (tests/hostile/make_corpus.py's ``large_inputs``: a 50 MB line,
100,000 nested brackets, 50,000 nested block sequences, 60,000 documents, a 5,001-digit integer,
a 1 KB alias bomb, a 70 MB file) are written to a temporary directory and each command runs as a
user runs it, a fresh ``kubespark`` process, measured with ``/usr/bin/time -v`` (peak resident
set size) where present, else ``wait4``'s rusage. The issue's bar: exit 2, one line naming
file:line and the limit, within 2 s and under 200 MB. Nothing is asserted (docs/engineering.md).

    .venv/bin/python bench/bench_hostile.py
"""

from __future__ import annotations

import os
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


def measure(argv: list[str]) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS MB, first line of stderr/stdout)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err, tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([KUBESPARK, *argv], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        err.seek(0)
        out.seek(0)
        said = (err.read() or out.read()).strip().splitlines()
    return proc.returncode, wall, usage.ru_maxrss / 1024, said[0][:110] if said else ""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print("| input | command | exit | wall s | peak MB | first line |")
        print("|---|---|---|---|---|---|")
        baseline = [("baseline-empty.yaml", b"")]  # each command's start-up, for comparison
        for name, data in [*baseline, *large_inputs()]:
            path = Path(tmp) / name
            path.write_bytes(data)
            for command, argv in COMMANDS.items():
                code, wall, peak, line = measure(argv(str(path)))
                line = line.replace(tmp + "/", "").replace("|", "\\|")
                print(f"| {name} | {command} | {code} | {wall:.2f} | {peak:.0f} | {line} |")
            path.unlink()


if __name__ == "__main__":
    main()
