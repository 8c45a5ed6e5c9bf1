"""Nothing lost, round two (issue 19): what a checkpoint folder may delete, what a resume checks
(the data too), manifests validated on read, checks before the first step, damaged or missing
results, data entries that are not files, bounded decompression, full disks and file-size limits,
and where CUDA libraries are loaded from.

Each family is a table. Every row makes real files under the test's folder, runs the action, and
asserts the outcome (the error and its key words: what is wrong and the fix) and that nothing
that was there is lost: every file the case put down is still there, byte for byte, unless the
row says it may go. Disk-full rows mount a small tmpfs (skipped, with the reason, where that is
not allowed); file-size limits use ``ulimit -f`` (RLIMIT_FSIZE) inside this process.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import mxnet as mx
import pytest
from mxnet import autograd, gluon, npx
from mxnet.gluon import nn
from test_checkpoint import Loader

from d2lcnn import config
from d2lcnn.lessons import LENET, LeNet, train
from d2lcnn.machine import cuda_libs
from d2lcnn.tools import comparison, data, run
from d2lcnn.tools.checkpoints import LOCK, MANIFEST, CheckpointError, Checkpoints, RunIdentity
from d2lcnn.tools.history import History, ResultsError, load_results, save_result
from d2lcnn.tools.run import TrainingRun

npx.set_np()

FASHION, MNIST = "fashion-mnist", "mnist"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"


@dataclass(frozen=True)
class Case:
    """``make(ctx)`` prepares the case under ``ctx.tmp`` and returns the action; the action
    raises ``error`` whose message matches ``problem`` and ``fix`` (regular expressions), or,
    with ``error=None``, returns a text that must match them. ``may_change``: names (relative to
    ``ctx.tmp``) of files the action may replace or remove (a run's own files)."""

    id: str
    make: Callable[[SimpleNamespace], Callable[[], object]]
    error: type[BaseException] | None
    problem: str
    fix: str
    may_change: tuple[str, ...] = ()


def _snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root``: a file's SHA-256, a link's target, a folder's mark. A
    checkpoint folder's lock counts by its presence only."""
    found = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder) / name
            key = str(path.relative_to(root))
            if path.is_symlink():
                found[key] = f"-> {os.readlink(path)}"
            elif path.is_dir():
                found[key] = "folder"
            elif name == LOCK:
                continue
            elif path.is_file():
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[key] = "special"
    return found


def _check(case: Case, ctx: SimpleNamespace) -> str:
    action = case.make(ctx)
    before = _snapshot(ctx.tmp)
    if case.error is None:
        message = str(action())
    else:
        with pytest.raises(case.error) as info:
            action()
        message = str(info.value)
    assert re.search(case.problem, message, re.S), f"problem not named: {message}"
    assert re.search(case.fix, message, re.S), f"no fix given: {message}"
    after = _snapshot(ctx.tmp)
    for name, digest in before.items():
        if not any(name == kept or name.startswith(kept + "/") for kept in case.may_change):
            assert after.get(name) == digest, f"{name} was changed or lost: {message}"
    return message


@pytest.fixture()
def ctx(tmp_path, monkeypatch, data_dir):
    context = SimpleNamespace(tmp=tmp_path, monkeypatch=monkeypatch, data=data_dir, cleanup=[])
    yield context
    for undo in reversed(context.cleanup):
        undo()


@contextmanager
def _file_size_limit(limit: int):
    """``ulimit -f limit`` for this process, while inside the block."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def _tmpfs(ctx, name: str, size: str = "2m", options: str = "") -> Path:
    """A small tmpfs mounted at ``ctx.tmp/name`` for the test (skipped where mounting is not
    allowed); unmounted afterwards."""
    folder = ctx.tmp / name
    folder.mkdir()
    opts = f"size={size}" + (f",{options}" if options else "")
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(folder)],
                         capture_output=True, text=True)
    if out.returncode:
        pytest.skip(f"a tmpfs cannot be mounted here ({out.stderr.strip()}), which this "
                    "disk-full case needs")
    ctx.cleanup.append(lambda: subprocess.run(["umount", "-l", str(folder)], check=False))
    return folder


def _fill(folder: Path, leave: int) -> None:
    """Fill ``folder``'s file system but for about ``leave`` bytes."""
    info = os.statvfs(folder)
    free = info.f_bavail * info.f_frsize
    (folder / "filler").write_bytes(bytes(max(0, free - leave)))


# --- a checkpointed run ---------------------------------------------------------------------


def _train(folder, num_epochs=2, resume=False, net=None, train_iter=None, test_iter=None,
           **kwargs):
    """LeNet on 200 real training images (batch 100, seed 0), tested on 100, checkpointed."""
    return train(net or LeNet(activation="relu"), train_iter or Loader(200),
                 test_iter or Loader(100, offset=50000), num_epochs=num_epochs, lr=0.05,
                 momentum=0.9, device=mx.cpu(), checkpoint_dir=folder, resume=resume, seed=0,
                 verbose=False, **kwargs)


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    """A checkpoint folder after 2 of 2 epochs (a finished run)."""
    folder = tmp_path_factory.mktemp("saved") / "run"
    _train(folder, num_epochs=2)
    return folder


@pytest.fixture()
def run_dir(ctx, saved_run) -> Path:
    folder = ctx.tmp / "run"
    shutil.copytree(saved_run, folder)
    return folder


def _epoch_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if re.fullmatch(r"epoch-\d{4}\..*params",
                                                                    p.name))


# --- family 1: the checkpoint folder's own files and the user's ------------------------------

USER_FILES = ["epoch-notes.txt", "epoch-0001-my-best.params", ".draft.tmp", "notes.md",
              "epoch-1.params", "EPOCH-0001.params", ".epoch-0001.params.tmp",
              ".checkpoint.json.bak.tmp", "epoch-0001.params.bak", "checkpoint.json.old"]


