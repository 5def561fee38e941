"""What a chapter shows: the book's converged reference records, or runs trained now.

Chapters 7 to 15 draw their tables, curves and verdicts from run records::

    record = training.show("pspnet", PROFILE, data)  # resolves what the chapter's profile shows
    print(training.shown_note(PROFILE, data))        # says which records these are

- On the embedded synthetic set at the quick profile (the default build on a CPU), a chapter
  shows the reference records that ship with the book (`run_records.REFERENCES_DIR`): the
  seed-0 record of each run (a fixed budget ending at a rate of 0), carrying the records of its
  other seeds. Nothing trains. Each record is checked before it is shown: its model is
  re-scored on the validation split and the public test quarter, and a score that differs from
  the record fails (`verify`), so a record can never drift from its weights or from the data.
  A missing reference is an error that names the command that trains it.
- A record that re-scored leaves a stamp in the data cache (`verified_stamp`), keyed by the bytes
  of its model, config and metrics, the data's fingerprint, the TensorFlow and Keras versions and
  the code versions: the chapters of one build re-score each record once, and a fresh cache (as
  in CI) re-scores every record again. Delete the cache's ``verified/`` folder to force it.
- Any other data file is shown the same way where reference records were trained on data of its
  fingerprint (`references_cover`): an instructor trains and publishes them once on the course's
  file, packs them into an archive, and a student installs it (`marslib.training.archive`) into
  `references/` or the folder `$MARSLIB_REFERENCES` names. Where the file has no test labels the
  records have no test scores, and the chapters compare on validation.
- With data that has no references, or the full or reference profile, there is no shipped record
  to show: `show` trains the run at that profile (or finds its record), as `run` does, and the
  verdicts on such short runs say they cannot tell (`marslib.analysis.verdicts`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from marslib.core import files, paths, profiles, versions
from marslib.core.profiles import Profile
from marslib.data import loading
from marslib.training import registry, run_records
from marslib.training.run_records import (
    RunRecord,
    is_complete,
    load_record,
    reference_directory,
)

if TYPE_CHECKING:
    from marslib.data import MarsData

REFERENCE = "reference"
_STAMPED_FILES = ("config.json", "metrics.json", "per_image.npz", "model.keras")


def references_cover(data: MarsData) -> bool:
    """True when the chapters show reference records on `data`: it is the embedded synthetic set
    (its references ship with the book), or some reference record was trained on data of its
    fingerprint (`MarsData.fingerprint`): for
    example the real file's, installed from an archive (`marslib.training.archive`) into
    `references/` or the folder `$MARSLIB_REFERENCES` names (`run_records.reference_folders`)."""
    if data.fingerprint == loading.recipe_fingerprint(loading.default_recipe()):
        return True
    return data.fingerprint in run_records.reference_fingerprints()


def shown_profile(profile: Profile, data: MarsData) -> Profile:
    """The profile whose records a chapter shows: the reference profile in place of the quick
    one on the embedded synthetic set (its records ship with the book), else `profile` itself."""
    if profile.name == "quick" and references_cover(data):
        return profiles.PROFILES[REFERENCE]
    return profile


def shows_references(profile: Profile, data: MarsData) -> bool:
    """True when records at `profile` on `data` are the shipped references (nothing trains)."""
    return profile.name == REFERENCE and references_cover(data)


def show(
    name: str,
    profile: Profile,
    data: MarsData,
    *,
    runs_dir: Path | str | None = None,
    verbose: int = 0,
) -> RunRecord:
    """The record of the named run that a chapter shows (see the module's docstring).

    Args:
        name: a named run (`marslib.training.registry.names()`).
        profile: the chapter's profile (its ``PROFILE``); `show` resolves it itself
            (`shown_profile`): the quick profile on the embedded synthetic set shows the
            shipped references.
        data: the data the chapter uses.
        runs_dir: where trained records live (default `$MARSLIB_RUNS`, else ``<repo>/runs``).
        verbose: Keras progress output while a run trains (0 silent, 1 bar, 2 one line).

    Returns:
        The record; a reference of the current recipe carries its run's shipped seeds
        (`RunRecord.seeds`, this record included), so that tables give their mean and verdicts
        an interval over them (`marslib.analysis.verdicts`).

    Raises:
        ValueError: a shipped reference is missing, or its model no longer gives its scores.

    Examples:

    >>> import marslib
    >>> from marslib import data, training
    >>> tiny = data.synthetic_data(seed=3, n_train=40, n_test=16)
    >>> SHOWN = training.shown_profile(marslib.profile("quick"), tiny)
    >>> SHOWN.name  # no reference was trained on this set: `show` would train the run here
    'quick'
    >>> training.shows_references(SHOWN, tiny)
    False

    On the embedded synthetic set (a chapter's build) the shipped reference is shown instead,
    re-scored first: a minute on a CPU with a fresh cache, so these lines are not run here.

    >>> embedded = data.load()  # doctest: +SKIP
    >>> SHOWN = training.shown_profile(marslib.profile("quick"), embedded)  # doctest: +SKIP
    >>> SHOWN.name  # doctest: +SKIP
    'reference'
    >>> record = training.show("unet_weighted", SHOWN, embedded)  # doctest: +SKIP
    >>> record.experiment.epochs, record.val_miou is not None  # doctest: +SKIP
    (30, True)
    """
    profile = shown_profile(profile, data)
    experiment = registry.get(name, profile)
    if not shows_references(profile, data):
        from marslib.training import loop

        return loop.run(experiment, data, runs_dir, verbose=verbose)
    directory = reference_directory(experiment, data)
    if not is_complete(directory):
        seeds = " ".join(map(str, registry.SEEDS))
        given = "" if data.is_synthetic else " --data FILE"
        raise ValueError(
            f"the reference record of {name!r} on data {data.fingerprint} is missing: "
            f"train it with `python -m marslib experiments run {name} --profile reference "
            f"--seeds {seeds}{given}`, then `python -m marslib experiments "
            f"publish {name} --profile reference --seeds {seeds}{given}`, or install the "
            "archive of references for this data (`python -m marslib references install "
            "ARCHIVE`)"
        )
    record = load_record(directory)
    stamp = verified_stamp(directory, data)
    if not stamp.is_file():
        from marslib.training import record_scores

        record_scores.verify(record, data)
        stamp.parent.mkdir(exist_ok=True)
        files.write_json(stamp, {"record": directory.name, "data": data.fingerprint})
    if record.origin == run_records.REFERENCE:
        return dataclasses.replace(record, seeds=tuple(seed_records(name, data)))
    return record


def seed_records(name: str, data: MarsData) -> list[RunRecord]:
    """The current reference recipe's shipped records of the named run on `data`, one per seed
    of `registry.SEEDS` shipped so far (possibly none). Not re-scored here: the test suite
    re-scores every shipped record that `show` does not (tests/test_references.py)."""
    found = []
    for seed in registry.SEEDS:
        directory = reference_directory(registry.get(name, REFERENCE, seed), data)
        if is_complete(directory):
            found.append(load_record(directory))
    return found


def seeded_reference(name: str, data: MarsData) -> RunRecord | None:
    """The current recipe's seed-0 reference of the named run on `data`, carrying every seed
    (`RunRecord.seed_records`), once all of `registry.SEEDS` are shipped; else None. Verdicts on
    it read intervals (`marslib.analysis.verdicts`). Not re-scored here (see `seed_records`)."""
    records = seed_records(name, data)
    if len(records) < len(registry.SEEDS):
        return None
    return dataclasses.replace(records[0], seeds=tuple(records))


def missing_references(data: MarsData) -> list[tuple[str, int]]:
    """The (named run, seed) pairs without a finished record at the current reference profile
    on `data` in `run_records.REFERENCES_DIR` (every run trains `registry.SEEDS`)."""
    return [
        (name, seed)
        for name in registry.names()
        for seed in registry.SEEDS
        if not is_complete(reference_directory(registry.get(name, REFERENCE, seed), data))
    ]


def verified_stamp(directory: Path, data: MarsData) -> Path:
    """Where the data cache notes that the record in `directory` re-scored to its figures on
    `data`: ``<cache>/verified/<hash>.json``, the hash taken over the record's config, metrics
    and model bytes, the data's fingerprint, the installed TensorFlow and Keras and
    `marslib.core.versions.CODE_VERSIONS`. Any change to one of them names another file."""
    import keras
    import tensorflow as tf

    digest = hashlib.sha256()
    for name in _STAMPED_FILES:
        digest.update((Path(directory) / name).read_bytes())
    context = {
        "data": data.fingerprint,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "code": versions.CODE_VERSIONS,
    }
    digest.update(json.dumps(context, sort_keys=True).encode())
    return paths.cache_dir() / "verified" / f"{digest.hexdigest()[:16]}.json"


def shown_note(profile: Profile, data: MarsData) -> str:
    """One sentence for a chapter: which records it shows, on which data, how far they trained
    (`profile`: the chapter's, resolved as `show` resolves it)."""
    profile = shown_profile(profile, data)
    if shows_references(profile, data):
        where = "the synthetic set" if data.is_synthetic else "this data file"
        if getattr(data, "test_masks", True) is None:
            where += " (no test labels: the chapters compare them on validation)"
        checked = (
            "Each model is re-scored (once per data cache) before it is shown and must give its "
            "recorded scores (else the build fails); "
            "`python -m marslib experiments run NAME --profile reference` trains one again."
        )
        seeds = len(registry.SEEDS)
        return (
            f"These are the book's reference runs on {where}: the quick widths, "
            f"trained on every training image for a fixed {profile.epochs} epochs (20 on the "
            "Big Rock sets), the learning rate held for two thirds of them and then decayed "
            f"to 0, the last epoch kept; {seeds} seeds of every run. The tables give the "
            f"mean over the {seeds} seeds, the figures and predictions seed 0's model, and "
            "each verdict a 95% interval over the seeds and the scored images "
            "(chapter 15). " + checked
        )
    limit = "every" if profile.train_limit is None else f"at most {profile.train_limit}"
    if profile.patience == 0:
        converged = f"all {profile.epochs} epochs, the last one kept"
    elif profile.patience < profile.epochs:
        converged = (
            f"stopped once the validation mIoU had not improved for {profile.patience} epochs"
        )
    else:
        converged = "not long enough to converge: read their numbers as a first look, not a verdict"
    where = "the synthetic set" if data.is_synthetic else "the real data file"
    return (
        f"These runs were trained for this build on {where} at the "
        f"{profile.name} profile: {limit} training images, at most {profile.epochs} epochs, "
        f"{converged}."
    )
