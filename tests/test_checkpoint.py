"""Checkpoints: saved each epoch, atomically; ``resume=True`` continues from the last complete
epoch and ends where an uninterrupted run ends (real Fashion-MNIST subsets, CPU)."""

from __future__ import annotations

import json

import mxnet as mx
import numpy as onp
import pytest
from mxnet import npx

from d2lcnn import config, data, models, train

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
        self.image_shape = self.inner.image_shape
        self.crash_at, self.epoch = crash_at, 0

    def __len__(self):
        return len(self.inner)

    def __iter__(self):
        self.epoch += 1
        for i, batch in enumerate(self.inner):
            if self.crash_at == (self.epoch, i):
                raise KeyboardInterrupt("stopped mid-epoch")
            yield batch


def run(folder, num_epochs, resume=False, crash_at=None, devices=None, seed=0):
    config.set_seed(seed)
    net = models.lenet()
    history = train.train(net, Loader(crash_at=crash_at), Loader(200, offset=50000), num_epochs=num_epochs,
                          lr=0.9, devices=devices or [mx.cpu(0)], checkpoint_dir=folder, resume=resume,
                          verbose=False)
    return net, history


def weights(net) -> list[onp.ndarray]:
    return [p.data().asnumpy() for p in net.collect_params().values()]


def assert_same_weights(a, b):
    for x, y in zip(weights(a), weights(b), strict=True):
        onp.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """Three epochs in one go: (net, history, checkpoint folder)."""
    folder = tmp_path_factory.mktemp("straight")
    return (*run(folder, num_epochs=3), folder)


def test_each_epoch_leaves_one_complete_checkpoint(uninterrupted):
    _, history, folder = uninterrupted
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoint.json", "epoch-0003.params", "epoch-0003.states"]
    manifest = train.Checkpoints(folder).latest()
    assert manifest["epoch"] == 3 and manifest["params"] == "epoch-0003.params"
    saved = train.History.from_dict(manifest["history"])
    saved.total_seconds = history.total_seconds  # the run's clock ran on after its last save
    assert saved == history


def test_resume_after_a_finished_epoch_ends_where_the_straight_run_ends(tmp_path, uninterrupted):
    run(tmp_path, num_epochs=2)  # "stopped" after epoch 2
    net, history = run(tmp_path, num_epochs=3, resume=True, seed=123)  # another seed: all restored
    assert_same_weights(net, uninterrupted[0])
    onp.testing.assert_allclose(history.train_loss, uninterrupted[1].train_loss, rtol=1e-5)
    assert history.epochs_done == 3


def test_run_stopped_mid_epoch_loses_only_that_epoch(tmp_path, uninterrupted):
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, num_epochs=3, crash_at=(2, 3))
    assert train.Checkpoints(tmp_path).latest()["epoch"] == 1
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
        train._write_atomically(path, write_half_then_die)
    assert json.loads(path.read_text()) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.json"]


def test_resume_without_checkpoint_starts_afresh(tmp_path, capsys):
    config.set_seed(0)
    train.train(models.lenet(), Loader(200), Loader(100, offset=50000), num_epochs=1, lr=0.9,
                device=mx.cpu(), checkpoint_dir=tmp_path / "new", resume=True)
    out = capsys.readouterr().out
    assert "training LeNet on cpu(0) for 1 epoch(s)" in out
    assert (tmp_path / "new" / "checkpoint.json").exists()


def test_resuming_a_finished_run_returns_its_history(tmp_path, capsys):
    _, first = run(tmp_path, num_epochs=1)
    config.set_seed(0)
    history = train.train(models.lenet(), Loader(), Loader(200, offset=50000), num_epochs=1, lr=0.9,
                          device=mx.cpu(), checkpoint_dir=tmp_path, resume=True)
    assert history.train_loss == first.train_loss
    assert "resuming LeNet on cpu(0) after epoch 1 of 1" in capsys.readouterr().out


def test_resume_refuses_another_network(tmp_path):
    run(tmp_path, num_epochs=1)
    with pytest.raises(ValueError, match="of LeNet, not"):
        train.train(_Other(), Loader(100),
                    Loader(100, offset=50000), num_epochs=2, lr=0.9, device=mx.cpu(),
                    checkpoint_dir=tmp_path, resume=True, verbose=False)


def test_resume_needs_a_folder():
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train.train(models.lenet(), Loader(100), Loader(100, offset=50000), num_epochs=1, lr=0.9,
                    device=mx.cpu(), resume=True, verbose=False)


def test_iterator_state_is_saved_and_restored(tmp_path):
    class Stateful(Loader):
        restored = None

        def state_dict(self):
            return {"epoch": self.epoch}

        def load_state_dict(self, state):
            Stateful.restored = state

    config.set_seed(0)
    kwargs = {"num_epochs": 2, "lr": 0.9, "device": mx.cpu(), "checkpoint_dir": tmp_path, "verbose": False}
    train.train(models.lenet(), Stateful(200), Loader(100, offset=50000), **kwargs)
    assert train.Checkpoints(tmp_path).latest()["train_iter_state"] == {"epoch": 2}
    train.train(models.lenet(), Stateful(200), Loader(100, offset=50000), resume=True,
                **{**kwargs, "num_epochs": 3})
    assert Stateful.restored == {"epoch": 2}


class _Other(mx.gluon.nn.HybridSequential):
    display_name = "Other"

    def __init__(self):
        super().__init__()
        self.add(mx.gluon.nn.Dense(10))


def test_shuffled_run_resumes_exactly(tmp_path):
    """With a shuffling ArrayLoader, 1 epoch + resume to 3 ends with the weights of 3 straight
    epochs: the loader's state in the checkpoint gives the resumed run the same batch order."""
    images, labels = data.load_arrays("fashion-mnist", "train")

    def straight_or_resumed(folder, epochs_first):
        config.set_seed(0)
        nets = []
        for num_epochs, resume in ((epochs_first, False), (3, True)):
            loader = data.ArrayLoader(images[:600], labels[:600], 100, shuffle=True, seed=4)
            net = models.lenet()
            train.train(net, loader, Loader(200, offset=50000), num_epochs=num_epochs, lr=0.9,
                        device=mx.cpu(), checkpoint_dir=folder, resume=resume, verbose=False)
            nets.append(net)
        return nets[-1]

    straight = straight_or_resumed(tmp_path / "straight", 3)
    resumed = straight_or_resumed(tmp_path / "resumed", 1)
    assert_same_weights(straight, resumed)
