"""Check the built book as a reader meets it, in a real (headless) browser.

    python .ci/site_check.py          # checks _build/html, screenshots in _build/site-check
    python .ci/site_check.py --html path/to/html --shots path/to/shots

Every page of the built site is opened in headless Chromium at a 1280-pixel-wide window. The
check fails, listing each problem with its page, on:

- a broken internal link or image (a file of the site that does not exist, or a missing anchor);
- a JavaScript error in the browser's console;
- a page wider than the window, or a table, code block, figure or output cut off at its edge;
- a code block or output (a ``pre``) wider than its box, so that a line is read only by scrolling
  sideways: named with its first line that does not fit. A block that must stay wide is marked
  so in its source (the cell tag ``wide``, or the class ``wide`` of a code block), and counted;
- a chapter (a page under ``notebooks/``) without a figure;
- a page that shows a path of the machine that built it (the book's folder, or the home folder:
  say, a runs folder printed in full, or a warning that names a library's file);
- a search for "Big Rock" that finds nothing.

It also fails on a table a reader cannot read: a table wider than its column, or with a cell that
shows a Python dict, list or a truncated repr, or an unrounded number (five decimals or more, as
pandas prints ``0.597482``). It prints, page by page, how many code
blocks and tables it read, how many do not fit or cannot be read and how many are marked wide,
and saves a screenshot of each page. The theme's template fragments under ``_static/`` are not
pages and are left out; so are failures to load a resource from another
site (the check runs offline, so a script from a CDN cannot load here, whether or not it would
online).

It needs Chromium and its driver (Debian: ``apt-get install chromium chromium-driver``) and the
selenium package; ``--static`` checks links and images only, without a browser.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

WINDOW = (1280, 900)
SEARCH_TERM = "Big Rock"
CHAPTERS = "notebooks"
# The opt-in marker of a block or table that must stay wide: the cell tag `wide` (MyST-NB makes it
# the class `tag_wide` of the cell) or the class `wide` (a code-block's ``:class: wide``).
WIDE_MARK = ".tag_wide, .wide"

# Elements whose right edge is measured; an ancestor that scrolls (overflow-x auto or scroll)
# holds them in its own box, one that clips them (hidden, clip) or the window cuts them off.
CUT_OFF_SCRIPT = """
const found = [];
const width = window.innerWidth;
const pageTooWide = document.documentElement.scrollWidth > width + 1;
if (pageTooWide) {
  found.push(`page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
}
for (const element of document.querySelectorAll(
    "article table, article pre, article img, article svg, article .cell_output")) {
  const box = element.getBoundingClientRect();
  if (box.width === 0) continue;
  let parent = element.parentElement, cut = null;
  while (parent && parent !== document.body) {
    const style = getComputedStyle(parent);
    if (["auto", "scroll"].includes(style.overflowX)) break;
    if (["hidden", "clip"].includes(style.overflowX)
        && box.right > parent.getBoundingClientRect().right + 1) { cut = parent; break; }
    parent = parent.parentElement;
  }
  if (!cut && !pageTooWide && (!parent || parent === document.body) && box.right > width + 1) {
    cut = document.body;
  }
  if (cut) {
    const what = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "");
    found.push(`${what} is cut off: its right edge at ${Math.round(box.right)}px, `
               + `its box ends at ${Math.round(cut === document.body ? width
                                              : cut.getBoundingClientRect().right)}px`);
  }
}
return found;
"""


# Code blocks and tables a reader must scroll sideways to read, and table cells that print a
# Python repr or an unrounded number. A `pre` overflows when its content is wider than its box;
# its first line that does not fit is found by measuring each line in the block's own font.
READABILITY_SCRIPT = """
const wideMark = arguments[0];
const found = {blocks: 0, tables: 0, wide: 0, overflowing: [], unreadable: []};
const ruler = document.createElement("canvas").getContext("2d");
const shorten = (text, n) => text.length > n ? text.slice(0, n - 3) + "..." : text;
document.querySelectorAll("article pre").forEach((pre, index) => {
  found.blocks++;
  if (pre.scrollWidth <= pre.clientWidth + 1) return;
  if (pre.closest(wideMark)) { found.wide++; return; }
  const style = getComputedStyle(pre);
  ruler.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const lines = pre.textContent.replace(/\\n$/, "").split("\\n");
  const widths = lines.map(line => ruler.measureText(line.replace(/\\t/g, "        ")).width);
  let first = widths.findIndex(width => width > room + 1);
  if (first < 0) first = widths.indexOf(Math.max(...widths));
  found.overflowing.push(
    `code block ${index + 1} is ${pre.scrollWidth}px wide in a ${pre.clientWidth}px box: `
    + `line ${first + 1} does not fit: ${JSON.stringify(shorten(lines[first].trim(), 90))}`);
});
const article = document.querySelector("article");
const column = article ? article.getBoundingClientRect().right
  - parseFloat(getComputedStyle(article).paddingRight) : window.innerWidth;
const repr = /^[\\[{].*([\\]}]|\\.\\.\\.)$|^[\\w.]+\\(.*=.*\\)$|\\.\\.\\.\\]$|^<[\\w.]+ object at/;
const unrounded = /^[-+]?\\d*\\.\\d{5,}(e[-+]?\\d+)?%?$/;
document.querySelectorAll("article table").forEach((table, index) => {
  found.tables++;
  if (table.closest(wideMark)) { found.wide++; return; }
  const name = `table ${index + 1}`;
  const right = table.getBoundingClientRect().right;
  let scroller = table.parentElement;
  while (scroller && scroller !== article
         && !["auto", "scroll"].includes(getComputedStyle(scroller).overflowX)) {
    scroller = scroller.parentElement;
  }
  const scrolls = scroller && scroller !== article
    && scroller.scrollWidth > scroller.clientWidth + 1;
  if (scrolls || right > column + 1) {
    const room = scrolls ? scroller.clientWidth : column - table.getBoundingClientRect().left;
    found.unreadable.push(`${name} is wider than its column (${Math.round(table.scrollWidth)}px`
      + ` in ${Math.round(room)}px)`);
  }
  for (const cell of table.querySelectorAll("td, th")) {
    const text = cell.textContent.trim();
    if (repr.test(text)) {
      const shown = JSON.stringify(shorten(text, 60));
      found.unreadable.push(`${name} shows a Python repr in a cell: ${shown}`);
      break;
    }
    if (unrounded.test(text)) {
      found.unreadable.push(`${name} shows an unrounded number: ${text}`);
      break;
    }
  }
});
return found;
"""


@dataclass
class Counts:
    """What the browser read on one page: code blocks (``pre``) and tables, how many of them a
    reader must scroll sideways to read (or cannot read), and how many are marked wide."""

    blocks: int = 0
    overflowing: int = 0
    tables: int = 0
    unreadable: int = 0
    wide: int = 0

    def line(self, name: str) -> str:
        """One line of the summary for page `name`."""
        return (
            f"{name}: {self.blocks} code blocks, {self.overflowing} too wide; {self.tables} tables,"
            f" {self.unreadable} unreadable; {self.wide} marked wide"
        )


@dataclass
class Page:
    """What the static pass reads from one HTML file."""

    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.page.ids.add(values["id"])
        if tag == "a" and values.get("href"):
            self.page.links.append(values["href"])
        if tag == "img" and values.get("src"):
            self.page.images.append(values["src"])


def read_page(path: Path) -> Page:
    """The links, image sources and element ids of an HTML file."""
    reader = _Reader()
    reader.feed(path.read_text(encoding="utf-8", errors="replace"))
    return reader.page


def _internal(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("mailto:", "javascript:"))


def machine_paths(root: Path) -> list[str]:
    """The folders whose absolute paths a page must not show: `root` (the book's folder) and the
    home folder, each as a folder prefix (``/home/me/``), so ``/home/me-too`` is not one; a folder
    that is the file system's root (a home of ``/``) names no machine and is left out."""
    folders = (folder.resolve() for folder in (root, Path.home()))
    return [f"{folder.as_posix()}/" for folder in folders if folder != Path(folder.anchor)]


def static_problems(html: Path, root: Path | None = None) -> list[str]:
    """Broken internal links and images, chapters without a figure and, where `root` (the folder
    the book was built in) is given, pages that show a path of the machine, from the files alone."""
    read = {path: read_page(path) for path in pages(html)}
    forbidden = machine_paths(root) if root is not None else []
    problems = []
    for path, page in read.items():
        name = path.relative_to(html).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        problems += [f"{name}: shows the machine's path {p!r}" for p in forbidden if p in text]
        for url in page.links + page.images:
            if not _internal(url):
                continue
            parts = urlsplit(url)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                problems.append(f"{name}: broken link or image {url!r} (no file {target.name})")
            elif parts.fragment and target.suffix == ".html":
                anchors = read[target].ids if target in read else read_page(target).ids
                if unquote(parts.fragment) not in anchors:
                    problems.append(f"{name}: link {url!r} names an anchor that page does not have")
        if name.startswith(f"{CHAPTERS}/") and not page.images:
            problems.append(f"{name}: a chapter without a figure")
    return problems


def _driver():  # noqa: ANN202 (selenium's type)
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=_which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


def _which(program: str) -> str:
    import shutil

    found = shutil.which(program)
    if found is None:
        raise SystemExit(
            f"{program} not found: install Chromium and its driver (Debian: apt-get install "
            "chromium chromium-driver), or run with --static"
        )
    return found


def pages(html: Path) -> list[Path]:
    """The site's pages: every HTML file but the theme's template fragments in ``_static/``."""
    return [path for path in sorted(html.rglob("*.html")) if "_static" not in path.parts]


def _offline_miss(message: str) -> bool:
    """A resource of another site that could not load because this machine is offline."""
    return message.startswith(("http://", "https://")) and "ERR_NAME_NOT_RESOLVED" in message


def browser_problems(html: Path, shots: Path, counts: dict[str, Counts] | None = None) -> list[str]:
    """Console errors, over-wide or cut-off content, code blocks and tables a reader cannot read
    without scrolling sideways (and unreadable table cells), and the search, page by page in
    Chromium. `counts`, where given, receives each page's `Counts` (with its unreadable
    tables, which are counted, not failed)."""
    shots.mkdir(parents=True, exist_ok=True)
    counts = {} if counts is None else counts
    problems = []
    driver = _driver()
    try:
        driver.set_window_size(*WINDOW)
        for path in pages(html):
            name = path.relative_to(html).as_posix()
            driver.get(path.resolve().as_uri())
            time.sleep(0.2)  # let the theme's scripts lay the page out
            for entry in driver.get_log("browser"):
                if entry.get("level") == "SEVERE" and not _offline_miss(entry.get("message", "")):
                    problems.append(f"{name}: console error: {entry.get('message')}")
            problems += [f"{name}: {found}" for found in driver.execute_script(CUT_OFF_SCRIPT)]
            read = driver.execute_script(READABILITY_SCRIPT, WIDE_MARK)
            problems += [f"{name}: {found}" for found in read["overflowing"]]
            problems += [f"{name}: {found}" for found in read["unreadable"]]
            counts[name] = Counts(
                blocks=read["blocks"],
                overflowing=len(read["overflowing"]),
                tables=read["tables"],
                unreadable=len(read["unreadable"]),
                wide=read["wide"],
            )
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(WINDOW[0], min(max(height, WINDOW[1]), 12000))
            driver.save_screenshot(
                str(shots / (name.replace("/", "__").removesuffix(".html") + ".png"))
            )
            driver.set_window_size(*WINDOW)
        problems += _search_problems(driver, html)
    finally:
        driver.quit()
    return problems


def _search_problems(driver, html: Path) -> list[str]:  # noqa: ANN001 (selenium's type)
    from selenium.webdriver.common.by import By

    search = html / "search.html"
    if not search.exists():
        return ["search.html: the site has no search page"]
    driver.get(f"{search.resolve().as_uri()}?q={SEARCH_TERM.replace(' ', '+')}")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if driver.find_elements(By.CSS_SELECTOR, "#search-results li, ul.search li"):
            return []
        time.sleep(0.25)
    return [f"search.html: a search for {SEARCH_TERM!r} found nothing"]


def main(argv: list[str] | None = None) -> int:
    """Check the site; print each problem and return 1 if there is any, else 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=Path("_build/html"), help="the built site")
    parser.add_argument("--shots", type=Path, default=Path("_build/site-check"), help="screenshots")
    parser.add_argument(
        "--root", type=Path, default=Path("."), help="the folder the book was built in"
    )
    parser.add_argument("--static", action="store_true", help="links, images and figures only")
    args = parser.parse_args(argv)
    if not (args.html / "index.html").exists():
        print(f"error: {args.html} holds no built site (no index.html): build the book first")
        return 2
    problems = static_problems(args.html, args.root)
    counts: dict[str, Counts] = {}
    if not args.static:
        problems += browser_problems(args.html, args.shots, counts)
    count = len(pages(args.html))
    for name, read in counts.items():
        if read.blocks or read.tables:
            print(read.line(name))
    if counts:
        numbers = ("blocks", "overflowing", "tables", "unreadable", "wide")
        total = Counts(*(sum(getattr(c, f) for c in counts.values()) for f in numbers))
        print(total.line("all pages"))
    for problem in problems:
        print(f"FAIL {problem}")
    print(
        f"site check: {count} pages, {len(problems)} problem(s)"
        + ("" if args.static else f"; screenshots in {args.shots}")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
