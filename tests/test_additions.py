"""Chapter 13's table of ideas over every seed: the counts of the changes made after training
agree with the library's Keras models of them (`predict` with flips, `refine.Refined`,
`ensemble.Ensemble`), and each gain is the interval of `marslib.analysis.intervals`."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from marslib import metrics, models
from marslib.analysis import additions, intervals
from marslib.evaluation import ensemble, refine
from marslib.evaluation import scoring as scoring_sets


def _model(classes: int, seed: int) -> keras.Model:
    """A tiny random model (B, 16, 32, 1) -> softmax (B, 16, 32, classes)."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((16, 32, 1))
    hidden = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Conv2D(classes, 1, activation="softmax")(hidden))


def _run(name: str, seeds: dict[int, object], per_image: dict | None = None) -> SimpleNamespace:
    """A stand-in for a RunRecord carrying its seeds: each seed's model and per-image counts."""
    records = [
        SimpleNamespace(
            experiment=SimpleNamespace(name=name, seed=seed),
            load_model=lambda model=model: model,
            per_image=lambda seed=seed: (per_image or {}).get(seed, {}),
        )
        for seed, model in seeds.items()
    ]
    for record in records:
        record.seed_records = lambda records=records: tuple(records)
    return records[0]


@pytest.fixture(scope="module")
def scene() -> SimpleNamespace:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(10, 16, 32), dtype=np.uint8)
    masks = rng.integers(0, 5, size=(10, 16, 32)).astype(np.uint8)
    seeds = (0, 1, 2)
    recipe = _run("attention_psp", {s: _model(5, 10 + s) for s in seeds})
    net = _run("background_net", {s: _model(2, 20 + s) for s in seeds})
    member = _run("pspnet", {s: _model(5, 30 + s) for s in seeds})
    counts = additions.seed_counts(recipe, net, [recipe, member], images, masks, batch_size=4)
    return SimpleNamespace(
        images=images, masks=masks, recipe=recipe, net=net, member=member, counts=counts
    )


def _confusion(scene: SimpleNamespace, model: keras.Model, **options: bool) -> np.ndarray:
    return metrics.per_image_confusion(
        scene.masks, models.predict(model, scene.images, batch_size=4, **options)
    )


def test_the_recipe_and_flip_rows_are_predict_with_and_without_flips(scene) -> None:
    for i, record in enumerate(scene.recipe.seed_records()):
        model = record.load_model()
        assert np.array_equal(scene.counts[additions.RECIPE][i], _confusion(scene, model))
        flipped = _confusion(scene, model, flip=True)
        assert np.array_equal(scene.counts[additions.TTA][i], flipped)
    assert len(scene.counts[additions.TTA]) == 3


def _pixels_apart(a: np.ndarray, b: np.ndarray) -> int:
    """How many pixels two sets of per-image counts put elsewhere (at most)."""
    return int(np.abs(a.astype(np.int64) - b.astype(np.int64)).sum())


def test_the_refined_and_ensemble_rows_agree_with_the_librarys_models(scene) -> None:
    pixels = scene.masks.size
    for i, (recipe, net, member) in enumerate(
        zip(
            scene.recipe.seed_records(),
            scene.net.seed_records(),
            scene.member.seed_records(),
            strict=True,
        )
    ):
        multi = recipe.load_model()
        refined = _confusion(scene, refine.Refined(multi, net.load_model(), 0.5))
        averaged = _confusion(scene, ensemble.Ensemble([multi, member.load_model()]))
        # Keras composes the same float32 numbers in another order: a rare near-tie may flip.
        assert _pixels_apart(scene.counts[additions.REFINED][i], refined) <= 0.002 * pixels
        assert _pixels_apart(scene.counts[additions.ENSEMBLE][i], averaged) <= 0.002 * pixels
        assert scene.counts[additions.ENSEMBLE][i].sum() == pixels


def test_runs_of_other_seeds_than_the_recipes_are_refused(scene) -> None:
    odd = _run("background_net", {0: _model(2, 1), 3: _model(2, 2), 2: _model(2, 3)})
    with pytest.raises(ValueError, match=r"background_net has seeds \[0, 3, 2\]"):
        additions.seed_counts(
            scene.recipe, odd, [scene.recipe, scene.member], scene.images, scene.masks
        )
    with pytest.raises(ValueError, match="at least 2 runs"):
        additions.seed_counts(scene.recipe, scene.net, [scene.member], scene.images, scene.masks)


def _image(right: int, wrong: int, rock: int = 4) -> np.ndarray:
    """One image's counts: soil pixels right and wrong (called sand), and rock pixels right."""
    counts = np.zeros((5, 5), dtype=np.uint16)
    counts[1, 1], counts[1, 3], counts[3, 3], counts[4, 4], counts[0, 0] = right, wrong, 20, rock, 9
    return counts


