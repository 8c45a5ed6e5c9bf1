"""The networks' registry and chapter 16's comparison: runs read from the results folders (the
reference runs and the reader's own, never mixed up), sizes measured on the networks."""

from __future__ import annotations

import matplotlib.pyplot as plt
import mxnet as mx
import pytest
from mxnet import npx

from d2lcnn import config
from d2lcnn.lessons import ALEXNET, LENET, LeNet, train
from d2lcnn.tools import comparison, data
from d2lcnn.tools.history import History, save_result
from d2lcnn.tools.networks import all_networks, choose_form

npx.set_np()


@pytest.fixture(scope="module")
def lenet_history() -> History:
    """A real (short) LeNet run: one epoch on 512 Fashion-MNIST training images."""
    images, labels = data.load_arrays("fashion-mnist", "train")
    test_images, test_labels = data.load_arrays("fashion-mnist", "test")
    train_iter = data.ArrayLoader(images[:512], labels[:512], 128, shuffle=True, seed=0,
                                  device=mx.cpu())
    test_iter = data.ArrayLoader(test_images[:256], test_labels[:256], 128, device=mx.cpu())
    return train(LeNet(), train_iter, test_iter, 1, 0.9, device=mx.cpu(), form=LENET.book,
                 verbose=False)


def _empty(tmp_path):
    """An empty results folder (a folder that does not exist is an error: a typo)."""
    folder = tmp_path / "empty"
    folder.mkdir(exist_ok=True)
    return folder


def test_every_chapter_registers_its_networks_in_chapter_order():
    networks = all_networks()
    assert list(networks) == ["lenet", "alexnet", "vgg", "nin", "googlenet", "bn_lenet",
                              "bn_lenet_gluon", "resnet18", "densenet"]
    chapters = [n.chapter for n in networks.values()]
    assert chapters == sorted(chapters)
    with_native = [k for k, n in networks.items() if n.native is not None]
    assert with_native == ["alexnet", "vgg", "nin", "googlenet", "resnet18", "densenet"]
    for network in networks.values():
        assert network.book_result is not None and network.book.network == network.title
        assert all(f.key == network.key for f in network.forms.values())


def test_choose_form_by_device_and_override(monkeypatch):
    monkeypatch.delenv(config.FORM_ENV, raising=False)
    assert choose_form(ALEXNET, device=mx.cpu()).name == "native"
    assert "is a CPU" in choose_form(ALEXNET, device=mx.cpu()).reason
    assert choose_form(ALEXNET, device=mx.gpu(0)).name == "book"
    assert choose_form(ALEXNET, form="book", device=mx.cpu()).name == "book"
    monkeypatch.setenv(config.FORM_ENV, "book")
    picked = choose_form(ALEXNET, device=mx.cpu())
    assert picked.name == "book" and f"{config.FORM_ENV}=book" in picked.reason
    assert choose_form(LENET).name == "book" and "one form" in choose_form(LENET).reason
    with pytest.raises(ValueError, match="not a form"):
        choose_form(ALEXNET, form="large")


def test_reference_and_own_runs_are_kept_apart(tmp_path, lenet_history):
    reference, mine = tmp_path / "reference", tmp_path / "mine"
    save_result(lenet_history, "lenet", reference)
    save_result(lenet_history, "lenet", mine)
    table = comparison.compare(reference, mine, {"lenet": LENET})
    rows = table.measured()
    assert [r.source for r in rows] == ["reference", "yours"]
    assert rows[0].params == 61_706 and rows[0].macs == 416_520
    text = str(table)
    assert "book (yours)" in text and "0.827" in text and "cpu(0)" in text


def test_a_form_without_a_run_keeps_its_size(tmp_path):
    table = comparison.compare(_empty(tmp_path), _empty(tmp_path), {"alexnet": ALEXNET})
    assert [(r.form.name, r.history) for r in table.rows] == [("book", None), ("native", None),
                                                               ("book-recipe", None)]
    assert table.rows[0].params == 46_764_746
    assert "–" in str(table)


def test_quick_runs_are_listed_apart(tmp_path, lenet_history):
    quick = History.from_dict({**lenet_history.to_dict(), "quick": True})
    save_result(quick, "lenet", tmp_path)
    table = comparison.compare(tmp_path, _empty(tmp_path), {"lenet": LENET})
    assert table.measured() == [] and len(table.quick) == 1
    assert "quick-mode runs (not compared" in str(table)


def test_plot_comparison_draws_every_run(tmp_path, lenet_history):
    save_result(lenet_history, "lenet", tmp_path)
    table = comparison.compare(tmp_path, _empty(tmp_path), {"lenet": LENET, "alexnet": ALEXNET})
    ax_acc, ax_speed = comparison.plot_comparison(table)
    assert len(ax_acc.collections) == 3  # LeNet's run, the book's LeNet and the book's AlexNet
    assert len(ax_speed.patches) == 2
    plt.close("all")


def test_plot_joins_the_book_recipe_run_to_the_native_run(tmp_path, lenet_history):
    """The like-for-like run is drawn as a triangle, joined by a dotted line to the native run
    of its network, and named by that line rather than by a label of its own."""
    for form in ("native", "book-recipe"):
        save_result(History.from_dict({**lenet_history.to_dict(), "form": form,
                                       "network": "AlexNet"}), "alexnet", tmp_path)
    table = comparison.compare(tmp_path, _empty(tmp_path), {"alexnet": ALEXNET})
    ax_acc, _ = comparison.plot_comparison(table)
    assert len(ax_acc.collections) == 3  # the book's run, the native run, the book-recipe run
    assert [line.get_linestyle() for line in ax_acc.lines] == [":"]
    assert sorted(t.get_text() for t in ax_acc.texts) == ["AlexNet", "AlexNet"]  # book, native
    plt.close("all")


def test_as_dicts_give_plain_values(tmp_path, lenet_history):
    save_result(lenet_history, "lenet", tmp_path)
    row = comparison.compare(tmp_path, _empty(tmp_path), {"lenet": LENET}).as_dicts()[0]
    assert row["key"] == "lenet" and row["source"] == "reference" and row["epochs"] == 1
    assert row["book_test_acc"] == 0.827


def test_recipe_table_sets_design_against_recipe(tmp_path, lenet_history):
    """One row per network with both a book-recipe and a native run: the book's, the
    book-recipe and the native test accuracy, and the two differences, computed."""
    for form, acc in (("native", 0.9), ("book-recipe", 0.85)):
        h = History.from_dict({**lenet_history.to_dict(), "form": form, "network": "AlexNet"})
        h.test_acc[-1] = acc
        save_result(h, "alexnet", tmp_path)
    table = comparison.compare(tmp_path, _empty(tmp_path), {"lenet": LENET, "alexnet": ALEXNET})
    lines = table.recipe_table().splitlines()
    assert lines[2].split() == ["AlexNet", "0.891", "0.850", "0.900", "-0.041", "+0.050", "1",
                                "/", "1"]
    assert lines[3].startswith("---")  # LeNet, without a book-recipe run, has no row
    empty = comparison.compare(_empty(tmp_path), _empty(tmp_path), {"alexnet": ALEXNET})
    assert "no reference run of a book-recipe form yet" in empty.recipe_table()
