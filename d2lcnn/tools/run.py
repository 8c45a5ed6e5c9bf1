"""The bookkeeping around the chapters' training loop (chapter 08's ``train``), kept out of the
lesson: arguments checked before any work, the record of the run, checkpoints, the live plot and
progress line, reports.

:class:`TrainingRun` is made at the start of ``train``. Everything that can be known before the
first step is checked there, with an error that names the problem and the fix: numbers of epochs
and learning rates, devices, empty loaders, MXNet's NumPy mode, labels outside the network's
outputs, images the network cannot take (train and test alike), batches that are no MXNet
arrays, a results or checkpoint folder that cannot be written or has no room, a checkpoint folder
in use or holding another run. Then the loop calls
:meth:`~TrainingRun.epochs`, :meth:`~TrainingRun.after_batch` and :meth:`~TrainingRun.end_epoch`,
and :meth:`~TrainingRun.finish` returns the :class:`~d2lcnn.tools.history.History`.
"""

from __future__ import annotations

import math
import numbers
import time
from collections import deque
from collections.abc import Iterable, Iterator

import mxnet as mx
import numpy as onp
from mxnet import gluon, npx

from .. import config
from ..machine.cpu_isa import describe_cpu
from ..machine.devices import as_device, describe, try_gpu
from .arrays import check_positive_int
from .checkpoints import CheckpointError, Checkpoints, RunIdentity
from .data import data_identity
from .history import History, check_results_folder
from .plot import TrainingPlot
from .progress import ProgressBar

__all__ = ["MAX_BATCHES_AHEAD", "TrainingRun", "check_positive_int"]

#: Batches the host may run ahead of the device before it waits (bounds the memory queued
#: batches hold; the device never waits for the host).
MAX_BATCHES_AHEAD = 2
#: Points per epoch on the live plot (each costs one read of the running sums).
PLOT_POINTS_PER_EPOCH = 5


def _check_lr(lr) -> str:
    """A readable description of ``lr`` (a positive finite number or a schedule)."""
    if callable(lr):
        return str(lr)
    if (isinstance(lr, bool | onp.bool_) or not isinstance(lr, numbers.Real)
            or not 0 < lr < math.inf):
        raise ValueError(f"lr must be a positive number or a schedule (a function of the "
                         f"epoch), got {lr!r}: pass e.g. lr=0.1")
    return f"{float(lr):g}"


def _check_fraction(value, name: str, below_one: bool = False) -> float:
    """``value`` as a float ≥ 0 (and < 1 when ``below_one``: SGD's momentum)."""
    upper = 1 if below_one else math.inf
    if (isinstance(value, bool | onp.bool_) or not isinstance(value, numbers.Real)
            or not 0 <= value < upper):
        span = "a number in [0, 1) (0.9 is usual; from 1 on the steps grow without end)" \
            if below_one else "a number ≥ 0"
        raise ValueError(f"{name} must be {span}, got {value!r}: pass e.g. {name}=0")
    return float(value)


def _check_seed(seed) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool | onp.bool_) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0 or None, got {seed!r}: pass e.g. "
                         "seed=0")
    return int(seed)


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, bool | onp.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}): "
                        f"pass {name}=True or {name}=False")
    return bool(value)


def _devices(device, devices) -> list[mx.Context]:
    if devices is None:
        return [as_device(device) if device is not None else try_gpu()]
    if device is not None:
        raise ValueError("pass device= for one device or devices= for several, not both")
    if isinstance(devices, str | mx.Context):
        devices = [devices]
    if not isinstance(devices, Iterable):
        raise TypeError(f"devices= must be a list of devices, got {devices!r}: pass e.g. "
                        "devices=try_all_gpus(), or [mx.cpu()] for one")
    devices = [as_device(d) for d in devices]
    if not devices:
        raise ValueError("devices= is empty: pass at least one, e.g. devices=try_all_gpus()")
    if len(set(devices)) != len(devices):
        raise ValueError(f"devices= lists a device twice: {describe(devices)}: list each "
                         "device once")
    return devices


