"""Run records: where a run's results live, how they are found again, and how they are read.

    runs/<name>-<key>/
        config.json       the experiment, every number resolved (profile values filled in)
        history.csv       one row per epoch: loss, the task's metric, their val_ twins,
                          learning rate, seconds
        metrics.json      validation and (where the test labels are known) test scores; the test
                          scores are the local leaderboard's public score: the fixed public quarter
                          of the test set (`marslib.data.splits.public_indices`)
        per_image.npz     each scored split's per-image confusion matrices (uint16 (N, 5, 5)), for
                          intervals that resample the images (`marslib.analysis.intervals`)
        model.keras       the model kept: the last epoch, or the best validation epoch where the
                          run stopped early (patience > 0)
        provenance.json   marslib and code versions, data source and fingerprint,
                          profile, device, times
        DONE              written last: the record is complete

`<key>` is a short hash of the config, of the data's fingerprint and of the versions of the code
that trains (`marslib.core.versions`), so the synthetic set and the real file never share a
record, and a change in the models, losses, datasets or training step makes a new key instead
of reusing a record made by the old code. Reading records imports no TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from marslib import data as mars_data
from marslib.core import paths, versions
from marslib.core.files import deflate_zip, read_json, write_with
from marslib.training import registry
from marslib.training.experiment import Experiment

if TYPE_CHECKING:
    import keras

    from marslib.data import MarsData

# The reference runs' records, trained to convergence with the reference profile and committed
# with the book (config, history, scores, provenance and the model without optimizer state).
REFERENCES_DIR = paths.REPO_ROOT / "references"
# Records of the previous reference recipe (a constant rate, up to 80 epochs, stopped 10 epochs
# after the best validation epoch, that epoch kept; one seed), with their keys: the book keeps
# unet_weighted's, whose curve chapters 7 and 15 set against the current schedule's.
PREVIOUS_RECIPE = "previous_recipe"  # their folder in `REFERENCES_DIR`
DONE_TEXT = "complete\n"
# Where a record came from (`RunRecord.origin`).
TRAINED, RUNS_FOLDER = "trained now", "found in the runs folder"
REFERENCE, PREVIOUS_REFERENCE = "shipped reference", "shipped reference of the previous recipe"
PER_IMAGE_FILE, MODEL_FILE = "per_image.npz", "model.keras"
RECORD_FILES: tuple[str, ...] = (
    "config.json",
    "history.csv",
    "metrics.json",
    PER_IMAGE_FILE,
    MODEL_FILE,
    "provenance.json",
    "DONE",
)


def run_key(
    experiment: Experiment, data_fingerprint: str, code_versions: dict[str, int] | None = None
) -> str:
    """Short hash (10 hex digits) of the config (without description), the data and the code.

    Args:
        experiment: the run's config.
        data_fingerprint: `MarsData.fingerprint` of the data it trains on.
        code_versions: the versions of the code that trains it (default: this marslib's,
            `marslib.core.versions.versions(RUN_PARTS)`).
    """
    config = experiment.to_dict()
    config.pop("description")
    code = code_versions if code_versions is not None else versions.versions(versions.RUN_PARTS)
    keyed = {"experiment": config, "data": data_fingerprint, "code": code}
    if experiment.seed != mars_data.SPLIT_SEED:
        # Runs used to split their images by their own seed; since the split is the book's one
        # (`SPLIT_SEED`), a run with another seed is keyed by the split too, so that no record of
        # the old split is reused. A run with the split's seed trains as it did: same key.
        keyed["split_seed"] = mars_data.SPLIT_SEED
    text = json.dumps(keyed, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def run_directory(
    experiment: Experiment, data: MarsData, runs_dir: Path | str | None = None
) -> Path:
    """Where the record of `experiment` trained on `data` lives: ``<runs_dir>/<name>-<key>``."""
    root = Path(runs_dir) if runs_dir is not None else paths.runs_dir()
    return root / f"{experiment.name}-{run_key(experiment, data.fingerprint)}"


def reference_folders() -> list[Path]:
    """The folders searched for reference records, in order: `REFERENCES_DIR` (the book's, and
    where `publish` and an install without a target write), then the folder named by
    `$MARSLIB_REFERENCES` (`marslib.core.paths.extra_references_dir`), if any. Each may hold a
    `PREVIOUS_RECIPE` folder of the previous recipe's records."""
    folders = [REFERENCES_DIR]
    extra = paths.extra_references_dir()
    if extra is not None and extra.resolve() != REFERENCES_DIR.resolve():
        folders.append(extra)
    return folders