def _scoring(
    images: int, *, positions: list[int] | None = None, split: str = "test"
) -> scoring_sets.ScoringSet:
    """A scoring set of no pixels: `gains_table` reads only its split and positions."""
    chosen = np.arange(images) if positions is None else np.asarray(positions)
    empty = np.zeros((len(chosen), 1, 1), dtype=np.uint8)
    return scoring_sets.ScoringSet(empty, empty, "stand-in", split, chosen)


def test_the_gains_read_changes_after_training_seed_by_seed_and_retrained_runs_by_welch() -> None:
    # The recipe's three seeds score far apart; a change after training turns the same six
    # wrong soil pixels of every image right in each seed: paired, that gain is told; Welch's,
    # which counts the seeds' shared spread, cannot tell it.
    base = [np.stack([_image(r + j, 100 - r - j) for j in range(20)]) for r in (40, 50, 60)]
    better = [np.stack([_image(r + j + 6, 94 - r - j) for j in range(20)]) for r in (40, 50, 60)]
    counts = {"recipe": base, "+ flip TTA": better}
    recipe = _run(
        "attention_psp", dict.fromkeys((0, 1, 2)), {s: {"test": c} for s, c in enumerate(base)}
    )
    other = [np.stack([_image(60 + j % s, 40 - j % s) for j in range(20)]) for s in (2, 3, 5)]
    cutmix = _run(
        "beyond_cutmix", dict.fromkeys((0, 1, 2)), {s: {"test": c} for s, c in enumerate(other)}
    )
    scoring = _scoring(20)
    table = additions.gains_table(counts, recipe, {"data: CutMix": cutmix}, scoring)

    assert list(table.index) == ["recipe", "+ flip TTA", "data: CutMix"]
    paired = intervals.from_counts([(1.0, better), (-1.0, base)], "test", paired=True)
    row = table.loc["+ flip TTA"]
    assert row["Δ mIoU"] == pytest.approx(paired.gap)
    assert row["95% interval"] == f"{paired.low:+.3f} to {paired.high:+.3f}"
    assert row["verdict"] == "raises the mIoU" and row["gain read"] == "seed by seed"
    unpaired = intervals.from_counts([(1.0, better), (-1.0, base)], "test")
    assert unpaired.verdict == "cannot tell"

    welch = intervals.gap(cutmix.seed_records(), recipe.seed_records(), "test")
    assert table.loc["data: CutMix", "Δ mIoU"] == pytest.approx(welch.gap)
    assert table.loc["data: CutMix", "verdict"] == additions.MOVES[welch.verdict]
    assert table.loc["data: CutMix", "gain read"] == "independent seeds"

    # Means over the seeds, each seed scored on its summed images.
    scored = [metrics.iou_from_confusion(c.sum(axis=0)) for c in base]
    assert table.loc["recipe", "mIoU"] == pytest.approx(np.mean([s.mean() for s in scored]))
    assert table.loc["recipe", "Big Rock IoU"] == pytest.approx(1.0)
    assert table.loc["recipe", "background recall"] == pytest.approx(1.0)
    assert table.loc["recipe", "verdict"] == "(base)" and table.loc["recipe", "seeds"] == 3

    # The records' counts are taken at the scoring set's positions in their split.
    picked = _scoring(3, positions=[2, 5, 19])
    few = {name: [c[[2, 5, 19]] for c in seeds] for name, seeds in counts.items()}
    small = additions.gains_table(few, recipe, {"data: CutMix": cutmix}, picked)
    on_few = intervals.from_counts(
        [(1.0, [c[[2, 5, 19]] for c in other]), (-1.0, few["recipe"])], "test"
    )
    assert small.loc["data: CutMix", "Δ mIoU"] == pytest.approx(on_few.gap)
    with pytest.raises(ValueError, match="the scoring set has 3"):
        additions.gains_table(counts, recipe, {}, picked)
    with pytest.raises(ValueError, match="has no val scores"):
        additions.gains_table(counts, recipe, {}, _scoring(20, split="val"))


def test_one_seed_a_run_cannot_tell() -> None:
    base = [np.stack([_image(20, 80), _image(50, 50)])]
    better = [np.stack([_image(90, 10), _image(90, 10)])]
    recipe = _run("attention_psp", {0: None}, {0: {"test": base[0]}})
    table = additions.gains_table({"recipe": base, "+ flip TTA": better}, recipe, {}, _scoring(2))
    assert table.loc["+ flip TTA", "verdict"] == "cannot tell"
    assert table.loc["+ flip TTA", "95% interval"] == ""


def test_record_counts_are_each_seeds_counts_at_the_scoring_positions() -> None:
    seeds = [np.stack([_image(10 * s + j, 50) for j in range(6)]) for s in range(3)]
    run = _run(
        "beyond_cutmix", dict.fromkeys((0, 1, 2)), {s: {"test": c} for s, c in enumerate(seeds)}
    )
    found = additions.record_counts(run, _scoring(2, positions=[1, 4]))
    assert [c.tolist() for c in found] == [c[[1, 4]].tolist() for c in seeds]
    with pytest.raises(ValueError, match=r"beyond_cutmix \(seed 0\) has no val scores"):
        additions.record_counts(run, _scoring(2, split="val"))
