"""The chapters' measured sentences that stay in prose, checked against the records they show.

A sentence that states a measured comparison is printed by code where it can be (an f-string
computed from the records, as `verdicts.compare_runs` does). One that must stay in a markdown cell
(a summary, a heading's promise) is listed here with a check on the records that the chapters
show (`marslib.analysis.claims.shown_record`): when a retrained or edited reference makes the
sentence false, its check fails, and so does this test, naming the chapter and the words. A
sentence edited away from its listed words fails too, so the list follows the text.
"""

from __future__ import annotations

import doctest
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from marslib.analysis import claims, verdicts
from marslib.training import run_records

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _rock(name: str) -> float:
    """The larger of the named run's validation and test Big Rock IoU."""
    record = claims.shown_record(name)
    return max(claims.score(record, split, "Big Rock") for split in ("val", "test"))


def _not_ahead(name: str, control: str) -> bool:
    """True when the named run is not read ahead of `control` (`verdicts.gain`: an interval over
    the seeds) on validation or on test."""
    run, base = claims.shown_record(name), claims.shown_record(control)
    return not any(verdicts.gain(run, base, split)[1] for split in ("val", "test"))


def _behind(name: str, control: str) -> bool:
    """True when the named run is read behind `control` on validation and on test."""
    run, base = claims.shown_record(name), claims.shown_record(control)
    return all(verdicts.gain(run, base, split)[1] is False for split in ("val", "test"))


@dataclass(frozen=True)
class Claim:
    chapter: str  # a file of notebooks/
    words: str  # the sentence as the chapter says it (whitespace may differ)
    holds: Callable[[], bool]  # true while the records support it


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "06_losses.md",
        "Trained with Dice alone, the U-Net found no Big Rock here.",
        lambda: _rock("unet_dice") < 0.05,
    ),
    Claim(
        "09_wnet.md",
        "Against the U-Net trained with the same data and weighted loss, the W-Net trails here on "
        "validation and test",
        lambda: _behind("wnet", "unet_weighted"),
    ),
    Claim(
        "11_attention_psp.md",
        "With the data and loss held, Attention + PSP is ahead of PSP on no split here: these runs "
        "do not support the report's claim that the gates improved the predictions.",
        lambda: _not_ahead("attention_psp", "pspnet_best_recipe"),
    ),
)


def _said(chapter: str, words: str) -> bool:
    flat = " ".join((NOTEBOOKS / chapter).read_text().split())
    return " ".join(words.split()) in flat


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.chapter}: {c.words[:40]}")
def test_a_chapter_sentence_holds_on_its_records(claim: Claim) -> None:
    assert _said(claim.chapter, claim.words), (
        f"{claim.chapter} no longer says {claim.words!r}: update this claim with the new words"
    )
    assert claim.holds(), (
        f"{claim.chapter} says {claim.words!r}, which the records it shows no longer support: "
        "rewrite the sentence (or print it from the records) and update its check here"
    )


def _edit_metrics(references: Path, name: str, change: Callable[[dict], None]) -> None:
    folder = claims.shown_record(name).directory  # the copy's record of `name`
    assert folder is not None and references in folder.parents
    metrics = json.loads((folder / "metrics.json").read_text())
    change(metrics)
    (folder / "metrics.json").write_text(json.dumps(metrics))


def test_an_edited_reference_makes_its_sentence_fail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "references"
    shutil.copytree(run_records.REFERENCES_DIR, copy)
    monkeypatch.setattr(run_records, "REFERENCES_DIR", copy)
    monkeypatch.delenv("MARSLIB_REFERENCES", raising=False)
    dice = next(c for c in CLAIMS if c.chapter == "06_losses.md")
    assert dice.holds()

    def finds_rock(metrics: dict) -> None:
        metrics["test"]["per_class_iou"]["Big Rock"] = 0.31

    _edit_metrics(copy, "unet_dice", finds_rock)
    assert not dice.holds()
    assert re.search(r"found no Big Rock", (NOTEBOOKS / dice.chapter).read_text())


def test_a_seeded_record_is_scored_by_the_mean_of_its_seeds() -> None:
    from marslib.data import loading
    from marslib.training import shown

    fingerprint = loading.recipe_fingerprint(loading.default_recipe())
    record = shown.seeded_reference("unet_weighted", fingerprint)
    assert record is not None and len(record.seed_records()) == 3
    read = [json.loads((r.directory / "metrics.json").read_text()) for r in record.seed_records()]
    rock = [m["test"]["per_class_iou"]["Big Rock"] for m in read]
    assert claims.score(record, "test", "Big Rock") == pytest.approx(sum(rock) / 3)
    val = [m["val"]["miou"] for m in read]
    assert claims.score(record, "val") == pytest.approx(sum(val) / 3)
    assert claims.score(record.seed_records()[1], "val") == pytest.approx(val[1])


def test_the_claims_helpers_examples_run() -> None:
    from marslib.analysis import claims as module

    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags)
    assert result.attempted and not result.failed
