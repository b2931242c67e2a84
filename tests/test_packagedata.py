"""kubespark.packagedata: a package's data files, from its directory or through importlib."""

from __future__ import annotations

import zipfile
from importlib import resources
from pathlib import Path

import kubespark.apisurface
from kubespark.packagedata import package_files


def test_a_package_on_disk_is_read_from_its_directory() -> None:
    found = package_files(kubespark.apisurface.__file__, "kubespark.apisurface")
    assert found == Path(kubespark.apisurface.__file__).parent
    assert (found / "data" / "behaviours.yaml").read_text() == (
        resources.files("kubespark.apisurface") / "data" / "behaviours.yaml"
    ).read_text()


def test_a_zipped_package_is_read_through_importlib_resources(tmp_path: Path) -> None:
    archive = tmp_path / "kubespark.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("kubespark/upgrade/__init__.py", "")
    inside_zip = str(archive / "kubespark" / "upgrade" / "__init__.py")  # not a directory
    found = package_files(inside_zip, "kubespark.upgrade")
    assert not isinstance(found, Path) or found != Path(inside_zip).parent
    assert (found / "data" / "policy.yaml").read_text() == (
        resources.files("kubespark.upgrade") / "data" / "policy.yaml"
    ).read_text()
