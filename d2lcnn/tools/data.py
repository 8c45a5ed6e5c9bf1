"""Fashion-MNIST and MNIST from the original IDX files, served as fast in-memory batches.

Why not ``gluon.data.vision.FashionMNIST``? Gluon's classes compare the files with the sha1s of
their own mirror's archives (not the published originals) and download again when they differ, and
they transform every image one at a time in Python. Here the IDX files are parsed once into NumPy
arrays (checked: magic number, dimensions, sizes) and each batch is sliced, scaled and resized as a
whole on the training device.

Where the files are looked for, in order (the first folder holding all four files wins):

1. the ``root`` argument (the folder with the files, or its parent with a ``<name>/`` subfolder):
   when given, nothing else is searched and nothing is downloaded, so that a ``root`` that does
   not hold the files is an error, never skipped;
2. ``$D2LCNN_DATA_DIR/<name>/`` (also ``$D2LCNN_DATA_DIR`` itself);
3. the MXNet cache ``$MXNET_HOME/datasets/<name>/`` (default ``~/.mxnet/datasets/<name>/``);
4. the system folder of a distribution package, e.g. Debian/Ubuntu's ``dataset-fashion-mnist``
   (``/usr/share/datasets/fashion-mnist/``);
5. otherwise the files are downloaded into the MXNet cache from the official mirrors, checked
   against the published md5 checksums and written atomically (temporary file, then rename).

Every file is identified by its content before it is used: the SHA-256 of its decompressed IDX
bytes must be the one recorded in :data:`DATASETS` for that data set and file. MNIST and
Fashion-MNIST use the same four file names, so without this a folder of one would load as the
other, or a folder mixing both would load images of one with labels of the other. The checksum is
of the IDX bytes, not of the gzip file, so that copies compressed again (Debian's, with another
header; MNIST rebuilt from its PNG copy) and uncompressed copies are recognised too. The check
costs one SHA-256 pass over the bytes decompressed anyway (about 0.1 s for 47 MB), once per file
and process: the parsed arrays are cached per path, modification time and size. Decompression is
bounded: a file that inflates beyond its data set's known size is refused before it fills the
memory. Where a file should be, a folder, a dangling or looping symbolic link is named as such,
and nothing is downloaded over it.
"""

from __future__ import annotations

import copy
import difflib
import errno
import gzip
import hashlib
import io
import math
import numbers
import os
import stat
import struct
import sys
import time
import urllib.request
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as onp

from .. import config
from .arrays import as_pair, check_positive_int, to_numpy
from .history import write_atomically

DATA_DIR_ENV = config.DATA_DIR_ENV
#: Bytes of float32 images an :class:`ArrayLoader` transforms in one go (see ``batches_per_chunk``):
#: big enough that the host does little per batch, small enough to stay in the allocator's reuse.
CHUNK_BYTES = 4 * 2**20
#: The most bytes :func:`read_payload` inflates or reads when the caller gives no size (the
#: largest file known here, Fashion-MNIST's training images, is 47 MB).
MAX_PAYLOAD_BYTES = 64 * 2**20
#: What a payload may exceed its known size by before it is refused unread (a few trailing
#: bytes are let through to be reported as such by :func:`parse_idx`).
PAYLOAD_SLACK_BYTES = 2**16
#: A download's temporary file not written to for this long belongs to a download that was
#: killed (a live one writes every 64 KiB and gives up after 30 s without data): it is removed.
STALE_DOWNLOAD_SECONDS = 600

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049

#: What each of the four files holds, in words (for messages).
FILE_ROLES = {
    "train-images-idx3-ubyte.gz": "training images",
    "train-labels-idx1-ubyte.gz": "training labels",
    "t10k-images-idx3-ubyte.gz": "test images",
    "t10k-labels-idx1-ubyte.gz": "test labels",
}


@dataclass(frozen=True)
class DatasetSpec:
    """Where a 28×28 IDX data set comes from and what its files must look like."""

    name: str
    title: str
    #: file name -> published md5 of the original gzip archive (checked on download).
    md5: dict[str, str]
    #: file name -> SHA-256 of the file's decompressed IDX bytes: the file's identity, checked
    #: before every use whatever the compression (see the module docstring).
    payload_sha256: dict[str, str]
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

    def payload_size(self, file_name: str) -> int:
        """Bytes of ``file_name``'s IDX payload: a 16-byte header and 28×28 bytes per image, or
        an 8-byte header and a byte per label."""
        split = next(s for s, pair in self.files.items() if file_name in pair)
        count = self.num_train if split == "train" else self.num_test
        return 16 + 28 * 28 * count if "images" in file_name else 8 + count


