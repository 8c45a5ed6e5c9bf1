"""All the networks of the series side by side, from what was measured (chapter 16).

:func:`compare` gathers, for every network of :func:`~d2lcnn.tools.networks.all_networks`:

- its size and cost: parameters and multiply-adds per example, computed by
  :func:`~d2lcnn.tools.summary.summary` on the network as each form builds it, at that form's
  input size;
- the runs its chapter saved (:func:`~d2lcnn.tools.history.save_result`): the reference runs
  committed with the series (``results/reference``) and the reader's own
  (:func:`d2lcnn.config.results_dir`), each marked as such; quick-mode runs are listed apart;
- the book's published run (:class:`~d2lcnn.tools.networks.BookResult`).

Nothing is typed in: a form without a run keeps its size and cost, with blanks for the rest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..machine.cpu_isa import isa_named_in
from .history import History, ResultsError, load_results
from .networks import BOOK_RECIPE, BOOK_SOURCE, Form, Network, all_networks
from .tables import format_table

__all__ = ["Comparison", "Row", "compare", "cost_of", "plot_comparison"]


@dataclass
class Row:
    """One form of one network, with the run that measured it (``history``, None when none
    did) and where that run comes from: "reference" (committed), "yours" (the reader's)."""

    network: Network
    form: Form
    params: int
    macs: int
    history: History | None = None
    source: str = ""

    @property
    def test_acc(self) -> float | None:
        return self.history.test_acc[-1] if self.history and self.history.test_acc else None

    @property
    def examples_per_sec(self) -> float | None:
        return self.history.overall_examples_per_sec if self.history else None

    def as_dict(self) -> dict:
        """The row as plain values (for pandas, JSON or a test)."""
        h, book = self.history, self.network.book_result
        return {
            "key": self.network.key, "network": self.network.title, "form": self.form.name,
            "input": self.form.input_size, "params": self.params, "macs": self.macs,
            "source": self.source or None, "device": h.device if h else None,
            "processor": (h.processor or None) if h else None,
            "quick": h.quick if h else None, "epochs": h.epochs_done if h else None,
            "examples_seen": h.examples_seen if h else None,
            "minutes": h.total_seconds / 60 if h else None,
            "train_loss": h.train_loss[-1] if h else None, "test_acc": self.test_acc,
            "examples_per_sec": self.examples_per_sec,
            "book_test_acc": book.test_acc if book else None,
            "book_examples_per_sec": book.examples_per_sec if book else None,
        }


@dataclass
class Comparison:
    """Every network's rows (the forms with a run, and the book form for its size), and the
    quick-mode runs found (``quick``), which say only that the code runs."""

    rows: list[Row]
    reference_dir: Path
    own_dir: Path
    quick: list[Row] = field(default_factory=list)
    #: What the table cannot show, said under it (e.g. no folder of the reader's runs yet).
    notes: list[str] = field(default_factory=list)

    def measured(self, source: str | None = None) -> list[Row]:
        return [r for r in self.rows if r.history is not None and
                (source is None or r.source == source)]

    def table(self, rows: list[Row] | None = None) -> str:
        header = ["network", "form", "input", "params", "MACs/ex", "run", "minutes", "test acc",
                  "book", "ex/s", "book ex/s", "device"]
        body = []
        for r in rows if rows is not None else self.rows:
            h, book = r.history, r.network.book_result
            run = "–" if h is None else f"{h.epochs_done} ep × {h.num_train:,}"
            body.append([
                r.network.title, r.form.name + (" (yours)" if r.source == "yours" else ""),
                f"{r.form.input_size}²", f"{r.params:,}", _count(r.macs), run,
                _num(h.total_seconds / 60 if h else None, ".1f"), _num(r.test_acc, ".3f"),
                _num(book.test_acc if book else None, ".3f"),
                _num(r.examples_per_sec, ",.0f"), _num(book.examples_per_sec if book else None,
                                                       ",.0f"),
                _device(h)])
        footer = [f"book: {BOOK_SOURCE}.", *self.notes]
        processors = sorted({r.history.processor for r in self.measured() if r.history.processor})
        if processors:
            footer.append("CPU times measured on: " + "; ".join(processors))
        if self.quick:
            footer.append("quick-mode runs (not compared: one epoch on a small subset): "
                          + ", ".join(f"{r.network.title} {r.form.name}" for r in self.quick))
        return format_table(header, body, "llrrrlrrrrrl", footer=footer)

    def recipe_table(self, source: str = "reference") -> str:
        """Design against recipe, one row per network with a run of its book-recipe form (from
        ``source``): the test accuracy of the book's run (book form, book recipe), of the native
        architecture with the book's recipe, and of the native form (native recipe); then what
        the adapted design reached against the book under the same recipe, and what the native
        recipe added to the same design."""
        runs = {(r.network.key, r.form.name): r for r in self.measured(source)}
        body = []
        for network in dict.fromkeys(r.network for r in self.rows):
            recipe, native = runs.get((network.key, BOOK_RECIPE)), runs.get((network.key, "native"))
            book = network.book_result
            if recipe is None or native is None or book is None:
                continue
            body.append([network.title, f"{book.test_acc:.3f}", f"{recipe.test_acc:.3f}",
                         f"{native.test_acc:.3f}", f"{recipe.test_acc - book.test_acc:+.3f}",
                         f"{native.test_acc - recipe.test_acc:+.3f}",
                         f"{recipe.history.epochs_done} / {native.history.epochs_done}"])
        header = ["network", "book run", "book recipe", "native form", "design vs book",
                  "recipe adds", "epochs"]
        footer = ["test accuracy. book run: the book form (its input size) with the book's "
                  "recipe; book recipe: the native architecture (28×28, no borrowed batch norm) "
                  "with the book's recipe; native form: the native architecture with the native "
                  "recipe. epochs: of the book-recipe and the native run."]
        if not body:
            footer.append(f"no {source} run of a book-recipe form yet")
        return format_table(header, body, footer=footer)

    def __str__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def as_dicts(self) -> list[dict]:
        return [row.as_dict() for row in self.rows]


def _device(h) -> str:
    """A run's device, with the instruction set of a CPU run: "cpu(0), AVX2"."""
    if h is None:
        return "–"
    isa = isa_named_in(h.processor)
    return f"{h.device}, {isa}" if isa else h.device


def _count(n: int | None) -> str:
    if n is None:
        return "–"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.{1 if n < 10 * size else 0}f}{unit}"
    return str(n)


