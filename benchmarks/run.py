"""Speed of d2lcnn's data pipeline and training loop against d2l 1.0.3's, on this machine.

    D2LCNN_DATA_DIR=../shared/data python -m benchmarks.run     # the full run, writes the results
    python -m benchmarks.run --smoke --out /tmp/bench          # every code path in seconds

One run prints four tables and writes them, with the machine they were measured on, to
``benchmarks/results.md`` and ``benchmarks/results.json`` (``--out`` picks another folder):

1. LeNet, one epoch (training + test evaluation), d2l's pipeline vs d2lcnn's, examples/s and ratio;
2. loader throughput alone at 28, 96 and 224 pixels, d2l's loader vs ours;
3. loop overhead: d2lcnn's training epoch vs pure forward/backward on pre-made batches (LeNet);
4. training throughput of every form of every network (``d2lcnn.tools.networks.all_networks``)
   at its input size and batch size, its achieved GFLOP/s beside this machine's measured matrix-multiply GFLOP/s, and
   the loader's throughput at the same size.

The data come from the IDX files that :mod:`d2lcnn.data` finds (``$D2LCNN_DATA_DIR`` first);
nothing is ever downloaded. See ``benchmarks/README.md`` for what exactly is compared.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import itertools
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, init, np, npx

from d2lcnn.lessons import BatchMetrics, LeNet, train, train_batch
from d2lcnn.machine import cpu_threads
from d2lcnn.machine.cpu_isa import cpu_flags, describe_cpu
from d2lcnn.machine.devices import describe, try_gpu
from d2lcnn.tools import data
from d2lcnn.tools.networks import BOOK_RECIPE, all_networks
from d2lcnn.tools.summary import summary

from . import native

try:
    from . import d2l_baseline
except ModuleNotFoundError as missing:  # d2l installs on Python 3.11 only
    if missing.name != "d2l":
        raise
    d2l_baseline, D2L_MISSING = None, str(missing)

npx.set_np()

HERE = Path(__file__).resolve().parent
#: d2l 1.0.3's LeNet section: d2l.FashionMNIST(batch_size=128), LeNet(lr=0.1).
D2L_BATCH_SIZE = 128
D2L_LR = 0.1
LOADER_SIZES = (28, 96, 224)
#: Training FLOPs per example = 2 FLOPs per multiply-add × 3 (forward, backward to the inputs,
#: backward to the weights), counting convolution and dense layers only (as d2lcnn.summary does).
FLOPS_PER_MAC_TRAINING = 6

TARGETS = {
    "end_to_end_ratio": 1.6,  # d2lcnn LeNet epoch ≥ 1.6× d2l's pipeline
    "loop_overhead": 0.15,  # training epoch within 15% of pure forward/backward
    "loader_over_training": 10.0,  # loader ≥ 10× each network's training throughput
    "host_pipeline": 100_000,  # host side of the loader (uint8 28×28 batches), examples/s
}


# ---------------------------------------------------------------------------------------------
# The machine


def _cpu_flags() -> list[str]:
    flags = cpu_flags()
    return [f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "amx_tile") if f in flags]


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def machine(device: mx.Context) -> dict:
    """What the figures were measured on: CPU, cores, memory, device, library versions."""
    import d2l

    features = mx.runtime.Features()
    return {
        "cpu": describe_cpu(),
        "cpu_flags": _cpu_flags(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gib": _memory_gib(),
        "device": describe(device),
        "os": platform.platform(),
        "python": platform.python_version(),
        "mxnet": mx.__version__,
        "mxnet_features": [f for f in ("CUDA", "CUDNN", "MKLDNN", "OPENMP", "BLAS_OPEN", "BLAS_MKL")
                           if features.is_enabled(f)],
        "numpy": onp.__version__,
        "d2l": d2l.__version__,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "cpu_threads": cpu_threads.current().source,
    }


def _load() -> tuple[float, float, float]:
    return tuple(round(x, 2) for x in os.getloadavg())


# ---------------------------------------------------------------------------------------------
# Timing helpers


def _timed(fn: Callable[[], int]) -> tuple[float, int]:
    """Run ``fn`` (which returns a number of examples), wait for the device; (seconds, examples)."""
    npx.waitall()
    start = time.perf_counter()
    n = fn()
    npx.waitall()
    return time.perf_counter() - start, n


def _count(batches: Iterable, num_batches: int | None) -> int:
    """Consume ``num_batches`` batches (all if None) and return the number of examples."""
    n = 0
    for _, y in itertools.islice(batches, num_batches):
        n += y.shape[0]
    return n


def matmul_gflops(device: mx.Context, n: int = 2048, repeats: int = 5) -> dict:
    """This machine's float32 matrix-multiply speed: ``np.dot`` (BLAS) and ``npx.fully_connected``
    (oneDNN, the kernel of dense layers) on n×n matrices, best of ``repeats``."""
    a = np.random.uniform(size=(n, n), ctx=device)
    b = np.random.uniform(size=(n, n), ctx=device)
    runs = {
        "np.dot": lambda: np.dot(a, b),
        "npx.fully_connected": lambda: npx.fully_connected(a, b, num_hidden=n, no_bias=True),
    }
    result = {}
    for name, run in runs.items():
        run()
        npx.waitall()
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            npx.waitall()
            best = min(best, time.perf_counter() - start)
        result[name] = 2 * n**3 / best / 1e9
    return {"size": n, "gflops": result, "best": max(result.values()),
            "best_kernel": max(result, key=result.get)}


# ---------------------------------------------------------------------------------------------
# 1 and 3: LeNet end to end, and the loop's overhead


def _lenet_pure_steps(batches: list, num_steps: int, lr: float, device) -> dict:
    """Forward/backward/update of hybridized LeNet on batches already on the device, cycled:
    what the training loop would cost with free data and no bookkeeping."""
    net = LeNet()
    net.initialize(init.Xavier(), ctx=device)
    net.hybridize(static_alloc=True, static_shape=True)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})

    def step(X, y):
        with autograd.record():
            loss = loss_fn(net(X), y)
        loss.backward()
        trainer.step(X.shape[0])

    for X, y in batches[:3]:  # warm-up: graph, memory, kernels
        step(X, y)

    def run() -> int:
        n = 0
        for i in range(num_steps):
            X, y = batches[i % len(batches)]
            step(X, y)
            n += y.shape[0]
        return n

    seconds, n = _timed(run)
    return {"seconds": seconds, "examples": n, "examples_per_sec": n / seconds,
            "batches": num_steps, "batch_size": batches[0][1].shape[0]}


def lenet_epoch(arrays: dict, batch_size: int, lr: float, device) -> dict:
    """d2lcnn's LeNet epoch: chapter 08's ``train`` for one epoch on our loaders (from
    scratch: initialisation and hybridization included), timed as a whole."""
    train_iter = data.ArrayLoader(*arrays["train"], batch_size, shuffle=True, device=device,
                                  name="train", seed=0)
    test_iter = data.ArrayLoader(*arrays["test"], batch_size, device=device, name="test")
    history = None

    def run() -> int:
        nonlocal history
        history = train(LeNet(), train_iter, test_iter, 1, lr, device, verbose=False)
        return history.num_train

    seconds, _ = _timed(run)
    return {
        "seconds": seconds,
        "num_train": history.num_train,
        "num_val": history.num_test,
        "train_seconds": history.train_seconds,
        "train_examples_per_sec": history.examples_per_sec[0],
        "train_loss": history.train_loss[0],
        "train_acc": history.train_acc[0],
        "test_acc": history.test_acc[0],
    }


def d2l_epoch(arrays: dict, batch_size: int, lr: float) -> dict:
    """d2l 1.0.3's LeNet epoch with its own Trainer and data module (see d2l_baseline)."""
    result = d2l_baseline.fit_lenet(arrays["train"], arrays["test"], batch_size, lr)
    gc.collect()  # let d2l's worker pools go now, while everything they need still exists
    return result


