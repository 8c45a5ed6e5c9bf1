"""Checkpoints: saved each epoch, atomically, checked before loading; ``resume=True`` continues
from the last complete epoch and ends where an uninterrupted run ends (real Fashion-MNIST, CPU)."""

from __future__ import annotations

import json
import threading

import mxnet as mx
import numpy as onp
import pytest
from mxnet import npx

from d2lcnn import config
from d2lcnn.lessons import LeNet, train, train_parallel
from d2lcnn.tools import data
from d2lcnn.tools.checkpoints import MANIFEST, CheckpointError, Checkpoints
from d2lcnn.tools.history import History, write_atomically

npx.set_np()


class Loader:
    """Fashion-MNIST batches (no shuffling, so an interrupted and an uninterrupted run see the same
    ones) that can stop the run: ``crash_at=(epoch, batch)`` raises there, as a killed kernel would
    stop it. Passes on the loader's attributes that train() reads."""

    def __init__(self, num_examples=600, batch_size=100, offset=0, crash_at=None):
        images, labels = data.load_arrays("fashion-mnist", "train")
        part = slice(offset, offset + num_examples)
        self.inner = data.ArrayLoader(images[part], labels[part], batch_size, device=mx.cpu())
        self.num_examples, self.batch_size = self.inner.num_examples, batch_size
        self.image_shape, self.labels = self.inner.image_shape, self.inner.labels
        self.data_identity = self.inner.data_identity  # what resume checks the data by
        self.crash_at, self.epoch = crash_at, 0

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        self.epoch += 1
        for i, batch in enumerate(self.inner):
            if self.crash_at == (self.epoch, i):
                raise KeyboardInterrupt("stopped mid-epoch")
            yield batch


def run(folder, num_epochs, resume=False, crash_at=None, devices=None, seed=0, momentum=0.9,
        net=None):
    net = net or LeNet(activation="relu")
    history = train_parallel(net, Loader(crash_at=crash_at), Loader(200, offset=50000),
                             num_epochs=num_epochs, lr=0.05, devices=devices or [mx.cpu(0)],
                             momentum=momentum, checkpoint_dir=folder, resume=resume,
                             seed=seed, verbose=False)
    return net, history


def weights(net) -> list[onp.ndarray]:
    return [p.data().asnumpy() for p in net.collect_params().values()]


