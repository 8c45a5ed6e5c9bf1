"""Training a classifier as in d2l's chapter 6 (``train_ch6``), without idle time.

Semantics follow the book: Xavier initialisation on the device, minibatch SGD, softmax
cross-entropy, HybridBlocks hybridized. What differs is the bookkeeping: loss and accuracy are
summed *on the device* and read back once per epoch (and at the few plotting points in Jupyter),
so the host never waits for the device inside the batch loop, except to stay at most two batches
ahead of it (which bounds the memory that queued batches can hold).

``train(..., devices=try_all_gpus())`` trains data-parallel on several devices: each batch is split
across them (``gluon.utils.split_and_load``), every device computes the gradient of its share, and
the trainer's kvstore sums them before one SGD step, so the result equals one device's run on the
same batches up to floating-point rounding. ``checkpoint_dir=`` saves the parameters, the trainer's
state and the history after every epoch, atomically; ``resume=True`` continues from the last
complete epoch.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Sequence
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
        text = json.dumps(self.to_dict(), indent=1)
        _write_atomically(path, lambda tmp: Path(tmp).write_text(text))
        return path

    @classmethod
    def from_dict(cls, d: dict) -> History:
        """The inverse of :meth:`to_dict`."""
        d = dict(d)
        d.pop("examples_seen", None)
        d.pop("overall_examples_per_sec", None)
        d["input_shape"] = tuple(d["input_shape"])
        return cls(**d)

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _write_atomically(path: Path, write) -> None:
    """Call ``write(temporary_path)``, flush the file to disk, then rename it to ``path``: readers
    (and a resumed run after a crash) see either the old file or the complete new one."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Checkpoints:
    """A folder holding the last complete epoch of a training run.

    After each epoch :meth:`save` writes ``epoch-NNNN.params`` (``net.save_parameters``) and
    ``epoch-NNNN.states`` (``trainer.save_states``), each atomically, and then, last, the manifest
    ``checkpoint.json`` naming them together with the :class:`History` so far; files of earlier
    epochs are removed after that. A run stopped at any moment therefore leaves a manifest that
    names a complete epoch, and loses at most the epoch it was in.

    If the training iterator has ``state_dict()`` / ``load_state_dict(state)`` (for instance the
    state of its shuffling generator, JSON-serialisable), it is saved and restored too, so that a
    resumed run sees the same batches as an uninterrupted one.
    """

    MANIFEST = "checkpoint.json"
    FORMAT = 1

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"Checkpoints({str(self.folder)!r})"

    def latest(self) -> dict | None:
        """The manifest of the last complete epoch, or None when there is none."""
        path = self.folder / self.MANIFEST
        if not path.exists():
            return None
        manifest = json.loads(path.read_text())
        if manifest.get("format") != self.FORMAT:
            raise ValueError(f"{path} has checkpoint format {manifest.get('format')!r}, this "
                             f"d2lcnn reads format {self.FORMAT}: train afresh into a new folder")
        return manifest

    def save(self, epoch: int, net: gluon.Block, trainer: gluon.Trainer, history: History,
             train_iter=None) -> Path:
        """Save the state after ``epoch`` complete epochs; returns the manifest's path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        params, states = f"epoch-{epoch:04d}.params", f"epoch-{epoch:04d}.states"
        _write_atomically(self.folder / params, net.save_parameters)
        _write_atomically(self.folder / states, trainer.save_states)
        manifest = {"format": self.FORMAT, "epoch": epoch, "params": params,
                    "trainer_states": states, "history": history.to_dict()}
        if hasattr(train_iter, "state_dict"):
            manifest["train_iter_state"] = train_iter.state_dict()

        def write_manifest(tmp: str) -> None:
            Path(tmp).write_text(json.dumps(manifest, indent=1))

        path = self.folder / self.MANIFEST
        _write_atomically(path, write_manifest)
        for old in self.folder.glob("epoch-*"):
            if old.name not in (params, states):
                old.unlink(missing_ok=True)
        for leftover in self.folder.glob(".*.tmp-*"):  # from a run killed while writing
            leftover.unlink(missing_ok=True)
        return path

    def restore(self, manifest: dict, net: gluon.Block, trainer: gluon.Trainer,
                devices: Sequence[mx.Context], train_iter=None) -> History:
        """Load what ``manifest`` names into ``net`` (on ``devices``), ``trainer`` and
        ``train_iter``; return the saved :class:`History`."""
        try:
            net.load_parameters(str(self.folder / manifest["params"]), ctx=list(devices))
        except (mx.base.MXNetError, AssertionError, AttributeError) as err:
            raise ValueError(
                f"the checkpoint in {self.folder} does not fit this network ({err}); resume "
                "with the network it was written for, or pass resume=False to train afresh"
            ) from err
        trainer.load_states(str(self.folder / manifest["trainer_states"]))
        if "train_iter_state" in manifest and hasattr(train_iter, "load_state_dict"):
            train_iter.load_state_dict(manifest["train_iter_state"])
        return History.from_dict(manifest["history"])


def _first_param_device(net: gluon.Block) -> mx.Context:
    for param in net.collect_params().values():
        return param.list_ctx()[0]
    raise ValueError("the network has no parameters; pass device= explicitly")


def num_correct(y_hat, y):
    """Number of rows of logits ``y_hat`` (batch, classes) whose arg-max equals label ``y``, as a
    float32 scalar array on the same device (no host synchronisation). Works on arrays and, inside
    a hybridized block, on symbols (labels are compared as int32, whatever their dtype)."""
    return (y_hat.argmax(axis=1).astype("int32") == y.astype("int32")).astype("float32").sum()


def evaluate_accuracy(
    net: gluon.Block,
    data_iter,
    device: mx.Context | None = None,
    *,
    devices: Sequence[mx.Context] | None = None,
) -> float:
    """Fraction of examples in ``data_iter`` whose arg-max prediction equals the label.

    Runs on ``device`` (default: where the net's parameters live) or, split batch by batch, on
    ``devices``; counts are summed on each device and read once at the end.
    """
    if devices is None:
        devices = [device if device is not None else _first_param_device(net)]
    correct = [np.zeros((), ctx=d) for d in devices]
    total = 0
    for X, y in data_iter:
        for k, (Xk, yk) in enumerate(_shards(X, y, devices)):
            correct[k] = correct[k] + num_correct(net(Xk), yk)
        total += y.shape[0]
    if total == 0:
        raise ValueError("the data iterator yielded no examples")
    return sum(float(c) for c in correct) / total


def _shards(X, y, devices: Sequence[mx.Context]) -> list[tuple]:
    """The batch ``(X, y)`` cut along the batch axis into one part per device and copied there
    (copies are queued, not waited for). A batch smaller than the number of devices gives fewer
    parts than devices."""
    if len(devices) == 1:
        return [(X.as_in_ctx(devices[0]), y.as_in_ctx(devices[0]))]
    used = list(devices[: min(len(devices), y.shape[0])])
    Xs = gluon.utils.split_and_load(X, used, even_split=False)
    ys = gluon.utils.split_and_load(y, used, even_split=False)
    return list(zip(Xs, ys, strict=True))


def _resolve_devices(device, devices) -> list[mx.Context]:
    if devices is None:
        return [device if device is not None else try_gpu()]
    if device is not None:
        raise ValueError("pass device= for one device or devices= for several, not both")
    devices = list(devices)
    if not devices:
        raise ValueError("devices= is empty: pass at least one context, e.g. devices=try_all_gpus()")
    if len(set(devices)) != len(devices):
        raise ValueError(f"devices= lists a device twice: {describe(devices)}")
    return devices


def _place_parameters(net: gluon.Block, devices: list[mx.Context]) -> None:
    """Give every parameter a copy on each device (for a net initialised elsewhere)."""
    for param in net.collect_params().values():
        if set(param.list_ctx()) != set(devices):
            param.reset_ctx(devices)


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
    devices: Sequence[mx.Context] | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = False,
    kvstore: str | None = None,
    initialize: bool = True,
    verbose: bool = True,
) -> History:
    """Train ``net`` with minibatch SGD on softmax cross-entropy; return a :class:`History`.

    ``train_iter`` / ``test_iter`` yield ``(X, y)`` batches (e.g. from
    :func:`d2lcnn.data.load_fashion_mnist`). ``device`` defaults to :func:`try_gpu`. With
    ``initialize`` (the default) parameters are (re)initialised with Xavier on the device(s), as in
    the book. In quick mode (``D2LCNN_QUICK=1``) only one epoch runs, and the output says so.
    Prints a progress line per epoch, draws live curves in Jupyter, and ends with a summary.

    ``devices``: several contexts (e.g. ``try_all_gpus()``) instead of ``device``, for
    data-parallel training: each batch is split evenly across them and the gradients are summed
    by a kvstore of type ``kvstore`` before each update: "device" (sums on the GPUs, the default
    when all devices are GPUs) or "local" (sums on the CPU, the default otherwise). Same seed and
    batch size give the same parameters as on one device, up to rounding, except with dropout
    (each device draws its own masks) and batch normalization (each device normalizes its own
    share of the batch).

    ``checkpoint_dir``: after every epoch save the parameters, the trainer's state and the history
    there (see :class:`Checkpoints`). With ``resume=True`` training continues after the last
    complete epoch found there (or starts afresh when there is none); ``num_epochs`` is the total,
    so a finished run returns its history at once.
    """
    devices = _resolve_devices(device, devices)
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir=, the folder the run saved its epochs in")
    quick = config.quick_mode()
    asked_epochs = num_epochs
    num_epochs = config.epochs(num_epochs)
    if initialize:
        net.initialize(init.Xavier(), ctx=devices, force_reinit=True)
    else:
        _place_parameters(net, devices)
    if isinstance(net, gluon.HybridBlock):
        net.hybridize(static_alloc=True, static_shape=True)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    batch_metrics = BatchMetrics()
    batch_metrics.hybridize(static_alloc=True, static_shape=True)
    if kvstore is None:
        kvstore = "device" if all(d.device_type == "gpu" for d in devices) else "local"
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr}, kvstore=kvstore)

    num_train = getattr(train_iter, "num_examples", None) or sum(y.shape[0] for _, y in train_iter)
    num_test = getattr(test_iter, "num_examples", None) or sum(y.shape[0] for _, y in test_iter)
    input_shape = getattr(train_iter, "image_shape", None) or next(iter(train_iter))[0].shape[1:]
    history = History(
        network=_network_name(net), device=describe(devices), num_epochs=num_epochs,
        batch_size=getattr(train_iter, "batch_size", 0), lr=lr, quick=quick,
        num_train=num_train, num_test=num_test, input_shape=tuple(input_shape),
    )
    checkpoints = Checkpoints(checkpoint_dir) if checkpoint_dir is not None else None
    manifest = checkpoints.latest() if (checkpoints and resume) else None
    if manifest is not None:
        saved = manifest["history"]["network"]
        if saved != history.network:
            raise ValueError(f"the checkpoint in {checkpoints.folder} is of {saved}, not "
                             f"{history.network}: resume with {saved} or pass resume=False")
        saved_history = checkpoints.restore(manifest, net, trainer, devices, train_iter)
        trainer.set_learning_rate(lr)  # the lr passed now, not the saved optimizer's
        for name in ("train_loss", "train_acc", "test_acc", "examples_per_sec", "train_seconds",
                     "total_seconds"):
            setattr(history, name, getattr(saved_history, name))
    done = history.epochs_done
    if verbose:
        note = f" (quick mode: {num_epochs} of {asked_epochs} epochs)" if quick else ""
        if manifest is None:
            print(f"training {history.network} on {history.device} for {num_epochs} epoch(s){note}")
        else:
            print(f"resuming {history.network} on {history.device} after epoch {done} of "
                  f"{num_epochs}{note} (checkpoint in {checkpoints.folder})")
    plot = TrainingPlot(num_epochs, title=f"{history.network} on {history.device}") if verbose else None
    if plot is not None:
        for epoch in range(done):
            plot.add(epoch + 1, train_loss=history.train_loss[epoch],
                     train_acc=history.train_acc[epoch], test_acc=history.test_acc[epoch])
    live = plot is not None and plot.live
    num_batches = len(train_iter) if hasattr(train_iter, "__len__") else None
    plot_every = max(1, num_batches // PLOT_POINTS_PER_EPOCH) if (live and num_batches) else None

    start = time.perf_counter()
    for epoch in range(done, num_epochs):
        epoch_start = time.perf_counter()
        sums = [np.zeros(2, ctx=d) for d in devices]  # per device: [loss sum, correct]
        seen = 0
        pending: deque = deque()
        for i, (X, y) in enumerate(train_iter):
            shards = _shards(X, y, devices)
            # A batch smaller than the number of devices leaves some without data: they run one
            # example with a zero loss, so that their gradients are zero (and fresh) and the
            # kvstore's sum holds only the real ones. (Sliced outside autograd.record(), which
            # cannot record a slice of an unrecorded array.)
            idle = [(X[:1].as_in_ctx(d), y[:1].as_in_ctx(d)) for d in devices[len(shards):]]
            with autograd.record():
                outputs = [(net(Xk), yk) for Xk, yk in shards]
                losses = [loss_fn(y_hat, yk) for y_hat, yk in outputs]
                losses_idle = [loss_fn(net(Xk), yk) * 0 for Xk, yk in idle]
            for loss in losses + losses_idle:
                loss.backward()
            trainer.step(y.shape[0])
            for k, ((y_hat, yk), loss) in enumerate(zip(outputs, losses, strict=True)):
                sums[k] = sums[k] + batch_metrics(y_hat, yk, loss)
            seen += y.shape[0]
            pending.append(list(sums))
            if len(pending) > MAX_BATCHES_AHEAD:
                for array in pending.popleft():
                    array.wait_to_read()
            if plot_every and (i + 1) % plot_every == 0 and i + 1 < num_batches:
                loss_sum, num_right = _totals(sums)
                plot.add(epoch + (i + 1) / num_batches, train_loss=loss_sum / seen,
                         train_acc=num_right / seen)
        # One read per device and epoch.
        loss_sum, num_right = _totals(sums)
        train_loss, train_acc = loss_sum / seen, num_right / seen
        epoch_seconds = time.perf_counter() - epoch_start
        history.train_seconds += epoch_seconds
        test_acc = evaluate_accuracy(net, test_iter, devices=devices)
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
        if checkpoints is not None:
            history.total_seconds += time.perf_counter() - start
            start = time.perf_counter()
            checkpoints.save(epoch + 1, net, trainer, history, train_iter)
    npx.waitall()
    history.total_seconds += time.perf_counter() - start
    if verbose:
        print(history.summary())
    return history


def _totals(sums) -> tuple[float, float]:
    """(loss sum, number correct) over the devices' running [loss sum, correct] arrays."""
    total = sum(s.asnumpy().astype("float64") for s in sums)
    return float(total[0]), float(total[1])


class BatchMetrics(gluon.HybridBlock):
    """``(y_hat, y, loss)`` -> [sum of the losses, :func:`num_correct`] of a batch as one float32
    (2,) array: what :func:`train` adds up on the device. Hybridized, it is one call instead of
    eight operators from Python per batch; on a CPU the Python thread shares the cores with the
    computation."""

    def hybrid_forward(self, F, y_hat, y, loss):
        return F.np.stack([loss.sum(), num_correct(y_hat, y)])


__all__ = ["BatchMetrics", "Checkpoints", "History", "evaluate_accuracy", "num_correct", "train"]
