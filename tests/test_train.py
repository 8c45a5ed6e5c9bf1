"""Chapter 08's training loop on real Fashion-MNIST data (a few thousand examples, seconds)."""

from __future__ import annotations

import os

import mxnet as mx
import numpy as onp
import pytest
from mxnet import np, npx

from d2lcnn import config
from d2lcnn.lessons import LENET, LeNet, evaluate_accuracy, num_correct, predict, train
from d2lcnn.tools import data
from d2lcnn.tools.history import History, beside_the_book, load_results, save_result

npx.set_np()


def small_loaders(num_train=3000, num_test=1000, batch_size=128, quick=False):
    images, labels = data.load_arrays("fashion-mnist", "train")
    test_images, test_labels = data.load_arrays("fashion-mnist", "test")
    keep = data.quick_subset(len(images), num_train, seed=0)
    train_iter = data.ArrayLoader(images[keep], labels[keep], batch_size, shuffle=True,
                                  device=mx.cpu(), seed=0, quick=quick)
    test_iter = data.ArrayLoader(test_images[:num_test], test_labels[:num_test], batch_size,
                                 device=mx.cpu(), quick=quick)
    return train_iter, test_iter


def test_short_run_beats_chance_by_far(capsys):
    train_iter, test_iter = small_loaders()
    history = train(LeNet(activation="relu"), train_iter, test_iter, num_epochs=3, lr=0.1,
                    device=mx.cpu(), seed=0, form=LENET.book)
    assert history.epochs_done == 3 and history.examples_seen == 9000
    assert history.train_loss[-1] < history.train_loss[0]
    # Chance is 0.1; the exact figure depends on the CPU threads (reductions round differently).
    assert history.test_acc[-1] > 0.5, history.test_acc
    out = capsys.readouterr().out
    assert "LeNet, book form, on cpu(0): 3 epoch(s) on 3,000 training and 1,000 test" in out
    assert "LeNet, book form, on cpu(0): 3 epoch(s), 9,000 examples seen" in out
    assert "examples/s on cpu(0)" in out and "test acc" in out


def test_quick_loaders_run_one_epoch_and_say_so(capsys):
    train_iter, test_iter = small_loaders(num_train=512, num_test=256, quick=True)
    history = train(LeNet(), train_iter, test_iter, num_epochs=10, lr=0.9, device=mx.cpu())
    assert history.epochs_done == 1 and history.quick and history.num_epochs == 1
    out = capsys.readouterr().out
    assert "quick mode: a subset of 512 training" in out and "(quick mode)" in out


def test_a_seed_makes_runs_repeatable():
    runs = [train(LeNet(), *small_loaders(num_train=600, num_test=200), num_epochs=1, lr=0.9,
                  device=mx.cpu(), seed=3, verbose=False) for _ in range(2)]
    assert runs[0].train_loss == runs[1].train_loss and runs[0].seed == 3


def test_momentum_and_a_schedule_are_used_and_recorded():
    seen = []

    class Schedule:
        def __call__(self, epoch):
            seen.append(epoch)
            return 0.1 * (1 - epoch / 2)

        def __str__(self):
            return "linear from 0.1"

    history = train(LeNet(activation="relu"), *small_loaders(num_train=600, num_test=200,
                                                              batch_size=100),
                    num_epochs=2, lr=Schedule(), momentum=0.9, weight_decay=1e-4,
                    device=mx.cpu(), seed=0, verbose=False)
    assert seen[:7] == [0.0, 0.0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6]  # lr(0) once to start
    assert history.lr == "linear from 0.1" and history.momentum == 0.9
    assert "momentum 0.9, weight decay 0.0001" in history.describe_run()


def test_evaluate_accuracy_matches_numpy():
    _, test_iter = small_loaders(num_test=300, batch_size=64)
    config.set_seed(1)
    net = LeNet()
    net.initialize(ctx=mx.cpu())
    labels, predictions = predict(net, test_iter)
    assert onp.array_equal(labels, test_iter.labels)
    assert evaluate_accuracy(net, test_iter) == pytest.approx(float((predictions == labels).mean()))


def test_num_correct_counts_on_device():
    y_hat = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert float(num_correct(y_hat, np.array([1, 1, 1], dtype="int32"))) == 2.0


def history_example(**changes) -> History:
    values = dict(network="LeNet", device="cpu(0)", num_epochs=1, batch_size=256, lr="0.9",
                  quick=False, num_train=1000, num_test=500, input_shape=(1, 28, 28),
                  form="book", train_loss=[2.3], train_acc=[0.1], test_acc=[0.12],
                  examples_per_sec=[5000.0], train_seconds=0.2, total_seconds=0.3)
    return History(**{**values, **changes})


def test_history_round_trip_with_normal_permissions(tmp_path):
    history = history_example()
    path = history.save(tmp_path / "results" / "lenet.json")
    assert [p.name for p in path.parent.iterdir()] == ["lenet.json"]
    assert History.load(path) == history
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert "1,000 examples seen" in history.summary()


def test_quick_results_never_overwrite_full_ones(tmp_path, monkeypatch):
    monkeypatch.setenv(config.RESULTS_DIR_ENV, str(tmp_path))
    full, quick = history_example(), history_example(quick=True, test_acc=[0.3])
    assert save_result(full, "lenet").name == "lenet-book.json"
    assert save_result(quick, "lenet").name == "lenet-book-quick.json"
    found = load_results(tmp_path)
    assert found[("lenet", "book", False)].test_acc == [0.12]
    assert found[("lenet", "book", True)].test_acc == [0.3]


def test_a_quick_run_cannot_be_saved_as_a_reference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="reference results of full runs"):
        save_result(history_example(quick=True), "lenet", config.reference_results_dir())


def test_beside_the_book_names_both_runs():
    text = beside_the_book(history_example(), LENET.book_result)
    assert "0.827" in text and "0.120" in text and "lenet.ipynb" in text and "V100" in text


def test_beside_the_book_gives_each_run_a_column_named_by_its_form():
    """Chapters 09-15: the book's run, the native design with the book's recipe, the native
    form, side by side; each run's epochs in its column, each described under the table."""
    runs = [history_example(form="book-recipe", test_acc=[0.5], train_loss=[1.0] * 1,
                            train_acc=[0.4]),
            history_example(form="native", test_acc=[0.6], num_epochs=2,
                            train_loss=[1.5, 0.9], train_acc=[0.3, 0.7])]
    lines = beside_the_book(runs, LENET.book_result).splitlines()
    assert lines[0].split() == ["book", "book-recipe", "form", "native", "form"]
    assert lines[2].split() == ["epochs", "10", "1", "2"]
    assert lines[5].split() == ["test", "acc", "0.827", "0.500", "0.600"]
    assert any(line.startswith("book-recipe form: 1 epoch(s)") for line in lines)
    assert any(line.startswith("native form: 2 epoch(s)") for line in lines)
    with pytest.raises(ValueError, match="at least one run"):
        beside_the_book([], LENET.book_result)
