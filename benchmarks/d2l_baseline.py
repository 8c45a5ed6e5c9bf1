"""d2l 1.0.3's own Fashion-MNIST pipeline and training loop, on arrays already in memory.

``d2l.FashionMNIST`` gets its data from ``gluon.data.vision.FashionMNIST``, which downloads the
files of gluon's mirror and refuses others (it checks their sha1 against its own archives, not the
published originals). Everything else of d2l's pipeline is kept as d2l has it:

- :class:`GluonFashionMNIST` *is* ``gluon.data.vision.FashionMNIST`` (its ``__getitem__`` and
  ``__len__``) with only ``_get_data`` replaced: it builds the same arrays gluon's builds after its
  download (images uint8 (N, 28, 28, 1) and labels int32, as MXNet NumPy arrays) from ours.
- :class:`D2LFashionMNIST` *is* ``d2l.FashionMNIST`` (its ``get_dataloader``: ``gluon.data.
  DataLoader(batch_size, shuffle=train, num_workers=4)``, 4 being ``d2l.DataModule``'s default)
  with the same per-sample ``transform_first(Compose([Resize(resize), ToTensor()]))``.
- :func:`fit_lenet` runs ``d2l.Trainer(max_epochs, num_gpus=1).fit(d2l.LeNet(lr), data)``: d2l's
  unhybridized ``nn.Sequential`` LeNet, its ``Classifier`` loss/accuracy, ``fit_epoch`` with a
  host read (``d2l.numpy``) of the loss every training batch and of loss and accuracy every
  validation batch. The one change: the progress board does not draw (``board.display = False``),
  so matplotlib's rendering is not counted against d2l.
"""

from __future__ import annotations

import tempfile
import time

import numpy as onp
from mxnet import gluon, np, npx
from mxnet.gluon.data.vision import transforms

#: What to do where d2l is not installed (it installs on Python 3.11 only).
D2L_MISSING = (
    "The benchmark compares d2lcnn with d2l 1.0.3, which is not installed here: d2l installs on "
    "Python 3.11 only (it pins numpy 1.23.5, scipy 1.10.1 and pandas 2.0.3, which have no wheels "
    "for 3.12), and d2lcnn installs it there. Run the benchmark in a Python 3.11 environment: "
    "make benchmark PYTHON=python3.11 VENV=.venv-3.11")

try:
    from d2l import mxnet as d2l
except ModuleNotFoundError as missing:
    if missing.name != "d2l":
        raise
    raise ModuleNotFoundError(D2L_MISSING, name="d2l") from None

__all__ = ["GluonFashionMNIST", "D2LFashionMNIST", "fit_lenet"]

npx.set_np()  # as every d2l MXNet notebook does first (d2l itself does not)


class GluonFashionMNIST(gluon.data.vision.FashionMNIST):
    """Gluon's Fashion-MNIST data set class, fed from in-memory arrays instead of its download.

    ``images``: uint8 (N, 28, 28); ``labels``: integers (N,). Items are what gluon's class yields:
    (uint8 image (28, 28, 1), int32 label), MXNet arrays, with ``transform`` applied if given.
    """

    def __init__(self, images: onp.ndarray, labels: onp.ndarray, transform=None) -> None:
        self._arrays = (images, labels)
        # gluon's __init__ makes sure ``root`` exists, then calls _get_data(); an existing folder
        # is given so that nothing is created.
        super().__init__(root=tempfile.gettempdir(), train=True, transform=transform)

    def _get_data(self) -> None:
        images, labels = self._arrays
        # Exactly gluon's arrays after its download (MNIST._get_data with numpy semantics on).
        self._label = np.array(labels.astype(onp.int32), dtype=onp.int32)
        self._data = np.array(images.reshape(len(images), 28, 28, 1), dtype=onp.uint8)
        del self._arrays


class D2LFashionMNIST(d2l.FashionMNIST):
    """``d2l.FashionMNIST`` whose two splits come from ``(images, labels)`` arrays; its own
    ``get_dataloader`` serves them (see the module docstring)."""

    def __init__(self, train, val, batch_size: int = 64, resize=(28, 28)) -> None:
        d2l.DataModule.__init__(self)  # root='../data', num_workers=4, as in d2l
        self.batch_size, self.resize = batch_size, resize
        trans = transforms.Compose([transforms.Resize(resize), transforms.ToTensor()])
        self.train = GluonFashionMNIST(*train).transform_first(trans)
        self.val = GluonFashionMNIST(*val).transform_first(trans)


def fit_lenet(train, val, batch_size: int = 128, lr: float = 0.1, max_epochs: int = 1) -> dict:
    """Train d2l's LeNet with d2l's Trainer as its LeNet section does; return the timing.

    d2l 1.0.3's LeNet section: ``d2l.Trainer(max_epochs=10, num_gpus=1)``,
    ``d2l.FashionMNIST(batch_size=128)``, ``LeNet(lr=0.1)``, ``trainer.fit(model, data)``.
    The time covers the whole ``fit`` (worker pools, training and validation), as a user waits
    for it. Returns seconds, training and validation examples, and d2l's last plotted values.
    """
    data = D2LFashionMNIST(train, val, batch_size=batch_size)
    model = d2l.LeNet(lr=lr)
    model.board.display = False  # no matplotlib drawing inside the timed loop
    trainer = d2l.Trainer(max_epochs=max_epochs, num_gpus=1)
    start = time.perf_counter()
    trainer.fit(model, data)
    npx.waitall()
    seconds = time.perf_counter() - start
    last = {label: points[-1].y for label, points in model.board.data.items() if points}
    return {
        "seconds": seconds,
        "num_train": len(data.train) * max_epochs,
        "num_val": len(data.val) * max_epochs,
        "num_workers": data.num_workers,
        "batch_size": batch_size,
        "lr": lr,
        "last_plotted": {k: float(v) for k, v in last.items()},
    }
