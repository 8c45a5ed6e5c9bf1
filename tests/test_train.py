"""The training loop on real Fashion-MNIST data (a few thousand examples, seconds on a CPU)."""

from __future__ import annotations

import os

import numpy as onp
import pytest
from mxnet import np, npx

from d2lcnn import config, data, models, train
from d2lcnn.device import cpu

npx.set_np()


def _small_loaders(num_train=3000, num_test=1000, batch_size=128):
    images, labels = data.load_arrays("fashion-mnist", "train")
    test_images, test_labels = data.load_arrays("fashion-mnist", "test")
    keep = data.quick_subset(len(images), num_train, seed=0)
    train_iter = data.ArrayLoader(images[keep], labels[keep], batch_size, shuffle=True, device=cpu(), seed=0)
    test_iter = data.ArrayLoader(test_images[:num_test], test_labels[:num_test], batch_size, device=cpu())
    return train_iter, test_iter


def test_short_run_beats_chance_by_far(capsys):
    config.set_seed(0)
    train_iter, test_iter = _small_loaders()
    history = train.train(models.lenet(activation="relu"), train_iter, test_iter, num_epochs=3, lr=0.1,
                          device=cpu())
    assert history.epochs_done == 3 and history.examples_seen == 9000
    assert history.train_loss[-1] < history.train_loss[0]
    # Chance is 0.1. The exact figure depends on the CPU threads per operator (MKL-DNN's
    # reductions round differently): 0.62 with one thread, 0.57 with two, for this seed.
    assert history.test_acc[-1] > 0.5, history.test_acc
    out = capsys.readouterr().out
    assert "LeNet on cpu(0): 3 epoch(s), 9,000 examples seen" in out
    assert "examples/s on cpu(0)" in out and "test acc" in out


def test_quick_mode_runs_one_epoch_and_says_so(monkeypatch, capsys):
    monkeypatch.setenv(config.QUICK_ENV, "1")
    train_iter, test_iter = _small_loaders(num_train=512, num_test=256)
    history = train.train(models.lenet(), train_iter, test_iter, num_epochs=10, lr=0.9, device=cpu())
    assert history.epochs_done == 1 and history.quick
    assert "quick mode: 1 of 10 epochs" in capsys.readouterr().out


def test_evaluate_accuracy_matches_numpy():
    config.set_seed(1)
    _, test_iter = _small_loaders(num_test=300, batch_size=64)
    net = models.lenet()
    net.initialize(ctx=cpu())
    predictions = onp.concatenate([net(X).asnumpy().argmax(axis=1) for X, _ in test_iter])
    expected = float((predictions == test_iter.labels).mean())
    assert train.evaluate_accuracy(net, test_iter) == pytest.approx(expected)


def test_num_correct_counts_on_device():
    y_hat = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    y = np.array([1, 1, 1], dtype="int32")
    assert float(train.num_correct(y_hat, y)) == 2.0


def test_history_round_trip(tmp_path):
    history = train.History(network="LeNet", device="cpu(0)", num_epochs=1, batch_size=256, lr=0.9,
                            quick=True, num_train=1000, num_test=500, input_shape=(1, 28, 28),
                            train_loss=[2.3], train_acc=[0.1], test_acc=[0.12],
                            examples_per_sec=[5000.0], train_seconds=0.2, total_seconds=0.3)
    path = history.save(tmp_path / "results" / "lenet.json")
    assert [p.name for p in path.parent.iterdir()] == ["lenet.json"]
    assert train.History.load(path) == history
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # shareable, like any file written
    assert "1,000 examples seen" in history.summary()
