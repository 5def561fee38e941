"""The refinement net the report proposed: a second network that only answers "background or not?".

The report's best loss gave background a weight of 0, and its model then predicted "much less
background". A small U-Net with two classes (background, non-background) is trained for that one
question, and the two answers are combined pixel by pixel (`combine`):

- where the binary net's background probability is above `threshold`, the pixel is background;
- elsewhere it gets the multi-class model's most likely **non-background** class.

    experiment = refine.background_experiment("quick")
    net = refine.train_background_net(experiment, data)            # or its cached record
    model = refine.Refined(multi_class_model, net.load_model(), threshold=0.5)
    labels = evaluate.predict(model, data.test_images)

The net trains as an experiment does (the same `marslib.train.Experiment` fields, split, dataset
variant, AdamW and seed; plain cross-entropy on the two classes) and its record is cached under
``<runs>/background/<name>-<hash>/`` (config.json, history.csv, metrics.json, model.keras, DONE),
apart from the multi-class records so that `marslib.train.records` never lists it. On a CPU a
record is reproduced bit for bit from its seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tensorflow as tf

import marslib
from marslib import metrics, paths, variants
from marslib.classes import BACKGROUND, NUM_CLASSES

if TYPE_CHECKING:
    from marslib.data import MarsData
    from marslib.train import Experiment

BACKGROUND_FOLDER = "background"
TASK = "background / non-background"
RECORD_FILES: tuple[str, ...] = ("config.json", "history.csv", "metrics.json", "model.keras", "DONE")


# ---------------------------------------------------------------- the combination rule


def combine(probabilities: Any, background_probability: Any, threshold: float) -> Any:
    """The refinement rule, as probabilities whose most likely class is the final label.

    Args:
        probabilities: the multi-class model's softmax, float (..., 5).
        background_probability: the binary net's probability of background, float (...).
        threshold: a pixel whose background probability is strictly above it becomes background.

    Returns:
        float32 tensor (..., 5): one-hot background where the binary net says background; elsewhere
        the multi-class probabilities of classes 1..4 renormalised to sum 1, with 0 for background.
        Works on NumPy arrays and Keras tensors alike (`keras.ops`).
    """
    _check_threshold(threshold)
    probabilities = keras.ops.cast(probabilities, "float32")
    terrain = probabilities[..., 1:]
    terrain = terrain / keras.ops.maximum(keras.ops.sum(terrain, axis=-1, keepdims=True), keras.config.epsilon())
    background = keras.ops.cast(keras.ops.cast(background_probability, "float32") > threshold, "float32")[..., None]
    return keras.ops.concatenate([background, terrain * (1.0 - background)], axis=-1)


def _check_threshold(threshold: float) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")


@keras.saving.register_keras_serializable(package="marslib")
class Refined(keras.Model):
    """A multi-class model corrected by a background net: images (B, H, W, 1) -> (B, H, W, 5).

    The output is `combine` of the two models' outputs, so its argmax is the refined label.

    Args:
        multi_class: maps images to probabilities (B, H, W, 5).
        background: maps images to probabilities (B, H, W, 2), class 0 background.
        threshold: background probability above which a pixel is background, in [0, 1].
    """

    def __init__(self, multi_class: keras.Model, background: keras.Model, threshold: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _check_threshold(threshold)
        if tuple(multi_class.output_shape)[-1] != NUM_CLASSES:
            raise ValueError(f"the multi-class model must output {NUM_CLASSES} classes, got shape {multi_class.output_shape}")
        if tuple(background.output_shape)[-1] != 2:
            raise ValueError(f"the background net must output 2 classes, got shape {background.output_shape}")
        if tuple(multi_class.input_shape) != tuple(background.input_shape):
            raise ValueError(f"the two models must take the same input, got {multi_class.input_shape} and {background.input_shape}")
        self.multi_class, self.background, self.threshold = multi_class, background, float(threshold)

    def call(self, inputs: Any) -> Any:
        return combine(self.multi_class(inputs), self.background(inputs)[..., 0], self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "multi_class": keras.saving.serialize_keras_object(self.multi_class),
            "background": keras.saving.serialize_keras_object(self.background),
            "threshold": self.threshold,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Refined:
        config = dict(config)
        multi_class = keras.saving.deserialize_keras_object(config.pop("multi_class"))
        background = keras.saving.deserialize_keras_object(config.pop("background"))
        return cls(multi_class, background, **config)


# ---------------------------------------------------------------- scores


def background_scores(masks: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """How a prediction treats background, which the competition's mIoU does not score.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        ``"background recall"``: share of the true-background pixels predicted background;
        ``"background precision"``: share of the pixels predicted background that are background;
        ``"terrain called background"``: share of the terrain pixels (classes 1..4) predicted
        background, each a false negative of its class in the competition's IoU;
        ``"5-class mIoU"``: mean IoU over all five classes and all pixels, background counted
        (a class with an empty union counts 1.0). NaN where a share has no pixel to count.
    """
    confusion = metrics.confusion_matrix(masks, predicted).astype(np.float64)
    true_positives = np.diag(confusion)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - true_positives
    iou = np.divide(true_positives, union, out=np.ones(NUM_CLASSES), where=union > 0)
    terrain = confusion[1:].sum()

    def share(part: float, whole: float) -> float:
        return float(part / whole) if whole else float("nan")

    return {
        "background recall": share(confusion[BACKGROUND, BACKGROUND], confusion[BACKGROUND].sum()),
        "background precision": share(confusion[BACKGROUND, BACKGROUND], confusion[:, BACKGROUND].sum()),
        "terrain called background": share(confusion[1:, BACKGROUND].sum(), terrain),
        "5-class mIoU": float(iou.mean()),
    }


def binary_scores(masks: np.ndarray, background_probability: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """How well the background net alone finds background.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        background_probability: the net's background probability, float (N, H, W).
        threshold: a pixel is called background where the probability is strictly above it.

    Returns:
        ``"background recall"``, ``"background precision"`` and ``"background IoU"`` (NaN where undefined).
    """
    _check_threshold(threshold)
    truth = background_targets(masks) == 0
    called = np.asarray(background_probability) > threshold
    if called.shape != truth.shape:
        raise ValueError(f"masks {truth.shape} and background probabilities {called.shape} must have the same shape")
    both = float(np.sum(truth & called))
    ratios = {"background recall": truth.sum(), "background precision": called.sum(), "background IoU": np.sum(truth | called)}
    return {name: both / float(whole) if whole else float("nan") for name, whole in ratios.items()}


def threshold_sweep(
    masks: np.ndarray,
    probabilities: np.ndarray,
    background_probability: np.ndarray,
    thresholds: np.ndarray | list[float],
) -> pd.DataFrame:
    """Score the refined labels at each threshold, to choose one on validation images.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        probabilities: the multi-class model's outputs, float (N, H, W, 5).
        background_probability: the binary net's background probability, float (N, H, W).
        thresholds: the thresholds to try, each in [0, 1].

    Returns:
        DataFrame indexed by threshold with the competition "mIoU" and the columns of `background_scores`.
    """
    probabilities, background_probability = np.asarray(probabilities), np.asarray(background_probability)
    if probabilities.shape != (*np.shape(masks), NUM_CLASSES) or background_probability.shape != np.shape(masks):
        raise ValueError(
            f"expected masks (N, H, W), probabilities (N, H, W, {NUM_CLASSES}) and background probabilities (N, H, W); "
            f"got {np.shape(masks)}, {probabilities.shape} and {background_probability.shape}"
        )
    rows = {}
    for threshold in thresholds:
        labels = np.argmax(keras.ops.convert_to_numpy(combine(probabilities, background_probability, float(threshold))), axis=-1)
        rows[float(threshold)] = {"mIoU": metrics.competition_miou(masks, labels)} | background_scores(masks, labels)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "threshold"
    return table


SWEEP_PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What the threshold trades", ("background recall", "terrain called background")),
    ("What the scores say", ("mIoU", "5-class mIoU")),
)


def sweep_figure(sweep: pd.DataFrame, alone: Mapping[str, float]) -> plt.Figure:
    """The threshold sweep as two panels of curves, the multi-class model alone as dotted lines.

    Args:
        sweep: the table of `threshold_sweep`.
        alone: the same scores for the multi-class model's own labels (e.g. `background_scores`
            plus "mIoU"), drawn as horizontal lines in the colour of their curve.
    """
    needed = {column for _, columns in SWEEP_PANELS for column in columns}
    missing = (needed - set(sweep.columns)) | (needed - set(alone))
    if missing:
        raise ValueError(f"sweep and alone must both hold the scores {sorted(needed)}; missing {sorted(missing)}")
    figure, axes = plt.subplots(1, len(SWEEP_PANELS), figsize=(12, 3.6))
    for ax, (title, columns) in zip(axes, SWEEP_PANELS):
        for colour, column in enumerate(columns):
            ax.plot(sweep.index, sweep[column], marker=".", color=f"C{colour}", label=column)
            ax.axhline(alone[column], color=f"C{colour}", linestyle=":", label=f"{column}, model alone")
        ax.set(xlabel="threshold on the background probability", title=title)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------- the background net as a run


def background_experiment(profile: str | None = None, **changes: Any) -> Experiment:
    """The background net's recipe: a U-Net on the cleaned training split, plain cross-entropy.

    Args:
        profile: "quick", "full" or "auto" (None: `marslib.profile()`); sets size, epochs, batch size...
        changes: any other `marslib.train.Experiment` field, e.g. ``model_options={"se": True}``.
    """
    from marslib.train import Experiment

    fields = {"name": "background_net", "model": "unet", "variant": "cleaned", "loss": "scce",
              "description": "background / non-background U-Net / cleaned / SCCE"}
    return Experiment(**(fields | changes), profile=marslib.profile(profile).name)


def background_targets(masks: np.ndarray) -> np.ndarray:
    """The binary net's labels: 0 where a pixel is background, 1 where it is terrain.

    Args:
        masks: integer (N, H, W) labels 0..4.

    Returns:
        uint8 (N, H, W).
    """
    masks = np.asarray(masks)
    if not np.issubdtype(masks.dtype, np.integer) or masks.size == 0 or masks.min() < 0 or masks.max() >= NUM_CLASSES:
        raise ValueError(f"masks must be integer labels 0..{NUM_CLASSES - 1}, got {masks.dtype} {masks.shape}")
    return (masks != BACKGROUND).astype(np.uint8)


def run_directory(experiment: Experiment, data: MarsData, runs_dir: Path | str | None = None) -> Path:
    """Where the background net of `experiment` trained on `data` lives: ``<runs>/background/<name>-<hash>``."""
    config = experiment.to_dict()
    config.pop("description")
    text = json.dumps({"task": TASK, "experiment": config, "data": data.fingerprint}, sort_keys=True)
    root = Path(runs_dir) if runs_dir is not None else paths.runs_dir()
    return root / BACKGROUND_FOLDER / f"{experiment.name}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class BackgroundRun:
    """A finished background net, as read back from its folder.

    Attributes:
        directory: the run folder.
        experiment: the recipe it ran.
        history: one row per epoch (loss, background_iou, val_loss, val_background_iou).
        metrics: ``{"val": binary_scores of the validation split at threshold 0.5, "best_epoch",
            "epochs_run", "parameters", "train_seconds", "data_source"}``.
    """

    directory: Path
    experiment: Experiment
    history: pd.DataFrame
    metrics: dict[str, Any]

    def load_model(self) -> keras.Model:
        """The trained net (uncompiled): images (B, H, W, 1) -> probabilities (B, H, W, 2), class 0 background."""
        import marslib.models  # noqa: F401  (registers the custom layers the file names)

        return keras.saving.load_model(self.directory / "model.keras", compile=False)


def load_background_run(directory: Path | str) -> BackgroundRun:
    """Read a finished background net; ValueError when `directory` holds none."""
    from marslib.train import Experiment

    directory = Path(directory)
    if not (directory / "DONE").exists():
        raise ValueError(f"{directory} holds no finished background net (no DONE marker)")
    return BackgroundRun(
        directory=directory,
        experiment=Experiment.from_dict(json.loads((directory / "config.json").read_text())),
        history=pd.read_csv(directory / "history.csv"),
        metrics=json.loads((directory / "metrics.json").read_text()),
    )


def _check_recipe(experiment: Experiment) -> None:
    if experiment.loss != "scce" or experiment.class_weights is not None or experiment.loss_options:
        raise ValueError(
            "the background net trains with plain cross-entropy on two classes: loss 'scce', no class_weights "
            f"and no loss_options; got loss {experiment.loss!r}, class_weights {experiment.class_weights!r}, "
            f"loss_options {experiment.loss_options!r}"
        )
    if not experiment.validation:
        raise ValueError("the background net keeps its best validation epoch: it needs validation=True")


def _build(experiment: Experiment, steps_per_epoch: int) -> keras.Model:
    from marslib import models, train

    keras.utils.set_random_seed(experiment.seed)
    net = models.build(experiment.model, num_classes=2, size=experiment.model_size, **experiment.model_options)
    net = keras.Model(net.inputs, net.outputs, name=experiment.name)
    net.compile(
        optimizer=keras.optimizers.AdamW(
            experiment.learning_rate, weight_decay=experiment.weight_decay, clipnorm=experiment.clipnorm
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.IoU(num_classes=2, target_class_ids=[BACKGROUND], sparse_y_pred=False, name="background_iou")],
    )
    train.set_schedule(net, experiment, steps_per_epoch)
    return net


def train_background_net(
    experiment: Experiment,
    data: MarsData | None = None,
    runs_dir: Path | str | None = None,
    *,
    verbose: int = 0,
) -> BackgroundRun:
    """Train the background net of `experiment`, or load its record if it is already complete.

    The images are those `marslib.train.run` would train and validate the same experiment on
    (the split, the variant, the subset); the labels are `background_targets` of the masks.
    Training stops after `patience` epochs without a better validation background IoU and keeps
    the best epoch. The net trains in float32 without XLA whatever the profile says (it is small),
    and an interrupted run starts again from scratch (it takes about a minute on a CPU).

    Args:
        experiment: the recipe (`background_experiment`); loss "scce" without class weights.
        data: the data set (default `marslib.data.load()`).
        runs_dir: where records live (default `$MARSLIB_RUNS`, else ``<repo>/runs``).
        verbose: Keras progress output (0 silent, 1 progress bar, 2 one line per epoch).
    """
    from marslib import data as marsdata
    from marslib import train
    from marslib.augment.pipeline import make_dataset
    from marslib.data import to_model_input

    _check_recipe(experiment)
    data = data if data is not None else marsdata.load()
    directory = run_directory(experiment, data, runs_dir)
    if (directory / "DONE").exists():
        return load_background_run(directory)
    if not tf.config.list_physical_devices("GPU"):
        tf.config.experimental.enable_op_determinism()
    train_indices, val_indices = train.split_indices(experiment, data)
    images, masks = variants.build(experiment.variant, data, train_indices, seed=experiment.seed)
    if experiment.train_limit and len(images) > experiment.train_limit:
        keep = np.sort(np.random.default_rng(experiment.seed).choice(len(images), experiment.train_limit, replace=False))
        images, masks = images[keep], masks[keep]
    val_images, val_masks = data.train_images[val_indices], data.train_masks[val_indices]

    net = _build(experiment, steps_per_epoch=-(-len(images) // experiment.batch_size))
    batches = make_dataset(images, background_targets(masks), experiment.batch_size,
                           augment=experiment.augment, shuffle=True, seed=experiment.seed)
    validation = make_dataset(val_images, background_targets(val_masks), experiment.batch_size, augment=None, shuffle=False)
    stopping = keras.callbacks.EarlyStopping(
        monitor="val_background_iou", mode="max", patience=experiment.patience, restore_best_weights=True
    )
    started = time.perf_counter()
    history = net.fit(batches, validation_data=validation, epochs=experiment.epochs, callbacks=[stopping],
                      shuffle=False, verbose=verbose)
    seconds = time.perf_counter() - started
    val_background = net.predict(to_model_input(val_images), batch_size=max(experiment.batch_size, 64), verbose=0)[..., 0]
    found = {
        "val": binary_scores(val_masks, val_background),
        "best_epoch": int(stopping.best_epoch),
        "epochs_run": len(history.history["loss"]),
        "parameters": int(net.count_params()),
        "train_seconds": round(seconds, 2),
        "data_source": data.source,
    }
    directory.mkdir(parents=True, exist_ok=True)
    _write(directory / "config.json", json.dumps(experiment.to_dict(), indent=2))
    columns = ["loss", "background_iou", "val_loss", "val_background_iou"]
    pd.DataFrame(history.history)[columns].rename_axis("epoch").reset_index().to_csv(directory / "history.csv", index=False)
    _write(directory / "metrics.json", json.dumps(found, indent=2))
    net.save(directory / "model.keras")
    _write(directory / "DONE", "complete\n")
    return load_background_run(directory)


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text if text.endswith("\n") else text + "\n")
    os.replace(temporary, path)
