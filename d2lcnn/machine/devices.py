"""Choosing where to compute: a GPU only when it really works, otherwise the CPU.

A GPU counts as usable only after a tiny convolution on it has run and matched NumPy's answer. A GPU
build of MXNet can see a card and still fail at the first kernel (no kernels for that architecture,
a missing CUDA library, a driver too old); the checks here turn such a failure into one line saying
why and what to do, instead of an error deep inside a training cell. ``python -m d2lcnn.machine.doctor``
prints the same checks in full.

What the machine is asked (MXNet's build, the driver, the GPUs, the CUDA libraries, the tiny
convolution) goes through one small interface, :class:`Machine`; tests swap in a fake one with
:func:`use_machine`. This module imports MXNet only when it needs it, so that the doctor still
runs where ``import mxnet`` fails.
"""

from __future__ import annotations

import ctypes
import numbers
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from typing import TYPE_CHECKING, Protocol

from . import cuda_libs

if TYPE_CHECKING:
    import mxnet as mx

# --- What the GPU build of MXNet can run on ---------------------------------------------------

#: Architectures with machine code (SASS) in mxnet-cu117 1.9.1's libmxnet.so, as listed by its
#: fatbinaries (197 kernels each). There is no PTX, so no other architecture can JIT-compile them.
BUILD_SASS: tuple[int, ...] = (50, 60, 70, 80, 86)
#: The GPU build these facts are about.
GPU_BUILD = cuda_libs.MXNET_GPU_REQUIREMENT
#: CUDA version of the oldest driver that runs CUDA 11.x programs (minor-version compatibility).
MIN_DRIVER_CUDA = 11000
MIN_DRIVER = "450.80.02"
#: CUDA version of the driver that also loads what NVRTC 11.8 compiles at run time (MXNet's fused
#: element-wise kernels in hybridized networks on the GPU).
FUSION_DRIVER_CUDA = 11080
RECOMMENDED_DRIVER = "520.61.05"


def sm(cc: tuple[int, int]) -> str:
    """``(8, 6)`` -> ``"sm_86"``."""
    return f"sm_{cc[0]}{cc[1]}"


def architecture(cc: tuple[int, int]) -> str:
    """NVIDIA's name for the architecture of compute capability ``cc``."""
    major, minor = cc
    if major == 7:
        return "Turing" if minor >= 5 else "Volta"
    if major == 8:
        return "Ada" if minor >= 9 else "Ampere"
    return {3: "Kepler", 5: "Maxwell", 6: "Pascal", 9: "Hopper", 10: "Blackwell",
            12: "Blackwell"}.get(major, f"compute capability {major}.{minor}")


