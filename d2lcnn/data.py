"""Fashion-MNIST and MNIST from the original IDX files, served as fast in-memory batches.

Why not ``gluon.data.vision.FashionMNIST``? Gluon's classes compare the files with the sha1s of
their own mirror's archives (not the published originals) and download again when they differ, and
they transform every image one at a time in Python. Here the IDX files are parsed once into NumPy
arrays (checked: magic number, dimensions, sizes) and each batch is sliced, scaled and resized as a
whole on the training device.

Where the files are looked for, in order (the first folder holding all four files wins):

1. the ``root`` argument (the folder with the files, or its parent with a ``<name>/`` subfolder);
2. ``$D2LCNN_DATA_DIR/<name>/`` (also ``$D2LCNN_DATA_DIR`` itself);
3. the MXNet cache ``$MXNET_HOME/datasets/<name>/`` (default ``~/.mxnet/datasets/<name>/``);
4. the system folder of a distribution package, e.g. Debian/Ubuntu's ``dataset-fashion-mnist``
   (``/usr/share/datasets/fashion-mnist/``);
5. otherwise the files are downloaded into the MXNet cache from the official mirrors, checked
   against the published md5 checksums and written atomically (temporary file, then rename).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import sys
import tempfile
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as onp

from . import config

DATA_DIR_ENV = "D2LCNN_DATA_DIR"
#: Bytes of float32 images an :class:`ArrayLoader` transforms in one go (see ``batches_per_chunk``):
#: big enough that the host does little per batch, small enough to stay in the allocator's reuse.
CHUNK_BYTES = 4 * 2**20

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049


@dataclass(frozen=True)
class DatasetSpec:
    """Where a 28×28 IDX data set comes from and what its files must look like."""

    name: str
    title: str
    #: file name -> published md5 of the original gzip archive (checked on download).
    md5: dict[str, str]
    mirrors: tuple[str, ...]
    classes: tuple[str, ...]
    num_train: int = 60000
    num_test: int = 10000
    #: folders that distribution packages install the files into.
    system_dirs: tuple[str, ...] = ()
    install_hint: str = ""
    files: dict[str, tuple[str, str]] = field(
        default_factory=lambda: {
            "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
        }
    )

    @property
    def file_names(self) -> list[str]:
        return [name for pair in self.files.values() for name in pair]


DATASETS: dict[str, DatasetSpec] = {
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        md5={
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
        ),
        classes=(
            "t-shirt", "trouser", "pullover", "dress", "coat",
            "sandal", "shirt", "sneaker", "bag", "ankle boot",
        ),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        install_hint="on Debian/Ubuntu: sudo apt install dataset-fashion-mnist",
    ),
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        md5={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        classes=tuple(str(d) for d in range(10)),
        system_dirs=("/usr/share/datasets/mnist",),
    ),
}


class IDXFormatError(ValueError):
    """An IDX file is corrupt, truncated or not the file it should be."""


class DataNotFoundError(FileNotFoundError):
    """The data set's files are nowhere to be found and could not be downloaded."""


