"""`python -m marslib experiments list|show|run|publish|references`: the named runs of the book,
experiments from config files, and the reference records shipped with the book."""

from __future__ import annotations

import argparse
import json

from marslib.commands import add_options


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `experiments` sub-command and its `list`, `show`, `run`, `publish` and
    `references` actions."""
    parser = subparsers.add_parser("experiments", help="list, show and run training experiments")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="every named run the book trains, by group")
    add_options(listing, "--profile")
    listing.set_defaults(func=list_experiments)

    show = actions.add_parser("show", help="print an experiment's config, every number resolved")
    show.add_argument("name", help="a named experiment (see `experiments list`)")
    add_options(show, "--profile")
    show.set_defaults(func=show_experiment)

    run = actions.add_parser(
        "run",
        help="train experiments (a finished record is reused; an interrupted one resumes)",
        description=(
            "Train named experiments or those of a config file, then print their results table."
        ),
    )
    run.add_argument(
        "names",
        nargs="*",
        help="named runs or groups to run ('all': every named run the book trains)",
    )
    run.add_argument(
        "--config",
        default=None,
        help="a JSON or YAML file of experiments (see marslib.training.registry)",
    )
    add_options(run, "--profile", "--runs-dir", "--data")
    _add_seeds(run)
    run.add_argument(
        "--verbose",
        type=int,
        choices=[0, 1, 2],
        default=2,
        help="Keras output per epoch: 0 none, 1 bar, 2 a line",
    )
    run.set_defaults(func=run_experiments)

    publish = actions.add_parser(
        "publish",
        help="copy finished records into references/, to commit with the book",
        description=(
            "Copy the finished records of named runs (from the runs folder) into references/: "
            "config, history, scores, provenance and the model, nothing else."
        ),
    )
    publish.add_argument("names", nargs="+", help="named runs or groups ('all': every named run)")
    add_options(publish, "--profile", "--runs-dir", "--data", profile="reference")
    _add_seeds(publish)
    publish.set_defaults(func=publish_records)

    shipped = actions.add_parser(
        "references",
        help="the reference records shipped with the book: epochs, minutes, scores",
        description=(
            "One row per named run (or those named): the seeds shipped at the current reference "
            "recipe, their mean and standard deviation of the validation and public-test score "
            "and the test Big Rock IoU, and their minutes."
        ),
    )
    shipped.add_argument("names", nargs="*", help="named runs or groups (default: all)")
    shipped.set_defaults(func=reference_table)


def _add_seeds(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        metavar="SEED",
        help="the seeds of each named run (default 0; the references train 0 1 2)",
    )


def reference_table(args: argparse.Namespace) -> int:
    """Print the reference records' table (`marslib.analysis.references`)."""
    import pandas as pd

    from marslib.analysis import references
    from marslib.training import registry

    table = references.reference_table(_expand(args.names or ["all"]))
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        print(table)
    seeds = len(registry.SEEDS)
    print(
        f"{int(table['seeds'].sum())} of {seeds * len(table)} records shipped in references/ "
        f"({seeds} seeds a run); {int((table['seeds'] == seeds).sum())} of {len(table)} runs "
        "have every seed"
    )
    return 0


def list_experiments(args: argparse.Namespace) -> int:
    """Print the named runs, group by group, one line each."""
    from marslib.training import registry

    chosen = _printed_profile(args.profile)
    for group, title in registry.GROUPS.items():
        print(f"{group}: {title}")
        for experiment in registry.experiments(chosen, group):
            print(
                f"  {experiment.name:<30} {experiment.description}  "
                f"[{experiment.profile}: {experiment.resolved().epochs} epochs]"
            )
    return 0


def show_experiment(args: argparse.Namespace) -> int:
    """Print the experiment's config as JSON."""
    from marslib.training import registry

    print(json.dumps(registry.get(args.name, _printed_profile(args.profile)).to_dict(), indent=2))
    return 0


def _printed_profile(name: str | None) -> str:
    """The profile a listing or a config shows: `name`, else $MARSLIB_PROFILE, with "auto"
    resolved from the machine's GPU devices, never importing TensorFlow (see `marslib.profile`)."""
    import marslib

    return marslib.profile(name, ask_tensorflow=False).name


def run_experiments(args: argparse.Namespace) -> int:
    """Run every experiment asked for, in order, and print their results.

    Every experiment is made (and so checked) before the data is loaded and the first one
    trains, and before TensorFlow is imported: a mistake in the last entry of a config file
    stops the command at once.
    """
    from marslib.training import registry

    if not args.names and not args.config:
        raise ValueError("name at least one experiment, a group or 'all', or give --config FILE")
    chosen = [
        registry.get(name, args.profile, seed)
        for name in _expand(args.names)
        for seed in args.seeds
    ]
    if args.config:
        chosen += registry.load_experiments(args.config, args.profile)

    import pandas as pd

    from marslib import data
    from marslib.analysis import table1
    from marslib.training import loop

    loaded = data.load(args.data)
    finished = [loop.run(e, loaded, args.runs_dir, verbose=args.verbose) for e in chosen]
    terrain = [record for record in finished if record.experiment.task == "terrain"]
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 3):
        if terrain:
            print(table1.results_table(terrain))
        for record in finished:
            if record.experiment.task != "terrain":
                print(
                    f"{record.experiment.name} ({record.experiment.task} task), validation: "
                    f"{record.metrics['val']}"
                )
    return 0


def _expand(names: list[str]) -> list[str]:
    """Named runs, group names and 'all' (every named run), in the order given, each run once."""
    from marslib.training import registry

    expanded = [
        name
        for given in names
        for name in (
            registry.names()
            if given == "all"
            else registry.names(given)
            if given in registry.GROUPS
            else [given]
        )
    ]
    return list(dict.fromkeys(expanded))


def publish_records(args: argparse.Namespace) -> int:
    """Publish each finished record asked for; say which are not finished yet."""
    from marslib import data
    from marslib.training import registry, run_records

    chosen = [
        registry.get(name, args.profile, seed)
        for name in _expand(args.names)
        for seed in args.seeds
    ]
    loaded = data.load(args.data)
    published = 0
    for experiment in chosen:
        directory = run_records.run_directory(experiment, loaded, args.runs_dir)
        if not run_records.is_complete(directory):
            print(f"not finished yet: {experiment.name} seed {experiment.seed} ({directory})")
            continue
        target = run_records.publish(run_records.load_record(directory))
        print(f"published {experiment.name} seed {experiment.seed}: {target}")
        published += 1
    if not published:
        raise ValueError(
            f"none of {[e.name for e in chosen]} has a finished {args.profile} record yet: "
            f"train them first: python -m marslib experiments run ... --profile {args.profile}"
        )
    return 0
