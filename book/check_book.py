"""Read the built site in a real browser and list what a reader would stumble on (make book-test).

Serves book/_build/html on 127.0.0.1, opens every page in headless Chromium (Playwright driving
the system's browser: Debian's `chromium`) and reports, page by page:

- a console error or an uncaught script error;
- a request that fails or answers 4xx/5xx (a missing image, script or style), and any request to a
  host other than this server (the site must read offline: no CDN);
- an image that did not load (naturalWidth 0);
- math left untypeset (a `$…$`, or TeX such as `x_{i+k}` without dollars, in the text) or that
  MathJax could not typeset (an error box);
- a page without its chapter's title (the notebook's first heading), in its <h1> and <title>;
- Chinese text drawn without a font that has it;
- a link inside the site to a page or file that does not exist, or to an #anchor the page lacks.

and for the site as a whole: every chapter and solution reached from the landing page by links
alone, the search finding a chapter, no absolute path of the build machine in any file, and a site
built from the current notebooks. `python book/check_book.py` exits 1 on any problem (or when the
site, Playwright or Chromium is missing: say so rather than pass); tests/test_book_site.py runs the
same checks under pytest, skipping with the reason where they cannot run.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import shutil
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_book  # noqa: E402  (beside this file, not a package)

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Flags for a headless run with nothing of the browser's own reaching out (updates, sync, …).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]  # fmt: skip
CJK_FONT = re.compile(r"CJK|Han|Hei|Song|Ming|Kai|PingFang|YaHei|WenQuanYi|Noto Sans SC", re.I)
SEARCH_TERM, SEARCH_PAGE = "LeNet", "08_lenet.html"
PAGE_TIMEOUT_MS = 30_000

# Math left as text in the article (outside code, outputs and typeset math), block by block:
# a `$…$` MathJax did not see, or TeX written without its dollars.
UNTYPESET_JS = r"""() => {
  const article = document.querySelector('article.bd-article') || document.body;
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight, .output')
      .forEach(node => node.remove());
  const found = new Set();
  copy.querySelectorAll('p, li, td, th, h1, h2, h3, h4, h5, h6, dt, dd, figcaption')
      .forEach(block => {
        const text = block.textContent.replace(/\s+/g, ' ');
        for (const match of text.matchAll(/\$[^$]+\$/g)) found.add(match[0].slice(0, 80));
        // TeX written without its dollars: x_{i+k}, 2^{n}, \frac …
        for (const match of text.matchAll(/\S*(?:[_^]\{|\\[A-Za-z]{2,})\S*/g)) found.add(match[0].slice(0, 80));
      });
  return [...found];
}"""
MATH_ERRORS_JS = r"""() => [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
  .map(node => node.getAttribute('data-mjx-error') || node.textContent)"""
BROKEN_IMAGES_JS = r"""async () => {
  const images = [...document.images];
  images.forEach(image => { image.loading = 'eager'; });
  await Promise.all(images.map(image => image.decode().catch(() => null)));
  return images.filter(image => !image.complete || image.naturalWidth === 0)
               .map(image => image.getAttribute('src'));
}"""
TITLE_JS = r"""() => {
  const h1 = document.querySelector('article.bd-article h1');
  if (!h1) return null;
  const copy = h1.cloneNode(true);
  copy.querySelectorAll('.headerlink').forEach(node => node.remove());
  return copy.textContent.trim();
}"""
IDS_JS = r"""() => [...document.querySelectorAll('[id]')].map(node => node.id)
  .concat([...document.querySelectorAll('a[name]')].map(node => node.getAttribute('name')))"""
LINKS_JS = r"""() => [...document.querySelectorAll('a[href]')].map(a => a.href)"""
# Marks the element holding the article's first Chinese text, for the font check; returns the text.
CJK_PROBE_JS = r"""() => {
  const root = document.querySelector('article.bd-article') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (/[\u3400-\u9fff]/.test(node.data)) {
      node.parentElement.setAttribute('data-cjk-probe', '');
      return node.data.trim().slice(0, 40);
    }
  }
  return null;
}"""


class SiteUnavailable(RuntimeError):
    """The check cannot run here (no site, no Playwright, no Chromium): why, and the fix."""


@dataclass
class Page:
    """What one page showed: its problems, its element ids and the links on it (absolute URLs)."""

    path: str
    problems: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)


@dataclass
class Report:
    pages: dict[str, Page]
    site_problems: list[str]

    def problems(self) -> list[str]:
        """Every problem, each prefixed with its page."""
        found = [f"{path}: {problem}" for path, page in self.pages.items() for problem in page.problems]
        return found + [f"site: {problem}" for problem in self.site_problems]


def find_chromium() -> str | None:
    """The system's Chromium (or Chrome), if any."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def expected_titles(notebooks: Path) -> dict[str, str]:
    """{page path: title}: every chapter and solution page, titled by its notebook's heading."""
    return {
        path.relative_to(notebooks).with_suffix(".html").as_posix(): build_book.notebook_title(path)
        for path in build_book.sources(notebooks)
    }


def site_pages(site: Path) -> list[str]:
    """Every HTML page of the site (not the theme's or the sources' files), landing page first."""
    pages = sorted(
        path.relative_to(site).as_posix()
        for path in site.rglob("*.html")
        if not path.relative_to(site).parts[0].startswith("_")
    )
    return sorted(pages, key=lambda page: page != "index.html")


def freshness_problem(notebooks: Path, readme: Path) -> str | None:
    """Why the site is not that of the current notebooks and README, or None."""
    if not build_book.BUILT_FROM.is_file():
        return "the site is not built (or its last build failed): run make book"
    built = json.loads(build_book.BUILT_FROM.read_text(encoding="utf-8"))
    current = build_book.current_sources(notebooks, readme)
    if changed := sorted(name for name in built.keys() | current.keys() if built.get(name) != current.get(name)):
        return f"the site was built from other versions of {', '.join(changed[:5])}{' …' if len(changed) > 5 else ''}: run make book"
    return None


def local_paths_problems(site: Path, forbidden: Sequence[str]) -> list[str]:
    """Files of the site that contain an absolute path of this machine (the repository's, home)."""
    found = []
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix in {".html", ".js", ".ipynb", ".txt", ".css", ".json"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(site)} contains the path {p}" for p in forbidden if p in text]
    return found


@contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve `site` on 127.0.0.1 (a free port) in a thread; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    class QuietServer(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address) -> None:
            # The browser closes connections it no longer needs (a page left mid-download):
            # nothing is wrong with the site, so no traceback; anything else is still printed.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    handler = functools.partial(Quiet, directory=str(site))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def check_page(context, base: str, path: str, title: str | None) -> Page:
    """Open one page and collect its problems, ids and links."""
    page_report = Page(path)
    problems = page_report.problems
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} for {r.url}"))
    page.on(
        "requestfailed",
        lambda r: r.url.startswith(base) and problems.append(f"request failed: {r.url} ({r.failure})"),
    )
    try:
        page.goto(base + path, wait_until="load", timeout=PAGE_TIMEOUT_MS)
        # MathJax typesets after the load event (and loads extensions such as \boldsymbol first).
        page.evaluate("() => window.MathJax?.startup?.promise ?? null")
        problems += [f"image did not load: {src}" for src in page.evaluate(BROKEN_IMAGES_JS)]
        problems += [f"untypeset math: {text!r}" for text in page.evaluate(UNTYPESET_JS)]
        problems += [f"math error: {text!r}" for text in page.evaluate(MATH_ERRORS_JS)]
        if title is not None:
            problems += title_problems(page.evaluate(TITLE_JS), page.title(), title)
        problems += cjk_font_problems(context, page)
        page_report.ids = set(page.evaluate(IDS_JS))
        page_report.links = page.evaluate(LINKS_JS)
    finally:
        page.close()
    page_report.problems = list(dict.fromkeys(problems))  # a failed image is reported once
    return page_report


