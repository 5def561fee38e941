"""The training layer: experiments as data, one trainer, run records.

- `experiment`: `Experiment`, one recipe as a frozen config, checked in full when it is made;
- `registry`: every named run the book trains, grouped; experiments from config files;
- `tasks`: what a run learns (the five classes, or background alone) and how it is scored;
- `checkpoint`: a run's resumable state, saved after every epoch;
- `run_records`: run folders, their keys, and `RunRecord`, a finished run read back;
- `loop`: `run`, the one trainer;
- `shown`: what a chapter shows: the shipped reference records (verified), or runs trained now.

A chapter needs only this package::

    from marslib import training
    record = training.run(training.get("pspnet", PROFILE))
    training.records()

Importing it, listing experiments and reading records import no TensorFlow: the names below
load their module when first used, and only `loop` imports TensorFlow.
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
    "split_indices": "loop",
    "training_split": "loop",
    "build_model": "loop",
    "fit_epoch": "loop",
    "set_schedule": "loop",
    "rescore": "loop",
    "verify": "loop",
    "show": "shown",
    "shown_profile": "shown",
    "shown_note": "shown",
    "seed_records": "shown",
    "shows_references": "shown",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy.exports(__name__, _EXPORTS)