@pytest.mark.parametrize("name", USER_FILES)
def test_a_run_never_deletes_what_it_did_not_write(ctx, name):
    """Files named like the checkpoint's own (but not exactly them) survive three epochs and a
    resume in the same folder."""
    folder = ctx.tmp / "run"
    folder.mkdir()
    (folder / name).write_text(f"the user's {name}")
    (folder / "epoch-0002").mkdir()  # a folder named like an epoch's files
    _train(folder, num_epochs=2)
    _train(folder, num_epochs=3, resume=True)
    assert (folder / name).read_text() == f"the user's {name}"
    assert (folder / "epoch-0002").is_dir()
    assert _epoch_files(folder) == ["epoch-0003.params", "epoch-0003.trainer.params"]


def test_temporary_files_of_a_killed_write_are_removed_but_look_alikes_are_not(ctx, run_dir):
    killed = [".epoch-0003.params.a1b2c3d4.tmp", ".checkpoint.json.x_9y8z7w.tmp"]
    alike = [".epoch-0003.params.tmp", ".notes.a1b2c3d4.tmp", ".checkpoint.json.mine.tmp"]
    for name in killed + alike:
        (run_dir / name).write_text("partial")
    _train(run_dir, num_epochs=3, resume=True)
    left = {p.name for p in run_dir.iterdir()}
    assert not set(killed) & left and set(alike) <= left


def _refused_run(resume=False, damage=None, checkpoint=None, num_epochs=3):
    def make(ctx):
        folder = ctx.tmp / "run"
        shutil.copytree(ctx.saved_run, folder)
        (folder / "my-notes.txt").write_text("keep me")
        if damage is not None:
            damage(folder)
        target = checkpoint(folder) if checkpoint else folder
        return lambda: _train(target, num_epochs=num_epochs, resume=resume)
    return make


def _unfinished(folder):
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["history"]["num_epochs"] = 5
    (folder / MANIFEST).write_text(json.dumps(manifest))


def _no_manifest(folder):
    (folder / MANIFEST).unlink()


def _stray_epoch_files(folder):
    (folder / MANIFEST).unlink()
    (folder / "epoch-0002.params").rename(folder / "epoch-0001.params")


def _manifest_corrupt(folder):
    (folder / MANIFEST).write_text('{"format": 3, "epo')


OVERWRITE_FIX = r"resume=True to continue it.*overwrite=True\).*import Checkpoints\) to start again"
STRAY_FIX = r"left as they are: move them out of the folder.*another checkpoint_dir"

OWNERSHIP = [
    Case("finished-run-default-refused", _refused_run(), CheckpointError,
         r"already holds a run \(LeNet, 2 of 2 epoch\(s\) done\)", OVERWRITE_FIX),
    Case("finished-run-fewer-epochs-refused", _refused_run(num_epochs=1), CheckpointError,
         r"already holds a run", OVERWRITE_FIX),
    Case("unfinished-run-default-refused", _refused_run(damage=_unfinished), CheckpointError,
         r"already holds a run \(LeNet, 2 of 5 epoch\(s\) done\)", OVERWRITE_FIX),
    Case("unreadable-manifest-default-refused", _refused_run(damage=_manifest_corrupt),
         CheckpointError, r"already holds a run \(its checkpoint.json cannot be read\)",
         OVERWRITE_FIX),
    Case("epoch-files-without-manifest-resume", _refused_run(resume=True, damage=_no_manifest),
         CheckpointError, r"holds epoch-0002.params, epoch-0002.trainer.params but no "
         r"checkpoint.json.*cannot be resumed", STRAY_FIX),
    Case("epoch-files-without-manifest-default", _refused_run(damage=_stray_epoch_files),
         CheckpointError, r"holds epoch-0001.params, epoch-0002.trainer.params but no "
         r"checkpoint.json", STRAY_FIX),
    Case("epoch-files-without-manifest-overwrite",
         _refused_run(damage=_no_manifest, checkpoint=lambda f: Checkpoints(f, overwrite=True)),
         CheckpointError, r"but no checkpoint.json", STRAY_FIX),
    Case("resume-and-overwrite", _refused_run(resume=True, checkpoint=lambda f: Checkpoints(
        f, overwrite=True)), ValueError, r"resume=True continues.*overwrite=True starts it again",
         r"pass one of them"),
    Case("checkpoint-dir-a-number", lambda ctx: lambda: _train(123), TypeError,
         r"checkpoint_dir must be a folder \(a str or Path\), got 123 \(int\)",
         r"checkpoint_dir='checkpoints/lenet'"),
    Case("checkpoint-dir-a-list", lambda ctx: lambda: _train(["run"]), TypeError,
         r"got \['run'\] \(list\)", r"or None for no checkpoints"),
    Case("checkpoint-dir-empty-text", lambda ctx: lambda: _train(""), TypeError,
         r"got '' \(str\)", r"checkpoint_dir='checkpoints/lenet'"),
    Case("overwrite-as-text", lambda ctx: lambda: Checkpoints(ctx.tmp, overwrite="yes"),
         TypeError, r"overwrite must be True or False, got 'yes'", r"overwrite=True to start"),
]


@pytest.mark.parametrize("case", OWNERSHIP, ids=lambda c: c.id)
def test_a_folder_holding_a_run_is_never_overwritten_unasked(case, ctx, saved_run):
    ctx.saved_run = saved_run
    _check(case, ctx)


def test_overwrite_starts_again_and_removes_only_the_old_runs_files(ctx, run_dir):
    (run_dir / "my-notes.txt").write_text("keep me")
    history = _train(Checkpoints(run_dir, overwrite=True), num_epochs=1)
    assert history.epochs_done == 1
    assert _epoch_files(run_dir) == ["epoch-0001.params", "epoch-0001.trainer.params"]
    assert (run_dir / "my-notes.txt").read_text() == "keep me"
    assert Checkpoints(run_dir).latest()["epoch"] == 1


