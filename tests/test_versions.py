"""Cache keys that notice the code: a changed code version makes a new key, the same one the same
key; a record made by other code versions says so when it is read."""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import fingerprints
import numpy as np
import pytest
from conftest import TINY

from marslib import data, datasets, training
from marslib.core import versions
from marslib.training import run_records


def test_hash_follows_config_and_data_but_not_description() -> None:
    experiment = training.Experiment.from_dict(TINY)
    base = run_records.run_key(experiment, "data1")
    assert len(base) == 10 and base == run_records.run_key(
        training.Experiment.from_dict(TINY), "data1"
    )
    assert run_records.run_key(experiment, "data2") != base
    assert run_records.run_key(training.Experiment.from_dict({**TINY, "seed": 1}), "data1") != base
    assert (
        run_records.run_key(training.Experiment.from_dict({**TINY, "learning_rate": 0.01}), "data1")
        != base
    )
    assert (
        run_records.run_key(
            training.Experiment.from_dict({**TINY, "description": "other words"}), "data1"
        )
        == base
    )


@pytest.mark.parametrize("part", versions.RUN_PARTS)
def test_a_run_key_changes_with_each_code_version_and_only_with_it(
    part: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    experiment = training.Experiment.from_dict(TINY)
    current = run_records.run_key(experiment, "data")
    assert run_records.run_key(experiment, "data", versions.versions(versions.RUN_PARTS)) == current
    monkeypatch.setitem(versions.CODE_VERSIONS, part, versions.CODE_VERSIONS[part] + 1)
    assert run_records.run_key(experiment, "data") != current
    monkeypatch.setitem(versions.CODE_VERSIONS, part, versions.CODE_VERSIONS[part] - 1)
    assert run_records.run_key(experiment, "data") == current


def test_a_dataset_key_changes_with_the_builders_version(
    tiny_data: data.MarsData, monkeypatch: pytest.MonkeyPatch
) -> None:
    indices = np.arange(10)
    current = datasets.cache_key("cleaned", tiny_data, indices, 0)
    assert datasets.cache_key("cleaned", tiny_data, indices, 0) == current
    monkeypatch.setitem(versions.CODE_VERSIONS, "models", versions.CODE_VERSIONS["models"] + 1)
    assert datasets.cache_key("cleaned", tiny_data, indices, 0) == current, (
        "a model change must not rebuild datasets"
    )
    monkeypatch.setitem(versions.CODE_VERSIONS, "datasets", versions.CODE_VERSIONS["datasets"] + 1)
    assert datasets.cache_key("cleaned", tiny_data, indices, 0) != current


def test_unknown_code_parts_are_refused() -> None:
    with pytest.raises(ValueError, match="known parts"):
        versions.versions(("datasets", "physics"))


def _fake_record(folder: Path, code_versions: dict[str, int]) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(training.Experiment.from_dict(TINY).to_dict()))
    (folder / "history.csv").write_text("epoch,loss\n0,1.0\n")
    (folder / "metrics.json").write_text(json.dumps({"val": {"miou": 0.5}, "test": None}))
    run_records.write_per_image(
        folder / run_records.PER_IMAGE_FILE, {"val": np.zeros((1, 5, 5), dtype=np.uint16)}
    )
    (folder / "provenance.json").write_text(
        json.dumps(
            {
                "marslib_version": "0.0.1",
                "code_versions": code_versions,
                "finished": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    with zipfile.ZipFile(folder / "model.keras", "w") as archive:  # whole, never loaded here
        archive.writestr("config.json", "{}")
    (folder / "DONE").write_text("complete\n")
    return folder


def test_a_record_of_other_code_versions_says_so(tmp_path: Path) -> None:
    current = versions.versions(versions.RUN_PARTS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        same = run_records.load_record(_fake_record(tmp_path / "same", current))
    assert same.current
    older = {**current, "losses": current["losses"] - 1}
    with pytest.warns(UserWarning, match="code versions"):
        record = run_records.load_record(_fake_record(tmp_path / "old", older))
    assert not record.current and record.val_miou == 0.5


@pytest.fixture(scope="module")
def measured() -> dict[str, dict]:
    return fingerprints.measure()


@pytest.mark.parametrize("part", versions.RUN_PARTS)
def test_behaviour_changes_only_with_a_new_code_version(
    part: str, measured: dict[str, dict]
) -> None:
    recorded = json.loads(fingerprints.FILE.read_text())[part]
    now = measured[part]
    if now["version"] != recorded["version"]:
        pytest.fail(
            f"{part} is at version {now['version']}, the fingerprint at {recorded['version']}: "
            "record it again with `python tests/fingerprints.py`"
        )
    assert len(now["values"]) == len(recorded["values"])
    np.testing.assert_allclose(
        now["values"],
        recorded["values"],
        rtol=1e-4,
        atol=1e-6,
        err_msg=(
            f"what the {part} code computes changed: bump CODE_VERSIONS[{part!r}] in "
            "marslib/core/versions.py and record the fingerprints again with "
            "`python tests/fingerprints.py`"
        ),
    )
