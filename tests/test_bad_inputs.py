"""Bad inputs, given as a careless or a hostile user gives them (issue 15): data files of the wrong
data set, swapped, truncated, corrupt or unreadable; loader, training, device and thread arguments;
checkpoint folders that are damaged, of another run or in use.

Each row of the table is refused (or, for the reports that must not raise, explained) with a
message that names the problem AND the fix, and leaves the disk as it was: every file under the
case's folder is byte for byte what it was before, and no temporary file is left behind.
Everything runs on tiny real data (at most 200 images, one epoch) so that the table takes seconds.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import mxnet as mx
import numpy as onp
import pytest
from mxnet import npx
from test_checkpoint import Loader
from test_devices import FakeMachine

from d2lcnn import config
from d2lcnn.lessons import LeNet, train, train_parallel
from d2lcnn.machine import cpu_threads
from d2lcnn.machine import devices as dev
from d2lcnn.tools import data
from d2lcnn.tools.checkpoints import LOCK, MANIFEST, CheckpointError, Checkpoints

npx.set_np()

FASHION, MNIST = "fashion-mnist", "mnist"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"


@dataclass(frozen=True)
class Case:
    """One bad input. ``make(ctx)`` prepares it under ``ctx.tmp`` and returns the action; the
    action raises ``error`` (or, with ``error=None``, returns the text of a report that must not
    raise). ``problem`` and ``fix`` are regular expressions the message must match; ``never``,
    one it must not (e.g. a permission problem called corruption)."""

    id: str
    make: Callable[[SimpleNamespace], Callable[[], object]]
    error: type[BaseException] | None
    problem: str
    fix: str
    never: str | None = None


# --- helpers: data folders --------------------------------------------------------------------


def _payload(ctx, dataset: str, file_name: str) -> bytes:
    return data.read_payload(ctx.data / dataset / file_name)


def _folder(ctx, files: dict[str, object], name: str = FASHION) -> Path:
    """A data folder ``ctx.tmp/<name>`` with the four files: each value is (data set) for a link
    to that data set's real file of the same name, (data set, file name) for a link to another
    file, or a function of ``ctx`` giving the IDX bytes (gzip-compressed here)."""
    folder = ctx.tmp / name
    folder.mkdir(exist_ok=True)
    for file_name in data.DATASETS[FASHION].file_names:
        source = files.get(file_name, name)
        if callable(source):
            source = source(ctx)
        if isinstance(source, bytes):
            (folder / file_name).write_bytes(gzip.compress(source, mtime=0))
        elif isinstance(source, tuple):
            (folder / file_name).symlink_to(ctx.data / source[0] / source[1])
        else:
            (folder / file_name).symlink_to(ctx.data / source / file_name)
    return folder


def _changed(file_name: str, change):
    """The real Fashion-MNIST file's IDX bytes, changed by ``change`` (a function of ``ctx``)."""
    return lambda ctx: bytes(change(bytearray(_payload(ctx, FASHION, file_name))))


def _load_test(ctx, name: str = FASHION):
    return lambda: data.load_arrays(name, "test", root=ctx.tmp)


def _mixed(files: dict[str, object], name: str = FASHION, split: str = "test"):
    """A folder made by :func:`_folder`, loaded as data set ``name``."""
    def make(ctx):
        _folder(ctx, files, name)
        return lambda: data.load_arrays(name, split, root=ctx.tmp)
    return make


def _data_dir_of(folder: str, name: str, split: str):
    """``D2LCNN_DATA_DIR`` set to the real ``folder`` of one data set, data set ``name`` loaded."""
    def make(ctx):
        ctx.monkeypatch.setenv("D2LCNN_DATA_DIR", str(ctx.data / folder))
        return lambda: data.load_arrays(name, split)
    return make


def _root_is_a_file(ctx):
    (ctx.tmp / "x.gz").write_bytes(b"x")
    return lambda: data.load_fashion_mnist(64, root=ctx.tmp / "x.gz")


def _call(function, *args, **kwargs):
    """A case whose action is ``function(*args, **kwargs)`` (nothing to prepare)."""
    return lambda ctx: lambda: function(*args, **kwargs)


def _set_magic(raw):
    raw[0:4] = (1234).to_bytes(4, "big")
    return raw


def _one_label_changed(raw):
    raw[100] = (raw[100] + 1) % 10
    return raw


