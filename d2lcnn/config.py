"""Every setting d2lcnn takes from the environment, read here and nowhere else; and seeds.

==========================  =====================================================================
variable                    meaning
==========================  =====================================================================
``D2LCNN_QUICK``            1: quick mode, a smoke test of the same code (one epoch on a fixed
                            small real subset); 0 or unset: full runs (:func:`quick_mode`)
``D2LCNN_DATA_DIR``         a folder holding the data sets' files (:func:`data_dir`)
``D2LCNN_RESULTS_DIR``      where training runs save their results (:func:`results_dir`)
``D2LCNN_FORM``             ``book`` or ``native``: the form of the networks of chapters 09-15
                            to train, whatever the device (:func:`form_override`)
``D2LCNN_NO_CUDA_PRELOAD``  1: do not load the CUDA libraries of pip's wheels
                            (:func:`cuda_preload_enabled`)
``MXNET_HOME``              MXNet's cache, where downloaded data sets go (:func:`mxnet_home`)
``OMP_NUM_THREADS`` …       the CPU threads of MXNet's operators (:func:`thread_settings`; set
                            by :mod:`d2lcnn.machine.cpu_threads`, which owns them)
``DMLC_ROLE``               this process's part in a distributed job, set by the launcher
                            (:func:`distributed_role`)
``DNNL_MAX_CPU_ISA``        read by MXNet's oneDNN: the widest CPU instruction set it may use
                            (e.g. ``AVX2``); read here only to report it (:func:`dnnl_max_cpu_isa`,
                            :mod:`d2lcnn.machine.cpu_isa`)
==========================  =====================================================================

Functions here only read; nothing is read at import time, so a notebook sees a variable changed
with ``%env`` in an earlier cell.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as onp

QUICK_ENV = "D2LCNN_QUICK"
DATA_DIR_ENV = "D2LCNN_DATA_DIR"
RESULTS_DIR_ENV = "D2LCNN_RESULTS_DIR"
FORM_ENV = "D2LCNN_FORM"
NO_CUDA_PRELOAD_ENV = "D2LCNN_NO_CUDA_PRELOAD"
MXNET_HOME_ENV = "MXNET_HOME"
DMLC_ROLE_ENV = "DMLC_ROLE"
DNNL_MAX_CPU_ISA_ENV = "DNNL_MAX_CPU_ISA"
#: OpenMP's and MXNet's thread settings, and the mark d2lcnn leaves beside the one it sets.
THREAD_ENVS = ("OMP_NUM_THREADS", "MXNET_OMP_MAX_THREADS", "D2LCNN_SET_OMP_NUM_THREADS",
               "MXNET_CPU_PARALLEL_SIZE")

#: Training and test examples kept in quick mode (a fixed random subset of the real data).
QUICK_TRAIN_EXAMPLES = 1000
QUICK_TEST_EXAMPLES = 500
#: Epochs run in quick mode, whatever the notebook asks for.
QUICK_EPOCHS = 1
#: The forms a network of chapters 09-15 can be trained in.
FORMS = ("book", "native")
#: Where the committed results of the full runs live, relative to ``notebooks/``.
REFERENCE_RESULTS = Path("results") / "reference"
#: Where a reader's own runs go by default, relative to ``notebooks/`` (not committed).
OWN_RESULTS = Path("results") / "mine"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _flag(name: str) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={os.environ[name]!r} is not understood: set it to 1 (on) or 0 (off), "
                     "or leave it unset.")


def quick_mode() -> bool:
    """True when ``D2LCNN_QUICK`` asks for quick mode.

    Accepts 1/true/yes/on and 0/false/no/off (any case); anything else is an error rather than a
    guess, since a typo would silently change how long training runs and what it reports.
    """
    return _flag(QUICK_ENV)


def describe_quick_mode(quick: bool) -> str:
    """One line saying what ``quick`` means, for a training report."""
    if quick:
        return (f"quick mode ({QUICK_ENV}=1): {QUICK_EPOCHS} epoch on {QUICK_TRAIN_EXAMPLES:,} "
                f"training and {QUICK_TEST_EXAMPLES:,} test examples, a fixed real subset")
    return "full data"


def data_dir() -> Path | None:
    """The folder ``D2LCNN_DATA_DIR`` names, or None."""
    value = os.environ.get(DATA_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else None


def mxnet_home() -> Path:
    """MXNet's cache folder: ``$MXNET_HOME`` or ``~/.mxnet``."""
    value = os.environ.get(MXNET_HOME_ENV, "").strip()
    return Path(value or "~/.mxnet").expanduser()


def results_dir() -> Path:
    """Where a training run saves its result: ``$D2LCNN_RESULTS_DIR`` when set, else
    ``results/mine`` relative to the working folder (a notebook runs in ``notebooks/``).

    The committed results of the full runs are in ``results/reference`` (see
    :func:`reference_results_dir`); a reader's runs never overwrite them.
    """
    value = os.environ.get(RESULTS_DIR_ENV, "").strip()
    return Path(value).expanduser() if value else OWN_RESULTS


def results_dir_is_set() -> bool:
    """True when ``D2LCNN_RESULTS_DIR`` names the results folder (rather than the default)."""
    return bool(os.environ.get(RESULTS_DIR_ENV, "").strip())


def reference_results_dir() -> Path:
    """The committed results of the full runs, ``results/reference`` beside the notebooks."""
    return REFERENCE_RESULTS


def form_override() -> str | None:
    """The form ``D2LCNN_FORM`` asks for ("book" or "native"), or None to let the device decide."""
    value = os.environ.get(FORM_ENV, "").strip().lower()
    if not value:
        return None
    if value not in FORMS:
        raise ValueError(f"{FORM_ENV}={os.environ[FORM_ENV]!r} is not a form: set it to "
                         f"{' or '.join(FORMS)}, or leave it unset to let the device choose.")
    return value


def cuda_preload_enabled() -> bool:
    """False when ``D2LCNN_NO_CUDA_PRELOAD`` turns off loading the CUDA wheels' libraries."""
    return not _flag(NO_CUDA_PRELOAD_ENV)


def thread_settings() -> dict[str, str]:
    """The thread settings present in the environment (see :mod:`d2lcnn.machine.cpu_threads`)."""
    return {name: os.environ[name] for name in THREAD_ENVS if name in os.environ}


def distributed_role() -> str | None:
    """"worker", "server" or "scheduler" in a job started by :mod:`d2lcnn.machine.distributed`
    (``DMLC_ROLE``, which MXNet reads too), else None."""
    return os.environ.get(DMLC_ROLE_ENV, "").strip() or None


def dnnl_max_cpu_isa() -> str:
    """``DNNL_MAX_CPU_ISA`` as set ("" when unset): the cap on oneDNN's instruction set."""
    return os.environ.get(DNNL_MAX_CPU_ISA_ENV, "").strip()


def set_seed(seed: int = 0) -> None:
    """Seed Python's, NumPy's and MXNet's random number generators (initialisation, shuffling,
    dropout, augmentation)."""
    import mxnet as mx

    random.seed(seed)
    onp.random.seed(seed)
    mx.random.seed(seed)
