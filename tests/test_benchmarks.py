"""The benchmark command runs end to end (smoke mode: tiny real subsets, a few batches).

Only that it runs and what it reports are checked; no timing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, data_dir):
    pytest.importorskip("d2l", reason="the baseline is d2l 1.0.3, which installs on Python 3.11 only")
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "D2LCNN_DATA_DIR": str(data_dir), "MPLBACKEND": "Agg"}
    env.pop("D2LCNN_QUICK", None)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--networks", "lenet,googlenet-native",
         "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done, out


def test_smoke_run_prints_the_four_tables(smoke_run):
    done, _ = smoke_run
    for heading in ("### 1. LeNet, one epoch end to end", "### 2. Loaders alone",
                    "### 3. Loop overhead", "### 4. Training throughput per network",
                    "### Targets"):
        assert heading in done.stdout
    assert "d2l 1.0.3: FashionMNIST + Trainer + LeNet" in done.stdout
    assert "| GoogLeNet, native |" in done.stdout.replace("  ", " ").replace("  ", " ")


def test_smoke_run_writes_its_results(smoke_run):
    _, out = smoke_run
    results = json.loads((out / "results.json").read_text())
    assert results["smoke"] is True
    assert results["machine"]["mxnet"] == "1.9.1" and results["machine"]["cores"] >= 1
    assert [r["size"] for r in results["loaders"]] == [28, 96, 224]
    assert {"d2l", "ours", "ours_host"} <= set(results["loaders"][0])
    assert "ours_nearest" in results["loaders"][2]
    e2e = results["end_to_end"]
    assert e2e["d2l"]["num_train"] == e2e["d2lcnn"]["num_train"] == 1280
    assert e2e["d2l"]["num_val"] == e2e["d2lcnn"]["num_val"] == 256
    assert e2e["d2l"]["num_workers"] == 4
    # every thread setting measured each pipeline in its own processes, with that many threads
    from d2lcnn.machine import cpu_threads

    keys = [s["key"] for s in e2e["settings"]]
    assert keys == (["mxnet", "d2lcnn"] if cpu_threads.current().set_by_d2lcnn else ["d2lcnn"])
    for setting in e2e["settings"]:
        assert setting["threads_seen"] == setting["threads"]
        assert {"d2lcnn", "pure", "epoch", "overhead"} <= set(setting)
    assert results["machine"]["cpu_threads"]
    assert [r["key"] for r in results["results"]] == ["lenet", "googlenet-native"]
    googlenet = results["results"][1]
    assert googlenet["input_size"] == 28 and googlenet["macs_per_example"] > 0
    assert googlenet["gflops"] > 0 and googlenet["loader_ratio"] > 0
    assert (out / "results.md").read_text().startswith("# d2lcnn benchmarks (smoke run")


def test_d2l_dataset_serves_what_gluons_fashion_mnist_serves(data_dir, monkeypatch):
    """The in-memory stand-in for gluon's FashionMNIST yields its items: uint8 (28, 28, 1)
    MXNet arrays and int32 labels, and d2l's transforms make (1, 28, 28) floats in [0, 1]."""
    pytest.importorskip("d2l", reason="the baseline is d2l 1.0.3, which installs on Python 3.11 only")
    monkeypatch.syspath_prepend(str(REPO))  # benchmarks/ is not an installed package
    from benchmarks import d2l_baseline
    from d2lcnn.tools import data

    images, labels = data.load_arrays("fashion-mnist", "test")
    dataset = d2l_baseline.GluonFashionMNIST(images[:10], labels[:10])
    x, y = dataset[3]
    assert x.shape == (28, 28, 1) and str(x.dtype) == "uint8" and str(y.dtype) == "int32"
    assert (x.asnumpy()[:, :, 0] == images[3]).all() and int(y) == labels[3]
    module = d2l_baseline.D2LFashionMNIST((images[:10], labels[:10]), (images[:4], labels[:4]),
                                          batch_size=4)
    X, _ = module.train[0]
    assert X.shape == (1, 28, 28) and abs(float(X.max()) - images[0].max() / 255) < 1e-6
    assert module.num_workers == 4 and len(module.val) == 4