# The payload checksums were computed from the files in the shared data folder: Fashion-MNIST's are
# the originals (their gzip md5s equal the published ones above, and these SHA-256s equal the
# uncompressed checksums its README lists); MNIST's were rebuilt losslessly from its PNG copy, and
# the md5s of their decompressed bytes equal the well-known ones of the original uncompressed
# files (train images 6bbc9ace…, train labels a25bea73…, test images 2646ac64…, test labels
# 27ae3e4e…).
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
        payload_sha256={
            "train-images-idx3-ubyte.gz":
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte.gz":
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte.gz":
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte.gz":
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
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
        payload_sha256={
            "train-images-idx3-ubyte.gz":
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte.gz":
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte.gz":
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte.gz":
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
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


class DataIdentityError(IDXFormatError):
    """A well-formed data file whose content is not the file it is named as: another data set's
    file, another file of the same data set, or a modified copy."""


class DataPermissionError(PermissionError):
    """A data file that this user may not read (its content may well be fine)."""


class DataNotFoundError(FileNotFoundError):
    """The data set's files are nowhere to be found and could not be downloaded."""


class DataEntryError(IDXFormatError):
    """Where a data file should be there is something else: a folder, a symbolic link whose
    target is missing or that loops, a device or a pipe."""


# ---------------------------------------------------------------------------------------------
# IDX files

_FRESH_COPY = "delete it and provide a fresh copy (or delete it and let the loader download it)"


def read_payload(path: str | os.PathLike, max_bytes: int = MAX_PAYLOAD_BYTES,
                 what: str = "") -> bytes:
    """The IDX bytes of ``path``: the file's bytes, decompressed when its name ends in ``.gz``.

    At most ``max_bytes`` are read or inflated (``what``: the file's known content, for the
    message): a larger file, or a small gzip file that inflates to more, is refused before it
    fills the memory. Raises :class:`DataPermissionError` when this user may not read the file,
    and :class:`IDXFormatError`, naming the file, when it cannot be read or decompressed.
    """
    path = Path(path)
    known = f" ({what}: {max_bytes:,} bytes at most)" if what else f" ({max_bytes:,} at most)"
    try:
        size = path.stat().st_size
        if size > max_bytes + PAYLOAD_SLACK_BYTES:
            raise IDXFormatError(f"{path}: {size:,} bytes, more than this file can hold{known}: "
                                 f"it is not the file it is named as; {_FRESH_COPY}.")
        raw = path.read_bytes()
    except PermissionError as err:
        raise DataPermissionError(_permission_message(path, err)) from err
    except OSError as err:
        raise IDXFormatError(f"{path}: cannot be read ({err.strerror or err}); check the disk or "
                             f"the file system, or {_FRESH_COPY}.") from err
    if path.suffix != ".gz":
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            payload = f.read(max_bytes + PAYLOAD_SLACK_BYTES + 1)
            if len(payload) > max_bytes + PAYLOAD_SLACK_BYTES:
                raise IDXFormatError(
                    f"{path}: inflates to more than {max_bytes + PAYLOAD_SLACK_BYTES:,} bytes"
                    f"{known}, so it was not inflated further: it is not the file it is named "
                    f"as (a decompression bomb?); {_FRESH_COPY}.")
            return payload
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise IDXFormatError(
            f"{path}: not a complete gzip file ({err}): the file is corrupt or truncated (an "
            f"interrupted copy or download?); {_FRESH_COPY}.") from err


def _permission_message(path: Path, err: OSError) -> str:
    try:
        info = path.stat()
        mode = f"mode {stat.filemode(info.st_mode)}, owner uid {info.st_uid}"
    except OSError:
        mode = "its folder cannot be searched"
    user = f"uid {os.getuid()}" if hasattr(os, "getuid") else "this user"
    return (f"{path}: permission denied ({mode}; you are {user}). The "
            f"file may well be intact: make it readable (chmod a+r '{path}', or ask its owner), "
            f"or copy the four files to a folder of yours and set {DATA_DIR_ENV} to it.")


def parse_idx(raw: bytes, path: str | os.PathLike = "<bytes>",
              expected_magic: int | None = None) -> onp.ndarray:
    """Parse IDX bytes (see :func:`read_idx`); ``path`` is named in the errors."""
    if len(raw) < 4:
        raise IDXFormatError(f"{path}: only {len(raw)} bytes, too short for an IDX header; "
                             f"{_FRESH_COPY}.")
    (magic,) = struct.unpack(">i", raw[:4])
    zero, dtype_code, ndim = raw[0] | raw[1], raw[2], raw[3]
    if zero != 0 or dtype_code != 0x08 or not 1 <= ndim <= 3:
        raise IDXFormatError(
            f"{path}: bad magic number {magic} (0x{magic:08x}); an IDX file of unsigned bytes starts "
            f"with {LABEL_MAGIC} (labels) or {IMAGE_MAGIC} (images). Not an IDX file, or corrupt: "
            f"{_FRESH_COPY}."
        )
    if expected_magic is not None and magic != expected_magic:
        kind = {IMAGE_MAGIC: "images", LABEL_MAGIC: "labels"}.get(expected_magic, "?")
        found = {IMAGE_MAGIC: "images", LABEL_MAGIC: "labels"}.get(magic, "?")
        raise IDXFormatError(
            f"{path}: magic number {magic}, expected {expected_magic} ({kind}); the file holds "
            f"{found}, so it is not the {kind} file it is named as: give the files back their "
            f"original names, or {_FRESH_COPY}."
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path}: truncated header ({len(raw)} bytes, need {header}); "
                             f"{_FRESH_COPY}.")
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


def read_idx(path: str | os.PathLike, expected_magic: int | None = None) -> onp.ndarray:
    """Parse an IDX file (optionally gzip-compressed) into a uint8 array.

    The header is a big-endian magic number (2051 for images, 2049 for labels: 0x08 = unsigned
    byte, then the number of dimensions) followed by one 32-bit size per dimension. Returns an array
    of shape (count, rows, cols) for images, (count,) for labels. Raises :class:`IDXFormatError`,
    naming the file, for a wrong magic number, a truncated body or trailing bytes, and
    :class:`DataPermissionError` for a file this user may not read. The content is not identified
    here (any IDX file parses); :func:`load_arrays` does that.
    """
    return parse_idx(read_payload(path), path, expected_magic)


# ---------------------------------------------------------------------------------------------
# Identity: which file of which data set a payload is


def payload_sha256(raw: bytes) -> str:
    """The identity of IDX bytes: their SHA-256, in hex."""
    return hashlib.sha256(raw).hexdigest()


def identify(digest: str) -> tuple[DatasetSpec, str] | None:
    """The data set and file name whose payload has SHA-256 ``digest``, or None if none does."""
    for spec in DATASETS.values():
        for file_name, known in spec.payload_sha256.items():
            if known == digest:
                return spec, file_name
    return None


def check_identity(path: Path, digest: str, spec: DatasetSpec, file_name: str) -> None:
    """Raise :class:`DataIdentityError` unless ``digest`` is the payload of ``spec``'s file
    ``file_name``; the message says what the file really is and how to put things right."""
    if digest == spec.payload_sha256[file_name]:
        return
    wanted = f"{spec.title}'s {FILE_ROLES[file_name]}"
    known = identify(digest)
    if known is None:
        raise DataIdentityError(
            f"{path}: not {wanted}: its content (SHA-256 {digest[:16]}… of the decompressed data) "
            f"is no file of {spec.title} or of the other data sets known here, so it is modified, "
            f"corrupt or from another data set. Delete it and provide the original "
            f"({spec.mirrors[0]}{file_name}), or delete it and let the loader download it.")
    other, other_file = known
    if other.name == spec.name:
        raise DataIdentityError(
            f"{path}: this is {other.title}'s {FILE_ROLES[other_file]} ({other_file}), not its "
            f"{FILE_ROLES[file_name]}: the files were renamed or swapped. Give each file its "
            f"original name, or delete the four files and provide fresh copies.")
    raise DataIdentityError(
        f"{path}: this is {other.title}'s {FILE_ROLES[other_file]}, not {wanted}: MNIST and "
        f"Fashion-MNIST use the same file names, and this folder holds the wrong data set (or a "
        f"mix of both). Keep each data set's four files in a folder of its own named after it "
        f"(…/{spec.name}/ and …/{other.name}/) and set {DATA_DIR_ENV} to their parent folder (or "
        f"pass root=), or remove this file so that {spec.title}'s is downloaded.")


# ---------------------------------------------------------------------------------------------
# Finding (or downloading) the files


def _spec(name: str) -> DatasetSpec:
    if isinstance(name, str) and name in DATASETS:
        return DATASETS[name]
    close = difflib.get_close_matches(str(name).lower().replace("_", "-"), DATASETS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown data set {name!r}{hint}: choose one of "
                     f"{', '.join(repr(n) for n in DATASETS)}")


def _check_root(root) -> Path | None:
    """``root`` as a path to an existing folder, or None; refuses a path that is not one (a typo
    there would otherwise silently fall back to the other folders)."""
    if root is None:
        return None
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"root must be a folder (a str or Path), got {root!r}: pass the folder "
                        "holding the four files, or leave root=None to search the usual places")
    folder = Path(root).expanduser()
    try:
        is_dir, exists = folder.is_dir(), folder.exists()
    except PermissionError as err:
        raise DataPermissionError(_unsearchable_message(folder, err)) from err
    if not is_dir:
        what = "is a file, not a folder" if exists else "does not exist"
        raise DataNotFoundError(
            f"root={str(root)!r} {what}: pass the folder holding the four files (or its parent, "
            f"with a <data set>/ folder in it), or leave root=None to search {DATA_DIR_ENV}, "
            "MXNet's cache and the system folders")
    return folder


