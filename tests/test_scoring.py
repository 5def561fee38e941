"""The scoring set of the chapter "beyond the report": a seeded choice of test images, or the
recipe's validation split where the test labels are unknown."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from marslib import data, training
from marslib.evaluation import scoring
from marslib.training import registry


def test_scoring_set_is_a_seeded_choice_of_the_public_quarter(tiny_data: data.MarsData) -> None:
    chosen = scoring.scoring_set(tiny_data, count=3, seed=1)
    again = scoring.scoring_set(tiny_data, count=3, seed=1)
    np.testing.assert_array_equal(chosen.images, again.images)
    # Its images are those of the records' test split at `positions` (the public quarter).
    public_images, public_masks = training.record_splits(
        registry.get(registry.RECIPE, "quick"), tiny_data
    )["test"]
    assert chosen.split == "test" and len(public_images) == 4
    assert list(chosen.positions) == sorted(set(chosen.positions)) and len(chosen.positions) == 3
    np.testing.assert_array_equal(chosen.images, public_images[chosen.positions])
    np.testing.assert_array_equal(chosen.masks, public_masks[chosen.positions])
    assert chosen.description.startswith("3 images of the public test quarter")
    assert len(scoring.scoring_set(tiny_data, count=100).images) == 4
    with pytest.raises(ValueError, match="count"):
        scoring.scoring_set(tiny_data, count=0)


def test_scoring_set_falls_back_on_validation_without_test_labels(tiny_data: data.MarsData) -> None:
    unlabelled = dataclasses.replace(tiny_data, test_masks=None)
    found = scoring.scoring_set(unlabelled, profile="quick")
    _, val = training.split_indices(registry.get(registry.RECIPE, "quick"), tiny_data)
    np.testing.assert_array_equal(found.images, tiny_data.train_images[val])
    np.testing.assert_array_equal(found.masks, tiny_data.train_masks[val])
    assert "validation" in found.description
    assert found.split == "val" and list(found.positions) == list(range(len(val)))
