"""The teacher's route: a student copy has no worked solution, an answer sheet per chapter."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))

pytestmark = [
    pytest.mark.skipif(not SOLUTIONS, reason="a student copy: the worked solutions are not part of it"),
    pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                       reason="the copy lists the files git tracks: needs git and a clone"),
]


def _script():
    spec = importlib.util.spec_from_file_location("student_copies", ROOT / "scripts" / "student_copies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("class") / "student"
    _script().write_copies(dest)
    return dest


def test_no_solution_reaches_students(copy):
    assert not (copy / "notebooks" / "solutions").exists()
    sheets = sorted((copy / "notebooks" / "exercises").glob("*.ipynb"))
    assert [s.name for s in sheets] == [s.name for s in SOLUTIONS]
    for sheet in sheets:
        notebook = nbformat.read(sheet, as_version=4)
        assert notebook.cells[0].source.startswith("# Exercises ·"), sheet.name
        for cell in notebook.cells:
            assert "solution" not in cell.metadata.get("tags", []), sheet.name
            assert not cell.get("outputs"), sheet.name


def test_every_exercise_gets_answer_cells_in_nbgrader_form(copy):
    from d2lcnn.tools.exercises import for_chapter

    for solutions in SOLUTIONS:
        sheet = nbformat.read(copy / "notebooks" / "exercises" / solutions.name, as_version=4)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in sheet.cells if "nbgrader" in c.metadata]
        headings = [c for c in sheet.cells if c.source.startswith("## Exercise ")]
        assert len(ids) == 2 * len(headings) and len(set(ids)) == len(ids), solutions.name
        checks = "".join(c.source for c in sheet.cells if c.cell_type == "code")
        for number in for_chapter(int(solutions.name[:2])).questions:
            assert f"exercises.q{number}.check(" in checks, (solutions.name, number)


def test_chapters_link_to_the_answer_sheets(copy):
    for solutions in SOLUTIONS:
        text = (copy / "notebooks" / solutions.name).read_text(encoding="utf-8")
        assert f"exercises/{solutions.name}" in text
        assert f"solutions/{solutions.name}" not in text


def test_an_existing_folder_is_never_overwritten(tmp_path):
    dest = tmp_path / "student"
    dest.mkdir()
    (dest / "mine.txt").write_text("a teacher's file")
    with pytest.raises(SystemExit, match="not an empty folder"):
        _script().write_copies(dest)
    assert (dest / "mine.txt").read_text() == "a teacher's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"]  # no half-written copy