def mxnet_cache_dir(name: str) -> Path:
    """The MXNet data-set cache folder for ``name`` (``$MXNET_HOME/datasets/<name>``)."""
    return config.mxnet_home() / "datasets" / name


def candidate_dirs(name: str, root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data set ``name``, in order (see the module docstring)."""
    spec = _spec(name)
    if root is not None:  # only there: a root that does not hold the files is an error
        return [Path(root).expanduser(), Path(root).expanduser() / name]
    dirs: list[Path] = []
    env = config.data_dir()
    if env is not None:
        dirs += [env / name, env]
    dirs.append(mxnet_cache_dir(name))
    dirs += [Path(d) for d in spec.system_dirs]
    return dirs


def _find_file(folder: Path, file_name: str) -> Path | None:
    """The file in ``folder``, gzip-compressed or not (Debian ships both forms), or None when
    neither name is there. Raises :class:`DataEntryError` when a name is taken by something
    that is not a file (a folder, a dangling or looping link), so that it is named as such
    rather than taken for a missing file and downloaded over, and
    :class:`DataPermissionError` when the folder cannot be searched."""
    candidates = (folder / file_name, folder / file_name.removesuffix(".gz"))
    broken = None
    for candidate in candidates:
        try:
            if candidate.is_file():
                return candidate
            if broken is None and os.path.lexists(candidate):
                broken = candidate
        except PermissionError as err:
            raise DataPermissionError(_unsearchable_message(folder, err)) from err
    if broken is not None:
        raise DataEntryError(_entry_message(broken, file_name))
    return None


def _entry_message(path: Path, file_name: str) -> str:
    """What is at ``path`` instead of a data file, and what to do about it."""
    role = FILE_ROLES.get(file_name, "data")
    if path.is_symlink():
        target = os.readlink(path)
        try:
            path.stat()
            what = f"a symbolic link to {target}, which is not a file"
        except OSError as err:
            what = (f"a symbolic link that loops ({target} leads back to itself)"
                    if err.errno == errno.ELOOP else
                    f"a symbolic link to {target}, which does not exist (a dangling link)")
        fix = f"point it at the real file (ln -sfn <file> '{path}') or replace it with the file"
    else:
        kind = "a folder" if path.is_dir() else "not a regular file (a device, pipe or socket)"
        what, fix = kind, "move it out of the way and put the file there"
    return (f"{path}: {what}, where the {role} file {file_name} should be: {fix}. Nothing was "
            "downloaded over it.")


def _unsearchable_message(folder: Path, err: OSError) -> str:
    blocked = next((p for p in (folder, *folder.parents)
                    if p.exists() and not os.access(p, os.R_OK | os.X_OK)), folder)
    return (f"{blocked}: permission denied, so the data files in {folder} cannot be looked for "
            f"({err.strerror}): make the folder readable (chmod a+rx '{blocked}'), or copy the "
            f"four files to a folder of yours and set {DATA_DIR_ENV} to it.")


def find_files(name: str, root: str | os.PathLike | None = None) -> dict[str, Path] | None:
    """Paths of the four files from the first folder that holds them all, else None."""
    spec = _spec(name)
    for folder in candidate_dirs(name, root):
        found = {f: _find_file(folder, f) for f in spec.file_names}
        if all(found.values()):
            return found  # type: ignore[return-value]
    return None


def _progress(file_name: str, done: int, total: int) -> None:
    # On standard output: it is information (JupyterLab shows standard error in red).
    if total > 0:
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "." * (width - filled)
        sys.stdout.write(f"\r  {file_name} [{bar}] {done / 2**20:5.1f}/{total / 2**20:.1f} MiB")
    else:
        sys.stdout.write(f"\r  {file_name} {done / 2**20:5.1f} MiB")
    sys.stdout.flush()


def download_file(url: str, target: Path, md5: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``target`` with a progress bar, verify its md5, then rename into place.

    The bytes go to a temporary file in the target folder
    (:func:`~d2lcnn.tools.history.write_atomically`); only a complete file with the right checksum
    is renamed to ``target``, with a normal file's permissions (0o666 minus the umask), so an
    interrupted or corrupt download leaves nothing behind. (A download killed outright leaves its
    hidden temporary file; :func:`remove_stale_downloads` removes it later.)
    """

    def fetch(tmp: str) -> None:
        digest = hashlib.md5()
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                _progress(target.name, done, total)
        sys.stdout.write("\n")
        if digest.hexdigest() != md5:
            raise OSError(f"md5 {digest.hexdigest()} of {url} differs from the published {md5}")

    return write_atomically(target, fetch)


def remove_stale_downloads(folder: Path, file_names: Sequence[str],
                           max_age: float = STALE_DOWNLOAD_SECONDS) -> list[Path]:
    """Remove the hidden temporary files of downloads into ``folder`` that were killed (not
    written to for ``max_age`` seconds; a live download's file is seconds old): ``.<name>.*.tmp``
    (:func:`~d2lcnn.tools.history.write_atomically`'s) and ``.<name>.*.part`` (older versions').
    Returns the files removed."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for file_name in file_names:
        for pattern in (f".{file_name}.*.tmp", f".{file_name}.*.part"):
            for leftover in folder.glob(pattern):
                try:
                    if now - leftover.stat().st_mtime >= max_age:
                        leftover.unlink()
                        removed.append(leftover)
                except OSError:  # gone meanwhile, or not ours to remove: leave it
                    continue
    return removed


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


def _root_message(spec: DatasetSpec, root: Path) -> str:
    missing = [f for f in spec.file_names
               if not any(_find_file(folder, f) for folder in (root, root / spec.name))]
    return (f"root={str(root)!r} does not hold {spec.title}: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} in neither {root} nor {root / spec.name}. "
            "With root= given nothing else is searched and nothing is downloaded: put the four "
            "files there, or leave root=None to search "
            f"{DATA_DIR_ENV}, MXNet's cache and the system folders (and download).")


def locate(name: str, root: str | os.PathLike | None = None, download: bool = True) -> dict[str, Path]:
    """Return the paths of data set ``name``'s four files, downloading them if needed.

    Raises :class:`DataNotFoundError` listing the files, the folders searched and how to provide
    them when the files are nowhere and cannot be downloaded (e.g. offline). The files are found
    by name here; :func:`load_arrays` checks what they hold.
    """
    spec = _spec(name)
    _check_root(root)
    cache = mxnet_cache_dir(name)
    remove_stale_downloads(cache, spec.file_names)
    found = find_files(name, root)
    if found is not None:
        return found
    if root is not None:
        raise DataNotFoundError(_root_message(spec, Path(root).expanduser()))
    errors: list[str] = []
    if download:
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


def _file_key(path: Path) -> tuple[str, int, int, int]:
    """What identifies a file's current version for the cache: path, modification time, size
    and inode (a file replaced or rewritten is read and checked again)."""
    try:
        info = path.stat()
    except PermissionError as err:
        raise DataPermissionError(_permission_message(path, err)) from err
    return str(path), info.st_mtime_ns, info.st_size, info.st_ino


def _read_checked(path: Path, spec: DatasetSpec, file_name: str, magic: int) -> onp.ndarray:
    """Parse ``path`` (format checks first: their messages are the more precise), then check
    that its content is ``spec``'s ``file_name``."""
    # Bounded by the data set's largest file, not this one's: a file of the data set under
    # another name then gets parse_idx's more telling message (images named as labels).
    largest = max(spec.payload_size(name) for name in spec.file_names)
    raw = read_payload(path, largest, f"the largest file of {spec.title}")
    array = parse_idx(raw, path, magic)
    check_identity(path, payload_sha256(raw), spec, file_name)
    return array


@lru_cache(maxsize=8)
def _load_arrays_cached(name: str, split: str, images_key: tuple, labels_key: tuple):
    spec = _spec(name)
    images_file, labels_file = spec.files[split]
    images_path, labels_path = Path(images_key[0]), Path(labels_key[0])
    images = _read_checked(images_path, spec, images_file, IMAGE_MAGIC)
    labels = _read_checked(labels_path, spec, labels_file, LABEL_MAGIC)
    expected = spec.num_train if split == "train" else spec.num_test
    # The checks below cannot fail for identified files; they keep the loader honest should the
    # table of checksums ever be edited wrongly.
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

    ``split`` is "train" or "test". Each file is identified by its content before use (see the
    module docstring): a file of the other data set, a swapped or a modified file raises
    :class:`DataIdentityError`; a damaged one :class:`IDXFormatError`; one this user may not read
    :class:`DataPermissionError`; missing files :class:`DataNotFoundError`, each naming the file
    and the fix. Parsed once per process and file version, and cached (read-only arrays).
    """
    spec = _spec(name)
    if split not in spec.files:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}: pass split='train' "
                         f"({spec.num_train:,} examples) or split='test' ({spec.num_test:,})")
    paths = locate(name, root)
    images_file, labels_file = spec.files[split]
    return _load_arrays_cached(name, split, _file_key(paths[images_file]),
                               _file_key(paths[labels_file]))


def text_labels(labels, dataset: str = "fashion-mnist") -> list[str]:
    """Class names for integer labels (any iterable of ints, NumPy or MXNet array)."""
    classes = _spec(dataset).classes
    values = labels.tolist() if hasattr(labels, "tolist") else labels
    names = []
    for value in ([values] if isinstance(values, numbers.Number) else values):
        if hasattr(value, "item"):  # a NumPy or MXNet scalar, e.g. scores.argmax()
            value = value.item()
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or value != int(value) or not 0 <= value < len(classes)):
            raise ValueError(f"{value!r} is not a class of {_spec(dataset).title}: labels are "
                             f"whole numbers 0–{len(classes) - 1}")
        names.append(classes[int(value)])
    return names


# ---------------------------------------------------------------------------------------------
# Batches


def arrays_sha256(*arrays) -> str:
    """A SHA-256 of arrays' shapes, dtypes and values (NumPy or MXNet), in hex."""
    digest = hashlib.sha256()
    for array in arrays:
        array = onp.ascontiguousarray(to_numpy(array))
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def data_identity(loader) -> dict | None:
    """What a loader's examples are, for checkpoints (see :meth:`ArrayLoader.data_identity`):
    an ArrayLoader's own; for a list or tuple of (X, y) batches, their number and a checksum of
    their values; None for a loader whose content cannot be read without a pass over it."""
    own = getattr(loader, "data_identity", None)
    if callable(own):
        return own()
    if isinstance(loader, list | tuple):
        batches = [array for batch in loader for array in batch]
        return {"dataset": None, "split": None, "subset": None,
                "num_examples": int(sum(to_numpy(y).shape[0] for _, y in loader)),
                "sha256": arrays_sha256(*batches)}
    return None


def quick_subset(num_examples: int, keep: int, seed: int) -> onp.ndarray:
    """Indices of a fixed random subset of ``keep`` examples out of ``num_examples`` (sorted)."""
    rng = onp.random.default_rng(seed)
    return onp.sort(rng.permutation(num_examples)[: min(keep, num_examples)])


# Argument checks shared by ArrayLoader and load_fashion_mnist (each error names the fix).

RESIZE_METHODS = ("bilinear", "nearest")


def _check_flag(value, name: str) -> bool:
    """``value`` as a bool; refuses anything else (``shuffle="no"`` would be true)."""
    if not isinstance(value, bool | onp.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__}): "
                        f"pass {name}=True or {name}=False")
    return bool(value)


