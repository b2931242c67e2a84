"""``kubespark emulate``: serve an emulated Kubernetes API server of a chosen version.

Parses flags, starts the emulator (``kubespark.emulator``) on 127.0.0.1, writes its kubeconfig,
prints where it listens and how to use it, and serves until interrupted. Faults can be set here
and changed at runtime through ``/_kubespark/faults``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import typer

from kubespark.cli.output import stdout
from kubespark.emulator import Emulator, EmulatorOptions, Faults
from kubespark.emulator.kubelet import ANNOTATIONS
from kubespark.errors import InputError


def _error_codes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError(
            f"{text!r} is not a list of HTTP codes",
            where="--error-codes",
            fix="give codes separated by commas, e.g. 500,503,429",
        ) from None


def emulate(
    k8s: str = typer.Option(
        "1.19",
        "--k8s",
        help="Kubernetes version to emulate: a minor "
        "(1.19) or a patch (1.20.6) the API surface has, 1.16 or newer.",
    ),
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0: any free port)."),
    tls: bool = typer.Option(
        False, "--tls", help="Serve HTTPS with a CA made at start; the kubeconfig carries the CA."
    ),
    kubeconfig_out: Path | None = typer.Option(
        None, "--kubeconfig-out", help="Where to write the kubeconfig (default: a temporary file)."
    ),
    speed: float = typer.Option(
        1.0, "--speed", help="Run pods and drivers this many times faster than real time."
    ),
    error_rate: float = typer.Option(
        0.0, "--error-rate", help="Fraction of API requests answered with an injected error (0-1)."
    ),
    error_codes: str = typer.Option(
        "500,503,429",
        "--error-codes",
        help="HTTP codes to inject, comma separated (429, 500, 502, 503, 504).",
    ),
    latency_ms: float = typer.Option(0.0, "--latency-ms", help="Added latency per API request."),
    watch_drop_after: float | None = typer.Option(
        None, "--watch-drop-after", help="Cut every watch connection after this many seconds."
    ),
    namespace: list[str] = typer.Option(
        [], "--namespace", "-n", help="Create this namespace at start (repeatable)."
    ),
    no_sa_admission: bool = typer.Option(
        False,
        "--no-service-account-admission",
        help="Accept pods whose ServiceAccount does not exist.",
    ),
) -> None:
    """Serve an API server that behaves like Kubernetes K8S, with a simulated kubelet."""
    faults = Faults(
        error_rate=error_rate,
        error_codes=_error_codes(error_codes),
        latency_ms=latency_ms,
        watch_drop_after=watch_drop_after,
    )
    options = EmulatorOptions(
        version=k8s,
        port=port,
        tls=tls,
        kubeconfig_out=kubeconfig_out,
        speed=speed,
        faults=faults,
        namespaces=tuple(namespace),
        service_account_admission=not no_sa_admission,
    )
    asyncio.run(_serve(options))


async def _serve(options: EmulatorOptions) -> None:
    emu = Emulator(options)
    await emu.start()
    console = stdout()
    console.print(f"[bold]kubespark emulate[/]: Kubernetes {emu.version} at {emu.url}")
    console.print(f"kubeconfig: {emu.kubeconfig_path}")
    console.print(f"  export KUBECONFIG={emu.kubeconfig_path}", highlight=False)
    console.print(
        f"faults: {emu.url}/_kubespark/faults (GET, PUT a JSON object); "
        f"restart: POST {emu.url}/_kubespark/restart",
        highlight=False,
    )
    console.print("pod annotations: " + ", ".join(sorted(ANNOTATIONS)), highlight=False)
    console.print("Ctrl-C stops it.")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await emu.stop()
