"""How long the reference runs take: measured on this machine, and estimated for a Colab GPU.

    python -m marslib references times       # prints `time_table()`, FLOPs counted per model

The measured minutes are the shipped records' ``train_seconds`` (the mean over a run's seeds).
The GPU figure is an estimate, not a
measurement: each run's training FLOPs (3 x the forward pass's per training image, as in
`marslib.bench.train.training_gflops`, plus one forward pass per validation image, every epoch)
over the current recipe's epochs, divided by a stated GPU throughput, plus a stated overhead per
training step (the kernel launches and the optimizer update, which small models at batch 16 do
not hide behind arithmetic). `python -m marslib bench gpu` measures what a GPU really gives.
Reading the table imports no TensorFlow; counting the FLOPs (`forward_flops`) does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pandas as pd

from marslib.data import loading
from marslib.training import registry, run_records

# A Colab T4's float32 peak is 8.1 TFLOP/s; convolutions on 64x128 images in small batches reach
# about half of it: the throughput assumed here (an assumption, stated, until `bench gpu` runs).
GPU_NAME = "Colab T4"
GPU_TFLOPS = 4.0
# Seconds of fixed cost per training step on a GPU (launches, optimizer update): assumed.
STEP_SECONDS = 0.01


def gpu_minutes(
    forward_flops: float,
    train_images: int,
    val_images: int,
    epochs: int,
    batch_size: int,
    *,
    tflops: float = GPU_TFLOPS,
    step_seconds: float = STEP_SECONDS,
) -> float:
    """Estimated minutes of a run on a GPU (an estimate, see the module docstring).

    Args:
        forward_flops: FLOPs of one image's forward pass (`marslib.bench.models.forward_flops`).
        train_images: training images per epoch.
        val_images: validation images scored after every epoch.
        epochs: epochs trained.
        batch_size: training batch size (one step per batch).
        tflops: the GPU's sustained throughput, TFLOP/s.
        step_seconds: fixed seconds per training step.

    Returns:
        epochs * (FLOPs per epoch / throughput + steps per epoch * step_seconds) / 60, where FLOPs
        per epoch = 3 * forward_flops * train_images + forward_flops * val_images.
    """
    if min(forward_flops, tflops, batch_size) <= 0 or min(train_images, val_images, epochs) < 0:
        raise ValueError(
            "forward_flops, tflops and batch_size must be positive, images and epochs not "
            f"negative; got {forward_flops}, {tflops}, {batch_size}, {train_images}, "
            f"{val_images}, {epochs}"
        )
    per_epoch = 3 * forward_flops * train_images + forward_flops * val_images
    steps = math.ceil(train_images / batch_size)
    return epochs * (per_epoch / (tflops * 1e12) + steps * step_seconds) / 60


def time_table(
    count_flops: Callable[[run_records.RunRecord], float],
    names: Sequence[str] | None = None,
    fingerprint: str | None = None,
    *,
    tflops: float = GPU_TFLOPS,
) -> pd.DataFrame:
    """One row per named run: measured CPU minutes and the estimated GPU minutes.

    Args:
        count_flops: a record's forward FLOPs per image (the command loads its model and counts).
        names: the named runs (default: every one).
        fingerprint: the data's (default: the embedded synthetic set's).
        tflops: the GPU throughput assumed.

    Returns:
        DataFrame indexed by run name, columns "seeds" (current-recipe seeds shipped), "epochs"
        (the reference recipe's), "CPU minutes" (their mean; NaN: none shipped), "MFLOPs per
        image" (forward pass) and "GPU minutes (estimate)" (`gpu_minutes` at the reference
        recipe's epochs and batch size, with the images of a shipped record of the run).
    """
    fingerprint = fingerprint or loading.recipe_fingerprint(loading.default_recipe())
    rows = []
    for name in names if names is not None else registry.names():
        experiment = registry.get(name, "reference").resolved()
        found = [
            run_records.load_record(folder)
            for seed in registry.SEEDS
            if run_records.is_complete(
                folder := run_records.reference_directory(
                    registry.get(name, "reference", seed).resolved(), fingerprint
                )
            )
        ]
        row: dict[str, object] = {"run": name, "seeds": len(found), "epochs": experiment.epochs}
        row["CPU minutes"] = (
            sum(r.provenance["train_seconds"] for r in found) / 60 / len(found) if found else None
        )
        if found:
            sample = found[0]
            flops = float(count_flops(sample))
            val_images = (sample.metrics["val"] or {}).get("images", 0)
            row["MFLOPs per image"] = flops / 1e6
            row["GPU minutes (estimate)"] = gpu_minutes(
                flops,
                int(sample.provenance["train_images"]),
                int(val_images),
                experiment.epochs,
                experiment.batch_size,
                tflops=tflops,
            )
        rows.append(row)
    columns = [
        "run",
        "seeds",
        "epochs",
        "CPU minutes",
        "MFLOPs per image",
        "GPU minutes (estimate)",
    ]
    table = pd.DataFrame(rows, columns=columns).set_index("run")
    return table.astype({name: float for name in columns[3:]})
