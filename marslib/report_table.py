"""Reading the results: the report's Table 1 beside ours, the ablation, and what the predictions say.

    table = report_table.table1(train.records())          # our Table 1, the report's numbers beside
    report_table.one_change_pairs(report_table.report_table1(), "test mIoU")
    for experiment in report_table.ablation_experiments("quick"):
        train.run(experiment)
    report_table.background_use(val_masks, predicted)    # how much background a model predicts

The report claims that "the main improvement in performances were due to the right choice of loss
and of the dataset, rather than the model". Two tools test it: `one_change_pairs` lists the pairs
of rows of a results table that differ in one ingredient only (the model, or the data and loss)
with the score gained; `ablation_experiments` adds the two runs that turn the baseline U-Net and the
best model (Attention + PSP) into a 2 x 2 design: each model with each recipe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from marslib import evaluate, experiments, losses, metrics
from marslib.classes import BACKGROUND, BIG_ROCK, CLASS_NAMES, NUM_CLASSES

if TYPE_CHECKING:
    from marslib.train import Experiment, RunRecord

# The report's Table 1 (validation and Kaggle mean IoU, as fractions), keyed by our experiment names.
REPORT_ROWS: dict[str, tuple[str, str, str, float, float]] = {
    "unet_baseline": ("Baseline U-Net", "Cleaned", "SCCE", 0.4523, 0.4301),
    "deeplabv3": ("DeepLabV3", "Cleaned", "SCCE", 0.5200, 0.4877),
    "wnet": ("W-Net", "Cleaned", "Weighted SCCE", 0.5749, 0.5134),
    "pspnet": ("PSP", "Cleaned", "Weighted SCCE", 0.7271, 0.6413),
    "deeplabv3_bigrock": ("DeepLabV3", "Aug. Big Rocks", "Weighted SCCE", 0.7289, 0.6912),
    "attention_psp": ("Attention + PSP", "Aug. Big Rocks", "W. Focal+SCCE", 0.7288, 0.7178),
}
MODEL_NAMES: dict[str, str] = {
    "unet": "U-Net",
    "deeplabv3": "DeepLabV3",
    "wnet": "W-Net",
    "pspnet": "PSP",
    "attention_psp": "Attention + PSP",
}
DATASET_NAMES: dict[str, str] = {
    "original": "Original",
    "cleaned": "Cleaned",
    "fixed_monocolor": "Fixed monocolor",
    "fixed_bicolor": "Fixed bicolor",
    "balanced_bigrock": "Balanced Big Rocks",
    "augmented_bigrock": "Aug. Big Rocks",
    "cutmix_bigrock": "CutMix Big Rocks",
}
LOSS_TERMS: dict[str, str] = {"scce": "SCCE", "focal": "Focal", "dice": "Dice"}
SCORE_COLUMNS: tuple[str, ...] = ("val mIoU", "test mIoU", *(f"{name} IoU" for name in evaluate.SCORED_CLASSES))

# The 2 x 2 ablation: (experiment whose model is used, experiment whose data and loss are used).
BASELINE, BEST = "unet_baseline", "attention_psp"
ABLATION: dict[str, tuple[str, str]] = {
    BASELINE: (BASELINE, BASELINE),
    "attention_psp_baseline_recipe": (BEST, BASELINE),
    "unet_best_recipe": (BASELINE, BEST),
    BEST: (BEST, BEST),
}
ABLATION_ORDER: tuple[str, ...] = tuple(ABLATION)


def report_table1() -> pd.DataFrame:
    """The report's Table 1 as they published it (their numbers, not ours).

    Returns:
        DataFrame indexed by our experiment names with columns model, dataset, loss,
        "val mIoU" and "test mIoU" (their Kaggle score), the scores as fractions.
    """
    return pd.DataFrame.from_dict(
        REPORT_ROWS, orient="index", columns=["model", "dataset", "loss", "val mIoU", "test mIoU"]
    ).rename_axis("experiment")


def loss_label(spec: str) -> str:
    """The report's way of naming a loss spec: "weighted_scce" -> "Weighted SCCE",
    "weighted_focal+scce" -> "W. Focal+SCCE", "0.5*dice+0.5*focal" -> "0.5*Dice+0.5*Focal"."""
    terms = spec.split("+")
    labels = []
    for term in terms:
        factor, _, name = term.rpartition("*")
        weighted = name.startswith("weighted_")
        base = name.removeprefix("weighted_")
        if base not in LOSS_TERMS:
            raise ValueError(f"unknown loss term {name!r} in {spec!r}; known terms: {sorted(LOSS_TERMS)} (optionally weighted_)")
        prefix = ("W. " if len(terms) > 1 else "Weighted ") if weighted else ""
        labels.append(f"{factor + '*' if factor else ''}{prefix}{LOSS_TERMS[base]}")
    return "+".join(labels)


def table1(records: Sequence[RunRecord], *, per_class: str = "auto") -> pd.DataFrame:
    """Our Table 1 in the report's form, with per-class IoU and the report's numbers beside.

    Args:
        records: finished runs, one row each, in the order given.
        per_class: split of the per-class IoU columns ("val", "test", or "auto": see
            `marslib.evaluate.results_table`).

    Returns:
        DataFrame indexed by experiment name with columns model, dataset, loss, training images,
        val mIoU, test mIoU (the test set's public quarter; NaN where the test labels are unknown:
        the real file), Soil/Bedrock/Sand/Big Rock IoU, "report val mIoU" and "report Kaggle mIoU"
        (NaN for a run that is not one of the report's rows).
    """
    if not records:
        raise ValueError("no run records given: train the experiments first (marslib.train.run)")
    ours = evaluate.results_table(records, per_class=per_class)
    theirs = report_table1()
    table = pd.DataFrame(
        {
            "model": [MODEL_NAMES.get(r.experiment.model, r.experiment.model) for r in records],
            "dataset": [DATASET_NAMES.get(r.experiment.variant, r.experiment.variant) for r in records],
            "loss": [loss_label(r.experiment.loss) for r in records],
            "training images": [int(r.provenance["train_images"]) for r in records],
        },
        index=ours.index,
    )
    table[list(SCORE_COLUMNS)] = ours[list(SCORE_COLUMNS)]
    table["report val mIoU"] = theirs["val mIoU"].reindex(table.index)
    table["report Kaggle mIoU"] = theirs["test mIoU"].reindex(table.index)
    return table


def ablation_experiments(profile: str | None = None) -> list[Experiment]:
    """The two runs that complete the 2 x 2 ablation (model x data-and-loss recipe).

    Each takes the data, loss, class weights and training size of one Table 1 experiment and
    the model of another, through `marslib.experiments.from_config`. In this order:

    - ``attention_psp_baseline_recipe``: Attention + PSP trained with the baseline's recipe
      (cleaned data, plain SCCE);
    - ``unet_best_recipe``: the baseline U-Net trained with the best recipe (augmented Big Rock
      data, weighted focal + SCCE).

    Args:
        profile: "quick", "full" or "auto" (None: `marslib.profile()`).
    """
    made = []
    for name, (model_from, recipe_from) in ABLATION.items():
        if model_from == recipe_from:
            continue
        model = experiments.get_experiment(model_from, profile)
        made.append(
            experiments.from_config(
                {
                    "base": recipe_from,
                    "name": name,
                    "model": model.model,
                    "model_options": dict(model.model_options),
                    "description": f"{MODEL_NAMES[model.model]} with the data and loss of {recipe_from}",
                },
                profile,
            )
        )
    return made


def one_change_pairs(
    table: pd.DataFrame,
    score: str = "test mIoU",
    groups: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Pairs of rows that differ in exactly one group of ingredients, with the score gained.

    Args:
        table: one row per run (e.g. `table1` or `report_table1`), in the order a reader goes
            from one row to the next: each pair runs from the earlier row to the later one.
        score: the column compared.
        groups: ingredient name -> the columns it covers (default: "model" -> [model];
            "data + loss" -> [dataset, loss]). Two rows differ in a group when any of its
            columns differ.

    Returns:
        DataFrame with columns changed (the group), from, to (index labels), from score,
        to score and gain (to score - from score); empty when no pair differs in one group only.
    """
    groups = dict(groups) if groups is not None else {"model": ["model"], "data + loss": ["dataset", "loss"]}
    needed = [score, *(column for columns in groups.values() for column in columns)]
    missing = [column for column in needed if column not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}; it has {list(table.columns)}")
    rows = []
    for first, second in combinations(range(len(table)), 2):
        a, b = table.iloc[first], table.iloc[second]
        changed = [name for name, columns in groups.items() if any(a[c] != b[c] for c in columns)]
        if len(changed) == 1:
            rows.append(
                {
                    "changed": changed[0],
                    "from": table.index[first],
                    "to": table.index[second],
                    "from score": a[score],
                    "to score": b[score],
                    "gain": b[score] - a[score],
                }
            )
    return pd.DataFrame(rows, columns=["changed", "from", "to", "from score", "to score", "gain"])


def background_in_loss(experiment: Experiment) -> str:
    """How much of the experiment's loss sees the background pixels.

    A "weighted_" term of a loss spec uses the class weights, the other terms ignore them
    (`marslib.losses.get`), so weights without background take background out of the weighted
    terms only: "weighted_focal+scce" still learns background through its plain SCCE term.

    Returns:
        "no" (every term is weighted and the weights leave background out), "partly" (some
        terms do, others are unweighted) or "yes" (no term leaves it out).
    """
    weights = experiment.class_weights
    if weights is None:
        leaves_out = False
    elif isinstance(weights, Mapping):
        leaves_out = bool(weights.get("ignore_background", False))
    else:
        leaves_out = weights[BACKGROUND] == 0
    weighted = [name.startswith(losses.WEIGHTED_PREFIX) for _, name in losses.terms(experiment.loss)]
    if not leaves_out or not any(weighted):
        return "yes"
    return "no" if all(weighted) else "partly"


def background_use(masks: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """How much background a model predicts, against how much there is.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        ``{"true background share", "predicted background share"}`` (shares of all pixels),
        ``"background recall"`` (share of true background pixels predicted background),
        ``"background precision"`` (share of predicted background pixels that are background;
        NaN when none is predicted) and ``"terrain called background"`` (share of the scored,
        non-background pixels predicted as background: the only background error the
        competition's score sees).
    """
    confusion = metrics.confusion_matrix(masks, predicted).astype(np.float64)
    total = confusion.sum()
    true_background, predicted_background = confusion[BACKGROUND].sum(), confusion[:, BACKGROUND].sum()
    hits = confusion[BACKGROUND, BACKGROUND]
    terrain = total - true_background
    return {
        "true background share": true_background / total,
        "predicted background share": predicted_background / total,
        "background recall": hits / true_background if true_background else float("nan"),
        "background precision": hits / predicted_background if predicted_background else float("nan"),
        "terrain called background": (predicted_background - hits) / terrain if terrain else float("nan"),
    }


def confusions(masks: np.ndarray, predicted: np.ndarray, *, top: int | None = None) -> pd.DataFrame:
    """The mistakes on the scored pixels, largest first: which true class goes to which other class.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.
        top: keep only the `top` largest (None: all sixteen).

    Returns:
        DataFrame with columns true, predicted (class names) and share (the share of the true
        class's pixels given that predicted class), one row per true class 1..4 and other
        predicted class 0..4, sorted by share, largest first.
    """
    confusion = metrics.confusion_matrix(masks, predicted).astype(np.float64)
    rows = []
    for true in range(1, NUM_CLASSES):
        pixels = confusion[true].sum()
        for guess in range(NUM_CLASSES):
            if guess != true:
                share = confusion[true, guess] / pixels if pixels else float("nan")
                rows.append({"true": CLASS_NAMES[true], "predicted": CLASS_NAMES[guess], "share": share})
    found = pd.DataFrame(rows).sort_values("share", ascending=False, kind="stable", na_position="last")
    return found.head(top).reset_index(drop=True) if top is not None else found.reset_index(drop=True)


def mistake_kinds(masks: np.ndarray, predicted: np.ndarray) -> pd.Series:
    """What the wrongly labelled scored pixels (true class 1..4) were turned into, as shares.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        Series with "terrain for terrain" (soil, bedrock and sand taken for one another),
        "called background" (any terrain class predicted background) and "involves Big Rock"
        (Big Rock taken for soil, bedrock or sand, or they for Big Rock); the shares sum to 1
        (NaN when there is no mistake).
    """
    confusion = metrics.confusion_matrix(masks, predicted).astype(np.float64)
    terrain = [c for c in range(1, NUM_CLASSES) if c != BIG_ROCK]
    kinds = {
        "terrain for terrain": confusion[np.ix_(terrain, terrain)].sum() - np.trace(confusion[np.ix_(terrain, terrain)]),
        "called background": confusion[1:, BACKGROUND].sum(),
        "involves Big Rock": confusion[BIG_ROCK, terrain].sum() + confusion[terrain, BIG_ROCK].sum(),
    }
    total = sum(kinds.values())
    return pd.Series({kind: count / total if total else float("nan") for kind, count in kinds.items()})


def label_following(predicted: np.ndarray, true_classes: Sequence[int], given_classes: Sequence[int]) -> pd.DataFrame:
    """On images whose single-class label is wrong: does the model follow the label or the picture?

    Args:
        predicted: predicted labels, integer (K, H, W) in 0..4, one per wrongly labelled image.
        true_classes: the class each image really shows (K,).
        given_classes: the class its mask wrongly gives (K,).

    Returns:
        DataFrame (K rows) with "predicted as true class" and "predicted as given class": the
        share of each image's pixels predicted as that class.
    """
    predicted = np.asarray(predicted)
    true_classes, given_classes = np.asarray(true_classes), np.asarray(given_classes)
    if predicted.ndim != 3 or not len(predicted) == len(true_classes) == len(given_classes):
        raise ValueError(
            f"predicted must be (K, H, W) with one true and one given class per image; got {predicted.shape}, "
            f"{len(true_classes)} true and {len(given_classes)} given classes"
        )
    flat = predicted.reshape(len(predicted), -1)
    return pd.DataFrame(
        {
            "predicted as true class": (flat == true_classes[:, None]).mean(axis=1),
            "predicted as given class": (flat == given_classes[:, None]).mean(axis=1),
        }
    )
