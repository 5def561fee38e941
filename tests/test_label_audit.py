"""The texture audit of labels, on hand-made textures with known wrong labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from marslib.core.classes import BEDROCK, SAND, SOIL
from marslib.data import cleaning, label_audit

H, W = 64, 128


@dataclass
class TinyData:
    """Shaped like `marslib.data.MarsData`, as far as the audit uses it."""

    train_images: np.ndarray
    train_masks: np.ndarray
    fingerprint: str = "texture01"
    source: str = "hand-made"
    meta: dict = field(default_factory=dict)


def _texture(label: int, rng: np.random.Generator) -> np.ndarray:
    """float (H, W): soil = grain (white noise), sand = horizontal ripples,
    bedrock = flat plates with dark cracks."""
    y, x = np.mgrid[0:H, 0:W]
    if label == SOIL:
        picture = 128 + 25 * rng.standard_normal((H, W))
    elif label == SAND:
        picture = (
            128
            + 30 * np.sin(2 * np.pi * y / rng.uniform(7, 11) + rng.uniform(0, 6))
            + 3 * rng.standard_normal((H, W))
        )
    else:
        plates = rng.uniform(100, 160, (4, 8))[y // 16, x // 16]
        cracks = (y % 16 == 0) | (x % 16 == 0)
        picture = np.where(cracks, 60, plates) + 3 * rng.standard_normal((H, W))
    return picture + rng.uniform(-20, 20)


def _textured_set() -> tuple[TinyData, dict[int, int]]:
    """36 single-class images, 12 per class, 3 of them labelled with a wrong class; plus two
    two-class images (top half background), the second with its sand region labelled soil.
    Returns the data and {index: true class} of the wrong labels."""
    rng = np.random.default_rng(0)
    labels = np.repeat([SOIL, BEDROCK, SAND], 12)
    images = np.stack(
        [_texture(c, rng) for c in labels] + [_texture(SAND, rng), _texture(SAND, rng)]
    )
    masks = np.concatenate(
        [np.broadcast_to(labels[:, None, None], (36, H, W)), np.full((2, H, W), SAND)]
    ).astype(np.uint8)
    masks[36:, : H // 2] = 0
    images[36:, : H // 2] = 200
    wrong = {4: SOIL, 17: BEDROCK, 30: SAND}
    masks[4], masks[17], masks[30] = SAND, SOIL, BEDROCK
    masks[37][masks[37] == SAND] = SOIL
    return TinyData(np.clip(images, 0, 255).astype(np.uint8), masks), wrong


def test_pure_patches_by_hand() -> None:
    masks = np.zeros((1, H, W), dtype=np.uint8)
    masks[0, :, :64] = SOIL  # columns 0..63: windows starting at 0, 16, 32 fit; rows 0, 16, 32
    images = np.arange(H * W, dtype=np.uint32).reshape(1, H, W) % 251
    patches, labels, owner = label_audit.pure_patches(images.astype(np.uint8), masks)
    assert patches.shape == (9, 32, 32)
    assert (labels == SOIL).all() and (owner == 0).all()
    np.testing.assert_array_equal(patches[4], images[0, 16:48, 16:48])


def test_pure_patches_refuse_bad_input() -> None:
    masks = np.zeros((1, H, W), dtype=np.uint8)
    with pytest.raises(ValueError, match="same shape"):
        label_audit.pure_patches(np.zeros((1, H, W - 1), dtype=np.uint8), masks)
    with pytest.raises(ValueError, match="size must lie"):
        label_audit.pure_patches(np.zeros((1, H, W), dtype=np.uint8), masks, size=65)


def test_texture_features_ignore_brightness_and_contrast_except_the_first_two() -> None:
    rng = np.random.default_rng(1)
    pictures = np.stack([_texture(c, rng) for c in (SOIL, BEDROCK, SAND)])
    features = label_audit.texture_features(pictures)
    changed = label_audit.texture_features(1.7 * pictures + 30)
    assert features.shape == (3, len(label_audit.FEATURE_NAMES))
    np.testing.assert_allclose(changed[:, 2:], features[:, 2:], rtol=1e-4, atol=1e-6)
    assert not np.allclose(changed[:, :2], features[:, :2])
    with pytest.raises(ValueError, match=r"\(K, h, w\)"):
        label_audit.texture_features(np.zeros((2, 4, 4)))


@pytest.fixture(scope="module")
def audited() -> tuple[TinyData, dict[int, int], object]:
    data, wrong = _textured_set()
    return data, wrong, label_audit.audit(data, np.arange(len(data.train_images)))


def test_audit_table_has_one_row_per_terrain_region(audited) -> None:
    data, _, table = audited
    assert len(table) == 38, (
        "36 single-class images and 2 two-class images with one terrain region each"
    )
    assert list(table.columns) == [
        "index",
        "label",
        "classes_in_mask",
        "patches",
        "agreement",
        "suggested",
    ]
    assert table["agreement"].is_monotonic_increasing and table["agreement"].between(0, 1).all()
    whole = table[table["classes_in_mask"] == 1]
    assert (whole["patches"] == 21).all(), "3 x 7 patches of 32x32 at stride 16 in a 64x128 image"


def test_audit_finds_exactly_the_wrong_single_class_labels_and_their_classes(audited) -> None:
    _, wrong, table = audited
    found = label_audit.monocolor_candidates(table)
    assert cleaning.score_against(found["index"], list(wrong)) == (1.0, 1.0)
    assert dict(zip(found["index"], found["suggested"])) == wrong


def test_audit_finds_the_wrong_region_of_a_two_class_mask(audited) -> None:
    _, _, table = audited
    found = label_audit.bicolor_candidates(table)
    assert (
        found["index"].tolist() == [37]
        and found["label"].tolist() == [SOIL]
        and found["suggested"].tolist() == [SAND]
    )


def test_the_audit_judges_no_image_with_a_model_that_saw_it() -> None:
    data, _ = _textured_set()
    # With one soil image only, the soil class is absent while that image is held out: soil
    # gets probability 0 there, so the lone soil image cannot agree with its own label.
    keep = np.r_[
        0, 18:30, 31:36
    ]  # image 0 is the only soil label here (17, a wrong soil label, is left out)
    table = label_audit.audit(data, keep)
    assert table.loc[table["index"] == 0, "agreement"].item() == 0.0


def test_candidate_threshold_and_too_little_data_are_refused(audited) -> None:
    data, _, table = audited
    for threshold in (0, 1, 1.5):
        with pytest.raises(ValueError, match="threshold"):
            label_audit.monocolor_candidates(table, threshold)
    with pytest.raises(ValueError, match="at least two terrain classes"):
        label_audit.audit(data, np.r_[0:4, 5:12])  # soil labels only


def test_score_against_matches_hand_counts() -> None:
    assert cleaning.score_against(np.array([1, 2, 3, 4]), np.array([2, 4, 6])) == (0.5, 2 / 3)
    precision, recall = cleaning.score_against(np.array([], dtype=int), np.array([1]))
    assert np.isnan(precision) and recall == 0.0


def test_threshold_curve_counts_candidates_and_scores_them(audited) -> None:
    _, wrong, table = audited
    curve = label_audit.threshold_curve(
        table, np.array(list(wrong)), thresholds=np.array([0.3, 0.999999])
    )
    assert curve["threshold"].tolist() == [0.3, 0.999999]
    at_default = label_audit.monocolor_candidates(table, 0.3)
    assert curve.loc[0, "candidates"] == len(at_default)
    assert (curve.loc[0, "precision"], curve.loc[0, "recall"]) == cleaning.score_against(
        at_default["index"], list(wrong)
    )
    assert curve["candidates"].is_monotonic_increasing


def test_audit_command_writes_candidates_pictures_and_a_draft(tmp_path, capsys) -> None:
    from marslib import cli
    from marslib import data as mars_data

    data, wrong = _textured_set()
    real_format = mars_data.MarsData(
        data.train_images, data.train_masks, data.train_images[:2], None, "hand-made"
    )
    path = mars_data.save_npz(real_format, tmp_path / "textures.npz")
    assert cli.main(["audit", "--path", str(path), "--out", str(tmp_path / "review")]) == 0
    loaded = mars_data.load(path)
    draft = cleaning.read_fixes(tmp_path / "review" / f"{loaded.fingerprint}.draft.json")
    assert draft.monocolor == wrong and draft.bicolor == {37: {SOIL: SAND}}
    assert draft.review.startswith("DRAFT")
    assert sorted(p.name for p in (tmp_path / "review").glob("*.png")) == [
        "bicolor-00.png",
        "monocolor-00.png",
    ]
    assert str(cleaning.fixes_path(loaded)) in capsys.readouterr().out
