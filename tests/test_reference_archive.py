"""References for any data file: trained and published on a stand-in for the real file, packed into
one archive, installed for a student, then shown by `training.show` without training and
re-scored; archives that are damaged, for other data or other code, or that try to write outside
their folder, are refused with a message that says why. Plus the GPU time estimate."""

from __future__ import annotations

import dataclasses
import json
import stat
import zipfile
from pathlib import Path

import pytest

from marslib import cli, data, training
from marslib.bench import estimate
from marslib.core import profiles
from marslib.training import archive, loop, registry, run_records, shown

QUICK, REFERENCE = profiles.PROFILES["quick"], profiles.PROFILES["reference"]
NAME = "unet_baseline"


@pytest.fixture(scope="module")
def stand_in(module_folders: Path) -> data.MarsData:
    """A stand-in for the real file: a tiny synthetic set of another seed, written in the real
    format (no test labels) and read back, so its fingerprint is a content hash of its own."""
    path = data.save_npz(
        data.synthetic_data(seed=7, n_train=40, n_test=16), module_folders / "stand_in.npz"
    )
    return data.read_npz(path)


@pytest.fixture(scope="module")
def packed(stand_in: data.MarsData, module_folders: Path) -> Path:
    """The instructor's path on the stand-in: one short reference trained (1 epoch, a tiny
    U-Net), published into the instructor's references folder, packed into one archive."""
    with pytest.MonkeyPatch.context() as patch:
        _short_registry(patch)
        patch.setattr(run_records, "REFERENCES_DIR", module_folders / "instructor")
        patch.delenv("MARSLIB_REFERENCES", raising=False)
        assert shown.shown_profile(QUICK, stand_in) is QUICK  # no references yet: quick runs
        record = loop.run(registry.get(NAME, REFERENCE), stand_in, module_folders / "runs")
        run_records.publish(record)
        assert shown.references_cover(stand_in)
        output = module_folders / archive.archive_name(stand_in.fingerprint)
        code = cli.main(["references", "pack", "--data", stand_in.source, "--output", str(output)])
        assert code == 0 and output.is_file()
    return output


def _short_registry(patch: pytest.MonkeyPatch) -> None:
    """One named run, one seed, at one epoch of a tiny U-Net (the path, not the scores)."""
    full_get = registry.get

    def short(name: str, profile: object = None, seed: int = 0) -> training.Experiment:
        return dataclasses.replace(
            full_get(name, profile, seed),
            epochs=1,
            batch_size=8,
            model_options={"base_filters": 4, "depth": 2},
        )

    patch.setattr(registry, "get", short)
    patch.setattr(registry, "names", lambda group=None: [NAME])
    patch.setattr(registry, "SEEDS", (0,))


