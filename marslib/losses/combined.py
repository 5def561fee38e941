"""A weighted sum of losses, e.g. "weighted focal + SCCE" (the book's reading of the report's best
loss, "W. Focal+SCCE") or "Dice + focal"."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from marslib.losses.base import Tensor, check_non_negative, check_shapes


@keras.saving.register_keras_serializable(package="marslib")
class WeightedSum(keras.losses.Loss):
    """``sum_k weights[k] * losses[k](y_true, y_pred)``: one float32 scalar per batch.

    Args:
        losses: the terms, Keras losses that return a scalar for a batch
            (y_true (B, H, W) sparse labels, y_pred (B, H, W, 5) probabilities), such as those of
            `marslib.losses`. A term may also be given as its serialized config
            (what `get_config` stores).
        weights: one finite weight >= 0 per term, not all 0 (default: 1 each).
        name: the loss's name (default: the terms' names joined by "_and_").
    """

    def __init__(
        self,
        losses: Sequence[keras.losses.Loss | dict],
        weights: Sequence[float] | None = None,
        name: str | None = None,
    ) -> None:
        terms = [
            keras.saving.deserialize_keras_object(t) if isinstance(t, dict) else t for t in losses
        ]
        if not terms or not all(isinstance(t, keras.losses.Loss) for t in terms):
            raise ValueError(
                f"losses must be a non-empty list of keras.losses.Loss, got {losses!r}"
            )
        weights = (
            [1.0] * len(terms)
            if weights is None
            else [check_non_negative("a loss weight", w) for w in weights]
        )
        if len(weights) != len(terms):
            raise ValueError(
                f"got {len(weights)} weights for {len(terms)} losses: give one weight per loss"
            )
        if not any(weights):
            raise ValueError("the loss weights are all zero: at least one term must count")
        super().__init__(name=name or "_and_".join(t.name for t in terms), dtype="float32")
        self.losses = terms
        self.weights = weights

    def __call__(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        if sample_weight is not None:
            raise ValueError(
                "WeightedSum does not take sample_weight: "
                "give per-class weights (class_weights) to its terms instead"
            )
        check_shapes(y_true, y_pred)
        return super().__call__(y_true, y_pred)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return sum(w * term(y_true, y_pred) for w, term in zip(self.weights, self.losses))

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "losses": [keras.saving.serialize_keras_object(t) for t in self.losses],
            "weights": list(self.weights),
        }
