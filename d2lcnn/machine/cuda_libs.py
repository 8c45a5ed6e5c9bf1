"""The CUDA 11 libraries that the GPU build of MXNet links against, found in pip's NVIDIA wheels.

``mxnet-cu117==1.9.1`` ships ``libmxnet.so`` without the CUDA libraries it needs (``readelf -d``
lists them as NEEDED). The ``gpu`` extra installs them from PyPI's ``nvidia-*-cu11`` wheels, which
put each library under ``site-packages/nvidia/<name>/lib/``, a folder the dynamic linker does not
search. :func:`preload` loads them with ``RTLD_GLOBAL``, dependencies first, before MXNet is
imported: the linker then resolves ``libmxnet.so``'s NEEDED entries to the copies already in the
process (it matches loaded libraries by soname), so no ``LD_LIBRARY_PATH`` editing is needed.

:func:`d2lcnn.machine.prepare` calls :func:`preload`. It looks only in the installed packages'
own folders (site-packages: :func:`site_packages_dirs`), never in the working folder or other
``sys.path`` entries, whose libraries would run their code in this process; and it loads nothing
unless MXNet's GPU build is installed there (the CPU build needs no CUDA library). Without the
wheels (the CPU install) it costs a few ``stat`` calls and loads nothing. ``D2LCNN_NO_CUDA_PRELOAD=1`` turns it off, e.g. to use
a system-wide CUDA 11 instead. This module must not import MXNet.
"""

from __future__ import annotations

import ctypes
import site
import sysconfig
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import config

#: Set to 1 to keep :func:`d2lcnn.machine.prepare` from loading the wheels' CUDA libraries.
NO_PRELOAD_ENV = config.NO_CUDA_PRELOAD_ENV


@dataclass(frozen=True)
class CudaLibrary:
    """One shared library: its ``soname``, what it is, and the pinned PyPI wheel providing it
    (``requirement``), which installs it into ``site-packages/nvidia/<folder>/lib/``."""

    soname: str
    what: str
    requirement: str
    folder: str

    @property
    def package(self) -> str:
        """The PyPI package name, e.g. ``nvidia-cudnn-cu11``."""
        return self.requirement.split("==")[0]


# Dependency order: each library comes after the ones it links against (checked with readelf -d
# on the pinned wheels), so that every load finds its NEEDED libraries already in the process.
# The pins are the CUDA 11.7 releases that mxnet-cu117 was built with, except NVRTC, which comes
# from CUDA 11.8: MXNet compiles its fused element-wise kernels at run time for the GPU's own
# compute_XY, and only NVRTC 11.8 knows Ada (compute_89). All of them keep the sonames below.
LIBRARIES: tuple[CudaLibrary, ...] = tuple(
    CudaLibrary(*row)
    for row in [
        ("libcudart.so.11.0", "CUDA runtime 11", "nvidia-cuda-runtime-cu11==11.7.99", "cuda_runtime"),
        ("libnvrtc.so.11.2", "NVRTC 11 (run-time compiler)", "nvidia-cuda-nvrtc-cu11==11.8.89",
         "cuda_nvrtc"),
        ("libnvToolsExt.so.1", "NVTX (profiler markers)", "nvidia-nvtx-cu11==11.7.91", "nvtx"),
        ("libcublasLt.so.11", "cuBLASLt 11", "nvidia-cublas-cu11==11.10.3.66", "cublas"),
        ("libcublas.so.11", "cuBLAS 11", "nvidia-cublas-cu11==11.10.3.66", "cublas"),
        ("libcufft.so.10", "cuFFT 10", "nvidia-cufft-cu11==10.7.2.91", "cufft"),
        ("libcurand.so.10", "cuRAND 10", "nvidia-curand-cu11==10.2.10.91", "curand"),
        ("libcusparse.so.11", "cuSPARSE 11", "nvidia-cusparse-cu11==11.7.4.91", "cusparse"),
        ("libcusolver.so.11", "cuSOLVER 11", "nvidia-cusolver-cu11==11.4.0.1", "cusolver"),
        # libcudnn.so.8 loads its sub-libraries (libcudnn_cnn_infer.so.8, ...) itself, from its
        # own folder (RUNPATH $ORIGIN), when first needed; they are large, so not preloaded.
        ("libcudnn.so.8", "cuDNN 8", "nvidia-cudnn-cu11==8.5.0.96", "cudnn"),
        ("libnccl.so.2", "NCCL 2 (multi-GPU communication)", "nvidia-nccl-cu11==2.14.3", "nccl"),
    ]
)

