"""Small conversions every tool needs: a (height, width) pair from an int, a whole number ≥ 1
checked, a NumPy copy of an MXNet array."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as onp

__all__ = ["as_pair", "check_positive_int", "to_numpy"]


def as_pair(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """``value`` as a (height, width) pair of ints ≥ ``minimum``: an int means the same for both.

    ``name`` is what the error message calls the value. NumPy integers count as ints; booleans do
    not (``True`` is not a size).
    """
    if _is_int(value):
        pair: tuple = (int(value), int(value))
    elif isinstance(value, Sequence) and not isinstance(value, str):
        pair = tuple(int(v) if _is_int(v) else v for v in value)
    else:
        pair = ()
    if len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints (height, width), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return pair


def check_positive_int(value, name: str, example: int | None = None) -> int:
    """``value`` as an int ≥ 1. Python and NumPy integers pass; booleans (``True`` is not a
    count), floats and strings raise TypeError, numbers below 1 ValueError, each naming ``name``
    and, with ``example``, a value that would do."""
    fix = f": pass e.g. {name}={example}" if example is not None else ": pass a whole number ≥ 1"
    if not _is_int(value):
        raise TypeError(f"{name} must be a whole number ≥ 1, got {value!r} "
                        f"({type(value).__name__}){fix}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}{fix}")
    return int(value)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | onp.bool_)


def to_numpy(x) -> onp.ndarray:
    """A NumPy array of an MXNet array (``mxnet.np`` or legacy ``nd``); NumPy arrays, lists and
    numbers pass through ``numpy.asarray``."""
    return x.asnumpy() if hasattr(x, "asnumpy") else onp.asarray(x)
