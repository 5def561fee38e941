"""Losses for five-class terrain segmentation, all computed in float32 and serializable.

Every loss takes sparse labels ``y_true`` (B, H, W) with values 0..4 and softmax probabilities
``y_pred`` (B, H, W, 5), and returns one float32 scalar per batch. Build them by name with
`get` (e.g. ``get("weighted_focal+scce", class_weights=w)``), or directly from the classes:

- `SparseCrossentropy`: cross-entropy, optionally with per-class weights;
- `SparseFocalCrossentropy`: focal loss with gamma and per-class weights (alpha);
- `SoftDice`: multi-class soft Dice over the batch, optionally weighting or leaving out classes;
- `WeightedSum`: a weighted sum of losses.

A class weight of 0 ignores that class's true pixels in every loss: ``(0, 1, 1, 1, 1)`` trains
without background, as the competition metric scores without it.
"""

from marslib.losses.base import check_class_weights
from marslib.losses.combined import WeightedSum
from marslib.losses.crossentropy import SparseCrossentropy, SparseFocalCrossentropy
from marslib.losses.dice import SoftDice
from marslib.losses.registry import WEIGHTED_PREFIX, get, names, terms

__all__ = [
    "WEIGHTED_PREFIX",
    "SoftDice",
    "SparseCrossentropy",
    "SparseFocalCrossentropy",
    "WeightedSum",
    "check_class_weights",
    "get",
    "names",
    "terms",
]
