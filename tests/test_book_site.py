"""The static site (`make book`): how its landing page is made, and the built site in a browser.

The first tests need nothing but the standard library. The browser tests read the site built by
`make book` in headless Chromium (book/check_book.py says what they look for); they are skipped,
with the reason, where there is no site, the site is older than the notebooks, or Playwright or
Chromium is missing. CI builds the site and runs the same check with `make book-test`, which fails
instead of skipping.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "book"))
import build_book  # noqa: E402  (book/ is a folder of scripts, not a package)
import check_book  # noqa: E402
import jupyterlab_anchors  # noqa: E402

NOTEBOOKS = REPO / "notebooks"
README = REPO / "README.md"


def write_notebook(path: Path, *markdown: str) -> Path:
    """A notebook of markdown cells (no outputs): enough for the landing page's needs."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [text]} for text in markdown]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


README_TEXT = """# series — a title

The first paragraph,
over two lines.

Another paragraph.

## Contents

| # | notebook | what it teaches |
|---|---|---|
| 00 | `00_start` | the start (开始) |
| 01 | `01_next` | what follows |

## Next section
"""


@pytest.fixture
def small_series(tmp_path: Path) -> Path:
    """Two chapters, the first with a worked solution."""
    write_notebook(tmp_path / "00_start.ipynb", "# 0 · Start (开始)\n\nText.")
    write_notebook(tmp_path / "01_next.ipynb", "Intro without a heading", "# 1 · Next\n\n## Part")
    write_notebook(tmp_path / "solutions" / "00_start.ipynb", "# Solutions · 0 · Start")
    return tmp_path


def test_every_notebook_is_in_the_readme_contents() -> None:
    """The landing page is the README's table: every chapter must have its row, in order."""
    book = build_book.chapters(NOTEBOOKS, README.read_text(encoding="utf-8"))
    assert [chapter.docname for chapter in book] == sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    assert all(chapter.title for chapter in book)


def test_landing_page_links_every_chapter_and_solution(small_series: Path) -> None:
    title, intro = build_book.readme_title_and_intro(README_TEXT)
    book = build_book.chapters(small_series, README_TEXT)
    page = build_book.landing_page(title, intro, book)
    assert page.startswith("# series — a title\n\nThe first paragraph,\nover two lines.\n")
    assert "| 00 | [0 · Start (开始)](00_start.ipynb) | the start (开始) | [solutions](solutions/00_start.ipynb) |" in page
    assert "| 01 | [1 · Next](01_next.ipynb) | what follows |  |" in page
    assert ":caption: Chapters\n\n00_start\n01_next\n" in page
    assert ":caption: Solutions\n\nsolutions/00_start\n" in page
    assert "Another paragraph" not in page


def test_landing_page_without_solutions_has_no_solutions_column(small_series: Path) -> None:
    (small_series / "solutions" / "00_start.ipynb").unlink()
    page = build_book.landing_page("t", "i", build_book.chapters(small_series, README_TEXT))
    assert "solutions" not in page.lower()


def test_notebook_missing_from_the_contents_is_refused(small_series: Path) -> None:
    write_notebook(small_series / "02_more.ipynb", "# 2 · More")
    with pytest.raises(build_book.BookError, match=r"not in README.md's Contents.*02_more"):
        build_book.chapters(small_series, README_TEXT)


def test_contents_row_without_its_notebook_is_refused(small_series: Path) -> None:
    (small_series / "01_next.ipynb").unlink()
    with pytest.raises(build_book.BookError, match=r"do not exist: \['01_next'\]"):
        build_book.chapters(small_series, README_TEXT)


def test_solution_of_no_chapter_is_refused(small_series: Path) -> None:
    write_notebook(small_series / "solutions" / "07_other.ipynb", "# Solutions · 7")
    with pytest.raises(build_book.BookError, match="07_other.ipynb"):
        build_book.chapters(small_series, README_TEXT)


def test_notebook_without_a_title_is_refused(small_series: Path) -> None:
    write_notebook(small_series / "01_next.ipynb", "no heading here")
    with pytest.raises(build_book.BookError, match="01_next.ipynb has no title"):
        build_book.chapters(small_series, README_TEXT)


def test_staging_copies_the_notebooks_and_drops_deleted_ones(small_series: Path, tmp_path_factory) -> None:
    stage = tmp_path_factory.mktemp("stage")
    readme = small_series / "README.md"
    readme.write_text(README_TEXT)
    write_notebook(stage / "solutions" / "gone.ipynb", "# Gone")
    digests = build_book.stage(small_series, readme, stage)
    staged = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    assert staged == ["00_start.ipynb", "01_next.ipynb", "index.md", "solutions/00_start.ipynb"]
    assert (stage / "00_start.ipynb").read_bytes() == (small_series / "00_start.ipynb").read_bytes()
    assert digests == build_book.current_sources(small_series, readme)


def test_heading_anchors_are_jupyterlabs() -> None:
    """A link written for JupyterLab (`08_lenet.ipynb#Max-vs-average-pooling`) works on the site."""
    assert jupyterlab_anchors.heading_anchor("Max vs average pooling") == "Max-vs-average-pooling"
    assert jupyterlab_anchors.heading_anchor("Edge detection (边缘检测)") == "Edge-detection-(边缘检测)"


# --- the built site, in a browser -------------------------------------------------------------

EXPECTED_PAGES = ["index.html"] + [
    path.relative_to(NOTEBOOKS).with_suffix(".html").as_posix() for path in build_book.sources(NOTEBOOKS)
]


@pytest.fixture(scope="module")
def report() -> check_book.Report:
    """Every page of the built site, opened and checked once for all the tests below."""
    try:
        chromium = check_book.preconditions(build_book.SITE, NOTEBOOKS, README)
    except check_book.SiteUnavailable as why:
        pytest.skip(f"browser test of the site not run: {why}")
    return check_book.check_site(build_book.SITE, NOTEBOOKS, chromium)


@pytest.mark.parametrize("page", EXPECTED_PAGES)
def test_page_reads_well_in_a_browser(report: check_book.Report, page: str) -> None:
    """No console error, missing image, untypeset math, broken link, wrong title or missing font."""
    assert page in report.pages, f"{page} is not in the site"
    assert report.pages[page].problems == []


def test_whole_site_reads_well_in_a_browser(report: check_book.Report) -> None:
    """The other pages (search, index), and the site: reachable, searchable, offline, no local paths."""
    others = {path: page.problems for path, page in report.pages.items() if path not in EXPECTED_PAGES}
    assert {path: problems for path, problems in others.items() if problems} == {}
    assert report.site_problems == []