def test_the_same_training_cell_run_twice_without_a_folder_is_unchanged(ctx):
    """What the chapters do (no checkpoint_dir): training twice in one kernel still works."""
    first, second = _train(None), _train(None)
    assert first.train_loss == second.train_loss


# --- family 2: resume checks the data ---------------------------------------------------------


def _array_loader(name=FASHION, split="train", start=0, n=200, labels_change=None):
    images, labels = data.load_arrays(name, split)
    labels = labels[start:start + n].copy()
    if labels_change is not None:
        labels_change(labels)
    return data.ArrayLoader(images[start:start + n], labels, 100, device=mx.cpu())


def _bump_label(labels):
    labels[7] = (labels[7] + 1) % 10


def _resumed_on(train_iter=None, test_iter=None):
    def make(ctx):
        folder = ctx.tmp / "run"
        _train(folder, num_epochs=1, train_iter=_array_loader(),
               test_iter=_array_loader(split="test", n=100))
        return lambda: _train(folder, num_epochs=2, resume=True,
                              train_iter=train_iter() if train_iter else _array_loader(),
                              test_iter=test_iter() if test_iter else
                              _array_loader(split="test", n=100))
    return make


DATA_FIX = r"Resume with the same settings and data.*to train afresh"

RESUME_DATA = [
    Case("mnist-for-fashion-mnist", _resumed_on(lambda: _array_loader(MNIST)), CheckpointError,
         r"the training data differ: content SHA-256 .* then, .* now; the same number of "
         r"examples, but other ones", DATA_FIX),
    Case("another-slice-same-size", _resumed_on(lambda: _array_loader(start=1000)),
         CheckpointError, r"the training data differ: content SHA-256", DATA_FIX),
    Case("one-label-changed", _resumed_on(lambda: _array_loader(labels_change=_bump_label)),
         CheckpointError, r"the training data differ", DATA_FIX),
    Case("fewer-examples", _resumed_on(lambda: _array_loader(n=100)), CheckpointError,
         r"num train 200 then, 100 now.*examples 200 then, 100 now", DATA_FIX),
    Case("another-test-set", _resumed_on(test_iter=lambda: _array_loader(MNIST, "test", n=100)),
         CheckpointError, r"the test data differ: content SHA-256", DATA_FIX),
    Case("unreadable-loader-now", _resumed_on(lambda: _batches(_array_loader())),
         CheckpointError, r"the training data differ", DATA_FIX),
]


def _batches(loader):
    """A loader as a list of its (X, y) batches."""
    return list(loader)


@pytest.mark.parametrize("case", RESUME_DATA, ids=lambda c: c.id)
def test_resume_refuses_other_data(case, ctx):
    _check(case, ctx)


def test_resume_on_the_same_data_goes_on(ctx):
    folder = ctx.tmp / "run"
    _train(folder, num_epochs=1, train_iter=_array_loader(),
           test_iter=_array_loader(split="test", n=100))
    history = _train(folder, num_epochs=2, resume=True, train_iter=_array_loader(),
                     test_iter=_array_loader(split="test", n=100))
    assert history.epochs_done == 2


def test_the_manifest_records_data_set_split_subset_count_and_content(ctx, capsys):
    train_iter, test_iter = data.load_fashion_mnist(100, quick=True, device="cpu")
    identity = data.data_identity(train_iter)
    assert identity["dataset"] == FASHION and identity["split"] == "train"
    assert identity["subset"].startswith("quick ") and identity["num_examples"] == 1000
    assert re.fullmatch(r"[0-9a-f]{64}", identity["sha256"])
    assert data.data_identity(test_iter)["split"] == "test"
    batches = _batches(_array_loader(n=200))
    assert data.data_identity(batches)["num_examples"] == 200
    assert data.data_identity(iter(())) is None  # a loader that cannot be read up front
    folder = ctx.tmp / "run"
    _train(folder, num_epochs=1, train_iter=train_iter, test_iter=test_iter)
    run = Checkpoints(folder).latest()["run"]
    assert run["train_data"] == identity and run["test_data"]["num_examples"] == 500


# --- family 3: manifests validated on read ----------------------------------------------------


def _edited(change):
    def make(ctx):
        folder = ctx.tmp / "run"
        shutil.copytree(ctx.saved_run, folder)
        (ctx.tmp / "outside.params").write_bytes((folder / "epoch-0002.params").read_bytes())
        manifest = json.loads((folder / MANIFEST).read_text())
        change(manifest)
        (folder / MANIFEST).write_text(json.dumps(manifest))
        return lambda: _train(folder, num_epochs=3, resume=True)
    return make


def _rename_file(manifest, new):
    digest = manifest["files"].pop(manifest["params"])
    manifest["files"][new] = digest
    manifest["params"] = new


def _set(key, value):
    return lambda manifest: manifest.__setitem__(key, value)


def _set_in(outer, key, value):
    return lambda manifest: manifest[outer].__setitem__(key, value)


def _drop_in(outer, key):
    return lambda manifest: manifest[outer].pop(key)


MANIFEST_FIX = r"not a manifest this d2lcnn wrote.*to train afresh"

