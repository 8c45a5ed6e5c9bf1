"""Collect the chapters' ``#@save`` cells into the package: ``d2lcnn/lessons/``.

    python scripts/build_lessons.py           # (re)write d2lcnn/lessons/ from notebooks/
    python scripts/build_lessons.py --check   # exit 1, listing the differences, if out of date

``make lib`` runs the first; ``tests/test_lessons.py`` runs the check. The lesson code lives in the
chapters: a code cell with a line ending in ``#@save`` (d2l's mark) is copied, in chapter order, into
a module of ``d2lcnn.lessons``. Which module: the notebook's default, set in its metadata
(``"d2lcnn": {"lesson_module": "conv_scratch"}``); for one cell, the same key in the cell's
metadata, which the page does not show (chapters 08 and 09 send their training code to
``training`` this way); or the one the mark names (``#@save training``).

What a saved cell may hold: imports, ``def``, ``class`` and assignments of constants (no demo code:
that stays in the chapter's other cells). The generated module gets, at its top, exactly the imports
its code needs, taken from the notebook's own import statements (a name saved by another chapter is
imported from the module it was saved in); a name the saved code uses that is neither defined in a
saved cell nor imported is an error, as is a name saved twice. ``d2lcnn/lessons/__init__.py``
re-exports every module's names, so that ``from d2lcnn.lessons import train`` works.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import difflib
import json
import re
import symtable
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
LESSONS = REPO / "d2lcnn" / "lessons"
MARK = re.compile(r"#\s*@save(?:\s+(?P<module>[a-z_][a-z0-9_]*))?\s*$")
PACKAGE = "d2lcnn.lessons"
COMMAND = "make lib"


class LessonError(Exception):
    """A saved cell that cannot become package code; the message names the notebook and cell."""


@dataclass
class Cell:
    notebook: str  # file name, e.g. "08_lenet.ipynb"
    index: int  # position among the notebook's cells
    module: str
    source: str  # the code with the marks removed


@dataclass
class Module:
    name: str
    notebooks: list[str] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    defined: list[str] = field(default_factory=list)  # top-level names, in order


@dataclass(frozen=True)
class Import:
    """How a notebook imports one name: ``from module import name as alias`` or
    ``import module as alias`` (``name`` None); ``alias`` is the name the code uses."""

    module: str
    name: str | None
    alias: str

    def statement(self) -> str:
        if self.name is None:
            top = self.module.split(".")[0]
            if self.alias == top:
                return f"import {self.module}"
            return f"import {self.module} as {self.alias}"
        rename = f" as {self.alias}" if self.alias != self.name else ""
        return f"from {self.module} import {self.name}{rename}"


def _strip_marks(source: str) -> tuple[str, list[str | None]]:
    """The source without its ``#@save`` marks, and the module each mark names (None: default)."""
    lines, modules = [], []
    for line in source.splitlines():
        match = MARK.search(line)
        if match:
            modules.append(match["module"])
            line = line[: match.start()].rstrip()
            if not line.strip():
                continue
        lines.append(line)
    return "\n".join(lines).strip("\n") + "\n", modules


def _imports_of(tree: ast.Module) -> dict[str, Import]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                module = alias.name if alias.asname else alias.name.split(".")[0]
                found[name] = Import(module, None, name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found[alias.asname or alias.name] = Import(node.module, alias.name,
                                                           alias.asname or alias.name)
    return found


def _parse(source: str, where: str) -> ast.Module:
    python = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                       for line in source.splitlines())
    try:
        return ast.parse(python)
    except SyntaxError as err:
        raise LessonError(f"{where}: not valid Python ({err})") from err


ALLOWED = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


def _top_level_names(tree: ast.Module, where: str) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a bare string: documentation
        if not isinstance(node, ALLOWED):
            raise LessonError(
                f"{where}: a #@save cell may hold only imports, def, class and constant "
                f"assignments; line {node.lineno} is a {type(node).__name__}. Move demo code to "
                "a cell of its own.")
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


