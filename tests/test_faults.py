"""Faults: kills, Ctrl-C, damaged caches, full or read-only disks and bad input end in one clear
line from the command line, never in a traceback, and never in a half-written file.

The submission CSV's own faults (full disk, kills while writing, unwritable paths, row numbers)
are tested in test_submission.py; the folder variables in test_package.py.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from interrupts import default_interrupt

from marslib import cli, datasets
from marslib.commands import info
from marslib.data import MarsData, synthetic
from marslib.training import registry


def _tiny_data(test_masks: bool) -> MarsData:
    """30 training and 4 test images of noise, as if read from a file."""
    rng = np.random.default_rng(0)
    return MarsData(
        train_images=rng.integers(0, 256, (30, 64, 128), dtype=np.uint8),
        train_masks=rng.integers(0, 5, (30, 64, 128), dtype=np.uint8),
        test_images=rng.integers(0, 256, (4, 64, 128), dtype=np.uint8),
        test_masks=rng.integers(0, 5, (4, 64, 128), dtype=np.uint8) if test_masks else None,
        source="tiny.npz",
    )


def _fail_with(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Make the `info` command raise `error`."""

    def fail(args: object) -> int:
        raise error

    monkeypatch.setattr(info, "run", fail)


def _last_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.endswith("\n")
    return err.splitlines()[-1]


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/runs/unet-1/model.keras"),
            1,
            "error: /runs/unet-1/model.keras: No space left on device; free some space or write "
            "elsewhere, then run the command again",
        ),
        (  # a read-only runs folder
            PermissionError(errno.EACCES, "Permission denied", "/runs/unet-1"),
            1,
            "error: /runs/unet-1: Permission denied; make it writable, or choose another path "
            "(MARSLIB_RUNS, MARSLIB_CACHE and --runs-dir move marslib's folders)",
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/runs/unet-1"),
            1,
            "error: /runs/unet-1: Read-only file system; choose another path "
            "(MARSLIB_RUNS, MARSLIB_CACHE and --runs-dir move marslib's folders)",
        ),
        (
            IsADirectoryError(errno.EISDIR, "Is a directory", "data.npz"),
            2,
            "error: data.npz: Is a directory; a folder was given where a file is expected: "
            "give the path of a file",
        ),
        (
            FileNotFoundError("no data file at data.npz"),
            2,
            "error: no data file at data.npz",
        ),
        (
            ValueError("unknown model 'unet2';\nknown models: ['unet']"),
            2,
            "error: unknown model 'unet2'; known models: ['unet']",
        ),
        (
            RuntimeError("Graph execution error:\n  something deep in TensorFlow"),
            1,
            "error: RuntimeError: Graph execution error: something deep in TensorFlow "
            "(unexpected; rerun with --debug or MARSLIB_DEBUG=1 for the full traceback)",
        ),
    ],
)
def test_every_error_ends_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
    code: int,
    line: str,
) -> None:
    monkeypatch.delenv("MARSLIB_DEBUG", raising=False)
    _fail_with(monkeypatch, error)
    assert cli.main(["info"]) == code
    assert capsys.readouterr().err == line + "\n"
    with pytest.raises(type(error)):
        cli.main(["--debug", "info"])


def _no_loading(*args: object) -> None:
    raise AssertionError("the data should not be loaded")