MANIFESTS = [
    Case("file-outside-the-folder", _edited(lambda m: _rename_file(m, "../outside.params")),
         CheckpointError, r"names the file '../outside.params'.*no other folder", MANIFEST_FIX),
    Case("absolute-file-name", _edited(lambda m: _rename_file(m, "/etc/hostname")),
         CheckpointError, r"names the file '/etc/hostname'", MANIFEST_FIX),
    Case("file-of-another-epoch", _edited(lambda m: _rename_file(m, "epoch-0001.params")),
         CheckpointError, r"says epoch 2 but names 'epoch-0001.params' as its params file",
         MANIFEST_FIX),
    Case("epoch-ahead-of-history", _edited(lambda m: (
        _set("epoch", 3)(m), _rename_file(m, "epoch-0003.params"),
        m.__setitem__("trainer", "epoch-0003.trainer.params"),
        m["files"].__setitem__("epoch-0003.trainer.params",
                               m["files"].pop("epoch-0002.trainer.params")))),
         CheckpointError, r"says epoch 3 but its history holds 2 epoch\(s\)", MANIFEST_FIX),
    Case("epoch-zero", _edited(_set("epoch", 0)), CheckpointError,
         r"has epoch 0, not a whole number ≥ 1", MANIFEST_FIX),
    Case("epoch-as-text", _edited(_set("epoch", "2")), CheckpointError,
         r"has epoch '2', not a whole number", MANIFEST_FIX),
    Case("files-not-a-table", _edited(_set("files", ["epoch-0002.params"])), CheckpointError,
         r"has files \['epoch-0002.params'\], not a table", MANIFEST_FIX),
    Case("checksum-not-sha256", _edited(lambda m: m["files"].__setitem__(m["params"], "abc")),
         CheckpointError, r"checksum that is not a SHA-256", MANIFEST_FIX),
    Case("run-without-data", _edited(_drop_in("run", "train_data")), CheckpointError,
         r"lacks the run's train_data", MANIFEST_FIX),
    Case("updates-damaged", _edited(_set("updates", {"count": 3})), CheckpointError,
         r"lacks the optimiser's update counts", MANIFEST_FIX),
    Case("history-with-text-for-a-number", _edited(lambda m: m["history"]["train_loss"].__setitem__(
        1, "low")), CheckpointError, r"damaged history \(the history's train_loss\[1\] is 'low', "
         r"not a number\)", MANIFEST_FIX),
    Case("required-key-missing", _edited(lambda m: m.pop("trainer")), CheckpointError,
         r"lacks 'trainer'", MANIFEST_FIX),
    Case("older-format", _edited(_set("format", 2)), CheckpointError,
         r"checkpoint format 2; this d2lcnn reads format 3", r"to train afresh"),
]


@pytest.mark.parametrize("case", MANIFESTS, ids=lambda c: c.id)
def test_manifests_are_validated_before_anything_is_followed(case, ctx, saved_run):
    ctx.saved_run = saved_run
    _check(case, ctx)


# --- family 4: checks before the first step ---------------------------------------------------


def _numpy_batches(ctx):
    batches = [(X.asnumpy(), y.asnumpy()) for X, y in _array_loader()]
    return lambda: train(LeNet(), batches, _array_loader(split="test", n=100), 1, 0.1,
                         device=mx.cpu(), verbose=False)


def _legacy_batches(ctx):
    batches = [(X.as_nd_ndarray(), y.as_nd_ndarray()) for X, y in _array_loader()]
    return lambda: train(LeNet(), batches, _array_loader(split="test", n=100), 1, 0.1,
                         device=mx.cpu(), verbose=False)


def _not_pairs(ctx):
    batches = [X for X, _ in _array_loader()]
    return lambda: train(LeNet(), batches, _array_loader(split="test", n=100), 1, 0.1,
                         device=mx.cpu(), verbose=False)


def _sizes_differ(ctx):
    images, labels = data.load_arrays(FASHION, "test")
    test_iter = data.ArrayLoader(images[:100], labels[:100], 100, resize=32, device=mx.cpu())
    return lambda: _train(ctx.tmp / "run", train_iter=_array_loader(), test_iter=test_iter)


def _too_small_for_the_net(ctx):
    net = nn.HybridSequential()
    net.add(nn.Conv2D(6, kernel_size=32), nn.Dense(10))  # needs images of 32×32 at least
    return lambda: train(net, _array_loader(), _array_loader(split="test", n=100), 1, 0.1,
                         device=mx.cpu(), verbose=False)


def _results_dir(make_path):
    def make(ctx):
        target = make_path(ctx)
        ctx.monkeypatch.setenv(config.RESULTS_DIR_ENV, str(target))
        return lambda: _train(ctx.tmp / "run")
    return make


def _a_file(ctx):
    (ctx.tmp / "results").write_text("not a folder")
    return ctx.tmp / "results"


def _under_a_file(ctx):
    return _a_file(ctx) / "mine"


def _read_only_mount(ctx):
    return _tmpfs(ctx, "ro", options="ro") / "mine"


def _full_results_disk(ctx):
    folder = _tmpfs(ctx, "full", size="2m")
    _fill(folder, 200_000)
    return folder


def _limited(limit, action_of):
    def make(ctx):
        action = action_of(ctx)

        def run():
            with _file_size_limit(limit):
                return action()
        return run
    return make


def _full_checkpoint_disk(ctx):
    folder = _tmpfs(ctx, "full", size="1m")
    return lambda: _train(folder / "run")


WRITABLE_FIX = r"before the (run's results are lost|first epoch is lost)"

