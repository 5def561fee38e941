"""The competition's submission CSV and the local leaderboard."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import keras
import numpy as np
import pandas as pd
import pytest
from interrupts import default_interrupt

from marslib import cli, metrics, models
from marslib import data as mars_data
from marslib.core import files
from marslib.data import MarsData
from marslib.evaluation import submission

RNG = np.random.default_rng(1)
TEST_MASKS = RNG.integers(0, 5, (12, 64, 128), dtype=np.uint8)


def _data(test_masks: np.ndarray | None = TEST_MASKS) -> MarsData:
    images = RNG.integers(0, 256, (3, 64, 128), dtype=np.uint8)
    return MarsData(
        train_images=images,
        train_masks=RNG.integers(0, 5, images.shape, dtype=np.uint8),
        test_images=RNG.integers(0, 256, TEST_MASKS.shape, dtype=np.uint8),
        test_masks=test_masks,
        source="synthetic" if test_masks is not None else "data/mars_for_students.npz",
    )


def _guess() -> np.ndarray:
    return np.where(
        RNG.random(TEST_MASKS.shape) < 0.7, TEST_MASKS, RNG.integers(0, 5, TEST_MASKS.shape)
    ).astype(np.uint8)


def test_csv_has_the_competition_columns_and_rows(tmp_path: Path) -> None:
    labels = _guess()
    path = submission.write_submission(labels, tmp_path / "sub" / "submission.csv")
    table = pd.read_csv(path)
    assert table.shape == (12, 8193)
    assert list(table.columns) == ["id"] + [str(i) for i in range(8192)]
    np.testing.assert_array_equal(table["id"], np.arange(12))
    np.testing.assert_array_equal(table.drop(columns="id").to_numpy(), labels.reshape(12, -1))
    np.testing.assert_array_equal(submission.read_submission(path, rows=12), labels)


def test_full_test_set_gives_10022_rows_of_8193_columns(tmp_path: Path) -> None:
    labels = np.random.default_rng(2).integers(0, 5, (10022, 64, 128), dtype=np.uint8)
    path = submission.write_submission(labels, tmp_path / "full.csv")
    with open(path) as handle:
        header = handle.readline().rstrip("\n").split(",")
        widths = {line.count(",") + 1 for line in handle}
    assert header == ["id"] + [str(i) for i in range(8192)] and widths == {8193}
    last = pd.read_csv(path, skiprows=range(1, 10022))  # the header and the last row
    assert last.shape == (1, 8193) and last["id"].iloc[0] == 10021
    np.testing.assert_array_equal(last.drop(columns="id").to_numpy()[0], labels[-1].ravel())
    np.testing.assert_array_equal(submission.read_submission(path, rows=10022), labels)


def test_predict_submission_writes_the_models_predictions(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = models.build("unet", base_filters=4, depth=2)
    data = _data()
    path = submission.predict_submission(model, data, tmp_path / "s.csv", progress=False)
    # The expected labels straight from Keras: images scaled to [0, 1] with a channel axis,
    # then the most likely class of each pixel.
    inputs = data.test_images.astype(np.float32)[..., None] / 255
    expected = model.predict(inputs, verbose=0).argmax(axis=-1)
    np.testing.assert_array_equal(submission.read_submission(path), expected)


def test_score_is_the_competition_metric(tmp_path: Path) -> None:
    guess = _guess()
    found = submission.score_submission(
        submission.write_submission(guess, tmp_path / "s.csv"), _data()
    )
    assert found["miou"] == pytest.approx(metrics.competition_miou(TEST_MASKS, guess))
    np.testing.assert_allclose(
        list(found["per_class_iou"].values()), metrics.per_class_iou(TEST_MASKS, guess)
    )
    public = mars_data.public_indices(12)
    assert len(public) == 3 and len(set(public)) == 3
    private = np.setdiff1d(np.arange(12), public)
    assert found["public_miou"] == pytest.approx(
        metrics.competition_miou(TEST_MASKS[public], guess[public])
    )
    assert found["private_miou"] == pytest.approx(
        metrics.competition_miou(TEST_MASKS[private], guess[private])
    )
    perfect = submission.score_submission(
        submission.write_submission(TEST_MASKS, tmp_path / "p.csv"), _data()
    )
    assert perfect["miou"] == perfect["public_miou"] == 1.0


def _write_text(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.write_text("\n".join(",".join(map(str, line)) for line in [header, *rows]) + "\n")
    return path


HEADER = ["id"] + [str(i) for i in range(8192)]


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        (["Id"] + HEADER[1:], [[0] + [1] * 8192], "header"),
        (HEADER[:-1], [[0] + [1] * 8191], "8193 columns"),
        (
            ["id"] + [f"pixel_{i}" for i in range(8192)],
            [[0] + [1] * 8192],
            "first difference at column 1",
        ),
        (HEADER, [[0] + [1] * 8192, [1] + [5] * 8192], "labels must lie in 0..4"),
        (HEADER, [[0] + [-1] * 8192], "labels must lie in 0..4"),
        (HEADER, [[0] + [1.5] * 8192], "whole numbers"),
        (HEADER, [[0] + [1] * 8192, [0] + [1] * 8191], "whole numbers"),
        (HEADER, [[1] + [1] * 8192, [0] + [1] * 8192], "ids must be 0, 1, 2"),
    ],
)
def test_malformed_csv_is_refused(
    tmp_path: Path, header: list[str], rows: list[list[object]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        submission.read_submission(_write_text(tmp_path / "bad.csv", header, rows))


def test_wrong_row_count_is_refused(tmp_path: Path) -> None:
    path = submission.write_submission(TEST_MASKS[:5], tmp_path / "short.csv")
    with pytest.raises(ValueError, match="expected 12 rows"):
        submission.score_submission(path, _data())


def test_data_without_test_labels_cannot_be_scored(tmp_path: Path) -> None:
    path = submission.write_submission(TEST_MASKS, tmp_path / "s.csv")
    with pytest.raises(ValueError, match="no test labels"):
        submission.score_submission(path, _data(test_masks=None))


def test_write_refuses_bad_labels(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="0..4"):
        submission.write_submission(np.full((1, 64, 128), 7, dtype=np.uint8), tmp_path / "s.csv")
    with pytest.raises(ValueError, match="64, 128"):
        submission.write_submission(np.zeros((1, 64, 64), dtype=np.uint8), tmp_path / "s.csv")


def test_score_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    guess = _guess()
    path = submission.write_submission(guess, tmp_path / "s.csv")
    data = _data()
    monkeypatch.setattr("marslib.data.load", lambda path=None: data)
    assert cli.main(["score", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["miou"] == pytest.approx(
        metrics.competition_miou(TEST_MASKS, guess)
    )
    monkeypatch.setattr("marslib.data.load", lambda path=None: _data(test_masks=None))
    assert cli.main(["score", str(path)]) == 2
    assert "no test labels" in capsys.readouterr().err


# ---------------------------------------------------------------- faults


def test_csv_bytes_are_the_competition_format(tmp_path: Path) -> None:
    labels = np.zeros((2, 64, 128), dtype=np.uint8)
    labels[0, 0, 0], labels[0, -1, -1] = 4, 3
    labels[1] = (np.arange(8192) % 5).reshape(64, 128)
    expected = (
        "id," + ",".join(str(i) for i in range(8192)) + "\n"
        "0,4," + "0," * 8190 + "3\n"
        "1," + ",".join(str(i % 5) for i in range(8192)) + "\n"
    )
    path = submission.write_submission(labels, tmp_path / "s.csv")
    assert path.read_bytes() == expected.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"], "no temporary file is left"


class _FullDisk:
    """A file handle on a disk with `room` bytes left: the write that overflows it writes what
    fits, then fails with ENOSPC, as a real full disk does."""

    def __init__(self, handle: Any, room: int) -> None:
        self.handle, self.room = handle, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.handle.write(data[: self.room])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.handle.write(data)


def _fill_disk(monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    def full_disk_write_with(path: Path, write: Any) -> Path:
        return files.write_with(path, lambda handle: write(_FullDisk(handle, room)))

    monkeypatch.setattr(submission, "write_with", full_disk_write_with)


def test_full_disk_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = submission.write_submission(TEST_MASKS, tmp_path / "s.csv")
    before = path.read_bytes()
    _fill_disk(monkeypatch, room=len(before) // 3)  # fails in the middle of the rows
    with pytest.raises(OSError) as failure:
        submission.write_submission(_guess(), path)
    assert failure.value.errno == errno.ENOSPC and failure.value.filename == str(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_full_disk_in_the_submit_command_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = submission.write_submission(TEST_MASKS, tmp_path / "s.csv")
    before = path.read_bytes()
    data = _data()
    monkeypatch.setattr("marslib.data.load", lambda path=None: data)
    monkeypatch.setattr(
        "marslib.training.find_record",
        lambda *args: SimpleNamespace(load_model=lambda: None, directory=tmp_path / "run"),
    )
    monkeypatch.setattr("marslib.models.predict", lambda model, images, **options: _guess())
    _fill_disk(monkeypatch, room=100_000)
    assert cli.main(["submit", "some_run", str(path)]) == 1
    err = capsys.readouterr().err  # the progress bars, then the error
    assert "Traceback" not in err and err.splitlines()[-1] == (
        f"error: {path}: No space left on device; "
        "free some space or write elsewhere, then run the command again"
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


# Writes 30 images, two rows a chunk, slowly (1 s a chunk, so that even on a busy machine the
# kill comes before the last chunk), printing "chunk" after each.
_SLOW_WRITER = """
import sys, time
import numpy as np
from marslib.evaluation import submission