def test_a_folder_given_as_a_file_is_explained(
    folders: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = folders
    monkeypatch.delenv("MARSLIB_DEBUG", raising=False)
    monkeypatch.setattr("marslib.data.load", _no_loading)
    (tmp_path / "more.yaml").mkdir()
    assert cli.main(["experiments", "run", "--config", str(tmp_path / "more.yaml")]) == 2
    assert _last_line(capsys) == (
        f"error: {tmp_path / 'more.yaml'}: Is a directory; a folder was given where a file is "
        "expected: give the path of a file"
    )
    assert cli.main(["score", str(tmp_path)]) == 2
    assert _last_line(capsys).startswith(f"error: {tmp_path}: Is a directory;")


def test_non_utf8_files_are_named(
    folders: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = folders
    monkeypatch.delenv("MARSLIB_DEBUG", raising=False)
    monkeypatch.setattr("marslib.data.load", lambda path=None: _tiny_data(test_masks=True))
    config = tmp_path / "more.yaml"
    config.write_bytes("name: unet_é\nmodel: unet\n".encode("latin-1"))
    assert cli.main(["experiments", "run", "--config", str(config)]) == 2
    # "name: unet_" is 11 bytes: the 12th is latin-1's é, 0xe9, not UTF-8
    assert _last_line(capsys) == (
        f"error: {config} is not UTF-8 text (byte 12 is 0xe9); save it as UTF-8"
    )
    csv = tmp_path / "s.csv"
    csv.write_bytes(b"\xff\xfeid,0\n")  # a UTF-16 byte-order mark
    assert cli.main(["score", str(csv)]) == 2
    assert _last_line(capsys) == (
        f"error: {csv}, line 1: not UTF-8 text (byte 1 of the line is 0xff); "
        "a submission is a text CSV of digits and commas"
    )


_SLEEPING_COMMAND = """
import sys, time
from marslib import cli
from marslib.commands import info

def sleep(args):
    print("started", flush=True)
    time.sleep(60)

info.run = sleep
sys.exit(cli.main(["info"]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX: SIGINT to a preexec_fn child")
def test_ctrl_c_says_a_rerun_resumes() -> None:
    environment = os.environ.copy()
    environment.pop("MARSLIB_DEBUG", None)
    command = subprocess.Popen(
        [sys.executable, "-c", _SLEEPING_COMMAND],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_interrupt,
        env=environment,
    )
    try:
        assert command.stdout.readline() == "started\n", command.communicate()[1]
        command.send_signal(signal.SIGINT)
        _, err = command.communicate(timeout=120)
    finally:
        command.kill()
    assert command.returncode == 130 and "Traceback" not in err
    assert err.splitlines()[-1] == (
        "interrupted: run the same command again to resume (finished runs are reused, an "
        "interrupted training continues from its last saved epoch)"
    )


# ---------------------------------------------------------------- experiment configs


def test_an_entry_needs_base_or_model() -> None:
    with pytest.raises(ValueError, match="needs `base` .* or `model`.*got the fields"):
        registry.from_config({"name": "lonely", "learning_rate": 0.001}, "quick")
    with pytest.raises(ValueError, match="needs `base`"):
        registry.from_config({"model": "unet"}, "quick")  # and a name


def test_yaml_numbers_without_a_dot_are_numbers(tmp_path: Path) -> None:
    config = tmp_path / "more.yaml"
    config.write_text(
        "experiments:\n"
        "  - {name: a, model: unet, learning_rate: 1e-3, weight_decay: 5e-5, clipnorm: 1e0,\n"
        "     val_fraction: 25e-2}\n"
        "  - {base: pspnet, name: b, learning_rate: 3E-4}\n"
    )
    a, b = registry.load_experiments(config, "quick")
    assert (a.learning_rate, a.weight_decay, a.clipnorm, a.val_fraction) == (
        0.001,
        0.00005,
        1.0,
        0.25,
    )
    assert b.learning_rate == 0.0003 and b.model == "pspnet"


def test_a_text_that_is_not_a_number_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="learning_rate must be a number, got the text 'fast'"):
        registry.from_config({"name": "a", "model": "unet", "learning_rate": "fast"}, "quick")


def test_every_entry_is_checked_before_the_first_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MARSLIB_DEBUG", raising=False)
    config = tmp_path / "more.yaml"
    config.write_text(
        "experiments:\n"
        "  - {name: good, model: unet}\n"
        "  - {name: bad, model: unet, weight_decay: lots}\n"
    )

    monkeypatch.setattr("marslib.data.load", _no_loading)  # it loads before the first run trains
    assert cli.main(["experiments", "run", "--config", str(config), "--profile", "quick"]) == 2
    assert _last_line(capsys) == (
        f"error: {config}, experiment 2 of 2 ('bad'): weight_decay must be a number, got the "
        "text 'lots'; write it as a number, e.g. weight_decay: 0.001 or 1.0e-3"
    )


# ---------------------------------------------------------------- caches


def _damage(path: Path, how: str) -> None:
    content = path.read_bytes()
    if how == "truncated":
        path.write_bytes(content[: len(content) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(b"not an npz file at all")
    else:  # flipped bytes in the middle of an array: the zip member's CRC no longer matches
        middle = len(content) // 2
        path.write_bytes(
            content[:middle]
            + bytes(255 - b for b in content[middle:][:64])
            + content[middle + 64 :]
        )


DAMAGES = ["truncated", "empty", "garbage", "flipped"]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_synthetic_cache_is_rebuilt(folders: Path, how: str) -> None:
    made = synthetic.load_or_generate(7, 12, 4)
    path = synthetic.cache_path(7, 12, 4)
    _damage(path, how)
    with pytest.warns(UserWarning, match=f"{path.name}: the cached synthetic set is damaged"):
        again = synthetic.load_or_generate(7, 12, 4)
    np.testing.assert_array_equal(again.train_images, made.train_images)
    np.testing.assert_array_equal(again.test_masks, made.test_masks)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt file reads back without a warning
        cached = synthetic.load_or_generate(7, 12, 4)
    np.testing.assert_array_equal(cached.train_masks, made.train_masks)


_SLOW_CACHE_WRITE = """
import sys, time
import numpy as np
from marslib.data import synthetic

def slow_savez(file, **arrays):
    with open(file, "wb") as handle:
        handle.write(b"PK" + bytes(1_000_000))
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)

np.savez = slow_savez
synthetic.load_or_generate(7, 12, 4)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX: SIGINT to a preexec_fn child")
def test_ctrl_c_while_caching_the_synthetic_set_leaves_nothing(folders: Path) -> None:
    cache = folders / "cache"
    writer = subprocess.Popen(
        [sys.executable, "-c", _SLOW_CACHE_WRITE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_interrupt,
    )
    try:
        assert writer.stdout.readline() == "writing\n", writer.communicate()[1]
        assert [p.stat().st_size for p in cache.iterdir()] == [1_000_002], "mid-way"
        writer.send_signal(signal.SIGINT)
        writer.communicate(timeout=120)
    finally:
        writer.kill()
    assert writer.returncode != 0 and list(cache.iterdir()) == []


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_dataset_cache_is_rebuilt(folders: Path, how: str) -> None:
    data = _tiny_data(test_masks=False)
    indices = np.arange(0, 30, 2)
    images, masks = datasets.build("original", data, indices)
    (path,) = (folders / "cache" / "variants").iterdir()
    _damage(path, how)
    with pytest.warns(UserWarning, match=f"{path.name}: the cached dataset 'original' is damaged"):
        again = datasets.build("original", data, indices)
    np.testing.assert_array_equal(again[0], data.train_images[indices])
    np.testing.assert_array_equal(again[1], data.train_masks[indices])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached = datasets.build("original", data, indices)
    np.testing.assert_array_equal(cached[0], images)
    np.testing.assert_array_equal(cached[1], masks)


def test_deflating_a_file_that_is_not_a_zip_says_so(tmp_path: Path) -> None:
    from marslib.core import files

    plain = tmp_path / "model.keras"
    plain.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="is not a zip archive"):
        files.deflate_zip(plain, tmp_path / "copy.keras")
    assert not (tmp_path / "copy.keras").exists()