PREFLIGHT = [
    Case("numpy-batches", _numpy_batches, TypeError,
         r"train_iter's batches hold X as numpy.ndarray, but training needs MXNet arrays",
         r"ArrayLoader\(images, labels, batch_size\).*mxnet.np.array\(X\)"),
    Case("legacy-nd-batches", _legacy_batches, TypeError,
         r"hold X as mxnet.NDArray", r"X.as_np_ndarray\(\)"),
    Case("batches-not-pairs", _not_pairs, TypeError,
         r"train_iter must yield \(X, y\) batches, its first item is ndarray",
         r"a list of \(X, y\) batches"),
    Case("train-and-test-sizes-differ", _sizes_differ, ValueError,
         r"test_iter's images are 1×32×32 but train_iter's are 1×28×28, and the network "
         r"cannot take both", r"the same resize="),
    Case("images-too-small-for-the-network", _too_small_for_the_net, ValueError,
         r"the network cannot take train_iter's images of 1×28×28",
         r"resize the images to the size the network is built for"),
    Case("results-dir-is-a-file", _results_dir(_a_file), ResultsError,
         r"the results folder .*results \(D2LCNN_RESULTS_DIR\) is a file, not a folder",
         r"set D2LCNN_RESULTS_DIR to a folder you can write to.*" + WRITABLE_FIX),
    Case("results-dir-under-a-file", _results_dir(_under_a_file), ResultsError,
         r"is under .*results, which is a file, not a folder", WRITABLE_FIX),
    Case("results-dir-read-only", _results_dir(_read_only_mount), ResultsError,
         r"cannot be written \(.*read-only", WRITABLE_FIX),
    Case("results-disk-full", _results_dir(_full_results_disk), ResultsError,
         r"is on a full disk \(\d[\d,]* bytes free\)", r"free some space"),
    Case("results-file-size-limit", _limited(200_000, lambda ctx: lambda: _train(None)),
         ResultsError, r"a file-size limit \(ulimit -f\) of 200,000 bytes",
         r"ulimit -f unlimited"),
    Case("checkpoint-file-size-limit", _limited(1_200_000, lambda ctx: lambda: _train(
        ctx.tmp / "run")), CheckpointError, r"a file-size limit \(ulimit -f\) of 1.1 MiB is "
         r"below the .* of this network's parameters", r"before the first epoch is lost"),
    Case("checkpoint-disk-nearly-full", _full_checkpoint_disk, CheckpointError,
         r"nearly full: .* free, a checkpoint of this network needs",
         r"free some space or choose another checkpoint_dir, before the first epoch"),
    Case("overwrite-without-folder", lambda ctx: lambda: TrainingRun(
        LeNet(), _array_loader(), _array_loader(n=100), 1, 0.1, device=mx.cpu(), overwrite=True),
         ValueError, r"overwrite=True needs checkpoint_dir=", r"the folder whose run it replaces"),
]


@pytest.mark.parametrize("case", PREFLIGHT, ids=lambda c: c.id)
def test_what_can_be_seen_up_front_never_costs_an_epoch(case, ctx, monkeypatch):
    epochs = []
    real = run.TrainingRun.epochs

    def counted(self):
        for epoch in real(self):
            epochs.append(epoch)
            yield epoch

    monkeypatch.setattr(run.TrainingRun, "epochs", counted)
    _check(case, ctx)
    assert epochs == [], "an epoch ran before the problem was found"


# --- family 5: writes that fail: disk full, file-size limits ----------------------------------


def _net_and_trainer():
    net = LeNet()
    net.initialize(ctx=mx.cpu())
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1,
                                                          "momentum": 0.9},
                            update_on_kvstore=False)
    X, y = next(iter(_array_loader()))
    with autograd.record():
        loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(X), y)
    loss.backward()
    trainer.step(100)
    return net, trainer


def _save_into(folder_of, limit=None):
    """Save epoch 2 of a run straight into ``folder_of(ctx)`` (bypassing the checks before the
    first step, as a disk that fills up during training does)."""
    def make(ctx):
        folder = folder_of(ctx)
        net, trainer = _net_and_trainer()
        history = History("LeNet", "cpu(0)", 2, 100, "0.1", False, 200, 100, (1, 28, 28),
                          train_loss=[1.0, 0.9], train_acc=[0.5, 0.6], test_acc=[0.5, 0.6],
                          examples_per_sec=[1.0, 1.0])
        checkpoints = Checkpoints(folder)

        def save():
            identity = RunIdentity("LeNet", repr(net), 100, 200, 0, "sgd")
            if limit is None:
                return checkpoints.save(2, net, trainer, history, identity)
            with _file_size_limit(limit):
                return checkpoints.save(2, net, trainer, history, identity)
        return save
    return make


def _copy_of_saved(ctx):
    folder = ctx.tmp / "run"
    shutil.copytree(ctx.saved_run, folder)
    return folder


def _nearly_full_disk(ctx):
    folder = _tmpfs(ctx, "full", size="1m")
    shutil.copytree(ctx.saved_run, folder / "run")
    _fill(folder, 100_000)
    return folder / "run"


def _results_into(folder_of, limit=None):
    def make(ctx):
        folder = folder_of(ctx)
        history = History("LeNet", "cpu(0)", 1, 100, "0.1", False, 200, 100, (1, 28, 28),
                          train_loss=[1.0], train_acc=[0.5], test_acc=[0.5],
                          examples_per_sec=[1.0], form_reason="x" * 1_200_000)

        def save():
            if limit is None:
                return save_result(history, "lenet", folder)
            with _file_size_limit(limit):
                return save_result(history, "lenet", folder)
        return save
    return make


def _full_results_folder(ctx):
    folder = _tmpfs(ctx, "full", size="2m")
    _fill(folder, 50_000)
    return folder


FAILED_WRITES = [
    Case("checkpoint-file-size-limit-while-saving", _save_into(_copy_of_saved, 100_000),
         CheckpointError, r"run/epoch-0002.params could not be written \(a file-size limit "
         r"\(ulimit -f\) of 100,000 bytes\); nothing half-written was left and the checkpoint "
         r"of epoch 1 is intact", r"raise the limit\) and resume with resume=True"),
    Case("checkpoint-disk-full-while-saving", _save_into(_nearly_full_disk), CheckpointError,
         r"epoch-0002.params could not be written \(the disk is full: .* free\); nothing "
         r"half-written was left", r"free some space"),
    Case("results-file-size-limit-while-saving", _results_into(
        lambda ctx: ctx.tmp / "results", 1_100_000), ResultsError,
         r"results/lenet.json could not be saved \(a file-size limit \(ulimit -f\)\); nothing "
         r"half-written was left",
         r"then save it again \(the history is still in memory\)"),
    Case("results-disk-full-while-saving", _results_into(_full_results_folder), ResultsError,
         r"is on a full disk|could not be saved \(the disk is full\)", r"free some space"),
]


@pytest.mark.parametrize("case", FAILED_WRITES, ids=lambda c: c.id)
def test_a_failed_write_names_the_file_and_leaves_nothing_half_written(case, ctx, saved_run):
    ctx.saved_run = saved_run
    _check(case, ctx)
    leftovers = [p for p in ctx.tmp.rglob("*.tmp")]
    assert leftovers == [], f"temporary files left: {leftovers}"


