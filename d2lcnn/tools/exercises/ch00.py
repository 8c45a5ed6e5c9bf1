"""Self-checks of chapter 00 (getting started: the data set and its two sizes)."""

from . import Part, Question

NOTEBOOK = "00_getting_started"

BATCH_SIZE = 256
ENLARGED_SIDE = 96  # the book's input size for GoogLeNet, ResNet and DenseNet


def _train_images():
    from d2lcnn.tools import data

    return data.load_arrays("fashion-mnist", "train")[0]


def _batches() -> int:
    from d2lcnn.tools import data

    # One pass over the whole training set: the answer does not depend on quick mode.
    return len(data.load_fashion_mnist(BATCH_SIZE, quick=False)[0])


def _last_batch() -> int:
    return len(_train_images()) - (_batches() - 1) * BATCH_SIZE


def _megabytes_stored() -> float:
    return _train_images().nbytes / 1e6


def _megabytes_float32() -> float:
    import numpy as onp

    return _train_images().size * onp.dtype("float32").itemsize / 1e6


def _pixel_ratio() -> float:
    from d2lcnn.tools import data

    images, labels = data.load_arrays("fashion-mnist", "test")
    loader = data.ArrayLoader(images[:1], labels[:1], batch_size=1, resize=ENLARGED_SIDE)
    enlarged, _ = next(iter(loader))
    return enlarged.shape[-2] * enlarged.shape[-1] / (images.shape[-2] * images.shape[-1])


QUESTIONS = (
    Question(1, parts=(
        Part("batches", _batches, "the number of batches of 256 in one pass",
             slips=((lambda: len(_train_images()) // BATCH_SIZE,
                     "the last, smaller batch counts too: round up, not down"),)),
        Part("last", _last_batch, "the size of the last batch",
             slips=((lambda: BATCH_SIZE, "60,000 is not a multiple of 256: the last batch "
                                         "holds what is left over"),)),
    ), hint_text="60,000 / 256 is not a whole number: the loader keeps the remainder as one "
                 "smaller last batch, so the count rounds up."),
    Question(2, parts=(
        Part("stored", _megabytes_stored, "the megabytes of the 60,000 images as bytes",
             slips=((lambda: _megabytes_stored() * 1e6 / 2**20,
                     "that is in MiB (2²⁰ bytes); a megabyte is 10⁶ bytes"),)),
        Part("float32", _megabytes_float32, "the megabytes as float32",
             slips=((lambda: _megabytes_float32() * 1e6 / 2**20,
                     "that is in MiB (2²⁰ bytes); a megabyte is 10⁶ bytes"),)),
    ), hint_text="60,000 · 784 values; one byte each as stored, four bytes each as float32. "
                 "A megabyte is 10⁶ bytes."),
    Question(3, parts=(
        Part("ratio", _pixel_ratio, "how many times as many pixels a 96×96 image has as a "
                                    "28×28 one",
             slips=((lambda: ENLARGED_SIDE / 28, "that is the ratio of the sides: the number of "
                                                 "pixels grows with the area, the square"),)),
    ), hint_text="Count the pixels: height times width, before and after."),
)
