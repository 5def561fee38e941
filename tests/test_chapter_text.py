"""What a chapter shows its reader: code that fits a book page.

The chapters are read on a page about 100 characters wide, so no line of a code cell may be
longer; the linter does not see the chapters (pyproject.toml excludes notebooks/), this test does.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("*.md"))
MAX_CODE_LINE = 100


def code_lines_over(text: str, limit: int = MAX_CODE_LINE) -> list[tuple[int, int]]:
    """(cell number, length) of every code-cell line of a MyST chapter longer than `limit`."""
    notebook = jupytext.reads(text, fmt="md:myst")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [
        (number, len(line))
        for number, cell in enumerate(code, start=1)
        for line in cell.source.splitlines()
        if len(line) > limit
    ]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_code_lines_fit_the_page(chapter: Path) -> None:
    over = code_lines_over(chapter.read_text())
    assert not over, (
        f"{chapter.name}: code lines longer than {MAX_CODE_LINE} characters "
        f"(code cell, length): {over}; wrap them"
    )


def test_the_line_check_finds_a_long_line() -> None:
    long_call = "print(" + "x" * 100 + ")"
    chapter = f"# Title\n\n```{{code-cell}} ipython3\nshort = 1\n{long_call}\n```\n"
    assert code_lines_over(chapter) == [(1, len(long_call))]
    assert code_lines_over(chapter.replace(long_call, "short = 2")) == []