# --- family 6: results files and folders ------------------------------------------------------


@pytest.fixture(scope="module")
def good_result() -> dict:
    return History("LeNet", "cpu(0)", 2, 100, "0.9", False, 200, 100, (1, 28, 28), form="book",
                   train_loss=[1.0, 0.8], train_acc=[0.6, 0.7], test_acc=[0.6, 0.7],
                   examples_per_sec=[900.0, 950.0], train_seconds=1.0,
                   total_seconds=2.0).to_dict()


def _result_file(change=None, raw=None, folder_named=False):
    def make(ctx):
        folder = ctx.tmp / "mine"
        folder.mkdir()
        path = folder / "lenet-book.json"
        if folder_named:
            path.mkdir()
        else:
            record = json.loads(json.dumps(ctx.good_result))  # a deep copy
            if change:
                change(record)
            path.write_text(raw if raw is not None else json.dumps(record))
        return lambda: load_results(folder)
    return make


RESULT_FIX = r"delete it|rename or remove it|train again"

RESULTS = [
    Case("empty-lists", _result_file(lambda r: r.update(train_loss=[], train_acc=[],
                                                         test_acc=[], examples_per_sec=[])),
         ResultsError, r"lenet-book.json holds no finished epoch", RESULT_FIX),
    Case("text-for-a-number", _result_file(lambda r: r["test_acc"].__setitem__(1, "0.7")),
         ValueError, r"lenet-book.json .*test_acc\[1\] is '0.7', not a number", RESULT_FIX),
    Case("a-folder-named-like-a-result", _result_file(folder_named=True), ResultsError,
         r"lenet-book.json is a folder, not a results file", r"rename or remove it"),
    Case("lists-of-different-lengths", _result_file(lambda r: r["train_acc"].pop()),
         ValueError, r"per-epoch lists differ in length \(train_loss 2, train_acc 1", RESULT_FIX),
    Case("count-as-text", _result_file(lambda r: r.update(num_train="200")), ValueError,
         r"num_train is '200', not a whole number", RESULT_FIX),
    Case("quick-as-text", _result_file(lambda r: r.update(quick="no")), ValueError,
         r"quick is 'no', not true or false", RESULT_FIX),
    Case("input-shape-damaged", _result_file(lambda r: r.update(input_shape="28x28")),
         ValueError, r"input_shape is '28x28', not a list of sizes", RESULT_FIX),
    Case("a-list-for-a-list-of-numbers", _result_file(lambda r: r.update(train_loss=1.0)),
         ValueError, r"train_loss is 1.0, not a list", RESULT_FIX),
    Case("not-json", _result_file(raw="{'network': "), ValueError,
         r"lenet-book.json is not a training history", RESULT_FIX),
    Case("a-json-list", _result_file(raw="[1, 2]"), ValueError,
         r"a training history is a JSON object, not list", RESULT_FIX),
    Case("missing-key", _result_file(lambda r: r.pop("device")), ValueError,
         r"the history lacks device", RESULT_FIX),
    Case("nan-accepted-as-a-number", _result_file(lambda r: r["train_loss"].__setitem__(0, None)),
         ValueError, r"train_loss\[0\] is None, not a number", RESULT_FIX),
]


@pytest.mark.parametrize("case", RESULTS, ids=lambda c: c.id)
def test_damaged_results_are_named_with_the_wrong_field(case, ctx, good_result):
    ctx.good_result = good_result
    _check(case, ctx)


def _compare_with(own, env=False):
    def make(ctx):
        reference = ctx.tmp / "reference"
        reference.mkdir()
        target = ctx.tmp / own
        if env:
            ctx.monkeypatch.setenv(config.RESULTS_DIR_ENV, str(target))
            return lambda: comparison.compare(reference, None, {"lenet": LENET})
        return lambda: comparison.compare(reference, target, {"lenet": LENET})
    return make


def _compare_default(ctx):
    (ctx.tmp / "reference").mkdir()
    ctx.monkeypatch.delenv(config.RESULTS_DIR_ENV, raising=False)
    ctx.monkeypatch.chdir(ctx.tmp)
    return lambda: str(comparison.compare(ctx.tmp / "reference", None, {"lenet": LENET}))


COMPARISONS = [
    Case("own-folder-misspelt-in-the-environment", _compare_with("mien", env=True), ResultsError,
         r"the results folder .*mien \(D2LCNN_RESULTS_DIR=\) does not exist",
         r"check its name, or unset it"),
    Case("own-folder-argument-missing", _compare_with("nowhere"), ResultsError,
         r"nowhere \(own_dir=\) does not exist, so none of your runs could be read",
         r"check its name"),
    Case("reference-folder-missing", lambda ctx: lambda: comparison.compare(
        ctx.tmp / "no-reference", ctx.tmp, {"lenet": LENET}), ResultsError,
         r"the reference results folder .*no-reference does not exist",
         r"run this from the series' notebooks/ folder, or pass reference_dir="),
    Case("default-own-folder-not-made-yet", _compare_default, None,
         r"no runs of yours yet: results/mine does not exist", r"a chapter's training run saves"),
    Case("save-into-a-file", lambda ctx: (ctx.tmp.joinpath("f").write_text("x"), lambda: save_result(
        History.from_dict(ctx.good_result), "lenet", ctx.tmp / "f"))[1], ResultsError,
         r"the results folder .*/f is a file, not a folder", r"a folder you can write to"),
]


@pytest.mark.parametrize("case", COMPARISONS, ids=lambda c: c.id)
def test_missing_results_folders_are_said(case, ctx, good_result):
    ctx.good_result = good_result
    _check(case, ctx)


def test_committed_reference_results_pass_the_checks():
    reference = Path(__file__).resolve().parents[1] / "notebooks" / config.REFERENCE_RESULTS
    runs = load_results(reference)
    assert len(runs) >= 9 and all(h.epochs_done for h in runs.values())


