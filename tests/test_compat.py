"""d2lcnn.machine.compat: what MXNet 1.9.1 needs from NumPy and Python, on 3.11 and 3.12.

The aliases are added only where NumPy lacks them, without warnings; a missing ``distutils`` and an
unsupported Python are named with what to do. Where the other supported Python is installed here,
the module is checked under it too (in a subprocess).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy
import pytest

from d2lcnn.machine import compat

REPO = Path(__file__).resolve().parents[1]
COMPAT_FILE = REPO / "d2lcnn" / "machine" / "compat.py"


def _fake_numpy(**present) -> types.ModuleType:
    module = types.ModuleType("fake_numpy")
    for name, value in present.items():
        setattr(module, name, value)
    return module


# --- the aliases --------------------------------------------------------------------------------


def test_every_missing_alias_is_added_as_the_builtin_it_was():
    fake = _fake_numpy()
    added = compat.restore_numpy_aliases(fake)
    assert added == list(compat.NUMPY_ALIASES)
    assert fake.bool is bool and fake.object is object and fake.int is int
    assert fake.float is float and fake.complex is complex and fake.str is str


def test_aliases_numpy_has_are_left_alone():
    mine = object()
    fake = _fake_numpy(bool=mine, str=mine)
    added = compat.restore_numpy_aliases(fake)
    assert "bool" not in added and "str" not in added
    assert fake.bool is mine and fake.str is mine
    assert set(added) == set(compat.NUMPY_ALIASES) - {"bool", "str"}


def test_aliases_numpy_still_serves_with_a_deprecation_are_left_alone():
    """NumPy 1.20-1.23 serve np.bool & co. from __deprecated_attrs__ through __getattr__."""
    fake = _fake_numpy(__deprecated_attrs__={name: (value, "deprecated")
                                             for name, value in compat.NUMPY_ALIASES.items()})
    assert compat.restore_numpy_aliases(fake) == []
    assert "bool" not in vars(fake)


def test_a_second_call_adds_nothing():
    fake = _fake_numpy()
    compat.restore_numpy_aliases(fake)
    assert compat.restore_numpy_aliases(fake) == []


def test_real_numpy_serves_every_alias_without_a_future_warning():
    """After ``import d2lcnn`` (conftest), each alias MXNet reads works; looking for missing
    ones again raises no warning (NumPy >= 1.24 answers hasattr(np, "bool") with a
    FutureWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compat.restore_numpy_aliases(numpy) == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # NumPy 1.23's own, for its aliases
        for name, value in compat.NUMPY_ALIASES.items():
            assert getattr(numpy, name) is value


def test_importing_d2lcnn_then_mxnet_shows_no_future_warning():
    """A fresh interpreter, as a notebook's kernel: no FutureWarning from NumPy's removed names."""
    code = "import d2lcnn, mxnet; from mxnet import np, npx; npx.set_np(); print(np.ones(2).sum())"
    done = subprocess.run([sys.executable, "-W", "error::FutureWarning", "-c", code], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "FutureWarning" not in done.stderr
    assert done.stdout.strip() == "2.0"


# --- distutils and the Python version -----------------------------------------------------------


def test_distutils_is_found_here():
    assert compat.check_distutils() == ""


def test_missing_distutils_says_to_install_setuptools(monkeypatch):
    monkeypatch.setattr(compat.importlib.util, "find_spec",
                        lambda name, *a: None if name == "distutils" else object())
    message = compat.check_distutils()
    assert "distutils" in message and "pip install setuptools" in message


@pytest.mark.parametrize("version", [(3, 11), (3, 12)])
def test_supported_pythons_get_no_message(version):
    assert compat.python_support(version) == ""


def test_this_python_is_supported():
    assert compat.python_support() == ""


def test_python_3_13_is_told_why_not_and_what_to_use():
    message = compat.python_support((3, 13))
    assert message.startswith("Python 3.13 cannot run MXNet 1.9.1")
    assert "NumPy 1.26" in message and "NumPy 2" in message
    assert "Python 3.11 and 3.12" in message


def test_python_3_10_is_told_what_to_use():
    message = compat.python_support((3, 10))
    assert message.startswith("Python 3.10 is older than this series supports")
    assert "Python 3.11 and 3.12" in message


# --- under the other supported Python -----------------------------------------------------------


def _runs_as(python: str, minor: int) -> bool:
    try:
        done = subprocess.run([python, "-c", "import sys; print(sys.version_info[1])"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == str(minor)


def _other_pythons() -> list[str]:
    """Interpreters of the other supported version found here: a project environment first
    (.venv-3.12 or .venv, as the Makefile and CI make them), then the usual places."""
    (major, minor), = [v for v in compat.SUPPORTED_PYTHONS if v != sys.version_info[:2]][:1]
    name = f"python{major}.{minor}"
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [str(REPO / f".venv-{major}.{minor}" / "bin" / "python"),
                  str(REPO / ".venv" / "bin" / "python"), shutil.which(name) or "",
                  *sorted(glob.glob(str(pyenv / "versions" / f"{major}.{minor}.*" / "bin" / name))),
                  f"/usr/bin/{name}", f"/usr/local/bin/{name}"]
    return [c for c in dict.fromkeys(candidates) if c and Path(c).exists() and _runs_as(c, minor)]


OTHER_PYTHONS = _other_pythons()


@pytest.mark.skipif(not OTHER_PYTHONS, reason="the other supported Python is not installed here")
def test_compat_under_the_other_python():
    """compat.py on its own (no NumPy needed): the version is supported, the aliases go onto a
    module that lacks them, and distutils is either there or asked for with setuptools."""
    code = (
        "import importlib.util, sys, types\n"
        f"spec = importlib.util.spec_from_file_location('compat', {str(COMPAT_FILE)!r})\n"
        "compat = importlib.util.module_from_spec(spec); spec.loader.exec_module(compat)\n"
        "fake = types.ModuleType('fake_numpy')\n"
        "assert compat.restore_numpy_aliases(fake) == list(compat.NUMPY_ALIASES)\n"
        "assert fake.bool is bool\n"
        "assert compat.python_support() == '', compat.python_support()\n"
        "problem = compat.check_distutils()\n"
        "import importlib.util as u\n"
        "assert (problem == '') == (u.find_spec('distutils') is not None)\n"
        "assert problem == '' or 'setuptools' in problem\n"
        "print(sys.version_info[:2])\n")
    for python in OTHER_PYTHONS:
        done = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, f"{python}: {done.stderr[-3000:]}"


def _with_mxnet(python: str) -> bool:
    done = subprocess.run([python, "-c", "import importlib.util as u; "
                                         "print(bool(u.find_spec('mxnet') and u.find_spec('d2lcnn')))"],
                          capture_output=True, text=True, timeout=60)
    return done.stdout.strip() == "True"


@pytest.mark.skipif(not OTHER_PYTHONS, reason="the other supported Python is not installed here")
def test_mxnet_trains_under_the_other_python_where_it_is_installed():
    """In the other version's environment (if this machine has one with d2lcnn and MXNet): a
    hybridized convolution's gradient step runs and ``asnumpy`` works."""
    pythons = [p for p in OTHER_PYTHONS if _with_mxnet(p)]
    if not pythons:
        pytest.skip("no environment of the other Python has d2lcnn and MXNet")
    code = (
        "from d2lcnn import machine\n"
        "machine.prepare()\n"
        "from mxnet import autograd, gluon, np, npx\n"
        "npx.set_np()\n"
        "net = gluon.nn.HybridSequential()\n"
        "net.add(gluon.nn.Conv2D(2, 3, activation='sigmoid'), gluon.nn.Dense(3))\n"
        "net.initialize(); net.hybridize()\n"
        "trainer = gluon.Trainer(net.collect_params(), 'sgd', {'learning_rate': 0.1})\n"
        "X, y = np.ones((4, 1, 8, 8)), np.array([0, 1, 2, 0])\n"
        "with autograd.record():\n"
        "    loss = gluon.loss.SoftmaxCrossEntropyLoss()(net(X), y)\n"
        "loss.backward(); trainer.step(4)\n"
        "import sys; print(sys.version_info[:2], net(X).asnumpy().shape)\n")
    done = subprocess.run([pythons[0], "-W", "error::FutureWarning", "-c", code], cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"{pythons[0]}: {done.stderr[-3000:]}"
    assert done.stdout.strip().endswith("(4, 3)")
