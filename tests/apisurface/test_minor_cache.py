"""kubespark.apisurface.minor_cache: a minor's decoded surface kept on disk, never stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubespark.apisurface import load
from kubespark.apisurface.minor_cache import cached_minor


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBESPARK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "apisurface"


def _counting(value: object) -> tuple[list[int], object]:
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        return value

    return calls, build


def _sources(tmp_path: Path) -> tuple[Path, ...]:
    source = tmp_path / "types.json"
    source.write_text('{"a": 1}')
    return (source,)


def test_a_minor_read_back_equals_the_one_built(cache: Path) -> None:
    built = load._build_minor(1, 29)
    data = load._data_dir()
    sources = (data / "types.json", data / "versions" / "1.29.json")
    calls, build = _counting(built)
    first = cached_minor("1.29", sources, build)
    second = cached_minor("1.29", sources, build)
    assert calls == [1]  # the second came from the disk
    assert first is built and second is not built
    assert second == built
    pod = second[2]["io.k8s.api.core.v1.Pod"]
    assert pod == built[2]["io.k8s.api.core.v1.Pod"]
    assert isinstance(pod.properties, type(built[2]["io.k8s.api.core.v1.Pod"].properties))
    assert len(list(cache.glob("minor-1.29-*.pickle"))) == 1


def test_changed_data_misses_the_cache(cache: Path, tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    calls, build = _counting({"n": 1})
    cached_minor("x", sources, build)
    sources[0].write_text('{"a": 2}')
    cached_minor("x", sources, build)
    cached_minor("x", sources, build)
    assert calls == [1, 1]
    assert len(list(cache.glob("minor-x-*.pickle"))) == 2


def test_a_corrupt_entry_is_rebuilt(cache: Path, tmp_path: Path) -> None:
    sources = _sources(tmp_path)
    calls, build = _counting({"n": 1})
    cached_minor("x", sources, build)
    (entry,) = cache.glob("minor-x-*.pickle")
    entry.write_bytes(b"not a pickle")
    assert cached_minor("x", sources, build) == {"n": 1}
    assert calls == [1, 1]


def test_an_unwritable_cache_only_costs_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("KUBESPARK_CACHE", str(blocker))  # its apisurface/ cannot be made
    calls, build = _counting({"n": 1})
    sources = _sources(tmp_path)
    assert cached_minor("x", sources, build) == cached_minor("x", sources, build) == {"n": 1}
    assert calls == [1, 1]


def test_a_missing_source_leaves_the_error_to_the_build(cache: Path, tmp_path: Path) -> None:
    calls, build = _counting({"n": 1})
    assert cached_minor("x", (tmp_path / "absent.json",), build) == {"n": 1}
    assert calls == [1]
    assert not cache.exists()
