"""`python -m marslib score FILE.csv`: the local leaderboard
(synthetic test labels, competition metric)."""

from __future__ import annotations

import argparse
import json

from marslib.commands import add_options


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `score` sub-command."""
    parser = subparsers.add_parser(
        "score",
        help="score a submission CSV against the synthetic test labels",
        description=(
            "Check a submission CSV and score it with the competition's mean IoU "
            "(all, public 25%%, private 75%%)."
        ),
    )
    parser.add_argument("csv", help="the submission CSV")
    add_options(parser, "--data")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the scores as JSON."""
    from marslib import data
    from marslib.evaluation import submission

    with open(args.csv, "rb"):  # a missing file or a folder fails here, before the data loads
        pass
    print(json.dumps(submission.score_submission(args.csv, data.load(args.data)), indent=2))
    return 0
