"""`python -m marslib experiments list|show|run`: the named experiments and experiments from config files."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `experiments` sub-command and its `list`, `show` and `run` actions."""
    parser = subparsers.add_parser("experiments", help="list, show and run training experiments")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="the named experiments (the report's Table 1 and final)")
    listing.add_argument("--profile", default=None, help="quick, full or auto (default: $MARSLIB_PROFILE or auto)")
    listing.set_defaults(func=list_experiments)

    show = actions.add_parser("show", help="print an experiment's config, every number resolved")
    show.add_argument("name", help="a named experiment (see `experiments list`)")
    show.add_argument("--profile", default=None, help="quick, full or auto (default: $MARSLIB_PROFILE or auto)")
    show.set_defaults(func=show_experiment)

    run = actions.add_parser(
        "run",
        help="train experiments (a finished record is reused; an interrupted one resumes)",
        description="Train named experiments or those of a config file, then print their results table.",
    )
    run.add_argument("names", nargs="*", help="named experiments to run ('all': Table 1 and final)")
    run.add_argument("--config", default=None, help="a JSON or YAML file of experiments (see marslib.experiments)")
    run.add_argument("--profile", default=None, help="quick, full or auto (default: $MARSLIB_PROFILE or auto)")
    run.add_argument("--runs-dir", default=None, help="where records live (default: $MARSLIB_RUNS, else <repo>/runs)")
    run.add_argument("--data", default=None, help="a data file in the real format (default: $MARSLIB_DATA, the repo's data/, or synthetic)")
    run.add_argument("--verbose", type=int, choices=[0, 1, 2], default=2, help="Keras output per epoch: 0 none, 1 bar, 2 a line")
    run.add_argument("--tensorboard", action="store_true", help="also write TensorBoard logs into each run folder")
    run.set_defaults(func=run_experiments)


def list_experiments(args: argparse.Namespace) -> int:
    """Print one line per named experiment."""
    from marslib import experiments

    for experiment in experiments.experiments(args.profile):
        print(f"{experiment.name:<18} {experiment.description}  [{experiment.profile}: {experiment.epochs} epochs]")
    return 0


def show_experiment(args: argparse.Namespace) -> int:
    """Print the experiment's config as JSON."""
    from marslib import experiments

    print(json.dumps(experiments.get_experiment(args.name, args.profile).to_dict(), indent=2))
    return 0


def run_experiments(args: argparse.Namespace) -> int:
    """Run every experiment asked for, in order, and print their results table."""
    import pandas as pd

    from marslib import data, evaluate, experiments, train

    if not args.names and not args.config:
        raise ValueError("name at least one experiment (or 'all'), or give --config FILE")
    chosen = [experiments.get_experiment(name, args.profile) for name in _expand(args.names, experiments.names())]
    if args.config:
        chosen += experiments.load_experiments(args.config, args.profile)
    loaded = data.load(args.data)
    finished = [train.run(e, loaded, args.runs_dir, verbose=args.verbose, tensorboard=args.tensorboard) for e in chosen]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(evaluate.results_table(finished))
    return 0


def _expand(names: list[str], known: list[str]) -> list[str]:
    return [name for given in names for name in (known if given == "all" else [given])]
