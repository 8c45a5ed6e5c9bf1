"""Training on several machines (d2lcnn.machine.distributed): two workers on 127.0.0.1 with
``kvstore="dist_sync"`` end with the parameters of one process that trains on the same global
batches, up to rounding; and the launcher stops every process it started, whatever happens.

Run as a script, this file is the training program of those tests:
``python tests/test_distributed.py OUT_DIR`` trains LeNet for one epoch on 256 real Fashion-MNIST
images (batches of 64, four steps, a learning rate changing every step, a checkpoint at the end)
and saves the parameters to OUT_DIR, as a worker of a distributed job when started by the
launcher, else as one process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as onp
import pytest

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
LAUNCHER = [sys.executable, "-m", "d2lcnn.machine.distributed"]
#: The job: global batch 64, 32 examples per worker, 256 examples = 4 full steps.
NUM_TRAIN, BATCH_SIZE, LR, SEED = 256, 64, 0.9, 7
#: Seconds a whole launch may take before the launcher stops it (and the test fails).
LAUNCH_TIMEOUT = 300


# --- the training program -----------------------------------------------------------------------


def schedule(epoch: float) -> float:
    """A learning rate that changes every step (epoch is fractional): each worker sets it on its
    own optimiser, so it must be the one that updates the parameters."""
    return LR / (1 + epoch)


def _parameters(net) -> dict[str, onp.ndarray]:
    """The network's parameters by their place in it ("features.0.weight"): the same names in
    every process, whatever blocks were made before."""
    return {name: p.data().asnumpy() for name, p in net._collect_params_with_prefix().items()}


def train_and_save(out_dir: Path) -> None:
    """Train LeNet (sigmoid, average pooling: no dropout, no batch norm) for one epoch with a
    learning-rate schedule and a checkpoint, and save its parameters and what the run reported
    to ``out_dir``."""
    from d2lcnn import machine

    machine.prepare()
    import mxnet as mx
    from mxnet import npx

    npx.set_np()
    from d2lcnn.lessons import LeNet, train_parallel
    from d2lcnn.tools.data import ArrayLoader, load_arrays

    distributed = bool(os.environ.get("DMLC_ROLE"))
    images, labels = load_arrays("fashion-mnist", "train")
    test_images, test_labels = load_arrays("fashion-mnist", "test")
    cpu = mx.cpu()
    train_iter = ArrayLoader(images[:NUM_TRAIN], labels[:NUM_TRAIN], BATCH_SIZE, shuffle=True,
                             seed=SEED, device=cpu)
    test_iter = ArrayLoader(test_images[:BATCH_SIZE], test_labels[:BATCH_SIZE], BATCH_SIZE,
                            device=cpu)
    net = LeNet()
    history = train_parallel(net, train_iter, test_iter, num_epochs=1, lr=schedule, devices=[cpu],
                             seed=SEED, kvstore="dist_sync" if distributed else None,
                             verbose=False, checkpoint_dir=out_dir / f"checkpoints-{os.getpid()}")
    tag = history.device.replace(" ", "_").replace(",", "")
    out_dir.mkdir(parents=True, exist_ok=True)
    onp.savez(out_dir / f"{tag}.npz", **_parameters(net))
    if not distributed:  # where train() started from: the same seed, the same initialisation
        from d2lcnn import config

        initial = LeNet()
        config.set_seed(SEED)
        initial.initialize(mx.init.Xavier(), ctx=cpu)
        initial(mx.np.zeros((1, 1, 28, 28), ctx=cpu))
        onp.savez(out_dir / "initial.npz", **_parameters(initial))
    (out_dir / f"{tag}.json").write_text(json.dumps({"device": history.device,
                                                      "train_loss": history.train_loss}))
    print(f"saved the parameters of {history.device}")


# --- helpers ------------------------------------------------------------------------------------


def _env(**extra) -> dict:
    env = {**os.environ, "MPLBACKEND": "Agg", **extra}
    env.pop("D2LCNN_QUICK", None)
    return env


def _launch(args: list[str], timeout: float = LAUNCH_TIMEOUT + 60, **kwargs):
    return subprocess.run(LAUNCHER + args, cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def _load_runs(folder: Path) -> dict[str, dict]:
    return {path.stem: dict(onp.load(path)) for path in sorted(folder.glob("*.npz"))}


def _started_pids(output: str) -> list[int]:
    return [int(line.split("(pid ")[1].split(")")[0]) for line in output.splitlines()
            if line.startswith("[launcher] started ")]


def _gone(pid: int) -> bool:
    """Whether process ``pid`` no longer exists (a zombie of ours would still count as there)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _assert_all_gone(pids: list[int], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.1)
    assert all(_gone(p) for p in pids), f"left running: {[p for p in pids if not _gone(p)]}"


