"""``python -m d2lcnn.machine.doctor``: which devices this machine can train on, and why not.

It reports Python, NumPy and MXNet, the MXNet build's features, the CUDA libraries and the NVIDIA
driver, every visible GPU with its compute capability and whether the build has kernels for it, and
the result of a tiny convolution on each device; then one line of advice per problem found. The
checks are the ones :func:`d2lcnn.machine.devices.try_gpu` makes, asked through the same
:class:`~d2lcnn.machine.devices.Machine` interface (tests pass a fake one to :func:`diagnose`).

Exit status: 0 when training can run (on a GPU or on the CPU), 1 when it cannot: not even the CPU
works, or MXNet would abort at import on a setting (an ``OMP_NUM_THREADS`` that is not a number),
which the doctor then explains instead of importing MXNet.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass, field

from . import compat, cpu_isa, cpu_threads, cuda_libs
from .devices import (
    BUILD_SASS,
    GPU_BUILD,
    Machine,
    architecture,
    architecture_problem,
    driver_problems,
    gpu_build_advice,
    gpu_unavailable_reason,
    kernels_for,
    machine,
    mxnet_import_problem,
    probe_gpu,
    use_machine,
)

#: Build features worth showing, in this order (``mxnet.runtime.Features`` has about 30).
SHOWN_FEATURES = ("CUDA", "CUDNN", "NCCL", "CUDA_RTC", "TENSORRT", "MKLDNN", "OPENMP", "BLAS_OPEN",
                  "LAPACK", "F16C")


@dataclass
class Diagnosis:
    """The doctor's findings: report ``lines``, one ``advice`` line per problem, the devices
    training would use (``usable``, e.g. ``["gpu(0)", "gpu(1)"]`` or ``["cpu(0)"]``) and whether
    the CPU itself works (``cpu_ok``); ``not_checked``: why the devices were not checked at all
    (a setting MXNet would abort on)."""

    lines: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    usable: list[str] = field(default_factory=list)
    cpu_ok: bool = False
    no_gpu_reason: str = ""
    not_checked: str = ""

    def add_advice(self, line: str) -> None:
        if line and line not in self.advice:
            self.advice.append(line)

    def text(self) -> str:
        out = ["d2lcnn doctor: which devices this machine can train on, and why not", ""]
        out += self.lines
        out.append("")
        if self.not_checked:
            out.append(f"verdict: devices not checked: {self.not_checked}; fix that (advice "
                       "below) and run the doctor again")
        elif not self.cpu_ok:
            out.append("verdict: MXNet cannot compute here, not even on the CPU")
        elif self.usable[0].startswith("gpu"):
            out.append(f"verdict: training runs on {', '.join(self.usable)} "
                       "(try_gpu() and try_all_gpus() pick them)")
        else:
            why = f" ({self.no_gpu_reason})" if self.no_gpu_reason and not self.advice else ""
            out.append(f"verdict: training runs on cpu(0); no GPU can be used here{why}")
        if self.advice:
            out.append("advice:")
            out += [f"  - {line}" for line in self.advice]
        else:
            out.append("no problems found")
        return "\n".join(out)


def _row(label: str, value: str) -> str:
    return f"{label:<15}{value}"


def _package_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def diagnose(m: Machine | None = None) -> Diagnosis:
    """Ask machine ``m`` (default: this one) everything the device checks need; report and advise."""
    m = m or machine()
    with use_machine(m):
        return _diagnose(m)


def _diagnose(m: Machine) -> Diagnosis:
    """The checks in order; each step adds report lines and advice, and the first that leaves
    nothing to check after it ends the diagnosis."""
    d = Diagnosis()
    threads = _report_python(d)
    if threads.error:  # MXNet would abort the whole process at import
        return d
    build = _report_mxnet(d, m, threads)
    library_errors = _report_cuda_libraries(d, m, build)
    gpus = _report_driver_and_gpus(d, m)
    if build.version is None:
        d.add_advice(mxnet_import_problem(build, library_errors))
        d.lines.append("tiny convolution: not run (MXNet cannot be imported)")
        return d
    _run_tiny_convolutions(d, m, build, gpus)
    return d


def _report_python(d: Diagnosis) -> cpu_threads.ThreadSetting:
    """Python, NumPy and the CPU thread setting (which can make MXNet abort at import)."""
    d.lines.append(_row("Python", f"{platform.python_version()} ({sys.executable})"))
    d.add_advice(compat.python_support())
    d.add_advice(compat.check_distutils())
    d.lines.append(_row("NumPy", _package_version("numpy")))
    threads = cpu_threads.current()
    if threads.error:
        d.lines.append(_row("CPU threads", f"{threads.source}: not a number of threads"))
        d.lines.append(_row("MXNet", "not imported: it would abort on the thread setting"))
        d.not_checked = "MXNet would abort at import on the thread setting"
        d.add_advice(threads.error)
    return threads


def _is_gpu_install(build) -> bool:
    return any(n.startswith("mxnet-cu") for n in build.distributions)


def _report_mxnet(d: Diagnosis, m: Machine, threads: cpu_threads.ThreadSetting):
    """MXNet's version, build and features; the threads its operators use."""
    build = m.mxnet_build()
    installed = ", ".join(f"{n} {v}" for n, v in build.distributions.items()) or "none"
    if build.version is None:
        d.lines.append(_row("MXNet", f"import fails: {build.import_error} (installed: {installed})"))
    else:
        kind = "GPU build (CUDA)" if build.cuda else "CPU build"
        d.lines.append(_row("MXNet", f"{build.version}, {kind} (installed: {installed})"))
        flags = [f"{name} {'yes' if build.features.get(name) else 'no'}"
                 for name in SHOWN_FEATURES if name in build.features]
        d.lines.append(_row("  features", ", ".join(flags)))
    d.lines.append(_row("CPU threads", f"{threads.threads or '?'} per operator ({threads.source})"))
    d.add_advice(threads.warning)
    try:
        d.lines.append(_row("CPU", cpu_isa.describe_cpu() + " (the vector instructions of "
                                   "MXNet's CPU kernels)"))
    except ValueError as err:  # a DNNL_MAX_CPU_ISA oneDNN would ignore
        d.lines.append(_row("CPU", cpu_isa.cpu_model()))
        d.add_advice(str(err))
    return build