def _end_to_end_rate(record: dict) -> float:
    """Examples processed per second of the whole epoch: training and test examples together."""
    return (record["num_train"] + record["num_val"]) / record["seconds"]


# ---------------------------------------------------------------------------------------------
# Thread settings and fresh processes


def thread_settings() -> list[dict]:
    """The CPU thread settings that LeNet is measured under (tables 1 and 3): this process's
    (d2lcnn's, see :mod:`d2lcnn.cpu_threads`) and, where d2lcnn changed it, MXNet's own default,
    which is what d2l's users get. Each dict: ``key``, ``threads`` per operator, ``label``."""
    current = cpu_threads.current()
    if not current.set_by_d2lcnn:
        user = os.environ.get(cpu_threads.MXNET_ENV) or os.environ.get(cpu_threads.OMP_ENV)
        how = "as set in the environment" if user else "MXNet's default = d2lcnn's"
        return [{"key": "d2lcnn", "threads": current.threads, "label": f"{current.threads} ({how})"}]
    return [{"key": "mxnet", "threads": current.mxnet_default,
             "label": f"{current.mxnet_default} (MXNet's default)"},
            {"key": "d2lcnn", "threads": current.threads,
             "label": f"{current.threads} (d2lcnn's: all physical cores)"}]


def in_subprocess(task: str, setting: dict, **kwargs) -> dict:
    """Run ``TASKS[task](**kwargs)`` in a fresh Python under thread ``setting``; its result.

    A fresh process per measurement: MXNet fixes its threads when it is loaded, and d2l's
    DataLoader forks worker pools whose leftovers would slow down what runs after them. Under
    MXNet's default setting the process imports MXNet before d2lcnn, as a d2l user's does."""
    env = dict(os.environ)
    prelude = ""
    if setting["key"] == "mxnet":
        env = cpu_threads.without_d2lcnn_settings(env)
        prelude = "import mxnet; "
    code = prelude + "import sys; from benchmarks.run import run_task; run_task(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", code, task, json.dumps(kwargs)],
                          cwd=HERE.parent, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark task {task!r} ({setting['label']} threads) failed:\n"
                           f"{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def task_lenet(dataset: str, smoke: bool, repeats: int, batch_size: int, lr: float) -> dict:
    """Pure forward/backward and d2lcnn's LeNet epoch, ``repeats`` times each, taking turns."""
    _, arrays = load_data(dataset, smoke)
    device = try_gpu()
    premade = list(itertools.islice(
        data.ArrayLoader(*arrays["train"], batch_size, shuffle=True, device=device, seed=2), 50))
    num_steps = 2 if smoke else math.ceil(len(arrays["train"][0]) / batch_size)
    pure, ours = [], []
    for _ in range(repeats):  # pure first: it also warms up the kernels the epoch uses
        pure.append(_lenet_pure_steps(premade, num_steps, lr, device))
        ours.append(lenet_epoch(arrays, batch_size, lr, device))
    return {"threads": cpu_threads.current().threads, "pure_runs": pure, "ours_runs": ours}