#: The NEEDED entries of mxnet-cu117 1.9.1's libmxnet.so that pip's NVIDIA wheels provide.
#: (libcublasLt.so.11 is needed by libcublas.so.11, not by libmxnet.so directly.)
MXNET_NEEDS: tuple[str, ...] = (
    "libcudnn.so.8", "libnccl.so.2", "libcudart.so.11.0", "libcufft.so.10", "libcublas.so.11",
    "libcusolver.so.11", "libcusparse.so.11", "libcurand.so.10", "libnvrtc.so.11.2",
    "libnvToolsExt.so.1",
)

#: What libmxnet.so needs from the NVIDIA driver itself (not pip-installable).
DRIVER_LIBRARY = "libcuda.so.1"

#: The GPU build of MXNet that these libraries belong to.
MXNET_GPU_REQUIREMENT = "mxnet-cu117==1.9.1"


def by_soname(soname: str) -> CudaLibrary | None:
    """The :class:`CudaLibrary` with this soname, or None."""
    return next((lib for lib in LIBRARIES if lib.soname == soname), None)


def gpu_requirements() -> list[str]:
    """What the ``gpu`` extra must install: MXNet's GPU build and one pin per wheel, in order."""
    pins = [MXNET_GPU_REQUIREMENT]
    for lib in LIBRARIES:
        if lib.requirement not in pins:
            pins.append(lib.requirement)
    return pins


def site_packages_dirs() -> list[Path]:
    """The folders installed packages live in: this environment's site-packages (``sysconfig``'s
    purelib and platlib, ``site.getsitepackages()``) and the user's, when enabled; absolute
    folders that exist, in that order, each once."""
    candidates = [sysconfig.get_paths()[key] for key in ("purelib", "platlib")]
    candidates += site.getsitepackages()
    if site.ENABLE_USER_SITE:
        candidates.append(site.getusersitepackages())
    return _absolute_dirs(candidates)


def _absolute_dirs(entries: Iterable[str]) -> list[Path]:
    """The absolute folders among ``entries``, each once: "" (the working folder) and relative
    entries are left out."""
    found: list[Path] = []
    for entry in entries:
        if entry and Path(entry).is_absolute() and Path(entry).is_dir() and Path(entry) not in found:
            found.append(Path(entry))
    return found


def nvidia_lib_dirs(search_paths: Iterable[str] | None = None) -> dict[str, Path]:
    """Folders ``<site>/nvidia/<folder>/lib`` that exist, keyed by ``<folder>``, for each site
    folder of ``search_paths`` (default :func:`site_packages_dirs`; "" and relative entries are
    ignored); the first that has a folder wins, as for imports."""
    found: dict[str, Path] = {}
    sites = site_packages_dirs() if search_paths is None else _absolute_dirs(search_paths)
    for entry in sites:
        root = entry / "nvidia"
        if not root.is_dir():
            continue
        for lib in LIBRARIES:
            if lib.folder not in found and (root / lib.folder / "lib").is_dir():
                found[lib.folder] = root / lib.folder / "lib"
    return found


@dataclass
class PreloadReport:
    """What :func:`preload` did: ``loaded`` maps soname -> file, ``failed`` soname -> error,
    ``absent`` lists sonames whose wheel is not installed; ``skipped`` says why nothing was tried;
    ``warnings`` are lines for the user when the GPU install cannot work (the CPU build's files
    over the GPU build's, no NVIDIA driver)."""

    loaded: dict[str, Path] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    absent: list[str] = field(default_factory=list)
    skipped: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def wheels_found(self) -> bool:
        return bool(self.loaded or self.failed)


Loader = Callable[[str], object]


def _load_global(path: str) -> object:
    return ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)


_report: PreloadReport | None = None


