"""The native form of every network of chapters 09-15, trained on all of Fashion-MNIST, here.

    python -m benchmarks.native                  # every network, each in a fresh process
    python -m benchmarks.native alexnet resnet18 # some of them
    python -m benchmarks.native --from-results notebooks/results/reference
                                                 # the table of runs already made (by the chapters)

Each network's native form (its chapter's record, e.g. ``d2lcnn.lessons.ALEXNET.native``) trains
with its own hyperparameters on all 60,000 training images, tested on all 10,000 after every
epoch, exactly as its chapter does (``train(net, train_iter, test_iter, **form.hyperparameters(),
seed=0)``), in a process of its own so that one run's memory and threads do not slow the next.
The targets: at most :data:`MAX_MINUTES` minutes for the whole run (data, training and every
epoch's test) and at least the test accuracy of the book's published run. The results go to
``benchmarks/native.json`` and, as a table, to the section "Native forms" of
``benchmarks/results.md`` (the rest of that file is left as it is).

This is a benchmark, not a test: it prints figures; a missed target is reported with its margin.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS_MD = HERE / "results.md"
RESULTS_JSON = HERE / "native.json"
#: The target wall time of one native form's full run, in minutes.
MAX_MINUTES = 10.0
START, END = "<!-- native-forms:start -->", "<!-- native-forms:end -->"


def train_one(key: str) -> dict:
    """Train network ``key``'s native form in this process; return the row of the table."""
    from mxnet import npx

    from d2lcnn.lessons import train
    from d2lcnn.tools.networks import all_networks

    npx.set_np()
    network = all_networks()[key]
    form = network.native
    started = time.perf_counter()
    train_iter, test_iter = form.load_data()
    history = train(form.build(), train_iter, test_iter, **form.hyperparameters(), seed=0,
                    verbose=False)
    return row_of(network, history, wall_seconds=time.perf_counter() - started)


def row_of(network, history, wall_seconds: float) -> dict:
    """The table's row for a run of ``network``'s native form."""
    from d2lcnn.tools.comparison import cost_of

    form = network.native
    params, macs = cost_of(form)
    book = network.book_result
    return {
        "key": network.key, "network": network.title, "form": form.name,
        "input": f"{form.input_size}×{form.input_size}", "params": params, "macs": macs,
        "epochs": history.epochs_done, "batch_size": form.batch_size, "lr": history.lr,
        "minutes": wall_seconds / 60, "train_minutes": history.train_seconds / 60,
        "examples_per_sec": history.overall_examples_per_sec,
        "test_acc": history.test_acc[-1], "best_test_acc": max(history.test_acc),
        "test_acc_per_epoch": history.test_acc, "device": history.device,
        "book_test_acc": book.test_acc, "book_examples_per_sec": book.examples_per_sec,
    }


def verdict(row: dict) -> str:
    """Whether a row meets both targets, and by how much it misses where it does not."""
    misses = []
    if row["minutes"] > MAX_MINUTES:
        misses.append(f"time {row['minutes'] - MAX_MINUTES:+.1f} min")
    if row["test_acc"] < row["book_test_acc"]:
        misses.append(f"accuracy {row['test_acc'] - row['book_test_acc']:+.3f}")
    return "met" if not misses else "missed: " + ", ".join(misses)


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    head = ("| network | form | input | parameters | multiply-adds | epochs | wall time | "
            "examples/s | test acc | book's test acc | book's examples/s (V100) | targets |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['form']} | {r['input']} | {r['params']:,} | "
            f"{r['macs'] / 1e6:,.1f} M | {r['epochs']} | {r['minutes']:.1f} min | "
            f"{r['examples_per_sec']:,.0f} | {r['test_acc']:.3f} | {r['book_test_acc']:.3f} | "
            f"{r['book_examples_per_sec']:,.0f} | {verdict(r)} |")
    return "\n".join(lines)


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    return (f"{cpu_model()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, "
            f"measured {datetime.date.today().isoformat()}")


