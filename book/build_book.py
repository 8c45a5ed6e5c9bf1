"""Build the series' static site: `make book` (or `python book/build_book.py`), into book/_build/html.

Three steps:

1. Stage the sources in book/_build/src: the committed notebooks (notebooks/*.ipynb and, when
   there are any, their worked solutions notebooks/solutions/*.ipynb) copied as they are, at the
   same relative places with the pictures their text shows (notebooks/img/…), so that the
   chapters' links (`08_lenet.ipynb`, `solutions/03_channels.ipynb`, `../03_channels.ipynb`) lead
   to the pages and their images are found; and the landing page,
   index.md, made from the README: its title, first paragraph and table of contents, each row
   linking to its chapter and solutions.
2. Run Sphinx (myst-nb, sphinx-book-theme; configuration in book/conf.py) with warnings as errors:
   a link to a chapter or heading that does not exist stops the build. No notebook is executed.
3. Record what the site was built from (book/_build/built-from.json, SHA-256 of every source), so
   that the browser test (book/check_book.py) can tell a site that is out of date.

`--serve` then serves the site on http://127.0.0.1:8000 until Ctrl-C.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BOOK = Path(__file__).resolve().parent
REPO = BOOK.parent
BUILD = BOOK / "_build"
SITE = BUILD / "html"
STAGE = BUILD / "src"
BUILT_FROM = BUILD / "built-from.json"
SERVE_PORT = 8000


class BookError(RuntimeError):
    """A problem in the sources that stops the build, said with its fix."""


@dataclass(frozen=True)
class Chapter:
    """One row of the README's table of contents, with what the site needs to link to it.

    ``docname`` is the page's name inside the site (the notebook's stem); ``solutions`` the
    docnames of its worked solutions (``solutions/03_channels``), possibly none.
    """

    number: str
    docname: str
    title: str
    summary: str
    solutions: tuple[str, ...]


def notebook_title(path: Path) -> str:
    """The text of a notebook's first level-1 heading: the title of its page."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    raise BookError(f"{path} has no title: its first markdown heading must be '# <title>'")


def readme_title_and_intro(readme: str) -> tuple[str, str]:
    """The README's `# ` title and its first paragraph."""
    lines = readme.splitlines()
    title = next((line[2:].strip() for line in lines if line.startswith("# ")), None)
    if title is None:
        raise BookError("README.md has no '# ' title line")
    body = readme.split(f"# {title}", 1)[1].strip()
    return title, body.split("\n\n", 1)[0].strip()


