"""What each versioned part of the code computes on fixed inputs, in a few numbers.

`tests/test_versions.py` compares these with `tests/fingerprints.json`, recorded with the code
versions of `marslib.core.versions`: a part whose numbers moved while its version did not fails
the test, so a change in behaviour cannot keep reusing caches made by the old code. After a
deliberate change, bump the part's version and record the numbers again::

    python tests/fingerprints.py
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

FILE = Path(__file__).with_name("fingerprints.json")


def _tiny_data():
    from marslib import data

    return data.synthetic_data(seed=3, n_train=40, n_test=8)


def datasets_part() -> list[float]:
    """Pixel sums and sizes of every named dataset built from the tiny set."""
    from marslib import datasets

    tiny = _tiny_data()
    values = []
    for name in datasets.names():
        images, masks = datasets.build(name, tiny, np.arange(30), seed=0, cache=False)
        values += [
            float(len(images)),
            float(images.astype(np.int64).sum()),
            float(masks.astype(np.int64).sum()),
        ]
    return values


def models_part() -> list[float]:
    """Mean and spread of each model's output on a fixed input, weights drawn from seed 0."""
    import keras

    from marslib import models

    inputs = np.random.default_rng(0).random((2, 64, 128, 1)).astype(np.float32)
    values = []
    for name in models.names():
        keras.utils.set_random_seed(0)
        output = keras.ops.convert_to_numpy(models.build(name, size="quick")(inputs))
        values += [float(output.mean()), float(output.std())]
    return values


def losses_part() -> list[float]:
    """Each loss term, plain and weighted, on fixed labels and probabilities."""
    import keras

    from marslib import losses

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, size=(2, 8, 16))
    probabilities = rng.dirichlet(np.ones(5), size=(2, 8, 16)).astype(np.float32)
    weights = (0.0, 0.6, 0.8, 1.1, 10.0)
    values = []
    for name in losses.names():
        loss = losses.get(
            name, class_weights=weights if name.startswith(losses.WEIGHTED_PREFIX) else None
        )
        values.append(float(keras.ops.convert_to_numpy(loss(labels, probabilities))))
    return values


def training_part() -> list[float]:
    """The logs of one epoch of the trainer on the tiny set, for each task."""
    from marslib.training import building, epochs, experiment, tasks

    tiny = _tiny_data()
    values = []
    for task in ("terrain", "background"):
        config = experiment.Experiment(
            name="fingerprint",
            model="unet",
            model_options={"base_filters": 2, "depth": 1},
            task=task,
            epochs=1,
            batch_size=8,
            profile="quick",
        )
        model = building.build_model(config, None, on_gpu=False)
        targets = tasks.get(task).targets(tiny.train_masks[:16])
        logs = epochs.fit_epoch(model, tiny.train_images[:16], targets, config, 0)
        values += [logs[key] for key in sorted(logs)]
    return values


PARTS = {
    "datasets": datasets_part,
    "models": models_part,
    "losses": losses_part,
    "training": training_part,
}


def measure() -> dict[str, dict]:
    """Every part's version and numbers, computed now (in a private cache folder)."""
    from marslib.core import versions

    with tempfile.TemporaryDirectory() as folder:
        previous = os.environ.get("MARSLIB_CACHE")
        os.environ["MARSLIB_CACHE"] = folder
        try:
            return {
                part: {"version": versions.CODE_VERSIONS[part], "values": compute()}
                for part, compute in PARTS.items()
            }
        finally:
            if previous is None:
                os.environ.pop("MARSLIB_CACHE")
            else:
                os.environ["MARSLIB_CACHE"] = previous


if __name__ == "__main__":
    FILE.write_text(json.dumps(measure(), indent=1) + "\n")
    print(f"recorded {FILE}")