# --- two workers against one process ------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir) -> dict[str, dict]:
    """The parameters of the one-process run and of each of the two workers."""
    out = tmp_path_factory.mktemp("distributed")
    single = subprocess.run([sys.executable, str(HERE), str(out)], cwd=REPO,
                            env=_env(OMP_NUM_THREADS="1"), capture_output=True, text=True,
                            timeout=LAUNCH_TIMEOUT)
    assert single.returncode == 0, single.stdout[-3000:] + single.stderr[-3000:]
    job = _launch(["--workers", "2", "--servers", "1", "--timeout", str(LAUNCH_TIMEOUT),
                   "--verbose", "--", sys.executable, str(HERE), str(out)])
    assert job.returncode == 0, job.stdout[-5000:] + job.stderr[-3000:]
    _assert_all_gone(_started_pids(job.stdout))
    # the launcher's labels are the numbers train reports
    for k in (1, 2):
        assert f"[worker {k}] saved the parameters of cpu(0), worker {k} of 2" in job.stdout, (
            job.stdout)
    return _load_runs(out)


def test_each_worker_trained_its_share(runs):
    assert sorted(runs) == ["cpu(0)", "cpu(0)_worker_1_of_2", "cpu(0)_worker_2_of_2", "initial"]


def test_two_workers_end_with_the_parameters_of_one_process(runs):
    single = runs["cpu(0)"]
    for name in ("cpu(0)_worker_1_of_2", "cpu(0)_worker_2_of_2"):
        worker = runs[name]
        assert sorted(worker) == sorted(single)
        for key, value in single.items():
            onp.testing.assert_allclose(worker[key], value, rtol=1e-4, atol=1e-5,
                                        err_msg=f"{name}: {key}")


def test_both_workers_pull_the_same_parameters(runs):
    first, second = runs["cpu(0)_worker_1_of_2"], runs["cpu(0)_worker_2_of_2"]
    for key, value in first.items():
        onp.testing.assert_array_equal(second[key], value, err_msg=key)


def test_the_steps_moved_the_parameters_well_beyond_rounding(runs):
    """Four steps from lr 0.9 down change the output layer by far more than the tolerance above,
    so that agreement means the same updates, not the same initialisation."""
    single, initial = runs["cpu(0)"], runs["initial"]
    assert sorted(initial) == sorted(single)
    assert max(onp.abs(single[key] - initial[key]).max() for key in single) > 1e-2


# --- the launcher -------------------------------------------------------------------------------


def test_demo_pushes_and_pulls_the_sum():
    job = _launch(["--demo", "--timeout", str(LAUNCH_TIMEOUT), "--verbose"])
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
    assert job.stdout.count("the sum over all workers (3): as expected") == 2
    _assert_all_gone(_started_pids(job.stdout))


def test_workers_are_labelled_as_mxnet_numbers_them_and_only_readers_lines_printed():
    """Each worker pushes its rank + 1: the launcher's "[worker k]" is MXNet's worker k (the
    order ps-lite gives them follows the ports the launcher hands out, not the start order).
    Without --verbose, no pids or commands."""
    for _ in range(3):
        job = _launch(["--demo", "--timeout", str(LAUNCH_TIMEOUT)])
        assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
        for k in (1, 2):
            assert f"[worker {k}] worker {k} of 2 pushed {k} and pulled 3" in job.stdout, job.stdout
        lines = job.stdout.splitlines()
        assert lines[0].endswith("starting here: scheduler, server 1, worker 1, worker 2"), lines
        assert lines[-1] == "[launcher] all workers finished", lines
        assert len(lines) == 4 and "pid" not in job.stdout, lines


def test_free_ports_are_different_and_ascending():
    from d2lcnn.machine.distributed import free_ports

    ports = free_ports(5, avoid=1)
    assert len(set(ports)) == 5 and ports == sorted(ports) and 1 not in ports


def _sleeper(tmp_path: Path, code: int) -> list[str]:
    """A worker command: each worker prints a line and leaves a mark in ``tmp_path/marks``; with
    ``code`` ≠ 0 the first one to get there exits with it once two have marked, every other
    sleeps a minute."""
    script = tmp_path / "sleeper.py"
    script.write_text(
        "import os, sys, time\n"
        "print('hello from', os.environ['DMLC_ROLE'], flush=True)\n"
        "marks = sys.argv[1]\n"
        "open(os.path.join(marks, 'started-' + str(os.getpid())), 'w').close()\n"
        "try:\n"
        "    os.close(os.open(os.path.join(marks, 'first'), os.O_CREAT | os.O_EXCL))\n"
        "    first = True\n"
        "except FileExistsError:\n"
        "    first = False\n"
        f"if first and {code}:\n"
        "    while len([m for m in os.listdir(marks) if m.startswith('started-')]) < 2:\n"
        "        time.sleep(0.05)\n"
        f"    sys.exit({code})\n"
        "time.sleep(60)\n")
    (tmp_path / "marks").mkdir()
    return [sys.executable, str(script), str(tmp_path / "marks")]


