"""The versions of the code whose output is cached: bump one when that code's behaviour changes.

A built training dataset (`marslib.datasets`) and a run record (`marslib.training.run_records`) are
found again by a key. The key holds the config and the data's fingerprint, and the version of
every piece of code that made the result, so that a change in behaviour makes a new key (and
the old cache is no longer used), while a refactor that changes nothing keeps the key.

| part       | covers                                                                  |
| ---------- | ----------------------------------------------------------------------- |
| datasets   | the dataset builders: `data.cleaning`, `augment.*`, `datasets`          |
| models     | the model builders and their blocks: `models.*`                         |
| losses     | the losses: `losses.*`                                                  |
| training   | the training step, loop and metric, the tasks: `training.epochs`, ...   |

`tests/test_versions.py` keeps a small fingerprint of each part's behaviour (a built dataset,
each model's output, each loss's value, one training step) and fails when the behaviour
changes while the version stays: bump the version here and the fingerprint there together.
"""

from __future__ import annotations

CODE_VERSIONS: dict[str, int] = {
    "datasets": 1,
    "models": 1,
    "losses": 1,
    "training": 1,
}
DATASET_PARTS: tuple[str, ...] = ("datasets",)
RUN_PARTS: tuple[str, ...] = ("datasets", "models", "losses", "training")


def versions(parts: tuple[str, ...]) -> dict[str, int]:
    """The versions of `parts` (names of `CODE_VERSIONS`), e.g. ``{"datasets": 1}``."""
    unknown = sorted(set(parts) - set(CODE_VERSIONS))
    if unknown:
        raise ValueError(f"unknown code part(s) {unknown}; known parts: {list(CODE_VERSIONS)}")
    return {part: CODE_VERSIONS[part] for part in parts}
