"""The knowledge base's disk cache: what a later process reads is what the data gives now."""

from __future__ import annotations

import pickle
from importlib import resources
from pathlib import Path

import pytest

from kubespark.knowledge import build_matrix, load_knowledge, load_knowledge_from
from kubespark.knowledge.disk_cache import cache_dir, data_digest, disk_cached
from kubespark.knowledge.matrix import compute_matrix


def test_a_second_call_reads_the_entry_without_building(tmp_path: Path) -> None:
    calls: list[int] = []

    def build() -> dict[str, int]:
        calls.append(1)
        return {"answer": 42}

    assert disk_cached("thing", build, directory=tmp_path) == {"answer": 42}
    assert disk_cached("thing", build, directory=tmp_path) == {"answer": 42}
    assert len(calls) == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"thing-{data_digest()}.pickle"]


def test_a_corrupt_entry_is_rebuilt_and_replaced(tmp_path: Path) -> None:
    entry = tmp_path / f"thing-{data_digest()}.pickle"
    entry.write_bytes(b"not a pickle")
    assert disk_cached("thing", lambda: [1, 2], directory=tmp_path) == [1, 2]
    assert pickle.loads(entry.read_bytes()) == [1, 2]


def test_an_unwritable_directory_only_costs_the_computation(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory should be")
    assert disk_cached("thing", lambda: "built", directory=blocker / "cache") == "built"


def test_entries_of_other_data_are_never_read(tmp_path: Path) -> None:
    (tmp_path / "thing-0123456789abcdef01234567.pickle").write_bytes(pickle.dumps("stale"))
    assert disk_cached("thing", lambda: "fresh", directory=tmp_path) == "fresh"


def test_cache_dir_follows_kubespark_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KUBESPARK_CACHE", str(tmp_path))
    assert cache_dir() == tmp_path / "knowledge"


def test_the_cached_matrix_and_knowledge_equal_fresh_ones() -> None:
    # build_matrix reads (or writes) the user's cache; compute_matrix evaluates now.
    assert build_matrix() == compute_matrix()
    cached = load_knowledge()
    fresh = load_knowledge_from(resources.files("kubespark.knowledge") / "data")
    fields = ("spark", "operators", "kubernetes", "kubespark", "issues")
    assert [getattr(cached, f) for f in fields] == [getattr(fresh, f) for f in fields]


def test_the_digest_reads_the_package_directory_as_importlib_resources_does() -> None:
    # data_digest walks the directory (importlib.resources costs start-up); a zipped install
    # goes through importlib.resources: both must see the same files and bytes.
    from kubespark.knowledge import disk_cache

    here = Path(disk_cache.__file__).parent
    by_path = sorted(disk_cache._files(here, "knowledge/"))
    by_resources = sorted(disk_cache._files(resources.files("kubespark.knowledge"), "knowledge/"))
    assert by_path == by_resources
    assert any(name.endswith(".yaml") for name, _ in by_path)
    assert not any("__pycache__" in name for name, _ in by_path)


def test_an_edited_data_file_changes_what_the_digest_hashes(tmp_path: Path) -> None:
    import shutil

    from kubespark.knowledge import disk_cache

    copy = tmp_path / "knowledge"
    shutil.copytree(Path(disk_cache.__file__).parent, copy)
    before = disk_cache._files(copy, "knowledge/")
    (copy / "data" / "spark.yaml").write_text("# edited\n", encoding="utf-8")
    assert disk_cache._files(copy, "knowledge/") != before
