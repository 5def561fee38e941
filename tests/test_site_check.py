"""The site check of the built book (.ci/site_check.py), on tiny hand-made sites: it passes a
good one and names each fault of a bad one (broken link and image, over-wide and cut-off content, a
console error, a chapter without a figure, a search that finds nothing, a code block or a table a
reader must scroll sideways to read, a table cell that prints a Python repr or an unrounded number)
and counts the blocks marked wide."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "site_check.py"
spec = importlib.util.spec_from_file_location("site_check", SCRIPT)
site_check = importlib.util.module_from_spec(spec)
sys.modules["site_check"] = site_check  # dataclasses look their module up there
spec.loader.exec_module(site_check)

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
SEARCH = """<html><body><ul class="search" id="results"></ul><script>
if (new URLSearchParams(location.search).get("q") === "Big Rock") {
  document.getElementById("results").innerHTML = "<li>notebooks/ch.html</li>";
}</script></body></html>"""
NO_SEARCH = "<html><body><ul class='search'></ul></body></html>"


def _page(body: str) -> str:
    return f"<html><head><title>t</title></head><body><article>{body}</article></body></html>"


def _site(root: Path, *, broken: bool) -> Path:
    html = root / "html"
    (html / "notebooks").mkdir(parents=True)
    (html / "figure.png").write_bytes(PNG)
    (html / "notebooks" / "figure.png").write_bytes(PNG)
    (html / "search.html").write_text(NO_SEARCH if broken else SEARCH)
    index = '<p id="top">book</p><a href="notebooks/ch.html#goals">chapter</a>'
    index += '<img src="figure.png">'
    chapter = '<h1 id="goals">goals</h1><img src="figure.png">'
    chapter += '<div class="wide" style="overflow-x:auto"><table style="width:3000px">'
    chapter += "<tr><td>wide, marked so, and it scrolls in its own box</td></tr></table></div>"
    chapter += "<table><tr><th>IoU</th><th>weights</th></tr><tr><td>0.597</td><td>balanced</td>"
    chapter += "</tr></table><pre>def short():\n    return 1</pre>"
    chapter += (
        '<div class="cell tag_wide"><pre style="overflow-x:auto">' + "x" * 400 + "</pre></div>"
    )
    if broken:
        chapter += '<pre style="overflow-x:auto">fits\n' + "y = 1  # " + "z" * 400 + "</pre>"
        chapter += (
            "<table><tr><td>{'method': 'balanced', 'ignore_background': Tr...</td></tr></table>"
        )
        chapter += "<table><tr><td>0.597482</td></tr></table>"
        index += '<a href="missing.html">gone</a><img src="notebooks/nothing.png">'
        index += '<a href="#nowhere">x</a>'
        chapter += '<div style="overflow:hidden"><table style="width:3000px">'
        chapter += "<tr><td>cut</td></tr></table></div>"
        chapter += "<script>not_a_function();</script>"
        (html / "notebooks" / "empty.html").write_text(_page("<p>no picture here</p>"))
        (html / "wide.html").write_text(_page('<pre style="width:2500px">a very long line</pre>'))
    (html / "index.html").write_text(_page(index))
    (html / "notebooks" / "ch.html").write_text(_page(chapter))
    return html


def test_static_pass_of_a_good_site_finds_nothing(tmp_path: Path) -> None:
    assert site_check.static_problems(_site(tmp_path, broken=False), tmp_path) == []


def test_static_pass_names_a_page_that_shows_a_path_of_the_machine(tmp_path: Path) -> None:
    html = _site(tmp_path, broken=False)
    shown = f"<p>records in {tmp_path.resolve() / 'runs'}</p><img src='../figure.png'>"
    (html / "notebooks" / "paths.html").write_text(_page(shown))
    home = f"<p>{Path.home() / 'lib' / 'x.py'}:3: UserWarning</p><img src='../figure.png'>"
    (html / "notebooks" / "home.html").write_text(_page(home))
    problems = site_check.static_problems(html, tmp_path)
    assert len(problems) == 2, problems
    assert any(p.startswith("notebooks/paths.html: shows the machine's path") for p in problems)
    assert any(p.startswith("notebooks/home.html: shows the machine's path") for p in problems)
    assert site_check.static_problems(html) == []  # without the root: nothing to look for


def test_a_home_at_the_file_system_root_names_no_machine(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: Path("/")))
    assert site_check.machine_paths(tmp_path) == [f"{tmp_path.resolve().as_posix()}/"]


def test_static_pass_names_broken_links_images_anchors_and_bare_chapters(tmp_path: Path) -> None:
    problems = site_check.static_problems(_site(tmp_path, broken=True))
    assert len(problems) == 4, problems
    assert any("index.html: broken link or image 'missing.html'" in p for p in problems)
    assert any("index.html: broken link or image 'notebooks/nothing.png'" in p for p in problems)
    assert any("'#nowhere' names an anchor" in p for p in problems)
    assert any("notebooks/empty.html: a chapter without a figure" in p for p in problems)


def test_a_folder_without_a_site_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert site_check.main(["--html", str(tmp_path), "--static"]) == 2
    assert "no built site" in capsys.readouterr().out


needs_browser = pytest.mark.skipif(
    shutil.which("chromedriver") is None or importlib.util.find_spec("selenium") is None,
    reason="needs Chromium, its driver and selenium (installed by .ci/run)",
)


@needs_browser
def test_browser_pass_of_a_good_site_finds_nothing_and_saves_shots(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    html = _site(tmp_path, broken=False)
    assert site_check.main(["--html", str(html), "--shots", str(tmp_path / "shots")]) == 0
    assert len(list((tmp_path / "shots").glob("*.png"))) == 3
    out = capsys.readouterr().out
    summary = "notebooks/ch.html: 2 code blocks, 0 too wide; 2 tables, 0 unreadable; 2 marked wide"
    assert summary in out, out


@needs_browser
def test_browser_pass_counts_each_page(tmp_path: Path) -> None:
    counts: dict = {}
    site_check.browser_problems(_site(tmp_path, broken=True), tmp_path / "shots", counts)
    chapter = counts["notebooks/ch.html"]
    assert (chapter.blocks, chapter.overflowing, chapter.wide) == (3, 1, 2)
    assert (chapter.tables, chapter.unreadable) == (5, 3)


@needs_browser
def test_browser_pass_names_wide_and_cut_content_errors_and_search(tmp_path: Path) -> None:
    problems = site_check.browser_problems(_site(tmp_path, broken=True), tmp_path / "shots")
    text = "\n".join(problems)
    assert "wide.html: page is" in text and "wide in a 1280px window" in text
    assert "notebooks/ch.html: table is cut off" in text
    assert "notebooks/ch.html: console error" in text and "not_a_function" in text
    assert "a search for 'Big Rock' found nothing" in text
    # the browser misses the image too
    assert "index.html: console error" in text and "nothing.png" in text
    # a code block that scrolls in its own box, named with its first line that does not fit
    assert "notebooks/ch.html: code block 3 is" in text
    assert 'line 2 does not fit: "y = 1  # zzz' in text
    # and each unreadable table: cut off (so wider than its column), a Python repr, a long number
    assert "notebooks/ch.html: table 4 shows an unrounded number: 0.597482" in text
    assert len(problems) == 9, problems


@needs_browser
def test_browser_pass_names_each_unreadable_table(tmp_path: Path) -> None:
    problems = site_check.browser_problems(_site(tmp_path, broken=True), tmp_path / "shots")
    notes = "\n".join(problems)
    # cut off (so wider than its column too), a Python repr, an unrounded number
    assert "notebooks/ch.html: table 5 is wider than its column" in notes
    assert "table 3 shows a Python repr in a cell: \"{'method': 'balanced'" in notes
    assert "table 4 shows an unrounded number: 0.597482" in notes
