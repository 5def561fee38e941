"""The chapter's experiments change one field of the best recipe each; the scoring set is fixed by seed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from marslib import beyond, data, experiments, report_table, train
from marslib.classes import colorize

IDENTITY = {"name", "description"}


@pytest.mark.parametrize("name", list(beyond.CHANGES))
def test_each_experiment_is_the_recipe_with_one_change(name: str) -> None:
    recipe = experiments.get_experiment(beyond.RECIPE, "quick").to_dict()
    changed = beyond.experiment(name, "quick").to_dict()
    differing = {key for key in recipe if recipe[key] != changed[key]} - IDENTITY
    assert differing == set(beyond.CHANGES[name]) - IDENTITY
    assert changed["name"] == name and changed["seed"] == recipe["seed"]


def test_the_plain_unet_is_the_results_chapter_ablation_run() -> None:
    # Same config hash, so train.run finds chapter 12's record instead of training it again.
    ablation = {e.name: e for e in report_table.ablation_experiments("quick")}
    plain = beyond.experiment("unet_best_recipe", "quick")
    assert train.config_hash(plain, "data") == train.config_hash(ablation["unet_best_recipe"], "data")


def test_se_is_the_only_difference_between_the_two_unets() -> None:
    plain, se = beyond.experiment("unet_best_recipe", "quick").to_dict(), beyond.experiment("beyond_unet_se", "quick").to_dict()
    assert {key for key in plain if plain[key] != se[key]} - IDENTITY == {"model_options"}
    assert se["model_options"] == {"se": True}


def test_unknown_experiment_is_refused() -> None:
    with pytest.raises(ValueError, match="beyond_cutmix"):
        beyond.experiment("beyond_magic", "quick")


def test_ensemble_members_are_table_1_runs() -> None:
    assert set(beyond.ENSEMBLE) <= set(experiments.TABLE1) and beyond.RECIPE in beyond.ENSEMBLE


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> data.MarsData:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MARSLIB_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield data.synthetic_data(seed=3, n_train=40, n_test=12)


def test_scoring_set_is_a_seeded_choice_of_test_images(tiny: data.MarsData) -> None:
    chosen = beyond.scoring_set(tiny, count=5, seed=1)
    again = beyond.scoring_set(tiny, count=5, seed=1)
    np.testing.assert_array_equal(chosen.images, again.images)
    positions = [int(np.flatnonzero((tiny.test_images == image).all(axis=(1, 2)))[0]) for image in chosen.images]
    assert positions == sorted(positions) and len(set(positions)) == 5
    np.testing.assert_array_equal(chosen.masks, tiny.test_masks[positions])
    assert chosen.description.startswith("5 test images")
    assert len(beyond.scoring_set(tiny, count=100).images) == 12
    with pytest.raises(ValueError, match="count"):
        beyond.scoring_set(tiny, count=0)


def test_scoring_set_falls_back_on_validation_without_test_labels(tiny: data.MarsData) -> None:
    unlabelled = dataclasses.replace(tiny, test_masks=None)
    found = beyond.scoring_set(unlabelled, profile="quick")
    _, val = train.split_indices(experiments.get_experiment(beyond.RECIPE, "quick"), tiny)
    np.testing.assert_array_equal(found.images, tiny.train_images[val])
    np.testing.assert_array_equal(found.masks, tiny.train_masks[val])
    assert "validation" in found.description


def test_side_by_side_shows_truth_and_each_prediction() -> None:
    masks = np.random.default_rng(0).integers(0, 5, size=(4, 64, 128)).astype(np.uint8)
    images = (masks * 50).astype(np.uint8)
    predictions = {"perfect": masks, "all soil": np.ones_like(masks)}
    figure = beyond.side_by_side(images, masks, predictions, indices=[2, 0])
    axes = np.array(figure.axes).reshape(2, 4)
    assert [ax.get_title() for ax in axes[0]] == ["image 2", "truth", "perfect (1.00)", axes[0, 3].get_title()]
    assert axes[0, 3].get_title().startswith("all soil (0.")
    np.testing.assert_allclose(axes[1, 1].get_images()[0].get_array(), colorize(masks[0]))
    np.testing.assert_allclose(axes[1, 3].get_images()[0].get_array(), colorize(np.ones_like(masks[0])))
    with pytest.raises(ValueError, match="shape"):
        beyond.side_by_side(images, masks, {"cut": masks[:, :32]}, indices=[0])
    with pytest.raises(ValueError, match="at least one"):
        beyond.side_by_side(images, masks, predictions, indices=[])
