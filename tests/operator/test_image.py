"""The operator image (``./dev image``) runs the operator as its users' clusters would.

The image is built without Docker (``deploy/image/build.sh``) into an OCI layout tarball; the test
unpacks its layers in order, then runs the image's own entrypoint, user, environment and working
directory (from its config) in a chroot whose root filesystem is mounted read-only, with a tmpfs
on /tmp (as a pod with ``readOnlyRootFilesystem: true`` and an emptyDir would). That operator,
outside the test's Python, takes a SparkApplication on the emulator to COMPLETED.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from image_harness import ROOT, operator_in_image_completes, project_version, run_in_image, unpack

# One test process builds dist/'s image and runs these (./dev test runs --dist loadgroup).
pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.xdist_group("image")]

BUILD = ROOT / "deploy" / "image" / "build.sh"


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
    out = ROOT / "dist" / f"kubespark-{project_version()}.oci.tar"
    if not out.exists() or out.stat().st_mtime < _newest_input():
        subprocess.run([str(BUILD), str(out)], check=True, timeout=900, cwd=ROOT)
    return out


@pytest.fixture(scope="module")
def unpacked(image_tar: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """(rootfs, manifest, config): the layers applied in order, as a container runtime does."""
    rootfs = tmp_path_factory.mktemp("image") / "rootfs"
    manifest, config = unpack(image_tar, rootfs, project_version())
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


def test_the_image_answers_help_on_a_read_only_root(unpacked: Any) -> None:
    rootfs, _manifest, config = unpacked
    command = run_in_image(rootfs, config, ["--help"])
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KUBECONFIG_SRC": "/dev/null"},
    )
    assert done.returncode == 0, done.stderr
    assert "operator" in done.stdout


async def test_the_image_runs_an_application_to_completed(
    unpacked: Any, emulator_factory: Any, tmp_path: Path
) -> None:
    rootfs, _manifest, config = unpacked
    log = tmp_path / "operator.log"
    await operator_in_image_completes(rootfs, config, emulator_factory, log, "in-image")