CONTENTS_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*`([^`|]+)`\s*\|\s*(.*?)\s*\|\s*$")


def readme_contents(readme: str) -> list[tuple[str, str, str]]:
    """(number, notebook stem, what it teaches) for each row of the README's `## Contents` table."""
    section = re.search(r"^## Contents\n(.*?)(?=^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    if section is None:
        raise BookError("README.md has no '## Contents' section: the site's landing page is made from it")
    rows = [m.groups() for line in section.group(1).splitlines() if (m := CONTENTS_ROW.match(line))]
    if not rows:
        raise BookError(
            "README.md's Contents section has no table rows of the form "
            "'| 08 | `08_lenet` | what it teaches |'"
        )
    return rows


def chapters(notebooks: Path, readme: str) -> list[Chapter]:
    """The chapters in the README's order, checked against the notebooks both ways."""
    rows = readme_contents(readme)
    listed = {stem for _, stem, _ in rows}
    on_disk = {path.stem for path in notebooks.glob("*.ipynb")}
    if missing := sorted(listed - on_disk):
        raise BookError(f"README.md's Contents lists notebooks that do not exist: {missing}")
    if unlisted := sorted(on_disk - listed):
        raise BookError(
            f"notebooks not in README.md's Contents (the site's table of contents): {unlisted}; "
            "add a row for each"
        )
    solutions = sorted((notebooks / "solutions").glob("*.ipynb"))
    numbers = {number for number, _, _ in rows}
    if orphans := [p.name for p in solutions if p.stem.split("_")[0] not in numbers]:
        raise BookError(
            f"solutions whose name starts with no chapter's number (NN_…): {orphans}"
        )
    return [
        Chapter(
            number=number,
            docname=stem,
            title=notebook_title(notebooks / f"{stem}.ipynb"),
            summary=summary,
            solutions=tuple(
                f"solutions/{path.stem}" for path in solutions if path.stem.split("_")[0] == number
            ),
        )
        for number, stem, summary in rows
    ]


def landing_page(title: str, intro: str, book: Sequence[Chapter]) -> str:
    """index.md: the README's title, first paragraph and table of contents, linked, as MyST."""
    has_solutions = any(chapter.solutions for chapter in book)
    head = "| # | chapter | what it teaches |" + (" solutions |" if has_solutions else "")
    rule = "|---|---|---|" + ("---|" if has_solutions else "")
    rows = []
    for chapter in book:
        row = f"| {chapter.number} | [{chapter.title}]({chapter.docname}.ipynb) | {chapter.summary} |"
        if has_solutions:
            links = ", ".join(
                f"[{'solutions' if len(chapter.solutions) == 1 else name.split('/')[-1]}]({name}.ipynb)"
                for name in chapter.solutions
            )
            row += f" {links} |"
        rows.append(row)
    toctrees = [toctree("Chapters", [chapter.docname for chapter in book])]
    if has_solutions:
        toctrees.append(
            toctree("Solutions", [name for chapter in book for name in chapter.solutions])
        )
    return "\n".join(
        [
            f"# {title}",
            "",
            intro,
            "",
            "## Contents",
            "",
            head,
            rule,
            *rows,
            "",
            "## Run it yourself",
            "",
            "Each page is a notebook as it was run, outputs included. To run one, download it with "
            "the link at the top of its page, or clone the repository and start JupyterLab with "
            "`make lab` (Python 3.11 or 3.12).",
            "",
            *toctrees,
        ]
    )


def toctree(caption: str, docnames: Sequence[str]) -> str:
    """A hidden toctree: the sidebar's navigation and the previous/next links."""
    entries = "\n".join(docnames)
    return f"```{{toctree}}\n:hidden:\n:caption: {caption}\n\n{entries}\n```\n"


def sources(notebooks: Path) -> list[Path]:
    """Every notebook the site shows: the chapters, then the solutions."""
    return sorted(notebooks.glob("*.ipynb")) + sorted((notebooks / "solutions").glob("*.ipynb"))


IMAGE_SUFFIXES = {".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp"}
NOT_ASSETS = {"results", "checkpoints"}  # training records, not pictures of the text


def assets(notebooks: Path) -> list[Path]:
    """The pictures the notebooks' text may show (`![…](img/x.svg)`), wherever under notebooks/."""
    return sorted(
        path
        for path in notebooks.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES
        and not any(part in NOT_ASSETS or part.startswith(".") for part in path.relative_to(notebooks).parts)
    )


def write_if_changed(path: Path, data: bytes) -> None:
    """Write only what differs (the staged files keep their times when nothing changed)."""
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def stage(notebooks: Path, readme_path: Path, stage_dir: Path) -> dict[str, str]:
    """Fill `stage_dir` with the site's sources; returns {source path: SHA-256} of what went in."""
    readme = readme_path.read_text(encoding="utf-8")
    title, intro = readme_title_and_intro(readme)
    book = chapters(notebooks, readme)
    wanted = {"index.md": landing_page(title, intro, book).encode()}
    digests = {"README.md": hashlib.sha256(readme.encode()).hexdigest()}
    for path in sources(notebooks) + assets(notebooks):
        relative = path.relative_to(notebooks).as_posix()
        wanted[relative] = path.read_bytes()
        digests[f"notebooks/{relative}"] = hashlib.sha256(wanted[relative]).hexdigest()
    for name, data in wanted.items():
        write_if_changed(stage_dir / name, data)
    for path in stage_dir.rglob("*"):  # notebooks deleted or renamed since the last build
        if path.is_file() and path.relative_to(stage_dir).as_posix() not in wanted:
            path.unlink()
    return digests


def current_sources(notebooks: Path, readme_path: Path) -> dict[str, str]:
    """{source path: SHA-256} of what a build now would take in (for the up-to-date check)."""
    digests = {"README.md": hashlib.sha256(readme_path.read_bytes()).hexdigest()}
    for path in sources(notebooks) + assets(notebooks):
        relative = path.relative_to(notebooks).as_posix()
        digests[f"notebooks/{relative}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def sphinx(stage_dir: Path, site: Path, notebooks: Path) -> None:
    """Sphinx's HTML build, warnings as errors (all of them reported before it stops).

    Every page is read afresh (-E): myst-parser decides at reading time whether a link names a
    page, so a page kept from an earlier build would keep a link to a solution added since as a
    broken #anchor. The messages name the notebooks where they are, not their staged copies.
    """
    command = [
        sys.executable, "-m", "sphinx", "-b", "html", "-c", str(BOOK), "-E",
        "-d", str(BUILD / "doctrees"), "-W", "--keep-going", "-q", str(stage_dir), str(site),
    ]  # fmt: skip
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    where = notebooks.relative_to(REPO) if notebooks.is_relative_to(REPO) else notebooks
    for stream, text in ((sys.stdout, result.stdout), (sys.stderr, result.stderr)):
        stream.write(text.replace(f"{stage_dir}/index.md", "README.md (Contents)").replace(str(stage_dir), str(where)))
    if result.returncode != 0:
        raise BookError(
            "Sphinx found the problems above (in a notebook, line 480021 means cell 48, line 21); "
            "fix them and run make book again: until then the site is not complete"
        )


def build(notebooks: Path, readme: Path) -> Path:
    """Stage, build, record; returns the site's folder."""
    BUILT_FROM.unlink(missing_ok=True)
    digests = stage(notebooks, readme, STAGE)
    sphinx(STAGE, SITE, notebooks)
    BUILT_FROM.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return SITE


def serve(site: Path, port: int) -> None:
    """Serve the site on 127.0.0.1 until Ctrl-C."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"Serving the site at http://127.0.0.1:{port}/ (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--serve", action="store_true", help="serve the site once built")
    parser.add_argument("--port", type=int, default=SERVE_PORT, help="port for --serve")
    parser.add_argument("--notebooks", type=Path, default=REPO / "notebooks", help=argparse.SUPPRESS)
    parser.add_argument("--readme", type=Path, default=REPO / "README.md", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        site = build(args.notebooks, args.readme)
    except BookError as error:
        print(f"make book: {error}", file=sys.stderr)
        return 1
    index = (site / "index.html").relative_to(REPO)
    if args.serve:
        print(f"Site built: {index}.")
        serve(site, args.port)
    else:
        print(f"Site built: open {index} in a browser, or serve it: make book BOOK_ARGS=--serve")
    return 0


if __name__ == "__main__":
    sys.exit(main())
