"""Every cache kubespark keeps on disk follows one rule (``kubespark.usercache``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubespark import picklecache, sparkdist
from kubespark.cli import entry
from kubespark.kube import discovery_cache


def _cache_dirs() -> dict[str, Path]:
    return {
        "pyspark": sparkdist.cache_root(),
        "cli": Path(entry.cache_dir()),
        "discovery": discovery_cache.cache_file("https://10.0.0.1:6443").parent,
        "knowledge": picklecache.user_cache_dir("knowledge"),
    }


def test_kubespark_cache_moves_every_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBESPARK_CACHE", str(tmp_path / "ks"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache_dirs() == {part: tmp_path / "ks" / part for part in _cache_dirs()}


def test_without_it_the_caches_live_in_the_users_cache_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBESPARK_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _cache_dirs() == {part: tmp_path / "xdg" / "kubespark" / part for part in _cache_dirs()}
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    home = tmp_path / "home" / ".cache" / "kubespark"
    assert _cache_dirs() == {part: home / part for part in _cache_dirs()}
