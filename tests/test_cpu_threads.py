"""d2lcnn.machine.cpu_threads: MXNet's OpenMP threads set from the CPU's real topology, before
MXNet; and a thread setting MXNet would abort on, explained instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from d2lcnn.machine import cpu_threads
from d2lcnn.machine.cpu_threads import configure, cpu_quota, mxnet_default_threads, physical_cores


def _topology(root: Path, cpus: dict[int, tuple[int, int]]) -> Path:
    """A fake /sys/devices/system/cpu: cpu number -> (package, core)."""
    for cpu, (package, core) in cpus.items():
        folder = root / f"cpu{cpu}" / "topology"
        folder.mkdir(parents=True)
        (folder / "physical_package_id").write_text(f"{package}\n")
        (folder / "core_id").write_text(f"{core}\n")
    return root


def test_physical_cores_counts_hyperthreads_once(tmp_path):
    # 2 cores with 2 hyper-threads each, numbered as Linux does (siblings 0/2 and 1/3)
    sys_cpu = _topology(tmp_path, {0: (0, 0), 1: (0, 1), 2: (0, 0), 3: (0, 1)})
    assert physical_cores([0, 1, 2, 3], sys_cpu) == 2
    assert physical_cores([0, 2], sys_cpu) == 1  # affinity limited to one core's threads


def test_physical_cores_without_hyperthreading_and_two_sockets(tmp_path):
    sys_cpu = _topology(tmp_path, {0: (0, 0), 1: (0, 1), 2: (1, 0), 3: (1, 1)})
    assert physical_cores([0, 1, 2, 3], sys_cpu) == 4


def test_physical_cores_unknown_topology(tmp_path):
    assert physical_cores([0], tmp_path) is None


def test_physical_cores_of_this_machine_is_plausible():
    cores = physical_cores()
    assert cores is None or 1 <= cores <= os.cpu_count()


@pytest.mark.parametrize("text, expected", [("max 100000\n", None), ("200000 100000\n", 2),
                                            ("150000 100000\n", 2), ("50000 100000\n", 1)])
def test_cpu_quota_cgroup_v2(tmp_path, text, expected):
    (tmp_path / "cpu.max").write_text(text)
    assert cpu_quota(tmp_path) == expected


def test_cpu_quota_cgroup_v1_and_none(tmp_path):
    assert cpu_quota(tmp_path) is None
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("300000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu_quota(tmp_path) == 3


def test_mxnet_default_halves_on_x86_only():
    assert mxnet_default_threads(2, "x86_64") == 1
    assert mxnet_default_threads(8, "AMD64") == 4
    assert mxnet_default_threads(1, "x86_64") == 1
    assert mxnet_default_threads(8, "aarch64") == 8


def test_sets_threads_where_mxnet_would_use_half_the_cores(monkeypatch):
    monkeypatch.setattr(cpu_threads.platform, "machine", lambda: "x86_64")
    env: dict = {}
    setting = configure(env, mxnet_imported=False, cores=2, quota=None, num_cpus=2)
    assert env == {"OMP_NUM_THREADS": "2", "D2LCNN_SET_OMP_NUM_THREADS": "2",
                   "MXNET_CPU_PARALLEL_SIZE": "1000000000"}
    mine = {"MXNET_CPU_PARALLEL_SIZE": "500000"}  # a companion the user set stays theirs
    configure(mine, mxnet_imported=False, cores=2, quota=None, num_cpus=2)
    assert mine["MXNET_CPU_PARALLEL_SIZE"] == "500000" and mine["OMP_NUM_THREADS"] == "2"
    assert setting.threads == 2 and setting.warning == ""
    assert "set by d2lcnn" in setting.source and "would use 1" in setting.source
    assert setting.set_by_d2lcnn and setting.mxnet_default == 1


def test_leaves_hyperthreaded_cpus_and_quotas_alone(monkeypatch):
    monkeypatch.setattr(cpu_threads.platform, "machine", lambda: "x86_64")
    env: dict = {}
    setting = configure(env, mxnet_imported=False, cores=4, quota=None, num_cpus=8)  # 4 cores × 2 threads
    assert env == {} and setting.threads == 4
    # a container limited to 2 CPUs on a 4-core non-HT host: 2 threads, as MXNet would choose
    setting = configure(env, mxnet_imported=False, cores=4, quota=2, num_cpus=4)
    assert env == {} and setting.threads == 2 and setting.cores == 2


@pytest.mark.parametrize("name", ["OMP_NUM_THREADS", "MXNET_OMP_MAX_THREADS"])
def test_a_users_choice_wins(name):
    env = {name: "1"}
    setting = configure(env, mxnet_imported=False, cores=2, quota=None, num_cpus=2)
    assert env == {name: "1"} and setting.threads == 1 and name in setting.source


def test_a_child_process_knows_the_setting_is_d2lcnns(monkeypatch):
    monkeypatch.setattr(cpu_threads.platform, "machine", lambda: "x86_64")
    env: dict = {}
    configure(env, mxnet_imported=False, cores=2, quota=None, num_cpus=2)
    child = dict(env)  # what a subprocess inherits
    setting = configure(child, mxnet_imported=True, cores=2, quota=None, num_cpus=2)
    assert setting.set_by_d2lcnn and setting.threads == 2 and setting.warning == ""
    for name in ("OMP_NUM_THREADS", "MXNET_OMP_MAX_THREADS"):  # its user set one: theirs
        changed = {**env, name: "1"}
        setting = configure(changed, mxnet_imported=False, cores=2, quota=None, num_cpus=2)
        assert not setting.set_by_d2lcnn and setting.threads == 1 and name in setting.source


def test_without_d2lcnn_settings_undoes_configure_only(monkeypatch):
    monkeypatch.setattr(cpu_threads.platform, "machine", lambda: "x86_64")
    env = {"PATH": "/bin"}
    configure(env, mxnet_imported=False, cores=2, quota=None, num_cpus=2)
    assert cpu_threads.without_d2lcnn_settings(env) == {"PATH": "/bin"}
    users = {"OMP_NUM_THREADS": "2", "MXNET_CPU_PARALLEL_SIZE": "500000"}
    assert cpu_threads.without_d2lcnn_settings(users) == users


def test_too_late_after_mxnet_says_so(monkeypatch):
    monkeypatch.setattr(cpu_threads.platform, "machine", lambda: "x86_64")
    env: dict = {}
    setting = configure(env, mxnet_imported=True, cores=2, quota=None, num_cpus=2)
    assert env == {} and setting.threads == 1
    assert "call prepare() first" in setting.warning and "OMP_NUM_THREADS=2" in setting.warning


def test_unknown_topology_changes_nothing():
    env: dict = {}
    setting = configure(env, mxnet_imported=False, cores=None, num_cpus=2)
    assert env == {} and "cannot be read" in setting.source


def _fresh_python(code: str, env_changes: dict) -> subprocess.CompletedProcess:
    names = (cpu_threads.OMP_ENV, cpu_threads.MXNET_ENV, cpu_threads.MARK_ENV, *cpu_threads.COMPANIONS)
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True, timeout=120)


def test_prepare_first_gives_mxnet_the_cores():
    """In a fresh interpreter: machine.prepare(), then MXNet; MXNet sees the setting."""
    out = _fresh_python(
        "import os; from d2lcnn import machine; report = machine.prepare(); "
        "from d2lcnn.machine import cpu_threads; import mxnet; "
        "s = cpu_threads.current(); print(s.threads, os.environ.get('OMP_NUM_THREADS')); "
        "print(report)", {})
    threads, env_value = out.stdout.splitlines()[0].split()
    expected = cpu_threads.current().threads
    assert int(threads) == expected
    if env_value != "None":
        assert int(env_value) == expected
    assert "imported before" not in out.stdout + out.stderr


def test_import_mxnet_first_warns_where_it_matters():
    # `import d2lcnn` only restores NumPy's aliases (which Python 3.12's NumPy needs before MXNet),
    # so MXNet is still imported before prepare() here.
    out = _fresh_python("import d2lcnn, mxnet; from d2lcnn import machine; "
                        "print(machine.prepare())", {})
    setting = configure(environ={}, mxnet_imported=True)
    assert (setting.warning != "") == ("imported before d2lcnn.machine.prepare()" in out.stdout)
    assert out.stderr == ""


@pytest.mark.parametrize("name", ["OMP_NUM_THREADS", "MXNET_OMP_MAX_THREADS"])
@pytest.mark.parametrize("value", ["abc", "0", "-2", "2.5"])
def test_an_invalid_thread_setting_is_explained_not_set(name, value):
    env = {name: value}
    setting = configure(env, mxnet_imported=False, cores=2, quota=None, num_cpus=2)
    assert env == {name: value}  # nothing added beside it
    assert f"{name}={value!r} is not a number of threads" in setting.error
    assert "positive whole number" in setting.error and "unset it" in setting.error


def test_prepare_refuses_an_invalid_thread_setting_before_mxnet_aborts():
    """MXNet aborts the whole process (C++ dmlc::ParamError, rc 134) on OMP_NUM_THREADS=abc;
    prepare() raises a ValueError saying so, and MXNet is never imported."""
    code = ("import sys; from d2lcnn import machine\n"
            "try:\n    machine.prepare()\n"
            "except ValueError as err:\n    print('refused:', err)\n"
            "print('mxnet' in sys.modules)")
    names = (cpu_threads.OMP_ENV, cpu_threads.MXNET_ENV, cpu_threads.MARK_ENV)
    env = {k: v for k, v in os.environ.items() if k not in names}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**env, "OMP_NUM_THREADS": "abc"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "refused: OMP_NUM_THREADS='abc' is not a number of threads" in out.stdout
    assert "set it to a positive whole number" in out.stdout
    assert out.stdout.splitlines()[-1] == "False"
