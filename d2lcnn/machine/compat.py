"""What MXNet 1.9.1 needs from the Python around it, restored before MXNet is imported.

MXNet 1.9.1 (2022) is the last release of Apache MXNet. Two things it relies on are gone from the
Python of today:

- NumPy's aliases of the builtin types, ``np.bool``, ``np.object``, ``np.int``, ``np.float``,
  ``np.complex`` and ``np.str``, removed in NumPy 1.24. MXNet reads ``onp.bool`` when it is
  imported (``mxnet/numpy/utils.py``), so on NumPy 1.24 or newer ``import mxnet`` fails. Python 3.12
  needs NumPy 1.26 (the first with wheels for it); Python 3.11 can keep NumPy 1.23.5, which still
  has them. :func:`restore_numpy_aliases` puts back the missing ones, as the builtins they were.
- ``distutils``, removed from the standard library in Python 3.12: MXNet imports
  ``distutils.version``. ``setuptools`` provides a replacement (a dependency of d2lcnn on 3.12);
  :func:`check_distutils` says so clearly when it is missing.

``import d2lcnn`` calls :func:`restore_numpy_aliases` (the only thing the import does), so any
d2lcnn module can import MXNet. Python 3.13 is out of reach: NumPy 1.26 has no wheels for it, and
NumPy 2 removed more of what MXNet imports (``np.PZERO``, ``np.alltrue``, …); see
:func:`python_support`. This module must not import MXNet.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["NUMPY_ALIASES", "SUPPORTED_PYTHONS", "check_distutils", "python_support",
           "restore_numpy_aliases"]

#: The aliases MXNet 1.9.1 reads, and what they were (NumPy < 1.24: the builtins themselves).
NUMPY_ALIASES = {"bool": bool, "object": object, "int": int, "float": float, "complex": complex,
                 "str": str}
#: Python versions the series is tested on.
SUPPORTED_PYTHONS = ((3, 11), (3, 12))


def restore_numpy_aliases(numpy_module=None) -> list[str]:
    """Give NumPy back the aliases MXNet reads, where they are missing; return the names added.

    Looks at the module's own dictionary, not ``hasattr``: NumPy 1.24+ answers ``np.bool`` with a
    FutureWarning before raising AttributeError. NumPy 1.20-1.23 still serve the aliases, with a
    DeprecationWarning, from ``__deprecated_attrs__``: there (1.23.5 on Python 3.11) nothing is
    added, and MXNet gets them from NumPy as before.
    """
    if numpy_module is None:
        import numpy as numpy_module
    served = vars(numpy_module).keys() | getattr(numpy_module, "__deprecated_attrs__", {}).keys()
    added = []
    for name, value in NUMPY_ALIASES.items():
        if name not in served:
            setattr(numpy_module, name, value)
            added.append(name)
    return added


def check_distutils() -> str:
    """'' when ``import distutils`` works (as MXNet needs), else what to do about it."""
    if importlib.util.find_spec("distutils") is not None:
        return ""
    return ("MXNet imports distutils, which Python 3.12 no longer has: install setuptools, which "
            "provides it (pip install setuptools), in the environment that runs MXNet")


def python_support(version: tuple[int, int] | None = None) -> str:
    """'' for a supported Python, else one line on what happens with this one and what to do."""
    major_minor = tuple(version or sys.version_info[:2])
    if major_minor in SUPPORTED_PYTHONS:
        return ""
    names = " and ".join(f"{a}.{b}" for a, b in SUPPORTED_PYTHONS)
    if major_minor > SUPPORTED_PYTHONS[-1]:
        return (f"Python {major_minor[0]}.{major_minor[1]} cannot run MXNet 1.9.1: NumPy 1.26, the "
                "last NumPy it works with, has no wheels for it, and NumPy 2 removed names MXNet "
                f"imports. Use Python {names} (README, section Python).")
    return (f"Python {major_minor[0]}.{major_minor[1]} is older than this series supports: use "
            f"Python {names} (README, section Python).")
