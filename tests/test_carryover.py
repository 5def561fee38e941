"""Chapter 14's carry-over table: every finding says where it comes from and whose each claim is."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marslib.analysis import carryover

ROOT = Path(__file__).resolve().parent.parent
SOURCES_PAGE = ROOT / "book" / "sources.md"
REPORT = ROOT.parent / "shared" / "report.md"  # the report's text, where the checkout has it


def test_every_finding_has_an_origin_and_a_chapter() -> None:
    for finding in carryover.FINDINGS:
        assert finding.origin in (carryover.GENERATOR, carryover.TRAINING), finding
        assert 1 <= finding.chapter <= 15, finding
        assert finding.report or finding.others or finding.origin == carryover.TRAINING, finding


def test_public_solutions_cite_the_sources_page() -> None:
    labels = set(re.findall(r"^\((src-[\w-]+)\)=$", SOURCES_PAGE.read_text(), flags=re.M))
    for finding in carryover.FINDINGS:
        if finding.others:
            assert finding.source in labels, finding
        else:
            assert not finding.source, finding


@pytest.mark.skipif(not REPORT.is_file(), reason="the report's text is not in this checkout")
def test_the_reports_words_are_quoted_as_written() -> None:
    text = " ".join(REPORT.read_text().replace("**", "").split())  # bold marks dropped
    for finding in carryover.FINDINGS:
        for quoted in re.findall(r'"([^"]+)"', finding.report):
            assert quoted in text, (finding.finding, quoted)


def test_the_table_has_one_row_per_finding_in_chapter_order() -> None:
    frame = carryover.table()
    assert len(frame) == len(carryover.FINDINGS)
    assert frame["chapter"].is_monotonic_increasing
