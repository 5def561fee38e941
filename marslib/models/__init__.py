"""The model zoo: the report's five architectures, built from scratch with Keras 3 layers.

    from marslib import models
    model = models.build("pspnet", size=profile.model_size)   # (B, 64, 128, 1) -> (B, 64, 128, 5)
    labels = models.predict(model, data.test_images)          # uint8 (N, 64, 128)

Every model maps float32 images (B, H, W, 1) in [0, 1] to float32 softmax probabilities
(B, H, W, num_classes), whatever the dtype policy, and saves to and reloads from ``.keras``
with ``safe_mode`` on. `SIZES` gives each model a "quick" size (trains in about a minute on a
CPU) and a "full" size (report scale, for a GPU); keyword options override the size's values.

- `catalog`: the names, sizes, options and table labels (no TensorFlow needed);
- `zoo`: `build` by name; `blocks` and one module per architecture: the layers;
- `inference`: `predict`, a model's labels for uint8 images, in chunks, optionally with flip
  averaging; `probabilities`, its outputs, for rules that combine models.

Importing this package is cheap: `build`, `BUILDERS`, `predict` and `probabilities` import Keras
when first used.
"""

from __future__ import annotations

from marslib.core import lazy
from marslib.models.catalog import LABELS, OPTIONS, SIZES, label, names, options

_LAZY: dict[str, str] = {
    "build": "zoo",
    "BUILDERS": "zoo",
    "predict": "inference",
    "probabilities": "inference",
}

__all__ = [
    "BUILDERS",
    "LABELS",
    "OPTIONS",
    "SIZES",
    "build",
    "label",
    "names",
    "options",
    "predict",
    "probabilities",
]

__getattr__ = lazy.exports(__name__, _LAZY)