def _report_cuda_libraries(d: Diagnosis, m: Machine, build) -> dict[str, str]:
    """Each CUDA library the GPU build needs, and what provides a missing one."""
    if not (_is_gpu_install(build) or build.cuda):
        d.lines.append(_row("CUDA libs", "not needed by the CPU build (the gpu extra installs them)"))
        return {}
    library_errors = m.library_errors()
    d.lines.append("CUDA libraries (pip's nvidia-*-cu11 wheels, loaded by machine.prepare()):")
    for lib in cuda_libs.LIBRARIES:
        error = library_errors.get(lib.soname)
        status = "ok" if error is None else f"MISSING ({error})"
        d.lines.append(f"  {lib.soname:<20} {lib.what:<34} {status}")
        if error is not None:
            d.add_advice(cuda_libs.missing_library_advice(lib.soname, error))
    return library_errors


def _report_driver_and_gpus(d: Diagnosis, m: Machine) -> list:
    """The NVIDIA driver, and every visible GPU with whether the build has kernels for it."""
    driver, gpus = m.driver(), m.gpus()
    if driver.cuda_version is None and driver.version is None:
        d.lines.append(_row("NVIDIA driver", f"none ({driver.error or 'not found'})"))
    else:
        version = driver.version or "version unknown"
        cuda = f", CUDA {driver.cuda}" if driver.cuda_version is not None else ""
        error = f"; {driver.error}" if driver.error else ""
        d.lines.append(_row("NVIDIA driver", f"{version}{cuda}{error}"))
    if gpus or driver.cuda_version is not None:
        for problem in driver_problems(driver):
            d.add_advice(problem)
    built = "/".join(f"sm_{a}" for a in BUILD_SASS)
    if not gpus:
        d.lines.append(_row("GPUs", "none visible"))
    else:
        d.lines.append(f"GPUs ({GPU_BUILD} has machine code for {built}, no PTX):")
    for gpu in gpus:
        cc = gpu.compute_capability
        kernels = kernels_for(cc)
        memory = f", {gpu.memory_mib:,} MiB" if gpu.memory_mib else ""
        support = f"runs the sm_{kernels} kernels" if kernels else "NO kernels for it in this build"
        d.lines.append(f"  gpu({gpu.index})  {gpu.name} ({architecture(cc)}, compute capability "
                       f"{cc[0]}.{cc[1]}{memory}): {support}")
        d.add_advice(architecture_problem(gpu))
    return gpus


def _run_tiny_convolutions(d: Diagnosis, m: Machine, build, gpus: list) -> None:
    """The tiny convolution on the CPU and on every GPU that could work; the usable devices."""
    d.lines.append("tiny convolution (3×3, hybridized, compared with NumPy):")
    cpu_error = m.run_convolution("cpu(0)")
    d.cpu_ok = not cpu_error
    d.lines.append(f"  cpu(0)  {'ok' if d.cpu_ok else 'FAILED: ' + cpu_error}")
    if cpu_error:
        d.add_advice(f"MXNet fails on the CPU ({cpu_error}): reinstall it: pip install -e . (README)")
    if _is_gpu_install(build) and not build.cuda:
        d.add_advice(gpu_build_advice(build))
    reason = gpu_unavailable_reason(m)
    if reason:
        d.no_gpu_reason = reason
        if gpus or build.cuda:
            d.add_advice(reason)
        d.usable = ["cpu(0)"]
        return
    by_index = {gpu.index: gpu for gpu in gpus}
    for i in range(build.gpu_count):
        probe = probe_gpu(i)
        if probe.ok:
            result = "ok"
            d.usable.append(f"gpu({i})")
        elif i in by_index and kernels_for(by_index[i].compute_capability) is None:
            result = f"not run: no kernels for {by_index[i].sm} (see advice)"
            d.add_advice(probe.reason)
        else:
            result = f"not usable: {probe.reason}"
            d.add_advice(probe.reason)
        d.lines.append(f"  gpu({i})  {result}")
    if not d.usable:
        d.usable, d.no_gpu_reason = ["cpu(0)"], "no GPU passed the check"


def main(argv: list[str] | None = None) -> int:
    from . import prepare

    try:
        prepare()
    except (RuntimeError, ValueError):
        pass  # the diagnosis reports the same problem, with the rest of what it finds
    diagnosis = diagnose()
    print(diagnosis.text())
    return 0 if diagnosis.cpu_ok else 1


if __name__ == "__main__":
    sys.exit(main())