# ---------------------------------------------------------------------------------------------
# IDX files


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> onp.ndarray:
    """Parse an IDX file (optionally gzip-compressed) into a uint8 array.

    The header is a big-endian magic number (2051 for images, 2049 for labels: 0x08 = unsigned
    byte, then the number of dimensions) followed by one 32-bit size per dimension. Returns an array
    of shape (count, rows, cols) for images, (count,) for labels. Raises :class:`IDXFormatError`,
    naming the file, for a wrong magic number, a truncated body or trailing bytes.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise IDXFormatError(
            f"{path}: cannot be read as {'gzip' if path.suffix == '.gz' else 'IDX'} ({err}); "
            "the file is corrupt or truncated: delete it and provide a fresh copy."
        ) from err
    if len(raw) < 4:
        raise IDXFormatError(f"{path}: only {len(raw)} bytes, too short for an IDX header.")
    (magic,) = struct.unpack(">i", raw[:4])
    zero, dtype_code, ndim = raw[0] | raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08 or not 1 <= ndim <= 3:
        raise IDXFormatError(
            f"{path}: bad magic number {magic} (0x{magic:08x}); an IDX file of unsigned bytes starts "
            f"with {LABEL_MAGIC} (labels) or {IMAGE_MAGIC} (images). Not an IDX file, or corrupt."
        )
    if expected_magic is not None and magic != expected_magic:
        kind = {IMAGE_MAGIC: "images", LABEL_MAGIC: "labels"}.get(expected_magic, "?")
        raise IDXFormatError(
            f"{path}: magic number {magic}, expected {expected_magic} ({kind}); the file is not "
            f"the {kind} file it is named as."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path}: truncated header ({len(raw)} bytes, need {header}).")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = math.prod(dims)
    body = len(raw) - header
    if body != expected:
        what = "truncated" if body < expected else "has trailing bytes"
        raise IDXFormatError(
            f"{path}: {what}: header says {' × '.join(map(str, dims))} = {expected:,} bytes of "
            f"data, the file holds {body:,}. Delete it and provide a fresh copy."
        )
    return onp.frombuffer(raw, dtype=onp.uint8, offset=header).reshape(dims)


# ---------------------------------------------------------------------------------------------
# Finding (or downloading) the files


def _spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}") from None


def mxnet_cache_dir(name: str) -> Path:
    """The MXNet data-set cache folder for ``name`` (``$MXNET_HOME/datasets/<name>``)."""
    home = os.environ.get("MXNET_HOME", os.path.join("~", ".mxnet"))
    return Path(home).expanduser() / "datasets" / name


def candidate_dirs(name: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data set ``name``, in order (see the module docstring)."""
    spec = _spec(name)
    dirs: list[Path] = []
    if root is not None:
        dirs += [Path(root).expanduser(), Path(root).expanduser() / name]
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        dirs += [Path(env).expanduser() / name, Path(env).expanduser()]
    dirs.append(mxnet_cache_dir(name))
    dirs += [Path(d) for d in spec.system_dirs]
    return dirs


