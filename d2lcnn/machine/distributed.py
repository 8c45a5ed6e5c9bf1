"""Training on several machines with MXNet's own parameter server: one command starts it all.

MXNet's distributed key-value store (kvstore ``"dist_sync"``, built on ps-lite) runs three kinds of
process, told apart by environment variables that each reads when MXNet is imported:

- one **scheduler** (``DMLC_ROLE=scheduler``): it listens on ``DMLC_PS_ROOT_URI:DMLC_PS_ROOT_PORT``,
  every other process registers with it and learns the others' addresses from it;
- **servers** (``DMLC_ROLE=server``): each holds a slice of the parameters; with ``dist_sync`` it
  waits for every worker's gradient of a step and adds them up;
- **workers** (``DMLC_ROLE=worker``): each runs the training script on its shard of every batch,
  pushes its gradients to the servers, pulls their sum back and applies the same SGD step.

All of them also need ``DMLC_NUM_SERVER`` and ``DMLC_NUM_WORKER``. ``import mxnet`` is all a
scheduler or server runs: MXNet sees the role at import, serves until the workers are done, and
exits. The workers run the script; chapter 16's ``train_parallel(..., kvstore="dist_sync")`` trains
with a global batch of ``batch_size`` examples, ``batch_size / workers`` on each worker.

One machine, for learning (scheduler on 127.0.0.1 and a free port, everything started here)::

    python -m d2lcnn.machine.distributed --workers 2 --servers 1 -- python my_script.py
    python -m d2lcnn.machine.distributed --demo      # a push and a pull: the servers add up

Several hosts: the same command on each host, naming the scheduler's address and what runs
there (``--here``); e.g. scheduler and a server on 10.0.0.1, two workers on 10.0.0.2::

    10.0.0.1$ python -m d2lcnn.machine.distributed --workers 2 --servers 1 \\
                  --scheduler 10.0.0.1:9091 --here scheduler,server --node-host 10.0.0.1
    10.0.0.2$ python -m d2lcnn.machine.distributed --workers 2 --servers 1 \\
                  --scheduler 10.0.0.1:9091 --here worker,worker --node-host 10.0.0.2 \\
                  -- python my_script.py

The scheduler's port must be reachable from every host; servers and workers listen on ports that
ps-lite picks at random, which the hosts must be able to reach too (README, section Several
machines). The launcher prefixes each process's output with its role and number (``[worker 1] …``)
and prints its own lines for the reader (``[launcher] …``; with ``--verbose`` also each process it
starts, with its pid and command). It stops every process it started when one fails, when ``--timeout`` passes, on Ctrl-C or SIGTERM (and, on Linux, when the
launcher itself is killed), and exits with the first failing worker's status (0 when all succeed;
124 after a timeout; 128 + the signal's number when interrupted).

Workers are numbered as MXNet numbers them, counting from 1 as ``train`` reports them ("worker 1
of 2"). MXNet's ps-lite ranks the servers and the workers by host address, then by the port each
listens on; the launcher gives each process it starts a port of its own (the variable ``PORT``,
which ps-lite reads), ascending in the order of the labels, so that on one machine ``[worker 1]``
is MXNet's first worker, the one that takes the first share of every batch. On several hosts the
labels count the workers started on this host.

This module must not import MXNet (the launcher only starts processes).
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import config

__all__ = ["Launch", "Node", "demo_worker", "free_port", "free_ports", "main", "node_environment",
           "plan"]

ROLES = ("scheduler", "server", "worker")
#: What a scheduler or server runs: d2lcnn first (NumPy's aliases, for Python 3.12), then MXNet,
#: whose import serves for the role in DMLC_ROLE and exits when the workers are done.
SERVE = "import d2lcnn, mxnet"
#: What ``--demo`` runs on each worker.
DEMO = "from d2lcnn.machine.distributed import demo_worker; demo_worker()"
#: Exit status after ``--timeout`` (as coreutils' ``timeout``).
TIMEOUT_STATUS = 124
#: Seconds the scheduler and servers get to exit by themselves once every worker is done, and
#: seconds a process gets between SIGTERM and SIGKILL.
GRACE_SECONDS = 20.0
KILL_GRACE_SECONDS = 5.0
LOCALHOST = "127.0.0.1"


@dataclass
class Node:
    """One process of the job: its role, its index among this host's processes of that role
    (0, 1 …), the command it runs and the environment variables set for it (on top of the
    launcher's). Its label numbers it from 1, as ``train`` numbers the workers: "worker 1"."""

    role: str
    index: int
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "scheduler" if self.role == "scheduler" else f"{self.role} {self.index + 1}"


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port nothing listens on now at ``host`` (the kernel's choice), for the scheduler."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def free_ports(count: int, avoid: int | None = None) -> list[int]:
    """``count`` different TCP ports that nothing listens on now, on any address, ascending (all
    probed at once, so that the kernel cannot hand out one twice), none of them ``avoid``."""
    probes: list[socket.socket] = []
    try:
        while len(probes) < count + (avoid is not None):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            probes.append(probe)
            probe.bind(("", 0))
        ports = sorted(p.getsockname()[1] for p in probes)
    finally:
        for probe in probes:
            probe.close()
    return [p for p in ports if p != avoid][:count]


def node_environment(role: str, scheduler: tuple[str, int], num_servers: int, num_workers: int,
                     node_host: str | None = None) -> dict[str, str]:
    """The variables ps-lite reads for a process of ``role``: the scheduler's address, the number
    of servers and workers, and (``node_host``) the address the others reach this host at, which
    ps-lite otherwise guesses from the first network interface it finds."""
    if role not in ROLES:
        raise ValueError(f"role {role!r}: one of {', '.join(ROLES)}")
    env = {"DMLC_ROLE": role, "DMLC_PS_ROOT_URI": scheduler[0],
           "DMLC_PS_ROOT_PORT": str(scheduler[1]), "DMLC_NUM_SERVER": str(num_servers),
           "DMLC_NUM_WORKER": str(num_workers)}
    if node_host:
        env["DMLC_NODE_HOST"] = node_host
    return env


def _threads_per_worker(local_workers: int) -> str | None:
    """OMP_NUM_THREADS for each of this host's workers, so that together they use its physical
    cores once (None where the user chose a setting, or the cores are unknown)."""
    from . import cpu_threads

    chosen = cpu_threads.without_d2lcnn_settings(config.thread_settings())
    if chosen.get("OMP_NUM_THREADS") or chosen.get("MXNET_OMP_MAX_THREADS") or not local_workers:
        return None
    cores = cpu_threads.physical_cores()
    quota = cpu_threads.cpu_quota()
    if cores is None:
        return None
    return str(max(1, min(cores, quota or cores) // local_workers))


def plan(command: Sequence[str], workers: int, servers: int, here: Sequence[str],
         scheduler: tuple[str, int], node_host: str | None = None) -> list[Node]:
    """The processes to start on this host: ``here`` lists their roles (``scheduler`` at most
    once); ``workers`` and ``servers`` are the job's totals, on every host together."""
    if workers < 1 or servers < 1:
        raise ValueError(f"need at least one worker and one server, got {workers} worker(s) and "
                         f"{servers} server(s)")
    unknown = sorted(set(here) - set(ROLES))
    if unknown:
        raise ValueError(f"--here {','.join(here)}: {', '.join(unknown)} is not a role (use "
                         f"{', '.join(ROLES)}, e.g. --here scheduler,server,worker)")
    counts = {role: list(here).count(role) for role in ROLES}
    if counts["scheduler"] > 1 or counts["server"] > servers or counts["worker"] > workers:
        raise ValueError(f"--here {','.join(here)} starts more than the job has: one scheduler, "
                         f"{servers} server(s), {workers} worker(s) on all hosts together")
    if counts["worker"] and not command:
        raise ValueError("no command for the workers: put it after --, e.g. "
                         "-- python my_script.py (or use --demo)")
    threads = _threads_per_worker(counts["worker"])
    # ps-lite ranks the servers and the workers by port on one host: ascending ports in the
    # order of the labels make "worker 1" MXNet's first worker (see the module docstring).
    ports = iter(free_ports(counts["server"] + counts["worker"], avoid=scheduler[1]))
    nodes: list[Node] = []
    for role in ROLES:
        for index in range(counts[role]):
            env = node_environment(role, scheduler, servers, workers, node_host)
            env["PYTHONUNBUFFERED"] = "1"  # lines as they come, not at exit
            if role != "scheduler":
                env["PORT"] = str(next(ports))  # the port ps-lite listens on
            if role == "worker":
                if threads:
                    env["OMP_NUM_THREADS"] = threads
                nodes.append(Node(role, index, list(command), env))
            else:
                env["OMP_NUM_THREADS"] = "1"  # adding gradients up needs no thread team
                nodes.append(Node(role, index, [sys.executable, "-c", SERVE], env))
    return nodes


def _death_signal_setter():
    """Linux: a function for the child, between fork and exec, that has the kernel kill it when
    the launcher dies, even by SIGKILL; None elsewhere. ``prctl`` is looked up here, in the
    launcher, so that the child only calls it (looking up symbols after a fork can deadlock)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigkill = 1, int(signal.SIGKILL)

    def set_death_signal() -> None:  # pragma: no cover - runs in the child
        prctl(pr_set_pdeathsig, sigkill)

    return set_death_signal


class _Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Launch:
    """Starts ``nodes``, copies their output with a prefix, watches them and stops them all.

    :meth:`run` returns the exit status (see the module docstring). Each process runs in a
    session of its own, so that stopping it reaches whatever it started too, and so that a
    Ctrl-C in the terminal reaches the launcher only, which then stops everyone in order.
    """

    def __init__(self, nodes: Sequence[Node], timeout: float | None = None, out=None,
                 verbose: bool = False) -> None:
        self.nodes = list(nodes)
        self.timeout = timeout
        self.verbose = verbose  # also say which process started, with its pid and command
        self.out = out if out is not None else sys.stdout
        self.processes: dict[str, subprocess.Popen] = {}
        self._readers: list[threading.Thread] = []
        self._lock = threading.Lock()

    # --- output ---------------------------------------------------------------------------------

    def say(self, line: str) -> None:
        with self._lock:
            self.out.write(f"[launcher] {line}\n")
            self.out.flush()

    def _copy(self, label: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            with self._lock:
                self.out.write(f"[{label}] {line}\n")
                self.out.flush()
        stream.close()

    # --- processes ------------------------------------------------------------------------------

    def start(self) -> None:
        set_death_signal = _death_signal_setter()
        for node in self.nodes:
            process = subprocess.Popen(
                node.command, env={**os.environ, **node.env}, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=set_death_signal)
            self.processes[node.label] = process
            if self.verbose:
                self.say(f"started {node.label} (pid {process.pid}): {shlex.join(node.command)}")
        # Reader threads only after every fork: forking a process with threads is not safe.
        for label, process in self.processes.items():
            reader = threading.Thread(target=self._copy, args=(label, process.stdout), daemon=True)
            reader.start()
            self._readers.append(reader)

    def stop(self) -> None:
        """SIGTERM to every process still running (and its session), SIGKILL after
        :data:`KILL_GRACE_SECONDS`; then wait for them and for their output."""
        running = [p for p in self.processes.values() if p.poll() is None]
        for process in running:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
        for reader in self._readers:
            reader.join(timeout=2)

    def _of_role(self, role: str) -> list[tuple[str, subprocess.Popen]]:
        return [(n.label, self.processes[n.label]) for n in self.nodes if n.role == role]

    def watch(self) -> int:
        """Wait for the workers; the exit status (see :meth:`run`).

        The parameter server may finish first (MXNet's first worker tells the servers to stop
        while the others are still leaving), and the workers first; either way the rest get
        :data:`GRACE_SECONDS` to follow before they are stopped.
        """
        start = time.monotonic()
        workers = self._of_role("worker")
        others = self._of_role("scheduler") + self._of_role("server")
        waiting_since = None
        while True:
            for label, process in workers + others:
                code = process.poll()
                if code not in (None, 0):
                    self.say(f"{label} exited with status {code}: stopping the others")
                    return code if code > 0 else 128 - code
            workers_done = all(p.poll() == 0 for _, p in workers)
            others_done = all(p.poll() == 0 for _, p in others)
            if workers_done and others_done:
                return 0
            if workers and (workers_done or others_done):
                waiting_since = waiting_since or time.monotonic()
                if time.monotonic() - waiting_since > GRACE_SECONDS:
                    if workers_done:
                        self.say(f"every worker is done, but the scheduler or a server still "
                                 f"runs after {GRACE_SECONDS:.0f} s: stopping it")
                        return 0
                    self.say(f"the scheduler and servers are done, but a worker still runs "
                             f"after {GRACE_SECONDS:.0f} s: stopping it")
                    return 1
            if self.timeout is not None and time.monotonic() - start > self.timeout:
                self.say(f"still running after --timeout {self.timeout:g} s: stopping everything")
                return TIMEOUT_STATUS
            time.sleep(0.05)

    def run(self) -> int:
        """Start, watch and stop: 0 when every worker succeeded, else the first failure's exit
        status (124 after the timeout, 128 + N on signal N)."""
        handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in handled:
                previous[signum] = signal.signal(signum, _raise_interrupted)
        try:
            self.start()
            status = self.watch()
        except _Interrupted as stop:
            self.say(f"{stop}: stopping everything")
            status = 128 + stop.signum
        finally:
            for signum, handler in previous.items():  # a second Ctrl-C ends the launcher at
                signal.signal(signum, handler)        # once; its children then die with it
            self.stop()
        return status


def _raise_interrupted(signum, frame) -> None:
    raise _Interrupted(signum)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)  # its session's group: the process and what it started
    except (ProcessLookupError, PermissionError):
        pass


# --- the demo -----------------------------------------------------------------------------------


def demo_worker() -> None:
    """What ``--demo`` runs on each worker: push ``rank + 1`` to a ``dist_sync`` store and pull
    back what the servers made of all the pushes, their sum (exit status 1 if it is not)."""
    from . import prepare

    prepare()
    import mxnet as mx

    store = mx.kv.create("dist_sync")
    shape = (2, 3)
    store.init("w", mx.nd.zeros(shape))
    store.push("w", mx.nd.ones(shape) * (store.rank + 1))
    pulled = mx.nd.zeros(shape)
    store.pull("w", out=pulled)
    expected = store.num_workers * (store.num_workers + 1) / 2
    got = float(pulled.asnumpy().mean())
    print(f"worker {store.rank + 1} of {store.num_workers} pushed {store.rank + 1} and pulled "
          f"{got:g}, the sum over all workers ({expected:g}): "
          + ("as expected" if got == expected else "WRONG"))
    if got != expected:
        sys.exit(1)


# --- the command --------------------------------------------------------------------------------


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r}: give HOST:PORT, e.g. 10.0.0.1:9091")
    return host, int(port)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m d2lcnn.machine.distributed",
        description="Start MXNet's parameter server (a scheduler, servers) and workers running "
                    "COMMAND, with the DMLC_* variables each needs; on one machine by default.",
        epilog="Example: python -m d2lcnn.machine.distributed --workers 2 --servers 1 -- "
               "python my_script.py  (README, section Several machines)")
    parser.add_argument("--workers", type=int, default=2, help="workers in the job (default 2)")
    parser.add_argument("--servers", type=int, default=1, help="servers in the job (default 1)")
    parser.add_argument("--scheduler", type=_address, metavar="HOST:PORT",
                        help="several hosts: where the scheduler listens (default: this "
                             "machine, 127.0.0.1 and a free port, and everything starts here)")
    parser.add_argument("--here", default=None, metavar="ROLES",
                        help="several hosts: the processes to start on this host, e.g. "
                             "scheduler,server or worker,worker (default: all of them)")
    parser.add_argument("--node-host", metavar="ADDRESS",
                        help="several hosts: this host's address as the others reach it "
                             "(DMLC_NODE_HOST; default 127.0.0.1 on one machine)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"stop everything after SECONDS (exit status {TIMEOUT_STATUS})")
    parser.add_argument("--verbose", action="store_true",
                        help="also print each process started, with its pid and command")
    parser.add_argument("--demo", action="store_true",
                        help="run a push and a pull on each worker instead of a command")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- then the command each worker runs")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if args.demo:
        if command:
            parser.error("--demo runs its own worker code: leave out the command")
        command = [sys.executable, "-c", DEMO]
    if args.scheduler is None:
        if args.here is not None:
            parser.error("--here needs --scheduler HOST:PORT (on one machine everything starts "
                         "here)")
        scheduler = (LOCALHOST, free_port())
        here = ["scheduler"] + ["server"] * args.servers + ["worker"] * args.workers
        node_host = args.node_host or LOCALHOST
    else:
        scheduler = args.scheduler
        here = [r.strip() for r in (args.here or "scheduler,server,worker").split(",") if r.strip()]
        node_host = args.node_host
    try:
        nodes = plan(command, args.workers, args.servers, here, scheduler, node_host)
    except ValueError as problem:
        parser.error(str(problem))
    launch = Launch(nodes, timeout=args.timeout, verbose=args.verbose)
    launch.say(f"scheduler at {scheduler[0]}:{scheduler[1]}; the job has {args.servers} "
               f"server(s) and {args.workers} worker(s); starting here: "
               f"{', '.join(n.label for n in nodes)}")
    status = launch.run()
    launch.say("all workers finished" if status == 0 else f"exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
