"""The GPU install's CUDA libraries: the table, the pins of the ``gpu`` extra, and the preloading
that ``machine.prepare()`` does (on a fake site-packages folder; the real wheels are GPU-only)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from d2lcnn.machine import cuda_libs

REPO = Path(__file__).resolve().parents[1]

# What each library links against among the others (readelf -d on the pinned wheels' files).
NEEDS = {
    "libcublas.so.11": {"libcublasLt.so.11"},
    "libcusolver.so.11": {"libcublas.so.11", "libcublasLt.so.11"},
}


@pytest.fixture(autouse=True)
def _fresh_report(monkeypatch):
    """Each test preloads afresh; the process's real report is put back afterwards."""
    monkeypatch.setattr(cuda_libs, "_report", None)
    monkeypatch.delenv(cuda_libs.NO_PRELOAD_ENV, raising=False)


def fake_site(tmp_path: Path, sonames=None, gpu_mxnet=True) -> Path:
    """A site-packages folder laid out as pip lays out the nvidia-*-cu11 wheels (empty files)."""
    site = tmp_path / "site-packages"
    for lib in cuda_libs.LIBRARIES:
        if sonames is None or lib.soname in sonames:
            folder = site / "nvidia" / lib.folder / "lib"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / lib.soname).write_bytes(b"")
    if gpu_mxnet:  # as installed: libmxnet.so with the size its RECORD names
        (site / "mxnet_cu117-1.9.1.dist-info").mkdir(parents=True)
        (site / "mxnet_cu117-1.9.1.dist-info" / "RECORD").write_text(
            "mxnet/__init__.py,sha256=x,10\nmxnet/libmxnet.so,sha256=y,64\n")
        (site / "mxnet").mkdir()
        (site / "mxnet" / "libmxnet.so").write_bytes(bytes(64))
    return site


class RecordingLoader:
    def __init__(self, failing=()):
        self.calls: list[str] = []
        self.failing = failing

    def __call__(self, path: str):
        self.calls.append(path)
        if any(path.endswith(name) for name in self.failing):
            raise OSError(f"{Path(path).name}: cannot open shared object file: No such file or directory")
        return object()


def test_table_covers_what_libmxnet_needs_in_dependency_order():
    sonames = [lib.soname for lib in cuda_libs.LIBRARIES]
    assert set(cuda_libs.MXNET_NEEDS) <= set(sonames)
    assert len(sonames) == len(set(sonames))
    for soname, needs in NEEDS.items():
        assert all(sonames.index(n) < sonames.index(soname) for n in needs), soname
    assert cuda_libs.by_soname("libcudnn.so.8").package == "nvidia-cudnn-cu11"
    assert cuda_libs.by_soname("libcuda.so.1") is None  # the driver's, not a wheel's


def test_gpu_extra_pins_match_the_table():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["gpu"] == cuda_libs.gpu_requirements()
    assert all("==" in pin for pin in extras["gpu"])
    assert "mxnet-cu117==1.9.1" in extras["gpu"]


def test_conda_variant_installs_the_gpu_extra():
    text = (REPO / "environment-gpu.yml").read_text()
    assert "-e .[dev,gpu]" in text and "--force-reinstall --no-deps mxnet-cu117==1.9.1" in text


def test_cpu_install_is_a_no_op(tmp_path):
    loader = RecordingLoader()
    report = cuda_libs.preload([str(tmp_path), ""], loader=loader)
    assert loader.calls == [] and not report.wheels_found and "CPU install" in report.skipped


def test_loads_every_library_in_order_with_global_symbols(tmp_path):
    site = fake_site(tmp_path)
    loader = RecordingLoader()
    report = cuda_libs.preload([str(tmp_path / "elsewhere"), str(site)], loader=loader)
    expected = [str(site / "nvidia" / lib.folder / "lib" / lib.soname) for lib in cuda_libs.LIBRARIES]
    assert loader.calls == expected + ["libcuda.so.1"]  # then: is there a driver?
    assert list(report.loaded) == [lib.soname for lib in cuda_libs.LIBRARIES]
    assert report.failed == {} and report.absent == [] and report.warnings == []


