"""What a chapter shows its reader: code that fits a book page, and no folder of the build machine.

- The chapters are read on a page about 100 characters wide, so no line of a code cell may be
  longer; the linter does not see the chapters (pyproject.toml excludes notebooks/), this test does.
- A chapter that quotes another team (a Kaggle score of a public solution, a weight they published,
  a sentence about what "other teams" or "the second-placed team" did) cites the page that lists
  those sources, book/sources.md, in the same paragraph or the one just before it.
- A chapter prints a path through `marslib.core.paths.shown` (tested in tests/test_paths.py), never
  a bare path object, which would print the absolute path of the machine that built the book.
- A chapter is read in one sitting: at most about 1,500 words of prose (its markdown cells,
  headings and admonitions included) outside an optional "Going further" section.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("*.md"))
SOURCES_PAGE = ROOT / "book" / "sources.md"
MAX_CODE_LINE = 100
MAX_CHAPTER_WORDS = 1550  # "about 1,500": headings, role markup and list markers count as words
GOING_FURTHER = "## Going further"

# What quotes another team: the Kaggle score of a public solution, a weight other teams published,
# or words that name other teams or their work.
TEAM_FIGURE = re.compile(
    r"\b0\.(?:74|732|723|722|684)\b|\b153\.94\b|\b0\.594\b"
    r"|\bsecond[- ]placed?\b|\b2nd place\b|\bpeers?\b|\bother students\b"
    r"|\b(?:other|another|strong|stronger|strongest|best|top|CutMix) teams?\b"
    r"|\bteams (?:above|around|of the same)\b|\bpublic (?:solutions?|models?|notebooks?)\b",
    re.IGNORECASE,
)
# A citation of the sources page: a {ref} to one of its labels, or a link to the page.
CITATION = re.compile(r"\{ref\}`(?:[^`<]*<)?src-[\w-]+>?`|sources\.md")
SOURCE_LABEL = re.compile(r"src-[\w-]+")


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


def blocks(text: str) -> list[str]:
    """A MyST chapter cut into what a reader takes in at once: each code cell whole, the rest into
    paragraphs (tables and lists included) separated by blank lines; headings and the front
    matter are left out."""
    if text.startswith("---\n"):
        text = text[text.index("\n---\n", 4) + 5 :]
    found: list[str] = []
    for number, part in enumerate(
        re.split(r"^(```\{code-cell\}.*?^```)$", text, flags=re.M | re.S)
    ):
        if number % 2:  # a code cell
            found.append(part)
            continue
        for paragraph in re.split(r"\n\s*\n", part):
            kept = "\n".join(line for line in paragraph.splitlines() if not line.startswith("#"))
            if kept.strip():
                found.append(kept)
    return found


def reading_words(text: str) -> int:
    """Words of prose a reader meets in a MyST chapter: its markdown cells, less the sections
    headed "## Going further" (each runs to the next level-2 heading)."""
    notebook = jupytext.reads(text, fmt="md:myst")
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    sections = re.split(r"^(?=## )", prose, flags=re.M)
    return sum(len(part.split()) for part in sections if not part.startswith(GOING_FURTHER))


def uncited_team_figures(text: str) -> list[str]:
    """The paragraphs (or code cells) that quote another team with no citation of the sources
    page in them or in the paragraph just before."""
    parts = blocks(text)
    return [
        part
        for number, part in enumerate(parts)
        if TEAM_FIGURE.search(part)
        and not CITATION.search(part)
        and not (number and CITATION.search(parts[number - 1]))
    ]


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
def test_a_chapter_reads_in_one_sitting(chapter: Path) -> None:
    words = reading_words(chapter.read_text())
    assert words <= MAX_CHAPTER_WORDS, (
        f"{chapter.name}: {words} words of prose outside '{GOING_FURTHER}' (at most "
        f"{MAX_CHAPTER_WORDS}): trim it, or move a detour into an optional {GOING_FURTHER} section"
    )


def test_the_length_check_counts_prose_and_skips_going_further() -> None:
    code = "```{code-cell} ipython3\nx = 1  # words in code do not count\n```"
    chapter = (
        f"# Title\n\nOne two three.\n\n{code}\n\n## Going further\n\nskipped words here\n\n"
        "## Exercises\n\nfour five\n"
    )
    assert reading_words(chapter) == 9  # "# Title One two three. ## Exercises four five"
    assert reading_words(chapter.replace(GOING_FURTHER, "## Detour")) == 9 + 5


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


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_team_figures_cite_the_sources_page(chapter: Path) -> None:
    uncited = uncited_team_figures(chapter.read_text())
    shown = "\n---\n".join(part.strip()[:300] for part in uncited)
    assert not uncited, (
        f"{chapter.name} quotes other teams without citing book/sources.md nearby "
        f"(add {{ref}}`Sources <src-...>` to the paragraph):\n{shown}"
    )


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_cited_sources_exist_and_facts_are_not_a_citation(chapter: Path) -> None:
    text = chapter.read_text()
    labels = set(re.findall(r"^\((src-[\w-]+)\)=$", SOURCES_PAGE.read_text(), flags=re.M))
    cited = {label for found in CITATION.findall(text) for label in SOURCE_LABEL.findall(found)}
    assert cited <= labels, f"{chapter.name} cites labels the sources page lacks: {cited - labels}"
    assert not re.search(r"\bfacts\b", text), (
        f"{chapter.name} cites 'the facts', which a reader cannot open: cite book/sources.md"
    )


def test_the_citation_check_finds_an_uncited_team_figure() -> None:
    cited = "The U-Net + SE team reached 0.732 ({ref}`Sources <src-unet-se>`)."
    assert uncited_team_figures(f"Intro.\n\n{cited}\n") == []
    uncited = "The U-Net + SE team reached 0.732 on Kaggle."
    assert uncited_team_figures(f"Intro.\n\n{uncited}\n") == [uncited]
    method = "The second-placed team duplicated every Big Rock image."
    assert uncited_team_figures(f"Intro.\n\n{method}\n") == [method]
    before = "Other teams published weights ({ref}`Sources <src-class-weights>`):"
    code = "```{code-cell} ipython3\npeers = [0.832, 0.591, 0.835, 1.108, 153.94]\n```"
    assert uncited_team_figures(f"{before}\n\n{code}\n") == []
    assert uncited_team_figures(f"Some words.\n\n{code}\n") == [code]
