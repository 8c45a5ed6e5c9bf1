"""Checks on the notebooks' code that need no kernel: they are read as JSON, not executed."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def imported_modules(source: str) -> set[str]:
    """Top-level names of the modules a cell imports (IPython magics and shell lines dropped)."""
    python = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )
    names = set()
    for node in ast.walk(ast.parse(python)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def uses_mxnet(source: str) -> bool:
    """Whether a cell imports MXNet or d2l (which imports MXNet), or otherwise names ``mxnet``."""
    return bool({"mxnet", "d2l"} & imported_modules(source) or re.search(r"\bmxnet\b", source))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 17


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_d2lcnn_is_imported_before_mxnet(path):
    # `import d2lcnn` makes the CUDA libraries of the GPU install loadable and sets MXNet's CPU
    # threads; both only work before MXNet is loaded. It has a cell of its own because ruff's isort
    # rule would sort it after `mxnet` and `d2l` within one cell.
    cells = code_cells(path)
    first_d2lcnn = next((i for i, s in enumerate(cells) if "d2lcnn" in imported_modules(s)), None)
    first_mxnet = next((i for i, s in enumerate(cells) if uses_mxnet(s)), None)
    assert first_d2lcnn is not None, f"{path.name} never imports d2lcnn"
    if first_mxnet is not None:
        assert first_d2lcnn < first_mxnet, (
            f"{path.name}: code cell {first_mxnet} uses MXNet or d2l, but d2lcnn is first imported "
            f"in code cell {first_d2lcnn}; put `import d2lcnn` in a code cell of its own before it"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_results_go_to_config_results_dir(path):
    # Hard-coded "results/..." paths would make test runs overwrite the committed full results.
    for i, source in enumerate(code_cells(path)):
        assert not re.search(r"""["']results(/[^"']*)?["']""", source), (
            f"{path.name}, code cell {i}: use config.results_dir() instead of a literal results path"
        )
