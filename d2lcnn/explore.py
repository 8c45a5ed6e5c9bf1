"""Interactive pictures for chapters 01–04: a sliding-window visualiser and a padding/stride explorer.

The logic (:func:`window_positions`, :func:`conv_geometry`, :func:`gluon_output_shape`) and the
drawings (:func:`draw_sliding_window`, :func:`draw_conv_geometry`) are plain functions: tests call
them headless and the notebooks call them for the static pictures that a saved notebook shows.
:func:`sliding_window_explorer` and :func:`conv_geometry_explorer` only wire ipywidgets sliders to
the drawings; in JupyterLab moving a slider redraws the picture.

Grid coordinates are those of the *padded* input: row 0 is the first padding row when padding > 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as onp
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from . import ops

__all__ = [
    "Window",
    "window_positions",
    "draw_sliding_window",
    "sliding_window_explorer",
    "ConvGeometry",
    "conv_geometry",
    "gluon_output_shape",
    "draw_conv_geometry",
    "conv_geometry_explorer",
]

# Colours shared by both pictures.
PADDING = "#d9d9d9"
WINDOW = "#fdae6b"  # the current window and the output cell it produces
KERNEL = "#9ecae1"
DONE = "#f7f7f7"
FIRST = "#3182bd"
LAST = "#e6550d"
READ = "#deebf7"
NEVER_READ = "#fcbba1"


# --- sliding window ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    """One position of a sliding window: the output cell it fills and the input cells it reads.

    ``rows`` and ``cols`` index the padded input (with dilation they are spaced ``dilation`` apart).
    """

    step: int
    out_row: int
    out_col: int
    rows: tuple[int, ...]
    cols: tuple[int, ...]


def window_positions(
    input_shape: ops.IntOrPair,
    window_shape: ops.IntOrPair,
    padding: ops.IntOrPair = 0,
    stride: ops.IntOrPair = 1,
    dilation: ops.IntOrPair = 1,
) -> list[Window]:
    """Every window position, in the order the output is filled (row by row, left to right).

    There are H_out · W_out of them (:func:`d2lcnn.ops.conv_output_shape`, which also raises the
    error when the window does not fit in the padded input).
    """
    (k_h, k_w), (s_h, s_w), (d_h, d_w) = (ops.as_pair(window_shape, "window shape"),
                                          ops.as_pair(stride, "stride"),
                                          ops.as_pair(dilation, "dilation"))
    o_h, o_w = ops.conv_output_shape(input_shape, (k_h, k_w), padding, (s_h, s_w), (d_h, d_w))
    return [
        Window(i * o_w + j, i, j,
               tuple(i * s_h + a * d_h for a in range(k_h)),
               tuple(j * s_w + b * d_w for b in range(k_w)))
        for i in range(o_h) for j in range(o_w)
    ]


def _to_numpy(x) -> onp.ndarray:
    return onp.asarray(x.asnumpy() if hasattr(x, "asnumpy") else x, dtype="float64")


def _fmt(value: float) -> str:
    if onp.isneginf(value):
        return "−∞"
    if abs(value - round(value)) < 1e-6:
        return str(int(round(value))).replace("-", "−")
    return f"{value:.3g}".replace("-", "−")


def _new_figure(**kwargs) -> Figure:
    """A figure made through pyplot (which sets up Jupyter's inline display of figures) but closed
    at once: a notebook shows it once, as the cell's value, and it never piles up in pyplot."""
    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def _draw_grid(ax, shape, colours=None, texts=None, text_colours=None, fontsize=10) -> None:
    """Cells of a (rows, cols) grid as squares, row 0 on top; colours/texts keyed by (r, c)."""
    rows, cols = shape
    colours, texts, text_colours = colours or {}, texts or {}, text_colours or {}
    for r in range(rows):
        for c in range(cols):
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colours.get((r, c), "white"),
                                   edgecolor="#7f7f7f", linewidth=0.8))
            if (r, c) in texts:
                ax.text(c + 0.5, r + 0.5, texts[(r, c)], ha="center", va="center",
                        fontsize=fontsize, color=text_colours.get((r, c), "black"))
    ax.set_xlim(-0.05, cols + 0.05)
    ax.set_ylim(rows + 0.05, -0.05)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _equation(mode: str, values: Sequence[float], weights: Sequence[float] | None, result: float,
              max_terms: int = 9) -> str:
    shown = [_fmt(v) for v in values]
    if mode == "corr":
        def factor(v: float) -> str:
            return f"({_fmt(v)})" if v < 0 else _fmt(v)

        terms = [f"{factor(x)}×{factor(w)}" for x, w in zip(values, weights, strict=True)]
        body = " + ".join(terms) if len(terms) <= max_terms else "Σ window × kernel"
        return f"{body} = {_fmt(result)}"
    name = "max" if mode == "max" else "mean"
    body = ", ".join(shown) if len(shown) <= max_terms else "window"
    return f"{name}({body}) = {_fmt(result)}"


