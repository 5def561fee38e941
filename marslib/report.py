"""The report's own numbers, quoted as it printed them: never measured here, always labelled as theirs.

`TABLE1` is the report's Table 1 (validation and Kaggle mean IoU), keyed by the name of the
experiment in `marslib.experiments` that rebuilds each row, so a chapter can print the report's
row beside the record of its own run::

    row = report.TABLE1["pspnet"]
    print(f"the report: {row.val_miou:.2%} validation, {row.kaggle_miou:.2%} Kaggle")
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class ReportRow:
    """One row of the report's Table 1 (mIoU as fractions: 0.4523 is the report's 45.23%)."""

    model: str
    dataset: str
    loss: str
    val_miou: float
    kaggle_miou: float


TABLE1: dict[str, ReportRow] = {
    "unet_baseline": ReportRow("Baseline U-Net", "Cleaned", "SCCE", 0.4523, 0.4301),
    "deeplabv3": ReportRow("DeepLabV3", "Cleaned", "SCCE", 0.5200, 0.4877),
    "wnet": ReportRow("W-Net", "Cleaned", "Weighted SCCE", 0.5749, 0.5134),
    "pspnet": ReportRow("PSP", "Cleaned", "Weighted SCCE", 0.7271, 0.6413),
    "deeplabv3_bigrock": ReportRow("DeepLabV3", "Aug. Big Rocks", "Weighted SCCE", 0.7289, 0.6912),
    "attention_psp": ReportRow("Attention + PSP", "Aug. Big Rocks", "W. Focal+SCCE", 0.7288, 0.7178),
}


def table1() -> pd.DataFrame:
    """The report's Table 1 as a DataFrame indexed by experiment name (columns as `ReportRow`)."""
    return pd.DataFrame({name: asdict(row) for name, row in TABLE1.items()}).T.astype(
        {"val_miou": float, "kaggle_miou": float}
    )
