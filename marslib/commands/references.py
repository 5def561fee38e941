"""`python -m marslib references pack|install|times`: reference records for a data file, in one
archive an instructor packs and students install (`marslib.training.archive`), and how long
the references take to train.

The instructor's path, one command each (the data file is the course's, ``FILE``)::

    python -m marslib experiments run all --profile reference --seeds 0 1 2 --data FILE
    python -m marslib experiments publish all --profile reference --seeds 0 1 2 --data FILE
    python -m marslib references pack --data FILE          # -> references-<fingerprint>.zip

A student's: ``python -m marslib references install ARCHIVE --data FILE`` (into the book's
references/ folder, or ``--into FOLDER``, for example on Google Drive, with
``MARSLIB_REFERENCES=FOLDER`` set when the book runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from marslib.commands import add_options

_PATH = (
    "train (resumes where it stopped; hours on a CPU):\n"
    "  python -m marslib experiments run all --profile reference --seeds 0 1 2 --data FILE\n"
    "publish the finished records into references/:\n"
    "  python -m marslib experiments publish all --profile reference --seeds 0 1 2 --data FILE\n"
    "pack them into one archive for the students:\n"
    "  python -m marslib references pack --data FILE\n"
    "a student installs it (the chapters then show these runs, re-scored, without training):\n"
    "  python -m marslib references install references-<fingerprint>.zip --data FILE\n"
    "or unpacks it into a folder (e.g. on Google Drive) named by MARSLIB_REFERENCES:\n"
    "  python -m marslib references install ARCHIVE --data FILE --into FOLDER"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `references` sub-command and its `pack`, `install` and `times` actions."""
    parser = subparsers.add_parser(
        "references",
        help="pack and install the reference records of a data file; their training times",
        description="Reference records for any data file, matched by its fingerprint.",
        epilog=_PATH,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    pack = actions.add_parser(
        "pack",
        help="one archive (.zip, with a manifest) of the published references of one data file",
        description=(
            "Pack every finished reference record trained on the data (current recipe, made by "
            "this code, and previous recipe) into one zip archive with a manifest: the data's "
            "fingerprint, the code versions, the marslib version and each record's files and "
            "their SHA-256."
        ),
    )
    add_options(pack, "--data")
    pack.add_argument(
        "--output", default=None, help="the archive (default: references-<fingerprint>.zip here)"
    )
    pack.set_defaults(func=pack_references)

    install = actions.add_parser(
        "install",
        help="check an archive made by `pack` and install its records",
        description=(
            "Install the records of an archive made by `references pack`, after checking it: "
            "it must be for the data in use (its fingerprint) and this code's versions, and no "
            "entry may be a link, leave the target folder or exceed the size limits."
        ),
    )
    install.add_argument("archive", help="the .zip archive")
    add_options(install, "--data")
    install.add_argument(
        "--into",
        default=None,
        help="the references folder (default: $MARSLIB_REFERENCES, else the book's references/)",
    )
    install.set_defaults(func=install_references)

    times = actions.add_parser(
        "times",
        help="minutes each reference run trained here, and an estimate for a Colab GPU",
        description=(
            "One row per named run: the measured training minutes of its shipped records (the "
            "mean over its seeds), its forward FLOPs per "
            "image and an ESTIMATE of its minutes on a GPU of an assumed throughput (see "
            "marslib.bench.estimate)."
        ),
    )
    times.add_argument("names", nargs="*", help="named runs or groups (default: all)")
    add_options(times, "--data")
    times.add_argument(
        "--tflops", type=float, default=None, help="the GPU's assumed TFLOP/s (default: 4.0)"
    )
    times.set_defaults(func=time_table)


def _fingerprint(given: str | None) -> tuple[str, str]:
    """The fingerprint and source of the data named by --data (default: `marslib.data.load`)."""
    from marslib import data

    loaded = data.load(given)
    return loaded.fingerprint, loaded.source


def pack_references(args: argparse.Namespace) -> int:
    """Pack the references of the data given and print what the archive holds."""
    from marslib.core import paths
    from marslib.training import archive

    fingerprint, source = _fingerprint(args.data)
    output = Path(args.output) if args.output else Path(archive.archive_name(fingerprint))
    written = archive.pack(fingerprint, output)
    records = archive.packable(fingerprint)
    previous = sum("/" in relative for relative, _ in records)
    print(
        f"packed {len(records)} records ({len(records) - previous} current recipe, {previous} "
        f"previous recipe) trained on {paths.shown(source) if source != 'synthetic' else source} "
        f"(fingerprint {fingerprint}) into {written} ({written.stat().st_size / 2**20:.1f} MiB)"
    )
    return 0


def install_references(args: argparse.Namespace) -> int:
    """Install an archive's records and say where, and how the book finds them."""
    from marslib.core import paths
    from marslib.training import archive, run_records

    fingerprint, _ = _fingerprint(args.data)
    done = archive.install(args.archive, fingerprint, args.into)
    print(
        f"installed {len(done.records)} reference records for data {fingerprint} into "
        f"{paths.shown(done.target)}"
    )
    searched = [folder.resolve() for folder in run_records.reference_folders()]
    if done.target.resolve() not in searched:
        print(f"set MARSLIB_REFERENCES={done.target} so that the book finds them")
    return 0


def time_table(args: argparse.Namespace) -> int:
    """Print the measured and estimated training minutes of every reference run."""
    import pandas as pd

    from marslib.bench import estimate
    from marslib.bench.models import forward_flops
    from marslib.commands.experiments import _expand
    from marslib.training.run_records import RunRecord

    counted: dict[str, float] = {}

    def count(record: RunRecord) -> float:
        key = f"{record.experiment.model} {record.experiment.model_options}"
        if key not in counted:
            counted[key] = float(forward_flops(record.load_model()))
        return counted[key]

    fingerprint, _ = _fingerprint(args.data)
    tflops = args.tflops or estimate.GPU_TFLOPS
    table = estimate.time_table(count, _expand(args.names or ["all"]), fingerprint, tflops=tflops)
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.precision", 1):
        print(table)
    print(
        f"sum: {table['CPU minutes'].sum() / 60:.1f} h a seed of every run, measured "
        f"here; {table['GPU minutes (estimate)'].sum():.0f} min a seed on a GPU: an ESTIMATE at "
        f"an assumed {tflops} TFLOP/s ({estimate.GPU_NAME}) and {estimate.STEP_SECONDS * 1000:.0f}"
        " ms a step, not a measurement (python -m marslib bench gpu measures one)"
    )
    return 0
