"""`python -m marslib submit RUN OUTPUT.csv`:
the competition's submission CSV from a finished run."""

from __future__ import annotations

import argparse

from marslib.commands import add_options


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `submit` sub-command."""
    parser = subparsers.add_parser(
        "submit",
        help="predict the test set with a run's model and write the submission CSV",
        description=(
            "Write id,0..8191 rows, one per test image in order; "
            "score it where the test labels are known."
        ),
    )
    parser.add_argument(
        "run", help="a run folder, or a named experiment (its record for --profile and the data)"
    )
    parser.add_argument("output", help="the CSV to write")
    add_options(parser, "--profile", "--runs-dir", "--data")
    parser.add_argument(
        "--flip",
        action="store_true",
        help="test-time augmentation: average with the mirrored image",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the CSV, and print its local score where the data has test labels.

    The output path is checked first, before the data, the model and the prediction.
    """
    from marslib import data, training
    from marslib.evaluation import submission

    submission.check_destination(args.output)
    loaded = data.load(args.data)
    record = training.find_record(args.run, loaded, args.runs_dir, args.profile)
    path = submission.predict_submission(record.load_model(), loaded, args.output, flip=args.flip)
    print(f"wrote {path} ({len(loaded.test_images)} rows) from {record.directory}")
    if loaded.test_masks is not None:
        print(f"local leaderboard: {submission.score_submission(path, loaded)}")
    return 0
