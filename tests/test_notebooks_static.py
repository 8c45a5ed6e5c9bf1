"""What every chapter must be, checked on its JSON without running it: prepared before MXNet,
lesson code written in its cells, pages that speak of the subject only, a Summary and Exercises."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(path: Path, kind: str | None = None) -> list[dict]:
    found = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [c for c in found if kind is None or c["cell_type"] == kind]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def imported_modules(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_there_are_seventeen_chapters():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(17)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_machine_is_prepared_first(path):
    code = [source(c) for c in cells(path, "code")]
    assert code[0].split() == ["from", "d2lcnn", "import", "machine", "machine.prepare()"], (
        f"{path.name}: the first code cell must be `from d2lcnn import machine` and "
        "`machine.prepare()` (before anything imports MXNet)")
    assert not any("mxnet" in imported_modules(c) or "d2l" in imported_modules(c)
                   for c in code[:1])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_source_displays_and_no_pragmas(path):
    for i, cell in enumerate(cells(path, "code")):
        text = source(cell)
        for banned in ("getsource", "show_source", "# noqa", "NBVAL_CHECK_OUTPUT", "NBVAL_"):
            assert banned not in text, f"{path.name}, code cell {i}: {banned!r}"


WORDS_ABOUT_US = re.compile(
    r"\b(CI|continuous integration|make test|make lab|nbval|pytest|the study notes|the notes|"
    r"this project|this machine|our tooling)\b|shared/|/work/|\.\./shared", re.IGNORECASE)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_pages_speak_of_the_subject_only(path):
    for i, cell in enumerate(cells(path)):
        text = source(cell)
        for match in WORDS_ABOUT_US.finditer(text):
            raise AssertionError(f"{path.name}, cell {i}: {match.group(0)!r} in {text[:80]!r}")
        for output in cell.get("outputs", []):
            shown = "".join(output.get("text", "")) + "".join(
                output.get("data", {}).get("text/plain", ""))
            assert "/work/" not in shown and "/shared/" not in shown, (
                f"{path.name}, cell {i}: an output shows a path of the machine that ran it")
            assert output.get("name") != "stderr" or not shown.strip(), (
                f"{path.name}, cell {i}: output on stderr (JupyterLab shows it as an error): "
                f"{shown[:120]!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_ends_with_summary_and_exercises(path):
    headings = [line.strip() for c in cells(path, "markdown") for line in source(c).splitlines()
                if line.startswith("## ")]
    assert headings[-2:] == ["## Summary", "## Exercises"], (
        f"{path.name} ends with {headings[-2:]}; every chapter ends with ## Summary, ## Exercises")
    last = source(cells(path, "markdown")[-1])
    exercises = last[last.index("## Exercises"):]
    count = len(re.findall(r"^\d+\. ", exercises, re.MULTILINE))
    assert 3 <= count <= 6, f"{path.name}: {count} exercises (3–6 wanted)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_results_are_saved_through_save_result(path):
    for i, cell in enumerate(cells(path, "code")):
        assert not re.search(r"""["']results(/[^"']*)?["']""", source(cell)), (
            f"{path.name}, code cell {i}: save runs with save_result(), not a literal path")
