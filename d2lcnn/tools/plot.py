"""Pictures: image grids, live training curves, and what a trained network sees (first-layer
filters, feature maps).

d2l 1.0.3's MXNet ``show_images`` raises NotImplementedError; :func:`show_images` here works for
NumPy and MXNet arrays alike. The arrays for :func:`show_filters` and :func:`show_feature_maps`
come from :mod:`d2lcnn.tools.blocks`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as onp

from .arrays import to_numpy


def line(x, y, label: str | None = None, ax=None, **style):
    """Plot ``y`` against ``x`` as a line on ``ax`` (a new 5×3.2 figure when None); return the axes.
    ``style``: matplotlib's keywords (``marker="o"``, ``linestyle="--"`` …)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
        ax.grid(True, alpha=0.3)
    ax.plot(list(x), list(to_numpy(y)), label=label, **style)
    return ax


def show_images(
    imgs,
    num_rows: int,
    num_cols: int,
    titles: Sequence[str] | None = None,
    scale: float = 1.5,
    cmap: str = "gray",
):
    """Draw ``num_rows × num_cols`` images in a grid and return the axes (a flat array).

    ``imgs``: (N, H, W), (N, 1, H, W) or (N, H, W, 3) — NumPy or MXNet; a list of such images also
    works. Titles, if given, go above the images (one per image).
    """
    images = [to_numpy(img) for img in imgs][: num_rows * num_cols]
    figsize = (num_cols * scale, num_rows * scale * (1.25 if titles else 1.0))
    _, axes = plt.subplots(num_rows, num_cols, figsize=figsize, squeeze=False)
    axes = axes.flatten()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= len(images):
            continue
        img = images[i]
        if img.ndim == 3 and img.shape[0] == 1:
            img = img[0]
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None)
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    plt.tight_layout()
    return axes


