"""Running ``kubespark`` as a shell does, in a fresh interpreter, and seeing what it loaded.

The start-up tests judge a command by the modules its process imported (whatever the machine's
speed): the probe runs the console script's ``main()``, then writes its exit code and
``sys.modules`` to a file, where the command's own stdout cannot mix with them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROBE = """
import gc, json, sys
out = sys.argv.pop(1)
from kubespark.cli.entry import main
try:
    main()
except SystemExit as exit:
    code = exit.code
else:
    code = 0
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(k for k, v in sys.modules.items() if v),
               "collecting": gc.isenabled(), "frozen": gc.get_freeze_count()}, f)
"""


# A manifest the offline commands validate.
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: c
    image: busybox
"""


@dataclass(frozen=True)
class Probed:
    """One run: what it printed, its exit code (0 for a plain return), the modules it loaded."""

    stdout: str
    stderr: str
    code: object
    modules: frozenset[str]
    collecting: bool  # whether the cyclic garbage collector runs after main() returned
    frozen: int  # objects moved out of the collector's sight (gc.freeze) by then


def probe(tmp_path: Path, *argv: str, env: Mapping[str, str]) -> Probed:
    """``kubespark ARGV`` in a fresh interpreter, with ``env`` over this process's environment."""
    out = tmp_path / "probe.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )
    report = json.loads(out.read_text())
    return Probed(
        done.stdout,
        done.stderr,
        report["code"] or 0,
        frozenset(report["modules"]),
        report["collecting"],
        report["frozen"],
    )
