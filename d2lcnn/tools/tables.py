"""One way to print a table of text: columns padded to their widest cell, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_table"]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None,
                 title: str = "", footer: Sequence[str] = ()) -> str:
    """The table as lines of text: ``title``, the header, a rule, the rows, a rule, ``footer``.

    ``rows`` hold strings already formatted; ``align`` has one letter per column, ``l`` or ``r``
    (default: the first column left, the others right). Columns are separated by two spaces.
    """
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or any(len(row) != len(header) for row in rows):
        raise ValueError(f"every row needs {len(header)} cells, as the header, and align one "
                         f"letter per column")
    widths = [max([len(str(h))] + [len(str(row[i])) for row in rows]) for i, h in enumerate(header)]

    def line(cells) -> str:
        return "  ".join(f"{str(c):{'<' if a == 'l' else '>'}{w}}"
                         for c, a, w in zip(cells, align, widths, strict=True)).rstrip()

    rule = "-" * len(line(header))
    lines = ([title] if title else []) + [line(header), rule, *map(line, rows), rule, *footer]
    return "\n".join(lines)