def _with_raw_gz(file_name: str, make_bytes):
    """A Fashion-MNIST folder whose ``file_name`` is exactly the bytes ``make_bytes(ctx)``."""
    def make(ctx):
        folder = _folder(ctx, {})
        (folder / file_name).unlink()
        (folder / file_name).write_bytes(make_bytes(ctx))
        return _load_test(ctx)
    return make


def _half_a_gzip_file(ctx) -> bytes:
    return (ctx.data / FASHION / TEST_IMAGES).read_bytes()[:100_000]


def _corrupt_deflate(ctx) -> bytes:
    raw = bytearray((ctx.data / FASHION / TEST_LABELS).read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 16] = bytes(16)
    return bytes(raw)


def _permission_denied(ctx):
    folder = _folder(ctx, {})
    real = Path.read_bytes

    def deny(path):
        if path.parent == folder and path.name == TEST_LABELS:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    ctx.monkeypatch.setattr(Path, "read_bytes", deny)
    return _load_test(ctx)


def _really_unreadable(ctx):
    folder = ctx.tmp / FASHION
    folder.mkdir()
    for file_name in data.DATASETS[FASHION].file_names:
        shutil.copy(ctx.data / FASHION / file_name, folder / file_name)
    (folder / TEST_LABELS).chmod(0)
    return _load_test(ctx)


def _isolated(ctx):
    """No data anywhere but what the case puts there: empty data folder and MXNet cache."""
    ctx.monkeypatch.setenv("D2LCNN_DATA_DIR", str(ctx.tmp / "data"))
    ctx.monkeypatch.setenv("MXNET_HOME", str(ctx.tmp / "mxnet"))
    for name, spec in data.DATASETS.items():
        ctx.monkeypatch.setitem(data.DATASETS, name, replace(spec, system_dirs=()))


def _offline(ctx):
    _isolated(ctx)

    def refuse(url, timeout=None):
        raise urllib.error.URLError("network is unreachable (test)")

    ctx.monkeypatch.setattr(data.urllib.request, "urlopen", refuse)
    return lambda: data.load_arrays(FASHION, "test")


def _wrong_download(ctx):
    _isolated(ctx)
    wrong = (ctx.data / MNIST / TEST_LABELS).read_bytes()  # not the Fashion-MNIST file

    class Response:
        headers = {"Content-Length": str(len(wrong))}

        def __init__(self):
            self.left = wrong

        def read(self, n):
            chunk, self.left = self.left[:n], self.left[n:]
            return chunk

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    ctx.monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout=None: Response())
    return lambda: data.locate(FASHION)


# --- helpers: loaders and training ------------------------------------------------------------


def _arrays(n: int = 200):
    images, labels = data.load_arrays(FASHION, "test")
    return images[:n], labels[:n]


def _loader(*, images=None, labels=None, batch_size=50, **kwargs):
    base_images, base_labels = _arrays()
    images = base_images if images is None else images
    labels = base_labels if labels is None else labels
    kwargs.setdefault("device", mx.cpu())
    return lambda: data.ArrayLoader(images, labels, batch_size, **kwargs)


def _loaders(n: int = 200):
    images, labels = _arrays(n)
    return (data.ArrayLoader(images, labels, 100, device=mx.cpu()),
            data.ArrayLoader(images[:100], labels[:100], 100, device=mx.cpu()))


def _train(trainer=train, **kwargs):
    """train() (or train_parallel() on cpu(0)) on 200 real test images, one epoch, with
    ``kwargs`` replacing the defaults."""
    def action():
        train_iter, test_iter = _loaders()
        place = {"devices": [mx.cpu()]} if trainer is train_parallel else {"device": mx.cpu()}
        args = {"net": LeNet(), "train_iter": train_iter, "test_iter": test_iter,
                "num_epochs": 1, "lr": 0.9, **place, "verbose": False}
        args.update({k: v() if callable(v) and k in ("train_iter", "test_iter", "net") else v
                     for k, v in kwargs.items()})
        return trainer(**args)
    return lambda ctx: action


def _iterated(make_loader):
    """A case that makes the loader and reads one epoch of it."""
    return lambda ctx: lambda: list(make_loader())


class _NoExamples:
    """A loader that yields nothing (a filter that kept no example)."""

    num_examples = 0
    batch_size = 50

    def __iter__(self):
        return iter(())


def _generator():
    train_iter, _ = _loaders()
    return (batch for batch in train_iter)


