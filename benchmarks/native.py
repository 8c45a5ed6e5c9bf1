"""The native form of every network of chapters 09-15, trained on all of Fashion-MNIST, here,
under the CPU's best instruction set and under AVX2 alone.

    python -m benchmarks.native                  # every network, both instruction sets
    python -m benchmarks.native alexnet resnet18 # some of them
    python -m benchmarks.native --isa AVX2       # one instruction set (best, AVX2, …)
    python -m benchmarks.native --seeds 0,1,2    # the spread over seeds
    python -m benchmarks.native --from-results notebooks/results/reference
                                                 # the table of runs already made (by the chapters)

Each network's native form (its chapter's record, e.g. ``d2lcnn.lessons.ALEXNET.native``) trains
with its own hyperparameters on all 60,000 training images, tested on all 10,000 after every
epoch, exactly as its chapter does (``train(net, train_iter, test_iter, **form.hyperparameters(),
seed=seed)``), in a process of its own so that one run's memory and threads do not slow the next.
"best" is whatever oneDNN picks on this CPU; "AVX2" sets ``DNNL_MAX_CPU_ISA=AVX2`` in the child,
so that a CPU with AVX-512 trains as one without it, as most laptops are
(:mod:`d2lcnn.machine.cpu_isa`).

The targets, under AVX2 on 2 cores: at most :data:`MAX_MINUTES` minutes for the whole run (data,
training and every epoch's test) and at least the test accuracy of the book's published run; under
the best instruction set, the same. The results go to ``benchmarks/native.json`` (a row per
network, instruction set and seed; a new run replaces the rows it measures) and, as a table, to
the section "Native forms" of ``benchmarks/results.md`` (the rest of that file is left as it is).

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


def train_one(key: str, seed: int = 0) -> dict:
    """Train network ``key``'s native form in this process; return the row of the table."""
    from mxnet import npx

    from d2lcnn.lessons import train
    from d2lcnn.tools.networks import all_networks

    npx.set_np()
    network = all_networks()[key]
    form = network.native
    started = time.perf_counter()
    train_iter, test_iter = form.load_data()
    history = train(form.build(), train_iter, test_iter, **form.hyperparameters(), seed=seed,
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
        "seed": history.seed, "isa": isa_of(history.processor), "cpu": history.processor,
        "minutes": wall_seconds / 60, "train_minutes": history.train_seconds / 60,
        "examples_per_sec": history.overall_examples_per_sec,
        "test_acc": history.test_acc[-1], "best_test_acc": max(history.test_acc),
        "test_acc_per_epoch": history.test_acc, "device": history.device,
        "book_test_acc": book.test_acc, "book_examples_per_sec": book.examples_per_sec,
    }


def isa_of(processor: str) -> str:
    """The instruction set of a History's ``processor``; "not recorded" for runs saved without it."""
    from d2lcnn.machine.cpu_isa import isa_named_in

    return isa_named_in(processor) or "not recorded"


def verdict(row: dict) -> str:
    """Whether a row meets both targets, and by how much it misses where it does not."""
    misses = []
    if row["minutes"] > MAX_MINUTES:
        misses.append(f"time {row['minutes'] - MAX_MINUTES:+.1f} min")
    if row["test_acc"] < row["book_test_acc"]:
        misses.append(f"accuracy {row['test_acc'] - row['book_test_acc']:+.3f}")
    return "met" if not misses else "missed: " + ", ".join(misses)


def _isa_rank(isa: str) -> int:
    from d2lcnn.machine.cpu_isa import ISA_LEVELS

    names = [printed for _, printed, _ in ISA_LEVELS]
    return names.index(isa) if isa in names else -1


