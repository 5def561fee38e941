"""The named experiments: the report's Table 1, its final model, and experiments from config files.

    from marslib import experiments, train
    experiments.names()                                   # the known names, in the report's order
    experiment = experiments.get_experiment("pspnet", "quick")
    record = train.run(experiment)

Table 1 of the report, one experiment per row:

| name              | model               | dataset            | loss                  |
| ----------------- | ------------------- | ------------------ | --------------------- |
| unet_baseline     | baseline U-Net      | cleaned            | SCCE                  |
| deeplabv3         | DeepLabV3           | cleaned            | SCCE                  |
| wnet              | W-Net               | cleaned            | weighted SCCE         |
| pspnet            | PSPNet              | cleaned            | weighted SCCE         |
| deeplabv3_bigrock | DeepLabV3           | augmented BigRock  | weighted SCCE         |
| attention_psp     | Attention + PSP     | augmented BigRock  | weighted focal + SCCE |

and ``final``: the best recipe (Attention + PSP) trained on the whole training set with no
validation split, as the report did for its submission. "Weighted" means the weights the report
found best: background left out (weight 0) and the others balanced, Big Rock capped at 10.

A config file (JSON or YAML) holds one experiment, a list of them, or ``{"experiments": [...]}``;
each entry gives `marslib.train.Experiment` fields, or ``base`` (a name above) plus the fields
it changes::

    experiments:
      - {base: attention_psp, name: attention_psp_lr3e-4, learning_rate: 0.0003}
      - {name: unet_dice, model: unet, loss: dice, epochs: 20}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import marslib
from marslib.profiles import Profile
from marslib.train import Experiment

WEIGHTS_WITHOUT_BACKGROUND: dict[str, Any] = {"method": "balanced", "ignore_background": True, "cap": 10.0}

RECIPES: dict[str, dict[str, Any]] = {
    "unet_baseline": {
        "model": "unet", "variant": "cleaned", "loss": "scce",
        "description": "Baseline U-Net / cleaned / SCCE",
    },
    "deeplabv3": {
        "model": "deeplabv3", "variant": "cleaned", "loss": "scce",
        "description": "DeepLabV3 / cleaned / SCCE",
    },
    "wnet": {
        "model": "wnet", "variant": "cleaned", "loss": "weighted_scce", "class_weights": WEIGHTS_WITHOUT_BACKGROUND,
        "description": "W-Net / cleaned / weighted SCCE",
    },
    "pspnet": {
        "model": "pspnet", "variant": "cleaned", "loss": "weighted_scce", "class_weights": WEIGHTS_WITHOUT_BACKGROUND,
        "description": "PSP / cleaned / weighted SCCE",
    },
    "deeplabv3_bigrock": {
        "model": "deeplabv3", "variant": "augmented_bigrock", "loss": "weighted_scce",
        "class_weights": WEIGHTS_WITHOUT_BACKGROUND,
        "description": "DeepLabV3 / augmented BigRock / weighted SCCE",
    },
    "attention_psp": {
        "model": "attention_psp", "variant": "augmented_bigrock", "loss": "weighted_focal+scce",
        "class_weights": WEIGHTS_WITHOUT_BACKGROUND,
        "description": "Attention + PSP / augmented BigRock / weighted focal + SCCE",
    },
}
RECIPES["final"] = {
    **RECIPES["attention_psp"],
    "validation": False,
    "description": "Final: Attention + PSP / augmented BigRock / weighted focal + SCCE, whole training set",
}
TABLE1: tuple[str, ...] = tuple(name for name in RECIPES if name != "final")

# Per-profile changes. Quick (at most 1000 training images in five epochs, the profile's values):
# each experiment trains in under a minute on a 2-core CPU, with fewer images where an image costs
# more (W-Net, Attention + PSP) and more where it costs less (DeepLabV3 on the Big Rock set); the
# quick W-Net is the shallower one, which learns in a few epochs. U-Net and DeepLabV3 train on the
# same images for as long, so chapter 12 can compare the two models alone.
PROFILE_CHANGES: dict[str, dict[str, dict[str, Any]]] = {
    "quick": {
        "wnet": {"train_limit": 450, "model_options": {"base_filters": 6, "depth": 3}},
        "deeplabv3_bigrock": {"train_limit": 1400},
        "attention_psp": {"train_limit": 900},
        "final": {"train_limit": 900},
    },
    "full": {},
}


def names() -> list[str]:
    """The named experiments: Table 1's six in the report's order, then "final"."""
    return list(RECIPES)


def get_experiment(name: str, profile: str | Profile | None = None) -> Experiment:
    """The named experiment at a profile's scale.

    Args:
        name: one of `names()`.
        profile: a `Profile` (e.g. a chapter's ``PROFILE``) or its name "quick", "full" or "auto"
            (None: `marslib.profile()`, i.e. $MARSLIB_PROFILE or auto).

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if name not in RECIPES:
        raise ValueError(f"unknown experiment {name!r}; known experiments: {names()}")
    chosen = profile.name if isinstance(profile, Profile) else marslib.profile(profile).name
    return Experiment(name=name, profile=chosen, **RECIPES[name], **PROFILE_CHANGES[chosen].get(name, {}))


def experiments(profile: str | Profile | None = None) -> list[Experiment]:
    """Every named experiment at a profile's scale (see `get_experiment`)."""
    return [get_experiment(name, profile) for name in names()]


def from_config(entry: dict[str, Any], profile: str | None = None) -> Experiment:
    """An experiment from one config entry: `Experiment` fields, or ``base`` plus the fields it changes.

    Args:
        entry: e.g. ``{"base": "pspnet", "name": "pspnet_dice", "loss": "dice", "class_weights": None}``.
        profile: the profile of an entry that names none (None: `marslib.profile()`).
    """
    if not isinstance(entry, dict):
        raise ValueError(f"an experiment config must be a mapping of fields, got {type(entry).__name__}: {entry!r}")
    fields = dict(entry)
    base = fields.pop("base", None)
    chosen = marslib.profile(fields.pop("profile", profile)).name
    if base is None:
        return Experiment.from_dict({**fields, "profile": chosen})
    start = get_experiment(base, chosen).to_dict()
    start.update(fields)
    return Experiment.from_dict(start)


def load_experiments(path: Path | str, profile: str | None = None) -> list[Experiment]:
    """Experiments from a JSON (``.json``) or YAML (``.yaml``, ``.yml``) file (see the module docstring).

    Raises:
        ValueError: for another suffix, a file that does not parse, or an entry that is not a valid experiment.
    """
    path = Path(path)
    if path.suffix not in (".json", ".yaml", ".yml"):
        raise ValueError(f"experiment files must end in .json, .yaml or .yml, got {path.name!r}")
    text = path.read_text()
    if path.suffix == ".json":
        try:
            content = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not valid JSON: {error}") from None
    else:
        import yaml

        try:
            content = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ValueError(f"{path} is not valid YAML: {error}") from None
    if isinstance(content, dict) and "experiments" in content:
        content = content["experiments"]
    entries = content if isinstance(content, list) else [content]
    if not entries:
        raise ValueError(f"{path} holds no experiment")
    return [from_config(entry, profile) for entry in entries]