def _num(x: float | None, fmt: str) -> str:
    return "–" if x is None else format(x, fmt)


def cost_of(form: Form) -> tuple[int, int]:
    """(parameters, multiply-adds per example) of the network a form builds, at its input size."""
    from mxnet.util import np_array, np_shape

    from .summary import summary

    with np_shape(True), np_array(True):  # the networks use MXNet's NumPy interface
        table = summary(form.build(), form.input_shape)
    return table.total_params, table.total_macs


def compare(reference_dir: str | os.PathLike | None = None,
            own_dir: str | os.PathLike | None = None,
            networks: dict[str, Network] | None = None) -> Comparison:
    """The comparison of ``networks`` (default: every chapter's), from the runs saved in
    ``reference_dir`` (default :func:`config.reference_results_dir`) and ``own_dir`` (default
    :func:`config.results_dir`; skipped when it is the reference folder itself)."""
    # how the reader named their folder (None: the default): a typo there must not hide their runs
    named_by = ("own_dir=" if own_dir is not None else f"{config.RESULTS_DIR_ENV}="
                if config.results_dir_is_set() else None)
    reference_dir = Path(reference_dir or config.reference_results_dir())
    own_dir = Path(own_dir or config.results_dir())
    networks = all_networks() if networks is None else networks
    if not reference_dir.is_dir():
        raise ResultsError(
            f"the reference results folder {reference_dir} does not exist (in "
            f"{Path.cwd()}): run this from the series' notebooks/ folder, or pass "
            "reference_dir= the folder of the committed runs (notebooks/results/reference)")
    found = {("reference", *k): h for k, h in load_results(reference_dir).items()}
    notes = []
    if not own_dir.is_dir():
        if named_by:
            raise ResultsError(
                f"the results folder {own_dir} ({named_by}) does not exist, so none of your runs "
                "could be read: check its name, or unset it to read the default "
                f"{config.OWN_RESULTS}")
        notes.append(f"no runs of yours yet: {own_dir} does not exist (a chapter's training "
                     "run saves there)")
    elif own_dir.resolve() != reference_dir.resolve():
        found.update({("yours", *k): h for k, h in load_results(own_dir).items()})
    rows, quick = [], []
    for network in networks.values():
        for form in network.forms.values():
            params, macs = cost_of(form)
            runs = [(source, h) for (source, key, name, is_quick), h in found.items()
                    if key == network.key and name == form.name and not is_quick]
            quick += [Row(network, form, params, macs, h, source)
                      for (source, key, name, is_quick), h in found.items()
                      if key == network.key and name == form.name and is_quick]
            if not runs:
                rows.append(Row(network, form, params, macs))
            rows += [Row(network, form, params, macs, h, source) for source, h in runs]
    return Comparison(rows, reference_dir, own_dir, quick, notes)


def _short(title: str) -> str:
    """A network's name for a crowded plot: "BN-LeNet (scratch)"."""
    return title.replace("(from scratch)", "(scratch)").replace("(nn.BatchNorm)", "(Gluon)")


