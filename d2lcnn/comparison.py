"""All the networks of the series side by side, from what was measured.

:func:`compare` gathers, for every network:

- parameters and multiply-adds per example, computed by :func:`d2lcnn.summary.summary` on the
  network built from :mod:`d2lcnn.models` at the input size it was trained on;
- what its chapter's training run reached and how fast, read from the JSON file the chapter wrote
  with ``history.save(config.results_dir() / "<key>.json")`` (:class:`d2lcnn.train.History`);
  :func:`d2lcnn.config.results_dir` is ``results/`` beside the notebooks, or the folder
  ``$D2LCNN_RESULTS_DIR`` names (test runs use a temporary one);
- the book's published numbers (:mod:`d2lcnn.published`, cited there);
- if ``benchmarks/results.json`` exists, the examples/s measured by the benchmarks.

Nothing is typed in: a network whose results file is missing keeps its row, with blanks, and is
listed in :attr:`Comparison.missing`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mxnet.util import np_array, np_shape

from . import config, models
from . import published as book
from .train import History

__all__ = ["NETWORKS", "Row", "Comparison", "compare", "load_results",
           "load_benchmarks", "beside_the_book", "plot_comparison"]


#: The networks compared, by results key, in the order of the chapters: the registry of
#: :mod:`d2lcnn.models` (title, chapter, constructor, the book's hyperparameters).
NETWORKS = models.MODELS


@dataclass
class Row:
    """One network's line of the comparison; None where nothing was measured."""

    key: str
    title: str
    chapter: str
    input_size: int
    params: int | None = None
    macs: int | None = None
    history: History | None = None
    published: book.PublishedResult | None = None
    benchmark_examples_per_sec: float | None = None
    error: str = ""

    @property
    def measured(self) -> bool:
        return self.history is not None

    @property
    def test_acc(self) -> float | None:
        return self.history.test_acc[-1] if self.history and self.history.test_acc else None

    @property
    def train_acc(self) -> float | None:
        return self.history.train_acc[-1] if self.history and self.history.train_acc else None

    @property
    def train_loss(self) -> float | None:
        return self.history.train_loss[-1] if self.history and self.history.train_loss else None

    @property
    def examples_per_sec(self) -> float | None:
        return self.history.overall_examples_per_sec if self.history else None

    def as_dict(self) -> dict:
        """The row as plain values (for pandas, JSON or a test)."""
        h, p = self.history, self.published
        return {
            "key": self.key, "network": self.title, "chapter": self.chapter,
            "input": self.input_size, "params": self.params, "macs": self.macs,
            "device": h.device if h else None, "quick": h.quick if h else None,
            "epochs": h.epochs_done if h else None, "examples_seen": h.examples_seen if h else None,
            "train_loss": self.train_loss, "train_acc": self.train_acc, "test_acc": self.test_acc,
            "examples_per_sec": self.examples_per_sec,
            "benchmark_examples_per_sec": self.benchmark_examples_per_sec,
            "book_test_acc": p.test_acc if p else None, "book_train_acc": p.train_acc if p else None,
            "book_examples_per_sec": p.examples_per_sec if p else None,
        }


@dataclass
class Comparison:
    """The comparison table: one :class:`Row` per network; ``print`` it to read it."""

    rows: list[Row]
    results_dir: Path
    missing: list[str] = field(default_factory=list)
    benchmarks_file: Path | None = None

    def __str__(self) -> str:
        header = ("network", "input", "params", "MACs/ex", "run", "test acc", "book",
                  "ex/s here", "book ex/s")
        body = []
        for r in self.rows:
            h = r.history
            run = "missing" if h is None else (
                f"{h.epochs_done} ep × {h.num_train:,}{' (quick)' if h.quick else ''}")
            body.append((
                r.title, f"{r.input_size}²", _num(r.params, ",d"), _count(r.macs), run,
                _num(r.test_acc, ".3f"), _num(r.published and r.published.test_acc, ".3f"),
                _num(r.examples_per_sec, ",.0f"),
                _num(r.published and r.published.examples_per_sec, ",.0f"),
            ))
        align = ["<", ">", ">", ">", "<", ">", ">", ">", ">"]
        if any(r.benchmark_examples_per_sec for r in self.rows):
            header += ("bench ex/s",)
            body = [(*cells, _num(r.benchmark_examples_per_sec, ",.0f"))
                    for cells, r in zip(body, self.rows, strict=True)]
            align.append(">")
        widths = [max(len(h), *(len(row[i]) for row in body)) for i, h in enumerate(header)]

        def line(cells) -> str:
            return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cells, align, widths, strict=True))

        rule = "-" * len(line(header))
        lines = [line(header), rule, *map(line, body), rule]
        devices = sorted({r.history.device for r in self.rows if r.history})
        if devices:
            lines.append(f"here: measured on {', '.join(devices)}, histories read from "
                         f"{self.results_dir}/; 'run' = epochs × training examples")
        if self.benchmarks_file is not None and any(r.benchmark_examples_per_sec for r in self.rows):
            lines.append(f"bench: training examples/s measured by the benchmarks "
                         f"({self.benchmarks_file}; conditions in the results.md beside it)")
        lines.append(f"book: MXNet, 10 epochs on 60,000 examples, {book.DEVICE}.")
        lines.append(f"      Source: {book.SOURCE}")
        if self.missing:
            lines.append(f"missing results (run their chapters): {', '.join(self.missing)}")
        errors = [f"{r.key}: {r.error}" for r in self.rows if r.error]
        if errors:
            lines.append("not computed: " + "; ".join(errors))
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def as_dicts(self) -> list[dict]:
        return [row.as_dict() for row in self.rows]


