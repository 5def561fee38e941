"""What a chapter shows its reader: code that fits a book page, and no folder of the build machine.

- The chapters are read on a page about 100 characters wide, so no line of a code cell may be
  longer; the linter does not see the chapters (pyproject.toml excludes notebooks/), this test does.
- A chapter prints a path through `marslib.core.paths.shown` (tested in tests/test_paths.py), never
  a bare path object, which would print the absolute path of the machine that built the book.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("*.md"))
MAX_CODE_LINE = 100


# A path object printed bare: a folder function, the repository root, a name ending in _path or
# _dir, or a run's directory, as the whole of an f-string field or of print's argument.
_PATH = r"(?:paths\.\w+\(\)|(?:paths\.)?REPO_ROOT|\w+_path|\w+_dir|[\w.]+\.directory)"
BARE_PATH = re.compile(rf"\{{\s*{_PATH}\s*(?:![rs])?(?::[^}}]*)?\}}|\bprint\(\s*{_PATH}\s*[,)]")


def _code_cells(text: str) -> list[str]:
    notebook = jupytext.reads(text, fmt="md:myst")
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def bare_paths(text: str) -> list[str]:
    """The bare path objects that the code cells of a MyST chapter print."""
    return [found.group(0) for code in _code_cells(text) for found in BARE_PATH.finditer(code)]


def code_lines_over(text: str, limit: int = MAX_CODE_LINE) -> list[tuple[int, int]]:
    """(cell number, length) of every code-cell line of a MyST chapter longer than `limit`."""
    return [
        (number, len(line))
        for number, code in enumerate(_code_cells(text), start=1)
        for line in code.splitlines()
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


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_chapters_print_no_bare_path(chapter: Path) -> None:
    found = bare_paths(chapter.read_text())
    assert not found, (
        f"{chapter.name} prints path objects {found}, which show the build machine's folders: "
        "print paths.shown(path) (or path.name) instead"
    )


def test_the_path_check_finds_a_bare_path() -> None:
    printed = [
        'print(f"run records in {paths.runs_dir()}")',
        'print(f"submit {csv_path} to the competition")',
        "print(record.directory, 1)",
        'print(f"{paths.REPO_ROOT!s}")',
    ]
    for line in printed:
        assert bare_paths(f"```{{code-cell}} ipython3\n{line}\n```\n"), line
    fine = [
        'print(f"run records in {paths.shown(paths.runs_dir())}")',
        'print(f"{csv_path.name}: {rows} rows")',
        'print(f"{record.directory.name}")',
        'csv_path = paths.runs_dir() / "submissions"',
    ]
    for line in fine:
        assert not bare_paths(f"```{{code-cell}} ipython3\n{line}\n```\n"), line