def saved_section(text: str) -> str:
    """The "Native forms" section of a results.md text, markers included ("" if it has none)."""
    if START in text and END in text:
        return text[text.index(START): text.index(END) + len(END)]
    return ""


FRESH = ("`python -m benchmarks.native`: each network's native form (its chapter's record) trained "
         "from seed 0 with its own hyperparameters on all 60,000 training images, tested on all "
         "10,000 after every epoch, in a fresh process. Wall time: the whole run, data loading and "
         "every epoch's test included.")


def write_results(rows: list[dict], how: str = FRESH) -> None:
    """native.json and the "Native forms" section of results.md; ``how``: where the runs come
    from."""
    measured_on = machine_line()
    RESULTS_JSON.write_text(json.dumps({"machine": measured_on, "max_minutes": MAX_MINUTES,
                                        "results": rows}, indent=1))
    section = "\n".join([
        START, "## Native forms: all of Fashion-MNIST on this CPU", "",
        f"{how} ({measured_on}.) Targets: at most "
        f"{MAX_MINUTES:g} minutes and at least the test accuracy of the book's published run "
        "(d2l-zh 2.0 MXNet notebooks, 10 epochs of the book's form on a Tesla V100).", "",
        table(rows), "", END])
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    previous = saved_section(text)
    text = text.replace(previous, section) if previous else text.rstrip() + "\n\n" + section + "\n"
    RESULTS_MD.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("networks", nargs="*", help="network keys (default: every native form)")
    parser.add_argument("--from-results", type=Path, metavar="FOLDER",
                        help="tabulate the native-form runs saved in FOLDER (e.g. by the chapters "
                             "in notebooks/results/reference) instead of training")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: one network
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(train_one(args.one)))
        return 0
    from d2lcnn.tools.networks import all_networks

    if args.from_results:
        return tabulate_saved(args.from_results, all_networks())

    keys = args.networks or [k for k, n in all_networks().items() if n.native is not None]
    previous = {r["key"]: r for r in json.loads(RESULTS_JSON.read_text())["results"]} \
        if RESULTS_JSON.exists() else {}
    for key in keys:
        print(f"{key}: training the native form on all of Fashion-MNIST …", flush=True)
        done = subprocess.run([sys.executable, "-m", "benchmarks.native", "--one", key],
                              capture_output=True, text=True, cwd=HERE.parent)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return done.returncode
        row = json.loads(done.stdout.strip().splitlines()[-1])
        previous[key] = row
        print(f"  {row['minutes']:.1f} min, test acc {row['test_acc']:.3f} (book "
              f"{row['book_test_acc']:.3f}), {row['examples_per_sec']:,.0f} examples/s: "
              f"{verdict(row)}", flush=True)
    order = list(all_networks())
    write_results(sorted(previous.values(), key=lambda r: order.index(r["key"])))
    print(f"wrote {RESULTS_JSON.name} and the native-forms section of {RESULTS_MD.name}")
    return 0


def tabulate_saved(folder: Path, networks: dict) -> int:
    """Write the table from the full native-form runs saved in ``folder``; their wall time is the
    run's own (``History.total_seconds``: training and every epoch's test, after the data was
    loaded)."""
    from d2lcnn.tools.history import load_results

    runs = load_results(folder)
    rows = [row_of(network, run, run.total_seconds) for key, network in networks.items()
            if (run := runs.get((key, "native", False))) is not None]
    if not rows:
        print(f"no full native-form runs in {folder}", file=sys.stderr)
        return 1
    write_results(rows, how=(
        f"`python -m benchmarks.native --from-results {folder}`: the runs of the native forms that "
        "the chapters made and saved there (seed 0, each form's own hyperparameters, all 60,000 "
        "training images, all 10,000 tested after every epoch). Wall time: the run as the "
        "training loop measured it, every epoch's test included."))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