def _sliding_setup(X, kernel, mode, pool_size, padding, stride):
    """Checked arguments of :func:`draw_sliding_window`, with defaults filled in, and the windows."""
    if mode not in ("corr", "max", "avg"):
        raise ValueError(f"mode must be 'corr', 'max' or 'avg', got {mode!r}")
    x = _to_numpy(X)
    if x.ndim != 2:
        raise ValueError(f"X must be a 2-D (H, W) array, got shape {x.shape}")
    if mode == "corr":
        if kernel is None:
            raise ValueError("mode='corr' needs a kernel (k_h, k_w)")
        k = _to_numpy(kernel)
        if k.ndim != 2:
            raise ValueError(f"kernel must be 2-D (k_h, k_w), got shape {k.shape}")
        window_shape, stride = k.shape, 1 if stride is None else stride
    else:
        if pool_size is None:
            raise ValueError(f"mode={mode!r} needs a pool_size")
        window_shape = ops.as_pair(pool_size, "pool_size")
        stride = window_shape if stride is None else stride
        k = None
    windows = window_positions(x.shape, window_shape, padding, stride)
    return x, k, window_shape, stride, windows


def draw_sliding_window(
    X,
    kernel=None,
    *,
    mode: str = "corr",
    pool_size: ops.IntOrPair | None = None,
    padding: ops.IntOrPair = 0,
    stride: ops.IntOrPair | None = None,
    steps: int | Sequence[int] = 0,
    columns: int = 1,
    cell: float = 0.42,
) -> Figure:
    """Draw a window sliding over ``X``: input, kernel (or pooling window) and output, step by step.

    ``X``: (H, W), an MXNet or NumPy array. ``mode="corr"`` slides ``kernel`` (k_h, k_w) as in
    :func:`d2lcnn.ops.corr2d`; ``"max"`` / ``"avg"`` slide a ``pool_size`` window as in
    :func:`d2lcnn.ops.pool2d` (``stride`` defaults to 1 for ``corr`` and to ``pool_size`` for
    pooling, as there). Three panels per entry of ``steps``: the window highlighted on
    the (padded, grey) input, the kernel, and the output filled up to that step with the current
    cell highlighted; the arithmetic of the step is written below. The steps are laid out in
    ``columns`` columns; ``cell``: inches per grid cell.
    Returns the figure, already closed in pyplot: a notebook shows it as the cell's value.
    """
    x, k, window_shape, stride, windows = _sliding_setup(X, kernel, mode, pool_size, padding,
                                                         stride)
    steps = [steps] if isinstance(steps, int) else list(steps)
    for step in steps:
        if not 0 <= step < len(windows):
            raise ValueError(f"step must be in 0..{len(windows) - 1} ({len(windows)} window "
                             f"positions), got {step}")

    from mxnet import np as mnp

    p = ops.as_pair(padding, "padding", 0)
    pad_value = float("-inf") if mode == "max" else 0.0
    padded = onp.pad(x, ((p[0], p[0]), (p[1], p[1])), constant_values=pad_value)
    if mode == "corr":
        out = ops.corr2d(mnp.array(x), mnp.array(k), padding, stride).asnumpy()
    else:
        out = ops.pool2d(mnp.array(x), window_shape, mode, padding, stride).asnumpy()

    widths = [padded.shape[1], window_shape[1], out.shape[1]]
    height = max(padded.shape[0], window_shape[0], out.shape[0])
    columns = max(1, min(columns, len(steps)))
    grid_rows = -(-len(steps) // columns)
    fig = _new_figure(figsize=(columns * cell * (sum(widths) + 6), grid_rows * cell * (height + 3.2)),
                 layout="constrained")
    rows = fig.subfigures(grid_rows, columns, squeeze=False).ravel()[: len(steps)]
    axes = [row.subplots(1, 3, gridspec_kw={"width_ratios": widths}) for row in rows]
    is_pad = {(r, c) for r in range(padded.shape[0]) for c in range(padded.shape[1])
              if not (p[0] <= r < p[0] + x.shape[0] and p[1] <= c < p[1] + x.shape[1])}
    for row, (ax_in, ax_k, ax_out), step in zip(rows, axes, steps, strict=True):
        win = windows[step]
        cells = [(r, c) for r in win.rows for c in win.cols]
        colours = {rc: PADDING for rc in is_pad} | {rc: WINDOW for rc in cells}
        texts = {(r, c): _fmt(padded[r, c]) for r in range(padded.shape[0])
                 for c in range(padded.shape[1])}
        _draw_grid(ax_in, padded.shape, colours, texts, {rc: "#737373" for rc in is_pad})
        ax_in.add_patch(Rectangle((win.cols[0], win.rows[0]), len(win.cols), len(win.rows),
                                  fill=False, edgecolor=LAST, linewidth=2.2))
        pad_text = str(p[0]) if p[0] == p[1] else f"{p[0]}×{p[1]}"
        ax_in.set_title(f"input {x.shape[0]}×{x.shape[1]}"
                        + (f", padding {pad_text}" if any(p) else ""), fontsize=9)
        if mode == "corr":
            _draw_grid(ax_k, k.shape, dict.fromkeys(onp.ndindex(k.shape), KERNEL),
                       {rc: _fmt(k[rc]) for rc in onp.ndindex(k.shape)})
            ax_k.set_title("kernel", fontsize=9)
        else:
            _draw_grid(ax_k, window_shape, dict.fromkeys(onp.ndindex(window_shape), KERNEL),
                       dict.fromkeys(onp.ndindex(window_shape), mode))
            ax_k.set_title(f"{window_shape[0]}×{window_shape[1]} {mode} pool", fontsize=9)
        done = {(w.out_row, w.out_col) for w in windows[: step + 1]}
        _draw_grid(ax_out, out.shape,
                   dict.fromkeys(done, DONE) | {(win.out_row, win.out_col): WINDOW},
                   {rc: _fmt(out[rc]) for rc in done})
        s = ops.as_pair(stride, "stride")
        stride_text = str(s[0]) if s[0] == s[1] else f"{s[0]}×{s[1]}"
        ax_out.set_title(f"output {out.shape[0]}×{out.shape[1]}"
                         + (f"\n(stride {stride_text})" if s != (1, 1) else ""), fontsize=9)
        values = [padded[rc] for rc in cells]
        weights = None if k is None else [k[rc] for rc in onp.ndindex(k.shape)]
        row.supxlabel(f"step {step}: output[{win.out_row}, {win.out_col}] = "
                      + _equation(mode, values, weights, out[win.out_row, win.out_col]),
                      fontsize=9)
    return fig


def _show(fig: Figure) -> None:
    from IPython.display import display

    display(fig)


def sliding_window_explorer(X, kernel=None, *, step: int = 0, **options):
    """A slider (and play button) over the steps of :func:`draw_sliding_window`.

    Same arguments as :func:`draw_sliding_window` (``steps`` is the slider); returns an ipywidgets
    ``VBox`` to display. The picture is redrawn at each slider move, in an ``Output`` widget.
    """
    import ipywidgets as widgets

    draw_sliding_window(X, kernel, steps=step, **options)  # fail here, early, on bad arguments
    last = len(_sliding_setup(X, kernel, options.get("mode", "corr"), options.get("pool_size"),
                              options.get("padding", 0), options.get("stride"))[-1]) - 1
    slider = widgets.IntSlider(value=step, min=0, max=last, description="step",
                               continuous_update=True)
    play = widgets.Play(value=step, min=0, max=last, interval=800, description="play")
    widgets.jslink((play, "value"), (slider, "value"))
    output = widgets.interactive_output(
        lambda step: _show(draw_sliding_window(X, kernel, steps=step, **options)), {"step": slider})
    return widgets.VBox([widgets.HBox([play, slider]), output])


# --- padding, stride and dilation explorer ----------------------------------------------------

@dataclass(frozen=True)
class ConvGeometry:
    """Where the windows of a k×k convolution land on a padded n×n input (one axis shown).

    ``output_size`` is None (and ``error`` says why) when the kernel does not fit.
    """

    input_size: int
    kernel_size: int
    padding: int
    stride: int
    dilation: int
    output_size: int | None
    error: str | None

    @property
    def effective_kernel(self) -> int:
        return ops.effective_kernel_size(self.kernel_size, self.dilation)

    @property
    def padded_size(self) -> int:
        return self.input_size + 2 * self.padding

    @property
    def window_starts(self) -> list[int]:
        """First padded index of each window."""
        return [i * self.stride for i in range(self.output_size or 0)]

    def taps(self, start: int) -> list[int]:
        """Padded indices read by the window starting at ``start`` (spaced by the dilation)."""
        return [start + a * self.dilation for a in range(self.kernel_size)]

    @property
    def read(self) -> set[int]:
        """Padded indices read by at least one window."""
        return {t for start in self.window_starts for t in self.taps(start)}

    @property
    def never_read(self) -> list[int]:
        """Indices of the *input* (not padding) that no window reads, e.g. cut off by the stride."""
        return [i for i in range(self.padding, self.padding + self.input_size) if i not in self.read]

    def formula(self) -> str:
        """The output-size formula with this geometry's numbers filled in."""
        n, p, s, k_eff = self.input_size, self.padding, self.stride, self.effective_kernel
        k_text = (f"{self.dilation}·({self.kernel_size} − 1) − 1" if self.dilation > 1
                  else str(self.kernel_size))
        text = f"⌊({n} + 2·{p} − {k_text}) / {s}⌋ + 1"
        if self.output_size is None:
            return f"{text}: kernel ({k_eff}) > padded input ({self.padded_size})"
        return f"{text} = {self.output_size}"


def conv_geometry(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> ConvGeometry:
    """The :class:`ConvGeometry` of input n, kernel k, padding p (per side), stride s, dilation d.

    Never raises for a kernel that does not fit (the explorer shows the message instead).
    """
    try:
        size, error = ops.conv_output_size(n, k, p, s, d), None
    except ValueError as exc:
        size, error = None, str(exc)
    return ConvGeometry(n, k, p, s, d, size, error)


def gluon_output_shape(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> tuple[int, ...] | str:
    """Output shape of a real ``nn.Conv2D`` on a (1, 1, n, n) input, or Gluon's error message."""
    import mxnet as mx
    from mxnet.gluon import nn

    conv = nn.Conv2D(1, k, strides=s, padding=p, dilation=d, in_channels=1)
    conv.initialize()
    # Gluon layers take NumPy-interface arrays after npx.set_np(), legacy nd arrays otherwise
    zeros = mx.np.zeros if mx.util.is_np_array() else mx.nd.zeros
    try:
        return tuple(conv(zeros((1, 1, n, n))).shape)
    except mx.MXNetError as exc:
        # the first line of MXNet's message after "Check failed:" says what is wrong
        lines = [line for line in str(exc).splitlines() if "Check failed" in line]
        return "Gluon refuses: " + (lines[0].split("Check failed:")[-1].strip() if lines
                                    else str(exc).strip().splitlines()[0])


def draw_conv_geometry(n: int, k: int, p: int = 0, s: int = 1, d: int = 1,
                       size: float = 4.2) -> Figure:
    """Draw the padded n×n input with the first and last k×k windows and the output grid.

    Grey: padding; blue: taps of the first window; orange: taps of the last; light blue: read by
    some window; red: input pixels no window reads (the stride skipped them); a dot marks the first
    tap of every window, one per output value. The title compares the formula with the real Gluon
    output shape. ``size``: height of the figure in inches.
    """
    geo = conv_geometry(n, k, p, s, d)
    gluon = gluon_output_shape(n, k, p, s, d)
    o = geo.output_size or 0
    m = geo.padded_size
    cell = (size - 1.6) / max(m, 1)  # inches per cell: what titles and legend leave free
    fig = _new_figure(figsize=(max(6.0, cell * (m + max(o, 1) + 2) + 1.0), size),
                      layout="constrained")
    # output cells drawn as large as input cells: the output axes spans o + 2 cells across, m down
    ax_in, ax_out = fig.subplots(1, 2, gridspec_kw={"width_ratios": [m, max(o, 1) + 2]})
    pad = {i for i in range(m) if not p <= i < p + n}
    colours = {}
    for r in range(m):
        for c in range(m):
            if r in pad or c in pad:
                colours[(r, c)] = PADDING
            elif geo.output_size is not None and r in geo.read and c in geo.read:
                colours[(r, c)] = READ
            elif geo.output_size is not None:
                colours[(r, c)] = NEVER_READ
    if geo.output_size is not None:
        first, last = geo.window_starts[0], geo.window_starts[-1]
        for start, colour in [(last, LAST), (first, FIRST)]:
            for r in geo.taps(start):
                for c in geo.taps(start):
                    colours[(r, c)] = colour
    _draw_grid(ax_in, (m, m), colours)
    if geo.output_size is not None:
        for start, colour in [(first, FIRST), (last, LAST)]:
            ax_in.add_patch(Rectangle((start, start), geo.effective_kernel, geo.effective_kernel,
                                      fill=False, edgecolor=colour, linewidth=2))
        anchors = [start + 0.5 for start in geo.window_starts]
        xs, ys = onp.meshgrid(anchors, anchors)
        ax_in.plot(xs.ravel(), ys.ravel(), "k.", markersize=max(2.0, 9 - m / 3))
    ax_in.set_title(f"padded input {m}×{m}", fontsize=9)
    if geo.output_size is not None:
        out_colours = {(0, 0): FIRST, (o - 1, o - 1): LAST} if o > 1 else {(0, 0): FIRST}
        _draw_grid(ax_out, (o, o), out_colours)
        top = (m - o) / 2
        ax_out.set_xlim(-1, o + 1)
        ax_out.set_ylim(o + top, -top)
        ax_out.set_title(f"output {o}×{o}", fontsize=9, y=1 - top / m)
    else:
        ax_out.axis("off")
    gluon_text = (f"Gluon nn.Conv2D output: {gluon}" if isinstance(gluon, tuple) else gluon)
    agree = isinstance(gluon, tuple) and gluon[2:] == (o, o)
    setting = (f"input {n}×{n}, padding {p}, kernel {k}×{k}"
               + (f" with dilation {d} (spans {geo.effective_kernel})" if d > 1 else "")
               + f", stride {s}")
    fig.suptitle(f"{setting}\noutput size {geo.formula()}\n{gluon_text}"
                 + ("  ✓ same" if agree else ""),
                 fontsize=10, color="black" if geo.output_size is not None else "#cb181d")
    handles = [Patch(facecolor=PADDING, edgecolor="#7f7f7f", label="padding"),
               Patch(facecolor=FIRST, label="first window"),
               Patch(facecolor=LAST, label="last window"),
               Patch(facecolor=READ, edgecolor="#7f7f7f", label="read by some window"),
               Patch(facecolor=NEVER_READ, edgecolor="#7f7f7f", label="input never read"),
               Line2D([], [], color="k", marker=".", linestyle="", label="window start (one per output)")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def conv_geometry_explorer(n: int = 8, k: int = 3, p: int = 1, s: int = 1, d: int = 1):
    """Sliders for n, k, p, s and d over :func:`draw_conv_geometry`; returns an ipywidgets VBox."""
    import ipywidgets as widgets

    def slider(value: int, low: int, high: int, label: str):
        return widgets.IntSlider(value=value, min=low, max=high, description=label,
                                 continuous_update=False,
                                 style={"description_width": "initial"})

    sliders = {"n": slider(n, 1, 16, "input n"), "k": slider(k, 1, 7, "kernel k"),
               "p": slider(p, 0, 4, "padding p"), "s": slider(s, 1, 4, "stride s"),
               "d": slider(d, 1, 3, "dilation d")}
    output = widgets.interactive_output(lambda **v: _show(draw_conv_geometry(**v)), sliders)
    controls = widgets.HBox([widgets.VBox(list(sliders.values())[:3]),
                             widgets.VBox(list(sliders.values())[3:])])
    return widgets.VBox([controls, output])
