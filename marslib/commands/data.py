"""`python -m marslib data {generate,info,export}`: make, describe and export the data.

python -m marslib data generate --seed 0         # generate and cache the synthetic set
python -m marslib data info                      # what `marslib.data.load()` finds, with statistics
python -m marslib data info --path my/copy.npz
python -m marslib data export out.npz --seed 1   # the synthetic set in the real file's format
"""

from __future__ import annotations

import argparse
import time

from marslib import data as mars_data
from marslib.data import synthetic
from marslib.data.describe import describe


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `data` sub-command and its three actions."""
    parser = subparsers.add_parser("data", help="generate, describe or export the data")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    generate = actions.add_parser("generate", help="generate the synthetic set and cache it")
    _synthetic_options(generate)
    generate.set_defaults(func=run_generate)

    info = actions.add_parser("info", help="shapes, source and class statistics of the data")
    info.add_argument(
        "--path", default=None, help="a file in the real format (default: what load() finds)"
    )
    info.add_argument(
        "--seed", type=int, default=None, help="describe the synthetic set of this seed instead"
    )
    info.set_defaults(func=run_info)

    export = actions.add_parser("export", help="write the data in the real file's format (.npz)")
    export.add_argument("output", help="the .npz file to write")
    export.add_argument(
        "--path",
        default=None,
        help="a file in the real format to re-export (default: what load() finds)",
    )
    export.add_argument(
        "--seed", type=int, default=None, help="export the synthetic set of this seed instead"
    )
    export.set_defaults(func=run_export)


def _synthetic_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument(
        "--train",
        type=int,
        default=synthetic.DEFAULT_TRAIN,
        help="training images (default %(default)s)",
    )
    parser.add_argument(
        "--test", type=int, default=synthetic.DEFAULT_TEST, help="test images (default %(default)s)"
    )


def _chosen(args: argparse.Namespace) -> mars_data.MarsData:
    if args.seed is not None and args.path is not None:
        raise ValueError("give either --path or --seed, not both")
    if args.seed is not None:
        return mars_data.synthetic_data(seed=args.seed)
    return mars_data.load(args.path)


def run_generate(args: argparse.Namespace) -> int:
    """Generate (or find in the cache) the synthetic set and say where it is kept."""
    path = synthetic.cache_path(args.seed, args.train, args.test)
    cached = path.exists()
    start = time.perf_counter()
    data = mars_data.synthetic_data(args.seed, args.train, args.test)
    seconds = time.perf_counter() - start
    print(f"{'read from cache' if cached else 'generated and cached'} in {seconds:.1f} s: {path}")
    print(data)
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Print `describe` of the chosen data."""
    print("\n".join(describe(_chosen(args))))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the chosen data in the real file's format."""
    data = _chosen(args)
    start = time.perf_counter()
    path = mars_data.save_npz(data, args.output)
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - start:.1f} s) "
        f"from {data.source}"
    )
    return 0
