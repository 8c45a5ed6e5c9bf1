"""Machine plumbing: what MXNet needs from this machine, and which devices it can train on.

- :mod:`~d2lcnn.machine.compat` — NumPy's removed aliases and ``distutils``, which MXNet 1.9.1 reads;
- :mod:`~d2lcnn.machine.cuda_libs` — the CUDA libraries of the GPU install, loaded before MXNet;
- :mod:`~d2lcnn.machine.cpu_threads` — every physical CPU core for MXNet's operators;
- :mod:`~d2lcnn.machine.cpu_isa` — the CPU and the vector instructions (AVX2, AVX-512) its kernels use;
- :mod:`~d2lcnn.machine.devices` — a GPU only when it really works, otherwise the CPU;
- :mod:`~d2lcnn.machine.doctor` — ``python -m d2lcnn.machine.doctor``: what works here and why not;
- :mod:`~d2lcnn.machine.distributed` — training on several machines with MXNet's parameter server.

Every chapter's first cell calls :func:`prepare`, before anything imports MXNet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Preparation", "prepare"]


@dataclass
class Preparation:
    """What :func:`prepare` did: NumPy aliases restored, CUDA libraries loaded, CPU threads set,
    and lines worth reading (``notes``, e.g. MXNet imported too early). ``print`` it for the
    whole report; a notebook cell ending with ``prepare()`` shows only the notes, if any."""

    numpy_aliases: list[str] = field(default_factory=list)
    cuda_libraries: int = 0
    threads: str = ""
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"MXNet's CPU operators: {self.threads}"]
        if self.cuda_libraries:
            lines.append(f"CUDA libraries of the GPU install: {self.cuda_libraries} loaded")
        lines += self.notes
        return "\n".join(lines)

    def _ipython_display_(self) -> None:
        for note in self.notes:
            print(note)


_done: Preparation | None = None


def prepare() -> Preparation:
    """Get this process ready for MXNet; call it before anything imports MXNet (idempotent).

    1. restores the NumPy aliases MXNet 1.9.1 reads, and checks that ``distutils`` can be imported
       (:mod:`~d2lcnn.machine.compat`);
    2. loads the CUDA libraries of pip's ``nvidia-*-cu11`` wheels, where the GPU install has them
       (:mod:`~d2lcnn.machine.cuda_libs`);
    3. lets MXNet's operators use every physical CPU core (:mod:`~d2lcnn.machine.cpu_threads`).

    Raises RuntimeError, saying what to do, when this Python cannot run MXNet, and ValueError for
    a thread setting MXNet would abort on. Returns what was done (printed as a short report).
    """
    global _done
    if _done is not None:
        return _done
    from . import compat, cpu_threads, cuda_libs

    problem = compat.python_support() or compat.check_distutils()
    if problem:
        raise RuntimeError(problem)
    report = Preparation(numpy_aliases=compat.restore_numpy_aliases())
    preload = cuda_libs.preload()
    report.cuda_libraries = len(preload.loaded)
    report.notes += preload.warnings
    threads = cpu_threads.apply()
    if threads.error:
        raise ValueError(threads.error)
    report.threads = f"{threads.threads or '?'} threads ({threads.source})"
    if threads.warning:
        report.notes.append(threads.warning)
    _done = report
    return report


def prepared() -> bool:
    """Whether :func:`prepare` has run in this process."""
    return _done is not None
