"""Small answers derived from the knowledge base and cached beside it are the knowledge base's:
which Spark releases kubespark models, how each release writes each kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubespark.errors import InputError
from kubespark.knowledge import load_knowledge
from kubespark.knowledge.scope import ModelledSpark, modelled_spark, unmodelled_spark
from kubespark.knowledge.write_methods import write_methods
from kubespark.versions import Version, parse_spark_version


def test_the_cached_scope_is_the_knowledge_bases_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBESPARK_CACHE", str(tmp_path))
    modelled_spark.cache_clear()  # memoised per process: this test reads its own cache
    built = modelled_spark()  # a miss: built from the knowledge base, written aside
    assert list((tmp_path / "knowledge").glob("modelled-spark-*.pickle"))
    modelled_spark.cache_clear()
    assert modelled_spark() == built == ModelledSpark.of(load_knowledge())  # read back
    modelled_spark.cache_clear()  # later tests read the user's cache again
    newest = load_knowledge().spark.releases
    assert (
        built.newest_minor is not None
        and f"{built.newest_minor[0]}.{built.newest_minor[1]}"
        in {".".join(r.split(".")[:2]) for r in newest}
    )
    for version, modelled in (
        ("3.0.0", True),
        ("3.5.1", True),
        ("2.4.8", False),
        ("9.0.0", False),
    ):
        assert (unmodelled_spark(parse_spark_version(version)) is None) == modelled, version


def _writes_from_the_knowledge_base(version: Version) -> dict[str, str]:
    kb = load_knowledge()
    for candidate in (version, version.minor_version):
        try:
            return dict(kb.spark_release(candidate).writes)
        except InputError:
            continue
    return {}


def test_write_methods_are_the_knowledge_bases() -> None:
    releases = load_knowledge().spark_releases
    others = ["3.5.99", "3.5", "2.4.8", "9.9.0", "4.0.0-preview2"]
    asked = [*releases, *(parse_spark_version(v) for v in others)]
    for version in asked:
        assert dict(write_methods(version)) == _writes_from_the_knowledge_base(version), version
    # Spark 3.5 applies its Service (the seed incompatibility); 3.4 creates it.
    assert write_methods(parse_spark_version("3.5.1"))["Service"] == "apply"
    assert write_methods(parse_spark_version("3.4.4"))["Service"] == "create"
