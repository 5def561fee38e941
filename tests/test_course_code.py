"""Students' course code, run unchanged on the synthetic set exported in the real file's format.

The code below is what public solutions of the homework do (facts.md, section 1): load the file
with `np.load`, take images and masks from ``training_set[:, 0]`` and ``[:, 1]``, find the 110
aliens by comparing every mask with the known alien ``y_train[62]``, divide the images by 255,
split, and write the submission with the course's `y_to_df` and ``to_csv(index=False)``. It must
find the same aliens as `marslib.data.cleaning`, and write the same CSV as `marslib`, byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from marslib import data as mars_data
from marslib.data import cleaning, synthetic
from marslib.evaluation import submission

TEST_IMAGES = 16  # test images in the export: the CSV's format does not depend on their number


# ---------------------------------------------------------------- the course's code


def y_to_df(y) -> pd.DataFrame:
    """Converts segmentation predictions into a DataFrame format for Kaggle."""
    n_samples = len(y)
    y_flat = y.reshape(n_samples, -1)
    df = pd.DataFrame(y_flat)
    df["id"] = np.arange(n_samples)
    cols = ["id"] + [col for col in df.columns if col != "id"]
    return df[cols]


def course_pipeline(path: Path, seed: int = 42) -> dict:
    """Load, find and remove the aliens by ``y_train[62]``, normalise and split, as students did."""
    data = np.load(path)
    training_set = data["training_set"]
    X_train = training_set[:, 0]
    y_train = training_set[:, 1]
    X_test = data["test_set"]

    alien_mask = y_train[62]
    alien_indices = [i for i in range(len(y_train)) if np.array_equal(y_train[i], alien_mask)]
    X_clean = np.delete(X_train, alien_indices, axis=0)
    y_clean = np.delete(y_train, alien_indices, axis=0)

    X_clean = X_clean[..., np.newaxis] / 255.0
    X_test = X_test[..., np.newaxis] / 255.0
    y_clean = y_clean.astype(int)
    X_tr, X_val, y_tr, y_val = train_test_split(X_clean, y_clean, test_size=0.1, random_state=seed)
    return {
        "alien_indices": alien_indices,
        "X_train": X_tr,
        "X_val": X_val,
        "y_train": y_tr,
        "y_val": y_val,
        "X_test": X_test,
    }


def stand_in_model_predict(X: np.ndarray) -> np.ndarray:
    """Class scores (N, 64, 128, 5) from grey levels, where students called `model.predict`."""
    centres = np.linspace(0.1, 0.9, 5)
    return -np.abs(X - centres)


# ---------------------------------------------------------------- the data


@pytest.fixture(scope="module")
def real_size(module_folders: Path) -> mars_data.MarsData:
    """The synthetic set of seed 0 with the real file's 2615 training images and TEST_IMAGES test
    images, generated once in the module's cache. Its training set is the default set's, image for
    image (the generator makes the training images from the seed and their number only); the CSV's
    format does not depend on the number of test images, and generating all 10022 would double the
    time."""
    return mars_data.synthetic_data(seed=0, n_train=synthetic.DEFAULT_TRAIN, n_test=TEST_IMAGES)


@pytest.fixture(scope="module")
def exported(real_size: mars_data.MarsData, module_folders: Path) -> Path:
    """The set in the real file's format, written by `save_npz` as `python -m marslib data export`
    writes it."""
    return mars_data.save_npz(real_size, module_folders / "mars_for_students.npz")


@pytest.fixture(scope="module")
def course(exported: Path) -> dict:
    """What the course's pipeline makes of the exported file."""
    return course_pipeline(exported)


# ---------------------------------------------------------------- the checks


def test_the_export_has_the_real_files_format(exported: Path) -> None:
    with np.load(exported) as npz:
        assert sorted(npz.files) == ["test_set", "training_set"]
        assert npz["training_set"].shape == (2615, 2, 64, 128)
        assert npz["test_set"].shape == (TEST_IMAGES, 64, 128)
        assert npz["training_set"].dtype == npz["test_set"].dtype == np.float64


def test_y_train_62_finds_the_110_aliens_marslib_finds(
    course: dict, exported: Path, real_size: mars_data.MarsData
) -> None:
    result = course
    found = np.array(result["alien_indices"])
    assert len(found) == 110, f"y_train[62] matched {len(found)} masks, not the 110 aliens"
    np.testing.assert_array_equal(found, cleaning.alien_indices(real_size.train_masks))
    np.testing.assert_array_equal(
        found, cleaning.alien_indices(mars_data.load(exported).train_masks)
    )
    np.testing.assert_array_equal(found, real_size.meta["alien_indices"])
    np.testing.assert_array_equal(found, synthetic.REAL_ALIEN_INDICES)
    # What the rest of the students' pipeline then sees: 2505 cleaned images, scaled to [0, 1].
    assert len(result["X_train"]) + len(result["X_val"]) == 2505
    assert result["X_train"].shape[1:] == (64, 128, 1) and result["y_train"].shape[1:] == (64, 128)
    assert 0.0 <= result["X_train"].min() and result["X_train"].max() <= 1.0
    assert set(np.unique(result["y_train"])) <= {0, 1, 2, 3, 4}
    assert result["X_test"].shape == (TEST_IMAGES, 64, 128, 1)


def test_the_courses_csv_equals_marslibs_byte_for_byte(course: dict, tmp_path: Path) -> None:
    X_test = course["X_test"]
    preds = stand_in_model_predict(X_test)
    preds = np.argmax(preds, axis=-1)
    assert set(np.unique(preds)) == {0, 1, 2, 3, 4}, "every class in the labels written"
    submission_df = y_to_df(preds)
    submission_df.to_csv(tmp_path / "course.csv", index=False)

    ours = submission.write_submission(preds, tmp_path / "marslib.csv")
    course = (tmp_path / "course.csv").read_bytes()
    assert course.startswith(b"id,0,1,2,") and course.count(b"\n") == TEST_IMAGES + 1
    assert ours.read_bytes() == course