def reference_directory(experiment: Experiment, data: MarsData | str) -> Path:
    """Where the shipped reference record of `experiment` on `data` is: the first of
    `reference_folders()` that holds it finished, else where `publish` would put it
    (`REFERENCES_DIR`); `data` is the data set or its fingerprint (`MarsData.fingerprint`)."""
    fingerprint = data if isinstance(data, str) else data.fingerprint
    name = f"{experiment.name}-{run_key(experiment, fingerprint)}"
    for folder in reference_folders():
        if is_complete(folder / name):
            return folder / name
    return REFERENCES_DIR / name


def previous_reference(name: str, data: MarsData | str) -> Path | None:
    """The previous recipe's shipped record of the named run on `data` (in the `PREVIOUS_RECIPE`
    folder of one of `reference_folders()`), or None; `data` is the data set or its
    fingerprint."""
    fingerprint = data if isinstance(data, str) else data.fingerprint
    for folder in reference_folders():
        for directory in sorted((folder / PREVIOUS_RECIPE).glob(f"{name}-*")):
            if (
                is_complete(directory)
                and read_json(directory / "config.json")["name"] == name
                and read_json(directory / "provenance.json")["data_fingerprint"] == fingerprint
            ):
                return directory
    return None


def reference_fingerprints() -> set[str]:
    """The data fingerprints (`MarsData.fingerprint`) that some reference record in
    `reference_folders()` (current or previous recipe) was trained on. Reads each record's
    provenance only (fast: no model is opened); a folder without a DONE marker or with
    unreadable provenance is passed over."""
    found = set()
    for folder in reference_folders():
        for done in [*folder.glob("*/DONE"), *(folder / PREVIOUS_RECIPE).glob("*/DONE")]:
            try:
                found.add(str(read_json(done.parent / "provenance.json")["data_fingerprint"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
    return found


def find_finished(
    experiment: Experiment, data: MarsData, runs_dir: Path | str | None = None
) -> Path | None:
    """The folder of a finished record of `experiment` on `data`: the runs folder's, else the
    shipped reference (same key: same config, data and code); None when there is neither."""
    for directory in (
        run_directory(experiment, data, runs_dir),
        reference_directory(experiment, data),
    ):
        if is_complete(directory):
            return directory
    return None


def publish(record: RunRecord) -> Path:
    """Copy a finished record's files into `REFERENCES_DIR`, to commit with the book.

    Only the record's files are copied (`RECORD_FILES`: no checkpoint, lock or logs), the model
    file with its entries deflated (`files.deflate_zip`: the same weights in about 0.6 of the
    bytes); the copy is made in a temporary folder and renamed, so a kill never leaves half a
    reference.

    Returns:
        The reference folder, ``<REFERENCES_DIR>/<name>-<key>``.
    """
    if not record.current:
        raise ValueError(f"{record.directory} was made by other code versions: retrain it first")
    target = REFERENCES_DIR / record.directory.name
    staging = REFERENCES_DIR / f".{record.directory.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in RECORD_FILES:
        if name == MODEL_FILE:
            deflate_zip(record.directory / name, staging / name)
        else:
            shutil.copy2(record.directory / name, staging / name)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    return target


@dataclass(frozen=True)
class RunRecord:
    """A finished run, as read back from its folder.

    Attributes:
        directory: the run folder.
        experiment: the config it ran.
        history: one row per epoch (columns epoch, loss, the task's metric, [val_loss, val_...],
            learning_rate, seconds).
        metrics: ``{"val": {...} | None, "test": {...} | None, "best_epoch", "epochs_run",
            "parameters"}``; for the terrain task each split holds ``miou`` (competition mIoU),
            ``per_class_iou`` ({class name: IoU} for classes 1..4) and ``images``; for the
            background task "background IoU", "background recall", "background precision" and
            ``images``.
        provenance: marslib and code versions, data source and fingerprint, profile, device, times.
        origin: where the record came from: `TRAINED` (by the call that returned it),
            `RUNS_FOLDER` (a finished run found in the runs folder), `REFERENCE` (shipped with
            the book in `REFERENCES_DIR`) or `PREVIOUS_REFERENCE` (the previous recipe's).
        seeds: the records of every seed of this run that a verdict on it uses, this one
            included (`marslib.training.show` gives each shipped reference of the current recipe
            its run's shipped seeds); empty: this record is its run's only seed. Read it through
            `seed_records`.
    """

    directory: Path
    experiment: Experiment
    history: pd.DataFrame
    metrics: dict[str, Any]
    provenance: dict[str, Any]
    origin: str = ""
    seeds: tuple[RunRecord, ...] = ()

    def seed_records(self) -> tuple[RunRecord, ...]:
        """Every seed's record of this run that a verdict uses: `seeds`, or this record alone."""
        return self.seeds or (self,)

    @property
    def val_miou(self) -> float | None:
        """Competition mIoU on the cleaned validation split
        (None without validation or for another task)."""
        return self.metrics["val"].get("miou") if self.metrics["val"] else None

    @property
    def test_miou(self) -> float | None:
        """Competition mIoU on the test set's public quarter
        (None where the test labels are unknown)."""
        return self.metrics["test"].get("miou") if self.metrics["test"] else None

    @property
    def current(self) -> bool:
        """True when the record was made by the code versions of this marslib."""
        return self.provenance.get("code_versions") == versions.versions(versions.RUN_PARTS)

    def per_image(self) -> dict[str, np.ndarray]:
        """Each scored split's per-image confusion matrices: ``{"val": uint16 (N, 5, 5),
        "test": ...}`` (a split the record has no scores for is absent)."""
        return read_per_image(self.directory / PER_IMAGE_FILE)

    def load_model(self) -> keras.Model:
        """The trained model (uncompiled: for prediction), loaded with Keras' safe mode on: a
        model file (an installed archive's, say) that holds Python code, such as a ``Lambda``
        layer's, is refused rather than run.

        Raises:
            ValueError: when the model file does not load (the message names it and the fix).
        """
        import keras

        import marslib.models.zoo  # noqa: F401  (registers the custom layers the file names)

        path = self.directory / "model.keras"
        try:
            return keras.saving.load_model(path, compile=False, safe_mode=True)
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            raise ValueError(
                f"{path} does not load ({type(error).__name__}: {error}); delete {self.directory} "
                "and run the experiment again to retrain it"
            ) from None


def write_per_image(path: Path, confusions: dict[str, np.ndarray]) -> None:
    """Write per-split per-image confusion matrices (uint16 (N, 5, 5)) to `path`, atomically."""
    write_with(path, lambda handle: np.savez_compressed(handle, **confusions))


def read_per_image(path: Path) -> dict[str, np.ndarray]:
    """Read what `write_per_image` wrote.

    Raises:
        ValueError: for a file that does not hold uint16 (N, 5, 5) arrays of "val" or "test".
    """
    with np.load(path) as stored:
        found = {name: stored[name] for name in stored.files}
    for name, array in found.items():
        if name not in ("val", "test") or array.dtype != np.uint16 or array.shape[1:] != (5, 5):
            raise ValueError(
                f"{path} holds {name!r} {array.dtype} {array.shape}; expected val and test "
                "per-image confusion matrices, uint16 (N, 5, 5)"
            )
    return found


def damage(directory: Path | str) -> str | None:
    """What is wrong with a run folder that claims to be finished (None: nothing, or no claim).

    A folder claims to be finished when it holds a DONE marker. It is damaged when the marker is
    not the one `run` writes, a record file is missing, a JSON file does not parse, or the model
    file is not a whole zip archive (a `.keras` file is one).
    """
    directory = Path(directory)
    done = directory / "DONE"
    if not done.exists():
        return None
    if done.read_bytes() != DONE_TEXT.encode():
        return f"its DONE marker is {done.stat().st_size} bytes, not the one a finished run writes"
    missing = [name for name in RECORD_FILES if not (directory / name).is_file()]
    if missing:
        return f"it has a DONE marker but no {', '.join(missing)}"
    for name in ("config.json", "metrics.json", "provenance.json"):
        try:
            read_json(directory / name)
        except (ValueError, UnicodeDecodeError) as error:
            return f"{name} is not valid JSON ({error})"
    try:
        read_per_image(directory / PER_IMAGE_FILE)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as error:
        return f"{PER_IMAGE_FILE} does not read back ({error})"
    try:
        with zipfile.ZipFile(directory / "model.keras") as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError) as error:
        return f"model.keras is not a whole .keras archive ({error})"
    if broken is not None:
        return f"model.keras is damaged (its part {broken} does not read back)"
    return None


def is_complete(directory: Path | str) -> bool:
    """True when `directory` holds a finished, undamaged record (`damage`; DONE is written last)."""
    return (Path(directory) / "DONE").exists() and damage(directory) is None


def origin_of(directory: Path) -> str:
    """Where a finished record's folder lies: `REFERENCE`, `PREVIOUS_REFERENCE` (in one of
    `reference_folders()`) or `RUNS_FOLDER` (anywhere else)."""
    parent = Path(directory).resolve().parent
    for folder in reference_folders():
        if parent == folder.resolve():
            return REFERENCE
        if parent == (folder / PREVIOUS_RECIPE).resolve():
            return PREVIOUS_REFERENCE
    return RUNS_FOLDER


def load_record(directory: Path | str) -> RunRecord:
    """Read the finished record in `directory`.

    A record made by other code versions than this marslib's loads with a warning that says so
    (its key no longer matches the current code, so `run` would train it again).

    Raises:
        ValueError: when the folder holds no finished record, or a damaged one (the message says
            what is wrong and how to start it again).
    """
    directory = Path(directory)
    if not (directory / "DONE").exists():
        raise ValueError(f"{directory} holds no finished run record (no DONE marker)")
    problem = damage(directory)
    if problem is not None:
        raise ValueError(
            f"{directory} holds a damaged run record: {problem}; delete the folder and run the "
            "experiment again to retrain it"
        )
    try:
        experiment = Experiment.from_dict(read_json(directory / "config.json"))
    except ValueError as error:
        raise ValueError(
            f"{directory / 'config.json'} is not a valid experiment ({error}); delete the folder "
            "and run the experiment again"
        ) from None
    record = RunRecord(
        directory=directory,
        experiment=experiment,
        history=pd.read_csv(directory / "history.csv"),
        metrics=read_json(directory / "metrics.json"),
        provenance=read_json(directory / "provenance.json"),
        origin=origin_of(directory),
    )
    if not record.current:
        warnings.warn(
            f"{directory} was made by marslib {record.provenance.get('marslib_version')} "
            f"with code versions {record.provenance.get('code_versions')}; "
            f"this marslib's are {versions.versions(versions.RUN_PARTS)}, "
            "so its model may differ from what the current code trains",
            stacklevel=2,
        )
    return record


def records(runs_dir: Path | str | None = None, *, task: str | None = "terrain") -> list[RunRecord]:
    """Every finished record in `runs_dir` (default `marslib.core.paths.runs_dir()`), oldest first.

    A damaged folder (`damage`) is skipped with a warning that names it and the fix, so one bad
    folder never hides the good records beside it.

    Args:
        runs_dir: the folder of run folders.
        task: only the records of this task ("terrain" by default; None: every task).
    """
    root = Path(runs_dir) if runs_dir is not None else paths.runs_dir()
    found = []
    for folder in sorted(root.iterdir()) if root.exists() else []:
        if not folder.is_dir() or not (folder / "DONE").exists():
            continue
        try:
            found.append(load_record(folder))
        except ValueError as error:
            warnings.warn(f"skipped: {error}", stacklevel=2)
    chosen = [r for r in found if task is None or r.experiment.task == task]
    return sorted(chosen, key=lambda r: r.provenance["finished"])


def names_a_folder(run_or_name: Path | str) -> bool:
    """Whether an argument that takes a run folder or a run's name means a folder: a `Path`, an
    existing folder, or text that looks like a path (a separator in it, or a start with "." or
    "~"); run names are words such as "pspnet"."""
    if isinstance(run_or_name, Path) or Path(run_or_name).is_dir():
        return True
    separators = {os.sep, os.altsep or os.sep, "/"}
    return any(mark in run_or_name for mark in separators) or run_or_name.startswith((".", "~"))


def find_record(
    run_or_name: Path | str,
    data: MarsData | None = None,
    runs_dir: Path | str | None = None,
    profile: str | None = None,
) -> RunRecord:
    """A finished record, named by its folder or by a named run (`marslib.training.registry`).

    Args:
        run_or_name: a run folder, or a run name such as "pspnet".
        data: the data set a name's record was trained on (default `marslib.data.load()`).
        runs_dir: where to look for a name's record.
        profile: the profile of a name's experiment (None: `marslib.profile()`).

    Raises:
        ValueError: no finished record there (or for that name, data and profile yet); an
            argument that looks like a path (`names_a_folder`) but is no folder.
    """
    if names_a_folder(run_or_name):
        folder = Path(run_or_name).expanduser()
        if not folder.is_dir():
            what = "is a file, not a run folder" if folder.exists() else "does not exist"
            raise ValueError(
                f"no such run folder: {folder} {what}; give a run folder (it holds "
                "config.json, metrics.json and model.keras) or a run's name "
                "(python -m marslib experiments list)"
            )
        return load_record(folder)
    experiment = registry.get(str(run_or_name), profile)
    data = data if data is not None else mars_data.load()
    directory = find_finished(experiment, data, runs_dir)
    if directory is None:
        directory = run_directory(experiment, data, runs_dir)
        raise ValueError(
            f"experiment {experiment.name!r} ({experiment.profile} profile) has no finished record "
            f"at {directory}; run it first: "
            f"python -m marslib experiments run {experiment.name} --profile {experiment.profile}"
        )
    return load_record(directory)
