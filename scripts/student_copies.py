"""A teacher's copy of the series for students: the repository without the worked solutions.

    python scripts/student_copies.py [DEST]      (make student-copies DEST=...; default build/student)

DEST receives every file git tracks, except ``notebooks/solutions/``, and in its place
``notebooks/exercises/NN_<chapter>.ipynb``: each chapter's exercises as an answer sheet. The sheet
keeps every exercise's statement and, following nbgrader's conventions, replaces the worked
solution (the cells tagged ``solution``) by an answer cell for prose and one for code, both marked
as nbgrader solution cells (``metadata.nbgrader``), so that a teacher who uses nbgrader can
collect and grade them; exercises with a self-check get its call with every part left at None.
In the chapters, the line that links to the worked solutions links to the answer sheet instead.
Outputs of the sheets are cleared; the chapters keep their committed outputs.

DEST must not exist or be empty: nothing of a teacher's is overwritten.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = Path("notebooks/solutions")
SHEETS = Path("notebooks/exercises")
SOLUTION_TAG = "solution"
_LINK_LINE = re.compile(r"^.*\]\(solutions/(\d\d_[\w-]+)\.ipynb\).*$", re.M)


def tracked_files(root: Path = ROOT) -> list[Path]:
    """The files git tracks in ``root``, relative to it."""
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True,
                             capture_output=True).stdout.decode()
    return [Path(name) for name in listing.split("\0") if name]


def answer_sheet(solutions: nbformat.NotebookNode, chapter: int) -> nbformat.NotebookNode:
    """The solutions notebook with each exercise's solution replaced by empty answer cells."""
    sheet = nbformat.v4.new_notebook(metadata=solutions.metadata)
    cells = list(solutions.cells)
    if cells and cells[0].cell_type == "markdown":
        title = cells[0].source.replace("# Solutions ·", "# Exercises ·", 1)
        cells[0] = nbformat.v4.new_markdown_cell(
            title.split("\n")[0] + "\n\nWrite your answers in the cells under each exercise, then "
            "run the self-checks where an exercise has one.")
    exercise = None
    for cell in cells:
        heading = re.match(r"## Exercise (\d+)\b", cell.source) if cell.cell_type == "markdown" else None
        if heading:
            if exercise is not None:
                sheet.cells.extend(_answer_cells(chapter, exercise))
            exercise = int(heading.group(1))
        if SOLUTION_TAG in cell.metadata.get("tags", []):
            continue
        sheet.cells.append(_without_outputs(cell))
    if exercise is not None:
        sheet.cells.extend(_answer_cells(chapter, exercise))
    return sheet


def _answer_cells(chapter: int, exercise: int) -> list[nbformat.NotebookNode]:
    from d2lcnn.tools.exercises import for_chapter

    grade_id = f"ch{chapter:02d}-ex{exercise}"
    prose = nbformat.v4.new_markdown_cell("*Your answer here.*")
    code = nbformat.v4.new_code_cell("# Your code here")
    for cell, kind in ((prose, "prose"), (code, "code")):
        cell.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False,
                                     "grade_id": f"{grade_id}-{kind}", "schema_version": 3}
    cells = [prose, code]
    question = for_chapter(chapter).questions.get(exercise)
    if question is not None:
        parts = ", ".join(f"{part.name}=None" for part in question.parts)
        call = f"exercises.q{exercise}.check({'None' if len(question.parts) == 1 else parts})"
        cells.append(nbformat.v4.new_code_cell(
            f"# Replace each None by your answer, then run the cell.\n{call}"))
    return cells


def _without_outputs(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell = nbformat.from_dict(dict(cell))
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    cell.metadata.pop("execution", None)
    return cell


def chapter_for_students(chapter: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The chapter with its line that links to the worked solutions linking to the answer sheet."""
    for cell in chapter.cells:
        if cell.cell_type == "markdown":
            cell.source = _LINK_LINE.sub(
                lambda m: (f"Your answer sheet: [exercises/{m.group(1)}.ipynb]"
                           f"(exercises/{m.group(1)}.ipynb) — try each exercise there; the "
                           "exercises with a self-check have a cell below."), cell.source)
    return chapter


def write_copies(dest: Path, root: Path = ROOT) -> list[Path]:
    """Write the student copy into ``dest`` (absent or empty); return the answer sheets written.

    The copy is made in a temporary folder beside ``dest`` and moved into place at the end, so an
    error leaves no half-written copy.
    """
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise SystemExit(f"{dest} exists and is not an empty folder: choose another DEST "
                         f"(make student-copies DEST=path), or remove it first")
    dest.parent.mkdir(parents=True, exist_ok=True)
    sheets = []
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.") as tmp:
        stage = Path(tmp) / "copy"
        for name in tracked_files(root):
            if SOLUTIONS in name.parents:
                continue
            target = stage / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if name.suffix == ".ipynb" and name.parent == Path("notebooks"):
                nbformat.write(chapter_for_students(nbformat.read(root / name, as_version=4)), target)
            else:
                shutil.copy2(root / name, target)
        for solutions in sorted((root / SOLUTIONS).glob("[0-9][0-9]_*.ipynb")):
            sheet = stage / SHEETS / solutions.name
            sheet.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(answer_sheet(nbformat.read(solutions, as_version=4),
                                        int(solutions.name[:2])), sheet)
            sheets.append(dest / SHEETS / solutions.name)
        if dest.exists():
            dest.rmdir()
        stage.rename(dest)
    return sheets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", nargs="?", default="build/student", type=Path,
                        help="the folder to write (absent or empty; default build/student)")
    args = parser.parse_args(argv)
    sheets = write_copies(args.dest.resolve())
    print(f"Student copy in {args.dest}: the series without notebooks/solutions, with "
          f"{len(sheets)} answer sheets in notebooks/exercises/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
