"""Interactive pictures for chapters 01–04: a sliding-window visualiser and a padding/stride explorer.

The logic (:func:`window_positions`, :func:`window_outputs`, :func:`conv_geometry`,
:func:`gluon_output_shape`) and the drawings (:func:`draw_sliding_window`,
:func:`draw_conv_geometry`) are plain functions on NumPy arrays: tests call them headless and the
notebooks call them for static pictures. :func:`sliding_window_explorer` and
:func:`conv_geometry_explorer` wire ipywidgets sliders to the drawings; in JupyterLab moving a slider
redraws the picture. Each explorer also carries a PNG of its starting picture: a notebook opened
without its kernel (or untrusted, as a freshly downloaded one is) shows that picture instead of the
widget, until the cell is run.

This module computes what it draws by itself, with NumPy: it does not use the chapters' lesson code
(tools are the lower layer), and the tests check that both agree.

Grid coordinates are those of the *padded* input: row 0 is the first padding row when padding > 0.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as onp
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .arrays import as_pair, to_numpy

__all__ = [
    "Window",
    "window_positions",
    "window_outputs",
    "draw_sliding_window",
    "sliding_window_explorer",
    "ConvGeometry",
    "conv_geometry",
    "gluon_output_shape",
    "draw_conv_geometry",
    "conv_geometry_explorer",
    "Explorer",
]

IntOrPair = int | Sequence[int]

# Colours shared by both pictures.
PADDING = "#d9d9d9"
WINDOW = "#fdae6b"  # the current window and the output cell it produces
KERNEL = "#9ecae1"
DONE = "#f7f7f7"
FIRST = "#3182bd"
LAST = "#e6550d"
READ = "#deebf7"
NEVER_READ = "#fcbba1"
PROBLEM = "#cb181d"  # titles and outlines of settings that give no output


# --- output size, along one axis ---------------------------------------------------------------

def _span(kernel_size: int, dilation: int) -> int:
    """Input pixels a kernel of ``kernel_size`` taps spaced ``dilation`` apart covers."""
    return dilation * (kernel_size - 1) + 1


def _does_not_fit(n: int, k: int, p: int, d: int) -> str | None:
    """Why no window of the kernel fits in the padded input, in the course's words; None if one does.

    Also says what would make it fit: a smaller kernel or dilation, or how much padding is needed.
    """
    span, padded = _span(k, d), n + 2 * p
    if span <= padded:
        return None
    dilated = f" (kernel {k} with dilation {d})" if d > 1 else ""
    return (f"kernel spans {span} pixels{dilated} but the padded input has only {padded} "
            f"({n} + 2·{p}): use a smaller kernel or dilation, or pad by at least "
            f"{-(-(span - n) // 2)} per side")


def _output_size(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    """⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1; ValueError, in the course's words, if nothing fits."""
    for name, value, minimum in [("input size", n, 1), ("kernel size", k, 1), ("padding", p, 0),
                                 ("stride", s, 1), ("dilation", d, 1)]:
        if not isinstance(value, int | onp.integer) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{name} must be an int ≥ {minimum}, got {value!r}")
    problem = _does_not_fit(n, k, p, d)
    if problem:
        raise ValueError(problem)
    return (n + 2 * p - _span(k, d)) // s + 1


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
    input_shape: IntOrPair,
    window_shape: IntOrPair,
    padding: IntOrPair = 0,
    stride: IntOrPair = 1,
    dilation: IntOrPair = 1,
) -> list[Window]:
    """Every window position, in the order the output is filled (row by row, left to right).

    There are H_out · W_out of them, H_out = ⌊(H + 2·padding − dilation·(k_h − 1) − 1) / stride⌋ + 1
    and likewise W_out. Raises ValueError, saying what to change, when the window does not fit in
    the padded input.
    """
    n = as_pair(input_shape, "input shape")
    k = as_pair(window_shape, "window shape")
    p, s, d = as_pair(padding, "padding", 0), as_pair(stride, "stride"), as_pair(dilation, "dilation")
    o_h, o_w = (_output_size(*axis) for axis in zip(n, k, p, s, d, strict=True))
    return [
        Window(i * o_w + j, i, j,
               tuple(i * s[0] + a * d[0] for a in range(k[0])),
               tuple(j * s[1] + b * d[1] for b in range(k[1])))
        for i in range(o_h) for j in range(o_w)
    ]


