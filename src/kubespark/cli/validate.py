"""``kubespark validate``: will these manifests work on Kubernetes 1.X, and what to change.

Reads YAML/JSON files, directories, stdin (``-f -``) and multi-document streams (``helm
template`` output, ``kind: List``), checks every object against the version's API surface and
renders the findings as text, JSON or SARIF 2.1.0. ``--fix`` writes the objects as the compat
planner lowers them for that version: to stdout as one YAML stream (the report then goes to
stderr), or with ``--fix-out DIR`` one file per input under DIR; never over the inputs.
``--kubeconfig``/``--context`` check against what the live server serves (its discovery and
``/openapi/v2``: CRDs and vendor changes included) instead of a bundled ``--k8s`` version.
Exit codes: 0 clean, 1 problems found, 2 input error.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from kubespark import __version__
from kubespark.apisurface.load import load_surface, newest_version
from kubespark.apisurface.model import ApiSurface
from kubespark.cli.output import echo, print_json
from kubespark.compat.report import fixed_stream, json_report, sarif_report, text_report
from kubespark.compat.validate_run import ValidationRun, run_validation
from kubespark.errors import InputError, refusing_os_errors

# typer and the shared flags are named only in the signature's annotations, which stay text
# (PEP 563) until kubespark.cli.app resolves them to build the typer command: entry's short path
# runs this command without importing typer.
if TYPE_CHECKING:
    import typer

    from kubespark.cli.flags import ContextFlag, KubeVersionFlag, LiveKubeconfigFlag

__all__ = ["validate"]


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


def validate(
    files: Annotated[
        list[str],
        typer.Option(
            "-f", "--filename", help="file, directory (recursive) or - for stdin; repeatable"
        ),
    ],
    k8s: KubeVersionFlag = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="warnings (e.g. fields a create drops) are errors")
    ] = False,
    fix: Annotated[
        bool, typer.Option("--fix", help="write the objects lowered for that version")
    ] = False,
    fix_out: Annotated[
        Path | None,
        typer.Option("--fix-out", help="with --fix: write one file per input under this directory"),
    ] = None,
    output: Annotated[
        ReportFormat, typer.Option("-o", "--output", help="report format")
    ] = ReportFormat.TEXT,
    kubeconfig: LiveKubeconfigFlag = None,
    context: ContextFlag = None,
) -> None:
    """Check manifests against one Kubernetes version: fields, APIs, server-side apply.

    Without --k8s or --kubeconfig: the newest version kubespark knows. A live server is
    checked through its own API (its CRDs too). Exit codes: 0 clean (warnings allowed unless
    --strict), 1 problems found, 2 input error.
    """
    if fix_out is not None and not fix:
        raise InputError("--fix-out needs --fix", where="--fix-out", fix="add --fix")
    live = kubeconfig is not None or context is not None
    if live and k8s is not None:
        raise InputError(
            "--k8s and --kubeconfig/--context both name the server",
            where="--kubeconfig/--context",
            fix="drop --k8s, or --kubeconfig/--context",
        )
    if not live and k8s is None:
        # Said, not silent: a clean run against the newest version says little about a cluster.
        echo(
            f"note: no --k8s or --kubeconfig given: checking against Kubernetes "
            f"{newest_version()}, the newest kubespark knows",
            err=True,
        )
    surface = _live_surface(kubeconfig, context) if live else load_surface(k8s or newest_version())
    with _no_cycle_collection():
        run = run_validation(surface, files, stdin=sys.stdin.buffer, strict=strict, fix=fix)
    to_stderr = fix and fix_out is None
    if fix:
        _write_fixed(run, fix_out)
    _report(run, output, to_stderr)
    raise SystemExit(run.exit_code)


def _live_surface(kubeconfig: str | None, context: str | None) -> ApiSurface:
    """The API surface the server of a kubeconfig context describes (discovery, OpenAPI)."""
    # Imported here: asyncio, the HTTP client and kubeconfig handling cost start-up time
    # offline runs do not need.
    import asyncio

    from kubespark.compat.capabilities import live_capabilities
    from kubespark.kube.client import KubeClient

    async def read() -> ApiSurface:
        async with KubeClient.from_kubeconfig(
            kubeconfig, context, timeout=10.0, pooled=False
        ) as client:
            return await live_capabilities(client)

    return asyncio.run(read())


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while validating.

    A run builds and drops a few hundred small acyclic objects per manifest (YAML nodes,
    dicts, lists), which reference counting frees; the cyclic collector would instead rescan
    the loaded API surface over and over, a third of the run's time (bench/bench_validate.py).
    """
    gc.freeze()  # what is loaded now (the surface) stays out of later collections
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


def _report(run: ValidationRun, output: ReportFormat, to_stderr: bool) -> None:
    if output is ReportFormat.TEXT:
        echo(text_report(run), err=to_stderr)
    elif to_stderr:
        data = json_report(run) if output is ReportFormat.JSON else _sarif(run)
        echo(json.dumps(data, indent=2), err=True)
    else:
        print_json(json_report(run) if output is ReportFormat.JSON else _sarif(run))


def _sarif(run: ValidationRun) -> dict[str, object]:
    return sarif_report(run, tool_version=__version__)


def _write_fixed(run: ValidationRun, fix_out: Path | None) -> None:
    if fix_out is None:
        objects = [obj for per_file in run.fixed.values() for obj in per_file]
        if objects:
            echo(fixed_stream(objects), nl=False)
        return
    for source, objects in run.fixed.items():
        target = _fix_target(fix_out, source)
        with refusing_os_errors(
            f"cannot write {target}", where="--fix-out", fix="give a writable directory"
        ):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_fixed_text(target, objects))


def _fix_target(root: Path, source: str) -> Path:
    """Where the fixed copy of an input goes: its path (made relative) under ``root``."""
    if source == "<stdin>":
        return root / "stdin.yaml"
    path = Path(source)
    relative = path if not path.is_absolute() else Path(*path.parts[1:])
    return root / Path(*[p for p in relative.parts if p not in ("..", ".")])


def _fixed_text(target: Path, objects: list[object]) -> str:
    """A JSON input stays JSON (one object, or a List of them); anything else is YAML."""
    if target.suffix != ".json":
        return fixed_stream(objects)
    value = (
        objects[0] if len(objects) == 1 else {"apiVersion": "v1", "kind": "List", "items": objects}
    )
    return json.dumps(value, indent=2) + "\n"
