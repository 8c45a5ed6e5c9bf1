"""Pictures: image grids and live training curves.

d2l 1.0.3's MXNet ``show_images`` raises NotImplementedError; :func:`show_images` here works for
NumPy and MXNet arrays alike.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as onp


def to_numpy(x) -> onp.ndarray:
    """A NumPy copy of an MXNet (np or legacy nd) array; NumPy arrays pass through."""
    return x.asnumpy() if hasattr(x, "asnumpy") else onp.asarray(x)


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


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where figures can be shown and updated in place)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


class TrainingPlot:
    """Curves of train loss, train accuracy and test accuracy against epochs, updated in place.

    In Jupyter one figure is displayed and redrawn at every :meth:`add` (the output cell keeps a
    single, final picture). Elsewhere it draws nothing; the training loop prints a line per epoch
    either way.
    """

    series = ("train loss", "train acc", "test acc")
    styles = ("-", "m--", "g-.")

    def __init__(self, num_epochs: int, title: str = "") -> None:
        self.num_epochs = num_epochs
        self.points: dict[str, tuple[list[float], list[float]]] = {s: ([], []) for s in self.series}
        self.live = in_notebook()
        self._handle = None
        if self.live:
            self.fig, self.ax = plt.subplots(figsize=(4.5, 3.2))
            plt.close(self.fig)  # shown through the display handle only, not again at cell end
            self.title = title

    def add(self, epoch: float, **values: float) -> None:
        """Add points at ``epoch`` (fractional within an epoch), e.g. ``train_loss=0.5``."""
        for key, value in values.items():
            xs, ys = self.points[key.replace("_", " ")]
            xs.append(epoch)
            ys.append(value)
        if self.live:
            self._draw()

    def _draw(self) -> None:
        from IPython.display import display

        ax = self.ax
        ax.cla()
        for name, style in zip(self.series, self.styles, strict=True):
            xs, ys = self.points[name]
            if xs:
                ax.plot(xs, ys, style, label=name)
        ax.set_xlabel("epoch")
        ax.set_xlim(0, max(self.num_epochs, 1))
        ax.set_ylim(0, max([1.0] + self.points["train loss"][1][-1:]))
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
        if self.title:
            ax.set_title(self.title, fontsize=10)
        with warnings.catch_warnings():  # redrawing re-runs the layout, which matplotlib reports
            warnings.simplefilter("ignore", UserWarning)
            self.fig.tight_layout()
        if self._handle is None:
            self._handle = display(self.fig, display_id=True)
        else:
            self._handle.update(self.fig)