def _per_device(metrics) -> list:
    """The running metrics as a list with one array per device."""
    return list(metrics) if isinstance(metrics, list | tuple) else [metrics]


def _no_examples(name: str) -> str:
    return (f"{name} holds no examples: check the data it was made from (an empty array, or a "
            "subset that selected nothing)")


def _check_loader(loader, name: str) -> None:
    """Refuse what is no loader: something that cannot be iterated, or an iterator that can be
    read once."""
    if not isinstance(loader, Iterable):
        raise TypeError(f"{name} must be a loader of (X, y) batches, got "
                        f"{type(loader).__name__}: the arguments are train(net, train_iter, "
                        "test_iter, num_epochs, lr), the loaders from e.g. load_fashion_mnist()")
    if isinstance(loader, Iterator):
        raise TypeError(f"{name} is an iterator ({type(loader).__name__}), which can be read "
                        "only once, but training reads the data every epoch: pass a loader "
                        "(ArrayLoader, gluon.data.DataLoader, or a list of batches)")


def _count(loader, name: str) -> int:
    """Examples in a loader (its ``num_examples``, else by iterating); refuses an empty one."""
    count = getattr(loader, "num_examples", None)
    if count is None:
        count = sum(y.shape[0] for _, y in loader)
    if not count:
        raise ValueError(_no_examples(name))
    return int(count)


def _checkpoints(checkpoint_dir, overwrite: bool) -> Checkpoints | None:
    """``checkpoint_dir`` (a folder, or a :class:`Checkpoints`) as a :class:`Checkpoints`."""
    if checkpoint_dir is None:
        if overwrite:
            raise ValueError("overwrite=True needs checkpoint_dir=, the folder whose run it "
                             "replaces")
        return None
    if isinstance(checkpoint_dir, Checkpoints):
        if overwrite and not checkpoint_dir.overwrite:
            return Checkpoints(checkpoint_dir.folder, overwrite=True)
        return checkpoint_dir
    return Checkpoints(checkpoint_dir, overwrite=overwrite)


def _input_shape(loader, name: str) -> tuple[int, ...]:
    """The shape of one example of ``loader`` (its ``image_shape``, else its first batch's),
    refusing batches that training cannot use: not (X, y) pairs, or not MXNet arrays."""
    shape = getattr(loader, "image_shape", None)
    if shape is not None:
        return tuple(shape)
    batch = next(iter(loader), None)
    if batch is None:
        raise ValueError(_no_examples(name))
    if not (isinstance(batch, list | tuple) and len(batch) == 2):
        raise TypeError(f"{name} must yield (X, y) batches, its first item is "
                        f"{type(batch).__name__} {repr(batch)[:60]}: pass a loader of (images, labels) pairs (ArrayLoader, "
                        "gluon.data.DataLoader, or a list of (X, y) batches)")
    for array, what in zip(batch, ("X", "y"), strict=True):
        if not isinstance(array, mx.np.ndarray):
            kind = type(array).__module__.split(".")[0] + "." + type(array).__name__
            convert = ("mxnet.np.array(X), mxnet.np.array(y)" if isinstance(array, onp.ndarray)
                       else "X.as_np_ndarray(), y.as_np_ndarray()"
                       if isinstance(array, mx.nd.NDArray) else "mxnet.np.array(X), …")
            raise TypeError(f"{name}'s batches hold {what} as {kind}, but training needs MXNet "
                            f"arrays (mxnet.np.ndarray): make the loader with "
                            f"ArrayLoader(images, labels, batch_size), or convert each batch "
                            f"({convert})")
    return tuple(batch[0].shape[1:])


def _side(shape) -> str:
    return "×".join(map(str, shape))


def _labels(loader) -> onp.ndarray | None:
    labels = getattr(loader, "labels", None)
    return onp.asarray(labels) if labels is not None else None