def _check_resize(resize) -> tuple[int, int] | None:
    if resize is None:
        return None
    try:
        return as_pair(resize, "resize")
    except (TypeError, ValueError) as err:
        raise type(err)(f"{err}: pass the side of the square images to train on (e.g. "
                        "resize=224), a pair (height, width), or None to keep the stored "
                        "28×28") from None


def _check_resize_method(method) -> str:
    if method not in RESIZE_METHODS:
        raise ValueError(f"resize_method must be 'bilinear' or 'nearest', not {method!r}: "
                         "'bilinear' as d2l resizes, 'nearest' to replicate pixels")
    return method


def _check_seed(seed) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a whole number ≥ 0 or None, got {seed!r} "
                        f"({type(seed).__name__}): pass e.g. seed=0")
    if seed < 0:
        raise ValueError(f"seed must be a whole number ≥ 0 or None, got {seed}: pass e.g. seed=0")
    return int(seed)


def _check_augment(augment):
    if augment is not None and not callable(augment):
        raise TypeError(f"augment must be a function (images, rng) -> images, or None, got "
                        f"{augment!r} ({type(augment).__name__}): pass a function of a batch of "
                        "images and a NumPy Generator that returns new images, or None")
    return augment


def _check_device(device):
    """None (the loader picks :func:`~d2lcnn.machine.devices.try_gpu` when first iterated), or
    ``device`` as an MXNet context (names such as "cpu" or "gpu(1)" are read)."""
    if device is None:
        return None
    from ..machine.devices import as_device

    return as_device(device)


