"""marslib.core.paths.shown: paths as a chapter prints them, with no folder of the build machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from marslib.core import paths


@pytest.fixture(autouse=True)
def _no_folder_variables(monkeypatch) -> None:
    monkeypatch.delenv("MARSLIB_RUNS", raising=False)
    monkeypatch.delenv("MARSLIB_CACHE", raising=False)


def test_a_path_inside_the_repository_is_relative_to_it() -> None:
    inside = paths.REPO_ROOT / "runs" / "submissions" / "a.csv"
    assert paths.shown(inside) == "runs/submissions/a.csv"
    assert paths.shown(paths.REPO_ROOT) == "."
    assert paths.shown(paths.runs_dir()) == "runs"


def test_a_moved_folder_is_named_by_its_variable(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MARSLIB_RUNS", str(tmp_path / "runs"))
    assert paths.shown(paths.runs_dir()) == "$MARSLIB_RUNS"
    assert paths.shown(tmp_path / "runs" / "x" / "y.csv") == "$MARSLIB_RUNS/x/y.csv"
    monkeypatch.setenv("MARSLIB_CACHE", str(tmp_path / "cache"))
    assert paths.shown(paths.cache_dir() / "set.npz") == "$MARSLIB_CACHE/set.npz"


def test_elsewhere_only_home_or_the_last_part_is_shown(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))  # Path.home() on Windows
    assert paths.shown(tmp_path / "home" / "data" / "mars.npz") == "~/data/mars.npz"
    outside = tmp_path / "elsewhere" / "mars.npz"
    assert paths.shown(outside) == ".../mars.npz"
    assert str(tmp_path) not in paths.shown(outside)


def test_no_shown_path_is_absolute(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MARSLIB_RUNS", str(tmp_path / "runs"))
    for path in (paths.REPO_ROOT / "a", tmp_path / "runs" / "b", Path("/"), tmp_path / "c"):
        assert not Path(paths.shown(path)).is_absolute(), path
    assert paths.shown("relative/already.csv") == "relative/already.csv"