def assert_same_weights(a, b):
    for x, y in zip(weights(a), weights(b), strict=True):
        onp.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Three epochs in one go (SGD with momentum): (net, history, checkpoint folder)."""
    folder = tmp_path_factory.mktemp("straight")
    return (*run(folder, num_epochs=3), folder)


def test_each_epoch_leaves_one_complete_checkpoint(uninterrupted):
    _, history, folder = uninterrupted
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoint.json", "checkpoint.lock", "epoch-0003.params", "epoch-0003.trainer.params"]
    manifest = Checkpoints(folder).latest()
    assert manifest["epoch"] == 3 and set(manifest["files"]) == {
        "epoch-0003.params", "epoch-0003.trainer.params"}
    assert manifest["run"]["batch_size"] == 100 and manifest["run"]["num_train"] == 600
    assert "Activation(relu)" in manifest["run"]["architecture"]
    saved = History.from_dict(manifest["history"])
    saved.total_seconds = history.total_seconds  # the run's clock ran on after its last save
    assert saved == history


def test_trainer_state_is_arrays_not_a_pickle(uninterrupted):
    _, _, folder = uninterrupted
    raw = (folder / "epoch-0003.trainer.params").read_bytes()
    assert not raw.startswith(b"\x80")  # a pickle starts with its protocol byte
    arrays = mx.nd.load(str(folder / "epoch-0003.trainer.params"))
    assert len(arrays) == 10  # a momentum buffer per weight and bias of LeNet's 5 layers


def test_resume_after_a_finished_epoch_ends_where_the_straight_run_ends(tmp_path, uninterrupted):
    run(tmp_path, num_epochs=2)  # "stopped" after epoch 2
    net, history = run(tmp_path, num_epochs=3, resume=True)
    assert_same_weights(net, uninterrupted[0])  # momentum restored too
    onp.testing.assert_allclose(history.train_loss, uninterrupted[1].train_loss, rtol=1e-5)


def test_run_stopped_mid_epoch_loses_only_that_epoch(tmp_path, uninterrupted):
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, num_epochs=3, crash_at=(2, 3))
    assert Checkpoints(tmp_path).latest()["epoch"] == 1
    net, history = run(tmp_path, num_epochs=3, resume=True)
    assert_same_weights(net, uninterrupted[0])
    assert history.epochs_done == 3


def test_resume_on_two_devices(tmp_path):
    straight, _ = run(tmp_path / "a", num_epochs=2, devices=[mx.cpu(0), mx.cpu(1)])
    run(tmp_path / "b", num_epochs=1, devices=[mx.cpu(0), mx.cpu(1)])
    resumed, _ = run(tmp_path / "b", num_epochs=2, resume=True, devices=[mx.cpu(0), mx.cpu(1)])
    assert_same_weights(resumed, straight)


def test_a_crash_while_writing_keeps_the_previous_file(tmp_path):
    path = tmp_path / "checkpoint.json"
    path.write_text('{"epoch": 1}')

    def write_half_then_die(tmp):
        with open(tmp, "w") as f:
            f.write('{"epoch": 2, "par')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, write_half_then_die)
    assert json.loads(path.read_text()) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.json"]


def test_threads_writing_one_file_never_collide(tmp_path):
    path, failures = tmp_path / "history.json", []

    def writer(n):
        for i in range(50):
            text = json.dumps({"writer": n, "i": i, "padding": "x" * 2000})
            try:
                write_atomically(path, lambda tmp, t=text: open(tmp, "w").write(t))
                json.loads(path.read_text())
            except Exception as err:  # noqa: BLE001 - collected, asserted below
                failures.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and [p.name for p in tmp_path.iterdir()] == ["history.json"]


def test_resume_without_checkpoint_starts_afresh(tmp_path, capsys):
    train(LeNet(), Loader(200), Loader(100, offset=50000), num_epochs=1, lr=0.9,
          device=mx.cpu(), checkpoint_dir=tmp_path / "new", resume=True, seed=0)
    assert "resuming" not in capsys.readouterr().out
    assert (tmp_path / "new" / MANIFEST).exists()


def test_resuming_a_finished_run_returns_its_history(tmp_path, capsys):
    _, first = run(tmp_path, num_epochs=1)
    _, again = run(tmp_path, num_epochs=1, resume=True)
    assert again.train_loss == first.train_loss


def test_a_finished_run_continues_with_more_epochs(tmp_path, uninterrupted):
    run(tmp_path, num_epochs=2)
    _, history = run(tmp_path, num_epochs=3, resume=True)
    assert history.epochs_done == 3 and history.num_epochs == 3


def test_iterator_state_is_saved_and_restored(tmp_path):
    class Stateful(Loader):
        restored = None

        def state_dict(self):
            return {"epoch": self.epoch}

        def load_state_dict(self, state):
            Stateful.restored = state

    kwargs = {"num_epochs": 2, "lr": 0.9, "device": mx.cpu(), "checkpoint_dir": tmp_path,
              "verbose": False, "seed": 0}
    train(LeNet(), Stateful(200), Loader(100, offset=50000), **kwargs)
    assert Checkpoints(tmp_path).latest()["train_iter_state"] == {"epoch": 2}
    train(LeNet(), Stateful(200), Loader(100, offset=50000), resume=True,
          **{**kwargs, "num_epochs": 3})
    assert Stateful.restored == {"epoch": 2}


def test_shuffled_run_resumes_exactly(tmp_path):
    """With a shuffling ArrayLoader, 1 epoch + resume to 3 ends with the weights of 3 straight
    epochs: the loader's state in the checkpoint gives the resumed run the same batch order."""
    images, labels = data.load_arrays("fashion-mnist", "train")

    def straight_or_resumed(folder, epochs_first):
        config.set_seed(0)
        nets = []
        for num_epochs, resume in ((epochs_first, False), (3, True)):
            loader = data.ArrayLoader(images[:600], labels[:600], 100, shuffle=True, seed=4)
            net = LeNet()
            train(net, loader, Loader(200, offset=50000), num_epochs=num_epochs, lr=0.9,
                  device=mx.cpu(), checkpoint_dir=folder, resume=resume, verbose=False)
            nets.append(net)
        return nets[-1]

    straight = straight_or_resumed(tmp_path / "straight", 3)
    resumed = straight_or_resumed(tmp_path / "resumed", 1)
    assert_same_weights(straight, resumed)


# --- what is refused, and how ----------------------------------------------------------------

def test_corrupt_parameters_are_refused_before_loading(tmp_path):
    run(tmp_path, num_epochs=1)
    params = tmp_path / "epoch-0001.params"
    raw = bytearray(params.read_bytes())
    raw[-64:] = bytes(64)  # 64 flipped bytes in the weights: still loadable, silently wrong
    params.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="epoch-0001.params is corrupt or truncated"):
        run(tmp_path, num_epochs=2, resume=True)


