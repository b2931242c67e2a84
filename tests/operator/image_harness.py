"""Running an OCI image archive as a container runtime would, for the image tests.

Unpacks an image's layers in order (``./dev image``'s archive or buildah's), then runs its own
entrypoint, user, environment and working directory in a chroot whose root filesystem is mounted
read-only, with a tmpfs on /tmp (as a pod with ``readOnlyRootFilesystem: true`` and an emptyDir),
and checks that its operator takes an application to COMPLETED on the emulator.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import signal
import subprocess
import tarfile
import tomllib
from pathlib import Path
from typing import Any

from operator_harness import running_cluster, spark_pi

ROOT = Path(__file__).resolve().parents[2]
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


def project_version() -> str:
    """The version the image is tagged with (pyproject's)."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def _member(layout: tarfile.TarFile, name: str) -> Any:
    names = set(layout.getnames())
    # umoci's archive names members ./blobs/..., buildah's blobs/...
    found = name if name in names else name.removeprefix("./")
    member = layout.extractfile(found)
    assert member is not None, name
    return member


def _blob(layout: tarfile.TarFile, digest: str) -> Any:
    return _member(layout, f"./blobs/sha256/{digest.removeprefix('sha256:')}")


def manifest_of(layout: tarfile.TarFile, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    index = json.load(_member(layout, "./index.json"))
    (entry,) = index["manifests"]
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == version
    manifest = json.load(_blob(layout, entry["digest"]))
    config = json.load(_blob(layout, manifest["config"]["digest"]))
    return manifest, config


def unpack(image_tar: Path, rootfs: Path, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The layers applied in order into ``rootfs``; returns (manifest, config)."""
    rootfs.mkdir()
    with tarfile.open(image_tar) as layout:
        manifest, config = manifest_of(layout, version)
        for layer in manifest["layers"]:
            assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
            blob = _blob(layout, layer["digest"])
            # tar keeps numeric owners and modes (the image's user must own its home).
            subprocess.run(
                ["tar", "-xz", "--numeric-owner", "-C", str(rootfs)],
                input=blob.read(),
                check=True,
            )
    return manifest, config


def run_in_image(rootfs: Path, config: dict[str, Any], args: list[str]) -> list[str]:
    """The image's entrypoint as its user, in a read-only root with a tmpfs /tmp."""
    settings = config["config"]
    env = ["env", "-i", *settings.get("Env", []), "PATH=/usr/local/bin:/usr/bin:/bin"]
    user = settings["User"]
    inner = " && ".join(
        [
            f"mount --bind {rootfs} {rootfs}",
            f"mount -o remount,bind,ro {rootfs}",
            f"mount -t tmpfs -o size=64m tmpfs {rootfs}/tmp",
            f"mount --rbind /dev {rootfs}/dev",
            f"mount --rbind /proc {rootfs}/proc",
            'cp "$KUBECONFIG_SRC" ' + f"{rootfs}/tmp/kubeconfig",
            f"chmod 0644 {rootfs}/tmp/kubeconfig",
            "exec "
            + shlex.join(
                [*env, CHROOT, f"--userspec={user}", str(rootfs), *settings["Entrypoint"], *args]
            ),
        ]
    )
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-ec", inner]


def start_in_image(
    rootfs: Path, config: dict[str, Any], args: list[str], kubeconfig: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            run_in_image(rootfs, config, args),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "KUBECONFIG_SRC": str(kubeconfig)},
            start_new_session=True,
        )


async def operator_in_image_completes(
    rootfs: Path, config: dict[str, Any], emulator_factory: Any, log: Path, name: str
) -> None:
    """The image's operator, run as a pod would run it against an emulated 1.21, takes the
    SparkPi ``name`` to COMPLETED in one submission, then stops cleanly on SIGTERM."""
    async with running_cluster(emulator_factory, "1.21", operator=False) as cluster:
        args = ["operator", "--kubeconfig", "/tmp/kubeconfig", "--standalone"]
        args += ["--metrics-port", "0"]
        process = start_in_image(rootfs, config, args, cluster.kubeconfig, log)
        try:
            await cluster.create(spark_pi(name, run_seconds=2))
            done = await cluster.wait_state(name, "COMPLETED", within=90)
            assert done["status"]["submissionAttempts"] == 1
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            code = await asyncio.to_thread(process.wait, 30)
        written = await asyncio.to_thread(log.read_text)
        assert code == 0, written[-3000:]