def task_d2l_lenet(dataset: str, smoke: bool, repeats: int, batch_size: int, lr: float) -> dict:
    """d2l's LeNet epoch, ``repeats`` times."""
    _, arrays = load_data(dataset, smoke)
    runs = [d2l_epoch(arrays, batch_size, lr) for _ in range(repeats)]
    return {"threads": cpu_threads.current().threads, "runs": runs}


def task_d2l_loaders(dataset: str, smoke: bool, sizes: list, batch_size: int,
                     num_batches: dict) -> dict:
    """d2l's loader alone per size (:func:`d2l_loader_speeds`); sizes as strings (JSON keys)."""
    _, arrays = load_data(dataset, smoke)
    num_batches = {int(k): v for k, v in num_batches.items()}
    return {str(k): v for k, v in d2l_loader_speeds(arrays, sizes, batch_size, num_batches).items()}


TASKS = {"lenet": task_lenet, "d2l_lenet": task_d2l_lenet, "d2l_loaders": task_d2l_loaders}


def run_task(argv: list[str]) -> None:
    """Entry point of :func:`in_subprocess`: ``argv`` = [task, JSON keyword arguments]; prints
    the result as JSON on the last line."""
    task, kwargs = argv[0], json.loads(argv[1])
    print(json.dumps(TASKS[task](**kwargs)))


