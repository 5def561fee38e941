"""The cheap commands stay cheap under the default profile: listing the named runs, showing a
config, reading the reference records and ``--help`` import no TensorFlow, with
``$MARSLIB_PROFILE`` unset (so "auto") as well as set; and "auto" asks TensorFlow about a GPU only
where the machine shows a GPU device."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import marslib
from marslib.core import profiles

COMMANDS = {
    "help": ["--help"],
    "experiments-list": ["experiments", "list"],
    "experiments-show": ["experiments", "show", "final"],
    "references-table": ["experiments", "references"],
    "run-help": ["experiments", "run", "--help"],
}


def _imports_after(argv: list[str], profile: str | None) -> list[str]:
    """Run ``python -m marslib argv`` in a fresh interpreter; say whether it imported TensorFlow
    and Keras (two words, "True"/"False")."""
    script = (
        "import sys, contextlib, io\n"
        "from marslib import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        code = cli.main({argv!r})\n"
        "    except SystemExit as stop:\n"
        "        code = stop.code\n"
        "assert not code, code\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != profiles.ENV_VAR}
    if profile is not None:
        env[profiles.ENV_VAR] = profile
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert found.returncode == 0, found.stderr[-2000:]
    return found.stdout.split()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_cheap_commands_import_no_tensorflow_under_the_default_profile(name: str) -> None:
    assert _imports_after(COMMANDS[name], profile=None) == ["False", "False"]


@pytest.mark.parametrize("profile", ["auto", "full", "reference"])
def test_listing_imports_no_tensorflow_whatever_the_profile(profile: str) -> None:
    assert _imports_after(["experiments", "list"], profile=profile) == ["False", "False"]


def test_no_gpu_device_means_no_gpu_without_asking_tensorflow(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the device files are Linux's")
    assert not profiles.gpu_device_present(str(tmp_path))
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "nvidia0").touch()
    assert profiles.gpu_device_present(str(tmp_path))
    (tmp_path / "dev" / "nvidia0").unlink()
    (tmp_path / "dev" / "kfd").touch()
    assert profiles.gpu_device_present(str(tmp_path))


def test_auto_without_tensorflow_follows_the_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    def asked() -> bool:
        raise AssertionError("TensorFlow was asked")

    monkeypatch.setattr(profiles, "gpu_available", asked)
    monkeypatch.setattr(profiles, "gpu_device_present", lambda: True)
    assert marslib.profile("auto", ask_tensorflow=False).name == "full"
    monkeypatch.setattr(profiles, "gpu_device_present", lambda: False)
    assert marslib.profile("auto", ask_tensorflow=False).name == "quick"
    assert marslib.profile("reference", ask_tensorflow=False).name == "reference"


def test_gpu_available_without_a_device_imports_no_tensorflow() -> None:
    script = (
        "import sys\nfrom marslib.core import profiles\n"
        "profiles.gpu_device_present = lambda: False\n"
        "print(profiles.gpu_available(), 'tensorflow' in sys.modules)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["False", "False"], found.stderr[-2000:]
