"""An experiment: one training recipe as a small frozen config, checked in full when it is made.

    experiment = Experiment(name="unet_dice", model="unet", loss="dice", profile="quick")

Everything an experiment names is checked here, before any data is loaded or any file is
written: the model and its options, the dataset, the loss spec with its class weights and
options, the augmentation, the task, the numbers. Making one imports no TensorFlow, so listing
experiments and reading a record's config stay cheap. `marslib.training.loop.run` trains it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marslib import datasets
from marslib.augment import AUGMENTATIONS
from marslib.core import checks, profiles
from marslib.core.classes import NUM_CLASSES
from marslib.data import stats
from marslib.losses import spec as loss_spec
from marslib.models import catalog
from marslib.training.tasks import TASKS

SCHEDULES: tuple[str, ...] = ("constant", "cosine", "constant_then_cosine")
# The fields a profile gives a value to where the caller leaves them None (`Experiment.settings`).
PROFILE_FIELDS: tuple[str, ...] = (
    "model_size",
    "epochs",
    "batch_size",
    "patience",
    "train_limit",
    "mixed_precision",
    "jit_compile",
    "learning_rate",
    "schedule",
)


@dataclass(frozen=True)
class Experiment:
    """One training recipe. It keeps what its caller set; a field left None takes the profile's
    value when one is asked for (`settings`, `resolved`, `to_dict`), so replacing the profile
    changes every value that follows from it.

    Attributes:
        name: short identifier (letters, digits, "_", "-", "."); the run folder starts with it.
        model: a name from `marslib.catalog.names()`.
        variant: training dataset, a name from `marslib.datasets.names()`.
        loss: a loss spec for `marslib.losses.get`, e.g. "scce" or "weighted_focal+scce".
        class_weights: None; five per-class weights; or a method computed from the training
            masks with `marslib.data.stats.class_weights`, e.g.
            ``{"method": "balanced", "ignore_background": True, "cap": 10.0}``.
        model_options: keyword options for `marslib.models.build` (override the size's values).
        loss_options: keyword options for `marslib.losses.get`.
        augment: on-the-fly augmentation of `marslib.augment.pipeline.make_dataset` (None: none).
        learning_rate: AdamW's (peak) learning rate (None: the profile's).
        weight_decay: AdamW's decoupled weight decay.
        schedule: "constant"; "cosine" (decay to 0 over all epochs); "constant_then_cosine"
            (constant for two thirds of the epochs, then a cosine decay to 0); None: the
            profile's.
        clipnorm: clip each gradient to this norm (None: no clipping).
        profile: "quick", "full" or "reference" ("auto" is resolved when the object is made).
        model_size: "quick" or "full" size table of the model (None: the profile's).
        epochs: most epochs (None: the profile's).
        batch_size: training batch size (None: the profile's).
        patience: stop after this many epochs without a better validation mIoU and keep the
            best epoch; 0: train every epoch and keep the last (None: the profile's).
        train_limit: train on at most this many images, a seeded random subset (None: the
            profile's; 0: no limit).
        mixed_precision: `mixed_float16` on a GPU, `mixed_bfloat16` on a CPU with bfloat16 units,
            float32 elsewhere (`marslib.training.building.precision_policy`; None: the profile's).
        jit_compile: XLA-compile the training step on a GPU (None: the profile's; never on a CPU).
        seed: seed of the weights' initialisation, the batches, the variant's random copies and
            the subset. The train/validation split is not the run's: every run of the book is
            validated on the same images (`marslib.data.splits.SPLIT_SEED`), so that the seeds of
            one recipe, and two recipes, are compared on the same images.
        validation: hold out a validation split
            (False: train on everything, the report's final step).
        val_fraction: share of the training images held out for validation.
        task: "terrain" (the five classes, scored by the competition's mIoU) or "background"
            (background against terrain, the refinement net's task; see `marslib.training.tasks`).
        description: a human title for tables and listings (not part of the hash).
    """

    name: str
    model: str
    variant: str = "cleaned"
    loss: str = "scce"
    class_weights: tuple[float, ...] | dict[str, Any] | None = None
    model_options: dict[str, Any] = field(default_factory=dict)
    loss_options: dict[str, Any] = field(default_factory=dict)
    augment: str | None = None
    learning_rate: float | None = None
    weight_decay: float = 1e-4
    schedule: str | None = None
    clipnorm: float | None = None
    profile: str = "quick"
    model_size: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    patience: int | None = None
    train_limit: int | None = None
    mixed_precision: bool | None = None
    jit_compile: bool | None = None
    seed: int = 0
    validation: bool = True
    val_fraction: float = 0.2
    task: str = "terrain"
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"experiment name must be a non-empty text, got {self.name!r}")
        if not all(ch.isalnum() or ch in "_-." for ch in self.name):
            raise ValueError(
                f"experiment name must be letters, digits, '_', '-' or '.', got {self.name!r}"
            )
        if self.model not in catalog.names():
            raise ValueError(f"unknown model {self.model!r}; known models: {catalog.names()}")
        datasets.get(self.variant)
        object.__setattr__(self, "profile", profiles.profile(self.profile).name)
        settings = self.settings()
        if settings["schedule"] not in SCHEDULES:
            raise ValueError(
                f"unknown schedule {settings['schedule']!r}; known schedules: {list(SCHEDULES)}"
            )
        if settings["model_size"] not in catalog.SIZES[self.model]:
            raise ValueError(
                f"unknown model_size {settings['model_size']!r}; "
                f"known sizes: {list(catalog.SIZES[self.model])}"
            )
        for key in ("model_options", "loss_options"):
            if not isinstance(getattr(self, key), Mapping):
                raise ValueError(
                    f"{key} must be a mapping of option names to values, got {getattr(self, key)!r}"
                )
        unknown = sorted(set(self.model_options) - set(catalog.options(self.model)))
        if unknown:
            raise ValueError(
                f"unknown model option(s) {unknown} for {self.model}; "
                f"it accepts {catalog.options(self.model)}"
            )
        if self.model_options.get("deep_supervision"):
            raise ValueError(
                "deep_supervision gives a model two outputs; experiments train single-output models"
            )
        object.__setattr__(self, "class_weights", _check_class_weights(self.class_weights))
        loss_spec.check(
            self.loss, weighted=self.class_weights is not None, options=self.loss_options
        )
        if self.augment is not None and self.augment not in AUGMENTATIONS:
            raise ValueError(
                f"augment must be None or one of {list(AUGMENTATIONS)}, got {self.augment!r}"
            )
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; known tasks: {list(TASKS)}")
        if self.task == "background" and (self.loss != "scce" or self.loss_options):
            raise ValueError(
                "the background task trains with plain cross-entropy on two classes: "
                "loss 'scce' without class_weights or loss_options; "
                f"got loss {self.loss!r}, loss_options {self.loss_options!r}"
            )
        for key, low in (
            ("epochs", 1),
            ("batch_size", 1),
            ("patience", 0),
            ("train_limit", 0),
            ("seed", 0),
        ):
            checks.integer(key, settings.get(key, getattr(self, key)), low=low)
        for key in ("learning_rate", "weight_decay", "val_fraction", "clipnorm"):
            value = settings.get(key, getattr(self, key))
            if value is not None or key != "clipnorm":
                checks.number(key, value)
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(
                f"val_fraction must lie strictly between 0 and 1, got {self.val_fraction!r}"
            )
        if settings["learning_rate"] == 0:
            raise ValueError("learning_rate must be positive, got 0")

    def settings(self) -> dict[str, Any]:
        """The values of the `PROFILE_FIELDS`: the caller's where set, else the profile's
        (a profile's ``train_limit`` None, no limit, is 0 here)."""
        chosen = profiles.profile(self.profile)
        defaults = {key: getattr(chosen, key) for key in PROFILE_FIELDS}
        defaults["train_limit"] = defaults["train_limit"] or 0
        return {
            key: default if getattr(self, key) is None else getattr(self, key)
            for key, default in defaults.items()
        }

    def resolved(self) -> Experiment:
        """The same experiment with every profile value filled in: what a run trains with.

        An experiment keeps only what its caller set, so ``dataclasses.replace(e,
        profile="full")`` takes the full profile's epochs, batch size and the rest wherever `e`
        left them open; its resolved form fixes them. Resolving twice changes nothing.
        """
        settings = self.settings()
        if all(getattr(self, key) == value for key, value in settings.items()):
            return self
        return dataclasses.replace(self, **settings)

    def to_dict(self) -> dict[str, Any]:
        """The config as plain JSON-ready values (tuples become lists), every profile value
        resolved (`settings`): what a record's config.json holds and its key is made from."""
        config = dataclasses.asdict(self) | self.settings()
        if isinstance(config["class_weights"], tuple):
            config["class_weights"] = list(config["class_weights"])
        return config

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> Experiment:
        """Make an experiment from `to_dict`'s output (or any subset with name and model).

        Raises:
            ValueError: for a key that is not a field, listing the known fields.
        """
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(f"unknown experiment field(s) {unknown}; known fields: {known}")
        return cls(**config)


def _check_class_weights(
    weights: tuple[float, ...] | list[float] | dict[str, Any] | None,
) -> tuple[float, ...] | dict[str, Any] | None:
    if weights is None:
        return None
    if isinstance(weights, Mapping):
        method = weights.get("method")
        if method not in stats.METHODS:
            raise ValueError(
                f"class_weights method must be one of {list(stats.METHODS)}, "
                f"got {method!r} in {dict(weights)}"
            )
        unknown = sorted(set(weights) - {"method", "ignore_background", "cap"})
        if unknown:
            raise ValueError(
                f"unknown class_weights key(s) {unknown}; expected method, ignore_background, cap"
            )
        if weights.get("cap") is not None:
            checks.number("class_weights cap", weights["cap"], low=math.ulp(0.0))
        return dict(weights)
    if isinstance(weights, str):
        raise ValueError(
            f"class_weights must be {NUM_CLASSES} numbers or a method such as "
            f"{{'method': 'balanced'}}, got {weights!r}"
        )
    return loss_spec.check_class_weights(weights)
