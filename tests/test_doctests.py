"""The examples in the docstrings of the functions the chapters call most run, and print what
they say (doctest): `training.show`, the `verdicts`, `metrics.competition_miou`,
`datasets.build`, the ensemble module's example and the table helpers. They run offline on a
tiny synthetic set in a private cache, and train nothing."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

MODULES = (
    "marslib.training.shown",
    "marslib.analysis.verdicts",
    "marslib.metrics",
    "marslib.datasets",
    "marslib.evaluation.ensemble",
    "marslib.analysis.tables",
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples(module: str) -> list[doctest.DocTest]:
    """The docstrings of `module` that hold an example."""
    found = doctest.DocTestFinder().find(importlib.import_module(module))
    return [test for test in found if test.examples]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str, folders: Path) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    tests = examples(module)
    assert tests, f"{module} has no docstring example"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {module} failed"


def test_the_examples_are_counted() -> None:
    count = sum(len(test.examples) for module in MODULES for test in examples(module))
    assert count >= 20, count