def title_problems(heading: str | None, document_title: str, title: str) -> list[str]:
    """The page's <h1> and <title> must carry its notebook's title."""
    problems = []
    if heading != title:
        problems.append(f"heading is {heading!r}, not the chapter's title {title!r}")
    if not document_title.startswith(title):
        problems.append(f"<title> is {document_title!r}, not the chapter's title {title!r}")
    return problems


def cjk_font_problems(context, page) -> list[str]:
    """The article's first Chinese text must be drawn with a font that has Chinese glyphs."""
    text = page.evaluate(CJK_PROBE_JS)
    if text is None:
        return []
    cdp = context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-cjk-probe]"})
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    finally:
        cdp.detach()
    if any(CJK_FONT.search(font["familyName"]) and font["glyphCount"] for font in fonts):
        return []
    names = ", ".join(font["familyName"] for font in fonts) or "no font"
    return [f"Chinese text {text!r} drawn with {names}, which has no Chinese glyphs"]


def link_problems(pages: dict[str, Page], site: Path, base: str) -> None:
    """Each link into the site must reach a file, and its #anchor an element of that page."""
    for page in pages.values():
        for link in page.links:
            url, anchor = urldefrag(link)
            if not url.startswith(base):
                continue  # another site: never requested by this check
            target = unquote(urlsplit(url).path[len(urlsplit(base).path) :]) or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if not (site / target).is_file():
                page.problems.append(f"broken link: {link} (no file {target})")
            elif anchor and target in pages and anchor not in pages[target].ids:
                page.problems.append(f"broken link: {link} (no #{anchor} in {target})")


