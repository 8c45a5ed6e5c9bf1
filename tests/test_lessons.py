"""The package's lesson code is generated from the chapters' ``#@save`` cells, and agrees with them.

``scripts/build_lessons.py`` (``make lib``) writes ``d2lcnn/lessons/``; these tests fail when a
notebook changed without the package being regenerated, or the generator's rules are broken.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import build_lessons  # noqa: E402 - the generator is a script, found on its own folder


def test_generated_lessons_match_the_notebooks():
    problems = build_lessons.differences(build_lessons.build())
    assert not problems, "\n".join(problems) + "\nRun `make lib` to regenerate d2lcnn/lessons/."


def test_every_saved_name_is_importable_from_the_package():
    import d2lcnn.lessons as lessons

    modules, _ = build_lessons.read_notebooks()
    for module in modules.values():
        for name in module.defined:
            assert hasattr(lessons, name) or name.startswith("_"), name
    assert list(lessons.MODULES) == list(modules)


def _notebook(tmp_path: Path, name: str, cells: list[str], module: str | None = "demo") -> Path:
    meta = {"d2lcnn": {"lesson_module": module}} if module else {}
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                     "execution_count": None} for c in cells],
          "metadata": meta, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / name
    path.write_text(json.dumps(nb))
    return path


def test_imports_are_derived_from_the_notebook(tmp_path):
    _notebook(tmp_path, "01_a.ipynb", [
        "import numpy as onp\nfrom mxnet import np\nfrom mxnet.gluon import nn\n",
        "def twice(x):  #@save\n    return onp.asarray(x) * 2\n",
        "twice(3)",
    ])
    _notebook(tmp_path, "02_b.ipynb", [
        "from d2lcnn.lessons import twice\n",
        "class Twice(nn.Block):  #@save other\n    def forward(self, x):\n        return twice(x)\n",
        "from mxnet.gluon import nn",
    ])
    files = build_lessons.build(tmp_path)
    assert "import numpy as onp\n" in files["demo.py"] and "from mxnet import np" not in files["demo.py"]
    assert "from .demo import twice" in files["other.py"]
    assert "from mxnet.gluon import nn" in files["other.py"]
    assert "def twice(x):\n" in files["demo.py"]  # the mark is removed
    assert "MODULES = ('demo', 'other')" in files["__init__.py"]


@pytest.mark.parametrize("cells, message", [
    (["def f():  #@save\n    return undefined_name\n"], "uses 'undefined_name'"),
    (["def f():  #@save\n    return 1\n", "def f():  #@save\n    return 2\n"], "saved twice"),
    (["def f():  #@save\n    return 1\nprint(f())\n"], "only imports, def, class"),
])
def test_broken_saved_cells_are_explained(tmp_path, cells, message):
    _notebook(tmp_path, "01_a.ipynb", cells)
    with pytest.raises(build_lessons.LessonError, match=message):
        build_lessons.build(tmp_path)


def test_a_mark_without_a_module_says_how_to_name_one(tmp_path):
    _notebook(tmp_path, "01_a.ipynb", ["def f():  #@save\n    return 1\n"], module=None)
    with pytest.raises(build_lessons.LessonError, match="lesson_module"):
        build_lessons.build(tmp_path)