def _count(n: int | None) -> str:
    if n is None:
        return "–"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.{1 if n < 10 * size else 0}f}{unit}"
    return str(n)


def _num(x: float | None, fmt: str) -> str:
    return "–" if x is None else format(x, fmt)


def load_results(results_dir: str | os.PathLike,
                 keys: Sequence[str] | None = None) -> tuple[dict[str, History], list[str]]:
    """Read ``<results_dir>/<key>.json`` for each key; return (histories by key, missing keys)."""
    results_dir = Path(results_dir)
    keys = list(NETWORKS) if keys is None else list(keys)
    found, missing = {}, []
    for key in keys:
        path = results_dir / f"{key}.json"
        if path.is_file():
            try:
                found[key] = History.load(path)
            except (ValueError, TypeError, KeyError) as err:
                raise ValueError(f"{path} is not a training history written by History.save: {err}"
                                 ) from err
        else:
            missing.append(key)
    return found, missing


def load_benchmarks(path: str | os.PathLike) -> dict[str, float]:
    """Examples/s per network key from a benchmarks results file, or {} when there is none.

    Reads the file ``python -m benchmarks.run`` writes (``{"results": [{"key": ...,
    "examples_per_sec": ...}, ...], ...}``; a ``"smoke": true`` run counts as none), and also a
    plain mapping ``{key: examples_per_sec}`` or ``{key: {"examples_per_sec": ...}}``, or a list of
    records; entries that are not about a network of :data:`NETWORKS` are skipped.
    """
    path = Path(path)
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text())
    if isinstance(raw, dict) and raw.get("smoke"):
        return {}  # a smoke run checks code paths on tiny subsets; its figures mean nothing
    records = raw.get("results", raw) if isinstance(raw, dict) else raw
    if isinstance(records, dict):
        records = [{"key": k, **(v if isinstance(v, dict) else {"examples_per_sec": v})}
                   for k, v in records.items()]
    speeds = {}
    for record in records if isinstance(records, list) else []:
        if not isinstance(record, dict):
            continue
        key = record.get("key") or record.get("network") or record.get("model")
        speed = record.get("examples_per_sec")
        if isinstance(key, str) and key in NETWORKS and isinstance(speed, int | float):
            speeds[key] = float(speed)
    return speeds


def compare(
    results_dir: str | os.PathLike | None = None,
    networks: Sequence[str] | None = None,
    benchmarks_file: str | os.PathLike | None = None,
) -> Comparison:
    """Build the comparison of ``networks`` (default: all of :data:`NETWORKS`).

    ``results_dir``: the folder with the chapters' ``<key>.json`` histories (default
    :func:`d2lcnn.config.results_dir`: ``results`` relative to ``notebooks/``, or
    ``$D2LCNN_RESULTS_DIR`` when set). Parameters and multiply-adds are computed with
    :func:`d2lcnn.summary.summary` at the input size of the run (the book's size when the run is
    missing). ``benchmarks_file``: optional benchmarks JSON (see :func:`load_benchmarks`).
    """
    from .summary import summary

    results_dir = config.results_dir() if results_dir is None else Path(results_dir)
    keys = list(NETWORKS) if networks is None else list(networks)
    unknown = [k for k in keys if k not in NETWORKS]
    if unknown:
        raise KeyError(f"unknown network(s) {unknown}; choose from {list(NETWORKS)}")
    histories, missing = load_results(results_dir, keys)
    speeds = load_benchmarks(benchmarks_file) if benchmarks_file else {}
    rows = []
    for key in keys:
        info, history = NETWORKS[key], histories.get(key)
        shape = tuple(history.input_shape) if history else info.input_shape[1:]
        row = Row(key, info.title, info.chapter, shape[-1], history=history,
                  published=book.published(key), benchmark_examples_per_sec=speeds.get(key))
        try:
            with np_shape(True), np_array(True):  # the networks use MXNet's numpy interface
                table = summary(info.build(), (1, *shape))
            row.params, row.macs = table.total_params, table.total_macs
        except Exception as err:  # one network that cannot be built must not hide the others
            row.error = f"{type(err).__name__}: {err}".splitlines()[0][:100]
        rows.append(row)
    return Comparison(rows, Path(results_dir), missing,
                      Path(benchmarks_file) if benchmarks_file else None)


