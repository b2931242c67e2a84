"""The operator image (``./dev image``) runs the operator as its users' clusters would.

The image is built without Docker (``deploy/image/build.sh``) into an OCI layout tarball; the test
unpacks its layers in order, then runs the image's own entrypoint, user, environment and working
directory (from its config) in a chroot whose root filesystem is mounted read-only, with a tmpfs
on /tmp (as a pod with ``readOnlyRootFilesystem: true`` and an emptyDir would). That operator,
outside the test's Python, takes a SparkApplication on the emulator to COMPLETED.
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from operator_harness import running_cluster, spark_pi

# One test process builds dist/'s image and runs these (./dev test runs --dist loadgroup).
pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.xdist_group("image")]

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "deploy" / "image" / "build.sh"
CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"


def _version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def _newest_input() -> float:
    """When the image's inputs last changed (a tarball older than that is rebuilt)."""
    inputs = [*(ROOT / "src").rglob("*"), ROOT / "pyproject.toml", ROOT / "constraints.txt", BUILD]
    return max(p.stat().st_mtime for p in inputs if p.is_file())


@pytest.fixture(scope="module")
def image_tar() -> Path:
    """The image tarball: $KUBESPARK_IMAGE, else ``dist/``'s, built if missing or stale."""
    if os.environ.get("KUBESPARK_IMAGE"):
        return Path(os.environ["KUBESPARK_IMAGE"])
    if os.geteuid() != 0:
        pytest.skip("building and chrooting into the image needs root (CI runs as root)")
    out = ROOT / "dist" / f"kubespark-{_version()}.oci.tar"
    if not out.exists() or out.stat().st_mtime < _newest_input():
        subprocess.run([str(BUILD), str(out)], check=True, timeout=900, cwd=ROOT)
    return out


def _member(layout: tarfile.TarFile, name: str) -> Any:
    member = layout.extractfile(name)
    assert member is not None, name
    return member


def _blob(layout: tarfile.TarFile, digest: str) -> Any:
    return _member(layout, f"./blobs/sha256/{digest.removeprefix('sha256:')}")


def _manifest(layout: tarfile.TarFile) -> tuple[dict[str, Any], dict[str, Any]]:
    index = json.load(_member(layout, "./index.json"))
    (entry,) = index["manifests"]
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == _version()
    manifest = json.load(_blob(layout, entry["digest"]))
    config = json.load(_blob(layout, manifest["config"]["digest"]))
    return manifest, config


@pytest.fixture(scope="module")
def unpacked(image_tar: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """(rootfs, manifest, config): the layers applied in order, as a container runtime does."""
    rootfs = tmp_path_factory.mktemp("image") / "rootfs"
    rootfs.mkdir()
    with tarfile.open(image_tar) as layout:
        manifest, config = _manifest(layout)
        for layer in manifest["layers"]:
            assert layer["mediaType"] == "application/vnd.oci.image.layer.v1.tar+gzip"
            blob = _blob(layout, layer["digest"])
            # tar keeps numeric owners and modes (the image's user must own its home).
            subprocess.run(
                ["tar", "-xz", "--numeric-owner", "-C", str(rootfs)],
                input=blob.read(),
                check=True,
            )
    yield rootfs, manifest, config


def test_the_image_is_small_non_root_and_layered(unpacked: Any) -> None:
    rootfs, manifest, config = unpacked
    settings = config["config"]
    assert settings["Entrypoint"] == ["/usr/local/bin/kubespark"]
    assert settings["User"] == "65532:65532"
    # base runtime, pinned dependencies, kubespark: a code change rebuilds only the last layer
    assert [h.get("created_by", "").split()[0] for h in config["history"][:3]] == [
        "mmdebstrap",
        "pip",
        "kubespark",
    ]
    assert len(manifest["layers"]) == 3
    uncompressed = sum(p.lstat().st_size for p in rootfs.rglob("*") if p.is_file())
    assert uncompressed < 150 * 2**20, f"the image grew to {uncompressed / 2**20:.0f} MB"
    assert (rootfs / "home/kubespark").stat().st_uid == 65532
    assert not (rootfs / "bin/sh").exists()  # no shell: nothing to exec into but kubespark


def _run_in_image(rootfs: Path, config: dict[str, Any], args: list[str]) -> list[str]:
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


def test_the_image_answers_help_on_a_read_only_root(unpacked: Any) -> None:
    rootfs, _manifest, config = unpacked
    command = _run_in_image(rootfs, config, ["--help"])
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KUBECONFIG_SRC": "/dev/null"},
    )
    assert done.returncode == 0, done.stderr
    assert "operator" in done.stdout


def _start_in_image(
    rootfs: Path, config: dict[str, Any], args: list[str], kubeconfig: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            _run_in_image(rootfs, config, args),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "KUBECONFIG_SRC": str(kubeconfig)},
            start_new_session=True,
        )


async def test_the_image_runs_an_application_to_completed(
    unpacked: Any, emulator_factory: Any, tmp_path: Path
) -> None:
    rootfs, _manifest, config = unpacked
    async with running_cluster(emulator_factory, "1.21", operator=False) as cluster:
        args = ["operator", "--kubeconfig", "/tmp/kubeconfig", "--standalone"]
        args += ["--metrics-port", "0"]
        log = tmp_path / "operator.log"
        process = _start_in_image(rootfs, config, args, cluster.kubeconfig, log)
        try:
            await cluster.create(spark_pi("in-image", run_seconds=2))
            done = await cluster.wait_state("in-image", "COMPLETED", within=90)
            assert done["status"]["submissionAttempts"] == 1
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            code = await asyncio.to_thread(process.wait, 30)
        assert code == 0, log.read_text()[-3000:]