def reachable(pages: dict[str, Page], base: str) -> set[str]:
    """Pages reached from the landing page by following links."""
    seen, queue = {"index.html"}, deque(["index.html"])
    while queue:
        for link in pages[queue.popleft()].links:
            url, _ = urldefrag(link)
            target = url[len(base) :] if url.startswith(base) else None
            if target in pages and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def search_problems(context, base: str) -> list[str]:
    """The site's search must find a chapter by a word of its text."""
    page = context.new_page()
    try:
        page.goto(f"{base}search.html?q={SEARCH_TERM}", wait_until="load", timeout=PAGE_TIMEOUT_MS)
        selector = f'#search-results a[href*="{SEARCH_PAGE}"]'
        page.wait_for_selector(selector, state="attached", timeout=PAGE_TIMEOUT_MS)
    except Exception as error:  # Playwright's TimeoutError and friends: reported, not raised
        return [f"search for {SEARCH_TERM!r} did not list {SEARCH_PAGE}: {error}"]
    finally:
        page.close()
    return []


def check_site(site: Path, notebooks: Path, chromium: str) -> Report:
    """Open every page of `site` in Chromium and check it, and the site as a whole."""
    from playwright.sync_api import sync_playwright

    titles = expected_titles(notebooks)
    paths = site_pages(site)
    site_problems = [f"no page for {page}" for page in titles if page not in paths]
    external: list[str] = []

    def only_this_server(route, base: str) -> None:
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    with serve(site) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", lambda route: only_this_server(route, base))
        pages = {path: check_page(context, base, path, titles.get(path)) for path in paths}
        site_problems += search_problems(context, base)
        browser.close()
        link_problems(pages, site, base)
        unreached = sorted(set(titles) - reachable(pages, base))
    site_problems += [f"not reached from the landing page by links: {page}" for page in unreached]
    site_problems += [f"request to another host (the site must read offline): {url}" for url in external]
    forbidden = [str(build_book.REPO), str(Path.home())]
    site_problems += local_paths_problems(site, [p for p in forbidden if p != "/"])
    return Report(pages, site_problems)


def preconditions(site: Path, notebooks: Path, readme: Path) -> str:
    """The Chromium to use, or SiteUnavailable saying what is missing and how to get it."""
    if not (site / "index.html").is_file():
        raise SiteUnavailable(f"no site in {site}: run make book")
    if stale := freshness_problem(notebooks, readme):
        raise SiteUnavailable(stale)
    try:
        import playwright  # noqa: F401
    except ImportError as error:
        raise SiteUnavailable("Playwright is not installed: the book extra has it (make book)") from error
    chromium = find_chromium()
    if chromium is None:
        raise SiteUnavailable(
            "no Chromium on the PATH: install one (Debian/Ubuntu: apt-get install chromium "
            "fonts-noto-cjk)"
        )
    return chromium


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--notebooks", type=Path, default=build_book.REPO / "notebooks", help=argparse.SUPPRESS)
    parser.add_argument("--readme", type=Path, default=build_book.REPO / "README.md", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    notebooks, readme, site = args.notebooks, args.readme, build_book.SITE
    try:
        chromium = preconditions(site, notebooks, readme)
    except SiteUnavailable as error:
        print(f"make book-test: {error}", file=sys.stderr)
        return 1
    report = check_site(site, notebooks, chromium)
    for path, page in report.pages.items():
        print(f"{'ok  ' if not page.problems else 'FAIL'} {path}")
        for problem in page.problems:
            print(f"       {problem}")
    for problem in report.site_problems:
        print(f"FAIL site: {problem}")
    failed = sum(bool(page.problems) for page in report.pages.values()) + bool(report.site_problems)
    print(f"{len(report.pages) + 1 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
