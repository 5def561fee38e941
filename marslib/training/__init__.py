"""The training layer: experiments as data, one trainer, run records.

- `experiment`: `Experiment`, one recipe as a frozen config, checked in full when it is made;
- `registry`: every named run the book trains, grouped; experiments from config files;
- `tasks`: what a run learns (the five classes, or background alone) and how it is scored;
- `checkpoint`: a run's resumable state, saved after every epoch;
- `run_records`: run folders, their keys, and `RunRecord`, a finished run read back;
- `splits`: which images a run trains, validates and is scored on;
- `building`: a run's model built and compiled for training, its learning-rate schedule;
- `epochs`: the epoch loop, resumable and deterministic;
- `record_scores`: a run's model scored on its record's splits, again, and verified;
- `recording`: a finished run's record written to its folder;
- `loop`: `run`, the one trainer, which uses the five above;
- `shown`: what a chapter shows: the shipped reference records (verified), or runs trained now.

A chapter needs only this package::

    from marslib import training
    record = training.run(training.get("pspnet", PROFILE))
    training.records()

Importing it, listing experiments and reading records import no TensorFlow: the names below
load their module when first used, and only the modules that build, train and score a
model (`building`, `epochs`, `record_scores`, `recording`, `loop`) import TensorFlow.
"""

from __future__ import annotations

from marslib.core import lazy

_EXPORTS: dict[str, str] = {
    "Experiment": "experiment",
    "get": "registry",
    "names": "registry",
    "experiments": "registry",
    "from_config": "registry",
    "load_experiments": "registry",
    "RunRecord": "run_records",
    "records": "run_records",
    "load_record": "run_records",
    "find_record": "run_records",
    "run_directory": "run_records",
    "publish": "run_records",
    "run": "loop",
    "split_indices": "splits",
    "training_split": "splits",
    "record_splits": "splits",
    "build_model": "building",
    "set_schedule": "building",
    "fit_epoch": "epochs",
    "rescore": "record_scores",
    "verify": "record_scores",
    "show": "shown",
    "shown_profile": "shown",
    "shown_note": "shown",
    "seed_records": "shown",
    "seeded_reference": "shown",
    "shows_references": "shown",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy.exports(__name__, _EXPORTS)
