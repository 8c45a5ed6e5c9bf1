"""Every exercise has a worked solution, every value-answer exercise a self-check that works.

Per chapter: the solutions notebook exists, has a section "Exercise k" for every exercise of the
chapter's list with at least one cell tagged ``solution``, and the chapter's list links to it; each
self-check's expected values compute, are judged right, and the chapter offers the learner a cell
that calls it (the solutions notebook calls it on its worked answer). The engine's verdicts are
checked on their own below.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as onp
import pytest

from d2lcnn.tools.exercises import Part, Question, for_chapter

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
# A teacher's student copy (scripts/student_copies.py) has answer sheets instead of solutions.
needs_solutions = pytest.mark.skipif(not (NOTEBOOKS / "solutions").is_dir(),
                                     reason="a student copy: the worked solutions are not part of it")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _exercise_count(chapter: Path) -> int:
    """The number of items in the chapter's list under "## Exercises"."""
    for cell in _cells(chapter):
        text = _source(cell)
        if cell["cell_type"] == "markdown" and re.search(r"^## Exercises", text, re.M):
            listing = text[re.search(r"^## Exercises", text, re.M).end():]
            return len(re.findall(r"^\d+\. ", listing, re.M))
    raise AssertionError(f"{chapter.name} has no '## Exercises' section")


def _solution_sections(solutions: Path) -> dict[int, list[dict]]:
    """The cells of each "## Exercise k" section of a solutions notebook."""
    sections: dict[int, list[dict]] = {}
    current = None
    for cell in _cells(solutions):
        match = re.match(r"## Exercise (\d+)\b", _source(cell)) if cell["cell_type"] == "markdown" else None
        if match:
            current = int(match.group(1))
            sections[current] = []
        elif current is not None:
            sections[current].append(cell)
    return sections


@needs_solutions
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_a_worked_solution(chapter):
    solutions = NOTEBOOKS / "solutions" / chapter.name
    assert solutions.exists(), f"{chapter.name} has no solutions notebook {solutions.name}"
    sections = _solution_sections(solutions)
    count = _exercise_count(chapter)
    assert sorted(sections) == list(range(1, count + 1)), (
        f"{solutions.name} must have sections Exercise 1 … {count}, has {sorted(sections)}")
    for number, cells in sections.items():
        assert any("solution" in c["metadata"].get("tags", []) for c in cells), (
            f"{solutions.name}, exercise {number}: no cell tagged 'solution'")
    chapter_text = "".join(_source(c) for c in _cells(chapter))
    assert f"solutions/{chapter.name}" in chapter_text, f"{chapter.name} does not link to its solutions"


@needs_solutions
@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_self_checks_work_and_are_offered(chapter):
    exercises = for_chapter(int(chapter.name[:2]))
    assert exercises.notebook == chapter.stem
    count = _exercise_count(chapter)
    chapter_text = "".join(_source(c) for c in _cells(chapter) if c["cell_type"] == "code")
    solutions_text = "".join(_source(c) for c in _cells(NOTEBOOKS / "solutions" / chapter.name))
    for number, question in exercises.questions.items():
        assert 1 <= number <= count, f"{chapter.name}: q{number} but {count} exercises"
        answers = {part.name: part.compute() for part in question.parts}
        assert all(v.right for v in question.verdicts(**answers)), (chapter.name, number)
        assert all(v.status == "unanswered" for v in question.verdicts())
        assert question.hint_text.strip()
        assert f"exercises.q{number}.check(" in chapter_text, (
            f"{chapter.name} offers no cell calling exercises.q{number}.check(...)")
        assert f"exercises.q{number}.check(" in solutions_text, (
            f"solutions/{chapter.name} does not check its answer to exercise {number}")


# The engine on its own.

def _question(*parts: Part) -> Question:
    return Question(1, parts=parts, hint_text="think", notebook="99_test")


@pytest.mark.parametrize("expected, answer, status, words", [
    (lambda: 12, 12, "right", "right"),
    (lambda: 12, 12.0, "right", "right"),
    (lambda: 12, onp.int64(12), "right", "right"),
    (lambda: 12, None, "unanswered", "not answered"),
    (lambda: 12, 12.5, "wrong", "whole number"),
    (lambda: 12, "12", "wrong", "whole number"),
    (lambda: 12, 24, "wrong", "2 times too large"),
    (lambda: 12, 3, "wrong", "4 times too small"),
    (lambda: 12, 13, "wrong", "off by one"),
    (lambda: 12, 17, "wrong", "is not"),
    (lambda: 0.5, 0.502, "right", "right"),
    (lambda: 0.5, 0.6, "wrong", "is not"),
    (lambda: 0.5, [0.5], "wrong", "is a number"),
    (lambda: True, True, "right", "right"),
    (lambda: True, 1, "wrong", "True or False"),
    (lambda: (1, 16, 28, 28), (1, 16, 28, 28), "right", "right"),
    (lambda: (1, 16, 28, 28), [1, 16, 28, 28], "right", "right"),
    (lambda: (1, 16, 28, 28), (16, 28, 28), "wrong", "has 4 numbers"),
    (lambda: (1, 16, 28, 28), (1, 16, 14, 14), "wrong", "is not"),
    (lambda: onp.eye(2), [[1, 0], [0, 1]], "right", "right"),
    (lambda: onp.eye(2), [1, 0, 0, 1], "wrong", "shape (2, 2)"),
    (lambda: onp.eye(2), [[1, 0], [0, 2]], "wrong", "is not"),
    (lambda: onp.eye(2), "eye", "wrong", "array of shape"),
])
def test_verdicts(expected, answer, status, words):
    (verdict,) = _question(Part("x", expected, "the value")).verdicts(answer)
    assert verdict.status == status
    assert words in verdict.message


def test_choices_and_slips():
    question = _question(
        Part("pool", lambda: "max", "the better pooling", choices=("max", "average")),
        Part("n", lambda: 10, "the count", slips=((lambda: 9, "count the bias too"),)))
    right, slip = question.verdicts(pool=" Max ", n=9)
    assert right.right
    assert slip.status == "wrong" and "count the bias too" in slip.message
    (other, _) = question.verdicts(pool="median")
    assert other.status == "wrong" and "'max'" in other.message


def test_misuse_is_explained(capsys):
    question = _question(Part("a", lambda: 1, "a"), Part("b", lambda: 2, "b"))
    with pytest.raises(TypeError, match="name each answer"):
        question.check(1)
    with pytest.raises(TypeError, match="no part 'c'.*a=..., b=..."):
        question.check(c=1)
    question.check(a=1, b=3)
    out = capsys.readouterr().out
    assert "✓ exercise 1, a: right" in out and "✗ exercise 1, b" in out and "hint()" in out
    assert "2" not in out.split("b:")[1].split("\n")[0].replace("exercise 1", "")


def test_for_chapter_errors():
    with pytest.raises(TypeError, match="for_chapter\\(3\\)"):
        for_chapter("3")
    with pytest.raises(ValueError, match="0 to 16"):
        for_chapter(42)
