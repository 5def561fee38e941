"""The competition's submission CSV and the local leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from marslib import cli, metrics, models
from marslib import data as mars_data
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
    np.testing.assert_array_equal(
        submission.read_submission(path), models.predict(model, data.test_images)
    )


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