def lenet_measurements(dataset: str, smoke: bool, repeats: int, say) -> tuple[dict, dict]:
    """Tables 1 and 3: for each thread setting, pure forward/backward and d2lcnn's epoch in a
    process of their own; d2l's epoch in another, under MXNet's default threads (how d2l's users
    run it, and its best: see benchmarks/README.md); best run of each kept (other processes on
    the machine can only slow a run down). The ratio compares d2lcnn under its own setting."""
    bs, lr = D2L_BATCH_SIZE, D2L_LR
    common = {"dataset": dataset, "smoke": smoke, "repeats": repeats, "batch_size": bs, "lr": lr}
    settings = []
    theirs = None
    for setting in thread_settings():
        say(f"LeNet with {setting['label']} threads per operator: pure forward/backward and "
            f"d2lcnn epoch ({repeats}×) in a fresh process ...")
        ours = in_subprocess("lenet", setting, **common)
        if theirs is None:  # d2l under MXNet's default, as its users run it (see the README)
            say(f"LeNet, d2l's pipeline with {setting['label']} threads ({repeats}×) ...")
            theirs = in_subprocess("d2l_lenet", setting, **common)
            theirs["label"] = setting["label"]
        pure = max(ours["pure_runs"], key=lambda r: r["examples_per_sec"])
        epoch_rate = max(r["train_examples_per_sec"] for r in ours["ours_runs"])
        settings.append({
            **setting, "threads_seen": ours["threads"],
            "d2lcnn": min(ours["ours_runs"], key=lambda r: r["seconds"]),
            "pure": pure["examples_per_sec"], "epoch": epoch_rate,
            "overhead": 1 - epoch_rate / pure["examples_per_sec"],
            "all_runs": {"d2lcnn_seconds": [r["seconds"] for r in ours["ours_runs"]],
                         "pure": [r["examples_per_sec"] for r in ours["pure_runs"]],
                         "epoch": [r["train_examples_per_sec"] for r in ours["ours_runs"]]},
        })
    own = next(s for s in settings if s["key"] == "d2lcnn")
    d2l_best = min(theirs["runs"], key=lambda r: r["seconds"])
    end_to_end = {
        "dataset": dataset, "batch_size": bs, "lr": lr, "repeats": repeats,
        "settings": settings, "d2lcnn_threads": own["label"], "d2l_threads": theirs["label"],
        "d2l": d2l_best, "d2l_all_runs_seconds": [r["seconds"] for r in theirs["runs"]],
        "d2lcnn": own["d2lcnn"],
        "ratio": _end_to_end_rate(own["d2lcnn"]) / _end_to_end_rate(d2l_best),
    }
    loop = {"batch_size": bs, "threads": own["label"], "pure": own["pure"], "epoch": own["epoch"],
            "overhead": own["overhead"], "all_runs": own["all_runs"]}
    return end_to_end, loop


# ---------------------------------------------------------------------------------------------
# 2: loaders alone


def d2l_loader_speeds(arrays: dict, sizes: Iterable[int], batch_size: int,
                      num_batches: dict) -> dict:
    """Examples/s of d2l's training loader (4 workers) per size, from asking for the first batch
    until the last one is made. Its worker pool is started before the clock (its DataLoader
    starts it when it is made). Run in a process of its own (see :func:`in_subprocess`)."""
    rates = {}
    for size in sizes:
        n = num_batches.get(size)
        module = d2l_baseline.D2LFashionMNIST(arrays["train"], arrays["test"], batch_size,
                                              resize=(size, size))
        loader = module.get_dataloader(train=True)
        seconds, count = _timed(lambda loader=loader, n=n: _count(loader, n))
        rates[size] = count / seconds
        del loader, module
        gc.collect()
    return rates


def loader_speeds(arrays: dict, sizes: Iterable[int], batch_size: int, num_batches: dict,
                  device, d2l_rates: dict | None = None) -> list[dict]:
    """Examples/s of our loader (bilinear, and nearest where exact) per size, beside d2l's
    (``d2l_rates``: size -> examples/s, from :func:`d2l_loader_speeds`).

    Each loader serves ``num_batches[size]`` batches of the shuffled training set; the clock
    runs from asking for the first batch until the last one is ready on the device."""
    images, labels = arrays["train"]
    rows = []
    for size in sizes:
        n = num_batches.get(size)
        row = {"size": size, "batch_size": batch_size, "batches": n}
        if d2l_rates and size in d2l_rates:
            row["d2l"] = d2l_rates[size]
        methods = ["bilinear"] + (["nearest"] if size % 28 == 0 and size != 28 else [])
        for method in methods:
            ours = data.ArrayLoader(images, labels, batch_size, shuffle=True, device=device,
                                    resize=None if size == 28 else size, resize_method=method)
            _count(ours, 1)  # warm-up
            seconds, count = _timed(lambda ours=ours, n=n: _count(ours, n))
            row["ours" if method == "bilinear" else "ours_nearest"] = count / seconds
        if size == 28:
            host = data.ArrayLoader(images, labels, batch_size, shuffle=True, device=mx.cpu())
            chunks = host.host_chunks(scale_on_host=False)  # what a GPU's host does
            seconds, count = _timed(lambda chunks=chunks: _count(chunks, None))
            row["ours_host"] = count / seconds
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# 4: every network


