"""Choosing devices: the architecture table, the driver checks, and try_gpu / try_all_gpus falling
back to the CPU with a reason, on faked machines (no GPU here) and on this machine for real."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

import mxnet as mx
import pytest

from d2lcnn.machine import devices as device
from d2lcnn.machine.devices import GPU, Driver, MXNetBuild

CPU_FEATURES = {"CUDA": False, "CUDNN": False, "NCCL": False, "MKLDNN": True}
GPU_FEATURES = {"CUDA": True, "CUDNN": True, "NCCL": True, "MKLDNN": True}
RTX_3080 = GPU(0, "NVIDIA GeForce RTX 3080", (8, 6), 10240)
H100 = GPU(0, "NVIDIA H100 80GB HBM3", (9, 0), 81559)
DRIVER_535 = Driver(12020, "535.104.05")


@dataclass
class FakeMachine:
    """A :class:`d2lcnn.machine.devices.Machine` answering from fixed values; records convolutions run."""

    build: MXNetBuild = field(default_factory=lambda: MXNetBuild(
        "1.9.1", CPU_FEATURES, distributions={"mxnet": "1.9.1"}))
    driver_info: Driver = field(default_factory=lambda: Driver(
        error="libcuda.so.1: cannot open shared object file"))
    gpu_list: list[GPU] = field(default_factory=list)
    libs: dict[str, str] = field(default_factory=dict)
    conv_errors: dict[str, str] = field(default_factory=dict)
    convolutions: list[str] = field(default_factory=list)

    def mxnet_build(self) -> MXNetBuild:
        return self.build

    def driver(self) -> Driver:
        return self.driver_info

    def gpus(self) -> list[GPU]:
        return list(self.gpu_list)

    def library_errors(self) -> dict[str, str]:
        return dict(self.libs)

    def run_convolution(self, name: str) -> str:
        self.convolutions.append(name)
        return self.conv_errors.get(name, "")


def gpu_machine(gpus, driver=DRIVER_535, **kwargs) -> FakeMachine:
    build = MXNetBuild("1.9.1", GPU_FEATURES, gpu_count=len(gpus),
                       distributions={"mxnet": "1.9.1", "mxnet-cu117": "1.9.1"})
    return FakeMachine(build=build, driver_info=driver, gpu_list=list(gpus), **kwargs)


@pytest.mark.parametrize(
    ("cc", "kernels"),
    [((5, 0), 50), ((5, 2), 50), ((6, 0), 60), ((6, 1), 60), ((7, 0), 70), ((7, 2), 70),
     ((7, 5), 70), ((8, 0), 80), ((8, 6), 86), ((8, 7), 86), ((8, 9), 86),
     ((3, 5), None), ((3, 7), None), ((9, 0), None), ((10, 0), None), ((12, 0), None)],
)
def test_sass_runs_on_same_major_with_equal_or_higher_minor(cc, kernels):
    assert device.kernels_for(cc) == kernels


def test_architecture_names():
    ccs = [(5, 2), (6, 1), (7, 0), (7, 5), (8, 0), (8, 6), (8, 9), (9, 0)]
    names = {cc: device.architecture(cc) for cc in ccs}
    assert names == {(5, 2): "Maxwell", (6, 1): "Pascal", (7, 0): "Volta", (7, 5): "Turing",
                     (8, 0): "Ampere", (8, 6): "Ampere", (8, 9): "Ada", (9, 0): "Hopper"}
    assert str(H100) == "gpu(0) NVIDIA H100 80GB HBM3 (Hopper, sm_90)"


def test_no_gpu_falls_back_to_cpu_with_one_line(capsys):
    with device.use_machine(FakeMachine()):
        assert device.num_gpus() == (0, "no NVIDIA GPU, and MXNet is the CPU build")
        assert device.try_gpu() == mx.cpu()
        assert device.try_all_gpus() == [mx.cpu()]
    out = capsys.readouterr()
    assert out.out == "using cpu(0): no NVIDIA GPU, and MXNet is the CPU build\n"
    assert out.err == ""  # information, not an error: JupyterLab shows stderr in red


def test_supported_gpu_is_used_after_its_convolution_passes():
    fake = gpu_machine([RTX_3080, GPU(1, "NVIDIA GeForce GTX 1080", (6, 1))])
    with device.use_machine(fake):
        assert device.try_gpu() == mx.gpu(0)
        assert device.try_all_gpus() == [mx.gpu(0), mx.gpu(1)]
        assert device.probe_gpu(1).ok
    assert fake.convolutions == ["gpu(0)", "gpu(1)"]  # each checked once (cached)


def test_hopper_is_refused_without_running_anything(capsys):
    fake = gpu_machine([H100])
    with device.use_machine(fake):
        probe = device.probe_gpu(0)
        assert device.try_gpu() == mx.cpu()
    assert not probe.ok and fake.convolutions == []
    assert "sm_90" in probe.reason and "Hopper" in probe.reason and "no PTX" in probe.reason
    assert "sm_50/60/70/80/86" in probe.reason
    assert "using cpu(0)" in capsys.readouterr().out


def test_working_and_failing_gpus_together(capsys):
    fake = gpu_machine([RTX_3080, GPU(1, "NVIDIA A100-SXM4-40GB", (8, 0))],
                       conv_errors={"gpu(0)": "MXNetError: CUDA: out of memory"})
    with device.use_machine(fake):
        assert device.try_all_gpus() == [mx.gpu(1)]
    out = capsys.readouterr().out
    assert "skipping gpu(0)" in out and "out of memory" in out


def test_kernel_failure_on_supported_gpu_is_explained():
    fake = gpu_machine([RTX_3080], conv_errors={
        "gpu(0)": "Check failed: e == cudaSuccess (222 vs. 0) : CUDA_ERROR_UNSUPPORTED_PTX_VERSION"})
    with device.use_machine(fake):
        probe = device.probe_gpu(0)
    assert not probe.ok and "MXNET_USE_FUSION=0" in probe.reason and "520.61.05" in probe.reason


def test_driver_too_old_is_refused_before_any_kernel():
    fake = gpu_machine([RTX_3080], driver=Driver(10020, "440.33.01"))
    with device.use_machine(fake):
        probe = device.probe_gpu(0)
    assert not probe.ok and fake.convolutions == []
    assert "supports CUDA 10.2 only" in probe.reason and "450.80.02" in probe.reason


def test_driver_checks():
    assert device.driver_problems(DRIVER_535) == []
    assert device.driver_problems(Driver()) == []  # no driver: nothing to say about its age
    assert "450.80.02" in device.driver_problems(Driver(11000, "450.51.06"))[0]  # 11.0, too early
    fusion = device.driver_problems(Driver(11040, "470.82.01"))
    assert len(fusion) == 1 and "MXNET_USE_FUSION=0" in fusion[0]


def test_cpu_build_with_a_gpu_says_how_to_install_the_gpu_build():
    fake = FakeMachine(driver_info=DRIVER_535, gpu_list=[RTX_3080])
    with device.use_machine(fake):
        count, reason = device.num_gpus()
    assert count == 0 and "RTX 3080" in reason and "pip install -e '.[gpu]'" in reason


def test_cpu_files_over_gpu_build_are_detected():
    build = MXNetBuild("1.9.1", CPU_FEATURES, distributions={"mxnet": "1.9.1", "mxnet-cu117": "1.9.1"})
    with device.use_machine(FakeMachine(build=build, driver_info=DRIVER_535, gpu_list=[RTX_3080])):
        _, reason = device.num_gpus()
    assert "pip install --force-reinstall --no-deps mxnet-cu117==1.9.1" in reason


def test_explain_failure_messages():
    explain = device.explain_failure
    assert "sm_90" in explain("CUDA: no kernel image is available for execution on the device", H100)
    assert "too old" in explain("CUDA driver version is insufficient for CUDA runtime version")
    missing = explain("libcudnn.so.8: cannot open shared object file: No such file or directory")
    assert "pip install 'nvidia-cudnn-cu11==8.5.0.96'" in missing


def test_error_line_is_mxnets_message_not_its_traceback():
    err = mx.base.MXNetError('Traceback (most recent call last):\n  File "../src/x.cc", line 81\n'
                             "MXNetError: Operator _ones is not implemented for GPU.")
    assert device._first_line(err) == "Operator _ones is not implemented for GPU."
    assert device._first_line(OSError("libcuda.so.1: cannot open")) == "libcuda.so.1: cannot open"


def test_describe_one_or_several():
    assert device.describe(mx.cpu(0)) == "cpu(0)"
    assert device.describe([mx.gpu(0), mx.gpu(1)]) == "gpu(0)+gpu(1)"


def test_nvidia_smi_fallback_parses_its_csv(monkeypatch):
    csv = "0, NVIDIA GeForce RTX 4090, 8.9, 24564, 550.54.14\n1, NVIDIA H100 PCIe, 9.0, 81559, 550.54.14\n"
    monkeypatch.setattr(device.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    monkeypatch.setattr(device.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=csv, stderr=""))
    driver, gpus = device._query_nvidia_smi("libcuda.so.1: cannot open shared object file")
    assert driver.version == "550.54.14" and driver.error
    assert gpus == [GPU(0, "NVIDIA GeForce RTX 4090", (8, 9), 24564),
                    GPU(1, "NVIDIA H100 PCIe", (9, 0), 81559)]
    assert device.kernels_for(gpus[0].compute_capability) == 86


def test_this_machine_for_real():
    """No GPU in this workplace: the real checks must say so and keep the CPU working."""
    assert device.tiny_convolution(mx.cpu()) == ""
    driver, gpus = device.query_cuda_driver()
    if driver.error and not gpus:  # no NVIDIA driver (this workplace, CI)
        probe = device.probe_gpu(0)
        assert not probe.ok and probe.reason
        assert device.try_gpu() == mx.cpu()


def test_tiny_convolution_reports_a_failure_instead_of_raising():
    if mx.runtime.Features().is_enabled("CUDA"):
        pytest.skip("a GPU build can run on gpu(0)")
    assert device.tiny_convolution(mx.gpu(0)).startswith("MXNetError")