def preload(
    search_paths: Sequence[str] | None = None,
    loader: Loader | None = None,
    *,
    force: bool = False,
) -> PreloadReport:
    """Load the wheels' CUDA libraries into this process, dependencies first (once per process).

    Only the site folders are searched (``search_paths``, default :func:`site_packages_dirs`),
    and only when MXNet's GPU build is installed in one of them, as it installed it (not
    overwritten by the CPU build). A library whose wheel is absent is listed in ``absent``; one
    that fails to load (a missing system dependency, a broken file) in ``failed``, with the
    loader's message. Never raises: the doctor turns the report into advice. ``loader`` and
    ``search_paths`` are for tests.
    """
    global _report
    if _report is not None and not force:
        return _report
    report = PreloadReport()
    if not config.cuda_preload_enabled():
        report.skipped = f"{NO_PRELOAD_ENV} is set"
    else:
        sites = site_packages_dirs() if search_paths is None else _absolute_dirs(search_paths)
        dirs = nvidia_lib_dirs([str(site) for site in sites])
        gpu_builds = [info for site in sites for info in site.glob("mxnet_cu*.dist-info")]
        overwritten = [info for info in gpu_builds if overwritten_gpu_build(info)]
        if not dirs:
            report.skipped = "no nvidia-*-cu11 wheels installed (the CPU install)"
        elif not gpu_builds:
            report.skipped = ("MXNet's GPU build (mxnet-cu*) is not installed: the CPU install "
                              "needs no CUDA library")
        elif overwritten:
            report.skipped = "MXNet's CPU build is installed over its GPU build"
        load = loader or _load_global
        for lib in LIBRARIES if not report.skipped else ():
            path = dirs[lib.folder] / lib.soname if lib.folder in dirs else None
            if path is None or not path.exists():
                report.absent.append(lib.soname)
                continue
            try:
                load(str(path))
            except OSError as err:
                report.failed[lib.soname] = str(err)
            else:
                report.loaded[lib.soname] = path
        for info in overwritten:
            name, version = info.name.removesuffix(".dist-info").split("-", 1)
            requirement = f"{name.replace('_', '-')}=={version}"
            report.warnings.append(
                f"MXNet's CPU build is installed over its GPU build ({requirement}); both write "
                f"the mxnet package. Put the GPU build back: pip install --force-reinstall "
                f"--no-deps {requirement}"
            )
        if report.loaded and gpu_builds and loadable([DRIVER_LIBRARY], loader):
            report.warnings.append(
                f"the GPU install's CUDA libraries are here but no NVIDIA driver ({DRIVER_LIBRARY}), "
                "so `import mxnet` fails with the GPU build: python -m d2lcnn.machine.doctor says what to do"
            )
    _report = report
    return report


def overwritten_gpu_build(dist_info: Path) -> bool:
    """True when the ``mxnet/libmxnet.so`` next to a GPU build's ``dist_info`` folder is not the
    file that build installed (its size differs from the one in the build's RECORD), i.e. the CPU
    build, installed after it, replaced it."""
    try:
        for line in (dist_info / "RECORD").read_text().splitlines():
            if line.startswith("mxnet/libmxnet.so,"):
                recorded = int(line.rsplit(",", 1)[1])
                return (dist_info.parent / "mxnet" / "libmxnet.so").stat().st_size != recorded
    except (OSError, ValueError):
        return False
    return False


def loadable(sonames: Iterable[str], loader: Loader | None = None) -> dict[str, str]:
    """Try to load each soname the way ``libmxnet.so`` would find it (already loaded, or on the
    linker's search path); return soname -> error message for those that cannot be loaded."""
    load = loader or (lambda name: ctypes.CDLL(name))
    errors: dict[str, str] = {}
    for soname in sonames:
        try:
            load(soname)
        except OSError as err:
            errors[soname] = str(err)
    return errors


def missing_library_advice(soname: str, error: str = "") -> str:
    """One line saying which library cannot be loaded and what provides it."""
    lib = by_soname(soname)
    if soname == DRIVER_LIBRARY:
        return (
            f"{soname} (the NVIDIA driver's CUDA library) cannot be loaded: install the NVIDIA "
            "driver (>= 520.61.05), or, on a machine without an NVIDIA GPU, go back to the CPU "
            "build: pip uninstall -y mxnet-cu117 mxnet && pip install mxnet==1.9.1"
        )
    if lib is None:
        return f"{soname} cannot be loaded: {error}" if error else f"{soname} cannot be loaded"
    if error and soname not in error.split(":")[0]:
        # The wheel's file is there but something it links against is not (libz.so.1 for cuDNN).
        return f"{soname} ({lib.what}) is installed but cannot be loaded: {error}"
    return (
        f"{soname} ({lib.what}) cannot be loaded: pip install '{lib.requirement}' "
        "(or install the project with the gpu extra, as the README's GPU section says)"
    )


__all__ = [
    "DRIVER_LIBRARY", "LIBRARIES", "MXNET_GPU_REQUIREMENT", "MXNET_NEEDS", "NO_PRELOAD_ENV",
    "CudaLibrary", "PreloadReport", "by_soname", "gpu_requirements", "loadable",
    "missing_library_advice", "nvidia_lib_dirs", "overwritten_gpu_build", "preload",
    "site_packages_dirs",
]