def read_notebooks(notebooks_dir: Path = NOTEBOOKS) -> tuple[dict[str, Module], dict[str, dict]]:
    """Modules by name (in chapter order of their first cell) and, per notebook, its imports."""
    modules: dict[str, Module] = {}
    imports: dict[str, dict[str, Import]] = {}
    for path in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        default = nb.get("metadata", {}).get("d2lcnn", {}).get("lesson_module")
        imports[path.name] = {}
        for index, cell in enumerate(nb["cells"]):
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            where = f"{path.name}, cell {index}"
            imports[path.name].update(_imports_of(_parse(source, where)))
            code, marks = _strip_marks(source)
            if not marks:
                continue
            named = {m for m in marks if m is not None}
            if len(named) > 1:
                raise LessonError(f"{where}: #@save marks name several modules: {sorted(named)}")
            # a cell's own metadata (invisible on the page) can send it to another module
            module = named.pop() if named else (
                cell.get("metadata", {}).get("d2lcnn", {}).get("lesson_module", default))
            if module is None:
                raise LessonError(
                    f"{where}: #@save, but the notebook names no lesson module; add "
                    '"d2lcnn": {"lesson_module": "<name>"} to its metadata or write #@save <name>')
            entry = modules.setdefault(module, Module(module))
            if path.name not in entry.notebooks:
                entry.notebooks.append(path.name)
            entry.cells.append(Cell(path.name, index, module, code))
            entry.defined += _top_level_names(_parse(code, where), where)
    return modules, imports


def _global_references(source: str) -> set[str]:
    """Names that the code reads from module scope (in any function or class inside it)."""
    table = symtable.symtable(source, "<lesson>", "exec")
    found: set[str] = set()
    stack = [table]
    while stack:
        scope = stack.pop()
        for symbol in scope.get_symbols():
            if not symbol.is_referenced():
                continue
            if scope.get_type() == "module" and symbol.is_assigned():
                continue  # bound by the module itself (Python 3.12 puts comprehensions' here)
            if scope.get_type() == "module" or symbol.is_global() or (
                    scope.get_type() == "class" and not symbol.is_local()):
                found.add(symbol.get_name())
        stack.extend(scope.get_children())
    return found


def _sort_imports(statements: list[str]) -> list[str]:
    """isort's order, as ruff checks it: standard library, third party, this package (absolute),
    then relative imports, a blank line between groups; ``import x`` before ``from x import``."""
    def group(statement: str) -> int:
        module = statement.split()[1]
        if module.startswith("."):
            return 3
        top = module.split(".")[0]
        if top == "d2lcnn":
            return 2
        return 0 if top in sys.stdlib_module_names else 1

    def key(statement: str) -> tuple:
        words = statement.split()
        return (words[0] == "from", words[1].lower(), statement.lower())

    groups: dict[int, list[str]] = {}
    for statement in sorted(set(statements), key=key):
        groups.setdefault(group(statement), []).append(statement)
    lines: list[str] = []
    for number in sorted(groups):
        if lines:
            lines.append("")
        lines += _merge_from_imports(groups[number])
    return lines


def _merge_from_imports(statements: list[str]) -> list[str]:
    """``from m import a`` and ``from m import b`` -> ``from m import a, b`` (sorted, wrapped)."""
    merged: dict[str, list[str]] = {}
    order: list[str] = []
    for statement in statements:
        if statement.startswith("from "):
            module, names = statement[5:].split(" import ")
            if module not in merged:
                merged[module] = []
                order.append(f"from {module}")
            merged[module].append(names)
        else:
            order.append(statement)
    lines = []
    for item in order:
        if not item.startswith("from "):
            lines.append(item)
            continue
        module = item[5:]
        lines += _from_import(module, sorted(set(merged[module]), key=_isort_name_key))
    return lines


def _from_import(module: str, names: list[str]) -> list[str]:
    """``from module import a, b``, wrapped one name per line (as ruff formats it) when long."""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= 100:
        return [line]
    return [f"from {module} import (", *(f"    {name}," for name in names), ")"]


def _isort_name_key(name: str) -> tuple:
    """isort's default order of imported names: CONSTANTS, then Classes, then functions."""
    base = name.split(" as ")[0]
    if base.isupper() and len(base) > 1:
        kind = 0
    elif base[:1].isupper():
        kind = 1
    else:
        kind = 2
    return (kind, base.lower(), base)


