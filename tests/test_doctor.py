"""``python -m d2lcnn.machine.doctor``: its report and advice on faked machines, and its real run here."""

from __future__ import annotations

import subprocess
import sys

from test_devices import CPU_FEATURES, DRIVER_535, H100, RTX_3080, FakeMachine, gpu_machine

from d2lcnn.machine import cpu_threads, doctor
from d2lcnn.machine.devices import GPU, Driver, MXNetBuild


def test_no_gpu_cpu_build():
    d = doctor.diagnose(FakeMachine())
    text = d.text()
    assert d.cpu_ok and d.usable == ["cpu(0)"] and d.advice == []
    assert "1.9.1, CPU build" in text and "CUDA no" in text and "MKLDNN yes" in text
    assert "GPUs           none visible" in text and "  cpu(0)  ok" in text
    assert "verdict: training runs on cpu(0)" in text and "no problems found" in text


def test_supported_gpu():
    fake = gpu_machine([RTX_3080])
    d = doctor.diagnose(fake)
    text = d.text()
    assert d.usable == ["gpu(0)"] and d.advice == []
    assert "GPU build (CUDA)" in text and "535.104.05, CUDA 12.2" in text
    assert ("NVIDIA GeForce RTX 3080 (Ampere, compute capability 8.6, 10,240 MiB): "
            "runs the sm_86 kernels") in text
    assert "libcudnn.so.8" in text and "MISSING" not in text
    assert "  gpu(0)  ok" in text and "verdict: training runs on gpu(0)" in text
    assert fake.convolutions == ["cpu(0)", "gpu(0)"]


def test_unsupported_sm_90():
    fake = gpu_machine([H100])
    d = doctor.diagnose(fake)
    text = d.text()
    assert d.usable == ["cpu(0)"] and "gpu(0)" not in fake.convolutions
    assert "NO kernels for it in this build" in text
    assert len(d.advice) == 1 and "sm_90" in d.advice[0] and "Hopper" in d.advice[0]
    assert "verdict: training runs on cpu(0)" in text


def test_missing_library():
    error = "libcudnn.so.8: cannot open shared object file: No such file or directory"
    build = MXNetBuild(None, import_error=error, distributions={"mxnet": "1.9.1", "mxnet-cu117": "1.9.1"})
    fake = FakeMachine(build=build, driver_info=DRIVER_535, gpu_list=[RTX_3080],
                       libs={"libcudnn.so.8": error})
    d = doctor.diagnose(fake)
    text = d.text()
    assert not d.cpu_ok and fake.convolutions == []
    assert "libcudnn.so.8        cuDNN 8" in text and "MISSING" in text
    assert any("pip install 'nvidia-cudnn-cu11==8.5.0.96'" in line for line in d.advice)
    assert "not even on the CPU" in text


def test_cuDNN_dependency_missing_is_told_apart():
    error = "libz.so.1: cannot open shared object file: No such file or directory"
    fake = gpu_machine([RTX_3080], libs={"libcudnn.so.8": error})
    d = doctor.diagnose(fake)
    assert any("installed but cannot be loaded: libz.so.1" in line for line in d.advice)


def test_no_driver_with_gpu_build():
    error = "libcuda.so.1: cannot open shared object file: No such file or directory"
    build = MXNetBuild(None, import_error=error,
                       distributions={"mxnet": "1.9.1", "mxnet-cu117": "1.9.1"})
    d = doctor.diagnose(FakeMachine(build=build))
    assert len(d.advice) == 1 and "install the NVIDIA driver" in d.advice[0]
    assert "pip uninstall -y mxnet-cu117 mxnet && pip install mxnet==1.9.1" in d.advice[0]


def test_driver_too_old():
    build = MXNetBuild("1.9.1", {**CPU_FEATURES, "CUDA": True},
                       gpu_count_error="CUDA: CUDA driver version is insufficient for CUDA runtime version",
                       distributions={"mxnet-cu117": "1.9.1"})
    fake = FakeMachine(build=build, driver_info=Driver(10020, "440.33.01"), gpu_list=[RTX_3080])
    d = doctor.diagnose(fake)
    assert d.usable == ["cpu(0)"] and d.cpu_ok
    assert "440.33.01, CUDA 10.2" in d.text()
    assert len(d.advice) == 1 and "supports CUDA 10.2 only" in d.advice[0]


def test_cpu_build_with_usable_gpu_and_mixed_gpus():
    fake = FakeMachine(driver_info=DRIVER_535, gpu_list=[RTX_3080, GPU(1, "NVIDIA H100 PCIe", (9, 0))])
    d = doctor.diagnose(fake)
    assert "CUDA libs      not needed by the CPU build" in d.text()
    assert any("pip install -e '.[gpu]'" in line for line in d.advice)
    assert any("sm_90" in line for line in d.advice)


def test_failing_gpu_kernel_is_reported_per_device():
    fake = gpu_machine([RTX_3080, GPU(1, "NVIDIA GeForce GTX 1080 Ti", (6, 1))],
                       conv_errors={"gpu(1)": "MXNetError: CUDA: an illegal memory access was encountered"})
    d = doctor.diagnose(fake)
    assert d.usable == ["gpu(0)"]
    assert "  gpu(1)  not usable: gpu(1) NVIDIA GeForce GTX 1080 Ti (Pascal, sm_61) failed" in d.text()


def test_doctor_runs_here_and_reports_cpu_only():
    out = subprocess.run([sys.executable, "-m", "d2lcnn.machine.doctor"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "MXNet          1.9.1" in text and "cpu(0)  ok" in text
    if "CPU build" in text and "GPUs           none visible" in text:  # this workplace, CI
        assert "verdict: training runs on cpu(0); no GPU can be used here" in text
        assert "no problems found" in text


def test_cpu_files_over_gpu_build_without_gpu_is_still_flagged():
    build = MXNetBuild("1.9.1", CPU_FEATURES, distributions={"mxnet": "1.9.1", "mxnet-cu117": "1.9.1"})
    d = doctor.diagnose(FakeMachine(build=build))
    assert d.advice == ["mxnet-cu117 is installed but the CPU build's files overwrote it: "
                        "pip install --force-reinstall --no-deps mxnet-cu117==1.9.1"]


def test_a_thread_setting_mxnet_would_abort_on_is_explained(monkeypatch):
    """OMP_NUM_THREADS=abc makes MXNet abort at import (rc 134): the doctor checks no device,
    says why in its verdict and gives the fix as advice (the real run: tests/test_bad_inputs.py)."""
    error = ("OMP_NUM_THREADS='abc' is not a number of threads, and MXNet would abort at import: "
             "set it to a positive whole number (e.g. OMP_NUM_THREADS=2) or unset it")
    setting = cpu_threads.ThreadSetting(None, 2, "OMP_NUM_THREADS='abc'", error=error)
    monkeypatch.setattr(cpu_threads, "_applied", setting)
    fake = FakeMachine()
    d = doctor.diagnose(fake)
    assert fake.convolutions == [] and d.advice == [error] and not d.cpu_ok
    assert "CPU threads    OMP_NUM_THREADS='abc': not a number of threads" in d.text()
    assert "verdict: devices not checked: MXNet would abort at import" in d.text()
