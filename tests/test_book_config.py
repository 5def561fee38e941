"""The book's own configuration makes a failing cell fail the build (and a clean one pass), and
puts each script on a page once."""

from __future__ import annotations

import re
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


def _build_one_chapter(
    tmp_path: Path, code: str, config: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Build a one-chapter book around a single code cell, with the project's _config.yml (or the
    `config` given) and its local Sphinx extensions."""
    (tmp_path / "book").mkdir(parents=True)
    shutil.copytree(ROOT / "book" / "_ext", tmp_path / "book" / "_ext")
    (tmp_path / "_config.yml").write_text(config or (ROOT / "_config.yml").read_text())
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


def _inline_scripts(html: str) -> list[str]:
    return re.findall(r"<script>(.*?)</script>", html, flags=re.S)


@pytest.mark.skipif(
    not JUPYTER_BOOK.exists(), reason="jupyter-book is not installed beside this Python"
)
def test_each_script_is_on_a_page_once(tmp_path: Path) -> None:
    # Without book/_ext/single_scripts.py the theme puts sphinx-thebe's configuration
    # (`const THEBE_JS_URL = ...`) on every page twice: a "has already been declared" error.
    config = (ROOT / "_config.yml").read_text()
    assert "single_scripts: book/_ext" in config
    with_it = _build_one_chapter(tmp_path / "with", "print(1)")
    assert with_it.returncode == 0, with_it.stdout[-3000:] + with_it.stderr[-3000:]
    scripts = _inline_scripts((tmp_path / "with" / "_build/html/chapter.html").read_text())
    assert any("const THEBE_JS_URL" in script for script in scripts)
    assert len(scripts) == len(set(scripts)), "an inline script is on the page twice"

    without = config.replace("single_scripts: book/_ext", "")
    without = without.replace("local_extensions:", "local_extensions: {}")
    result = _build_one_chapter(tmp_path / "without", "print(1)", config=without)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    scripts = _inline_scripts((tmp_path / "without" / "_build/html/chapter.html").read_text())
    assert len(scripts) > len(set(scripts)), "the theme no longer repeats scripts: drop the fix"
