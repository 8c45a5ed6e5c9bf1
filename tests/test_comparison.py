"""The comparison table: measured results files, the book's numbers, summary's counts."""

from __future__ import annotations

import json
from dataclasses import replace

import matplotlib.pyplot as plt
import pytest
from mxnet import npx

from d2lcnn import comparison, config, data, models, published
from d2lcnn.device import cpu
from d2lcnn.train import History, train

npx.set_np()


@pytest.fixture(scope="module")
def lenet_history() -> History:
    """A real (short) LeNet run: one epoch on 512 Fashion-MNIST training images."""
    images, labels = data.load_arrays("fashion-mnist", "train")
    test_images, test_labels = data.load_arrays("fashion-mnist", "test")
    train_iter = data.ArrayLoader(images[:512], labels[:512], 128, shuffle=True, device=cpu(), seed=0)
    test_iter = data.ArrayLoader(test_images[:256], test_labels[:256], 128, device=cpu())
    return train(models.lenet(), train_iter, test_iter, 1, 0.9, device=cpu(), verbose=False)


@pytest.fixture()
def results_dir(tmp_path, lenet_history):
    lenet_history.save(tmp_path / "lenet.json")
    return tmp_path


def test_the_networks_are_the_models_registry():
    assert comparison.NETWORKS is models.MODELS
    assert list(comparison.NETWORKS)[:2] == ["lenet", "alexnet"]


def test_measured_row_comes_from_the_file_and_summary(results_dir, lenet_history):
    table = comparison.compare(results_dir, ["lenet"])
    (row,) = table.rows
    assert row.measured and table.missing == []
    assert row.params == 61_706 and row.macs == 416_520  # summary's LeNet counts
    assert row.test_acc == lenet_history.test_acc[-1]
    assert row.examples_per_sec == pytest.approx(lenet_history.overall_examples_per_sec)
    assert row.published.test_acc == published.MXNET["lenet"].test_acc
    d = row.as_dict()
    assert d["epochs"] == 1 and d["examples_seen"] == 512 and d["device"] == "cpu(0)"
    assert d["book_examples_per_sec"] == 35726


def test_missing_results_keep_their_row_and_are_named(results_dir):
    table = comparison.compare(results_dir, ["lenet", "bn_lenet"])
    assert table.missing == ["bn_lenet"]
    row = table.rows[1]
    assert not row.measured and row.test_acc is None and row.input_size == 28
    text = str(table)
    assert "missing results (run their chapters): bn_lenet" in text
    assert "LeNet" in text and "0.827" in text  # the book's LeNet test accuracy
    assert published.SOURCE in text


def test_a_network_that_cannot_be_built_is_reported(results_dir, monkeypatch):
    def broken():
        raise ValueError("no such network")

    monkeypatch.setitem(models.MODELS, "lenet", replace(models.MODELS["lenet"], build=broken))
    table = comparison.compare(results_dir, ["lenet"])
    assert table.rows[0].params is None and table.rows[0].measured
    assert "not computed: lenet: ValueError: no such network" in str(table)


def test_unknown_network_and_bad_file(tmp_path):
    with pytest.raises(KeyError, match="unknown network"):
        comparison.compare(tmp_path, ["resnet1000"])
    (tmp_path / "lenet.json").write_text(json.dumps({"network": "LeNet"}))
    with pytest.raises(ValueError, match="not a training history"):
        comparison.load_results(tmp_path, ["lenet"])


def test_every_network_has_the_books_numbers():
    for key in comparison.NETWORKS:
        assert published.published(key) is not None, key
        assert published.published(key, "PyTorch") is not None, key
    with pytest.raises(ValueError, match="framework"):
        published.published("lenet", "jax")


@pytest.mark.parametrize("content", [
    {"lenet": 1234.0, "data_pipeline": 5.0},
    {"lenet": {"examples_per_sec": 1234.0}},
    {"results": [{"network": "lenet", "examples_per_sec": 1234}, {"name": "loader"}]},
    [{"key": "lenet", "examples_per_sec": 1234.0}],
])
def test_benchmark_speeds_in_several_layouts(tmp_path, content):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(content))
    assert comparison.load_benchmarks(path) == {"lenet": 1234.0}


def test_benchmarks_are_optional_and_smoke_runs_ignored(results_dir, tmp_path):
    assert comparison.load_benchmarks(tmp_path / "absent.json") == {}
    smoke = tmp_path / "smoke.json"
    smoke.write_text(json.dumps({"smoke": True, "results": [{"key": "lenet",
                                                             "examples_per_sec": 5.0}]}))
    assert comparison.load_benchmarks(smoke) == {}
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"lenet": 999.0}))
    table = comparison.compare(results_dir, ["lenet"], benchmarks_file=path)
    assert table.rows[0].benchmark_examples_per_sec == 999.0


def test_plot_draws_ours_and_the_books(results_dir):
    table = comparison.compare(results_dir, ["lenet", "bn_lenet"])
    ax_acc, ax_speed, ax_params = comparison.plot_comparison(table)
    # LeNet: our point and the book's; BN-LeNet: the book's only (no run)
    offsets = [c.get_offsets() for c in ax_acc.collections]
    assert len(offsets) == 3
    assert ax_acc.get_xscale() == "log" and ax_params.get_xscale() == "log"
    assert len(ax_speed.patches) == 4  # here and book, per network
    plt.close("all")


def test_beside_the_book(lenet_history):
    text = comparison.beside_the_book(lenet_history, "lenet")
    lines = text.splitlines()
    assert lines[1].split() == ["train", "loss", "0.473", f"{lenet_history.train_loss[-1]:.3f}"]
    assert lines[4].split()[:3] == ["examples/s", "35,726",
                                    f"{lenet_history.overall_examples_per_sec:,.0f}"]
    assert "here: 1 epoch(s) × 512 examples" in lines[-1]
    with pytest.raises(KeyError, match="no MXNet result"):
        comparison.beside_the_book(lenet_history, "alexnet_bn")


def test_default_results_dir_follows_the_environment(monkeypatch, tmp_path, lenet_history):
    # What chapters 08-16 do under `make test`: save to and read from $D2LCNN_RESULTS_DIR.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(config.RESULTS_ENV, str(tmp_path / "quick" / "results"))
    lenet_history.save(config.results_dir() / "lenet.json")  # creates the folder
    assert not (tmp_path / "results").exists()
    table = comparison.compare(networks=["lenet"])
    assert table.results_dir == tmp_path / "quick" / "results"
    assert table.missing == [] and table.rows[0].measured