def table(rows: list[dict]) -> str:
    """The seed-0 rows (else each network's lowest seed) as a Markdown table: one line per
    network, a group of columns per instruction set, widest first, and the ratio of their times."""
    isas = sorted({r["isa"] for r in rows}, key=_isa_rank, reverse=True)
    first = {}
    for r in sorted(rows, key=lambda r: r.get("seed") or 0):
        first.setdefault((r["key"], r["isa"]), r)
    head = ["network", "input", "parameters", "multiply-adds", "epochs"]
    for isa in isas:
        head += [f"{isa}: wall time", f"{isa}: examples/s", f"{isa}: test acc", f"{isa}: targets"]
    if len(isas) == 2:
        head.append(f"time {isas[1]} / {isas[0]}")
    head += ["book's test acc", "book's examples/s (V100)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in dict.fromkeys(r["key"] for r in rows):
        runs = [first.get((key, isa)) for isa in isas]
        some = next(r for r in runs if r)
        cells = [some["network"], some["input"], f"{some['params']:,}",
                 f"{some['macs'] / 1e6:,.1f} M", str(some["epochs"])]
        for r in runs:
            cells += ([f"{r['minutes']:.1f} min", f"{r['examples_per_sec']:,.0f}",
                       f"{r['test_acc']:.3f}", verdict(r)] if r else ["–"] * 4)
        if len(isas) == 2:
            cells.append(f"{runs[1]['minutes'] / runs[0]['minutes']:.2f}×"
                         if all(runs) else "–")
        cells += [f"{some['book_test_acc']:.3f}", f"{some['book_examples_per_sec']:,.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_table(rows: list[dict]) -> str:
    """Where a network ran with several seeds under an instruction set: each seed's final test
    accuracy, the lowest and the mean, against the book's number ("" when no network did)."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["key"], r["isa"]), []).append(r)
    several = {k: sorted(g, key=lambda r: r.get("seed") or 0) for k, g in groups.items()
               if len(g) > 1}
    if not several:
        return ""
    lines = ["| network | instruction set | test acc by seed | lowest | mean | book's test acc | "
             "lowest above the book's |", "|" + "---|" * 7]
    for (_, isa), runs in several.items():
        accs = [r["test_acc"] for r in runs]
        by_seed = ", ".join(f"{r.get('seed')}: {r['test_acc']:.3f}" for r in runs)
        book = runs[0]["book_test_acc"]
        lines.append(f"| {runs[0]['network']} | {isa} | {by_seed} | {min(accs):.3f} | "
                     f"{sum(accs) / len(accs):.3f} | {book:.3f} | "
                     f"{'yes' if min(accs) >= book else 'no'} |")
    return "\n".join(lines)


def machine_line() -> str:
    from d2lcnn.machine.cpu_isa import cpu_model

    return (f"{cpu_model()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, "
            f"measured {datetime.date.today().isoformat()}")


def saved_section(text: str) -> str:
    """The "Native forms" section of a results.md text, markers included ("" if it has none)."""
    if START in text and END in text:
        return text[text.index(START): text.index(END) + len(END)]
    return ""


def fresh_how(isas: list[str], command: str = "python -m benchmarks.native") -> str:
    """Where the rows of a fresh measurement under ``isas`` come from, for results.md."""
    names = [("the CPU's best instruction set" if isa == "best" else
              f"`DNNL_MAX_CPU_ISA={isa}`" + (" (what a CPU without AVX-512 gets)"
                                            if isa == "AVX2" else "")) for isa in isas]
    return (f"`{command}`: each network's native form (its chapter's record) trained with its own "
            "hyperparameters on all 60,000 training images, tested on all 10,000 after every "
            f"epoch, in a fresh process, under {' and under '.join(names)}. Wall time: the whole "
            "run, data loading and every epoch's test included.")


def write_results(rows: list[dict], how: str) -> None:
    """native.json and the "Native forms" section of results.md; ``how``: where the runs come
    from."""
    measured_on = machine_line()
    RESULTS_JSON.write_text(json.dumps({"machine": measured_on, "max_minutes": MAX_MINUTES,
                                        "results": rows}, indent=1))
    seeds = seed_table(rows)
    section = "\n".join([
        START, "## Native forms: all of Fashion-MNIST on this CPU", "",
        f"{how} ({measured_on}.) Targets: at most "
        f"{MAX_MINUTES:g} minutes and at least the test accuracy of the book's published run "
        "(d2l-zh 2.0 MXNet notebooks, 10 epochs of the book's form on a Tesla V100). The table "
        "shows seed 0.", "", table(rows), ""]
        + (["Seeds:", "", seeds, ""] if seeds else []) + [END])
    text = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    previous = saved_section(text)
    text = text.replace(previous, section) if previous else text.rstrip() + "\n\n" + section + "\n"
    RESULTS_MD.write_text(text)


#: The instruction sets measured by default: oneDNN's choice, and AVX2 alone.
DEFAULT_ISAS = ("best", "AVX2")


def child_env(isa: str) -> dict[str, str]:
    """The environment of a child run under ``isa`` ("best": oneDNN's own choice)."""
    env = {k: v for k, v in os.environ.items() if k != "DNNL_MAX_CPU_ISA"}
    if isa != "best":
        env["DNNL_MAX_CPU_ISA"] = isa
    return env


def run_child(key: str, isa: str, seed: int) -> dict:
    """Train ``key`` in a fresh process under ``isa``; its row, or SystemExit with its error."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.native", "--one", key,
                           "--seed", str(seed)], capture_output=True, text=True,
                          cwd=HERE.parent, env=child_env(isa))
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(done.returncode)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("networks", nargs="*", help="network keys (default: every native form)")
    parser.add_argument("--isa", default=",".join(DEFAULT_ISAS),
                        help="instruction sets, comma-separated: best (oneDNN's choice) and/or "
                             "oneDNN's names such as AVX2 (default: best,AVX2)")
    parser.add_argument("--seeds", default="0", help="seeds, comma-separated (default: 0)")
    parser.add_argument("--from-results", type=Path, metavar="FOLDER",
                        help="tabulate the native-form runs saved in FOLDER (e.g. by the chapters "
                             "in notebooks/results/reference) instead of training")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: one network
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(train_one(args.one, args.seed)))
        return 0
    from d2lcnn.machine.cpu_isa import onednn_isa
    from d2lcnn.tools.networks import all_networks

    if args.from_results:
        return tabulate_saved(args.from_results, all_networks())
    isas = [isa.strip() for isa in args.isa.split(",") if isa.strip()]
    for isa in isas:
        if isa != "best":
            onednn_isa(cap=isa)  # a name oneDNN does not know: a clear error, before any run
    seeds = [int(s) for s in args.seeds.split(",")]
    command = "python -m benchmarks.native " + " ".join(argv if argv is not None else sys.argv[1:])
    how = fresh_how(isas, command.strip())
    keys = args.networks or [k for k, n in all_networks().items() if n.native is not None]
    unknown = sorted(set(keys) - set(all_networks()))
    if unknown:
        parser.error(f"no network {', '.join(unknown)}: choose from {', '.join(all_networks())}")
    previous = {(r["key"], r.get("isa"), r.get("seed", 0)): r
                for r in json.loads(RESULTS_JSON.read_text())["results"]} \
        if RESULTS_JSON.exists() else {}
    for key in keys:
        for isa in isas:
            for seed in seeds:
                print(f"{key}, {isa}, seed {seed}: training the native form on all of "
                      "Fashion-MNIST …", flush=True)
                row = {**run_child(key, isa, seed), "how": how}
                previous[(key, row["isa"], seed)] = row
                print(f"  {row['cpu']}: {row['minutes']:.1f} min, test acc {row['test_acc']:.3f} "
                      f"(book {row['book_test_acc']:.3f}), {row['examples_per_sec']:,.0f} "
                      f"examples/s: {verdict(row)}", flush=True)
    order = list(all_networks())
    rows = sorted(previous.values(), key=lambda r: (order.index(r["key"]), -_isa_rank(r["isa"]),
                                                    r["seed"]))
    write_results(rows, how=how_of(rows))
    print(f"wrote {RESULTS_JSON.name} and the native-forms section of {RESULTS_MD.name}")
    return 0


def saved_how(folder) -> str:
    """Where the rows of ``--from-results folder`` come from, for results.md."""
    return (f"`python -m benchmarks.native --from-results {folder}`: the runs of the native forms "
            "that the chapters made and saved there (seed 0, each form's own hyperparameters, all "
            "60,000 training images, all 10,000 tested after every epoch), under the instruction "
            "set each recorded. Wall time: the run as the training loop measured it, every "
            "epoch's test included.")


def how_of(rows: list[dict]) -> str:
    """Where the rows come from, for results.md: the folder of the saved runs, then each
    command that trained the others (rows from before commands were recorded: the default's)."""
    saved = [r for r in rows if r.get("source") == "saved"]
    fresh = dict.fromkeys(r.get("how") or fresh_how(list(DEFAULT_ISAS)) for r in rows
                          if r.get("source") != "saved")
    parts = ([saved_how(saved[0]["folder"])] if saved else []) + list(fresh)
    if saved and fresh:
        parts[1] = "The other rows: " + parts[1]
    return " ".join(parts)


def tabulate_saved(folder: Path, networks: dict) -> int:
    """Write the table from the full native-form runs saved in ``folder``; their wall time is the
    run's own (``History.total_seconds``: training and every epoch's test, after the data was
    loaded)."""
    from d2lcnn.tools.history import load_results

    runs = load_results(folder)
    rows = [{**row_of(network, run, run.total_seconds), "source": "saved", "folder": str(folder)}
            for key, network in networks.items()
            if (run := runs.get((key, "native", False))) is not None]
    if not rows:
        print(f"no full native-form runs in {folder}", file=sys.stderr)
        return 1
    write_results(rows, how=saved_how(folder))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