def render_module(module: Module, owner: dict[str, str],
                  imports: dict[str, dict[str, Import]]) -> str:
    """The text of ``d2lcnn/lessons/<module>.py``."""
    body = "\n\n\n".join(cell.source.rstrip("\n") for cell in module.cells)
    needed = _global_references(body) - set(module.defined) - set(dir(builtins))
    statements = []
    for name in sorted(needed):
        if name in owner and owner[name] != module.name:
            statements.append(f"from .{owner[name]} import {name}")
            continue
        source = next((imports[nb][name] for nb in module.notebooks if name in imports[nb]), None)
        if source is None:
            cell = next(c for c in module.cells if re.search(rf"\b{re.escape(name)}\b", c.source))
            raise LessonError(
                f"{cell.notebook}, cell {cell.index}: saved code uses {name!r}, which no #@save "
                "cell defines and the notebook does not import")
        if source.module.startswith(PACKAGE + ".") or source.module == PACKAGE:
            if name not in owner:
                raise LessonError(f"{module.notebooks[0]} imports {name!r} from {source.module}, "
                                  "but no chapter saves it")
            statements.append(f"from .{owner[name]} import {name}")
        else:
            statements.append(source.statement())
    sources = ", ".join(f"notebooks/{nb}" for nb in module.notebooks)
    header = [
        f'"""Lesson code of {sources}, generated from its ``#@save`` cells.',
        "",
        f"Do not edit: change the notebook, then run ``{COMMAND}`` (tests/test_lessons.py checks",
        "that this file and the notebooks agree).",
        '"""',
        "",
    ]
    public = [n for n in module.defined if not n.startswith("_")]
    # After the imports, isort (as ruff checks it) wants two blank lines before a def or class,
    # one before anything else.
    first = ast.parse(body).body[0]
    gap = "\n\n\n" if isinstance(first, ast.FunctionDef | ast.ClassDef) else "\n\n"
    text = "\n".join(header + _sort_imports(statements)) + gap + body + "\n"
    text += "\n\n__all__ = [" + ", ".join(repr(n) for n in public) + "]\n"
    return text


def render_init(modules: dict[str, Module]) -> str:
    lines = [
        '"""The code the chapters teach, generated from their ``#@save`` cells: one module per',
        "topic, every name also importable from here (``from d2lcnn.lessons import train``).",
        "",
        f"Do not edit: change the notebooks, then run ``{COMMAND}``.",
        "",
    ]
    for module in modules.values():
        lines.append(f"- ``{module.name}``: {', '.join(module.notebooks)}")
    lines += ['"""', ""]
    modules_line = ", ".join(repr(m) for m in modules) + ("," if len(modules) == 1 else "")
    exported = []
    for module in sorted(modules.values(), key=lambda m: m.name):
        names = sorted((n for n in module.defined if not n.startswith("_")), key=_isort_name_key)
        exported += names
        lines += _from_import(f".{module.name}", names)
    lines += ["", "#: The lesson modules, in chapter order.", f"MODULES = ({modules_line})", "",
              "__all__ = ["]
    lines += [f"    {name!r}," for name in sorted(exported, key=_isort_name_key)]
    lines += ["]", ""]
    return "\n".join(lines)


def build(notebooks_dir: Path = NOTEBOOKS) -> dict[str, str]:
    """File name -> text of every file of ``d2lcnn/lessons/``."""
    modules, imports = read_notebooks(notebooks_dir)
    owner: dict[str, str] = {}
    for module in modules.values():
        for name in module.defined:
            if name in owner:
                raise LessonError(f"{name!r} is saved twice: in lesson module {owner[name]!r} and "
                                  f"{module.name!r} ({', '.join(module.notebooks)}); keep one "
                                  "definition and import it where it is needed")
            owner[name] = module.name
    clashes = sorted(set(owner) & set(modules))
    if clashes:
        raise LessonError(f"{clashes[0]!r} names both a lesson module and a saved name: the name "
                          f"would hide the module in d2lcnn.lessons; rename the module "
                          f"(the notebook's lesson_module) or the name")
    files = {f"{m.name}.py": render_module(m, owner, imports) for m in modules.values()}
    files["__init__.py"] = render_init(modules)
    return files


def differences(files: dict[str, str], folder: Path = LESSONS) -> list[str]:
    """What differs between ``files`` and the folder: a line per file, with a short diff."""
    found = []
    on_disk = {p.name for p in folder.glob("*.py")} if folder.is_dir() else set()
    for name in sorted(on_disk - set(files)):
        found.append(f"{folder / name}: not generated from any notebook (delete it)")
    for name, text in sorted(files.items()):
        path = folder / name
        if not path.exists():
            found.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != text:
            diff = difflib.unified_diff(path.read_text(encoding="utf-8").splitlines(),
                                        text.splitlines(), str(path), "from the notebooks",
                                        lineterm="", n=1)
            found.append("\n".join(list(diff)[:40]))
    return found


def write(files: dict[str, str], folder: Path = LESSONS) -> list[str]:
    """Write the files, remove stale modules; return the names written."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in folder.glob("*.py")) - set(files):
        (folder / stale).unlink()
    written = []
    for name, text in files.items():
        path = folder / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_name(f".{name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if d2lcnn/lessons/ is out of date")
    args = parser.parse_args(argv)
    try:
        files = build()
    except LessonError as err:
        print(f"build_lessons: {err}", file=sys.stderr)
        return 2
    if args.check:
        found = differences(files)
        for line in found:
            print(line)
        if found:
            print(f"d2lcnn/lessons/ is out of date: run `{COMMAND}`")
        return 1 if found else 0
    written = write(files)
    print(f"d2lcnn/lessons/: {len(files)} files, {len(written)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
