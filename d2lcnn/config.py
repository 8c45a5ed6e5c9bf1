"""Run settings shared by every notebook: quick mode, where results go, and random seeds.

Quick mode (``D2LCNN_QUICK=1``) lets the *same* notebook code finish in seconds: the loaders keep a
small, fixed, real subset of the data and :func:`d2lcnn.train.train` runs one epoch. Both say so in
their output, so a quick result is never mistaken for a full one. Without the variable the notebooks
use the book's full hyperparameters.

The training chapters save their histories under :func:`results_dir` (``results/`` beside the
notebooks, or the folder ``D2LCNN_RESULTS_DIR`` names), where chapter 16 reads them.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as onp

QUICK_ENV = "D2LCNN_QUICK"
#: Training and test examples kept in quick mode (a fixed random subset of the real data).
QUICK_TRAIN_EXAMPLES = 1000
QUICK_TEST_EXAMPLES = 500
#: Epochs run in quick mode, whatever the notebook asks for.
QUICK_EPOCHS = 1
#: Environment variable naming the folder for training histories (see :func:`results_dir`).
RESULTS_ENV = "D2LCNN_RESULTS_DIR"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def quick_mode() -> bool:
    """Return True when ``D2LCNN_QUICK`` asks for quick mode.

    Accepts 1/true/yes/on and 0/false/no/off (any case); anything else is an error rather than a
    guess, since a typo would silently change how long training runs and what it reports.
    """
    value = os.environ.get(QUICK_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{QUICK_ENV}={os.environ[QUICK_ENV]!r} is not understood: "
        f"set it to 1 for quick mode or 0 (or leave it unset) for full runs."
    )


def epochs(num_epochs: int) -> int:
    """Epochs to run: ``num_epochs`` normally, :data:`QUICK_EPOCHS` in quick mode."""
    return min(num_epochs, QUICK_EPOCHS) if quick_mode() else num_epochs


def describe() -> str:
    """One line saying which mode is active, for the top of a notebook."""
    if quick_mode():
        return (
            f"quick mode ({QUICK_ENV}=1): {QUICK_EPOCHS} epoch on {QUICK_TRAIN_EXAMPLES:,} training "
            f"and {QUICK_TEST_EXAMPLES:,} test examples (a fixed real subset)"
        )
    return f"full mode: the book's hyperparameters on the whole data set (set {QUICK_ENV}=1 for a quick run)"


def results_dir() -> Path:
    """The folder where the chapters save their training histories and chapter 16 reads them.

    ``$D2LCNN_RESULTS_DIR`` when it is set (and not empty), else ``results``, relative to the
    working directory: a notebook runs in ``notebooks/``, so that is ``notebooks/results``, where
    the committed results of full runs live. Test runs (``make test``, ``make nbval``) execute every
    notebook in quick mode; they set the variable to a temporary folder so that their quick
    histories do not overwrite the committed ones.
    """
    value = os.environ.get(RESULTS_ENV, "").strip()
    return Path(value) if value else Path("results")


def set_seed(seed: int = 0) -> None:
    """Seed Python's, NumPy's and MXNet's random number generators (initialisation, shuffling)."""
    import mxnet as mx

    random.seed(seed)
    onp.random.seed(seed)
    mx.random.seed(seed)