def slowly(chunks, **options):
    for chunk in chunks:
        yield chunk
        print("chunk", flush=True)
        time.sleep(1.0)

submission.tqdm = slowly
submission.ROWS_PER_WRITE = 2
submission.write_submission(np.full((30, 64, 128), 2, dtype=np.uint8), sys.argv[1])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals (SIGINT, SIGKILL), preexec_fn")
@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])  # names: Windows has no SIGKILL
def test_killed_write_keeps_the_previous_file(tmp_path: Path, signal_name: str) -> None:
    signal_number = getattr(signal, signal_name)
    path = submission.write_submission(TEST_MASKS, tmp_path / "s.csv")
    before = path.read_bytes()
    writer = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_interrupt,
    )
    try:
        assert writer.stdout.readline() == "chunk\n", writer.communicate()[1]
        temporary = tmp_path / f".s.{writer.pid}.tmp.csv"
        assert temporary.stat().st_size > 0, "the kill comes mid-way"
        writer.send_signal(signal_number)
        writer.communicate(timeout=120)
    finally:
        writer.kill()
    assert writer.returncode != 0
    assert path.read_bytes() == before
    if signal_number == signal.SIGINT:  # Ctrl-C: the writer removes its temporary file
        assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]
    else:  # kill -9 leaves it; the next write removes it
        assert temporary.exists()
        guess = _guess()
        submission.write_submission(guess, path)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]
        np.testing.assert_array_equal(submission.read_submission(path), guess)


