"""Readable tables (`marslib.analysis.tables`): no Python repr in a cell, numbers rounded."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marslib.analysis import tables
from marslib.training import registry


def test_every_named_runs_weights_read_as_words() -> None:
    for name in registry.names():
        words = tables.weights_in_words(registry.get(name, "reference").class_weights)
        assert not any(mark in words for mark in "{}[]'"), (name, words)


def test_readable_rounds_floats_and_writes_out_containers() -> None:
    frame = pd.DataFrame(
        {
            "mIoU": [0.597482, 0.1],
            "weights": [{"method": "balanced", "ignore_background": True}, None],
            "shape": [(64, 128), np.array([1.23456, 2.0])],
            "name": ["unet", "pspnet"],
        }
    )
    shown = tables.readable(frame)
    assert shown["mIoU"].tolist() == [0.597, 0.1]
    assert shown["weights"].tolist() == ["balanced, background left out", None]
    assert shown["shape"].tolist() == ["64, 128", "1.235, 2.0"]
    assert shown["name"].tolist() == ["unet", "pspnet"]
    assert frame["mIoU"].iloc[0] == 0.597482, "the table given is left as it was"


def test_readable_writes_shares_as_percentages_and_counts_whole() -> None:
    frame = pd.DataFrame(
        {
            "images": [2003.0, 4760.0],
            "Big Rock share": [0.001451, 0.029856],
            "precision": [0.784314, np.nan],
        }
    )
    shown = tables.readable(frame, percent=["Big Rock share"], whole=["images"])
    assert shown["images"].tolist() == [2003, 4760]
    assert shown["Big Rock share"].tolist() == ["0.1%", "3.0%"]
    assert shown["precision"].tolist()[0] == 0.784
    every = tables.readable(frame[["Big Rock share", "precision"]], percent=True)
    assert every.to_dict("list") == {
        "Big Rock share": ["0.1%", "3.0%"],
        "precision": ["78.4%", None],
    }
    assert frame["images"].iloc[0] == 2003.0, "the table given is left as it was"
