"""The package itself: version, profiles, folders and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import marslib
from marslib import cli
from marslib.core import paths


def test_version_is_a_release_string() -> None:
    parts = marslib.__version__.split(".")
    assert len(parts) == 3 and all(p.isdigit() for p in parts)


@pytest.mark.parametrize("name", ["quick", "full", "QUICK", " full "])
def test_profile_by_argument(name: str) -> None:
    assert marslib.profile(name).name == name.strip().lower()


def test_profile_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARSLIB_PROFILE", "full")
    assert marslib.profile().name == "full"
    assert marslib.profile("quick").name == "quick", "an argument wins over the environment"


def test_auto_profile_follows_the_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("marslib.core.profiles.gpu_available", lambda: True)
    assert marslib.profile("auto").name == "full"
    monkeypatch.setattr("marslib.core.profiles.gpu_available", lambda: False)
    assert marslib.profile("auto").name == "quick"


def test_quick_is_smaller_than_full() -> None:
    quick, full = marslib.PROFILES["quick"], marslib.PROFILES["full"]
    assert quick.epochs < full.epochs and not quick.mixed_precision and full.mixed_precision


def test_unknown_profile_names_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="quick"):
        marslib.profile("fast")
    monkeypatch.setenv("MARSLIB_PROFILE", "gpu")
    with pytest.raises(ValueError, match=r"MARSLIB_PROFILE"):
        marslib.profile()


def test_folders_follow_the_environment(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARSLIB_RUNS", str(tmp_path / "r"))
    monkeypatch.setenv("MARSLIB_CACHE", str(tmp_path / "c"))
    assert paths.runs_dir() == tmp_path / "r" and paths.runs_dir().is_dir()
    assert paths.cache_dir() == tmp_path / "c" and paths.cache_dir().is_dir()


def test_cli_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for command in ("info", "bench"):
        assert command in out


def test_python_dash_m_marslib_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "marslib", "info", "--profile", "quick"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"marslib {marslib.__version__}" in result.stdout and "profile     quick" in result.stdout
    )


def test_bench_rejects_unknown_areas(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "nonsense"]) == 2
    assert "known areas" in capsys.readouterr().err


@pytest.mark.parametrize("variable", ["MARSLIB_RUNS", "MARSLIB_CACHE"])
@pytest.mark.parametrize("below", [False, True])
def test_a_folder_variable_naming_a_file_is_explained(
    tmp_path, monkeypatch: pytest.MonkeyPatch, variable: str, below: bool
) -> None:
    (tmp_path / "notes.txt").write_text("")
    given = tmp_path / "notes.txt" / "runs" if below else tmp_path / "notes.txt"
    monkeypatch.setenv(variable, str(given))
    folder = paths.runs_dir if variable == "MARSLIB_RUNS" else paths.cache_dir
    reason = "a part of it is a file" if below else "is a file, not a folder"
    with pytest.raises(ValueError, match=f"{variable}={given}.*{reason}.*point {variable} at a"):
        folder()


def test_errors_are_one_line_and_debug_shows_the_traceback(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("")
    environment = os.environ | {"MARSLIB_RUNS": str(tmp_path / "notes.txt")}
    environment.pop("MARSLIB_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "marslib", "info", "--profile", "quick"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"error: MARSLIB_RUNS={tmp_path / 'notes.txt'}, the folder for the training runs, is a "
        f"file, not a folder; point MARSLIB_RUNS at a writable folder (or unset it to use "
        f"{paths.REPO_ROOT / 'runs'})"
    )
    monkeypatch.setenv("MARSLIB_RUNS", str(tmp_path / "notes.txt"))
    with pytest.raises(ValueError, match="MARSLIB_RUNS"):  # the traceback is Python's own
        cli.main(["--debug", "info", "--profile", "quick"])
    monkeypatch.setenv("MARSLIB_DEBUG", "1")
    with pytest.raises(ValueError, match="MARSLIB_RUNS"):
        cli.main(["info", "--profile", "quick"])


def test_installing_marslib_keeps_the_installed_tensorflow_and_keras(tmp_path) -> None:
    """Colab's set-up, simulated: TensorFlow and Keras are already installed (here, this
    environment's), then the chapters' setup cell installs the book (``pip install -e <repo>``).
    pip's dry run must install marslib alone: with every dependency satisfied by what is there,
    nothing is replaced. Offline (``--no-index``): a requirement the installed packages do not
    meet fails to resolve, and so fails the test."""
    import json

    root = Path(__file__).resolve().parents[1]
    setup = (root / "notebooks" / "01_problem.md").read_text()
    assert '"pip", "install", "-q", "-e", "/content/mars-terrain-book"' in setup
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index"]
    command += ["--no-build-isolation", "--quiet", "--report", str(report), "-e", "."]
    found = subprocess.run(command, cwd=root, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr[-2000:]
    installed = {
        item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]
    }
    assert installed == {"marslib"}, f"the install would also change {installed - {'marslib'}}"