def _grid(num_panels: int, num_cols: int, scale: float, title_space: float = 1.0):
    num_cols = max(1, min(num_cols, num_panels))
    num_rows = max(1, -(-num_panels // num_cols))
    fig, axes = plt.subplots(num_rows, num_cols, squeeze=False,
                             figsize=(num_cols * scale, num_rows * scale * title_space))
    axes = axes.flatten()
    for ax in axes:
        ax.axis("off")
    return fig, axes


def show_filters(
    weight,
    num_cols: int = 8,
    max_filters: int = 64,
    in_channel: int | str = "mean",
    scale: float = 1.0,
    cmap: str = "RdBu_r",
    title: str | None = None,
):
    """Draw convolution kernels (卷积核) as a grid of small images; return the axes (flat).

    ``weight``: (c_out, c_in, k_h, k_w), e.g. ``first_conv(net).weight.data()``, or
    (c_out, k_h, k_w). One panel per output channel (the first ``max_filters``). With several
    input channels, ``in_channel`` picks one (an index) or averages them (``"mean"``). Every panel
    shares one colour scale centred at zero (red positive, blue negative, white 0), so strong and
    weak filters can be told apart and a filter's sign reads the same everywhere.
    """
    w = to_numpy(weight).astype("float64")
    if w.ndim == 3:
        w = w[:, None]
    if w.ndim != 4:
        raise ValueError(f"weight must be (c_out, c_in, k_h, k_w) or (c_out, k_h, k_w), got {w.shape}")
    if in_channel == "mean":
        kernels = w.mean(axis=1)
    elif isinstance(in_channel, int) and 0 <= in_channel < w.shape[1]:
        kernels = w[:, in_channel]
    else:
        raise ValueError(f"in_channel must be 'mean' or an index below {w.shape[1]}, got {in_channel!r}")
    kernels = kernels[:max_filters]
    limit = float(onp.abs(kernels).max()) or 1.0
    fig, axes = _grid(len(kernels), num_cols, scale)
    for i, kernel in enumerate(kernels):
        image = axes[i].imshow(kernel, cmap=cmap, vmin=-limit, vmax=limit)
    fig.colorbar(image, ax=axes.tolist(), shrink=0.8, fraction=0.03)
    if title:
        fig.suptitle(title, fontsize=10)
    return axes


def show_feature_maps(
    maps,
    image=None,
    num_cols: int = 8,
    max_maps: int = 32,
    scale: float = 1.2,
    cmap: str = "viridis",
    title: str | None = None,
    channels: Sequence[int] | None = None,
):
    """Draw the channels of one example's feature maps (特征图) side by side; return the axes.

    ``maps``: (C, H, W) or a batch of one (1, C, H, W), e.g. from
    :func:`d2lcnn.features.feature_maps`. ``channels``: the indices to draw (default: the first
    ``max_maps``); each is drawn with its own colour scale (bright = strong response) and titled
    by its index. ``image``: the input (H, W), (1, H, W) or (1, 1, H, W), drawn first in grey for
    reference.
    """
    m = to_numpy(maps)
    if m.ndim == 4:
        if m.shape[0] != 1:
            raise ValueError(f"pass the feature maps of one example, got a batch of {m.shape[0]}")
        m = m[0]
    if m.ndim != 3:
        raise ValueError(f"maps must be (C, H, W) or (1, C, H, W), got {m.shape}")
    if channels is None:
        channels = range(min(max_maps, len(m)))
    channels = list(channels)
    bad = [c for c in channels if not 0 <= c < len(m)]
    if bad:
        raise ValueError(f"channels {bad} do not exist: the maps have {len(m)} channels")
    panels = len(channels) + (image is not None)
    _, axes = _grid(panels, num_cols, scale, title_space=1.2)
    start = 0
    if image is not None:
        img = to_numpy(image)
        img = img.reshape(img.shape[-2:])
        axes[0].imshow(img, cmap="gray")
        axes[0].set_title("input", fontsize=8)
        start = 1
    for i, c in enumerate(channels):
        axes[start + i].imshow(m[c], cmap=cmap)
        axes[start + i].set_title(f"ch {c}", fontsize=8)
    fig = axes[0].figure
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return axes


def show_confusion_matrix(matrix, classes: Sequence[str], title: str | None = None,
                          scale: float = 0.55):
    """Draw a confusion matrix: row i, column j counts the examples of class i predicted as j.

    ``matrix``: (k, k) counts; ``classes``: the k names. The diagonal (correct) is drawn in one
    colour scale, the mistakes in another, so that the few large confusions stand out; every cell
    shows its count. Returns the axes.
    """
    m = to_numpy(matrix).astype(int)
    k = len(classes)
    if m.shape != (k, k):
        raise ValueError(f"matrix must be {k}×{k} for {k} classes, got {m.shape}")
    fig, ax = plt.subplots(figsize=(k * scale + 2.2, k * scale + 1.2))
    mistakes = onp.ma.masked_where(onp.eye(k, dtype=bool), m)
    correct = onp.ma.masked_where(~onp.eye(k, dtype=bool), m)
    ax.imshow(correct, cmap="Greens", vmin=0)
    image = ax.imshow(mistakes, cmap="Reds", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.7, label="mistakes")
    for i in range(k):
        for j in range(k):
            dark = m[i, j] > (m.diagonal().max() if i == j else max(1, mistakes.max())) * 0.6
            ax.text(j, i, f"{m[i, j]}", ha="center", va="center", fontsize=7,
                    color="white" if dark else "black")
    ax.set_xticks(range(k), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return ax


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where figures can be shown and updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class TrainingPlot:
    """Curves of train loss, train accuracy and test accuracy against epochs, redrawn as training
    goes.

    In Jupyter one figure is displayed and updated in place at every :meth:`add` (the output cell
    keeps the last picture). Elsewhere it draws nothing; the training loop prints a line per epoch
    either way. The y-axis reaches the highest loss drawn (at least 1, where the accuracies end);
    every point has a marker, so a run of one epoch shows too; the legend sits below the axes.
    """

    series = ("train loss", "train acc", "test acc")
    styles = ("o-", "s--", "^-.")
    colors = ("tab:blue", "tab:purple", "tab:green")

    def __init__(self, num_epochs: int, title: str = "", live: bool | None = None) -> None:
        self.num_epochs = num_epochs
        self.title = title
        self.points: dict[str, tuple[list[float], list[float]]] = {s: ([], []) for s in self.series}
        self.live = in_notebook() if live is None else live
        self._handle = None
        if self.live:
            self.fig, self.ax = plt.subplots(figsize=(5.2, 3.6))
            plt.close(self.fig)  # shown through the display handle only, not again at cell end

    def add(self, epoch: float, **values: float) -> None:
        """Add points at ``epoch`` (fractional within an epoch), e.g. ``train_loss=0.5``."""
        for key, value in values.items():
            xs, ys = self.points[key.replace("_", " ")]
            xs.append(epoch)
            ys.append(value)
        if self.live:
            self._draw()

    def upper_limit(self) -> float:
        """Top of the y-axis: the highest value drawn, at least 1."""
        return max([1.0] + [y for _, ys in self.points.values() for y in ys]) * 1.05

    def _draw(self) -> None:
        from IPython.display import display

        ax = self.ax
        ax.cla()
        for name, style, color in zip(self.series, self.styles, self.colors, strict=True):
            xs, ys = self.points[name]
            if xs:
                ax.plot(xs, ys, style, color=color, label=name, markersize=3.5, linewidth=1.3)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss / accuracy")
        ax.set_xlim(0, max(self.num_epochs, 1) + 0.1)
        ax.set_ylim(0, self.upper_limit())
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=8,
                  frameon=False)
        if self.title:
            ax.set_title(self.title, fontsize=9)
        with warnings.catch_warnings():  # redrawing re-runs the layout, which matplotlib reports
            warnings.simplefilter("ignore", UserWarning)
            self.fig.tight_layout()
        if self._handle is None:
            self._handle = display(self.fig, display_id=True)
        else:
            self._handle.update(self.fig)
