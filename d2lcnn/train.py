"""Training a classifier as in d2l's chapter 6 (``train_ch6``), without idle time.

Semantics follow the book: Xavier initialisation on the device, minibatch SGD, softmax
cross-entropy, HybridBlocks hybridized. What differs is the bookkeeping: loss and accuracy are
summed *on the device* and read back once per epoch (and at the few plotting points in Jupyter),
so the host never waits for the device inside the batch loop, except to stay at most two batches
ahead of it (which bounds the memory that queued batches can hold).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

import mxnet as mx
from mxnet import autograd, gluon, init, np, npx

from . import config
from .device import describe, try_gpu
from .plot import TrainingPlot

#: Batches the host may run ahead of the device before it waits.
MAX_BATCHES_AHEAD = 2
#: Points per epoch on the live plot (each costs one read of the running sums).
PLOT_POINTS_PER_EPOCH = 5


@dataclass
class History:
    """What a training run did and reached, one entry per epoch in the lists.

    ``train_loss`` and ``train_acc`` are means over the epoch's training batches (as d2l reports
    them); ``test_acc`` is measured after the epoch; ``examples_per_sec`` counts training steps only
    (data, forward, backward, update), not evaluation.
    """

    network: str
    device: str
    num_epochs: int
    batch_size: int
    lr: float
    quick: bool
    num_train: int
    num_test: int
    input_shape: tuple[int, ...]
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    examples_per_sec: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def epochs_done(self) -> int:
        return len(self.train_loss)

    @property
    def examples_seen(self) -> int:
        return self.epochs_done * self.num_train

    @property
    def overall_examples_per_sec(self) -> float:
        return self.examples_seen / self.train_seconds if self.train_seconds else 0.0

    def summary(self) -> str:
        """The closing report: device, epochs, examples seen, final loss/accuracies, speed."""
        mode = " (quick mode)" if self.quick else ""
        return (
            f"{self.network} on {self.device}{mode}: {self.epochs_done} epoch(s), "
            f"{self.examples_seen:,} examples seen (batch {self.batch_size}, lr {self.lr:g}, "
            f"input {'×'.join(map(str, self.input_shape))})\n"
            f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.3f}, "
            f"test acc {self.test_acc[-1]:.3f} ({self.num_test:,} test examples)\n"
            f"{self.overall_examples_per_sec:,.0f} examples/s on {self.device} (training steps), "
            f"{self.total_seconds:.1f} s in all"
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["examples_seen"] = self.examples_seen
        d["overall_examples_per_sec"] = self.overall_examples_per_sec
        return d

    def save(self, path: str | os.PathLike) -> Path:
        """Write the history as JSON, atomically (a temporary file renamed into place)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(self.to_dict(), f, indent=1)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        d = json.loads(Path(path).read_text())
        d.pop("examples_seen", None)
        d.pop("overall_examples_per_sec", None)
        d["input_shape"] = tuple(d["input_shape"])
        return cls(**d)


def _first_param_device(net: gluon.Block) -> mx.Context:
    for param in net.collect_params().values():
        return param.list_ctx()[0]
    raise ValueError("the network has no parameters; pass device= explicitly")


def num_correct(y_hat, y):
    """Number of rows of logits ``y_hat`` (batch, classes) whose arg-max equals label ``y``, as a
    float32 scalar array on the same device (no host synchronisation)."""
    return (y_hat.argmax(axis=1).astype(y.dtype) == y).astype("float32").sum()


def evaluate_accuracy(net: gluon.Block, data_iter, device: mx.Context | None = None) -> float:
    """Fraction of examples in ``data_iter`` whose arg-max prediction equals the label.

    Counts are summed on ``device`` (default: where the net's parameters live) and read once.
    """
    if device is None:
        device = _first_param_device(net)
    correct = np.zeros((), ctx=device)
    total = 0
    for X, y in data_iter:
        X, y = X.as_in_ctx(device), y.as_in_ctx(device)
        correct = correct + num_correct(net(X), y)
        total += y.shape[0]
    if total == 0:
        raise ValueError("the data iterator yielded no examples")
    return float(correct) / total


def _network_name(net: gluon.Block) -> str:
    return getattr(net, "display_name", None) or type(net).__name__