def _check_images(images) -> onp.ndarray:
    """``images`` as a host array of shape (N, H, W): uint8 pixels 0–255 (scaled by the loader),
    or float32 already in [0, 1] (used as they are, not divided by 255 again). Integer images
    within 0–255 become uint8; anything else is refused with the conversion that fixes it."""
    array = to_numpy(images)
    if array.ndim == 4 and array.shape[1] == 1:
        raise ValueError(f"images must have shape (N, H, W), one channel as stored, got "
                         f"{array.shape}: pass images[:, 0] (the loader adds the channel axis)")
    if array.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W) (N images of H×W pixels), got "
                         f"{array.shape}: pass the array load_arrays returns, or one shaped "
                         "like it")
    if len(array) == 0:
        raise ValueError("images is empty (0 examples), so there is nothing to make batches of: "
                         "check the selection that made it (a subset or filter that kept "
                         "nothing?)")
    kind = array.dtype.kind
    if array.dtype == onp.uint8:
        return array
    if kind in "iu":
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > 255:
            raise ValueError(f"integer images must hold pixel values 0–255, these range from "
                             f"{low} to {high}: pass uint8 pixels (0–255) or floats in [0, 1]")
        return array.astype(onp.uint8)
    if kind == "f":
        if not onp.isfinite(array).all():
            raise ValueError("images hold NaN or infinite values: check how they were computed; "
                             "pass uint8 pixels (0–255) or floats in [0, 1]")
        low, high = float(array.min()), float(array.max())
        if low >= 0 and high <= 1:
            return array.astype(onp.float32, copy=False)
        if low >= 0 and high <= 255:
            raise ValueError(
                f"float images range from {low:g} to {high:g}: floats must already be scaled to "
                "[0, 1] (the loader does not divide them by 255 again). Pass "
                "images.astype(numpy.uint8) (pixels 0–255, scaled by the loader) or images / 255")
        raise ValueError(f"float images must be in [0, 1], these range from {low:g} to "
                         f"{high:g} (normalised already?): pass uint8 pixels (0–255) or floats in "
                         "[0, 1]; the loader scales uint8 pixels to [0, 1] itself")
    raise TypeError(f"images of dtype {array.dtype} are not pixels: pass uint8 (0–255) or "
                    "floats in [0, 1]")


