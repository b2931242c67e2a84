"""``kubespark emulate``: serve an emulated Kubernetes API server of a chosen version.

Parses flags, starts the emulator (``kubespark.emulator``) on 127.0.0.1, writes its kubeconfig,
prints where it listens and how to use it, and serves until interrupted. Faults can be set here
and changed at runtime through ``/_kubespark/faults``.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Annotated

import typer

from kubespark.cli.output import stdout
from kubespark.cli.serving import until_interrupted
from kubespark.emulator import Emulator, EmulatorOptions, Faults
from kubespark.emulator.kubelet.simulated import ANNOTATIONS
from kubespark.emulator.server import tune_collector_for_serving
from kubespark.errors import InputError

# The flags' defaults are the emulator's own: a well-behaved server of the default version.
_DEFAULT = EmulatorOptions()
_NO_FAULTS = Faults()


def _error_codes(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError(
            f"{text!r} is not a list of HTTP codes",
            where="--error-codes",
            fix="give codes separated by commas, e.g. 500,503,429",
        ) from None


def _image_map(entries: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for entry in entries:
        image, _, version = entry.rpartition("=")
        if not image or not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise InputError(
                f"{entry!r} is not IMAGE=VERSION",
                where="--spark-image-map",
                fix="give the image and its Spark release, e.g. registry/my-spark:7=3.5.1",
            )
        pairs.append((image, version))
    return tuple(pairs)


def emulate(
    k8s: Annotated[
        str,
        typer.Option(
            "--k8s",
            help="Kubernetes version to emulate: a minor "
            "(1.19) or a patch (1.20.6), 1.16 or newer.",
        ),
    ] = _DEFAULT.version,
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")
    ] = _DEFAULT.port,
    tls: Annotated[
        bool,
        typer.Option(help="Serve HTTPS with a CA made at start; the kubeconfig carries the CA."),
    ] = _DEFAULT.tls,
    kubeconfig_out: Annotated[
        Path | None,
        typer.Option(
            "--kubeconfig-out", help="Where to write the kubeconfig (default: a temporary file)."
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Run pods and drivers this many times faster than real time.")
    ] = _DEFAULT.speed,
    error_rate: Annotated[
        float, typer.Option(help="Fraction of API requests answered with an injected error (0-1).")
    ] = _NO_FAULTS.error_rate,
    error_codes: Annotated[
        str, typer.Option(help="HTTP codes to inject, comma separated (429, 500, 502, 503, 504).")
    ] = ",".join(map(str, _NO_FAULTS.error_codes)),
    latency_ms: Annotated[
        float, typer.Option(help="Added latency per API request.")
    ] = _NO_FAULTS.latency_ms,
    watch_drop_after: Annotated[
        float | None, typer.Option(help="Cut every watch connection after this many seconds.")
    ] = None,
    namespace: Annotated[
        list[str] | None,
        typer.Option("--namespace", "-n", help="Create this namespace at start (repeatable)."),
    ] = None,
    service_account_admission: Annotated[
        bool,
        typer.Option(
            "--service-account-admission/--no-service-account-admission",
            help="Refuse pods whose ServiceAccount does not exist, as Kubernetes does.",
        ),
    ] = _DEFAULT.service_account_admission,
    kubelet: Annotated[
        str,
        typer.Option(
            help="simulated: pods live on timers; process: Apache Spark image pods run as real "
            "local Spark processes (docs/emulator.md)."
        ),
    ] = _DEFAULT.kubelet,
    spark_image_map: Annotated[
        list[str] | None,
        typer.Option(
            help="IMAGE=VERSION: a custom image runs this Spark release (repeatable; "
            "--kubelet process)."
        ),
    ] = None,
    authorization: Annotated[
        str,
        typer.Option(
            "--authorization-mode",
            # kube-apiserver's own flag name; a bare "--authorization: x" in an error would
            # also read as a credential header to the redaction
            help="always-allow: every request is allowed; rbac: Roles, ClusterRoles and "
            "bindings decide for the users requests impersonate (kubectl --as=...), the "
            "kubeconfig's own user being a cluster admin.",
        ),
    ] = "always-allow",
) -> None:
    """Serve an emulated API server of one Kubernetes version, with a kubelet.

    The kubelet is simulated (pods live on timers) or a process kubelet running Apache Spark
    images' pods as real processes.

    \b
    Examples:
      kubespark emulate --k8s 1.19 --kubeconfig-out kubeconfig.yaml
      kubespark emulate --k8s 1.29 --port 0 -n spark
    """
    try:
        faults = Faults(
            error_rate=error_rate,
            error_codes=_error_codes(error_codes),
            latency_ms=latency_ms,
            watch_drop_after=watch_drop_after,
        )
    except InputError as err:  # name the flag, not the setting
        flag = "--" + (err.where or "").removeprefix("faults.").replace("_", "-")
        raise InputError(err.message, where=flag, fix=err.fix) from None
    options = EmulatorOptions(
        version=k8s,
        port=port,
        tls=tls,
        kubeconfig_out=kubeconfig_out,
        speed=speed,
        faults=faults,
        namespaces=tuple(namespace or ()),
        service_account_admission=service_account_admission,
        kubelet=kubelet,
        spark_image_map=_image_map(spark_image_map or []),
        authorization=authorization,
    )
    asyncio.run(_serve(options))


async def _serve(options: EmulatorOptions) -> None:
    emu = Emulator(options)
    await emu.start()
    tune_collector_for_serving()  # this process only serves the emulator
    console = stdout()
    console.print(f"[bold]kubespark emulate[/]: Kubernetes {emu.version} at {emu.url}")
    if emu.version != emu.newest_known_patch:
        console.print(
            f"  (the newest known patch of this minor is {emu.newest_known_patch}: "
            f"--k8s {emu.newest_known_patch.lstrip('v')} emulates it, backports included)",
            highlight=False,
        )
    console.print(f"kubeconfig: {emu.kubeconfig_path}")
    console.print(f"  export KUBECONFIG={emu.kubeconfig_path}", highlight=False)
    console.print(
        f"faults: {emu.url}/_kubespark/faults (GET, PUT a JSON object); "
        f"restart: POST {emu.url}/_kubespark/restart",
        highlight=False,
    )
    console.print("pod annotations: " + ", ".join(sorted(ANNOTATIONS)), highlight=False)
    console.print("Ctrl-C stops it.")
    try:
        await until_interrupted()
    finally:
        await emu.stop()