def train(
    net: gluon.Block,
    train_iter,
    test_iter,
    num_epochs: int,
    lr: float,
    device: mx.Context | None = None,
    *,
    initialize: bool = True,
    verbose: bool = True,
) -> History:
    """Train ``net`` with minibatch SGD on softmax cross-entropy; return a :class:`History`.

    ``train_iter`` / ``test_iter`` yield ``(X, y)`` batches (e.g. from
    :func:`d2lcnn.data.load_fashion_mnist`). ``device`` defaults to :func:`try_gpu`. With
    ``initialize`` (the default) parameters are (re)initialised with Xavier on ``device``, as in
    the book. In quick mode (``D2LCNN_QUICK=1``) only one epoch runs, and the output says so.
    Prints a progress line per epoch, draws live curves in Jupyter, and ends with a summary.
    """
    if device is None:
        device = try_gpu()
    quick = config.quick_mode()
    asked_epochs = num_epochs
    num_epochs = config.epochs(num_epochs)
    if initialize:
        net.initialize(init.Xavier(), ctx=device, force_reinit=True)
    if isinstance(net, gluon.HybridBlock):
        net.hybridize(static_alloc=True, static_shape=True)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})

    num_train = getattr(train_iter, "num_examples", None) or sum(y.shape[0] for _, y in train_iter)
    num_test = getattr(test_iter, "num_examples", None) or sum(y.shape[0] for _, y in test_iter)
    input_shape = getattr(train_iter, "image_shape", None) or next(iter(train_iter))[0].shape[1:]
    history = History(
        network=_network_name(net), device=describe(device), num_epochs=num_epochs,
        batch_size=getattr(train_iter, "batch_size", 0), lr=lr, quick=quick,
        num_train=num_train, num_test=num_test, input_shape=tuple(input_shape),
    )
    if verbose:
        note = f" (quick mode: {num_epochs} of {asked_epochs} epochs)" if quick else ""
        print(f"training {history.network} on {history.device} for {num_epochs} epoch(s){note}")
    plot = TrainingPlot(num_epochs, title=f"{history.network} on {history.device}") if verbose else None
    live = plot is not None and plot.live
    num_batches = len(train_iter) if hasattr(train_iter, "__len__") else None
    plot_every = max(1, num_batches // PLOT_POINTS_PER_EPOCH) if (live and num_batches) else None

    start = time.perf_counter()
    for epoch in range(num_epochs):
        epoch_start = time.perf_counter()
        loss_sum = np.zeros((), ctx=device)
        correct = np.zeros((), ctx=device)
        seen = 0
        pending: deque = deque()
        for i, (X, y) in enumerate(train_iter):
            X, y = X.as_in_ctx(device), y.as_in_ctx(device)
            with autograd.record():
                y_hat = net(X)
                loss = loss_fn(y_hat, y)
            loss.backward()
            trainer.step(X.shape[0])
            loss_sum = loss_sum + loss.sum()
            correct = correct + num_correct(y_hat, y)
            seen += y.shape[0]
            pending.append(loss_sum)
            if len(pending) > MAX_BATCHES_AHEAD:
                pending.popleft().wait_to_read()
            if plot_every and (i + 1) % plot_every == 0 and i + 1 < num_batches:
                plot.add(epoch + (i + 1) / num_batches,
                         train_loss=float(loss_sum) / seen, train_acc=float(correct) / seen)
        train_loss, train_acc = float(loss_sum) / seen, float(correct) / seen  # one sync per epoch
        epoch_seconds = time.perf_counter() - epoch_start
        history.train_seconds += epoch_seconds
        test_acc = evaluate_accuracy(net, test_iter, device)
        history.train_loss.append(train_loss)
        history.train_acc.append(train_acc)
        history.test_acc.append(test_acc)
        history.examples_per_sec.append(seen / epoch_seconds)
        if plot is not None:
            plot.add(epoch + 1, train_loss=train_loss, train_acc=train_acc, test_acc=test_acc)
        if verbose:
            print(f"epoch {epoch + 1}/{num_epochs}: loss {train_loss:.3f}, train acc "
                  f"{train_acc:.3f}, test acc {test_acc:.3f}, {seen / epoch_seconds:,.0f} examples/s",
                  flush=True)
    npx.waitall()
    history.total_seconds = time.perf_counter() - start
    if verbose:
        print(history.summary())
    return history


__all__ = ["History", "evaluate_accuracy", "num_correct", "train"]