# --- family 7: data entries that are not files, bounded decompression -------------------------


def _isolated(ctx):
    ctx.monkeypatch.setenv(config.DATA_DIR_ENV, str(ctx.tmp / "data"))
    ctx.monkeypatch.setenv(config.MXNET_HOME_ENV, str(ctx.tmp / "mxnet"))
    for name, spec in data.DATASETS.items():
        ctx.monkeypatch.setitem(data.DATASETS, name, replace(spec, system_dirs=()))

    def no_download(url, timeout=None):
        raise AssertionError(f"a download was attempted: {url}")

    ctx.monkeypatch.setattr(data.urllib.request, "urlopen", no_download)


def _data_folder(ctx, where: str, entry) -> Path:
    """The real Fashion-MNIST files linked into ``ctx.tmp/<where>``, the test labels replaced
    by ``entry(path)``."""
    folder = ctx.tmp / where
    folder.mkdir(parents=True)
    for name in data.DATASETS[FASHION].file_names:
        if name != TEST_LABELS:
            (folder / name).symlink_to(ctx.data / FASHION / name)
    entry(folder / TEST_LABELS, ctx)
    return folder


def _a_directory(path, ctx):
    path.mkdir()
    (path / "inside.txt").write_text("the user's")


def _dangling(path, ctx):
    path.symlink_to(ctx.tmp / "gone" / TEST_LABELS)


def _loop(path, ctx):
    path.symlink_to(path.name)


def _two_link_loop(path, ctx):
    other = path.parent / "other-link"
    path.symlink_to(other)
    other.symlink_to(path)


def _link_to_a_directory(path, ctx):
    (ctx.tmp / "a-dir").mkdir()
    path.symlink_to(ctx.tmp / "a-dir")


def _fifo(path, ctx):
    os.mkfifo(path)


def _raw_name_directory(path, ctx):
    path.with_name(TEST_LABELS.removesuffix(".gz")).mkdir()


def _entry_case(entry, where="data/fashion-mnist", via="env"):
    def make(ctx):
        _isolated(ctx)
        folder = _data_folder(ctx, where, entry)
        if via == "root":
            return lambda: data.load_arrays(FASHION, "test", root=folder)
        return lambda: data.load_arrays(FASHION, "test")
    return make


def _bomb(ctx):
    _isolated(ctx)

    def entry(path, ctx):
        with gzip.open(path, "wb", compresslevel=9) as f:
            for _ in range(64):  # 64 MiB of zeros, a few hundred kilobytes compressed
                f.write(bytes(2**20))
    folder = _data_folder(ctx, "data/fashion-mnist", entry)
    return lambda: data.load_arrays(FASHION, "test", root=folder)


def _huge_uncompressed(ctx):
    _isolated(ctx)

    def entry(path, ctx):
        path.unlink(missing_ok=True)
        raw = path.with_name(TEST_LABELS.removesuffix(".gz"))
        with open(raw, "wb") as f:
            f.truncate(4 * 2**30)  # a sparse 4 GiB file: refused unread

    folder = _data_folder(ctx, "data/fashion-mnist", entry)
    return lambda: data.load_arrays(FASHION, "test", root=folder)


def _root_without_the_files(ctx):
    _isolated(ctx)
    (ctx.tmp / "my-data").mkdir()
    shutil.copy(ctx.data / FASHION / TEST_IMAGES, ctx.tmp / "my-data" / TEST_IMAGES)
    # the env folder holds everything: a root without the files must not fall back to it
    (ctx.tmp / "data").symlink_to(ctx.data)
    return lambda: data.load_arrays(FASHION, "test", root=ctx.tmp / "my-data")


ENTRY_FIX = r"Nothing was downloaded over it"

DATA_ENTRIES = [
    Case("directory-for-a-file", _entry_case(_a_directory), data.DataEntryError,
         r"t10k-labels-idx1-ubyte.gz: a folder, where the test labels file", ENTRY_FIX),
    Case("directory-for-a-file-under-root", _entry_case(_a_directory, "mine", "root"),
         data.DataEntryError, r"mine/t10k-labels-idx1-ubyte.gz: a folder",
         r"move it out of the way.*" + ENTRY_FIX),
    Case("directory-in-the-cache", _entry_case(_a_directory, "mxnet/datasets/fashion-mnist"),
         data.DataEntryError, r"datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz: a folder",
         ENTRY_FIX),
    Case("dangling-link", _entry_case(_dangling), data.DataEntryError,
         r"a symbolic link to .*gone/t10k-labels-idx1-ubyte.gz, which does not exist "
         r"\(a dangling link\)", r"point it at the real file.*" + ENTRY_FIX),
    Case("dangling-link-in-the-cache", _entry_case(_dangling, "mxnet/datasets/fashion-mnist"),
         data.DataEntryError, r"dangling link", ENTRY_FIX),
    Case("link-to-itself", _entry_case(_loop), data.DataEntryError,
         r"a symbolic link that loops", ENTRY_FIX),
    Case("two-links-in-a-loop", _entry_case(_two_link_loop), data.DataEntryError,
         r"a symbolic link that loops", ENTRY_FIX),
    Case("link-to-a-directory", _entry_case(_link_to_a_directory), data.DataEntryError,
         r"a symbolic link to .*a-dir, which is not a file", ENTRY_FIX),
    Case("a-named-pipe", _entry_case(_fifo), data.DataEntryError,
         r"not a regular file \(a device, pipe or socket\)", ENTRY_FIX),
    Case("directory-with-the-uncompressed-name", _entry_case(
        lambda p, c: (_raw_name_directory(p, c), _dangling(p, c))),
         data.DataEntryError, r"t10k-labels-idx1-ubyte(.gz)?: (a folder|a symbolic link)",
         ENTRY_FIX),
    Case("root-without-the-files", _root_without_the_files, data.DataNotFoundError,
         r"root=.*my-data' does not hold Fashion-MNIST: train-images-idx3-ubyte.gz, "
         r"train-labels-idx1-ubyte.gz, t10k-labels-idx1-ubyte.gz are in neither",
         r"nothing else is searched and nothing is downloaded.*leave root=None"),
    Case("gzip-bomb", _bomb, data.IDXFormatError,
         r"inflates to more than [\d,]+ bytes \(the largest file of Fashion-MNIST: 47,040,016 "
         r"bytes at most\), so it was not inflated further", r"delete it and provide a fresh"),
    Case("huge-uncompressed-file", _huge_uncompressed, data.IDXFormatError,
         r"4,294,967,296 bytes, more than this file can hold", r"delete it and provide"),
]


