"""Every CPU core for MXNet's operators, set before MXNet is imported.

MXNet 1.9 decides once, when it is loaded, how many OpenMP threads an operator may use: the value
of ``OMP_NUM_THREADS``, or, when that is unset, *half* the processors of an x86 CPU
(``src/engine/openmp.cc`` assumes two hyper-threads per core). On a CPU without hyper-threading
(many cloud machines, CI's 2-core VM among them) that leaves half of the cores idle: LeNet trains at
about 11,000 examples/s on one of CI's two cores and about 15,500 on both.

:func:`d2lcnn.machine.prepare` calls :func:`apply`, which calls :func:`configure`. When neither ``OMP_NUM_THREADS`` nor
``MXNET_OMP_MAX_THREADS`` is set, MXNet is not imported yet, and the number of physical cores this
process may use (its CPU affinity, capped by a cgroup CPU quota) differs from MXNet's default, it
sets ``OMP_NUM_THREADS`` to that number. On a hyper-threaded CPU MXNet's default already is that
number, and nothing is touched. To choose yourself, set ``OMP_NUM_THREADS`` before starting Python
or Jupyter (``OMP_NUM_THREADS=1`` gives MXNet's one-core behaviour on a 2-core machine).

With as many OpenMP threads as cores, one more setting matters, and d2lcnn makes it too where it
sets the threads (unless it is set): ``MXNET_CPU_PARALLEL_SIZE`` very large. MXNet copies arrays of
more than 200,000 elements with an OpenMP loop, and copies from and to NumPy (``np.array(big)``,
``asnumpy()``) run on the Python thread. That gives the Python thread an OpenMP team of its own;
libgomp then counts more OpenMP threads than cores and stops letting idle threads spin, so each
small operator afterwards waits for a sleeping thread to wake up: LeNet trained at 6,500 examples/s
instead of 15,500 on two cores. Copies are memory-bound, so doing them on one thread costs little.

One case wants the opposite: worker *processes*, such as gluon's ``DataLoader(num_workers=4)``
that d2l uses, each spin OpenMP threads of their own, and on few cores they then starve each other
(d2l's LeNet epoch took 13× longer in a process that imported d2lcnn). d2lcnn's own loaders need no
workers; if you use such a loader, set ``GOMP_SPINCOUNT=3000`` (idle threads sleep sooner: d2l's
epoch within 1.5× of MXNet's default, our LeNet 15% slower) or ``OMP_NUM_THREADS=1`` before
starting Python.

An ``OMP_NUM_THREADS`` that is not a positive whole number would make MXNet abort the whole process
when it is imported (a C++ ``dmlc::ParamError``); :func:`configure` reports it instead
(:attr:`ThreadSetting.error`), and :func:`d2lcnn.machine.prepare` raises a clear error.

This module must not import MXNet.
"""

from __future__ import annotations

import math
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import config

__all__ = ["ThreadSetting", "apply", "configure", "cpu_quota", "current", "mxnet_default_threads",
           "physical_cores", "without_d2lcnn_settings"]

OMP_ENV, MXNET_ENV, MARK_ENV, PARALLEL_SIZE_ENV = config.THREAD_ENVS
# MARK_ENV is set beside OMP_NUM_THREADS to the same value, so that child processes (which
# inherit both) can tell d2lcnn's choice from their user's.
#: Set with the threads, where unset (see the module docstring).
COMPANIONS = {PARALLEL_SIZE_ENV: "1000000000"}
SYS_CPU = Path("/sys/devices/system/cpu")
CGROUP = Path("/sys/fs/cgroup")


_THIS_MACHINE = object()  # default of configure()'s facts: look them up


@dataclass(frozen=True)
class ThreadSetting:
    """What :func:`configure` found and did. ``threads``: OpenMP threads per MXNet operator (None
    when unknown); ``cores``: physical cores usable (None when the topology cannot be read);
    ``source``: how ``threads`` came about, in words; ``warning``: a line for the user, or '';
    ``set_by_d2lcnn``: whether :func:`configure` set ``OMP_NUM_THREADS`` (MXNet alone would have
    used ``mxnet_default`` threads); ``error``: a setting MXNet cannot start with, and the fix."""

    threads: int | None
    cores: int | None
    source: str
    warning: str = ""
    set_by_d2lcnn: bool = False
    mxnet_default: int | None = None
    error: str = ""


def _usable_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def physical_cores(cpus: list[int] | None = None, sys_cpu: Path = SYS_CPU) -> int | None:
    """Number of distinct physical cores among ``cpus`` (default: those this process may run on),
    from Linux's ``/sys/devices/system/cpu/cpu<N>/topology``; None where that cannot be read."""
    cpus = _usable_cpus() if cpus is None else cpus
    cores = set()
    for cpu in cpus:
        topology = sys_cpu / f"cpu{cpu}" / "topology"
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return None
        cores.add((package, core))
    return len(cores) or None


