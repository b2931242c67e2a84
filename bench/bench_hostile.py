"""The worst hostile inputs through each command: exit code, wall time and peak memory per run.

The inputs too large to commit (tests/hostile/make_corpus.py's ``large_inputs``: a 50 MB line,
100,000 nested brackets, 50,000 nested block sequences, 60,000 documents, a 5,001-digit integer,
a 1 KB alias bomb, a 70 MB file) are written to a temporary directory and each command runs as a
user runs it, a fresh ``kubespark`` process, measured with ``/usr/bin/time -v`` (CPU seconds and
peak resident set size; wall time too, which on a shared machine mostly measures the others).
The bar: exit 2, one line naming file:line and the limit, within 2 s and under 200 MB. Nothing
is asserted (docs/engineering.md).

Two more tables: strategic merge patches with directives against the emulator (wall time per
PATCH over HTTP, beside a JSON merge patch of the same body: the same bytes with no directive
handling, the peer), and redaction by value (``redact_text`` over log lines with no secret
registered, and with 100 registered).

    .venv/bin/python bench/bench_hostile.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.hostile.make_corpus import large_inputs

from kubespark.emulator.server import EmulatorOptions, EmulatorThread
from kubespark.redaction import redact_text, remember_secret

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


_PODS = "/api/v1/namespaces/default/pods"


def _timed_patch(client: httpx.Client, body: object, content_type: str) -> tuple[int, float]:
    client.delete(f"{_PODS}/p?gracePeriodSeconds=0")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    pod["spec"] = {"containers": [{"name": "c", "image": "i"}]}
    client.post(_PODS, json=pod)
    started = time.perf_counter()
    resp = client.patch(
        f"{_PODS}/p", content=json.dumps(body), headers={"Content-Type": content_type}
    )
    return resp.status_code, time.perf_counter() - started


def emulator_patches() -> None:
    runner = EmulatorThread(EmulatorOptions(version="1.30"))
    served = runner.start()
    print(
        "\n| containers in the patch | body KB | strategic (with $setElementOrder) s "
        "| merge patch s | ratio |"
    )
    print("|---|---|---|---|---|")
    try:
        with httpx.Client(base_url=served.url, timeout=600) as client:
            for n in (1_000, 4_000, 16_000):
                items = [{"name": f"c{i}", "image": "i"} for i in range(n)]
                order = [{"name": f"c{i}"} for i in range(n)]
                smp = {"spec": {"$setElementOrder/containers": order, "containers": items}}
                merge = {"spec": {"containers": items}}
                _, t_smp = _timed_patch(client, smp, "application/strategic-merge-patch+json")
                _, t_merge = _timed_patch(client, merge, "application/merge-patch+json")
                size = len(json.dumps(smp)) / 1024
                print(
                    f"| {n:,} | {size:.0f} | {t_smp:.2f} | {t_merge:.2f} | {t_smp / t_merge:.1f}x |"
                )
    finally:
        runner.stop()


def redaction_by_value() -> None:
    line = (
        "2026-01-01 ERROR Failure executing: POST at: https://10.0.0.1/api/v1/namespaces/d/pods."
        " Message: Unauthorized. Authorization: Bearer abc.def.ghi session 0123456789abcdef\n"
    )
    lines = [line] * 20_000

    def run() -> float:
        started = time.perf_counter()
        for text in lines:
            redact_text(text)
        return time.perf_counter() - started

    without = min(run() for _ in range(3))
    for i in range(100):
        remember_secret(f"{i:04d}" + "f00dfeedbeefcafe" * 2)
    known = min(run() for _ in range(3))
    print("\n| redact_text over 20,000 log lines | s | ratio |\n|---|---|---|")
    print(f"| by shape only (nothing registered) | {without:.2f} | 1.0x |")
    print(f"| with 100 known secrets | {known:.2f} | {known / without:.1f}x |")


if __name__ == "__main__":
    main()
    emulator_patches()
    redaction_by_value()