def plot_comparison(comparison: Comparison, figsize: tuple[float, float] = (12.5, 5.2)):
    """Two panels. Left: test accuracy against multiply-adds per example (log scale), one point
    per run: filled for the runs here (circles the reference runs, triangles the native
    architecture trained with the book's recipe, joined by a dotted line to the same source's
    native run, squares the reader's), hollow for the book's runs at the book form's cost; the
    points are named, except the triangles, which their line names. Right: training examples
    per second of each run here beside the book's on its V100. Returns the axes."""
    import matplotlib.pyplot as plt

    fig, (ax_acc, ax_speed) = plt.subplots(1, 2, figsize=figsize)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    keys = list(dict.fromkeys(r.network.key for r in comparison.rows))
    color = {key: colors[i % len(colors)] for i, key in enumerate(keys)}
    # (multiply-adds, accuracy, name or None, colour): named beside it, or only kept clear of
    points = []
    native = {(r.network.key, r.source): r for r in comparison.rows
              if r.form.name == "native" and r.test_acc is not None}
    for r in comparison.rows:
        c = color[r.network.key]
        book = r.network.book_result
        if r.form.name == "book" and book is not None:
            ax_acc.scatter(r.macs, book.test_acc, facecolors="none", edgecolors=c, s=70,
                           zorder=2)
            points.append((r.macs, book.test_acc, _short(r.network.title), c))
        if r.test_acc is None:
            continue
        recipe = r.form.name == BOOK_RECIPE
        ax_acc.scatter(r.macs, r.test_acc, color=c, zorder=3,
                       marker="s" if r.source == "yours" else "^" if recipe else "o",
                       label=f"{_short(r.network.title)}, {r.form.name}")
        partner = native.get((r.network.key, r.source)) if recipe else None
        if partner is not None:
            ax_acc.plot([r.macs, partner.macs], [r.test_acc, partner.test_acc], ":", color=c,
                        lw=1, zorder=1)
        points.append((r.macs, r.test_acc, None if partner else _short(r.network.title), c))

    def name_the_points(fontsize: float = 6.5) -> None:
        """Write each network's name beside its point: to the right, else to the left, on the
        point's level if free, else on the nearest free level above or below (then with a line
        to the point); free means clear of the names written before and of every point."""
        fig.canvas.draw()  # the final limits and layout: data → pixels
        pt = fig.dpi / 72  # pixels per point
        height, box = 1.2 * fontsize * pt, ax_acc.get_window_extent()
        centres = [tuple(ax_acc.transData.transform((x, y))) for x, y, _, _ in points]
        taken = [(cx - 5 * pt, cy, 10 * pt) for cx, cy in centres]  # (left, centre, width) px

        def free(left: float, centre: float, width: float) -> bool:
            return (box.x0 <= left and left + width <= box.x1
                    and box.y0 + height / 2 <= centre <= box.y1 - height / 2
                    and not any(abs(centre - c0) < height and left < l0 + w0 and l0 < left + width
                                for l0, c0, w0 in taken))

        for (x, y, name, colour), (px, py) in sorted(zip(points, centres, strict=True),
                                                     key=lambda p: (-p[0][1], p[0][0])):
            if name is None:
                continue
            width = 0.62 * fontsize * pt * len(name)
            spots = [(left, py + k * height) for k in (0, -1, 1, -2, 2, -3, 3, -4, 4)
                     for left in (px + 6 * pt, px - 6 * pt - width)]
            left, centre = next((spot for spot in spots if free(*spot, width)), spots[0])
            taken.append((left, centre, width))
            ax_acc.annotate(name, (x, y), xytext=((left - px) / pt, (centre - py) / pt),
                            textcoords="offset points", fontsize=fontsize, color=colour,
                            va="center", arrowprops=dict(arrowstyle="-", color=colour, lw=0.6,
                                                         shrinkA=0, shrinkB=4)
                            if abs(centre - py) > 1 else None)
    ax_acc.set_xscale("log")
    ax_acc.set_xlabel("multiply-adds per example")
    ax_acc.set_ylabel("test accuracy")
    ax_acc.set_title("accuracy vs cost (● reference run, ▲ native design with the book's recipe,\n"
                     "■ yours, ○ the book's run)", fontsize=9)
    ax_acc.grid(True, alpha=0.3)
    ax_acc.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3,
                  frameon=False)

    measured = comparison.measured()
    if not measured:
        ax_speed.text(0.5, 0.5, "no runs saved yet", ha="center", va="center")
        ax_speed.set_axis_off()
        fig.tight_layout()
        name_the_points()
        return ax_acc, ax_speed
    names = [f"{_short(r.network.title)}, {r.form.name}" + (" (yours)" if r.source == "yours"
                                                             else "") for r in measured]
    ys = range(len(measured))
    ax_speed.barh([y + 0.2 for y in ys], [r.examples_per_sec for r in measured], height=0.4,
                  label="here")
    nan = float("nan")
    ax_speed.barh([y - 0.2 for y in ys],
                  [r.network.book_result.examples_per_sec if r.network.book_result else nan
                   for r in measured], height=0.4, label="the book's run (V100, book form)",
                  color="lightgray")
    ax_speed.set_yticks(list(ys), names, fontsize=7)
    ax_speed.invert_yaxis()
    ax_speed.set_xscale("log")
    ax_speed.set_xlabel("training examples per second")
    devices = sorted({_device(r.history) for r in measured})
    ax_speed.set_title(f"speed (here: {', '.join(devices) or 'no runs'})", fontsize=9)
    ax_speed.grid(True, axis="x", alpha=0.3)
    ax_speed.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
                    frameon=False)
    fig.tight_layout()
    name_the_points()
    return ax_acc, ax_speed
