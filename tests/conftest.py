"""Shared fixtures: the real data sets (never a download) and a clean quick-mode setting."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

from d2lcnn import machine

# Before any test module imports MXNet, as each chapter's first cell does: NumPy's aliases, the
# CUDA libraries of a GPU install, and MXNet's CPU threads.
machine.prepare()
matplotlib.use("Agg")  # tests draw figures headless

REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path | None:
    for candidate in (os.environ.get("D2LCNN_DATA_DIR"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "fashion-mnist").is_dir():
            return Path(candidate)
    return None


# Set at import, before any fixture of any scope loads data (module-scoped ones included).
if _data_dir() is not None:
    os.environ["D2LCNN_DATA_DIR"] = str(_data_dir())


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Folder holding fashion-mnist/ and mnist/ with the original IDX files."""
    found = _data_dir()
    if found is None:
        pytest.fail(
            "the real data sets are needed: set D2LCNN_DATA_DIR to a folder holding "
            "fashion-mnist/ and mnist/ with the four IDX files each (see README)"
        )
    return found


@pytest.fixture(autouse=True)
def _real_data_full_mode(monkeypatch):
    """Tests read the real files through D2LCNN_DATA_DIR, in full mode unless they ask."""
    found = _data_dir()
    if found is not None:
        monkeypatch.setenv("D2LCNN_DATA_DIR", str(found))
    monkeypatch.delenv("D2LCNN_QUICK", raising=False)