def _unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> tuple[Path, str]:
    """A submission path that cannot be written, and the message that says why."""
    if case == "folder":
        return tmp_path, "is a folder; give the path of the CSV file"
    if case == "below a file":
        (tmp_path / "notes.txt").write_text("")
        return tmp_path / "notes.txt" / "s.csv", "notes.txt is a file, not a folder"

    def read_only(*args: object, **kwargs: object) -> None:  # as on a read-only disk
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(submission.tempfile, "TemporaryFile", read_only)
    return tmp_path / "new" / "s.csv", "no file can be created in .* make that folder writable"


@pytest.mark.parametrize("case", ["folder", "below a file", "read-only"])
def test_destination_is_checked_before_predicting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    path, message = _unwritable(tmp_path, monkeypatch, case)

    def no_prediction(*args: object, **kwargs: object) -> None:
        raise AssertionError("the path should have been refused before predicting")

    monkeypatch.setattr("marslib.models.predict", no_prediction)
    with pytest.raises(ValueError, match=message):
        submission.predict_submission(None, _data(), path)
    with pytest.raises(ValueError, match=message):
        submission.write_submission(TEST_MASKS, path)


@pytest.mark.parametrize("case", ["folder", "below a file", "read-only"])
def test_submit_command_refuses_an_unwritable_path_first(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    path, message = _unwritable(tmp_path, monkeypatch, case)

    def no_loading(*args: object) -> None:
        raise AssertionError("the path should have been refused before loading anything")

    monkeypatch.setattr("marslib.data.load", no_loading)
    assert cli.main(["submit", "final", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.match(f"error: .*{message}", err)


ROWS = 1290  # two blocks of `read_submission`: rows 0..1023, then 1024..1289


@pytest.fixture(scope="module")
def long_csv(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The lines of a valid CSV of ROWS rows of zeros (header first)."""
    folder = tmp_path_factory.mktemp("long")
    path = submission.write_submission(np.zeros((ROWS, 64, 128), np.uint8), folder / "s.csv")
    return path.read_bytes().split(b"\n")


def _set(column: int, value: bytes) -> Any:
    def change(fields: list[bytes]) -> list[bytes]:
        return [*fields[:column], value, *fields[column + 1 :]]

    return change


@pytest.mark.parametrize(
    ("change", "blank_line", "message"),
    [
        (_set(518, b"7"), False, "row 1278 (line 1280), column '517': label 7; labels must lie"),
        (_set(1, b"-1"), False, "row 1278 (line 1280), column '0': label -1; labels must lie"),
        (_set(4, b"x"), False, "row 1278 (line 1280), column '3': 'x' is not a whole number"),
        (_set(0, b"5"), False, "row 1278 (line 1280), column 'id': id 5, expected 1278"),
        (lambda fields: fields[:-1], False, "row 1278 (line 1280): 8192 values; every row"),
        (_set(9, b"\xff"), False, "line 1280: not UTF-8 text (byte 22 of the line is 0xff)"),
        (_set(8192, b"9"), True, "row 1278 (line 1281), column '8191': label 9"),
    ],
)
def test_errors_name_the_true_row_line_and_column(
    tmp_path: Path, long_csv: list[bytes], change: Any, blank_line: bool, message: str
) -> None:
    lines = list(long_csv)
    lines[1 + 1278] = b",".join(change(lines[1 + 1278].split(b",")))
    if blank_line:
        lines.insert(1 + 1278, b"")
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ValueError, match=re.escape(f"{path}, {message}")):
        submission.read_submission(path)