@pytest.mark.parametrize("name", ["epoch-0001.params", "epoch-0001.trainer.params"])
def test_truncated_or_missing_files_are_named(tmp_path, name):
    run(tmp_path, num_epochs=1)
    path = tmp_path / name
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match=f"{name} is corrupt or truncated.*delete"):
        run(tmp_path, num_epochs=2, resume=True)
    path.unlink()
    with pytest.raises(CheckpointError, match=f"{name} is missing"):
        run(tmp_path, num_epochs=2, resume=True)


@pytest.mark.parametrize("text, message", [('{"format": 3, "epo', "not a complete checkpoint"),
                                           ('{"format": 3, "epoch": 1}', "lacks 'params'"),
                                           ('{"format": 2}', "format 2; this d2lcnn reads "
                                                             "format 3"),
                                           ('{"format": 1}', "format 1")])
def test_broken_manifests_are_explained(tmp_path, text, message):
    (tmp_path / MANIFEST).write_text(text)
    with pytest.raises(CheckpointError, match=message):
        run(tmp_path, num_epochs=1, resume=True)


@pytest.mark.parametrize("change, message", [
    ({"net": LeNet(activation="sigmoid")}, "layers differ.*Activation\\(sigmoid\\)"),
    ({"seed": 5}, "seed 0 then, 5 now"),
    ({"momentum": 0.5}, "momentum=0.9.*momentum=0.5"),
])
def test_resume_refuses_another_run_saying_what_differs(tmp_path, change, message):
    run(tmp_path, num_epochs=1)
    with pytest.raises(CheckpointError, match=message):
        run(tmp_path, num_epochs=2, resume=True, **change)


def test_resume_refuses_another_batch_size_or_data(tmp_path):
    run(tmp_path, num_epochs=1)
    with pytest.raises(CheckpointError, match="batch size 100 then, 50 now"):
        train(LeNet(activation="relu"), Loader(600, batch_size=50), Loader(200, offset=50000),
              num_epochs=2, lr=0.05, momentum=0.9, device=mx.cpu(), checkpoint_dir=tmp_path,
              resume=True, seed=0, verbose=False)
    with pytest.raises(CheckpointError, match="num train 600 then, 400 now"):
        train(LeNet(activation="relu"), Loader(400), Loader(200, offset=50000), num_epochs=2,
              lr=0.05, momentum=0.9, device=mx.cpu(), checkpoint_dir=tmp_path, resume=True,
              seed=0, verbose=False)


def test_fewer_epochs_than_done_are_refused(tmp_path):
    run(tmp_path, num_epochs=3)
    with pytest.raises(CheckpointError, match="already holds 3 epochs.*num_epochs ≥ 3"):
        run(tmp_path, num_epochs=2, resume=True)


def test_a_second_run_on_the_same_folder_is_refused(tmp_path):
    first = Checkpoints(tmp_path)
    first.lock()
    try:
        with pytest.raises(CheckpointError, match="in use by process"):
            run(tmp_path, num_epochs=1)
    finally:
        first.close()
    run(tmp_path, num_epochs=1)  # free again


def test_an_unwritable_folder_is_refused_before_the_first_epoch(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("not a folder")
    with pytest.raises(CheckpointError, match="is a file, not a folder"):
        run(target, num_epochs=1)
    with pytest.raises(CheckpointError, match="cannot be written.*before the first epoch"):
        run(target / "sub", num_epochs=1)  # under a file: no folder can be made there
    locked = tmp_path / "read-only"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if (locked / "probe").exists() or _can_write(locked):
            pytest.skip("running as a user who can write anywhere (root)")
        with pytest.raises(CheckpointError, match="cannot be written.*before the first epoch"):
            run(locked / "sub", num_epochs=1)
    finally:
        locked.chmod(0o700)


def _can_write(folder) -> bool:
    try:
        (folder / ".probe").write_text("x")
        (folder / ".probe").unlink()
        return True
    except OSError:
        return False


def test_resume_needs_a_folder():
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train(LeNet(), Loader(100), Loader(100, offset=50000), num_epochs=1, lr=0.9,
              device=mx.cpu(), resume=True, verbose=False)


def test_resume_in_a_process_that_made_other_networks_first(tmp_path, uninterrupted):
    # Gluon names parameters by counters of the layers a process has made (dense9, dense10 …),
    # and sorts them by name: the optimiser's state must be matched by place, not by name.
    run(tmp_path, num_epochs=2)
    for _ in range(12):
        LeNet(activation="relu")
    net, _ = run(tmp_path, num_epochs=3, resume=True)
    assert_same_weights(net, uninterrupted[0])
