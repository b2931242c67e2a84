"""The official Python clients' own e2e suites, unmodified, against emulated 1.19 and 1.29.

Two clients: the official ``kubernetes`` (suites ``kubernetes/e2e_test`` and
``kubernetes/aio/e2e_test``) and ``kubernetes_asyncio`` (``kubernetes_asyncio/e2e_test``). The
suites ship in neither wheel nor sdist, so they come from a local clone or mirror of each
client's repository (CI cannot reach GitHub): ``KUBESPARK_CLIENT_E2E_REPO`` for the official
client, ``KUBESPARK_ASYNCIO_E2E_REPO`` for kubernetes_asyncio, each at the tag of the pinned
client unless ``..._REF`` names another (a branch, a commit). Without a mirror the test skips
and says which variable to set. Only the suites' folders are checked out (a sparse clone: a
mirror may lack the repository's largest files). They import themselves as
``<package>.e2e_test``: a conftest in the scratch directory appends the checked-out folders to
the installed package's ``__path__``. Every test must pass except the ones that need a real
container runtime and, on 1.19, those where that version's real answers trip today's client
(listed with the reasons); the counts are in docs/emulator.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import kubernetes
import kubernetes_asyncio
import pytest

from kubespark.emulator.testing import RunningEmulator

pytestmark = [pytest.mark.slow]


@dataclass(frozen=True)
class ClientSuites:
    """One client's e2e suites: where they live and which failures are expected."""

    package: str
    upstream: str
    repo_variable: str
    default_ref: str
    suites: tuple[str, ...]
    # Tests that cannot pass against any emulator (they need a real container runtime).
    needs_containers: frozenset[str] = frozenset()
    # Per emulated minor: tests that fail because that version itself answers differently.
    the_version_differs: tuple[tuple[str, frozenset[str]], ...] = ()

    @property
    def ref_variable(self) -> str:
        return self.repo_variable.removesuffix("_REPO") + "_REF"

    def allowed(self, version: str) -> frozenset[str]:
        differs = (names for minor, names in self.the_version_differs if minor == version)
        return self.needs_containers.union(*differs)

    def conftest(self) -> str:
        overlays = [f"import {self.package}"]
        for suite in self.suites:
            package = suite.removesuffix("/e2e_test").replace("/", ".")
            if package != self.package:
                overlays.append(f"import {package}")
            overlays.append(
                f"{package}.__path__.append(str(_here / {suite.removesuffix('/e2e_test')!r}))"
            )
        head = "import pathlib\n_here = pathlib.Path(__file__).parent\n"
        return head + "\n".join(overlays) + "\n"


OFFICIAL = ClientSuites(
    package="kubernetes",
    upstream="https://github.com/kubernetes-client/python",
    repo_variable="KUBESPARK_CLIENT_E2E_REPO",
    default_ref=f"v{kubernetes.__version__}",
    suites=("kubernetes/e2e_test", "kubernetes/aio/e2e_test"),
    # Port-forward to a busybox/nginx container the test starts: the simulated kubelet runs no
    # container, so the tunnel is refused as to a port nobody listens on.
    needs_containers=frozenset({"test_portforward_http", "test_portforward_raw"}),
    # Where 1.19 itself answers differently and today's client trips over it (docs/emulator.md):
    # DELETE of a Service returns a Status up to 1.22, which the client reads as a V1Service; an
    # apply of container ports without `protocol` is a 500 before 1.20 (kubernetes issue 92332).
    the_version_differs=(
        (
            "1.19",
            frozenset(
                {
                    "test_service_apis",
                    "test_create_service_from_yaml",
                    "test_create_from_multi_resource_yaml",
                    "test_create_from_multi_resource_yaml_with_conflict",
                    "test_create_general_list_from_yaml",
                    "test_create_implicit_service_list_from_yaml_with_conflict",
                    "test_create_multi_resource_from_directory",
                    "test_create_apps_deployment_from_yaml_with_apply_is_idempotent",
                }
            ),
        ),
    ),
)
ASYNCIO = ClientSuites(
    package="kubernetes_asyncio",
    upstream="https://github.com/tomplus/kubernetes_asyncio",
    repo_variable="KUBESPARK_ASYNCIO_E2E_REPO",
    default_ref=kubernetes_asyncio.__version__,  # its tags carry no "v"
    suites=("kubernetes_asyncio/e2e_test",),
)
CLIENTS = {"kubernetes": OFFICIAL, "kubernetes_asyncio": ASYNCIO}


