"""The one registry of named runs: every run the book trains, grouped, each derived run one change
away from its base, and config files in the same form."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY

import marslib
from marslib import cli, data, datasets, training
from marslib.commands.experiments import _expand
from marslib.training import registry

IDENTITY = {"name", "description"}
# The runs beyond the report that change the recipe's data: run -> its dataset.
DATA_RUNS = {
    "beyond_cutmix": "cutmix_bigrock_level",
    "beyond_oversampled": "oversampled_bigrock_level",
}


def _differing(a: training.Experiment, b: training.Experiment) -> set[str]:
    first, second = a.to_dict(), b.to_dict()
    return {key for key in first if first[key] != second[key]} - IDENTITY


def test_every_run_belongs_to_one_known_group_and_every_group_has_runs() -> None:
    assert registry.names() == [name for group in registry.GROUPS for name in registry.names(group)]
    assert len(set(registry.names())) == len(registry.names()) == 22
    assert all(registry.names(group) for group in registry.GROUPS)
    with pytest.raises(ValueError, match="known groups"):
        registry.names("extras")


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_every_named_run_is_a_valid_experiment_at_both_scales(profile: str) -> None:
    made = registry.experiments(profile)
    assert [e.name for e in made] == registry.names() and {e.profile for e in made} == {profile}
    assert all(e.description == registry.RUNS[e.name].description for e in made)


@pytest.mark.parametrize("name", registry.names("beyond"))
def test_each_beyond_run_changes_the_recipe_in_what_it_names(name: str) -> None:
    run = registry.RUNS[name]
    if run.base is None:  # the background net: its own recipe
        assert registry.get(name, "quick").task == "background"
        return
    assert run.base == registry.RECIPE
    assert _differing(registry.get(run.base, "quick"), registry.get(name, "quick")) == set(
        run.fields
    )


@pytest.mark.parametrize("name", ["attention_psp_baseline_recipe", "unet_best_recipe"])
def test_each_ablation_corner_takes_the_model_of_one_run_and_the_rest_of_the_other(
    name: str,
) -> None:
    model_from, recipe_from = registry.ABLATION[name]
    corner = registry.get(name, "quick")
    recipe, model = registry.get(recipe_from, "quick"), registry.get(model_from, "quick")
    assert (corner.model, corner.model_options) == (model.model, model.model_options)
    assert _differing(recipe, corner) == {"model"}
    assert corner.train_limit == recipe.train_limit and corner.class_weights == recipe.class_weights


def test_the_two_by_two_design_has_every_corner_once() -> None:
    assert set(registry.ABLATION.values()) == {
        (a, b)
        for a in (registry.BASELINE, registry.RECIPE)
        for b in (registry.BASELINE, registry.RECIPE)
    }
    assert set(registry.ABLATION) <= set(registry.names())


def test_the_final_model_is_the_best_recipe_without_validation() -> None:
    final, best = registry.get("final", "quick"), registry.get(registry.RECIPE, "quick")
    assert _differing(best, final) == {"validation"} and not final.validation


@pytest.mark.parametrize("profile", ["quick", "reference"])
def test_the_flip_comparison_changes_only_the_augmented_copies(profile: str) -> None:
    level = registry.get("unet_best_recipe", profile)
    both = registry.get("unet_best_recipe_vflip", profile)
    assert _differing(level, both) == {"variant"}
    assert (level.variant, both.variant) == ("augmented_bigrock_level", "augmented_bigrock_vflip")


def test_ensemble_members_are_table_1_runs() -> None:
    assert set(registry.ENSEMBLE) <= set(registry.TABLE1) and registry.RECIPE in registry.ENSEMBLE


def test_run_all_expands_to_every_named_run_once_and_groups_to_their_runs() -> None:
    assert _expand(["all"]) == registry.names()
    assert _expand(["table1", "unet_baseline", "ablation"]) == list(
        registry.TABLE1
    ) + registry.names("ablation")


def test_cli_lists_runs_by_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["experiments", "list", "--profile", "quick"]) == 0
    printed = capsys.readouterr().out
    for group in registry.GROUPS:
        assert f"{group}: " in printed
    for name in registry.names():
        assert f"  {name} " in printed


def test_named_experiments_follow_table_1() -> None:
    assert (
        registry.names("table1")
        == list(registry.TABLE1)
        == [
            "unet_baseline",
            "deeplabv3",
            "wnet",
            "pspnet",
            "deeplabv3_bigrock",
            "attention_psp",
        ]
    )
    table = [
        (e.model, e.variant, e.loss, e.class_weights is not None)
        for e in registry.experiments("quick", "table1")
    ]
    assert table[:6] == [
        ("unet", "cleaned", "scce", False),
        ("deeplabv3", "cleaned", "scce", False),
        ("wnet", "cleaned", "weighted_scce", True),
        ("pspnet", "cleaned", "weighted_scce", True),
        ("deeplabv3", "augmented_bigrock_level", "weighted_scce", True),
        ("attention_psp", "augmented_bigrock_level", "weighted_focal+scce", True),
    ]
    final, best = registry.get("final", "full"), registry.get("attention_psp", "full")
    assert not final.validation and best.validation
    assert (final.model, final.variant, final.loss, final.class_weights) == (
        best.model,
        best.variant,
        best.loss,
        best.class_weights,
    )
    assert final.profile == "full" and final.epochs == best.epochs == 40  # set by the registry


BIG_ROCK_SETS = {
    "augmented_bigrock_level",
    "augmented_bigrock_vflip",
    "cutmix_bigrock_level",
    "oversampled_bigrock_level",
}


def test_the_beyond_data_runs_train_on_sets_of_the_recipes_size(tiny_data: data.MarsData) -> None:
    recipe = registry.get(registry.RECIPE, "reference").variant
    variants = {name: registry.get(name, "reference").variant for name in DATA_RUNS}
    assert variants == DATA_RUNS
    train = np.arange(30)
    balanced, _ = datasets.build("balanced_bigrock", tiny_data, train, seed=0, cache=False)
    sizes = {
        variant: len(datasets.build(variant, tiny_data, train, seed=0, cache=False)[0])
        for variant in (recipe, *variants.values())
    }
    assert sizes == dict.fromkeys(sizes, 2 * len(balanced)), "one copy of a base of one size"


@pytest.mark.parametrize(
    "profile, cleaned_epochs, big_rock_epochs", [("reference", 30, 20), ("full", 60, 40)]
)
def test_runs_on_the_big_rock_sets_train_two_thirds_of_the_epochs(
    profile: str, cleaned_epochs: int, big_rock_epochs: int
) -> None:
    epochs = {e.name: e.resolved().epochs for e in registry.experiments(profile)}
    expected = {
        e.name: big_rock_epochs if e.variant in BIG_ROCK_SETS else cleaned_epochs
        for e in registry.experiments(profile)
    }
    assert epochs == expected
    assert epochs["final"] == epochs["attention_psp"] == big_rock_epochs


def test_the_reference_runs_train_a_fixed_budget_and_keep_the_last_epoch() -> None:
    for experiment in (e.resolved() for e in registry.experiments("reference")):
        assert (experiment.patience, experiment.schedule, experiment.learning_rate) == (
            0,
            "constant_then_cosine",
            1e-3,
        ), experiment.name


def test_a_seed_changes_the_run_and_nothing_else() -> None:
    zero, two = (
        registry.get("unet_weighted", "reference"),
        registry.get("unet_weighted", "reference", 2),
    )
    assert (zero.seed, two.seed) == (0, 2)
    assert _differing(zero, two) == {"seed"}


def test_a_profile_object_or_its_name() -> None:
    assert registry.get("wnet", marslib.profile("full")) == registry.get("wnet", "full")


def test_unknown_experiment_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unet_baseline"):
        registry.get("transformer", "quick")


def test_experiments_from_yaml_and_json_files(tmp_path: Path) -> None:
    (tmp_path / "more.yaml").write_text(
        "experiments:\n"
        "  - {base: pspnet, name: pspnet_slow, learning_rate: 0.0003}\n"
        "  - {name: unet_dice, model: unet, loss: dice, epochs: 2, profile: full}\n"
    )
    slow, dice = registry.load_experiments(tmp_path / "more.yaml", profile="quick")
    assert slow.to_dict() == {
        **registry.get("pspnet", "quick").to_dict(),
        "name": "pspnet_slow",
        "learning_rate": 0.0003,
    }
    assert (dice.loss, dice.epochs, dice.profile, dice.resolved().batch_size) == (
        "dice",
        2,
        "full",
        marslib.PROFILES["full"].batch_size,
    )
    (tmp_path / "one.json").write_text(json.dumps(TINY))
    assert registry.load_experiments(tmp_path / "one.json") == [training.Experiment.from_dict(TINY)]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        registry.load_experiments(tmp_path / "bad.json")
    with pytest.raises(ValueError, match=r"\.json, \.yaml"):
        registry.load_experiments(tmp_path / "more.txt")


@pytest.mark.parametrize("name", [name for name in registry.names() if registry.RUNS[name].base])
def test_every_derived_run_differs_from_its_base_in_what_it_names_only(name: str) -> None:
    run = registry.RUNS[name]
    base, derived = registry.get(run.base, "reference"), registry.get(name, "reference")
    names = run.fields | run.profile_changes.get("reference", {})
    named = {key for key, value in names.items() if getattr(base, key) != value}
    assert _differing(base, derived) == named and named


def test_the_gates_pair_differs_in_the_model_alone() -> None:
    (pair,) = registry.names("gates")
    psp, gated = registry.get(pair, "quick"), registry.get("attention_psp", "quick")
    assert _differing(psp, gated) == {"model"} and psp.model == "pspnet"