def registered_forms() -> dict:
    """The book and native forms of every network of the series, by "<key>" for the book form
    and "<key>-native" for the native one, in chapter order. (The book-recipe forms are left
    out: they build the native architecture, whose speed the native form measures.)"""
    forms = {}
    for key, network in all_networks().items():
        for name, form in network.forms.items():
            if name != BOOK_RECIPE:
                forms[key if name == "book" else f"{key}-{name}"] = form
    return forms


def network_speed(form, arrays: dict, device, budget_s: float, min_batches: int = 3,
                  max_batches: int = 200, batch_size: int | None = None) -> dict:
    """Training throughput of one form of a network: our loader (its batch size and input size)
    feeding chapter 08's ``train_batch`` and ``BatchMetrics`` (forward, loss, backward, SGD
    step, loss and accuracy summed on the device), as ``train`` runs them. One warm-up batch,
    then as many batches as fit in ``budget_s`` by the warm-up's time (at least
    ``min_batches``), timed with one sync at the end."""
    batch_size = batch_size or form.batch_size
    lr = form.lr(1.0) if callable(form.lr) else form.lr
    images, labels = arrays["train"]
    net = form.build()
    macs = summary(net, form.input_shape).total_macs
    net.initialize(init.Xavier(), ctx=device, force_reinit=True)
    net.hybridize(static_alloc=True, static_shape=True)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr,
                            "momentum": form.momentum, "wd": form.weight_decay})
    loader = data.ArrayLoader(images, labels, batch_size, shuffle=True, device=device,
                              resize=form.resize, augment=form.augment, seed=0)
    metrics = BatchMetrics()
    metrics.hybridize(static_alloc=True, static_shape=True)
    sums = [np.zeros(2, ctx=device)]

    def run(num_batches: int) -> int:
        n = 0
        batches = itertools.islice(itertools.chain.from_iterable(itertools.repeat(loader)),
                                   num_batches)
        for X, y in batches:
            sums[0] = sums[0] + metrics(*train_batch(net, X, y, loss_fn, trainer, device))
            n += y.shape[0]
        return n

    warmup_s, _ = _timed(lambda: run(1))
    num_batches = max(min_batches, min(max_batches, int(budget_s / max(warmup_s, 1e-6))))
    seconds, n = _timed(lambda: run(num_batches))
    rate = n / seconds
    return {
        "batch_size": batch_size, "input_size": form.input_size, "lr": lr,
        "macs_per_example": macs, "warmup_seconds": warmup_s, "batches_timed": num_batches,
        "seconds": seconds, "examples_per_sec": rate,
        "gflops": rate * FLOPS_PER_MAC_TRAINING * macs / 1e9,
    }


def loader_speed_at(arrays: dict, batch_size: int, resize, device, num_batches: int) -> float:
    """Examples/s of our loader alone at one batch size and input size (the default resize)."""
    images, labels = arrays["train"]
    loader = data.ArrayLoader(images, labels, batch_size, shuffle=True, device=device,
                              resize=resize, seed=1)
    _count(loader, 1)
    seconds, n = _timed(lambda: _count(loader, num_batches))
    return n / seconds


# ---------------------------------------------------------------------------------------------
# Tables