def cpu_quota(cgroup: Path = CGROUP) -> int | None:
    """CPUs' worth of time a cgroup CPU limit allows (e.g. ``docker --cpus=2`` gives 2), rounded up;
    None without a limit. Reads cgroup v2's ``cpu.max``, else v1's ``cpu.cfs_quota_us``."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        try:
            quota = (cgroup / "cpu" / "cpu.cfs_quota_us").read_text().strip()
            period = (cgroup / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1"):
        return None
    try:
        return max(1, math.ceil(int(quota) / int(period)))
    except (ValueError, ZeroDivisionError):
        return None


def mxnet_default_threads(num_cpus: int, machine: str | None = None) -> int:
    """Threads per operator MXNet 1.9 chooses without ``OMP_NUM_THREADS``: the processors it may
    use, halved on x86 (at least 1)."""
    machine = (machine or platform.machine()).lower()
    halved = machine in ("x86_64", "amd64", "i386", "i686", "x86")
    return max(1, num_cpus // 2 if halved else num_cpus)


def configure(
    environ: dict | None = None,
    mxnet_imported: bool | None = None,
    cores: int | None | object = _THIS_MACHINE,
    quota: int | None | object = _THIS_MACHINE,
    num_cpus: int | None = None,
) -> ThreadSetting:
    """Set ``OMP_NUM_THREADS`` in ``environ`` (default ``os.environ``) to the physical cores
    usable, where MXNet's own choice would differ and nobody has chosen yet (see the module
    docstring). The other arguments default to this machine's facts (``cores``: physical cores,
    ``quota``: cgroup CPU limit, None for none); tests pass their own."""
    environ = os.environ if environ is None else environ
    if mxnet_imported is None:
        mxnet_imported = "mxnet" in sys.modules
    if num_cpus is None:
        num_cpus = len(_usable_cpus())
    if cores is _THIS_MACHINE:
        cores = physical_cores()
    if quota is _THIS_MACHINE:
        quota = cpu_quota()
    if cores is not None and quota is not None:
        cores = min(cores, quota)
    inherited = (bool(environ.get(OMP_ENV)) and environ.get(OMP_ENV) == environ.get(MARK_ENV)
                 and not environ.get(MXNET_ENV))
    chosen = {name: environ[name] for name in (OMP_ENV, MXNET_ENV) if environ.get(name)}
    invalid = {k: v for k, v in chosen.items() if not (v.strip().isdigit() and int(v) > 0)}
    if invalid:
        name, value = next(iter(invalid.items()))
        return ThreadSetting(None, cores, f"{name}={value!r}", error=(
            f"{name}={value!r} is not a number of threads, and MXNet would abort at import: set "
            f"it to a positive whole number (e.g. {name}={cores or 2}) or unset it"))
    if chosen and not inherited:  # the user's choice; MXNet uses the smaller of the two
        said = ", ".join(f"{k}={v}" for k, v in chosen.items())
        return ThreadSetting(min(int(v) for v in chosen.values()), cores,
                             f"{said}, set before d2lcnn prepared MXNet")
    default = mxnet_default_threads(num_cpus)
    if cores is None:
        return ThreadSetting(default, None, "MXNet's default (the CPU topology cannot be read here)")
    if cores == default:
        return ThreadSetting(default, cores, f"MXNet's default, = the {cores} physical core(s)")
    if inherited:  # set by d2lcnn in a parent process
        threads = int(environ[OMP_ENV])
        return ThreadSetting(threads, cores, f"{OMP_ENV}={threads} set by d2lcnn (in a parent "
                                             f"process), where MXNet would use {default}",
                             set_by_d2lcnn=True, mxnet_default=default)
    if mxnet_imported:
        warning = (f"MXNet was imported before d2lcnn.machine.prepare(), so its operators use "
                   f"{default} of this machine's {cores} cores: call prepare() first (or set "
                   f"{OMP_ENV}={cores} before starting Python)")
        return ThreadSetting(default, cores, "MXNet's default (MXNet was imported first)", warning)
    environ[OMP_ENV] = environ[MARK_ENV] = str(cores)
    for name, value in COMPANIONS.items():
        environ.setdefault(name, value)
    return ThreadSetting(cores, cores, f"{OMP_ENV}={cores} set by d2lcnn: {cores} physical "
                                       f"core(s), where MXNet would use {default}",
                         set_by_d2lcnn=True, mxnet_default=default)


def without_d2lcnn_settings(environ: dict) -> dict:
    """A copy of ``environ`` without what :func:`configure` set there (or in a parent process):
    for a child process that should run with MXNet's own default threads."""
    env = dict(environ)
    if env.get(OMP_ENV) and env.get(OMP_ENV) == env.get(MARK_ENV):
        del env[OMP_ENV]
    env.pop(MARK_ENV, None)
    for name, value in COMPANIONS.items():
        if env.get(name) == value:
            del env[name]
    return env


_applied: ThreadSetting | None = None


def apply() -> ThreadSetting:
    """:func:`configure` this process (:func:`d2lcnn.machine.prepare` calls it); remember the
    result (a second call returns it)."""
    global _applied
    if _applied is None:
        _applied = configure()
    return _applied


def current() -> ThreadSetting:
    """What :func:`apply` found, or (before it ran) what it would find, changing nothing."""
    return _applied if _applied is not None else configure(environ=dict(os.environ))