def test_preload_runs_once_per_process(tmp_path):
    site = fake_site(tmp_path)
    loader = RecordingLoader()
    first = cuda_libs.preload([str(site)], loader=loader)
    assert cuda_libs.preload([str(site)], loader=loader) is first
    assert len(loader.calls) == len(cuda_libs.LIBRARIES) + 1


def test_missing_and_broken_libraries_are_reported_not_raised(tmp_path):
    present = {lib.soname for lib in cuda_libs.LIBRARIES} - {"libnccl.so.2"}
    site = fake_site(tmp_path, sonames=present)
    loader = RecordingLoader(failing=("libcudnn.so.8",))
    report = cuda_libs.preload([str(site)], loader=loader)
    assert report.absent == ["libnccl.so.2"]
    assert list(report.failed) == ["libcudnn.so.8"]
    assert "libcudart.so.11.0" in report.loaded


def test_gpu_build_without_driver_warns(tmp_path):
    site = fake_site(tmp_path)
    report = cuda_libs.preload([str(site)], loader=RecordingLoader(failing=("libcuda.so.1",)))
    assert len(report.warnings) == 1
    assert "no NVIDIA driver" in report.warnings[0] and "python -m d2lcnn.machine.doctor" in report.warnings[0]


def test_cpu_build_over_gpu_build_warns(tmp_path):
    site = fake_site(tmp_path)
    (site / "mxnet" / "libmxnet.so").write_bytes(bytes(32))  # what the CPU build, unpacked last, leaves
    report = cuda_libs.preload([str(site)], loader=RecordingLoader())
    assert len(report.warnings) == 1
    assert "pip install --force-reinstall --no-deps mxnet-cu117==1.9.1" in report.warnings[0]


def test_wheels_without_gpu_mxnet_are_not_loaded(tmp_path):
    site = fake_site(tmp_path, gpu_mxnet=False)  # e.g. another framework's CUDA wheels
    loader = RecordingLoader(failing=("libcuda.so.1",))
    report = cuda_libs.preload([str(site)], loader=loader)
    assert loader.calls == [] and not report.wheels_found and report.warnings == []
    assert "GPU build (mxnet-cu*) is not installed" in report.skipped


def test_environment_variable_turns_preloading_off(tmp_path, monkeypatch):
    monkeypatch.setenv(cuda_libs.NO_PRELOAD_ENV, "1")
    loader = RecordingLoader()
    report = cuda_libs.preload([str(fake_site(tmp_path))], loader=loader)
    assert loader.calls == [] and cuda_libs.NO_PRELOAD_ENV in report.skipped


def test_loadable_names_what_fails():
    errors = cuda_libs.loadable(["libc.so.6", "libcudnn.so.8"],
                                loader=RecordingLoader(failing=("libcudnn.so.8",)))
    assert list(errors) == ["libcudnn.so.8"]
    assert cuda_libs.loadable(["libc.so.6"]) == {}  # a real load


def test_advice_names_the_package_or_the_missing_dependency():
    advice = cuda_libs.missing_library_advice("libcublas.so.11",
                                              "libcublas.so.11: cannot open shared object file")
    assert "pip install 'nvidia-cublas-cu11==11.10.3.66'" in advice
    advice = cuda_libs.missing_library_advice("libcudnn.so.8", "libz.so.1: cannot open shared object file")
    assert "installed but cannot be loaded: libz.so.1" in advice
    assert "install the NVIDIA driver" in cuda_libs.missing_library_advice("libcuda.so.1")


def test_importing_d2lcnn_and_preparing_do_not_import_mxnet():
    """prepare() must run before MXNet is imported, so neither it nor ``import d2lcnn`` may
    import MXNet."""
    code = ("import sys, d2lcnn; print('mxnet' in sys.modules); from d2lcnn import machine; "
            "machine.prepare(); print('mxnet' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