def _find_file(folder: Path, file_name: str) -> Path | None:
    """The file in ``folder``, gzip-compressed or not (Debian ships both forms)."""
    for candidate in (folder / file_name, folder / file_name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def find_files(name: str, root: str | os.PathLike | None = None) -> dict[str, Path] | None:
    """Paths of the four files from the first folder that holds them all, else None."""
    spec = _spec(name)
    for folder in candidate_dirs(name, root):
        found = {f: _find_file(folder, f) for f in spec.file_names}
        if all(found.values()):
            return found  # type: ignore[return-value]
    return None


def _progress(file_name: str, done: int, total: int) -> None:
    if total > 0:
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r  {file_name} [{bar}] {done / 2**20:5.1f}/{total / 2**20:.1f} MiB")
    else:
        sys.stderr.write(f"\r  {file_name} {done / 2**20:5.1f} MiB")
    sys.stderr.flush()


def download_file(url: str, target: Path, md5: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``target`` with a progress bar, verify its md5, then rename into place.

    The bytes go to a temporary file in the target folder; only a complete file with the right
    checksum is renamed to ``target``, so an interrupted or corrupt download leaves nothing behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    digest = hashlib.md5()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                _progress(target.name, done, total)
        sys.stderr.write("\n")
        if digest.hexdigest() != md5:
            raise OSError(f"md5 {digest.hexdigest()} of {url} differs from the published {md5}")
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def _not_found_message(spec: DatasetSpec, root, download_errors: list[str]) -> str:
    lines = [f"{spec.title} was not found. These four files are needed:"]
    lines += [f"    {f}" for f in spec.file_names]
    lines.append("Looked in (a folder must hold all four; .gz or uncompressed):")
    lines += [f"    {d}" for d in candidate_dirs(spec.name, root)]
    if download_errors:
        lines.append("Download failed:")
        lines += [f"    {e}" for e in download_errors]
    lines.append("To provide them, do one of:")
    lines.append(f"  - download them from {spec.mirrors[0]} into {mxnet_cache_dir(spec.name)}")
    if spec.install_hint:
        lines.append(f"  - {spec.install_hint}")
    lines.append(f"  - put them in a folder and set {DATA_DIR_ENV}=<folder> (or <folder>/{spec.name}/)")
    lines.append("  - pass root=<folder> to the loader")
    return "\n".join(lines)


def locate(name: str, root: str | os.PathLike | None = None, download: bool = True) -> dict[str, Path]:
    """Return the paths of data set ``name``'s four files, downloading them if needed.

    Raises :class:`DataNotFoundError` listing the files, the folders searched and how to provide
    them when the files are nowhere and cannot be downloaded (e.g. offline).
    """
    spec = _spec(name)
    found = find_files(name, root)
    if found is not None:
        return found
    errors: list[str] = []
    if download:
        cache = mxnet_cache_dir(name)
        for file_name in spec.file_names:
            if _find_file(cache, file_name):
                continue
            for mirror in spec.mirrors:
                try:
                    download_file(mirror + file_name, cache / file_name, spec.md5[file_name])
                    break
                except (OSError, ValueError) as err:  # URLError and HTTPError are OSErrors
                    errors.append(f"{mirror + file_name}: {err}")
        found = find_files(name, root)
        if found is not None:
            return found
    raise DataNotFoundError(_not_found_message(spec, root, errors))


@lru_cache(maxsize=8)
def _load_arrays_cached(name: str, split: str, folder_key: tuple[str, str]):
    images_path, labels_path = map(Path, folder_key)
    images = read_idx(images_path, IMAGE_MAGIC)
    labels = read_idx(labels_path, LABEL_MAGIC)
    spec = _spec(name)
    expected = spec.num_train if split == "train" else spec.num_test
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise IDXFormatError(f"{images_path}: images of shape {images.shape[1:]}, expected 28×28.")
    if len(images) != len(labels):
        raise IDXFormatError(
            f"{images_path} holds {len(images):,} images but {labels_path} holds {len(labels):,} "
            "labels: the two files do not belong together."
        )
    if len(images) != expected:
        raise IDXFormatError(
            f"{images_path}: {len(images):,} examples, but the {split} split of {spec.title} has "
            f"{expected:,}: wrong or incomplete file."
        )
    if labels.max() >= len(spec.classes):
        raise IDXFormatError(f"{labels_path}: label {labels.max()} out of range 0–{len(spec.classes) - 1}.")
    return images, labels


def load_arrays(
    name: str = "fashion-mnist", split: str = "train", root: str | os.PathLike | None = None
) -> tuple[onp.ndarray, onp.ndarray]:
    """The whole split as NumPy arrays: images uint8 (N, 28, 28), labels uint8 (N,).

    ``split`` is "train" or "test". Parsed once per process and cached (read-only arrays).
    """
    spec = _spec(name)
    if split not in spec.files:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    paths = locate(name, root)
    images_file, labels_file = spec.files[split]
    return _load_arrays_cached(name, split, (str(paths[images_file]), str(paths[labels_file])))


def text_labels(labels, dataset: str = "fashion-mnist") -> list[str]:
    """Class names for integer labels (any iterable of ints, NumPy or MXNet array)."""
    classes = _spec(dataset).classes
    return [classes[int(i)] for i in (labels.tolist() if hasattr(labels, "tolist") else labels)]


# ---------------------------------------------------------------------------------------------
# Batches


def quick_subset(num_examples: int, keep: int, seed: int) -> onp.ndarray:
    """Indices of a fixed random subset of ``keep`` examples out of ``num_examples`` (sorted)."""
    rng = onp.random.default_rng(seed)
    return onp.sort(rng.permutation(num_examples)[: min(keep, num_examples)])


class ArrayLoader:
    """Mini-batches of ``(X, y)`` cut from images held in memory.

    Images stay uint8 on the host until they are needed. Then a chunk of batches (up to
    :data:`CHUNK_BYTES` of float32 after the transform: 10 batches of 128 at 28×28, one at
    224×224) is gathered, scaled to [0, 1] (on the host for the CPU; for a GPU copied as uint8,
    4× less traffic than float32, and scaled there) and, if asked, resized on the device in one
    call for the whole chunk; the batches are views of it (see :meth:`host_chunks`). Yields X float32 of shape (batch, 1, H, W) and y int32 of shape (batch,). A fresh shuffle
    is drawn every epoch when ``shuffle`` is true; the last batch may be smaller (as in d2l).

    ``resize_method``: "bilinear" (as d2l's ``transforms.Resize``) or "nearest" (pixel
    replication, much cheaper; exact only for whole-number factors such as 28 → 224).
    """

    def __init__(
        self,
        images: onp.ndarray,
        labels: onp.ndarray,
        batch_size: int,
        shuffle: bool = False,
        resize: int | tuple[int, int] | None = None,
        resize_method: str = "bilinear",
        device=None,
        name: str = "",
        seed: int | None = None,
    ) -> None:
        if images.ndim != 3:
            raise ValueError(f"images must have shape (N, H, W), got {images.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if resize_method not in ("bilinear", "nearest"):
            raise ValueError(f"resize_method must be 'bilinear' or 'nearest', not {resize_method!r}")
        self.images = images
        self.labels = labels.astype(onp.int32)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.resize = _pair(resize) if resize is not None else None
        self.resize_method = resize_method
        self.device = device
        self.name = name
        # Without a seed, shuffles come from NumPy's global generator, so that
        # config.set_seed() before training makes the order of examples reproducible too.
        self._rng = onp.random.default_rng(seed) if seed is not None else onp.random

    @property
    def num_examples(self) -> int:
        return len(self.images)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape (channels, height, width) of one example as yielded."""
        return (1, *(self.resize or self.images.shape[1:]))

    def __len__(self) -> int:
        return math.ceil(self.num_examples / self.batch_size)

    def __repr__(self) -> str:
        return (
            f"ArrayLoader({self.name or 'data'}: {self.num_examples:,} examples, batch "
            f"{self.batch_size}, {len(self)} batches, X {self.image_shape}, shuffle={self.shuffle})"
        )

    @property
    def batches_per_chunk(self) -> int:
        """Batches cut from one chunk: as many as fit in :data:`CHUNK_BYTES` as float32 (at
        least one). 10 batches of 128 at 28×28; one batch of 128 at 96×96 or 224×224."""
        channels, height, width = self.image_shape
        batch_bytes = 4 * self.batch_size * channels * height * width
        return max(1, CHUNK_BYTES // batch_bytes)

    def __iter__(self) -> Iterator[tuple]:
        for X, y in self.host_chunks():
            X = self.transform(X)
            # Slices along the first axis are views of the chunk: no copy, no operator.
            for start in range(0, y.shape[0], self.batch_size):
                yield X[start : start + self.batch_size], y[start : start + self.batch_size]

    def host_chunks(self, device=None, scale_on_host: bool | None = None) -> Iterator[tuple]:
        """The host's share of one epoch: ``(X, y)`` with X (n, H, W) and y int32 (n,),
        n = :attr:`batches_per_chunk` × ``batch_size`` examples (fewer at the end), gathered in
        this epoch's order (a fresh shuffle when ``shuffle``) and handed to ``device`` (default:
        the loader's), where :meth:`transform` does the rest.

        Each chunk is gathered with one NumPy fancy index into a CPU array and copied to the
        device in one piece, so the host's work per batch is two slices (the per-batch cost
        of Python and MXNet's operator dispatch matters on a CPU, whose cores also compute).
        For a GPU, X stays uint8 as stored (4× less to copy than float32) and the copy is
        queued on MXNet's engine (``as_in_ctx``), so the host does not wait for it. For the
        CPU, where host and device are the same processor, X is scaled to float32 in [0, 1]
        right here by NumPy, which does it with a tenth of the CPU time MXNet's two element-wise
        operators take (the same values: both divide in float32). ``scale_on_host`` overrides
        that choice (the benchmark measures the GPU's share on a CPU with False).
        """
        import mxnet as mx
        from mxnet import np

        if device is None:
            device = self.device if self.device is not None else _default_device()
        host = mx.cpu()
        if scale_on_host is None:
            scale_on_host = device.device_type == "cpu"
        order = self._rng.permutation(self.num_examples) if self.shuffle else None
        step = self.batches_per_chunk * self.batch_size
        for start in range(0, self.num_examples, step):
            if order is None:
                idx = slice(start, start + step)
            else:
                idx = order[start : start + step]
            if scale_on_host:
                scaled = self.images[idx].astype(onp.float32) / onp.float32(255)
                X = np.array(scaled, dtype="float32", ctx=device)
            else:
                X = np.array(self.images[idx], dtype="uint8", ctx=host).as_in_ctx(device)
            y = np.array(self.labels[idx], dtype="int32", ctx=host)
            yield X, y.as_in_ctx(device)

    def state_dict(self) -> dict:
        """The shuffling generator's state (JSON-serialisable), for exact resumption: after
        :meth:`load_state_dict` of it, the next epochs come in the same order as they would have.
        Checkpoints of :func:`d2lcnn.train.train` save and restore it. Without a ``seed`` the
        generator is NumPy's global one (``config.set_seed``), and restoring sets *its* state."""
        if self._rng is onp.random:
            name, keys, pos, has_gauss, cached = onp.random.get_state()
            return {"generator": "numpy-global",
                    "state": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]}
        return {"generator": "own", "state": self._rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned (see there)."""
        kind = state.get("generator") if isinstance(state, dict) else None
        mine = "numpy-global" if self._rng is onp.random else "own"
        if kind != mine:
            raise ValueError(
                f"this loader state is for a loader {'with' if kind == 'own' else 'without'} its "
                f"own seed, but {self!r} has {'one' if mine == 'own' else 'none'}: make the loader "
                "as the saved run did (same seed= argument), or train afresh")
        if kind == "own":
            self._rng.bit_generator.state = state["state"]
        else:
            name, keys, pos, has_gauss, cached = state["state"]
            onp.random.set_state((name, onp.asarray(keys, dtype=onp.uint32), pos, has_gauss, cached))

    def transform(self, X):
        """(B, H, W) on the device, uint8 or already scaled float32 -> float32 (B, 1, H', W')
        in [0, 1], resized."""
        if X.dtype == onp.uint8:
            X = X.astype("float32") / 255
        X = X.reshape(X.shape[0], 1, *X.shape[1:])
        if self.resize is not None and self.resize != tuple(X.shape[2:]):
            X = resize_batch(X, self.resize, self.resize_method)
        return X


def _pair(size) -> tuple[int, int]:
    if isinstance(size, int):
        size = (size, size)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f"resize must be a positive int or (height, width), got {size!r}")
    return tuple(size)


def resize_batch(X, size: tuple[int, int], method: str = "bilinear"):
    """Resize a batch (B, C, H, W) to (B, C, *size) on its own device, all images in one call."""
    import mxnet as mx

    height, width = size
    h, w = X.shape[2:]
    if method == "nearest":
        if height % h or width % w:
            raise ValueError(
                f"nearest resize replicates pixels and needs whole-number factors: {h}×{w} -> "
                f"{height}×{width} is not; use resize_method='bilinear'."
            )
        return X.repeat(height // h, axis=2).repeat(width // w, axis=3)
    # contrib.BilinearResize2D is the batched (NCHW) bilinear resize, on CPU and GPU alike; it
    # exists only in the legacy nd namespace, so the batch is viewed as an nd array (no copy).
    resized = mx.nd.contrib.BilinearResize2D(
        X.as_nd_ndarray(), height=height, width=width, align_corners=False
    )
    return resized.as_np_ndarray()


def _default_device():
    from .device import try_gpu

    return try_gpu()


def _load(
    name: str,
    batch_size: int,
    resize,
    root,
    device,
    resize_method: str,
    seed: int,
) -> tuple[ArrayLoader, ArrayLoader]:
    train_images, train_labels = load_arrays(name, "train", root)
    test_images, test_labels = load_arrays(name, "test", root)
    if config.quick_mode():
        keep_train = quick_subset(len(train_images), config.QUICK_TRAIN_EXAMPLES, seed=1)
        keep_test = quick_subset(len(test_images), config.QUICK_TEST_EXAMPLES, seed=2)
        print(
            f"quick mode ({config.QUICK_ENV}=1): using {len(keep_train):,} of {len(train_images):,} "
            f"training and {len(keep_test):,} of {len(test_images):,} test images of {_spec(name).title}"
        )
        train_images, train_labels = train_images[keep_train], train_labels[keep_train]
        test_images, test_labels = test_images[keep_test], test_labels[keep_test]
    common = dict(batch_size=batch_size, resize=resize, resize_method=resize_method, device=device)
    train_iter = ArrayLoader(train_images, train_labels, shuffle=True, seed=seed,
                             name=f"{name} train", **common)
    test_iter = ArrayLoader(test_images, test_labels, shuffle=False, name=f"{name} test", **common)
    return train_iter, test_iter


def load_fashion_mnist(
    batch_size: int,
    resize: int | Sequence[int] | None = None,
    root: str | os.PathLike | None = None,
    device=None,
    resize_method: str = "bilinear",
    seed: int | None = None,
) -> tuple[ArrayLoader, ArrayLoader]:
    """Fashion-MNIST as (train_iter, test_iter) of ``(X, y)`` batches on ``device``.

    X is float32 in [0, 1] of shape (batch, 1, H, W) (28×28, or ``resize``), y is int32 (batch,).
    The training batches are reshuffled every epoch. ``device`` defaults to :func:`try_gpu`.
    In quick mode a fixed subset of the real data is kept, and this is printed.
    """
    return _load("fashion-mnist", batch_size, resize, root, device, resize_method, seed)


def load_mnist(
    batch_size: int,
    resize: int | Sequence[int] | None = None,
    root: str | os.PathLike | None = None,
    device=None,
    resize_method: str = "bilinear",
    seed: int | None = None,
) -> tuple[ArrayLoader, ArrayLoader]:
    """MNIST handwritten digits, exactly as :func:`load_fashion_mnist`."""
    return _load("mnist", batch_size, resize, root, device, resize_method, seed)
