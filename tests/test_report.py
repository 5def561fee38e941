"""The report's quoted numbers line up with the experiments that rebuild them."""

from __future__ import annotations

from marslib import experiments, report

MODEL_WORDS = {"unet": "U-Net", "deeplabv3": "DeepLab", "wnet": "W-Net", "pspnet": "PSP", "attention_psp": "Attention + PSP"}


def test_table1_has_one_row_per_table1_experiment_with_its_recipe() -> None:
    assert list(report.TABLE1) == list(experiments.TABLE1)
    for name, row in report.TABLE1.items():
        experiment = experiments.get_experiment(name, "quick")
        assert MODEL_WORDS[experiment.model] in row.model
        assert ("Aug" in row.dataset) == (experiment.variant == "augmented_bigrock")
        assert row.loss.startswith("W") == (experiment.class_weights is not None)
        assert ("Focal" in row.loss) == ("focal" in experiment.loss)
        assert 0 < row.kaggle_miou < row.val_miou < 1  # the report's validation always beat its Kaggle score


def test_table1_frame_keeps_the_printed_numbers() -> None:
    frame = report.table1()
    assert frame.loc["pspnet", "val_miou"] == 0.7271  # the report's 72.71%
    assert frame.loc["attention_psp", "kaggle_miou"] == 0.7178  # its best Kaggle score
    assert frame["kaggle_miou"].idxmax() == "attention_psp"
    assert list(frame.columns) == ["model", "dataset", "loss", "val_miou", "kaggle_miou"]
