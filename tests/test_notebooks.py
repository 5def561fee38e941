"""Chapter notebooks: .md sources paired with output-free .ipynb twins, one setup cell, one TOC."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks").glob("*.md"))


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def _code_cells(path: Path) -> list[str]:
    return [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]


def test_there_are_chapters() -> None:
    assert SOURCES, "notebooks/ holds no chapter"


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.name)
def test_ipynb_twin_has_same_cells_and_no_outputs(md: Path) -> None:
    twin = md.with_suffix(".ipynb")
    assert twin.exists(), f"{md.name} has no .ipynb twin: run `jupytext --sync {md}`"
    source, paired = jupytext.read(md), jupytext.read(twin)
    assert [(c.cell_type, c.source) for c in source.cells] == [
        (c.cell_type, c.source) for c in paired.cells
    ], f"{twin.name} is out of sync with {md.name}: run `jupytext --sync {md}`"
    raw = json.loads(twin.read_text())
    carrying = [
        i for i, c in enumerate(raw["cells"]) if c.get("outputs") or c.get("execution_count")
    ]
    assert not carrying, f"{twin.name} carries outputs in cells {carrying}"


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.name)
def test_chapter_starts_with_the_shared_setup_and_parameters_cells(md: Path) -> None:
    reference = _code_cells(ROOT / "notebooks" / "01_problem.md")
    cells = _code_cells(md)
    assert cells[0] == reference[0], f"{md.name}: the first code cell must be the shared setup cell"
    assert "PROFILE = marslib.profile()" in cells[1] and "DATA_PATH" in cells[1], (
        f"{md.name}: the second code cell must be the parameters cell"
    )
    tags = [c.metadata.get("tags", []) for c in jupytext.read(md).cells if c.cell_type == "code"]
    assert "parameters" in tags[1], (
        f"{md.name}: the parameters cell must carry the 'parameters' tag"
    )


def test_setup_cell_clones_the_repository_named_in_config() -> None:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    setup = _code_cells(ROOT / "notebooks" / "01_problem.md")[0]
    named = re.search(r'REPOSITORY = "([^"]+)"', setup)
    assert named, "the setup cell must name REPOSITORY"
    assert named.group(1) == config["repository"]["url"]


def test_toc_and_notebooks_agree() -> None:
    listed = _toc_files()
    for entry in listed:
        assert (ROOT / f"{entry}.md").exists(), f"_toc.yml lists {entry}, which has no .md"
    chapters = {f"notebooks/{md.stem}" for md in SOURCES}
    assert chapters <= set(listed), (
        f"chapters missing from _toc.yml: {sorted(chapters - set(listed))}"
    )


def test_jupytext_toml_pairs_every_chapter_with_its_twin() -> None:
    """Opening and saving a chapter in JupyterLab keeps both files in sync without a command."""
    import jupytext.config

    root = Path(__file__).resolve().parents[1]
    for chapter in sorted((root / "notebooks").glob("*.md")):
        config = jupytext.config.load_jupytext_config(str(chapter))
        assert config is not None, "no jupytext.toml above the chapters"
        formats = jupytext.formats.long_form_multiple_formats(config.default_formats(str(chapter)))
        assert {f["extension"] for f in formats} == {".ipynb", ".md"}
        assert {f.get("format_name") for f in formats if f["extension"] == ".md"} == {"myst"}
    book_page = root / "book" / "intro.md"
    assert (
        jupytext.config.load_jupytext_config(str(book_page)).default_formats(str(book_page)) is None
    )


TRAINING_CALLS = re.compile(r"\b(?:training|loop)\.run\(|\.fit\(")


@pytest.mark.parametrize("md", SOURCES, ids=lambda p: p.name)
def test_a_chapter_trains_nothing_but_chapter_7s_live_run(md: Path) -> None:
    """Chapters read runs through `training.show` (the shipped references on the embedded set,
    trained at the profile elsewhere); only chapter 7 fits a model in plain view, once."""
    code = "\n".join(
        line
        for cell in _code_cells(md)
        for line in cell.splitlines()
        if not line.lstrip().startswith("#")
    )
    calls = TRAINING_CALLS.findall(code)
    expected = [".fit("] if md.name == "07_unet.md" else []
    assert calls == expected, f"{md.name} trains outside training.show: {calls}"