def kernels_for(cc: tuple[int, int]) -> int | None:
    """The build's SASS architecture that runs on a GPU of compute capability ``cc``, or None.

    Machine code for sm_XY runs on GPUs of the same major version X whose minor version is at
    least Y (so sm_80 code runs on 8.6 and 8.9, sm_70 on 7.5), never across major versions; with
    no PTX in the build nothing else can run. Hence Maxwell to Ada work, Kepler and Hopper do not.
    """
    major, minor = cc
    fits = [a for a in BUILD_SASS if a // 10 == major and a % 10 <= minor]
    return max(fits) if fits else None


# --- What the machine reports -----------------------------------------------------------------


@dataclass(frozen=True)
class GPU:
    """A GPU as the NVIDIA driver reports it; ``index`` is MXNet's ``gpu(index)``."""

    index: int
    name: str
    compute_capability: tuple[int, int]
    memory_mib: int | None = None

    @property
    def sm(self) -> str:
        return sm(self.compute_capability)

    def __str__(self) -> str:
        cc = self.compute_capability
        return f"gpu({self.index}) {self.name} ({architecture(cc)}, {self.sm})"


@dataclass(frozen=True)
class Driver:
    """The NVIDIA driver: the CUDA version it supports (``cuda_version``, 12020 for 12.2), its
    version string (``version``, e.g. "535.104.05") and, when there is none, ``error``."""

    cuda_version: int | None = None
    version: str | None = None
    error: str = ""

    @property
    def cuda(self) -> str:
        if self.cuda_version is None:
            return "?"
        return f"{self.cuda_version // 1000}.{self.cuda_version % 1000 // 10}"


@dataclass(frozen=True)
class MXNetBuild:
    """The installed MXNet: ``version`` (None when ``import mxnet`` failed, with ``import_error``),
    build ``features`` (name -> enabled, from ``mxnet.runtime``), the GPUs it can see, and the
    distributions that provide it (``{"mxnet": "1.9.1", "mxnet-cu117": "1.9.1"}``)."""

    version: str | None
    features: dict[str, bool] = field(default_factory=dict)
    import_error: str = ""
    gpu_count: int = 0
    gpu_count_error: str = ""
    distributions: dict[str, str] = field(default_factory=dict)

    @property
    def cuda(self) -> bool:
        return self.features.get("CUDA", False)


class Machine(Protocol):
    """The questions the device checks ask; :class:`LocalMachine` answers them for real."""

    def mxnet_build(self) -> MXNetBuild: ...

    def driver(self) -> Driver: ...

    def gpus(self) -> list[GPU]: ...

    def library_errors(self) -> dict[str, str]:
        """soname -> why it cannot be loaded, for the CUDA libraries MXNet's GPU build needs."""
        ...

    def run_convolution(self, device: str) -> str:
        """Run the tiny convolution on ``device`` ("cpu(0)", "gpu(1)"): "" if it matched NumPy,
        otherwise what went wrong, in one line."""
        ...


# --- The real machine -------------------------------------------------------------------------

CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75
CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76


def _cuda_error(cuda, code: int) -> str:
    name = ctypes.c_char_p()
    if cuda.cuGetErrorName(code, ctypes.byref(name)) == 0 and name.value:
        return name.value.decode()
    return f"CUDA error {code}"


def query_cuda_driver() -> tuple[Driver, list[GPU]]:
    """Ask the driver's own library, ``libcuda.so.1`` (the CUDA driver API, through ctypes), for
    its CUDA version and each visible GPU's name, compute capability and memory. Honours
    ``CUDA_VISIBLE_DEVICES`` as MXNet does; falls back to ``nvidia-smi`` when the library is absent."""
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError as err:
        return _query_nvidia_smi(str(err))
    try:
        return _query_libcuda(cuda)
    except (OSError, AttributeError) as err:  # a broken or very old driver library
        return Driver(error=f"libcuda.so.1 does not answer: {err}"), []


def _query_libcuda(cuda) -> tuple[Driver, list[GPU]]:
    version = ctypes.c_int(0)
    cuda_version = version.value if cuda.cuDriverGetVersion(ctypes.byref(version)) == 0 else None
    driver_version = _nvml_driver_version()
    code = cuda.cuInit(0)
    if code != 0:
        error = _cuda_error(cuda, code)
        if error == "CUDA_ERROR_NO_DEVICE":
            return Driver(cuda_version, driver_version), []
        return Driver(cuda_version, driver_version, f"the driver failed to start: {error}"), []
    count = ctypes.c_int(0)
    cuda.cuDeviceGetCount(ctypes.byref(count))
    gpus = []
    for i in range(count.value):
        handle, major, minor = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
        name = ctypes.create_string_buffer(256)
        memory = ctypes.c_size_t(0)
        cuda.cuDeviceGet(ctypes.byref(handle), i)
        cuda.cuDeviceGetName(name, len(name), handle)
        cuda.cuDeviceGetAttribute(ctypes.byref(major), CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle)
        cuda.cuDeviceGetAttribute(ctypes.byref(minor), CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle)
        cuda.cuDeviceTotalMem_v2(ctypes.byref(memory), handle)
        gpus.append(GPU(i, name.value.decode(errors="replace"), (major.value, minor.value),
                        memory.value // 2**20 or None))
    return Driver(cuda_version, driver_version), gpus


def _nvml_driver_version() -> str | None:
    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
        if nvml.nvmlInit_v2() != 0:
            return None
    except (OSError, AttributeError):
        return None
    buffer = ctypes.create_string_buffer(96)
    ok = nvml.nvmlSystemGetDriverVersion(buffer, len(buffer)) == 0
    nvml.nvmlShutdown()
    return buffer.value.decode() if ok else None


def _query_nvidia_smi(no_driver: str) -> tuple[Driver, list[GPU]]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return Driver(error=no_driver), []
    try:
        out = subprocess.run(
            [exe, "--query-gpu=index,name,compute_cap,memory.total,driver_version",
             "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=20, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as err:
        return Driver(error=f"{no_driver}; nvidia-smi failed: {err}"), []
    gpus, version = [], None
    for line in out.strip().splitlines():
        try:
            index, name, cc, memory, version = (part.strip() for part in line.split(","))
            major, minor = cc.split(".")
            gpus.append(GPU(int(index), name, (int(major), int(minor)), int(float(memory))))
        except ValueError:
            continue
    # nvidia-smi works without libcuda.so.1 (it talks to the kernel module through NVML), so the
    # GPUs are real but CUDA programs, MXNet among them, cannot use them.
    return Driver(version=version, error=no_driver), gpus


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def mxnet_distributions() -> dict[str, str]:
    """Installed distributions that provide the ``mxnet`` package (CPU and CUDA builds)."""
    names = ["mxnet", *(f"mxnet-cu{v}" for v in ("117", "116", "113", "112", "110", "102", "101"))]
    return {n: v for n in names if (v := _installed(n)) is not None}


class LocalMachine:
    """This machine, asked for real (each answer computed once)."""

    @cache  # noqa: B019 - one instance per process, the answers do not change
    def mxnet_build(self) -> MXNetBuild:
        distributions = mxnet_distributions()
        try:
            import mxnet as mx
        except Exception as err:  # OSError for a missing CUDA library, ImportError otherwise
            return MXNetBuild(None, import_error=_first_line(err), distributions=distributions)
        features = {f.name: f.enabled for f in mx.runtime.Features().values()}
        count, error = 0, ""
        if features.get("CUDA"):
            try:
                count = mx.context.num_gpus()
            except mx.base.MXNetError as err:
                error = _first_line(err)
        return MXNetBuild(mx.__version__, features, "", count, error, distributions)

    @cache  # noqa: B019
    def _driver_and_gpus(self) -> tuple[Driver, list[GPU]]:
        return query_cuda_driver()

    def driver(self) -> Driver:
        return self._driver_and_gpus()[0]

    def gpus(self) -> list[GPU]:
        return list(self._driver_and_gpus()[1])

    @cache  # noqa: B019
    def library_errors(self) -> dict[str, str]:
        cuda_libs.preload()
        return cuda_libs.loadable([lib.soname for lib in cuda_libs.LIBRARIES])

    def run_convolution(self, device: str) -> str:
        import mxnet as mx

        kind, index = device.rstrip(")").split("(")
        return tiny_convolution(mx.Context(kind, int(index)))


def tiny_convolution(device: mx.Context) -> str:
    """Run a hybridized 3×3 convolution followed by ReLU and a scale-and-shift (which MXNet fuses
    into one run-time-compiled kernel on a GPU) on ``device``, for a (2, 1, 6, 6) input, and compare
    with NumPy. Returns "" when it matches, otherwise what went wrong in one line."""
    import mxnet as mx
    import numpy as onp
    from mxnet import gluon, npx
    from mxnet import np as mnp

    x = (onp.arange(72, dtype=onp.float32).reshape(2, 1, 6, 6) - 36) / 36
    w = onp.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=onp.float32).reshape(1, 1, 3, 3)
    w = onp.concatenate([w, -w.transpose(0, 1, 3, 2)])  # two kernels: Sobel x and Sobel y
    b = onp.array([0.5, -0.25], dtype=onp.float32)
    windows = onp.lib.stride_tricks.sliding_window_view(x[:, 0], (3, 3), axis=(1, 2))
    expected = onp.einsum("nhwij,kij->nkhw", windows, w[:, 0]) + b[None, :, None, None]
    expected = onp.maximum(expected, 0) * 2 + 1

    class TinyConv(gluon.HybridBlock):
        def __init__(self):
            super().__init__()
            self.conv = gluon.nn.Conv2D(2, kernel_size=3, in_channels=1)

        def hybrid_forward(self, F, X):
            return F.npx.relu(self.conv(X)) * 2 + 1

    try:
        with mx.util.np_shape(True), mx.util.np_array(True):
            net = TinyConv()
            net.initialize(ctx=device)
            net.conv.weight.set_data(mnp.array(w, ctx=device))
            net.conv.bias.set_data(mnp.array(b, ctx=device))
            net.hybridize()
            got = net(mnp.array(x, ctx=device)).asnumpy()
            npx.waitall()
    except Exception as err:  # MXNetError mostly; a probe must never crash the caller
        return f"{type(err).__name__}: {_first_line(err)}"
    if got.shape != expected.shape or not onp.allclose(got, expected, rtol=1e-3, atol=1e-3):
        return f"wrong result (largest error {onp.abs(got - expected).max():.3g})"
    return ""


_machine: Machine = LocalMachine()


def machine() -> Machine:
    """The :class:`Machine` the checks ask (the real one unless a test swapped it)."""
    return _machine


@contextmanager
def use_machine(fake: Machine) -> Iterator[Machine]:
    """Run the checks against ``fake`` inside the ``with`` block (for tests); caches are cleared
    on entry and exit."""
    global _machine
    previous, _machine = _machine, fake
    _clear_caches()
    try:
        yield fake
    finally:
        _machine = previous
        _clear_caches()


def _clear_caches() -> None:
    probe_gpu.cache_clear()
    _warn_once.cache_clear()


# --- Checks and advice (pure functions of the machine's answers) -------------------------------


def gpu_build_advice(build: MXNetBuild) -> str:
    """How to get MXNet's GPU build working: install it, or repair an install where the CPU
    build's files overwrote it (``mxnet`` and ``mxnet-cu117`` both write the ``mxnet`` package, and
    whichever pip installs last wins)."""
    gpu_builds = [d for d in build.distributions if d.startswith("mxnet-cu")]
    if gpu_builds:
        name = gpu_builds[0]
        return (
            f"{name} is installed but the CPU build's files overwrote it: "
            f"pip install --force-reinstall --no-deps {name}=={build.distributions[name]}"
        )
    return "install MXNet's GPU build and its CUDA libraries: pip install -e '.[gpu]' (README, section GPU)"


def architecture_problem(gpu: GPU) -> str:
    """"" when the GPU build has kernels for ``gpu``, otherwise the reason and what follows."""
    if kernels_for(gpu.compute_capability) is not None:
        return ""
    built = "/".join(str(a) for a in BUILD_SASS)
    if gpu.compute_capability[0] < BUILD_SASS[0] // 10:
        verdict = "it is older than Maxwell"
    else:
        verdict = f"no MXNet release supports {architecture(gpu.compute_capability)}"
    return (
        f"{gpu} cannot run MXNet 1.9.1: {GPU_BUILD} has machine code for sm_{built} only "
        f"(Maxwell to Ada) and no PTX that the driver could compile for other GPUs; {verdict}, "
        "so the series runs on the CPU here"
    )


def driver_too_old(driver: Driver) -> bool:
    """True when the driver cannot run CUDA 11 programs at all."""
    if driver.cuda_version is None:
        return False
    return driver.cuda_version < MIN_DRIVER_CUDA or (
        driver.version is not None and _version(driver.version) < _version(MIN_DRIVER))


def driver_problems(driver: Driver) -> list[str]:
    """Advice lines for a driver too old for CUDA 11.7 (or for MXNet's run-time kernels)."""
    if driver.cuda_version is None:
        return []
    name = f"the NVIDIA driver {driver.version}" if driver.version else "the NVIDIA driver"
    shown = f"{name} supports CUDA {driver.cuda} only"
    if driver_too_old(driver):
        return [
            f"{shown}: {GPU_BUILD} needs a driver for CUDA 11.0 or newer (>= {MIN_DRIVER}); "
            f"install driver {RECOMMENDED_DRIVER} or newer"
        ]
    if driver.cuda_version < FUSION_DRIVER_CUDA:
        return [
            f"{shown}: it runs MXNet's precompiled kernels, but not the fused kernels MXNet compiles "
            "at run time for hybridized networks (NVRTC 11.8); install driver "
            f"{RECOMMENDED_DRIVER} or newer, or set MXNET_USE_FUSION=0 before importing MXNet"
        ]
    return []


def explain_failure(error: str, gpu: GPU | None = None) -> str:
    """Turn MXNet's error from a GPU into what it means and what to do, in one line."""
    text = error.lower()
    where = str(gpu) if gpu else "the GPU"
    if "no kernel image" in text or "invalid device function" in text:
        if gpu is not None and (problem := architecture_problem(gpu)):
            return problem
        return f"{where}: MXNet has no kernels for this GPU's architecture ({error})"
    if "driver version is insufficient" in text:
        return (f"{where}: the NVIDIA driver is too old for CUDA 11.7: install driver "
                f"{RECOMMENDED_DRIVER} or newer")
    if "ptx" in text or "nvrtc" in text:
        return (
            f"{where}: MXNet's run-time compiled (fused) kernels fail ({error}); install driver "
            f"{RECOMMENDED_DRIVER} or newer, or set MXNET_USE_FUSION=0 before importing MXNet"
        )
    if "out of memory" in text:
        return f"{where}: out of memory; close other programs using it (nvidia-smi lists them)"
    if "cannot open shared object file" in text:
        soname = error.split(":")[0].split()[-1] if ":" in error else ""
        return cuda_libs.missing_library_advice(soname, error) if soname else error
    return f"{where} failed a tiny convolution: {error}"


def mxnet_import_problem(build: MXNetBuild, library_errors: dict[str, str]) -> str:
    """Why ``import mxnet`` failed, and the fix."""
    error = build.import_error
    if "cannot open shared object file" in error:
        soname = error.split(":")[0].strip()
        if soname in library_errors or soname == cuda_libs.DRIVER_LIBRARY:
            advice = cuda_libs.missing_library_advice(soname, library_errors.get(soname, ""))
            return f"import mxnet fails: {advice}"
    if "No module named" in error:
        return "MXNet is not installed: pip install -e . (or make setup; README)"
    return f"import mxnet fails: {error}"


def gpu_unavailable_reason(m: Machine | None = None) -> str:
    """Why no GPU can be used at all (MXNet build, driver, devices), or "" if some GPU might."""
    m = m or _machine
    build = m.mxnet_build()
    if build.version is None:
        return mxnet_import_problem(build, m.library_errors())
    if not build.cuda:
        gpus = m.gpus()
        supported = [g for g in gpus if kernels_for(g.compute_capability) is not None]
        if supported:
            return f"MXNet is the CPU build, so {supported[0]} is unused: {gpu_build_advice(build)}"
        if gpus:
            return architecture_problem(gpus[0])
        return "no NVIDIA GPU, and MXNet is the CPU build"
    if build.gpu_count_error:
        if driver_too_old(driver := m.driver()):
            return driver_problems(driver)[0]
        return f"the CUDA runtime failed to start: {build.gpu_count_error}"
    if build.gpu_count == 0:
        driver = m.driver()
        if driver.error:
            return f"no usable NVIDIA driver ({driver.error})"
        return "no NVIDIA GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
    return ""


# --- The public API ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GPUProbe:
    """The outcome of trying GPU ``index``: ``ok`` and, when not, ``reason`` in one line."""

    index: int
    ok: bool
    reason: str = ""


def cpu() -> mx.Context:
    """The CPU context, ``cpu(0)``."""
    import mxnet as mx

    return mx.cpu()


def num_gpus() -> tuple[int, str]:
    """Number of GPUs this MXNet build can see, and a reason when it is zero."""
    reason = gpu_unavailable_reason()
    if reason:
        return 0, reason
    return _machine.mxnet_build().gpu_count, ""


@cache
def probe_gpu(i: int) -> GPUProbe:
    """Check GPU ``i`` (cached per process): its architecture against the build's kernels, the
    driver, then a tiny convolution whose result must match NumPy's."""
    count, reason = num_gpus()
    if i >= count:
        return GPUProbe(i, False, reason or f"gpu({i}) does not exist: {count} GPU(s) visible")
    gpu = next((g for g in _machine.gpus() if g.index == i), None)
    if gpu is not None and (problem := architecture_problem(gpu)):
        return GPUProbe(i, False, problem)
    if driver_too_old(driver := _machine.driver()):
        return GPUProbe(i, False, driver_problems(driver)[0])
    error = _machine.run_convolution(f"gpu({i})")
    if error:
        return GPUProbe(i, False, explain_failure(error, gpu))
    return GPUProbe(i, True)


def _gpu_index(i) -> int:
    """``i`` as a GPU number: a whole number ≥ 0 (NumPy integers too; not ``True``)."""
    if isinstance(i, bool) or not isinstance(i, numbers.Integral):
        raise TypeError(f"try_gpu(i): i is the number of a GPU, a whole number ≥ 0 (0 for the "
                        f"first), got {i!r} ({type(i).__name__}): pass e.g. try_gpu(0)")
    if i < 0:
        raise ValueError(f"try_gpu(i): i is the number of a GPU, a whole number ≥ 0 (0 for the "
                         f"first), got {i}: pass e.g. try_gpu(0)")
    return int(i)


def try_gpu(i: int = 0) -> mx.Context:
    """``gpu(i)`` if it exists and works, otherwise ``cpu()`` with a one-line warning saying why.
    ``i``: a whole number ≥ 0 (anything else is refused, naming the fix)."""
    import mxnet as mx

    i = _gpu_index(i)
    probe = probe_gpu(i)
    if probe.ok:
        return mx.gpu(i)
    _warn_once(f"using cpu(0): {probe.reason}")
    return cpu()


def try_all_gpus() -> list[mx.Context]:
    """Every GPU that works, or ``[cpu()]`` (with a one-line warning) when there is none."""
    import mxnet as mx

    count, reason = num_gpus()
    probes = [probe_gpu(i) for i in range(count)]
    working = [mx.gpu(p.index) for p in probes if p.ok]
    for p in probes:
        if not p.ok:
            _warn_once(f"skipping gpu({p.index}): {p.reason}")
    if working:
        return working
    _warn_once(f"using cpu(0): {reason or 'no GPU passed the check'}")
    return [cpu()]


DEVICE_PATTERN = re.compile(r"^(cpu|gpu)(?:\((\d+)\)|:(\d+))?$")


def as_device(device) -> mx.Context:
    """``device`` as an MXNet context: a context passes through; "cpu", "gpu", "cpu(0)", "gpu(1)"
    and "gpu:1" are read. Anything else is refused with the forms that are understood. A GPU
    asked for by name or context must pass :func:`probe_gpu` (an error deep inside MXNet
    otherwise): when it does not, the error says why and suggests :func:`try_gpu`, which falls
    back to the CPU."""
    import mxnet as mx

    context = None
    if isinstance(device, mx.Context):
        context = device
    elif isinstance(device, str):
        match = DEVICE_PATTERN.match(device.strip().lower())
        if match:
            kind, index = match[1], int(match[2] or match[3] or 0)
            context = mx.Context(kind, index)
    if context is None:
        raise ValueError(f"{device!r} is not a device: pass an MXNet context such as mx.cpu() or "
                         "try_gpu(), or a name such as 'cpu', 'gpu' or 'gpu(1)'")
    if context.device_type == "gpu":
        probe = probe_gpu(context.device_id)
        if not probe.ok:
            raise ValueError(f"{device!r} cannot be used: {probe.reason}. Pass "
                             f"try_gpu({context.device_id}), which falls back to the CPU when the "
                             "GPU does not work, or 'cpu'")
    return context


def describe(device: mx.Context | Sequence[mx.Context]) -> str:
    """A short readable name for a context, e.g. ``cpu(0)``, or for several: ``gpu(0)+gpu(1)``."""
    if isinstance(device, (list, tuple)):
        return "+".join(describe(d) for d in device)
    return f"{device.device_type}({device.device_id})"


@cache
def _warn_once(message: str) -> None:
    # One plain line, once per process and message, on standard output: it is information, not
    # an error (JupyterLab shows standard error in red), and warnings.warn's format would add the
    # caller's file, line number and source line.
    print(message)


def _first_line(err: Exception) -> str:
    """The line of an error message that says what went wrong (MXNet's messages put a C++
    traceback first and the message last, after "MXNetError:")."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    if not lines:
        return type(err).__name__
    for line in reversed(lines):
        if line.startswith("MXNetError:"):
            return line.removeprefix("MXNetError:").strip()
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())


__all__ = [
    "BUILD_SASS", "GPU", "Driver", "GPUProbe", "LocalMachine", "MXNetBuild", "Machine",
    "architecture", "architecture_problem", "as_device", "cpu", "describe", "driver_problems", "driver_too_old",
    "explain_failure", "gpu_unavailable_reason", "kernels_for", "machine", "num_gpus",
    "probe_gpu", "query_cuda_driver", "sm", "tiny_convolution", "try_all_gpus", "try_gpu",
    "use_machine",
]
