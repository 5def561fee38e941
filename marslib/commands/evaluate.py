"""`python -m marslib evaluate RUN`: a finished run's scores, confusion matrix,
gallery and learning curves."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from marslib.commands import add_options


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `evaluate` sub-command."""
    parser = subparsers.add_parser(
        "evaluate",
        help="print a run's scores and save its figures",
        description=(
            "Print a finished run's scores and save confusion.png, gallery.png and curves.png "
            "(on the validation images, or the test images where the run has no validation split)."
        ),
    )
    parser.add_argument(
        "run", help="a run folder, or a named experiment (its record for --profile and the data)"
    )
    add_options(parser, "--profile", "--runs-dir", "--data")
    parser.add_argument(
        "--output", default=None, help="folder for the figures (default: <run>/figures)"
    )
    parser.add_argument(
        "--flip",
        action="store_true",
        help="test-time augmentation: average with the mirrored image",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score the run again on its evaluation images, print the scores and write the figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from marslib import data, metrics, models, training
    from marslib.figures import results

    loaded = data.load(args.data)
    record = training.find_record(args.run, loaded, args.runs_dir, args.profile)
    _, val_indices = training.split_indices(record.experiment, loaded)
    if val_indices is not None:
        split, images, masks = (
            "validation",
            loaded.train_images[val_indices],
            loaded.train_masks[val_indices],
        )
    elif loaded.test_masks is not None:
        split, images, masks = "test", loaded.test_images, loaded.test_masks
    else:
        raise ValueError(
            "this run has no validation split and the data has no test labels: "
            "nothing to evaluate on"
        )
    predicted = models.predict(record.load_model(), images, flip=args.flip, progress=True)
    found = metrics.scores(masks, predicted)
    print(f"{record.experiment.name} on the {split} images ({len(images)}) of {loaded.source}:")
    print(json.dumps(found, indent=2))
    output = Path(args.output) if args.output else record.directory / "figures"
    output.mkdir(parents=True, exist_ok=True)
    results.confusion_heatmap(masks, predicted).figure.savefig(
        output / "confusion.png", dpi=120, bbox_inches="tight"
    )
    worst = metrics.per_image_miou(masks, predicted).argsort()[:4]
    results.prediction_gallery(images, masks, predicted, indices=worst).savefig(
        output / "gallery.png", dpi=120
    )
    results.learning_curves(record).savefig(output / "curves.png", dpi=120)
    plt.close("all")
    print(f"figures written to {output}")
    return 0