def _fmt(value, spec: str = ",.0f") -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    return format(value, spec)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table whose columns are padded to line up in a terminal too."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    right = [i > 0 for i in range(len(header))]

    def line(cells):
        return "| " + " | ".join(c.rjust(w) if r else c.ljust(w)
                                 for c, w, r in zip(cells, widths, right, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if r else "-" * (w + 2)
                          for w, r in zip(widths, right, strict=True)) + "|"
    return "\n".join([line(header), rule, *(line([str(c) for c in row]) for row in rows)])


def tables(results: dict) -> str:
    """The four tables (and the targets) as Markdown text."""
    out = []
    e2e = results["end_to_end"]
    if e2e:
        best = _end_to_end_rate(e2e["d2l"])
        out.append(f"### 1. LeNet, one epoch end to end ({e2e['dataset']}, batch "
                   f"{e2e['batch_size']}, lr {e2e['lr']}: {e2e['d2l']['num_train']:,} training + "
                   f"{e2e['d2l']['num_val']:,} test examples; best of {e2e['repeats']}, each "
                   "pipeline in fresh processes)\n")
        rows = [["d2l 1.0.3: FashionMNIST + Trainer + LeNet", e2e["d2l_threads"],
                 _fmt(e2e["d2l"]["seconds"], ".1f"), _fmt(best), "1.00×"]]
        for setting in e2e["settings"]:
            record = setting["d2lcnn"]
            rate = _end_to_end_rate(record)
            rows.append(["d2lcnn: ArrayLoader + train() + lenet()", setting["label"],
                         _fmt(record["seconds"], ".1f"), _fmt(rate), f"{rate / best:.2f}×"])
        out.append(markdown_table(["pipeline", "CPU threads per operator", "seconds",
                                   "examples/s", "ratio"], rows))
        out.append(f"\nThe target compares d2lcnn as it runs by default (threads: "
                   f"{e2e['d2lcnn_threads']}) with d2l as it runs by default (threads: "
                   f"{e2e['d2l_threads']}): {e2e['ratio']:.2f}×.\n")
    if results["loaders"]:
        bs = results["loaders"][0]["batch_size"]
        out.append(f"### 2. Loaders alone (shuffled training set, batch {bs}, examples/s)\n")
        rows = []
        for r in results["loaders"]:
            d2l_rate = r.get("d2l")
            rows.append([f"{r['size']}×{r['size']}", _fmt(d2l_rate), _fmt(r.get("ours")),
                         f"{r['ours'] / d2l_rate:.1f}×" if d2l_rate else "–",
                         _fmt(r.get("ours_nearest")),
                         f"{r['ours_nearest'] / d2l_rate:.1f}×"
                         if d2l_rate and r.get("ours_nearest") else "–",
                         _fmt(r.get("ours_host"))])
        out.append(markdown_table(["size", "d2l (4 workers)", "ours bilinear", "ratio",
                                   "ours nearest", "ratio", "ours host side"], rows))
        out.append("")
    loop = results["loop_overhead"]
    if loop:
        settings = e2e.get("settings") or []
        out.append(f"### 3. Loop overhead (LeNet, batch {loop['batch_size']}, examples/s of "
                   f"training steps; best of {len(loop['all_runs']['pure'])})\n")
        rows = [[s["label"], _fmt(s["pure"]), _fmt(s["epoch"]), f"{s['overhead']:.1%}"]
                for s in settings]
        out.append(markdown_table(
            ["CPU threads per operator", "pure forward/backward/update on pre-made batches",
             "d2lcnn train(): loader + step + on-device metrics", "overhead"], rows))
        out.append(f"\nOverhead of the loop with d2lcnn's setting (threads: {loop['threads']}): "
                   f"{loop['overhead']:.1%}.\n")
    nets = results["results"]
    if nets:
        mm = results["matmul"]
        out.append(f"### 4. Training throughput per network ({results['machine']['device']}; "
                   f"matrix multiply {mm['best']:,.0f} GFLOP/s measured with {mm['best_kernel']}, "
                   f"{mm['size']}×{mm['size']} float32)\n")
        rows = []
        for r in nets:
            if "error" in r:
                rows.append([r["title"], "–", "–", "–", "–", "–", "–", "–", r["error"][:60]])
                continue
            rows.append([r["title"], f"{r['input_size']}", f"{r['batch_size']}",
                         _fmt(r["examples_per_sec"], ",.1f"), _fmt(r["macs_per_example"] / 1e6, ",.1f"),
                         _fmt(r["gflops"], ",.1f"), f"{r['gflops'] / mm['best']:.0%}",
                         _fmt(r["loader_examples_per_sec"]), f"{r['loader_ratio']:,.0f}×"])
        out.append(markdown_table(["network", "input", "batch", "train ex/s", "MMACs/ex",
                                   "GFLOP/s", "of matmul", "loader ex/s", "loader/train"], rows))
        out.append(f"\nGFLOP/s = examples/s × {FLOPS_PER_MAC_TRAINING} × multiply-adds per "
                   "example (convolution and dense layers; forward + two backward products).\n")
    if results.get("targets"):
        out.append("### Targets\n")
        out.append(markdown_table(["target", "measured", "needed", "met"],
                                  [[t["target"], t["measured"], t["needed"],
                                    "yes" if t["met"] else "NO"] for t in results["targets"]]))
        out.append("")
    return "\n".join(out)


def check_targets(results: dict) -> list[dict]:
    """The issue's targets, checked against the measured figures."""
    checks = []
    e2e = results["end_to_end"]
    if e2e:
        ratio = _end_to_end_rate(e2e["d2lcnn"]) / _end_to_end_rate(e2e["d2l"])
        need = TARGETS["end_to_end_ratio"]
        checks.append({"target": "LeNet epoch vs d2l's pipeline",
                       "measured": f"{ratio:.2f}×",
                       "needed": f"≥ {need}×", "met": ratio >= need})
    loop = results["loop_overhead"]
    if loop:
        need = TARGETS["loop_overhead"]
        checks.append({"target": "loop overhead vs pure forward/backward",
                       "measured": f"{loop['overhead']:.1%}", "needed": f"≤ {need:.0%}",
                       "met": loop["overhead"] <= need})
    host = [r["ours_host"] for r in results["loaders"] if "ours_host" in r]
    if host:
        need = TARGETS["host_pipeline"]
        checks.append({"target": "host side of the loader, uint8 28×28",
                       "measured": f"{host[0]:,.0f} ex/s", "needed": f"≥ {need:,} ex/s",
                       "met": host[0] >= need})
    for r in results["results"]:
        if "loader_ratio" in r:
            need = TARGETS["loader_over_training"]
            checks.append({"target": f"loader vs training: {r['title']}",
                           "measured": f"{r['loader_ratio']:,.0f}×", "needed": f"≥ {need:.0f}×",
                           "met": r["loader_ratio"] >= need})
    return checks


# ---------------------------------------------------------------------------------------------
# The run


def load_data(dataset: str | None, smoke: bool) -> tuple[str, dict]:
    """The train and test arrays of ``dataset`` (default: Fashion-MNIST, else MNIST), never
    downloaded; in smoke mode a small fixed subset."""
    names = [dataset] if dataset else ["fashion-mnist", "mnist"]
    for name in names:
        try:
            data.locate(name, download=False)
        except data.DataNotFoundError as err:
            if name == names[-1]:
                raise SystemExit(
                    f"benchmark: no data set found (it is never downloaded here).\n{err}") from None
            continue
        arrays = {split: data.load_arrays(name, split) for split in ("train", "test")}
        if smoke:
            arrays = {"train": tuple(a[:1280] for a in arrays["train"]),
                      "test": tuple(a[:256] for a in arrays["test"])}
        return name, arrays
    raise AssertionError("unreachable")


def run(args: argparse.Namespace) -> dict:
    device = try_gpu()
    load_start = _load()
    started = datetime.datetime.now().astimezone()
    dataset, arrays = load_data(args.dataset, args.smoke)
    keys = args.networks.split(",") if args.networks else None
    registry = registered_forms()
    if keys:
        unknown = [k for k in keys if k not in registry]
        if unknown:
            raise SystemExit(f"benchmark: unknown network(s) {unknown}; choose from {list(registry)}")
    results: dict = {
        "command": "python -m benchmarks.run" + (" --smoke" if args.smoke else ""),
        "date": started.isoformat(timespec="seconds"),
        "machine": machine(device),
        "dataset": dataset,
        "smoke": args.smoke,
        "load_average_start": load_start,
        "end_to_end": {}, "loaders": [], "loop_overhead": {}, "results": [],
    }

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    say(f"benchmark on {results['machine']['device']} ({results['machine']['cpu']}, "
        f"{results['machine']['cores']} cores), {dataset}, load {load_start}")
    say("matrix multiply ...")
    results["matmul"] = matmul_gflops(device, n=512 if args.smoke else 2048)

    results["end_to_end"], results["loop_overhead"] = lenet_measurements(
        dataset, args.smoke, args.repeats, say)

    say("loaders ...")
    bs = D2L_BATCH_SIZE
    num_batches = ({s: 2 for s in LOADER_SIZES} if args.smoke
                   else {28: None, 96: 100, 224: 40})
    d2l_rates = in_subprocess("d2l_loaders", thread_settings()[0], dataset=dataset,
                              smoke=args.smoke, sizes=list(LOADER_SIZES), batch_size=bs,
                              num_batches={str(k): v for k, v in num_batches.items()})
    results["loaders"] = loader_speeds(arrays, LOADER_SIZES, bs, num_batches, device,
                                       {int(k): v for k, v in d2l_rates.items()})

    loader_cache: dict = {}
    for key, form in registry.items():
        if keys and key not in keys:
            continue
        title = f"{form.network}, {form.name}"
        say(f"network {title} ...")
        record = {"key": key, "title": title}
        try:
            record.update(network_speed(
                form, arrays, device, budget_s=0.5 if args.smoke else args.budget,
                min_batches=1 if args.smoke else 3, max_batches=2 if args.smoke else 200,
                batch_size=8 if args.smoke else None))
            setting = (record["batch_size"], record["input_size"])
            if setting not in loader_cache:
                resize = None if record["input_size"] == 28 else record["input_size"]
                # about 0.5 s of loading: an epoch at 28×28, fewer batches for bigger images
                examples = 240_000 * (28 / record["input_size"]) ** 2
                loader_cache[setting] = loader_speed_at(
                    arrays, record["batch_size"], resize, device,
                    num_batches=2 if args.smoke else math.ceil(examples / record["batch_size"]))
            record["loader_examples_per_sec"] = loader_cache[setting]
            record["loader_ratio"] = record["loader_examples_per_sec"] / record["examples_per_sec"]
        except Exception as err:  # one network failing must not lose the others' figures
            record["error"] = f"{type(err).__name__}: {err}"
            say(f"  failed: {record['error']}")
        results["results"].append(record)
        gc.collect()

    results["load_average_end"] = _load()
    results["seconds"] = (datetime.datetime.now().astimezone() - started).total_seconds()
    results["targets"] = check_targets(results)
    return results


def report(results: dict) -> str:
    """The whole Markdown report: where and when it was measured, then the tables."""
    m = results["machine"]
    head = [
        "# d2lcnn benchmarks" + (" (smoke run: tiny subsets, figures meaningless)"
                                 if results["smoke"] else ""),
        "",
        f"Measured {results['date']} with `{results['command']}` in {results['seconds']:.0f} s, "
        f"on {m['cpu']} ({', '.join(m['cpu_flags']) or 'no AVX'}), {m['cores']} cores"
        f" ({m['cores_usable']} usable), {m['memory_gib']} GiB; device {m['device']}; "
        f"{m['os']}; Python {m['python']}, MXNet {m['mxnet']} ({', '.join(m['mxnet_features'])}),"
        f" NumPy {m['numpy']}, d2l {m['d2l']}. Load average (1, 5, 15 min) "
        f"{results['load_average_start']} at the start, {results['load_average_end']} at the end.",
        f"Data: {results['dataset']} from the original IDX files.",
        "",
    ]
    if m.get("cpu_threads"):
        head[-1:-1] = ["", f"CPU threads per MXNet operator in this process (tables 2 and 4): "
                           f"{m['cpu_threads']} (see benchmarks/README.md, section Threads)."]
    return "\n".join(head).rstrip() + "\n\n" + tables(results)


def write(results: dict, out: Path) -> tuple[Path, Path]:
    """Write ``results.json`` and ``results.md`` (the report) into folder ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "results.json", out / "results.md"
    json_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    text = report(results) + "\n"
    # The section that ``python -m benchmarks.native`` wrote stays (it takes an hour to redo).
    kept = native.saved_section(md_path.read_text() if md_path.exists() else "")
    if kept:
        text += "\n" + kept + "\n"
    md_path.write_text(text)
    return json_path, md_path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true",
                        help="every code path on tiny subsets in seconds (a test, not a measurement)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for results.json and results.md (default: benchmarks/ for a "
                             "full run; a smoke run writes nothing unless given)")
    parser.add_argument("--networks", default=None,
                        help="comma-separated forms: a network's key for its book form "
                             "(lenet, alexnet …), <key>-native for its native form (default: all)")
    parser.add_argument("--dataset", choices=sorted(data.DATASETS), default=None,
                        help="default: fashion-mnist, or mnist where only that is found")
    parser.add_argument("--budget", type=float, default=6.0,
                        help="seconds of timed training per network (at least 3 batches)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs of each LeNet measurement, best kept (default 2; smoke 1)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if d2l_baseline is None:
        parser.exit(2, f"{D2L_MISSING}\n")
    if args.repeats is None:
        args.repeats = 1 if args.smoke else 2
    results = run(args)
    print(report(results))
    out = args.out if args.out is not None else (None if args.smoke else HERE)
    if out is not None:
        json_path, md_path = write(results, out)
        print(f"\nwritten: {json_path}, {md_path}")
    return results


if __name__ == "__main__":
    main()