def _pad(x: onp.ndarray, padding: IntOrPair, value: float) -> onp.ndarray:
    p_h, p_w = as_pair(padding, "padding", 0)
    return onp.pad(x, ((p_h, p_h), (p_w, p_w)), constant_values=value)


def window_outputs(padded: onp.ndarray, windows: Sequence[Window], mode: str = "corr",
                   kernel: onp.ndarray | None = None) -> onp.ndarray:
    """The output (H_out, W_out) that the ``windows`` of :func:`window_positions` produce.

    ``padded``: the padded input (H + 2p_h, W + 2p_w), NumPy. ``mode``: ``"corr"`` sums the window
    times ``kernel`` (cross-correlation), ``"max"`` and ``"avg"`` take its maximum or mean (pad
    with −∞ for max pooling; for average pooling the padding zeros count in the mean, as Gluon's
    ``nn.AvgPool2D`` does by default).
    """
    o_h, o_w = windows[-1].out_row + 1, windows[-1].out_col + 1
    out = onp.empty((o_h, o_w))
    for win in windows:
        values = padded[onp.ix_(win.rows, win.cols)]
        if mode == "corr":
            out[win.out_row, win.out_col] = (values * kernel).sum()
        elif mode == "max":
            out[win.out_row, win.out_col] = values.max()
        else:
            out[win.out_row, win.out_col] = values.mean()
    return out


def _to_float(x) -> onp.ndarray:
    return onp.asarray(to_numpy(x), dtype="float64")


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


@dataclass(frozen=True)
class _Slide:
    """What :func:`draw_sliding_window` draws: the input, zero- (or, for max, −∞-) padded by
    ``padding``, the kernel (None for pooling), the window positions and the full output."""

    mode: str
    x: onp.ndarray
    padded: onp.ndarray
    kernel: onp.ndarray | None
    window_shape: tuple[int, int]
    padding: tuple[int, int]
    stride: tuple[int, int]
    windows: list
    out: onp.ndarray


def _sliding_setup(X, kernel, mode, pool_size, padding, stride) -> _Slide:
    """Checked arguments of :func:`draw_sliding_window`, with defaults filled in, and the windows."""
    if mode not in ("corr", "max", "avg"):
        raise ValueError(f"mode must be 'corr', 'max' or 'avg', got {mode!r}")
    x = _to_float(X)
    if x.ndim != 2:
        raise ValueError(f"X must be a 2-D (H, W) array, got shape {x.shape}")
    if mode == "corr":
        if kernel is None:
            raise ValueError("mode='corr' needs a kernel (k_h, k_w)")
        k = _to_float(kernel)
        if k.ndim != 2:
            raise ValueError(f"kernel must be 2-D (k_h, k_w), got shape {k.shape}")
        window_shape, stride = k.shape, 1 if stride is None else stride
    else:
        if pool_size is None:
            raise ValueError(f"mode={mode!r} needs a pool_size")
        window_shape = as_pair(pool_size, "pool_size")
        stride = window_shape if stride is None else stride
        k = None
    windows = window_positions(x.shape, window_shape, padding, stride)
    p = as_pair(padding, "padding", 0)
    padded = _pad(x, p, float("-inf") if mode == "max" else 0.0)
    return _Slide(mode, x, padded, k, tuple(window_shape), p, as_pair(stride, "stride"), windows,
                  window_outputs(padded, windows, mode, k))


