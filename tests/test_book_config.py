"""The book's own configuration makes a failing cell fail the build (and a clean one pass)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"

HEADER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def _build_one_chapter(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Build a one-chapter book with the project's _config.yml around a single code cell."""
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    shutil.copy(ROOT / "book" / "references.bib", tmp_path / "book" / "references.bib")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: chapter\n")
    (tmp_path / "chapter.md").write_text(
        HEADER + f"# A chapter\n\n```{{code-cell}} ipython3\n{code}\n```\n"
    )
    return subprocess.run(
        [str(JUPYTER_BOOK), "build", str(tmp_path)], capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(
    not JUPYTER_BOOK.exists(), reason="jupyter-book is not installed beside this Python"
)
def test_a_failing_cell_fails_the_build(tmp_path: Path) -> None:
    result = _build_one_chapter(tmp_path, 'raise RuntimeError("this cell fails on purpose")')
    assert result.returncode != 0
    assert "this cell fails on purpose" in result.stdout + result.stderr


@pytest.mark.skipif(
    not JUPYTER_BOOK.exists(), reason="jupyter-book is not installed beside this Python"
)
def test_a_clean_cell_builds(tmp_path: Path) -> None:
    result = _build_one_chapter(tmp_path, "print(6 * 7)")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    html = (tmp_path / "_build" / "html" / "chapter.html").read_text()
    assert "42" in html