@pytest.mark.parametrize("case", DATA_ENTRIES, ids=lambda c: c.id)
def test_data_entries_that_are_not_files_are_named_and_never_downloaded_over(case, ctx):
    _check(case, ctx)


@pytest.mark.skipif(os.geteuid() == 0, reason="root searches any folder: mode 000 stops no one")
def test_an_unsearchable_data_folder_is_named(ctx):
    _isolated(ctx)
    folder = _data_folder(ctx, "data/fashion-mnist", lambda p, c: p.symlink_to(
        c.data / FASHION / TEST_LABELS))
    folder.chmod(0)
    try:
        with pytest.raises(data.DataPermissionError, match=r"permission denied.*chmod a\+rx"):
            data.load_arrays(FASHION, "test")
    finally:
        folder.chmod(0o755)


def test_a_good_gzip_within_the_bound_still_loads(ctx):
    folder = ctx.tmp / "copy"
    folder.mkdir()
    for name in data.DATASETS[FASHION].file_names:
        raw = data.read_payload(ctx.data / FASHION / name)
        (folder / name).write_bytes(gzip.compress(raw, compresslevel=1))
    images, labels = data.load_arrays(FASHION, "test", root=folder)
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)


# --- family 8: where CUDA libraries are loaded from ------------------------------------------


class _Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self, path):
        self.calls.append(path)
        return object()


def _planted_gpu_install(root: Path) -> Path:
    """``root/nvidia/…/libcudart.so.11.0`` and a GPU build's record, as a hostile working folder
    (or an unrelated sys.path entry) could hold them."""
    for lib in cuda_libs.LIBRARIES:
        folder = root / "nvidia" / lib.folder / "lib"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / lib.soname).write_bytes(b"")
    info = root / "mxnet_cu117-1.9.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "RECORD").write_text("mxnet/libmxnet.so,sha256=y,64\n")
    (root / "mxnet").mkdir(exist_ok=True)
    (root / "mxnet" / "libmxnet.so").write_bytes(bytes(64))
    return root


@pytest.fixture()
def fresh_preload(monkeypatch):
    monkeypatch.setattr(cuda_libs, "_report", None)
    monkeypatch.delenv(cuda_libs.NO_PRELOAD_ENV, raising=False)


def test_libraries_in_the_working_folder_are_never_loaded(tmp_path, monkeypatch, fresh_preload):
    _planted_gpu_install(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", str(tmp_path), *sys.path])
    loader = _Recorder()
    report = cuda_libs.preload(loader=loader)
    assert not any(str(tmp_path) in call for call in loader.calls)
    assert all(str(tmp_path) not in str(path) for path in report.loaded.values())


@pytest.mark.parametrize("entries", [[""], ["."], ["nvidia-here"], ["", "."]],
                         ids=["empty-entry", "dot", "relative", "both"])
def test_relative_search_entries_are_ignored(tmp_path, monkeypatch, fresh_preload, entries):
    _planted_gpu_install(tmp_path)
    _planted_gpu_install(tmp_path / "nvidia-here")
    monkeypatch.chdir(tmp_path)
    loader = _Recorder()
    report = cuda_libs.preload(entries, loader=loader)
    assert loader.calls == [] and report.loaded == {} and "CPU install" in report.skipped


def test_site_folders_are_absolute_and_exist():
    sites = cuda_libs.site_packages_dirs()
    assert sites and all(p.is_absolute() and p.is_dir() for p in sites)
    assert Path.cwd() not in sites


def test_the_cpu_build_over_the_gpu_build_loads_nothing(tmp_path, fresh_preload):
    site = _planted_gpu_install(tmp_path / "site")
    (site / "mxnet" / "libmxnet.so").write_bytes(bytes(32))  # the CPU build's file, unpacked last
    loader = _Recorder()
    report = cuda_libs.preload([str(site)], loader=loader)
    assert loader.calls == [] and "CPU build is installed over its GPU build" in report.skipped
    assert "pip install --force-reinstall --no-deps mxnet-cu117==1.9.1" in report.warnings[0]


def test_the_gpu_build_in_a_site_folder_still_loads(tmp_path, fresh_preload):
    site = _planted_gpu_install(tmp_path / "site")
    loader = _Recorder()
    report = cuda_libs.preload([str(site)], loader=loader)
    assert list(report.loaded) == [lib.soname for lib in cuda_libs.LIBRARIES]


def test_the_tables_are_big_enough():
    tables = [OWNERSHIP, RESUME_DATA, MANIFESTS, PREFLIGHT, FAILED_WRITES, RESULTS, COMPARISONS,
              DATA_ENTRIES]
    assert sum(map(len, tables)) + len(USER_FILES) >= 60


# An uninitialised network handed to the evaluation helpers.

@pytest.mark.parametrize("helper", ["evaluate_accuracy", "predict"])
def test_an_uninitialised_net_is_named_before_any_batch(helper):
    from mxnet import np

    import d2lcnn.lessons as lessons

    batches = [(np.zeros((2, 1, 28, 28)), np.zeros((2,), dtype="int32"))]
    with pytest.raises(ValueError, match=r"not been initialised: call net.initialize\(\)"):
        getattr(lessons, helper)(LeNet(), batches)