def _without_numpy_mode(ctx):
    def action():
        npx.reset_np()
        try:
            return _train()(ctx)()
        finally:
            npx.set_np()
    return action


def _swapped_net_and_loader(ctx):
    def action():
        train_iter, test_iter = _loaders()
        return train(train_iter, LeNet(), test_iter, 1, 0.9, device=mx.cpu(), verbose=False)
    return action


def _five_classes(ctx):
    def action():
        train_iter, test_iter = _loaders()
        return train(LeNet(num_classes=5), train_iter, test_iter, 1, 0.9, device=mx.cpu(),
                     verbose=False)
    return action


def _no_gpu(action):
    """``action`` on a machine without a GPU (also where the tests run on one)."""
    def make(ctx):
        def run():
            with dev.use_machine(FakeMachine()):
                return action()
        return run
    return make


# --- helpers: thread settings -----------------------------------------------------------------


def _thread_error(name: str, value: str):
    def make(ctx):
        return lambda: cpu_threads.configure({name: value}, mxnet_imported=False, cores=2,
                                             quota=None, num_cpus=2).error
    return make


def _fresh_python(code: str, **env_changes) -> subprocess.CompletedProcess:
    names = (cpu_threads.OMP_ENV, cpu_threads.MXNET_ENV, cpu_threads.MARK_ENV)
    env = {k: v for k, v in os.environ.items() if k not in names}
    return subprocess.run([sys.executable, *code], capture_output=True, text=True, timeout=120,
                          env={**env, **env_changes})


def _doctor_with_bad_threads(ctx):
    def run():
        out = _fresh_python(["-m", "d2lcnn.machine.doctor"], OMP_NUM_THREADS="abc")
        # 1: training cannot run as things are set; never MXNet's abort (134) or a traceback
        assert out.returncode == 1 and "Traceback" not in out.stderr, (out.returncode, out.stderr)
        return out.stdout
    return run


def _prepare_with_bad_threads(ctx):
    code = ("from d2lcnn import machine\n"
            "try:\n    machine.prepare()\n"
            "except ValueError as err:\n    print(f'ValueError: {err}')\n")

    def run():
        out = _fresh_python(["-c", code], OMP_NUM_THREADS="4 threads")
        assert out.returncode == 0, out.stderr
        return out.stdout
    return run


def _env_flag(name: str, value: str, read):
    def make(ctx):
        ctx.monkeypatch.setenv(name, value)
        return read
    return make


# --- helpers: checkpoints ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    """A checkpoint folder after 2 epochs of LeNet (relu, batch 100, 200 examples, seed 0)."""
    folder = tmp_path_factory.mktemp("saved-run")
    _resume(folder, num_epochs=2, resume=False)
    return folder


def _resume(folder, num_epochs=3, resume=True, net=None, batch_size=100, num_train=200):
    return train(net or LeNet(activation="relu"), Loader(num_train, batch_size=batch_size),
                 Loader(100, offset=50000), num_epochs=num_epochs, lr=0.05, momentum=0.9,
                 device=mx.cpu(), checkpoint_dir=folder, resume=resume, seed=0, verbose=False)


def _checkpoint(damage=None, **resume_kwargs):
    """A copy of the saved run in ``ctx.tmp/run``, damaged by ``damage(folder)``, resumed."""
    def make(ctx):
        folder = ctx.tmp / "run"
        shutil.copytree(ctx.saved_run, folder)
        if damage is not None:
            damage(folder)
        return lambda: _resume(folder, **resume_kwargs)
    return make


def _flip_bytes(name):
    def damage(folder):
        raw = bytearray((folder / name).read_bytes())
        raw[-64:] = bytes(64)
        (folder / name).write_bytes(bytes(raw))
    return damage


def _truncate(name, keep=100):
    def damage(folder):
        (folder / name).write_bytes((folder / name).read_bytes()[:keep])
    return damage


def _delete(name):
    return lambda folder: (folder / name).unlink()


def _drop_key(key):
    def damage(folder):
        import json

        manifest = json.loads((folder / MANIFEST).read_text())
        del manifest[key]
        (folder / MANIFEST).write_text(json.dumps(manifest))
    return damage


def _folder_in_use(ctx):
    folder = ctx.tmp / "run"
    shutil.copytree(ctx.saved_run, folder)
    holder = Checkpoints(folder)
    holder.lock()
    ctx.finalizers.append(holder.close)
    return lambda: _resume(folder)


