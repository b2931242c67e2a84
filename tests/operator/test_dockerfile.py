"""deploy/image/Dockerfile builds, and the operator it makes runs an application to COMPLETED.

No registry is reachable here, so ``deploy/image/build-dockerfile.sh`` gives the Dockerfile's
``BASE`` argument a Debian bookworm made by mmdebstrap and imported into buildah, then builds the
Dockerfile unchanged with ``buildah build`` (its apt-get and pip steps run as written). The image
is run as ``./dev image``'s is (``image_harness``): its own entrypoint and user on a read-only root.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from image_harness import ROOT, operator_in_image_completes, project_version, unpack

pytestmark = [pytest.mark.image, pytest.mark.slow, pytest.mark.xdist_group("image")]

BUILD = ROOT / "deploy" / "image" / "build-dockerfile.sh"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    if os.geteuid() != 0:
        pytest.skip("buildah's chroot isolation and the chroot run need root (CI runs as root)")
    out = tmp_path_factory.mktemp("dockerfile") / "image.oci.tar"
    subprocess.run([str(BUILD), str(out)], check=True, timeout=1800, cwd=ROOT)
    rootfs = out.parent / "rootfs"
    _manifest, config = unpack(out, rootfs, project_version())
    return rootfs, config


def test_the_dockerfile_image_is_non_root_with_kubespark_as_entrypoint(
    built: tuple[Path, dict[str, Any]],
) -> None:
    rootfs, config = built
    settings = config["config"]
    assert settings["Entrypoint"] == ["/usr/local/bin/kubespark"]
    assert settings["Cmd"] == ["operator"]
    assert settings["User"] == "65532:65532"
    assert (rootfs / "opt/kubespark/lib/kubespark/__init__.py").is_file()
    assert not (rootfs / "usr/bin/pip").exists()  # pip stayed in the build stage


async def test_the_dockerfile_image_runs_an_application_to_completed(
    built: tuple[Path, dict[str, Any]], emulator_factory: Any, tmp_path: Path
) -> None:
    rootfs, config = built
    log = tmp_path / "operator.log"
    await operator_in_image_completes(rootfs, config, emulator_factory, log, "from-dockerfile")