def _wait_for_marks(folder: Path, count: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while len(list(folder.glob("started-*"))) < count and time.monotonic() < deadline:
        time.sleep(0.1)


def test_a_failing_worker_stops_everything_and_sets_the_status(tmp_path):
    start = time.monotonic()
    job = _launch(["--workers", "2", "--timeout", "120", "--verbose", "--"]
                  + _sleeper(tmp_path, 3), timeout=180)
    assert job.returncode == 3, job.stdout
    assert time.monotonic() - start < 60
    assert "[worker 1] hello from worker" in job.stdout
    assert "[worker 2] hello from worker" in job.stdout
    assert "exited with status 3: stopping the others" in job.stdout
    pids = _started_pids(job.stdout)
    assert len(pids) == 4  # scheduler, server, two workers
    _assert_all_gone(pids)


def test_ctrl_c_stops_everything(tmp_path):
    command = _sleeper(tmp_path, 0)
    launcher = subprocess.Popen(LAUNCHER + ["--workers", "2", "--timeout", "120", "--verbose",
                                            "--"] + command,
                                cwd=REPO, env=_env(), stdout=subprocess.PIPE, text=True)
    try:
        _wait_for_marks(tmp_path / "marks", 2)
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    assert launcher.returncode == 128 + signal.SIGINT, output
    assert "SIGINT: stopping everything" in output
    _assert_all_gone(_started_pids(output))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_killing_the_launcher_takes_its_processes_with_it(tmp_path):
    """Even SIGKILL, which the launcher cannot catch (as when a test's timeout kills it)."""
    command = _sleeper(tmp_path, 0)
    launcher = subprocess.Popen(LAUNCHER + ["--workers", "2", "--timeout", "120", "--verbose",
                                            "--"] + command,
                                cwd=REPO, env=_env(), stdout=subprocess.PIPE, text=True)
    lines = []
    try:
        while len(_started_pids("".join(lines))) < 4:
            lines.append(launcher.stdout.readline())
        _wait_for_marks(tmp_path / "marks", 2)
        launcher.kill()
        launcher.wait(timeout=30)
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        launcher.stdout.close()
    _assert_all_gone(_started_pids("".join(lines)))


def test_timeout_stops_everything(tmp_path):
    job = _launch(["--workers", "1", "--timeout", "3", "--verbose", "--"] + _sleeper(tmp_path, 0),
                  timeout=120)
    assert job.returncode == 124, job.stdout
    assert "still running after --timeout 3 s" in job.stdout
    _assert_all_gone(_started_pids(job.stdout))


def test_plan_sets_the_variables_of_each_role():
    from d2lcnn.machine.distributed import plan

    nodes = plan(["python", "x.py"], workers=2, servers=1,
                 here=["scheduler", "server", "worker", "worker"], scheduler=("127.0.0.1", 9091),
                 node_host="127.0.0.1")
    assert [n.label for n in nodes] == ["scheduler", "server 1", "worker 1", "worker 2"]
    assert "PORT" not in nodes[0].env  # the scheduler listens on DMLC_PS_ROOT_PORT
    ports = [int(n.env["PORT"]) for n in nodes[1:]]
    assert ports[1] < ports[2] and len(set(ports)) == 3 and 9091 not in ports
    for node in nodes:
        assert node.env["DMLC_ROLE"] == node.role
        assert node.env["DMLC_PS_ROOT_URI"] == "127.0.0.1"
        assert node.env["DMLC_PS_ROOT_PORT"] == "9091"
        assert (node.env["DMLC_NUM_SERVER"], node.env["DMLC_NUM_WORKER"]) == ("1", "2")
        assert node.env["DMLC_NODE_HOST"] == "127.0.0.1"
    assert nodes[2].command == ["python", "x.py"]
    assert nodes[0].command[-1].endswith("mxnet")  # importing it is the scheduler's work


def test_plan_refuses_what_the_job_does_not_have():
    from d2lcnn.machine.distributed import plan

    with pytest.raises(ValueError, match="more than the job has"):
        plan(["x"], workers=1, servers=1, here=["worker", "worker"], scheduler=("h", 1))
    with pytest.raises(ValueError, match="not a role"):
        plan(["x"], workers=1, servers=1, here=["workers"], scheduler=("h", 1))
    with pytest.raises(ValueError, match="no command"):
        plan([], workers=1, servers=1, here=["worker"], scheduler=("h", 1))


def test_dist_kvstore_without_the_launcher_or_async_is_refused_with_what_to_do(monkeypatch):
    import mxnet as mx
    from mxnet import npx

    from d2lcnn.lessons import LeNet, train_parallel
    from d2lcnn.tools.data import ArrayLoader

    npx.set_np()
    monkeypatch.delenv("DMLC_ROLE", raising=False)
    images = onp.zeros((8, 28, 28), dtype=onp.uint8)
    loader = ArrayLoader(images, onp.zeros(8, dtype=onp.int32), 4, device=mx.cpu())
    with pytest.raises(RuntimeError, match="d2lcnn.machine.distributed"):
        train_parallel(LeNet(), loader, loader, 1, 0.1, [mx.cpu()], kvstore="dist_sync",
                       verbose=False)
    with pytest.raises(ValueError, match="use 'dist_sync'"):
        train_parallel(LeNet(), loader, loader, 1, 0.1, [mx.cpu()], kvstore="dist_async",
                       verbose=False)


if __name__ == "__main__":
    train_and_save(Path(sys.argv[1]))