def _folder_is_a_file(ctx):
    target = ctx.tmp / "a-file"
    target.write_text("notes, not a folder")
    return lambda: _resume(target, resume=False, num_epochs=1)


def _folder_under_a_file(ctx):
    target = ctx.tmp / "a-file"
    target.write_text("notes, not a folder")
    return lambda: _resume(target / "run", resume=False, num_epochs=1)


# --- the table --------------------------------------------------------------------------------

IDENTITY_FIX = r"folder of its own.*D2LCNN_DATA_DIR"
FRESH_COPY = r"[Dd]elete it and provide (a fresh copy|the original)"

CASES = [
    # data files: the wrong data set, swapped or mixed files
    Case("data-dir-of-fashion-read-as-mnist", _data_dir_of(FASHION, MNIST, "test"),
         data.DataIdentityError, r"Fashion-MNIST's test images, not MNIST's", IDENTITY_FIX),
    Case("data-dir-of-mnist-read-as-fashion", _data_dir_of(MNIST, FASHION, "train"),
         data.DataIdentityError, r"MNIST's training images, not Fashion-MNIST's", IDENTITY_FIX),
    Case("mnist-images-with-fashion-labels", _mixed({TEST_IMAGES: MNIST}),
         data.DataIdentityError, r"t10k-images.*MNIST's test images, not Fashion-MNIST's",
         IDENTITY_FIX),
    Case("fashion-images-with-mnist-labels", _mixed({TEST_IMAGES: FASHION}, MNIST),
         data.DataIdentityError, r"Fashion-MNIST's test images, not MNIST's", IDENTITY_FIX),
    Case("mnist-labels-in-a-fashion-folder", _mixed({TEST_LABELS: MNIST}),
         data.DataIdentityError, r"t10k-labels.*MNIST's test labels, not Fashion-MNIST's",
         IDENTITY_FIX),
    Case("training-labels-named-as-test-labels", _mixed({TEST_LABELS: (FASHION, TRAIN_LABELS)}),
         data.DataIdentityError,
         r"training labels \(train-labels-idx1-ubyte.gz\), not its test labels", r"original name"),
    Case("test-images-named-as-training-images",
         _mixed({TRAIN_IMAGES: (FASHION, TEST_IMAGES)}, split="train"),
         data.DataIdentityError, r"test images.*not its training images", r"original name"),
    Case("images-file-named-as-labels", _mixed({TEST_LABELS: (FASHION, TEST_IMAGES)}),
         data.IDXFormatError, r"magic number 2051, expected 2049.*holds images", r"original names"),
    # data files: damaged
    Case("truncated-gzip", _with_raw_gz(TEST_IMAGES, _half_a_gzip_file),
         data.IDXFormatError, r"not a complete gzip file.*corrupt or truncated", FRESH_COPY),
    Case("corrupt-deflate-data", _with_raw_gz(TEST_LABELS, _corrupt_deflate),
         data.IDXFormatError, r"not a complete gzip file", FRESH_COPY),
    Case("not-gzip-at-all", _with_raw_gz(TEST_LABELS, lambda ctx: b"<html>404 Not Found</html>"),
         data.IDXFormatError, r"not a complete gzip file", FRESH_COPY),
    Case("empty-file", _with_raw_gz(TEST_LABELS, lambda ctx: gzip.compress(b"")),
         data.IDXFormatError, r"only 0 bytes, too short for an IDX header", FRESH_COPY),
    Case("wrong-magic", _mixed({TEST_LABELS: _changed(TEST_LABELS, _set_magic)}),
         data.IDXFormatError, r"bad magic number 1234", FRESH_COPY),
    Case("truncated-body", _mixed({TEST_LABELS: _changed(TEST_LABELS, lambda raw: raw[:-100])}),
         data.IDXFormatError, r"truncated: header says 10000 = 10,000 bytes.*holds 9,900",
         FRESH_COPY),
    Case("trailing-bytes",
         _mixed({TEST_LABELS: _changed(TEST_LABELS, lambda raw: raw + b"\0" * 7)}),
         data.IDXFormatError, r"has trailing bytes", FRESH_COPY),
    Case("one-label-modified", _mixed({TEST_LABELS: _changed(TEST_LABELS, _one_label_changed)}),
         data.DataIdentityError,
         r"not Fashion-MNIST's test labels.*modified, corrupt or from another", FRESH_COPY),
    Case("permission-denied", _permission_denied, data.DataPermissionError,
         r"t10k-labels-idx1-ubyte.gz: permission denied", r"chmod a\+r.*or copy the four files",
         never=r"corrupt|truncated|delete"),
    pytest.param(Case("permission-denied-for-real", _really_unreadable, data.DataPermissionError,
                      r"permission denied.*mode ----------", r"chmod a\+r", never=r"corrupt"),
                 marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")),
    # data files: where they are looked for, and downloads
    Case("unknown-data-set", _call(data.load_arrays, "cifar10"),
         ValueError, r"unknown data set 'cifar10'", r"choose one of 'fashion-mnist', 'mnist'"),
    Case("data-set-name-misspelt", _call(data.load_fashion_mnist, 64, dataset="Fashion_MNIST"),
         ValueError, r"unknown data set 'Fashion_MNIST'", r"did you mean 'fashion-mnist'"),
    Case("unknown-split", _call(data.load_arrays, FASHION, "validation"),
         ValueError, r"split must be 'train' or 'test', not 'validation'", r"pass split='train'"),
    Case("root-does-not-exist", _call(data.load_arrays, FASHION, "test", root="/nonexistent/dtaa"),
         data.DataNotFoundError, r"root=.*dtaa' does not exist", r"leave root=None"),
    Case("root-is-a-file", _root_is_a_file,
         data.DataNotFoundError, r"is a file, not a folder", r"pass the folder holding the four files"),
    Case("no-data-and-offline", _offline, data.DataNotFoundError,
         r"Fashion-MNIST was not found.*network is unreachable", r"To provide them.*D2LCNN_DATA_DIR"),
    Case("download-with-wrong-checksum", _wrong_download, data.DataNotFoundError,
         r"differs from the published", r"To provide them"),
    # loaders
    Case("batch-size-true", lambda ctx: _loader(batch_size=True),
         TypeError, r"batch_size must be a whole number ≥ 1, got True \(bool\)", r"batch_size=256"),
    Case("batch-size-zero", lambda ctx: _loader(batch_size=0), ValueError,
         r"batch_size must be at least 1, got 0", r"batch_size=256"),
    Case("batch-size-float", lambda ctx: _loader(batch_size=64.0), TypeError,
         r"whole number ≥ 1, got 64.0 \(float\)", r"batch_size=256"),
    Case("batch-size-text", _call(data.load_fashion_mnist, "256"), TypeError,
         r"got '256' \(str\)", r"batch_size=256"),
    Case("resize-true", lambda ctx: _loader(resize=True), TypeError,
         r"resize must be an int or a pair of ints \(height, width\), got True", r"resize=224"),
    Case("resize-zero", _call(data.load_fashion_mnist, 64, resize=0), ValueError,
         r"resize must be at least 1, got 0", r"or None to keep the stored 28×28"),
    Case("resize-method-unknown", lambda ctx: _loader(resize=56, resize_method="bicubic"), ValueError,
         r"resize_method must be 'bilinear' or 'nearest', not 'bicubic'", r"'nearest' to replicate"),
    Case("float-images-0-255", lambda ctx: _loader(images=_arrays()[0].astype("float32")), ValueError,
         r"float images range from 0 to 255.*not divide them by 255 again", r"astype\(numpy.uint8\)"),
    Case("normalised-images", lambda ctx: _loader(images=(_arrays()[0] - 73.0) / 90), ValueError,
         r"float images must be in \[0, 1\].*normalised already", r"pass uint8 pixels"),
    Case("images-with-nan", lambda ctx: _loader(images=onp.where(_arrays()[0] > 250, onp.nan, 0.5)),
         ValueError, r"NaN or infinite", r"pass uint8 pixels \(0–255\) or floats in \[0, 1\]"),
    Case("integer-images-beyond-255", lambda ctx: _loader(images=_arrays()[0].astype(int) * 4),
         ValueError, r"range from 0 to 1020", r"pass uint8 pixels"),
    Case("images-with-a-channel-axis", lambda ctx: _loader(images=_arrays()[0][:, None]), ValueError,
         r"\(200, 1, 28, 28\)", r"images\[:, 0\]"),
    Case("one-image-not-a-batch", lambda ctx: _loader(images=_arrays()[0][0]), ValueError,
         r"must have shape \(N, H, W\).*\(28, 28\)", r"shaped like it"),
    Case("fewer-labels-than-images", lambda ctx: _loader(labels=_arrays()[1][:-1]), ValueError,
         r"200 images but 199 labels", r"one label per image, in the same order"),
    Case("empty-arrays", lambda ctx: _loader(images=_arrays()[0][:0], labels=_arrays()[1][:0]),
         ValueError, r"images is empty \(0 examples\)", r"check the selection"),
    Case("negative-labels", lambda ctx: _loader(labels=_arrays()[1].astype(int) - 1), ValueError,
         r"got -1", r"renumber the classes from 0"),
    Case("one-hot-labels", lambda ctx: _loader(labels=onp.eye(10)[_arrays()[1]]), ValueError,
         r"\(200, 10\) \(one-hot", r"labels.argmax\(axis=1\)"),
    Case("fractional-labels", lambda ctx: _loader(labels=_arrays()[1] / 2), ValueError,
         r"class numbers 0, 1, 2 …, got 0.5|got 4.5", r"integer class of each image"),
    Case("shuffle-as-text", lambda ctx: _loader(shuffle="no"), TypeError,
         r"shuffle must be True or False, got 'no'", r"pass shuffle=True or shuffle=False"),
    Case("negative-seed", lambda ctx: _loader(seed=-1), ValueError,
         r"seed must be a whole number ≥ 0 or None, got -1", r"seed=0"),
    Case("augment-not-a-function", lambda ctx: _loader(augment=5), TypeError,
         r"augment must be a function \(images, rng\) -> images", r"returns new images, or None"),
    Case("augment-changes-the-dtype", _iterated(_loader(augment=lambda x, rng: x / 255)),
         ValueError, r"augment returned float64 \(200, 28, 28\)",
         r"return new images of the shape and dtype"),
    Case("quick-as-text", _call(data.load_fashion_mnist, 64, quick="no"), TypeError,
         r"quick must be True or False, got 'no'", r"pass quick=True or quick=False"),
    Case("loader-device-unknown", lambda ctx: _loader(device="tpu"), ValueError,
         r"'tpu' is not a device", r"'cpu', 'gpu' or 'gpu\(1\)'"),
    Case("loader-on-a-missing-gpu", _no_gpu(lambda: data.load_fashion_mnist(64, device="gpu")),
         ValueError, r"'gpu' cannot be used: no NVIDIA GPU", r"try_gpu\(0\).*or 'cpu'"),
    # training
    Case("zero-epochs", _train(num_epochs=0), ValueError,
         r"num_epochs must be at least 1, got 0", r"num_epochs=10"),
    Case("epochs-as-float", _train(num_epochs=2.0), TypeError,
         r"num_epochs must be a whole number ≥ 1, got 2.0", r"num_epochs=10"),
    Case("epochs-true", _train(num_epochs=True), TypeError, r"got True \(bool\)", r"num_epochs=10"),
    Case("learning-rate-zero", _train(lr=0), ValueError, r"lr must be a positive number", r"lr=0.1"),
    Case("learning-rate-nan", _train(lr=float("nan")), ValueError, r"got nan", r"lr=0.1"),
    Case("learning-rate-infinite", _train(lr=float("inf")), ValueError, r"got inf", r"lr=0.1"),
    Case("momentum-one", _train(momentum=1.0), ValueError,
         r"momentum must be a number in \[0, 1\).*grow without end", r"momentum=0"),
    Case("negative-weight-decay", _train(weight_decay=-1e-4), ValueError,
         r"weight_decay must be a number ≥ 0, got -0.0001", r"weight_decay=0"),
    Case("seed-as-text", _train(seed="0"), ValueError, r"seed must be a whole number ≥ 0", r"seed=0"),
    Case("empty-test-loader", _train(test_iter=_NoExamples), ValueError,
         r"test_iter holds no examples", r"check the data it was made from"),
    Case("one-pass-generator", _train(train_iter=_generator), TypeError,
         r"train_iter is an iterator \(generator\), which can be read only once",
         r"pass a loader \(ArrayLoader"),
    Case("net-and-loader-swapped", _swapped_net_and_loader, TypeError,
         r"net must be a Gluon network.*got ArrayLoader", r"train\(net, train_iter, test_iter"),
    Case("labels-beyond-the-outputs", _five_classes, ValueError,
         r"train_iter has label 9 but the network has 5 outputs", r"num_classes=10"),
    Case("numpy-mode-off", _without_numpy_mode, RuntimeError,
         r"MXNet's NumPy mode is off", r"npx.set_np\(\)"),
    Case("train-device-unknown", _train(device="tpu"), ValueError,
         r"'tpu' is not a device", r"'gpu\(1\)'"),
    Case("train-on-a-missing-gpu", _no_gpu(lambda: _train(device="gpu(0)")(None)()), ValueError,
         r"'gpu\(0\)' cannot be used: no NVIDIA GPU", r"try_gpu\(0\)"),
    Case("devices-empty", _train(train_parallel, devices=[]), ValueError, r"devices= is empty",
         r"devices=try_all_gpus\(\)"),
    Case("devices-twice", _train(train_parallel, devices=["cpu(0)", "cpu:0"]), ValueError,
         r"lists a device twice: cpu\(0\)\+cpu\(0\)", r"list each device once"),
    Case("devices-a-number", _train(train_parallel, devices=2), TypeError,
         r"devices= must be a list of devices, got 2", r"devices=try_all_gpus\(\)"),
    Case("resume-without-folder", _train(resume=True), ValueError,
         r"resume=True needs checkpoint_dir=", r"the folder the run saved its epochs in"),
    Case("resume-as-text", _train(resume="yes", checkpoint_dir=None), TypeError,
         r"resume must be True or False, got 'yes'", r"pass resume=True or resume=False"),
    # devices
    Case("try-gpu-negative", _call(dev.try_gpu, -1), ValueError,
         r"i is the number of a GPU, a whole number ≥ 0.*got -1", r"try_gpu\(0\)"),
    Case("try-gpu-text", _call(dev.try_gpu, "0"), TypeError, r"got '0' \(str\)",
         r"try_gpu\(0\)"),
    Case("try-gpu-true", _call(dev.try_gpu, True), TypeError, r"got True \(bool\)",
         r"try_gpu\(0\)"),
    Case("device-a-number", _call(dev.as_device, 0), ValueError,
         r"0 is not a device", r"mx.cpu\(\) or try_gpu\(\)"),
    Case("device-misspelt", _call(dev.as_device, "gpu:one"), ValueError,
         r"'gpu:one' is not a device", r"'gpu\(1\)'"),
    Case("gpu-context-without-gpu", _no_gpu(lambda: dev.as_device(mx.gpu(2))), ValueError,
         r"cannot be used: no NVIDIA GPU", r"try_gpu\(2\)"),
    # thread settings and other environment variables
    Case("omp-threads-abc", _thread_error("OMP_NUM_THREADS", "abc"), None,
         r"OMP_NUM_THREADS='abc' is not a number of threads.*MXNet would abort",
         r"set it to a positive whole number \(e.g. OMP_NUM_THREADS=2\) or unset it"),
    Case("mxnet-threads-zero", _thread_error("MXNET_OMP_MAX_THREADS", "0"), None,
         r"MXNET_OMP_MAX_THREADS='0' is not a number of threads", r"positive whole number"),
    Case("prepare-with-bad-threads", _prepare_with_bad_threads, None,
         r"ValueError: OMP_NUM_THREADS='4 threads' is not a number of threads", r"or unset it"),
    Case("doctor-with-bad-threads", _doctor_with_bad_threads, None,
         r"OMP_NUM_THREADS='abc': not a number of threads.*devices not checked",
         r"advice:\n  - OMP_NUM_THREADS='abc'.*set it to a positive whole number"),
    Case("quick-mode-typo", _env_flag(config.QUICK_ENV, "quick", config.quick_mode), ValueError,
         r"D2LCNN_QUICK='quick' is not understood", r"set it to 1 \(on\) or 0 \(off\)"),
    Case("form-unknown", _env_flag(config.FORM_ENV, "fast", config.form_override), ValueError,
         r"D2LCNN_FORM='fast' is not a form", r"set it to book or native"),
    # checkpoints (what tests/test_checkpoint.py tests one by one, here with the fix and the disk)
    Case("checkpoint-params-corrupt", _checkpoint(_flip_bytes("epoch-0002.params")),
         CheckpointError, r"epoch-0002.params is corrupt or truncated", r"delete .*to train afresh"),
    Case("checkpoint-params-truncated", _checkpoint(_truncate("epoch-0002.params")),
         CheckpointError, r"epoch-0002.params is corrupt or truncated", r"to train afresh"),
    Case("checkpoint-trainer-state-missing", _checkpoint(_delete("epoch-0002.trainer.params")),
         CheckpointError, r"epoch-0002.trainer.params is missing", r"to train afresh"),
    Case("checkpoint-manifest-truncated", _checkpoint(_truncate(MANIFEST, 40)),
         CheckpointError, r"not a complete checkpoint manifest", r"to train afresh"),
    Case("checkpoint-manifest-without-history", _checkpoint(_drop_key("history")),
         CheckpointError, r"lacks 'history'", r"to train afresh"),
    Case("checkpoint-of-another-network", _checkpoint(net=LeNet(activation="sigmoid")),
         CheckpointError, r"of another run.*Activation\(sigmoid\)", r"Resume with the same settings"),
    Case("checkpoint-other-batch-size", _checkpoint(batch_size=50),
         CheckpointError, r"batch size 100 then, 50 now", r"Resume with the same settings"),
    Case("checkpoint-other-data-size", _checkpoint(num_train=100),
         CheckpointError, r"num train 200 then, 100 now", r"Resume with the same settings"),
    Case("checkpoint-fewer-epochs", _checkpoint(num_epochs=1),
         CheckpointError, r"already holds 2 epochs, more than num_epochs=1", r"num_epochs ≥ 2"),
    Case("checkpoint-folder-in-use", _folder_in_use, CheckpointError,
         r"is in use by process", r"wait for it to finish or choose another checkpoint_dir"),
    Case("checkpoint-folder-is-a-file", _folder_is_a_file, CheckpointError,
         r"is a file, not a folder", r"choose a folder"),
    Case("checkpoint-folder-cannot-be-made", _folder_under_a_file, CheckpointError,
         r"cannot be written to", r"choose a folder you can write to, before the first epoch"),
]


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root``: its content's SHA-256 (a link: its target). A checkpoint
    folder's lock file counts by its presence only (it names the process that held it last)."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                files[key] = f"-> {os.readlink(path)}"
            elif name == LOCK:
                files[key] = "lock"
            else:
                try:
                    with open(path, "rb") as f:
                        files[key] = hashlib.sha256(f.read()).hexdigest()
                except PermissionError:
                    files[key] = f"unreadable, {path.stat().st_size} bytes"
    return files


def test_the_table_is_big_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("kwargs", [
    {"device": "cpu"}, {"device": "cpu(0)", "num_epochs": onp.int64(1)},
    {"lr": onp.float32(0.5), "momentum": 0.5, "seed": onp.int32(3)},
], ids=["device-name", "numpy-epochs", "numpy-lr-and-seed"])
def test_the_same_kinds_of_good_input_are_accepted(kwargs):
    """The checks refuse what is wrong, not what is merely unusual: names of devices, NumPy
    numbers."""
    history = _train(**kwargs)(None)()
    assert history.epochs_done == 1 and history.device == "cpu(0)"


def test_good_loader_inputs_are_accepted():
    images, labels = _arrays()
    loader = data.ArrayLoader(images / 255, labels.astype("int64"), onp.int64(64), shuffle=True,
                              seed=onp.uint8(1), device="cpu", resize=(onp.int64(32), 32))
    X, y = next(iter(loader))
    assert X.shape == (64, 1, 32, 32) and 0.5 < float(X.max()) <= 1.0 and y.dtype == onp.int32


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_input_names_the_problem_and_the_fix(case, tmp_path, monkeypatch, data_dir,
                                                  request):
    ctx = SimpleNamespace(tmp=tmp_path, data=data_dir, monkeypatch=monkeypatch, finalizers=[],
                          saved_run=request.getfixturevalue("saved_run")
                          if case.id.startswith("checkpoint-") else None)
    try:
        action = case.make(ctx)
        before = _snapshot(tmp_path)
        if case.error is None:
            message = action()
        else:
            with pytest.raises(case.error) as info:
                action()
            message = str(info.value)
        assert re.search(case.problem, message, re.S), f"problem not named: {message}"
        assert re.search(case.fix, message, re.S), f"no fix given: {message}"
        if case.never:
            assert not re.search(case.never, message, re.S), f"misleading: {message}"
        assert _snapshot(tmp_path) == before, "files were changed, lost or left behind"
    finally:
        for finalize in ctx.finalizers:
            finalize()
