"""Choosing where to compute: a GPU only when it really works, otherwise the CPU.

A GPU counts as usable only after a tiny operation on it has run and returned the right answer. A
GPU build of MXNet can see a card and still fail at the first kernel (no kernels for that
architecture, a missing CUDA library, a driver too old); the check turns such a failure into one
line saying why, instead of an error deep inside a training cell.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cache

import mxnet as mx


@dataclass(frozen=True)
class GPUProbe:
    """The outcome of trying GPU ``index``: ``ok`` and, when not, ``reason`` in one line."""

    index: int
    ok: bool
    reason: str = ""


def cpu() -> mx.Context:
    """The CPU context, ``cpu(0)``."""
    return mx.cpu()


def num_gpus() -> tuple[int, str]:
    """Number of GPUs this MXNet build can see, and a reason when it is zero."""
    if not mx.runtime.Features().is_enabled("CUDA"):
        return 0, (
            "this MXNet build has no CUDA support (the 'mxnet' CPU package); "
            "install the GPU build as the README's GPU section says"
        )
    try:
        count = mx.context.num_gpus()
    except mx.base.MXNetError as err:
        return 0, f"the CUDA runtime failed to start: {_first_line(err)}"
    if count == 0:
        return 0, "no NVIDIA GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
    return count, ""


@cache
def probe_gpu(i: int) -> GPUProbe:
    """Run a tiny computation on GPU ``i`` and check its result (cached per process)."""
    count, reason = num_gpus()
    if i >= count:
        return GPUProbe(i, False, reason or f"gpu({i}) does not exist: {count} GPU(s) visible")
    try:
        from mxnet import np

        x = np.ones((2, 2), ctx=mx.gpu(i))
        total = float((x @ x).sum())
    except mx.base.MXNetError as err:
        return GPUProbe(i, False, f"gpu({i}) cannot run MXNet kernels: {_first_line(err)}")
    if total != 8.0:
        return GPUProbe(i, False, f"gpu({i}) returned a wrong result ({total} instead of 8.0)")
    return GPUProbe(i, True)


def try_gpu(i: int = 0) -> mx.Context:
    """``gpu(i)`` if it exists and works, otherwise ``cpu()`` with a one-line warning saying why."""
    probe = probe_gpu(i)
    if probe.ok:
        return mx.gpu(i)
    _warn_once(f"using cpu(0): {probe.reason}")
    return cpu()


def try_all_gpus() -> list[mx.Context]:
    """Every GPU that works, or ``[cpu()]`` (with a one-line warning) when there is none."""
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


def describe(device: mx.Context) -> str:
    """A short readable name for a context, e.g. ``cpu(0)`` or ``gpu(0)``."""
    return f"{device.device_type}({device.device_id})"


@cache
def _warn_once(message: str) -> None:
    # One plain line on stderr, once per process and message: warnings.warn's default format
    # would add the caller's file, line number and source line.
    print(f"d2lcnn: {message}", file=sys.stderr)


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
