"""What the model zoo holds, without building anything (and without importing TensorFlow).

Experiments are checked against this table when they are made, so that listing and reading
them stays cheap; `marslib.models.zoo` builds the models it names, and a test keeps the two
in step (the options here are the keyword options of each builder).
"""

from __future__ import annotations

from typing import Any

# The report's five architectures, in its order, with the names its Table 1 gives them.
LABELS: dict[str, str] = {
    "unet": "U-Net",
    "deeplabv3": "DeepLabV3",
    "wnet": "W-Net",
    "pspnet": "PSP",
    "attention_psp": "Attention + PSP",
}

# Keyword options of each builder: its size values and its architecture switches.
OPTIONS: dict[str, tuple[str, ...]] = {
    "unet": ("base_filters", "depth", "se", "se_ratio"),
    "deeplabv3": ("base_filters", "depth", "atrous_rates"),
    "wnet": ("base_filters", "depth", "deep_supervision"),
    "pspnet": ("base_filters", "depth", "bins"),
    "attention_psp": ("base_filters", "depth", "bins"),
}

# A "quick" size (trains in about a minute on a CPU) and a "full" one (report scale, for a GPU).
SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "unet": {"quick": {"base_filters": 8, "depth": 3}, "full": {"base_filters": 24, "depth": 4}},
    "deeplabv3": {
        "quick": {"base_filters": 8, "depth": 3},
        "full": {"base_filters": 32, "depth": 3},
    },
    "wnet": {"quick": {"base_filters": 4, "depth": 4}, "full": {"base_filters": 16, "depth": 4}},
    "pspnet": {"quick": {"base_filters": 8, "depth": 3}, "full": {"base_filters": 32, "depth": 3}},
    "attention_psp": {
        "quick": {"base_filters": 8, "depth": 3},
        "full": {"base_filters": 32, "depth": 3},
    },
}


def names() -> list[str]:
    """Names of the models the zoo builds, in the report's order."""
    return list(LABELS)


def check_name(name: str) -> None:
    """A ValueError listing the known models when `name` is not one of them."""
    if name not in LABELS:
        raise ValueError(f"unknown model {name!r}; known models: {names()}")


def options(name: str) -> list[str]:
    """Keyword options the model `name` accepts (its size values and architecture switches)."""
    check_name(name)
    return list(OPTIONS[name])


def label(name: str) -> str:
    """The model's name in a table, e.g. "attention_psp" -> "Attention + PSP"."""
    check_name(name)
    return LABELS[name]