def _checkpoint_bytes(net: gluon.Block) -> tuple[int, int]:
    """(largest file, all files) of a checkpoint of ``net``, in bytes: its parameters, and as
    much again for the optimiser's state (SGD's momentum), with room for the arrays' headers."""
    params = 0
    for param in net.collect_params().values():
        try:
            params += param.data().size * param.data().dtype.itemsize
        except RuntimeError:  # not initialised yet (MXNetError): counted by none
            continue
    largest = params + 64 * 2**10
    return largest, 2 * largest


class TrainingRun:
    """One call of the chapters' ``train``: see the module docstring.

    ``kvstore``: None chooses "device" (gradients summed on the GPUs) when every device is a GPU,
    "local" otherwise; "dist_sync" trains on several machines (:mod:`d2lcnn.machine.distributed`):
    each worker then trains on its shard of every batch and the servers add the gradients up.
    """

    def __init__(self, net: gluon.Block, train_iter, test_iter, num_epochs, lr, *,
                 device=None, devices=None, kvstore: str | None = None, momentum=0.0,
                 weight_decay=0.0, form=None, checkpoint_dir=None, resume: bool = False,
                 seed: int | None = None, verbose: bool = True, overwrite: bool = False) -> None:
        if not npx.is_np_array():
            raise RuntimeError("MXNet's NumPy mode is off, and the networks of this series use "
                               "it: run `from mxnet import npx; npx.set_np()` first")
        if not isinstance(net, gluon.Block):
            raise TypeError(f"net must be a Gluon network (a gluon.Block such as LeNet()), got "
                            f"{type(net).__name__}: the arguments are train(net, train_iter, "
                            "test_iter, num_epochs, lr)")
        asked_epochs = check_positive_int(num_epochs, "num_epochs", example=10)
        self.lr = lr
        lr_text = _check_lr(lr)
        momentum = _check_fraction(momentum, "momentum", below_one=True)
        weight_decay = _check_fraction(weight_decay, "weight_decay")
        seed = _check_seed(seed)
        resume, verbose = _check_flag(resume, "resume"), _check_flag(verbose, "verbose")
        overwrite = _check_flag(overwrite, "overwrite")
        if resume and checkpoint_dir is None:
            raise ValueError("resume=True needs checkpoint_dir=, the folder the run saved its "
                             "epochs in")
        self.checkpoints = _checkpoints(checkpoint_dir, overwrite)
        if resume and self.checkpoints.overwrite:
            raise ValueError("resume=True continues the run in checkpoint_dir and overwrite=True "
                             "starts it again: pass one of them")
        self.devices = _devices(device, devices)
        self.kvstore, self.rank, self.num_workers = self._kvstore(kvstore)
        _check_loader(train_iter, "train_iter")
        _check_loader(test_iter, "test_iter")
        input_shape = _input_shape(train_iter, "train_iter")
        self.test_shape = _input_shape(test_iter, "test_iter")
        num_train, num_test = _count(train_iter, "train_iter"), _count(test_iter, "test_iter")
        self.train_iter = train_iter
        if self.num_workers > 1:
            self.train_iter = train_iter.shard(self.rank, self.num_workers)
        self.quick = bool(getattr(train_iter, "quick", False))
        self.num_epochs = min(asked_epochs, config.QUICK_EPOCHS) if self.quick else asked_epochs
        self.asked_epochs, self.verbose = asked_epochs, verbose
        self.resume_asked = resume
        self.history = History(
            network=getattr(form, "network", "") or type(net).__name__,
            device=describe(self.devices) + (f", worker {self.rank + 1} of {self.num_workers}"
                                              if self.num_workers > 1 else ""),
            num_epochs=self.num_epochs, batch_size=int(getattr(train_iter, "batch_size", 0)),
            lr=lr_text, quick=self.quick, num_train=num_train, num_test=num_test,
            input_shape=tuple(input_shape), form=getattr(form, "name", ""),
            form_reason=getattr(form, "reason", ""), momentum=momentum,
            weight_decay=weight_decay, seed=seed,
            processor=describe_cpu() if all(d.device_type == "cpu" for d in self.devices) else "")
        self.labels = _labels(train_iter), _labels(test_iter)
        check_results_folder()  # before any work: a lost run costs minutes
        self.data = (None, None)
        if self.checkpoints is not None:
            self.checkpoints.check_writable()
            self.data = data_identity(train_iter), data_identity(test_iter)
        if seed is not None:
            config.set_seed(seed)
        self.plot = TrainingPlot(self.num_epochs, self.history.title()) if verbose else None
        self.progress = ProgressBar(self.num_epochs, live=None if verbose else False)
        self._pending: deque = deque()
        self._start = time.perf_counter()

    # --- set-up -------------------------------------------------------------------------------

    def _kvstore(self, kvstore: str | None) -> tuple[str | mx.kv.KVStore, int, int]:
        if kvstore is None:
            kvstore = "device" if all(d.device_type == "gpu" for d in self.devices) else "local"
        if not isinstance(kvstore, str) or not kvstore.startswith(("local", "device", "dist")):
            raise ValueError(f"kvstore={kvstore!r} is not a kvstore type: use 'local', 'device' "
                             "or, on several machines, 'dist_sync'")
        if not kvstore.startswith("dist"):
            return kvstore, 0, 1
        if "async" in kvstore:
            raise ValueError(f"kvstore={kvstore!r}: workers that do not wait for each other train "
                             "on parameters of different ages; use 'dist_sync', which gives the "
                             "same steps as one process with the whole batch")
        if config.distributed_role() is None:
            raise RuntimeError(f"kvstore={kvstore!r} needs a scheduler and servers: start the "
                               "workers with python -m d2lcnn.machine.distributed (README, "
                               "section Several machines)")
        store = mx.kv.create(kvstore)
        return store, store.rank, store.num_workers

    @property
    def update_on_kvstore(self) -> bool:
        """Whether the optimiser runs where gradients are summed: never. With ``dist_sync`` the
        servers add up the workers' gradients and every worker applies the same update to its
        copy of the parameters. MXNet would otherwise send the optimiser to the servers once, so
        that a learning-rate schedule set here would not reach them, and checkpoints could not
        save the optimiser's state."""
        return False

    @property
    def device(self) -> mx.Context:
        """The device of a one-device run (chapter 08's ``train``); the first of several."""
        return self.devices[0]

    @property
    def initial_lr(self) -> float:
        return float(self.lr(0.0)) if callable(self.lr) else float(self.lr)

    def check_outputs(self, net: gluon.Block) -> None:
        """Before the first step (``net`` initialised): refuse images the network cannot take
        (those of train_iter, then test_iter's when they differ), labels it has no output for
        (a 5-class net on 10 classes) and negative ones, and a checkpoint folder without room
        for a checkpoint; on refusal the run is closed (its checkpoint folder free for a
        retry)."""
        try:
            outputs = self._forward(net, self.history.input_shape, "train_iter")
            if self.test_shape != self.history.input_shape:
                self._forward(net, self.test_shape, "test_iter")
            if self.checkpoints is not None:
                self.checkpoints.check_space(*_checkpoint_bytes(net))
            for labels, name in zip(self.labels, ("train_iter", "test_iter"), strict=True):
                if labels is not None and labels.size and int(labels.min()) < 0:
                    raise ValueError(f"{name} has label {int(labels.min())}: labels are class "
                                     "numbers 0, 1, 2 …; renumber the classes from 0")
                if labels is not None and labels.size and int(labels.max()) >= outputs:
                    raise ValueError(f"{name} has label {int(labels.max())} but the network has "
                                     f"{outputs} outputs (classes 0–{outputs - 1}): build it with "
                                     f"num_classes={int(labels.max()) + 1}, or pass the right "
                                     "data")
        except BaseException:
            self.close()
            raise

    def _forward(self, net: gluon.Block, shape: tuple[int, ...], name: str) -> int:
        """The network's outputs for one zero image of ``shape``; a network that cannot take
        it is refused, naming the loader and the shapes."""
        try:
            return net(mx.np.zeros((1, *shape), ctx=self.devices[0])).shape[-1]
        except (mx.base.MXNetError, ValueError) as err:  # ValueError: deferred initialisation
            lines = [line for line in str(err).splitlines() if line.strip()]
            detail = lines[-1].strip()[:200] if lines else type(err).__name__
            if name == "test_iter":
                raise ValueError(
                    f"test_iter's images are {_side(shape)} but train_iter's are "
                    f"{_side(self.history.input_shape)}, and the network cannot take both "
                    f"({detail}): make both loaders with the same resize=") from err
            raise ValueError(f"the network cannot take {name}'s images of {_side(shape)} "
                             f"({detail}): resize the images to the size the network is "
                             "built for (resize=), or build it for these") from err

    def identity(self, net: gluon.Block, trainer: gluon.Trainer) -> RunIdentity:
        return RunIdentity(self.history.network, repr(net), self.history.batch_size,
                           self.history.num_train, self.history.seed,
                           f"sgd lr={self.history.lr} momentum={self.history.momentum:g} "
                           f"wd={self.history.weight_decay:g}", *self.data)

    def resume(self, net: gluon.Block, trainer: gluon.Trainer) -> None:
        """With ``resume=True``, continue after the last complete epoch of the checkpoint
        folder, if it holds one (else start afresh); on several machines, then start the
        parameter-server store."""
        try:
            self._resume(net, trainer)
            self._start_kvstore(trainer)
        except BaseException:
            self.close()  # the folder's lock: free for a retry in this process
            raise

    def _start_kvstore(self, trainer: gluon.Trainer) -> None:
        """On several machines, put the first worker's parameters on the servers and into every
        worker before the first step, each stage finished everywhere before the next begins.
        Gluon's Trainer does this lazily in its first ``step()`` (``kvstore.broadcast``: init,
        then pull), and in MXNet 1.9.1 neither stage waits for the servers: a pull can reach
        a server before the first worker's values have (the server aborts, "init first"), or
        after the first gradients have been summed, whose sum then replaces the weights. Both
        were seen here on a loaded 2-core machine, about once in five runs."""
        if self.num_workers == 1:
            return
        # MXNet 1.9.1's Trainer has no public calls for these steps; they are what step() does.
        if not trainer._kv_initialized:
            trainer._init_kvstore()
        store = trainer._kvstore
        ready = [p for p in trainer._params_to_init if not p._deferred_init]
        keys = [trainer._param2idx[p.name] for p in ready]
        for key, param in zip(keys, ready, strict=True):
            # only the first worker's values are sent; from a copy, since a pull into the
            # parameter pushed from could overtake the push (the server aborts)
            store.init(key, param.data().copy())
        mx.nd.waitall()
        store._barrier()  # every value is on the servers before anyone pulls
        for key, param in zip(keys, ready, strict=True):
            store.pull(key, out=param.list_data())
        mx.nd.waitall()
        store._barrier()  # every worker holds them before anyone pushes a gradient
        trainer._params_to_init = [p for p in trainer._params_to_init if p._deferred_init]

    def _resume(self, net: gluon.Block, trainer: gluon.Trainer) -> None:
        manifest = None
        if self.checkpoints is not None:
            self.checkpoints.lock()  # from here to the end of the run: no second run in it
            manifest = self.checkpoints.start(self.resume_asked)
        if manifest is None:
            if self.verbose:
                print(self.history.describe_run())
            return
        self.checkpoints.check_identity(manifest, self.identity(net, trainer), self.num_epochs)
        saved = self.checkpoints.restore(manifest, net, trainer, self.devices, self.train_iter)
        for name in ("train_loss", "train_acc", "test_acc", "examples_per_sec", "train_seconds",
                     "total_seconds"):
            setattr(self.history, name, getattr(saved, name))
        if self.verbose:
            print(self.history.describe_run())
            print(f"resuming after epoch {saved.epochs_done} of {self.num_epochs} "
                  f"(checkpoint in {self.checkpoints.folder})")
        if self.plot is not None:
            for epoch in range(saved.epochs_done):
                self.plot.add(epoch + 1, train_loss=saved.train_loss[epoch],
                              train_acc=saved.train_acc[epoch], test_acc=saved.test_acc[epoch])

    # --- the loop -----------------------------------------------------------------------------

    def epochs(self):
        """The epochs still to run (all of them, or those after a resumed checkpoint)."""
        try:
            for epoch in range(self.history.epochs_done, self.num_epochs):
                self._epoch_start = time.perf_counter()
                self._seen = 0
                self._batches = 0
                self.progress.start_epoch(epoch + 1, self.history.num_train // self.num_workers)
                yield epoch
        except BaseException:
            self.close()
            raise

    def after_batch(self, num_examples: int, metrics) -> None:
        """After each training step: stay at most :data:`MAX_BATCHES_AHEAD` batches ahead of
        the device, move the progress line, and add a point to the live plot now and then.
        ``metrics``: the running [sum of losses, number correct] array (2,), or a list of them,
        one per device."""
        self._seen += num_examples
        self._batches += 1
        self._pending.append(_per_device(metrics))
        if len(self._pending) > MAX_BATCHES_AHEAD:
            for array in self._pending.popleft():
                array.wait_to_read()
        self.progress.update(self._seen)
        num_batches = len(self.train_iter) if hasattr(self.train_iter, "__len__") else 0
        every = max(1, num_batches // PLOT_POINTS_PER_EPOCH)
        if self.plot is not None and self.plot.live and num_batches and (
                self._batches % every == 0 and self._batches < num_batches):
            loss_sum, correct = self.totals(metrics)
            epoch = self.history.epochs_done + self._batches / num_batches
            self.plot.add(epoch, train_loss=loss_sum / self._seen, train_acc=correct / self._seen)

    @staticmethod
    def totals(metrics) -> tuple[float, float]:
        """(sum of losses, number correct) from the running [loss sum, correct] array, or summed
        over a list of them, one per device."""
        total = sum(m.asnumpy().astype("float64") for m in _per_device(metrics))
        return float(total[0]), float(total[1])

    @property
    def examples_this_epoch(self) -> int:
        return self._seen

    def end_epoch(self, net: gluon.Block, trainer: gluon.Trainer, train_loss: float,
                  train_acc: float, test_acc: float) -> None:
        """Record the epoch, report it, and save a checkpoint when asked."""
        seconds = time.perf_counter() - self._epoch_start
        h = self.history
        h.train_loss.append(train_loss)
        h.train_acc.append(train_acc)
        h.test_acc.append(test_acc)
        h.examples_per_sec.append(self._seen / seconds)
        h.train_seconds += seconds
        self.progress.end_epoch()
        if self.plot is not None:
            self.plot.add(h.epochs_done, train_loss=train_loss, train_acc=train_acc,
                          test_acc=test_acc)
        if self.verbose:
            print(f"epoch {h.epochs_done}/{self.num_epochs}: loss {train_loss:.3f}, train acc "
                  f"{train_acc:.3f}, test acc {test_acc:.3f}, {self._seen / seconds:,.0f} "
                  "examples/s", flush=True)
        if self.checkpoints is not None:
            now = time.perf_counter()
            h.total_seconds += now - self._start
            self._start = now
            try:
                self.checkpoints.save(h.epochs_done, net, trainer, h,
                                      self.identity(net, trainer), self.train_iter)
            except CheckpointError:
                self.close()
                raise

    def finish(self) -> History:
        """Wait for the device, close the run and report; return the history."""
        npx.waitall()
        self.history.total_seconds += time.perf_counter() - self._start
        self.close()
        if self.verbose:
            self.progress.close(f"{self.history.epochs_done} epoch(s) in "
                                f"{self.history.total_seconds:,.0f} s")
            print(self.history.summary())
        return self.history

    def close(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.close()