def beside_the_book(history: History, key: str, framework: str = "MXNet") -> str:
    """A run's final train loss, train and test accuracy and examples/s next to the book's for
    network ``key`` (see :mod:`d2lcnn.published`), with a line saying what the run was."""
    theirs = book.published(key, framework)
    if theirs is None:
        raise KeyError(f"the book publishes no {framework} result for {key!r}; "
                       f"known: {sorted(book.MXNET)}")
    here = f"here ({history.device})"
    lines = [f"{'':12}{'book (' + framework + ', V100)':>22}{here:>16}"]
    for name, book_value, value, fmt in [
        ("train loss", theirs.train_loss, history.train_loss[-1], ".3f"),
        ("train acc", theirs.train_acc, history.train_acc[-1], ".3f"),
        ("test acc", theirs.test_acc, history.test_acc[-1], ".3f"),
        ("examples/s", theirs.examples_per_sec, history.overall_examples_per_sec, ",.0f"),
    ]:
        lines.append(f"{name:12}{book_value:>22{fmt}}{value:>16{fmt}}")
    lines.append(f"(book: {theirs.num_epochs} epochs × 60,000 examples; here: "
                 f"{history.epochs_done} epoch(s) × {history.num_train:,} examples"
                 f"{', quick mode' if history.quick else ''})")
    return "\n".join(lines)


def _short(title: str) -> str:
    """A network's name for a crowded plot: "VGG-11", "BN-LeNet (scratch)"."""
    return (title.split(",")[0].replace("(from scratch)", "(scratch)")
            .replace("(nn.BatchNorm)", "(Gluon)"))


def plot_comparison(comparison: Comparison, figsize: tuple[float, float] = (13, 4.2)):
    """Three panels: test accuracy against multiply-adds (ours filled, the book's hollow),
    training examples/s (here and the book's V100), and parameters. Returns the axes."""
    import matplotlib.pyplot as plt

    rows = [r for r in comparison.rows if r.macs]
    fig, (ax_acc, ax_speed, ax_params) = plt.subplots(1, 3, figsize=figsize)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, r in enumerate(rows):
        color = colors[i % len(colors)]
        label = _short(r.title)  # on our point, or on the book's when there is no run
        if r.published is not None:
            ax_acc.scatter(r.macs, r.published.test_acc, facecolors="none", edgecolors=color,
                           marker="o", s=60, zorder=2, label=None if r.measured else label)
        if r.test_acc is not None:
            ax_acc.scatter(r.macs, r.test_acc, color=color, zorder=3, label=label,
                           marker="s" if r.history.quick else "o")
    ax_acc.set_xscale("log")
    ax_acc.set_xlabel("multiply-adds per example")
    ax_acc.set_ylabel("test accuracy")
    ax_acc.set_title("accuracy vs cost (● here, ○ book; ■ quick run)", fontsize=9)
    ax_acc.grid(True, alpha=0.3)
    ax_acc.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)

    names = [_short(r.title) for r in rows]
    ys = range(len(rows))
    nan = float("nan")  # a missing bar, which a log axis cannot draw at 0
    here = [r.examples_per_sec or nan for r in rows]
    theirs = [r.published.examples_per_sec if r.published else nan for r in rows]
    ax_speed.barh([y + 0.2 for y in ys], here, height=0.4, label="here")
    ax_speed.barh([y - 0.2 for y in ys], theirs, height=0.4, label=f"book ({book.DEVICE})",
                  color="lightgray")
    ax_speed.set_yticks(list(ys), names, fontsize=8)
    ax_speed.invert_yaxis()
    ax_speed.set_xscale("log")
    ax_speed.set_xlabel("training examples/s")
    devices = sorted({r.history.device for r in rows if r.history})
    ax_speed.set_title(f"speed (here: {', '.join(devices) or 'no runs'})", fontsize=9)
    ax_speed.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)

    ax_params.barh(list(ys), [r.params for r in rows], color="tab:green")
    ax_params.set_yticks(list(ys), names, fontsize=8)
    ax_params.invert_yaxis()
    ax_params.set_xscale("log")
    ax_params.set_xlabel("parameters")
    ax_params.set_title("size", fontsize=9)
    for ax in (ax_speed, ax_params):
        ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return ax_acc, ax_speed, ax_params