@pytest.fixture
def student(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A student's machine: the short registry, an empty references folder in the book, a
    private data cache (no stamp of another test); returns the folder to install into."""
    _short_registry(monkeypatch)
    monkeypatch.setattr(run_records, "REFERENCES_DIR", tmp_path / "book" / "references")
    monkeypatch.setenv("MARSLIB_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("MARSLIB_REFERENCES", raising=False)
    return tmp_path / "drive" / "references"


def test_a_student_installs_the_archive_and_the_book_shows_the_references_untrained(
    stand_in: data.MarsData, packed: Path, student: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert stand_in.test_masks is None and not stand_in.is_synthetic
    assert shown.shown_profile(QUICK, stand_in) is QUICK  # before: the chapters train quick runs
    manifest = json.loads(zipfile.ZipFile(packed).read(archive.MANIFEST))
    assert manifest["data_fingerprint"] == stand_in.fingerprint
    assert manifest["code_versions"] == training.run_records.versions.versions(
        training.run_records.versions.RUN_PARTS
    )
    assert [entry["name"] for entry in manifest["records"]] == [NAME]

    code = cli.main(
        ["references", "install", str(packed), "--data", stand_in.source, "--into", str(student)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "installed 1 reference records" in printed and "MARSLIB_REFERENCES=" in printed
    assert not (student.parent / "x").exists()
    monkeypatch.setenv("MARSLIB_REFERENCES", str(student))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an installed reference was trained again")

    monkeypatch.setattr(loop, "run", refuse)
    assert shown.shown_profile(QUICK, stand_in) is REFERENCE
    folder = run_records.reference_directory(registry.get(NAME, REFERENCE), stand_in)
    assert folder.parent == student
    stamp = shown.verified_stamp(folder, stand_in)
    assert not stamp.exists()
    record = shown.show(NAME, QUICK, stand_in)  # as a chapter calls it
    assert record.directory == folder and record.origin == run_records.REFERENCE
    assert record.metrics["test"] is None and record.test_miou is None  # no test labels
    assert record.val_miou is not None
    assert stamp.is_file()  # re-scored to its recorded figures, once per data cache
    note = shown.shown_note(QUICK, stand_in)
    assert "this data file" in note and "compare them on validation" in note
    assert "synthetic" not in note
    # A tampered installed record fails where it is shown (re-scored under a fresh cache).
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["val"]["miou"] += 0.01
    (folder / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(ValueError, match="does not reproduce"):
        shown.show(NAME, QUICK, stand_in)


def test_installing_into_the_book_needs_no_variable(
    stand_in: data.MarsData, packed: Path, student: Path
) -> None:
    done = archive.install(packed, stand_in.fingerprint)  # default: the book's references/
    assert done.target == run_records.REFERENCES_DIR
    assert [folder.parent for folder in done.records] == [run_records.REFERENCES_DIR]
    assert shown.references_cover(stand_in)


def _rewrite(
    source: Path,
    target: Path,
    *,
    manifest: dict | None = None,
    extra: list[tuple[zipfile.ZipInfo | str, bytes]] = (),
) -> Path:
    """A copy of the archive `source` with another manifest and/or extra entries."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            content = old.read(info)
            if info.filename == archive.MANIFEST and manifest is not None:
                content = json.dumps(manifest).encode()
            new.writestr(info, content)
        for info, content in extra:
            new.writestr(info, content)
    return target


def _manifest(packed: Path) -> dict:
    return json.loads(zipfile.ZipFile(packed).read(archive.MANIFEST))


def test_a_damaged_archive_is_refused(
    stand_in: data.MarsData, packed: Path, student: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.zip"
    cut.write_bytes(packed.read_bytes()[: packed.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a zip archive"):
        archive.install(cut, stand_in.fingerprint, student)
    flipped = tmp_path / "flipped.zip"
    content = bytearray(packed.read_bytes())
    with zipfile.ZipFile(packed) as opened:
        model = opened.getinfo(f"{_manifest(packed)['records'][0]['path']}/model.keras")
    middle = model.header_offset + 100 + model.compress_size // 2
    content[middle] ^= 0xFF
    flipped.write_bytes(bytes(content))
    with pytest.raises(ValueError, match="refused: it is damaged|does not match the manifest"):
        archive.install(flipped, stand_in.fingerprint, student)
    listed = _manifest(packed)
    listed["records"][0]["files"]["metrics.json"] = "0" * 64
    with pytest.raises(ValueError, match="metrics.json' does not match the manifest's hash"):
        archive.install(
            _rewrite(packed, tmp_path / "h.zip", manifest=listed), stand_in.fingerprint, student
        )
    assert not student.exists() or not any(student.rglob("DONE"))


def test_an_archive_for_other_data_or_other_code_is_refused(
    stand_in: data.MarsData, packed: Path, student: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="trained on data .* the data in use has the fingerprint"):
        archive.install(packed, "0123456789ab", student)
    other_code = _manifest(packed)
    other_code["code_versions"] = {**other_code["code_versions"], "models": 999}
    rewritten = _rewrite(packed, tmp_path / "code.zip", manifest=other_code)
    with pytest.raises(ValueError, match="code versions .* this marslib's are"):
        archive.install(rewritten, stand_in.fingerprint, student)
    # The CLI says it in one line, exit code 2.
    code = cli.main(["references", "install", str(packed), "--into", str(student)])
    assert code == 2  # the default data is the synthetic set, not the stand-in
    assert not student.exists() or not any(student.rglob("DONE"))


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("../x", "'..'"),
        ("/tmp/x", "absolute"),
        ("C:/x", "absolute or Windows"),
        ("a\\..\\x", "absolute or Windows"),
        (_link("link"), "a link"),
        ("unlisted.txt", "does not list"),
    ],
    ids=["dotdot", "absolute", "drive", "backslash", "symlink", "unlisted"],
)
def test_an_entry_that_could_write_outside_the_target_is_refused(
    stand_in: data.MarsData,
    packed: Path,
    student: Path,
    tmp_path: Path,
    entry: zipfile.ZipInfo | str,
    why: str,
) -> None:
    hostile = _rewrite(packed, tmp_path / "hostile.zip", extra=[(entry, b"/etc/passwd")])
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=why):
        archive.install(hostile, stand_in.fingerprint, student)
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, inside or out
    assert not (tmp_path / "x").exists() and not Path("/tmp/x").exists()


def test_a_file_over_the_size_limit_is_refused(
    stand_in: data.MarsData, packed: Path, student: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", 10_000)  # a model.keras is larger
    with pytest.raises(ValueError, match="over the limit of 10000 for one file"):
        archive.install(packed, stand_in.fingerprint, student)
    monkeypatch.setattr(archive, "MAX_FILE_BYTES", 512 * 2**20)
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 10_000)
    with pytest.raises(ValueError, match="unpacks to .* over the limit of 10000"):
        archive.install(packed, stand_in.fingerprint, student)
    assert not student.exists() or not any(student.rglob("DONE"))


def test_pack_refuses_data_without_references(tmp_path: Path, student: Path) -> None:
    with pytest.raises(ValueError, match="no finished reference record was trained on data"):
        archive.pack("0123456789ab", tmp_path / "none.zip")
    with pytest.raises(ValueError, match="must end in .zip"):
        archive.pack("0123456789ab", tmp_path / "none.tar")


def test_a_model_that_holds_code_is_not_loaded(tmp_path: Path) -> None:
    """Keras' safe mode: a Lambda layer's Python code in a model file is refused, not run."""
    import keras

    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    model.save(tmp_path / "model.keras")
    record = run_records.RunRecord(
        directory=tmp_path,
        experiment=registry.get(NAME, "quick"),
        history=None,  # type: ignore[arg-type]
        metrics={},
        provenance={},
    )
    with pytest.raises(ValueError, match="does not load"):
        record.load_model()


def test_the_gpu_estimate_is_flops_over_throughput_plus_a_cost_per_step() -> None:
    # 1 GFLOP forward; 1000 training images (3 x forward each) and 200 validation images (1 x):
    # 3.2 TFLOP an epoch, 0.8 s at 4 TFLOP/s, plus 63 steps of 16 at 10 ms; 30 epochs.
    minutes = estimate.gpu_minutes(1e9, 1000, 200, 30, 16, tflops=4.0, step_seconds=0.01)
    assert minutes == pytest.approx(30 * (0.8 + 0.63) / 60)
    assert estimate.gpu_minutes(1e9, 1000, 200, 30, 16, tflops=8.0, step_seconds=0) == (
        pytest.approx(30 * 0.4 / 60)
    )
    with pytest.raises(ValueError, match="must be positive"):
        estimate.gpu_minutes(0, 1000, 200, 30, 16)
