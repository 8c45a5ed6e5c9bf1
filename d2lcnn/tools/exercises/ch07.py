"""Self-checks of chapter 07 (layers from scratch in NumPy)."""

from . import Part, Question

NOTEBOOK = "07_layers_from_scratch_numpy"

_BATCH, _CHANNELS, _SIDE, _KERNEL, _STRIDE = 128, 3, 224, 11, 4
_MIB = 2 ** 20


def _im2col_bytes(stride: int = _STRIDE) -> int:
    """float32 bytes of im2col for the batch: the shape of one image's matrix, times the batch."""
    import numpy as onp

    from d2lcnn.lessons import im2col

    rows, columns = im2col(onp.zeros((1, _CHANNELS, _SIDE, _SIDE), dtype=onp.float32),
                           _KERNEL, stride).shape
    return _BATCH * rows * columns * 4


def _input_bytes() -> int:
    return _BATCH * _CHANNELS * _SIDE * _SIDE * 4


QUESTIONS = (
    Question(3, parts=(
        Part("im2col_mib", lambda: _im2col_bytes() / _MIB,
             "the memory of im2col's matrix for the batch, in MiB (float32)",
             slips=((lambda: _im2col_bytes() / 1e6, "that is in MB (10⁶ bytes); a MiB is "
                                                    "2²⁰ = 1,048,576 bytes"),
                    (lambda: _BATCH * 55 * 55 * _CHANNELS * _KERNEL ** 2 * 4 / _MIB,
                     "the output side is ⌊(224 − 11)/4⌋ + 1 = 54, not 55"))),
        Part("input_mib", lambda: _input_bytes() / _MIB, "the memory of the input batch, in MiB"),
        Part("ratio", lambda: _im2col_bytes() / _input_bytes(),
             "im2col's memory divided by the input's"),
    ), hint_text="im2col has N·OH·OW rows of C·KH·KW values; OH = OW = ⌊(224 − 11)/4⌋ + 1. "
                 "Each pixel is copied into about (11/4)² windows."),
)