def _check_labels(labels, num_images: int) -> onp.ndarray:
    """``labels`` as an int32 host array of class numbers 0, 1, 2 …, one per image."""
    array = to_numpy(labels)
    if array.ndim == 2 and array.shape[1] > 1:
        raise ValueError(f"labels must have shape (N,), one class number per image, got "
                         f"{array.shape} (one-hot rows or scores?): pass labels.argmax(axis=1)")
    if array.ndim != 1:
        raise ValueError(f"labels must have shape (N,), one class number per image, got "
                         f"{array.shape}: pass labels.ravel() if they hold one number each")
    if len(array) != num_images:
        raise ValueError(f"{num_images:,} images but {len(array):,} labels: pass one label per "
                         "image, in the same order (the labels that belong to these images)")
    kind = array.dtype.kind
    if kind == "f":
        if not (onp.isfinite(array).all() and (array == onp.round(array)).all()):
            bad = array[~(onp.isfinite(array) & (array == onp.round(array)))][0]
            raise ValueError(f"labels must be class numbers 0, 1, 2 …, got {bad!r}: pass the "
                             "integer class of each image (not scores or one-hot rows)")
    elif kind not in "iu":
        raise TypeError(f"labels of dtype {array.dtype} are not class numbers: pass integers "
                        "0, 1, 2 …")
    if array.min() < 0:
        raise ValueError(f"labels must be class numbers 0, 1, 2 …, got {array.min()}: the loss "
                         "reads a negative label as no class at all; renumber the classes from 0")
    return array.astype(onp.int32)


