"""The CPU and the instruction set MXNet's oneDNN kernels use on it.

Convolutions, pooling and batch norm on the CPU run on oneDNN (MXNet's ``MKLDNN`` feature), which
picks at run time the widest vector instructions the CPU has: AVX-512 on most servers, AVX2 on
most laptops (Intel's consumer chips since 2021 have no AVX-512; AMD's before Zen 4 never had it).
The same network trains two to three times slower with AVX2 than with AVX-512 on the same
cores, so a training speed means little without the instruction set it was measured with.

oneDNN honours ``DNNL_MAX_CPU_ISA`` (e.g. ``AVX2``): a machine with AVX-512 then behaves like one
without it, which is how the series measures what an AVX2 laptop gets (``DNNL_VERBOSE=1`` prints
the ISA oneDNN picked). :func:`onednn_isa` says which instruction set that gives here,
:func:`describe_cpu` the line the training reports and benchmarks print.
"""

from __future__ import annotations

import platform
from pathlib import Path

from .. import config

__all__ = ["ISA_LEVELS", "cpu_flags", "cpu_model", "describe_cpu", "isa_named_in", "onednn_isa"]

#: oneDNN's instruction-set levels that matter for float32 training, lowest first: its name (the
#: value ``DNNL_MAX_CPU_ISA`` takes), how we print it, and the CPU flags (``/proc/cpuinfo``) it
#: needs. The levels above AVX512_CORE (VNNI, BF16, AMX) speed up int8 and bfloat16, not float32.
ISA_LEVELS: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("SSE41", "SSE4.1", frozenset({"sse4_1"})),
    ("AVX", "AVX", frozenset({"avx"})),
    ("AVX2", "AVX2", frozenset({"avx2"})),
    ("AVX512_CORE", "AVX-512", frozenset({"avx512f", "avx512bw", "avx512vl", "avx512dq"})),
)


def _cpuinfo(field: str) -> str | None:
    """The value of the first ``field`` line of ``/proc/cpuinfo``; None where there is none."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(field):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU's model name (from ``/proc/cpuinfo`` where there is one), e.g. "AMD EPYC"."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (``/proc/cpuinfo``); empty where the system does not list them."""
    return frozenset((_cpuinfo("flags") or "").split())


def onednn_isa(flags: frozenset[str] | None = None, cap: str | None = None) -> str | None:
    """The printed name of the widest level of :data:`ISA_LEVELS` that the CPU has (``flags``,
    default :func:`cpu_flags`) and ``cap`` allows (default ``DNNL_MAX_CPU_ISA``; oneDNN's names,
    in capitals; ``ALL`` or unset: no cap). None where the flags are unknown (not Linux).

    A cap above AVX512_CORE (``AVX512_CORE_AMX`` …) leaves AVX-512; a cap oneDNN does not know,
    or one in small letters (oneDNN reads only capitals), raises ValueError naming the values it
    takes, since oneDNN would ignore it without a word."""
    flags = cpu_flags() if flags is None else flags
    cap = config.dnnl_max_cpu_isa() if cap is None else cap
    names = [name for name, _, _ in ISA_LEVELS]
    if cap in ("", "ALL") or cap.startswith("AVX512_CORE"):
        allowed = len(ISA_LEVELS)
    elif cap in names:
        allowed = names.index(cap) + 1
    elif cap.startswith("AVX2"):  # AVX2_VNNI: int8 only
        allowed = names.index("AVX2") + 1
    else:
        hint = (f"oneDNN reads only capitals: {cap.upper()}" if cap.upper() != cap else
                f"use one of {', '.join(names)} or ALL")
        raise ValueError(f"{config.DNNL_MAX_CPU_ISA_ENV}={cap} is not an instruction set oneDNN "
                         f"knows ({hint}; e.g. AVX2 to measure what a CPU without AVX-512 gets)")
    if not flags:
        return None
    best = None
    for _, printed, needs in ISA_LEVELS[:allowed]:
        if needs <= flags:
            best = printed
    return best


def describe_cpu() -> str:
    """The CPU and its oneDNN instruction set, e.g. "AMD EPYC, AVX-512" or "AMD EPYC, AVX2
    (DNNL_MAX_CPU_ISA=AVX2)" when the variable caps it below what the CPU has."""
    flags = cpu_flags()
    isa = onednn_isa(flags)
    text = cpu_model() + (f", {isa}" if isa else "")
    cap = config.dnnl_max_cpu_isa()
    if cap and isa != onednn_isa(flags, cap="ALL"):
        text += f" ({config.DNNL_MAX_CPU_ISA_ENV}={cap})"
    return text


def isa_named_in(description: str) -> str | None:
    """The instruction set a :func:`describe_cpu` text names ("AMD EPYC, AVX2 (…)" → "AVX2"),
    or None (an empty text: a GPU run, or one saved before the CPU was recorded)."""
    for _, printed, _ in reversed(ISA_LEVELS):
        if f", {printed}" in description:
            return printed
    return None
