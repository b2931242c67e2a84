"""Version strings as real inputs spell them."""

from __future__ import annotations

import pytest

from kubespark.errors import VersionError
from kubespark.versions import (
    Coverage,
    Version,
    VersionRange,
    parse_kube_version,
    parse_operator_version,
    parse_spark_version,
    spark_version_from_image,
)


@pytest.mark.parametrize(
    ("text", "expected", "vendor"),
    [
        ("v1.19.16-eks-25803e", Version(1, 19, 16), "-eks-25803e"),
        ("1.20.4-gke.2200", Version(1, 20, 4), "-gke.2200"),
        ("v1.27.3+k3s1", Version(1, 27, 3), "+k3s1"),
        ("1.19", Version(1, 19), ""),
        ("v1.21.0", Version(1, 21, 0), ""),
    ],
)
def test_kube_versions_as_vendors_spell_them(text: str, expected: Version, vendor: str) -> None:
    parsed = parse_kube_version(text)
    assert parsed == expected
    assert parsed.vendor == vendor


@pytest.mark.parametrize("text", ["1.x", "banana", "2.19", "", "1", "v1.19.x"])
def test_bad_kube_versions_name_the_input_and_the_fix(text: str) -> None:
    with pytest.raises(VersionError) as err:
        parse_kube_version(text)
    assert repr(text) in err.value.message
    assert err.value.fix and "1.19" in err.value.fix


def test_minor_only_sorts_before_its_patches() -> None:
    assert Version(1, 20) < Version(1, 20, 0) < Version(1, 20, 6) < Version(1, 21)
    assert Version(1, 20, 6).minor_version == Version(1, 20)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("apache/spark:3.5.1-scala2.12-java17-python3-ubuntu", Version(3, 5, 1)),
        ("spark:3.5.0", Version(3, 5, 0)),
        ("gcr.io/spark-operator/spark:v3.1.1", Version(3, 1, 1)),
        ("registry.local:5000/team/spark:4.0.0-java21", Version(4, 0, 0)),
        ("my-spark:latest", None),
        ("apache/spark@sha256:abcdef", None),
        ("registry.local:5000/spark", None),
    ],
)
def test_spark_version_from_image_tag(image: str, expected: Version | None) -> None:
    assert spark_version_from_image(image) == expected


def test_spark_versions() -> None:
    assert parse_spark_version("3.5.1") == Version(3, 5, 1)
    assert parse_spark_version("4.0.0-preview2").vendor == "-preview2"
    with pytest.raises(VersionError, match="banana"):
        parse_spark_version("banana")


@pytest.mark.parametrize(
    ("text", "release", "spark"),
    [
        ("v1beta2-1.6.2-3.5.0", Version(1, 6, 2), Version(3, 5, 0)),
        ("v2.1.0", Version(2, 1, 0), None),
        ("ghcr.io/kubeflow/spark-operator/controller:2.1.0", Version(2, 1, 0), None),
        (
            "gcr.io/spark-operator/spark-operator:v1beta2-1.3.8-3.1.1",
            Version(1, 3, 8),
            Version(3, 1, 1),
        ),
    ],
)
def test_operator_tags(text: str, release: Version, spark: Version | None) -> None:
    op = parse_operator_version(text)
    assert (op.release, op.bundled_spark) == (release, spark)


def test_operator_tag_garbage_is_an_input_error() -> None:
    with pytest.raises(VersionError, match="spark-operator"):
        parse_operator_version("latest")


def test_range_with_backport_boundary() -> None:
    protocol_missing = VersionRange.parse(">=1.16,<1.20.6")
    assert protocol_missing.contains(Version(1, 20, 2))
    assert not protocol_missing.contains(Version(1, 20, 6))
    assert protocol_missing.coverage(Version(1, 20)) is Coverage.SOME
    assert protocol_missing.coverage(Version(1, 19)) is Coverage.ALL
    assert protocol_missing.coverage(Version(1, 21)) is Coverage.NONE


def test_range_minor_bounds_read_as_people_write_them() -> None:
    assert VersionRange.parse("<=1.20").contains(Version(1, 20, 9))
    assert not VersionRange.parse("<=1.20").contains(Version(1, 21, 0))
    assert VersionRange.parse("==3.5").contains(Version(3, 5, 7))
    assert VersionRange.parse("").contains(Version(9, 9, 9))


def test_bad_range_clause() -> None:
    with pytest.raises(VersionError, match="not a version clause"):
        VersionRange.parse(">=banana")