class ArrayLoader:
    """Mini-batches of ``(X, y)`` cut from images held in memory.

    Images stay uint8 on the host until they are needed. Then a chunk of batches (up to
    :data:`CHUNK_BYTES` of float32 after the transform: 10 batches of 128 at 28×28, one at
    224×224) is gathered, scaled to [0, 1] (on the host for the CPU; for a GPU copied as uint8,
    4× less traffic than float32, and scaled there) and, if asked, resized on the device in one
    call for the whole chunk; the batches are views of it (see :meth:`host_chunks`). Yields X
    float32 of shape (batch, 1, H, W) and y int32 of shape (batch,). A fresh shuffle is drawn
    every epoch when ``shuffle`` is true; the last batch may be smaller (as in d2l).

    ``images``: (N, H, W) uint8 pixels 0–255, as stored (integer images within 0–255 are taken
    as uint8), or floats already in [0, 1], which are used as they are: they are *not* divided
    by 255 again. Floats outside [0, 1] (pixels 0–255 as floats, normalised images) are refused
    with the conversion to make, since either reading of them could be wrong. ``labels``: (N,)
    class numbers 0, 1, 2 … (int, or whole-number floats). NumPy or MXNet arrays; empty arrays,
    mismatched lengths and negative labels are refused.

    ``batch_size``: a whole number ≥ 1 (NumPy integers too; not ``True``). ``device``: an MXNet
    context or a name ("cpu", "gpu(1)"); default :func:`~d2lcnn.machine.devices.try_gpu`.
    ``resize_method``: "bilinear" (as d2l's ``transforms.Resize``) or "nearest" (pixel
    replication, much cheaper; exact only for whole-number factors such as 28 → 224).
    ``augment``: a function ``(images, rng) -> images`` of a host array (n, H, W) as stored
    (uint8, or float32 in [0, 1]) and a NumPy ``Generator``, returning new images of the same
    shape and dtype (e.g. random flips and crops), applied to every chunk on the host. ``quick``:
    the images are quick mode's subset (:func:`load_fashion_mnist` says so; training reads it).
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
        augment=None,
        quick: bool = False,
    ) -> None:
        self.batch_size = check_positive_int(batch_size, "batch_size", example=256)
        self.images = _check_images(images)
        self.labels = _check_labels(labels, len(self.images))
        self.shuffle = _check_flag(shuffle, "shuffle")
        self.resize = _check_resize(resize)
        self.resize_method = _check_resize_method(resize_method)
        self.device = _check_device(device)
        if not isinstance(name, str):
            raise TypeError(f"name must be a str (shown in reports), got {name!r}")
        self.name = name
        self.augment = _check_augment(augment)
        self.quick = _check_flag(quick, "quick")
        seed = _check_seed(seed)
        # Without a seed, shuffles come from NumPy's global generator, so that
        # config.set_seed() before training makes the order of examples reproducible too.
        self._rng = onp.random.default_rng(seed) if seed is not None else onp.random
        self._shard: tuple[int, int, int] | None = None  # (rank, workers, global batch size)
        #: Where the images come from, when known (:func:`load_fashion_mnist` sets it): data
        #: set, split and subset, recorded by :meth:`data_identity`.
        self.origin: dict = {}
        self._content_sha256: str | None = None

    def data_identity(self) -> dict:
        """What these examples are, for a checkpoint to check on resume: ``dataset``, ``split``
        and ``subset`` (from :attr:`origin`, None when unknown), ``num_examples``, and
        ``sha256``, a checksum of the images and labels as held (computed once per loader)."""
        if self._content_sha256 is None:
            self._content_sha256 = arrays_sha256(self.images, self.labels)
        return {"dataset": self.origin.get("dataset"), "split": self.origin.get("split"),
                "subset": self.origin.get("subset"), "num_examples": len(self.images),
                "sha256": self._content_sha256}

    @property
    def num_examples(self) -> int:
        if self._shard is None:
            return len(self.images)
        _, workers, global_batch = self._shard
        return len(self.images) // global_batch * (global_batch // workers)

    def shard(self, rank: int, num_workers: int) -> ArrayLoader:
        """Worker ``rank``'s share of every batch, for training on ``num_workers`` machines
        (:mod:`d2lcnn.machine.distributed`): each epoch the same order as this loader's (every
        worker seeds alike), each batch of ``batch_size`` cut into ``num_workers`` equal parts, of
        which this worker gets part ``rank``. A last batch smaller than ``batch_size`` is left out,
        so that every step adds up the gradients of one full batch (the examples left out change
        with the shuffle). ``batch_size`` must split evenly."""
        if not (isinstance(num_workers, int) and num_workers >= 1 and 0 <= rank < num_workers):
            raise ValueError(f"rank {rank!r} of {num_workers!r} workers: need 0 ≤ rank < workers")
        if self.batch_size % num_workers:
            raise ValueError(f"batch_size {self.batch_size} does not split evenly over "
                             f"{num_workers} workers: choose a multiple of {num_workers}")
        part = copy.copy(self)
        part._shard = (rank, num_workers, self.batch_size)
        part.batch_size = self.batch_size // num_workers
        return part

    def _epoch_order(self) -> onp.ndarray | None:
        """This epoch's order of the examples (None: as stored, no shuffle, no shard)."""
        if not self.shuffle and self._shard is None:
            return None
        order = (self._rng.permutation(len(self.images)) if self.shuffle
                 else onp.arange(len(self.images)))
        if self._shard is not None:
            rank, workers, global_batch = self._shard
            part = global_batch // workers
            full = len(order) // global_batch * global_batch
            order = order[:full].reshape(-1, global_batch)[:, rank * part:(rank + 1) * part]
            order = order.ravel()
        return order

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
        order = self._epoch_order()
        # The augmentation's generator is drawn from the shuffling one, once per epoch, so that
        # the loader's state (state_dict) fixes both.
        varied = (onp.random.default_rng(self._rng.randint(2**31) if self._rng is onp.random
                                         else self._rng.integers(2**63))
                  if self.augment is not None else None)
        step = self.batches_per_chunk * self.batch_size
        for start in range(0, self.num_examples, step):
            if order is None:
                idx = slice(start, start + step)
            else:
                idx = order[start : start + step]
            images = self.images[idx]
            if varied is not None:
                images = self._augmented(images, varied)
            if images.dtype != onp.uint8:  # floats already in [0, 1]: used as they are
                X = np.array(images, dtype="float32", ctx=device if scale_on_host else host)
                X = X.as_in_ctx(device)
            elif scale_on_host:
                scaled = images.astype(onp.float32) / onp.float32(255)
                X = np.array(scaled, dtype="float32", ctx=device)
            else:
                X = np.array(images, dtype="uint8", ctx=host).as_in_ctx(device)
            y = np.array(self.labels[idx], dtype="int32", ctx=host)
            yield X, y.as_in_ctx(device)

    def _augmented(self, images: onp.ndarray, rng) -> onp.ndarray:
        """``augment`` applied to a chunk, its result checked (a wrong shape or dtype would
        otherwise be cut or cast silently)."""
        out = self.augment(images, rng)
        if not (isinstance(out, onp.ndarray) and out.shape == images.shape
                and out.dtype == images.dtype):
            got = (f"{out.dtype} {out.shape}" if isinstance(out, onp.ndarray)
                   else type(out).__name__)
            raise ValueError(f"augment returned {got}, expected a NumPy array of {images.dtype} "
                             f"{images.shape}: return new images of the shape and dtype it was "
                             "given")
        return out

    def state_dict(self) -> dict:
        """The shuffling generator's state (JSON-serialisable), for exact resumption: after
        :meth:`load_state_dict` of it, the next epochs come in the same order as they would have.
        Checkpoints of ``train`` (:mod:`d2lcnn.lessons`) save and restore it. Without a ``seed`` the
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
    from ..machine.devices import try_gpu

    return try_gpu()


def load_fashion_mnist(
    batch_size: int,
    resize: int | Sequence[int] | None = None,
    *,
    quick: bool | None = None,
    augment=None,
    root: str | os.PathLike | None = None,
    device=None,
    resize_method: str = "bilinear",
    seed: int | None = None,
    dataset: str = "fashion-mnist",
) -> tuple[ArrayLoader, ArrayLoader]:
    """Fashion-MNIST (or ``dataset="mnist"``) as (train_iter, test_iter) of ``(X, y)`` batches.

    X is float32 in [0, 1] of shape (batch, 1, H, W) (28×28, or ``resize``), y is int32 (batch,),
    on ``device`` (default: :func:`~d2lcnn.machine.devices.try_gpu`). The training batches are
    reshuffled every epoch and, with ``augment`` (a function of a uint8 batch of images and a
    random generator, see :class:`ArrayLoader`), varied. ``quick``: keep a fixed subset of the real
    data (:data:`~d2lcnn.config.QUICK_TRAIN_EXAMPLES` and ``QUICK_TEST_EXAMPLES``) and say so; the
    loaders then report ``quick`` so that training runs one epoch. None (the default) reads
    :func:`~d2lcnn.config.quick_mode`.

    Every argument is checked before any file is read (see :class:`ArrayLoader`), and the files
    are identified by their content (see :func:`load_arrays`).
    """
    check_positive_int(batch_size, "batch_size", example=256)
    _check_resize(resize)
    _check_resize_method(resize_method)
    quick = config.quick_mode() if quick is None else quick
    _check_flag(quick, "quick")
    _check_seed(seed)
    _check_augment(augment)
    _spec(dataset)
    _check_root(root)
    device = _check_device(device)
    train_images, train_labels = load_arrays(dataset, "train", root)
    test_images, test_labels = load_arrays(dataset, "test", root)
    subsets = {"train": "all", "test": "all"}
    if quick:
        keep_train = quick_subset(len(train_images), config.QUICK_TRAIN_EXAMPLES, seed=1)
        keep_test = quick_subset(len(test_images), config.QUICK_TEST_EXAMPLES, seed=2)
        print(f"quick mode: using {len(keep_train):,} of {len(train_images):,} training and "
              f"{len(keep_test):,} of {len(test_images):,} test images of {_spec(dataset).title}")
        train_images, train_labels = train_images[keep_train], train_labels[keep_train]
        test_images, test_labels = test_images[keep_test], test_labels[keep_test]
        subsets = {"train": f"quick {arrays_sha256(keep_train)[:16]}",
                   "test": f"quick {arrays_sha256(keep_test)[:16]}"}
    common = dict(batch_size=batch_size, resize=resize, resize_method=resize_method, device=device,
                  quick=quick)
    train_iter = ArrayLoader(train_images, train_labels, shuffle=True, seed=seed, augment=augment,
                             name=f"{dataset} train", **common)
    test_iter = ArrayLoader(test_images, test_labels, shuffle=False, name=f"{dataset} test", **common)
    for loader, split in ((train_iter, "train"), (test_iter, "test")):
        loader.origin = {"dataset": dataset, "split": split, "subset": subsets[split]}
    return train_iter, test_iter


def example_image(index: int = 0, dataset: str = "fashion-mnist", resize: int | None = None,
                  root=None):
    """Test image ``index`` of ``dataset`` as a batch of one, and its label as text.

    Returns ``(X, label)``: X float32 in [0, 1] of shape (1, 1, H, W) (28×28, or ``resize``×
    ``resize`` by bilinear interpolation as the training loaders do), on the CPU. The same image
    in quick and full mode, since it is taken from the whole test set.
    """
    from mxnet import np

    size = _check_resize(resize)
    images, labels = load_arrays(dataset, "test", root)
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"index must be a whole number, got {index!r} ({type(index).__name__})")
    if not 0 <= index < len(images):
        raise IndexError(f"index {index} is outside the {len(images):,} test images of {dataset}: "
                         f"pass 0 to {len(images) - 1:,}")
    X = np.array(images[index : index + 1, None], dtype="float32") / 255
    if size is not None:
        X = resize_batch(X, size)
    return X, text_labels([int(labels[index])], dataset)[0]