def checkout(client: ClientSuites, root: Path) -> Path:
    """A scratch directory holding the client's suites and the conftest that mounts them."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = os.environ.get(client.repo_variable, "")
    if not repo:
        pytest.skip(
            f"{client.repo_variable} is not set: point it at a local clone or mirror of "
            f"{client.upstream} (CI cannot reach GitHub) to run {client.package}'s e2e suites"
        )
    ref = os.environ.get(client.ref_variable, client.default_ref)
    clone = root / "repo"
    cmd = ["git", "clone", "-q", "--depth", "1", "--branch", ref, "--filter=blob:none"]
    fetched = subprocess.run(
        [*cmd, "--sparse", repo, str(clone)], capture_output=True, text=True, timeout=300
    )
    if fetched.returncode != 0 and not (clone / ".git").is_dir():
        why = fetched.stderr[-400:]
        pytest.fail(f"cannot clone {repo} at {ref} ({client.ref_variable}): {why}")
    subprocess.run(
        ["git", "-C", str(clone), "sparse-checkout", "set", *client.suites],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    # Only the suites' folders: the clone's own package __init__.py must not shadow the
    # installed client (a folder without one is a namespace portion, which a package beats).
    work = root / "work"
    for suite in client.suites:
        if (clone / suite).is_dir():
            (work / suite).parent.mkdir(parents=True, exist_ok=True)
            (work / suite).symlink_to(clone / suite)
    (work / "conftest.py").write_text(client.conftest())
    return work


@pytest.fixture(scope="module", params=sorted(CLIENTS))
def client_suites(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ClientSuites, Path]:
    client = CLIENTS[request.param]
    return client, checkout(client, tmp_path_factory.mktemp(client.package))


def failures(report: Path) -> tuple[int, set[str]]:
    """How many tests the junit report holds, and the names of those that failed."""
    cases = list(ET.parse(report).iter("testcase"))
    failed = {
        str(case.get("name"))
        for case in cases
        if any(child.tag in ("failure", "error") for child in case)
    }
    return len(cases), failed


@pytest.mark.parametrize("version", ["1.19", "1.29"])
def test_the_clients_e2e_suites_pass(
    client_suites: tuple[ClientSuites, Path],
    emulator_factory: Callable[..., RunningEmulator],
    version: str,
) -> None:
    client, work = client_suites
    present = [suite for suite in client.suites if (work / suite).is_dir()]
    assert present, f"none of {client.suites} is in the checkout"
    emu = emulator_factory(version, speed=20.0)
    env = {**os.environ, "KUBECONFIG": str(emu.kubeconfig_path)}
    unexpected: dict[str, list[str]] = {}
    for suite in present:  # one run each: the suites share module names (test_api, ...)
        report = work / f"{version}-{suite.replace('/', '_')}.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull]
        cmd += ["--rootdir", str(work), "-W", "ignore", "-n", "0", "--junitxml", str(report)]
        ran = subprocess.run(
            [*cmd, suite], cwd=work, env=env, capture_output=True, text=True, timeout=1200
        )
        assert report.is_file(), ran.stdout[-2000:] + ran.stderr[-2000:]
        count, failed = failures(report)
        assert count, ran.stdout[-2000:]
        if extra := failed - client.allowed(version):
            unexpected[suite] = sorted(extra)
    assert not unexpected, unexpected
