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
            "Score a finished run again on the images its record is scored on (its validation "
            "split and the test set's public quarter, so the figures are those of the record and "
            "the book), print the scores and save confusion.png, gallery.png and curves.png "
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
    parser.add_argument(
        "--whole-test",
        action="store_true",
        help="score every test image, not only the public quarter the records and the book score",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score the run again on its record's images, print the scores and write the figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from marslib import data, metrics, models, training
    from marslib.figures import results
    from marslib.training.run_records import names_a_folder
    from marslib.training.splits import record_splits

    if names_a_folder(args.run):  # found without the data: a missing folder is told at once
        record = training.find_record(args.run)
        loaded = data.load(args.data)
    else:
        loaded = data.load(args.data)
        record = training.find_record(args.run, loaded, args.runs_dir, args.profile)
    splits = record_splits(record.experiment, loaded, whole_test=args.whole_test)
    if not splits:
        raise ValueError(
            "this run has no validation split and the data has no test labels: "
            "nothing to evaluate on"
        )
    model = record.load_model()
    described = {
        "val": "validation images",
        "test": "test images (all)" if args.whole_test else "test images (the public quarter)",
    }
    flipped = " with flip averaging" if args.flip else ""
    print(f"{record.experiment.name}{flipped} on {loaded.source}:")
    found, predictions = {}, {}
    for split, (images, masks) in splits.items():
        print(f"{split}: {len(images)} {described[split]}", flush=True)
        predictions[split] = models.predict(model, images, flip=args.flip, progress=True)
        found[split] = metrics.scores(masks, predictions[split])
    print(json.dumps(found, indent=2))
    shown = "val" if "val" in splits else "test"
    (images, masks), predicted = splits[shown], predictions[shown]
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
    print(f"figures (on the {described[shown]}) written to {output}")
    return 0
