"""The Spark version a SparkApplication (or scheduled one) file runs, and where it says so.

Owns reading a file for ``kubespark check -f``: the kind decides the model, the file is loaded
and validated as a submission would load it (so a malformed application is reported the same
way: field path, ``file:line``, fix), and ``sparkVersion`` must agree with the image's tag. It
judges no compatibility, but names the fields set in the file that the Spark driver of that
release overwrites in executors (``executor_fidelity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from kubespark import bounded, records
from kubespark.errors import InputError
from kubespark.spark.executor_fidelity import ExecutorFieldLost, executor_fields_lost
from kubespark.spark.loading import (
    ApplicationError,
    load_application,
    load_scheduled_application,
    spark_version_of,
)
from kubespark.spark.model import SparkApplicationSpec
from kubespark.versions import Version, spark_version_from_image

__all__ = ["AppVersions", "read_spark_application"]


@dataclass(frozen=True)
class AppVersions:
    """The versions a SparkApplication names, with where each came from (``app.yaml:7``)."""

    spark: Version
    origin: str
    # fields set in the application that this Spark's driver overwrites in executors
    executor_fields_lost: tuple[ExecutorFieldLost, ...] = ()


def read_spark_application(path: Path) -> AppVersions:
    """The Spark a SparkApplication (or ScheduledSparkApplication) file runs.

    The file is read and validated by :mod:`kubespark.spark.loading`, so ``check -f`` reports a
    malformed application exactly as submitting it would (field path, ``file:line``, fix).
    """
    try:
        spec, where = _load_spec(path)
        version = spark_version_of(spec, where=where)
    except ApplicationError as err:  # the loader names the field; say which file it is in
        problems = [p._replace(where=_in_file(path, p.where)) for p in err.problems]
        raise ApplicationError(problems) from None
    from_image = spark_version_from_image(spec.image) if spec.image else None
    if spec.spark_version and from_image and from_image != version:
        raise InputError(
            f"sparkVersion {version} disagrees with the image {spec.image!r}",
            where=f"{path}: {where}.sparkVersion",
            fix="make sparkVersion the Spark release in the image",
        )
    raw = records.encode(spec)
    return AppVersions(version, f"{path}: {where}", executor_fields_lost(raw, version))


def _load_spec(path: Path) -> tuple[SparkApplicationSpec, str]:
    if _kind_of(path) == "ScheduledSparkApplication":
        return load_scheduled_application(path).spec.template, "spec.template"
    return load_application(path).spec, "spec"


def _in_file(path: Path, where: str) -> str:
    return where if where.startswith(str(path)) else f"{path}: {where}"


def _kind_of(path: Path) -> str | None:
    # Only to pick the model; syntax errors are left for the loader to report with file:line.
    try:
        documents = [d for d, _ in bounded.load_all(bounded.read_text(path), str(path))]
    except (OSError, InputError, yaml.YAMLError):
        return None
    kinds = {d.get("kind") for d in documents if isinstance(d, dict)}
    scheduled = "ScheduledSparkApplication" in kinds and "SparkApplication" not in kinds
    return "ScheduledSparkApplication" if scheduled else None