def _pair_text(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def _draw_step(panel, axes, slide: _Slide, step: int) -> None:
    """One step of a sliding window on three axes (input, kernel, output) of a subfigure."""
    ax_in, ax_k, ax_out = axes
    x, padded, p, k, mode = slide.x, slide.padded, slide.padding, slide.kernel, slide.mode
    win = slide.windows[step]
    cells = [(r, c) for r in win.rows for c in win.cols]
    is_pad = {(r, c) for r, c in onp.ndindex(padded.shape)
              if not (p[0] <= r < p[0] + x.shape[0] and p[1] <= c < p[1] + x.shape[1])}
    colours = dict.fromkeys(is_pad, PADDING) | dict.fromkeys(cells, WINDOW)
    texts = {rc: _fmt(padded[rc]) for rc in onp.ndindex(padded.shape)}
    _draw_grid(ax_in, padded.shape, colours, texts, dict.fromkeys(is_pad, "#737373"))
    ax_in.add_patch(Rectangle((win.cols[0], win.rows[0]), len(win.cols), len(win.rows),
                              fill=False, edgecolor=LAST, linewidth=2.2))
    ax_in.set_title(f"input {x.shape[0]}×{x.shape[1]}"
                    + (f", padding {_pair_text(p)}" if any(p) else ""), fontsize=9)
    window = list(onp.ndindex(slide.window_shape))
    if mode == "corr":
        _draw_grid(ax_k, k.shape, dict.fromkeys(window, KERNEL), {rc: _fmt(k[rc]) for rc in window})
        ax_k.set_title("kernel", fontsize=9)
    else:
        _draw_grid(ax_k, slide.window_shape, dict.fromkeys(window, KERNEL),
                   dict.fromkeys(window, mode))
        ax_k.set_title(f"{slide.window_shape[0]}×{slide.window_shape[1]} {mode} pool", fontsize=9)
    out, here = slide.out, (win.out_row, win.out_col)
    done = {(w.out_row, w.out_col) for w in slide.windows[: step + 1]}
    _draw_grid(ax_out, out.shape, dict.fromkeys(done, DONE) | {here: WINDOW},
               {rc: _fmt(out[rc]) for rc in done})
    ax_out.set_title(f"output {out.shape[0]}×{out.shape[1]}"
                     + (f"\n(stride {_pair_text(slide.stride)})" if slide.stride != (1, 1) else ""),
                     fontsize=9)
    weights = None if k is None else [k[rc] for rc in window]
    panel.supxlabel(f"step {step}: output[{here[0]}, {here[1]}] = "
                    + _equation(mode, [padded[rc] for rc in cells], weights, out[here]),
                    fontsize=9)


def draw_sliding_window(
    X,
    kernel=None,
    *,
    mode: str = "corr",
    pool_size: IntOrPair | None = None,
    padding: IntOrPair = 0,
    stride: IntOrPair | None = None,
    steps: int | Sequence[int] = 0,
    columns: int = 1,
    cell: float = 0.42,
) -> Figure:
    """Draw a window sliding over ``X``: input, kernel (or pooling window) and output, step by step.

    ``X``: (H, W), an MXNet or NumPy array. ``mode="corr"`` slides ``kernel`` (k_h, k_w)
    (cross-correlation); ``"max"`` / ``"avg"`` slide a ``pool_size`` window (max or average
    pooling); ``stride`` defaults to 1 for ``corr`` and to ``pool_size`` for pooling, as in Gluon.
    Three panels per entry of ``steps``: the window highlighted on the (padded, grey) input, the
    kernel, and the output filled up to that step with the current cell highlighted; the
    arithmetic of the step is written below. The steps are laid out in ``columns`` columns;
    ``cell``: inches per grid cell.
    Returns the figure, already closed in pyplot: a notebook shows it as the cell's value.
    """
    slide = _sliding_setup(X, kernel, mode, pool_size, padding, stride)
    steps = [steps] if isinstance(steps, int) else list(steps)
    for step in steps:
        if not 0 <= step < len(slide.windows):
            raise ValueError(f"step must be in 0..{len(slide.windows) - 1} ({len(slide.windows)} "
                             f"window positions), got {step}")
    widths = [slide.padded.shape[1], slide.window_shape[1], slide.out.shape[1]]
    height = max(slide.padded.shape[0], slide.window_shape[0], slide.out.shape[0])
    columns = max(1, min(columns, len(steps)))
    grid_rows = -(-len(steps) // columns)
    fig = _new_figure(figsize=(columns * cell * (sum(widths) + 6),
                               grid_rows * cell * (height + 3.2)),
                      layout="constrained")
    panels = fig.subfigures(grid_rows, columns, squeeze=False).ravel()[: len(steps)]
    for panel, step in zip(panels, steps, strict=True):
        _draw_step(panel, panel.subplots(1, 3, gridspec_kw={"width_ratios": widths}), slide, step)
    return fig


# --- explorers: a widget, and its picture for a notebook that is not running -----------------

def _png(fig: Figure) -> str:
    """The figure as a base64 PNG, as Jupyter stores images in a notebook."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=fig.dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class Explorer(widgets.VBox):
    """An explorer's widgets, which also know how to show themselves as a still picture.

    Displayed in a running notebook, it is the interactive widget. Its output also holds a PNG of
    the starting picture and a one-line text: a notebook opened without its kernel, or untrusted
    (JupyterLab then shows only "safe" outputs, and a widget is not one), shows the picture in
    place of the widget's text representation.
    """

    def __init__(self, children, first_picture: Figure, description: str, **kwargs) -> None:
        super().__init__(children, **kwargs)
        self.picture_png = _png(first_picture)
        self.description = description

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["image/png"] = self.picture_png
        bundle["text/plain"] = f"{self.description}: run this cell to explore it"
        return bundle


def _show(fig: Figure) -> None:
    from IPython.display import display

    display(fig)


def _announce(what: str) -> None:
    """One line above the explorer, on stdout, for a reader who sees only the picture."""
    print(f"{what} (run this cell if you only see a picture).")


def sliding_window_explorer(X, kernel=None, *, step: int = 0, **options) -> Explorer:
    """A slider (and play button) over the steps of :func:`draw_sliding_window`.

    Same arguments as :func:`draw_sliding_window` (``steps`` is the slider); returns an
    :class:`Explorer` to display. The picture is redrawn at each slider move, in an ``Output``
    widget; the starting picture is also the explorer's still image.
    """
    first = draw_sliding_window(X, kernel, steps=step, **options)  # bad arguments fail here
    last = len(_sliding_setup(X, kernel, options.get("mode", "corr"), options.get("pool_size"),
                              options.get("padding", 0), options.get("stride")).windows) - 1
    slider = widgets.IntSlider(value=step, min=0, max=last, description="step",
                               continuous_update=True)
    play = widgets.Play(value=step, min=0, max=last, interval=800, description="play")
    widgets.jslink((play, "value"), (slider, "value"))
    output = widgets.interactive_output(
        lambda step: _show(draw_sliding_window(X, kernel, steps=step, **options)), {"step": slider})
    _announce("Drag the slider or press play to move the window")
    return Explorer([widgets.HBox([play, slider]), output], first, "Sliding-window explorer")


# --- padding, stride and dilation explorer ----------------------------------------------------

@dataclass(frozen=True)
class ConvGeometry:
    """Where the windows of a k×k convolution land on a padded n×n input (one axis shown).

    ``output_size`` is None (and ``error`` says why, in the course's words) when the kernel does
    not fit.
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
        return _span(self.kernel_size, self.dilation)

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

    Never raises for a kernel that does not fit (the explorer shows the reason instead).
    """
    try:
        size, error = _output_size(n, k, p, s, d), None
    except ValueError as exc:
        size, error = None, str(exc)
    return ConvGeometry(n, k, p, s, d, size, error)


GLUON_REFUSES = "Gluon refuses it too: nn.Conv2D has no window to compute"


def gluon_output_shape(n: int, k: int, p: int = 0, s: int = 1, d: int = 1) -> tuple[int, ...] | str:
    """Output shape of a real ``nn.Conv2D`` on a (1, 1, n, n) input.

    Where Gluon raises an error instead, returns :data:`GLUON_REFUSES`: what to change is said by
    :func:`conv_geometry`, in the course's words (MXNet's own message names C++ variables).
    """
    import mxnet as mx
    from mxnet.gluon import nn

    conv = nn.Conv2D(1, k, strides=s, padding=p, dilation=d, in_channels=1)
    conv.initialize()
    # Gluon layers take NumPy-interface arrays after npx.set_np(), legacy nd arrays otherwise
    zeros = mx.np.zeros if mx.util.is_np_array() else mx.nd.zeros
    try:
        return tuple(conv(zeros((1, 1, n, n))).shape)
    except mx.MXNetError:
        return GLUON_REFUSES


def _geometry_title(geo: ConvGeometry, gluon: tuple[int, ...] | str) -> str:
    n, k, p, s, d = geo.input_size, geo.kernel_size, geo.padding, geo.stride, geo.dilation
    setting = (f"input {n}×{n}, padding {p}, kernel {k}×{k}"
               + (f" with dilation {d} (spans {geo.effective_kernel})" if d > 1 else "")
               + f", stride {s}")
    gluon_text = f"Gluon nn.Conv2D output: {gluon}" if isinstance(gluon, tuple) else gluon
    if geo.output_size is None:
        reason, _, fix = geo.error.partition(": ")
        return (f"{setting}\nno output: the {reason}\n{fix[:1].upper() + fix[1:]}.\n{gluon_text}")
    agree = isinstance(gluon, tuple) and gluon[2:] == (geo.output_size, geo.output_size)
    return f"{setting}\noutput size {geo.formula()}\n{gluon_text}" + ("  ✓ same" if agree else "")


def _input_colours(geo: ConvGeometry) -> dict[tuple[int, int], str]:
    """The colour of every cell of the padded input: padding, read, never read, and the taps of
    the first and last windows (the first drawn on top)."""
    m, p, n, fits = geo.padded_size, geo.padding, geo.input_size, geo.output_size is not None
    pad = {i for i in range(m) if not p <= i < p + n}
    colours = {}
    for r, c in onp.ndindex(m, m):
        if r in pad or c in pad:
            colours[(r, c)] = PADDING
        elif fits:
            colours[(r, c)] = READ if r in geo.read and c in geo.read else NEVER_READ
    if fits:
        for start, colour in [(geo.window_starts[-1], LAST), (geo.window_starts[0], FIRST)]:
            colours.update(dict.fromkeys(((r, c) for r in geo.taps(start)
                                          for c in geo.taps(start)), colour))
    return colours


def _draw_windows(ax_in, ax_out, geo: ConvGeometry) -> None:
    """The outlines of the first and last windows, a dot at every window's first tap, and the
    output grid drawn with input-sized cells, centred beside the input."""
    m, o = geo.padded_size, geo.output_size
    for start, colour in [(geo.window_starts[0], FIRST), (geo.window_starts[-1], LAST)]:
        ax_in.add_patch(Rectangle((start, start), geo.effective_kernel, geo.effective_kernel,
                                  fill=False, edgecolor=colour, linewidth=2))
    anchors = [start + 0.5 for start in geo.window_starts]
    xs, ys = onp.meshgrid(anchors, anchors)
    ax_in.plot(xs.ravel(), ys.ravel(), "k.", markersize=max(2.0, 9 - m / 3))
    ax_in.set_title(f"padded input {m}×{m}", fontsize=9)
    _draw_grid(ax_out, (o, o), {(0, 0): FIRST, (o - 1, o - 1): LAST} if o > 1 else {(0, 0): FIRST})
    top = (m - o) / 2
    ax_out.set_xlim(-1, o + 1)
    ax_out.set_ylim(o + top, -top)
    ax_out.set_title(f"output {o}×{o}", fontsize=9, y=1 - top / m)


def _draw_misfit(ax_in, ax_out, geo: ConvGeometry, drawn: int) -> None:
    """A kernel larger than the padded input: its span outlined in red, and no output."""
    m, span = geo.padded_size, geo.effective_kernel
    ax_in.add_patch(Rectangle((0, 0), span, span, fill=False, edgecolor=PROBLEM,
                              linewidth=2, linestyle="--"))
    ax_in.set_xlim(-0.05, drawn + 0.05)
    ax_in.set_ylim(drawn + 0.05, -0.05)
    ax_in.set_title(f"padded input {m}×{m}, kernel span {span}×{span}", fontsize=9)
    ax_out.axis("off")
    ax_out.text(0.5, 0.5, "no output", ha="center", va="center", fontsize=11,
                color=PROBLEM, transform=ax_out.transAxes)


def _geometry_legend(fits: bool) -> list:
    """Legend entries of :func:`draw_conv_geometry`: all colours, or those of a misfit."""
    padding = Patch(facecolor=PADDING, edgecolor="#7f7f7f", label="padding")
    if not fits:
        return [padding, Patch(facecolor="white", edgecolor=PROBLEM, linestyle="--",
                               label="what the kernel would cover")]
    return [padding, Patch(facecolor=FIRST, label="first window"),
            Patch(facecolor=LAST, label="last window"),
            Patch(facecolor=READ, edgecolor="#7f7f7f", label="read by some window"),
            Patch(facecolor=NEVER_READ, edgecolor="#7f7f7f", label="input never read"),
            Line2D([], [], color="k", marker=".", linestyle="",
                   label="window start (one per output)")]


def draw_conv_geometry(n: int, k: int, p: int = 0, s: int = 1, d: int = 1,
                       size: float = 4.2) -> Figure:
    """Draw the padded n×n input with the first and last k×k windows and the output grid.

    Grey: padding; blue: taps of the first window; orange: taps of the last; light blue: read by
    some window; red: input pixels no window reads (the stride skipped them); a dot marks the first
    tap of every window, one per output value. The title compares the formula with the real Gluon
    output shape. A kernel that does not fit is drawn as a red outline larger than the input, and
    the title says why there is no output and what would give one. ``size``: figure height, inches.
    """
    geo = conv_geometry(n, k, p, s, d)
    fits = geo.output_size is not None
    o, m = geo.output_size or 0, geo.padded_size
    drawn = max(m, geo.effective_kernel)  # a kernel that does not fit sticks out of the input
    cell = (size - 1.6) / max(drawn, 1)  # inches per cell: what titles and legend leave free
    width = max(6.0, cell * (drawn + max(o, 1) + 2) + 1.0)
    fig = _new_figure(figsize=(width, size + 0.3 * (not fits)), layout="constrained")
    # output cells drawn as large as input cells: the output axes spans o + 2 cells across, m down
    ax_in, ax_out = fig.subplots(1, 2, gridspec_kw={"width_ratios": [drawn, max(o, 1) + 2]})
    _draw_grid(ax_in, (m, m), _input_colours(geo))
    if fits:
        _draw_windows(ax_in, ax_out, geo)
    else:
        _draw_misfit(ax_in, ax_out, geo, drawn)
    fig.suptitle(_geometry_title(geo, gluon_output_shape(n, k, p, s, d)), fontsize=10,
                 color="black" if fits else PROBLEM)
    fig.legend(handles=_geometry_legend(fits), loc="outside lower center", ncol=3, fontsize=8,
               frameon=False)
    return fig


def conv_geometry_explorer(n: int = 8, k: int = 3, p: int = 1, s: int = 1, d: int = 1) -> Explorer:
    """Sliders for n, k, p, s and d over :func:`draw_conv_geometry`; returns an :class:`Explorer`."""
    first = draw_conv_geometry(n, k, p, s, d)

    def slider(value: int, low: int, high: int, label: str) -> widgets.IntSlider:
        return widgets.IntSlider(value=value, min=low, max=high, description=label,
                                 continuous_update=False,
                                 style={"description_width": "initial"})

    sliders = {"n": slider(n, 1, 16, "input n"), "k": slider(k, 1, 7, "kernel k"),
               "p": slider(p, 0, 4, "padding p"), "s": slider(s, 1, 4, "stride s"),
               "d": slider(d, 1, 3, "dilation d")}
    def draw(**values: int) -> None:
        _show(draw_conv_geometry(**values))

    output = widgets.interactive_output(draw, sliders)
    controls = widgets.HBox([widgets.VBox(list(sliders.values())[:3]),
                             widgets.VBox(list(sliders.values())[3:])])
    _announce("Drag the sliders to explore")
    return Explorer([controls, output], first, "Padding, stride and dilation explorer")
