"""The data module on the real Fashion-MNIST and MNIST files (../shared/data or D2LCNN_DATA_DIR)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import stat
import time
import urllib.error

import mxnet as mx
import numpy as onp
import pytest

from d2lcnn import config
from d2lcnn.tools import data


@pytest.fixture()
def isolated(monkeypatch, tmp_path):
    """No data anywhere: empty D2LCNN_DATA_DIR and MXNet cache, no system folder."""
    monkeypatch.setenv("D2LCNN_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mxnet"))
    for name, spec in data.DATASETS.items():
        monkeypatch.setitem(data.DATASETS, name, _without_system_dirs(spec))
    return tmp_path


def _without_system_dirs(spec):
    from dataclasses import replace

    return replace(spec, system_dirs=())


def _offline(monkeypatch):
    def refuse(url, timeout=None):
        raise urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setattr(data.urllib.request, "urlopen", refuse)


# --- IDX parsing ------------------------------------------------------------------------------


def test_read_idx_real_files(data_dir):
    images = data.read_idx(data_dir / "fashion-mnist" / "t10k-images-idx3-ubyte.gz", data.IMAGE_MAGIC)
    labels = data.read_idx(data_dir / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz", data.LABEL_MAGIC)
    assert images.shape == (10000, 28, 28) and images.dtype == onp.uint8
    assert labels.shape == (10000,) and set(onp.unique(labels)) == set(range(10))
    assert onp.bincount(labels).tolist() == [1000] * 10


def test_read_idx_uncompressed(data_dir, tmp_path):
    raw = gzip.decompress((data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes())
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(raw)
    labels = data.read_idx(tmp_path / "t10k-labels-idx1-ubyte")
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def _rewrite(data_dir, tmp_path, change):
    """A copy of the real test-labels file with its decompressed bytes changed by ``change``."""
    raw = bytearray(gzip.decompress((data_dir / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes(change(raw))))
    return path


def test_corrupt_magic_is_rejected(data_dir, tmp_path):
    def corrupt(raw):
        raw[0:4] = (1234).to_bytes(4, "big")
        return raw

    path = _rewrite(data_dir, tmp_path, corrupt)
    with pytest.raises(data.IDXFormatError, match=r"t10k-labels-idx1-ubyte\.gz: bad magic number 1234"):
        data.read_idx(path)


def test_images_file_given_as_labels_is_rejected(data_dir):
    with pytest.raises(data.IDXFormatError, match="magic number 2051, expected 2049"):
        data.read_idx(data_dir / "fashion-mnist" / "t10k-images-idx3-ubyte.gz", data.LABEL_MAGIC)


def test_truncated_file_is_rejected(data_dir, tmp_path):
    path = _rewrite(data_dir, tmp_path, lambda raw: raw[:-100])
    with pytest.raises(data.IDXFormatError, match=r"t10k-labels-idx1-ubyte\.gz: truncated: header says "
                                                  r"10000 = 10,000 bytes of data, the file holds 9,900"):
        data.read_idx(path)


def test_trailing_bytes_are_rejected(data_dir, tmp_path):
    path = _rewrite(data_dir, tmp_path, lambda raw: raw + b"\0" * 7)
    with pytest.raises(data.IDXFormatError, match="has trailing bytes"):
        data.read_idx(path)


def test_truncated_gzip_is_rejected(data_dir, tmp_path):
    source = (data_dir / "fashion-mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(source[: len(source) // 2])
    with pytest.raises(data.IDXFormatError, match="corrupt or truncated"):
        data.read_idx(path)


def test_corrupt_file_in_a_data_folder_names_the_file(data_dir, tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    shutil.copytree(data_dir / "fashion-mnist", folder)
    good = gzip.decompress((folder / "t10k-images-idx3-ubyte.gz").read_bytes())
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(good[:-784]))  # one image short
    with pytest.raises(data.IDXFormatError, match=r"t10k-images-idx3-ubyte\.gz: truncated"):
        data.load_arrays("fashion-mnist", "test", root=folder)


def test_mismatched_files_are_rejected(data_dir, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(data_dir / "fashion-mnist", folder)
    shutil.copy(data_dir / "fashion-mnist" / "train-labels-idx1-ubyte.gz",
                folder / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(data.DataIdentityError, match="Fashion-MNIST's training labels.*not its "
                                                     "test labels.*original name"):
        data.load_arrays("fashion-mnist", "test", root=folder)


# --- identity: what a file holds, whatever its name or compression ------------------------------


def test_payload_checksums_identify_the_real_files(data_dir):
    """The recorded SHA-256 of each decompressed file is that of the real file, for both sets."""
    for name, spec in data.DATASETS.items():
        for file_name, digest in spec.payload_sha256.items():
            raw = data.read_payload(data_dir / name / file_name)
            assert data.payload_sha256(raw) == digest
            assert data.identify(digest) == (spec, file_name)
    assert data.identify("0" * 64) is None


def test_recompressed_and_uncompressed_copies_are_recognised(data_dir, tmp_path):
    """Debian re-compresses the files (another gzip header, another level) and also ships them
    uncompressed: the identity is the decompressed bytes', so every form loads."""
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for file_name in data.DATASETS["fashion-mnist"].file_names:
        raw = data.read_payload(data_dir / "fashion-mnist" / file_name)
        if "labels" in file_name:
            (folder / file_name.removesuffix(".gz")).write_bytes(raw)
        else:
            (folder / file_name).write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
    images, labels = data.load_arrays("fashion-mnist", "test", root=folder)
    reference = data.load_arrays("fashion-mnist", "test")
    assert (images == reference[0]).all() and (labels == reference[1]).all()


def test_a_folder_of_one_data_set_never_loads_as_the_other(data_dir, monkeypatch):
    monkeypatch.setenv("D2LCNN_DATA_DIR", str(data_dir / "fashion-mnist"))
    with pytest.raises(data.DataIdentityError, match="Fashion-MNIST's training images, not "
                                                     "MNIST's training images"):
        data.load_arrays("mnist")
    monkeypatch.setenv("D2LCNN_DATA_DIR", str(data_dir / "mnist"))
    with pytest.raises(data.DataIdentityError, match="MNIST's test images, not Fashion-MNIST's"):
        data.load_arrays("fashion-mnist", "test")


def test_mnist_images_with_fashion_labels_are_refused(data_dir, tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for file_name in data.DATASETS["fashion-mnist"].file_names:
        source = "mnist" if "images" in file_name else "fashion-mnist"
        (folder / file_name).symlink_to(data_dir / source / file_name)
    with pytest.raises(data.DataIdentityError) as info:
        data.load_arrays("fashion-mnist", "test", root=tmp_path)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz: this is MNIST's test images" in message
    assert "a folder of its own" in message and "D2LCNN_DATA_DIR" in message


def test_a_modified_file_is_not_taken_for_the_real_one(data_dir, tmp_path):
    raw = bytearray(data.read_payload(data_dir / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz"))
    raw[100] = (raw[100] + 1) % 10  # one label changed: still a well-formed labels file
    folder = tmp_path / "fashion-mnist"
    shutil.copytree(data_dir / "fashion-mnist", folder)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(data.DataIdentityError, match="not Fashion-MNIST's test labels.*modified, "
                                                     "corrupt or from another data set.*Delete"):
        data.load_arrays("fashion-mnist", "test", root=folder)


def test_a_replaced_file_is_checked_again(data_dir, tmp_path):
    """The cache is per path, modification time and size: a file changed after a good load is
    read and identified again."""
    folder = tmp_path / "fashion-mnist"
    shutil.copytree(data_dir / "fashion-mnist", folder)
    data.load_arrays("fashion-mnist", "test", root=folder)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    target.unlink()
    target.symlink_to(data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(data.DataIdentityError, match="MNIST's test labels"):
        data.load_arrays("fashion-mnist", "test", root=folder)


# --- finding and downloading --------------------------------------------------------------------


def test_search_order_env_cache_system_and_root_alone(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("D2LCNN_DATA_DIR", str(tmp_path / "env"))
    dirs = data.candidate_dirs("fashion-mnist")
    assert dirs[:2] == [tmp_path / "env" / "fashion-mnist", tmp_path / "env"]
    assert dirs[2].parts[-2:] == ("datasets", "fashion-mnist")
    assert dirs[3].as_posix() == "/usr/share/datasets/fashion-mnist"
    # root= given: only there (a root that does not hold the files is an error, never skipped)
    assert data.candidate_dirs("fashion-mnist", root=data_dir) == [data_dir,
                                                                   data_dir / "fashion-mnist"]
    found = data.find_files("fashion-mnist", root=data_dir)
    assert found["train-images-idx3-ubyte.gz"].parent == data_dir / "fashion-mnist"


def test_offline_without_files_gives_one_clear_error(isolated, monkeypatch):
    _offline(monkeypatch)
    with pytest.raises(data.DataNotFoundError) as info:
        data.load_fashion_mnist(256)
    message = str(info.value)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert name in message
    assert str(isolated / "empty" / "fashion-mnist") in message
    assert "D2LCNN_DATA_DIR" in message and "network is unreachable" in message
    assert "apt install dataset-fashion-mnist" in message
    cache = isolated / "mxnet" / "datasets" / "fashion-mnist"
    assert not cache.exists() or not any(cache.iterdir()), "a failed download left files behind"


class _Response(io.BytesIO):
    def __init__(self, payload: bytes):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}


def test_download_checks_md5_and_writes_atomically(data_dir, isolated, monkeypatch):
    """The real archives, served by a stand-in for the mirror, land in the cache and load."""
    served = []

    def serve(url, timeout=None):
        name = url.rsplit("/", 1)[1]
        served.append(name)
        return _Response((data_dir / "fashion-mnist" / name).read_bytes())

    monkeypatch.setattr(data.urllib.request, "urlopen", serve)
    images, labels = data.load_arrays("fashion-mnist", "test")
    assert len(served) == 4 and images.shape == (10000, 28, 28)
    cache = isolated / "mxnet" / "datasets" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(data.DATASETS["fashion-mnist"].file_names)
    for name, md5 in data.DATASETS["fashion-mnist"].md5.items():
        assert hashlib.md5((cache / name).read_bytes()).hexdigest() == md5


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_downloads_respect_the_umask(data_dir, isolated, monkeypatch, umask):
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout=None: _Response(
        (data_dir / "fashion-mnist" / url.rsplit("/", 1)[1]).read_bytes()))
    previous = os.umask(umask)
    try:
        target = isolated / "cache" / "t10k-labels-idx1-ubyte.gz"
        data.download_file("https://mirror/t10k-labels-idx1-ubyte.gz", target,
                           data.DATASETS["fashion-mnist"].md5["t10k-labels-idx1-ubyte.gz"])
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_leftovers_of_killed_downloads_are_removed(data_dir, isolated, monkeypatch):
    """A download killed outright (kill -9, power cut) leaves its hidden temporary file; the next
    look for the data set removes it, but never the file of a download still running."""
    cache = isolated / "mxnet" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    old = [cache / ".train-images-idx3-ubyte.gz.k2j4h1.tmp",
           cache / ".t10k-labels-idx1-ubyte.gz.x8a0c3.part"]  # an older version's name
    running = cache / ".t10k-images-idx3-ubyte.gz.q1w2e3.tmp"
    mine = cache / "notes.txt"  # not a download's: never touched
    for path in (*old, running, mine):
        path.write_bytes(b"partial")
    an_hour_ago = time.time() - 3600
    for path in (*old, mine):
        os.utime(path, (an_hour_ago, an_hour_ago))
    _offline(monkeypatch)
    with pytest.raises(data.DataNotFoundError):
        data.locate("fashion-mnist")
    assert sorted(p.name for p in cache.iterdir()) == sorted([running.name, mine.name])


def test_download_with_wrong_checksum_leaves_nothing(data_dir, isolated, monkeypatch):
    wrong = (data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz").read_bytes()  # not the fashion file
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout=None: _Response(wrong))
    with pytest.raises(data.DataNotFoundError, match="differs from the published"):
        data.locate("fashion-mnist")
    cache = isolated / "mxnet" / "datasets" / "fashion-mnist"
    assert list(cache.iterdir()) == [], "no partial or unverified file may stay in the cache"


# --- arrays and batches -------------------------------------------------------------------------


def test_mnist_is_the_real_mnist():
    images, labels = data.load_arrays("mnist", "train")
    assert images.shape == (60000, 28, 28)
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert onp.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(images.mean() / 255 - 0.1307) < 1e-3


def test_text_labels():
    assert data.text_labels([0, 9, 5]) == ["t-shirt", "ankle boot", "sandal"]
    assert data.text_labels(onp.array([3, 1]), dataset="mnist") == ["3", "1"]


def test_loader_shapes_dtypes_ranges():
    train_iter, test_iter = data.load_fashion_mnist(256)
    assert (train_iter.num_examples, test_iter.num_examples) == (60000, 10000)
    assert (len(train_iter), len(test_iter)) == (235, 40)
    X, y = next(iter(test_iter))
    assert X.shape == (256, 1, 28, 28) and X.dtype == onp.float32
    assert y.shape == (256,) and y.dtype == onp.int32
    assert float(X.min()) == 0.0 and float(X.max()) == 1.0
    images, labels = data.load_arrays("fashion-mnist", "test")
    onp.testing.assert_allclose(X.asnumpy()[:, 0], images[:256] / 255, rtol=1e-6)
    assert (y.asnumpy() == labels[:256]).all()
    sizes = [y.shape[0] for _, y in test_iter]
    assert sum(sizes) == 10000 and sizes[-1] == 10000 - 39 * 256


@pytest.mark.parametrize("resize, method", [(96, "bilinear"), (224, "nearest"), ((32, 40), "bilinear")])
def test_loader_resize(resize, method):
    _, test_iter = data.load_fashion_mnist(64, resize=resize, resize_method=method)
    X, _ = next(iter(test_iter))
    h, w = (resize, resize) if isinstance(resize, int) else resize
    assert X.shape == (64, 1, h, w) and test_iter.image_shape == (1, h, w)
    assert 0.0 <= float(X.min()) and float(X.max()) <= 1.0 + 1e-6


def test_nearest_resize_replicates_pixels_exactly():
    _, test_iter = data.load_fashion_mnist(8, resize=224, resize_method="nearest")
    X, _ = next(iter(test_iter))
    images, _ = data.load_arrays("fashion-mnist", "test")
    onp.testing.assert_allclose(X.asnumpy()[0, 0, ::8, ::8], images[0] / 255, rtol=1e-6)


def test_bilinear_resize_keeps_the_mean():
    _, test_iter = data.load_fashion_mnist(16, resize=96)
    X, _ = next(iter(test_iter))
    images, _ = data.load_arrays("fashion-mnist", "test")
    assert abs(float(X.mean()) - images[:16].mean() / 255) < 0.01


def test_nearest_needs_whole_factors():
    _, test_iter = data.load_fashion_mnist(8, resize=96, resize_method="nearest")
    with pytest.raises(ValueError, match="whole-number factors"):
        next(iter(test_iter))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="batch_size must be at least 1, got 0: pass e.g. "
                                         "batch_size=256"):
        data.load_fashion_mnist(0)
    with pytest.raises(ValueError, match="resize must be at least 1, got -3: pass the side"):
        data.load_fashion_mnist(8, resize=-3)
    with pytest.raises(ValueError, match="unknown data set 'cifar': choose one of"):
        data.load_arrays("cifar")
    with pytest.raises(ValueError, match="did you mean 'fashion-mnist'"):
        data.load_arrays("Fashion_MNIST")


def test_numpy_integers_are_sizes_and_booleans_are_not():
    images, labels = data.load_arrays("fashion-mnist", "test")
    loader = data.ArrayLoader(images[:300], labels[:300], onp.int64(128), resize=onp.int32(32))
    assert loader.batch_size == 128 and type(loader.batch_size) is int
    assert loader.resize == (32, 32) and len(loader) == 3
    with pytest.raises(TypeError, match="batch_size must be a whole number ≥ 1, got True"):
        data.ArrayLoader(images[:300], labels[:300], True)
    with pytest.raises(TypeError, match="resize must be an int or a pair of ints"):
        data.ArrayLoader(images[:300], labels[:300], 100, resize=True)


def test_float_images_in_0_1_are_used_as_they_are():
    """Images already scaled to [0, 1] are not divided by 255 a second time."""
    images, labels = data.load_arrays("fashion-mnist", "test")
    scaled = images[:200].astype(onp.float32) / 255
    as_bytes = data.ArrayLoader(images[:200], labels[:200], 100, device=mx.cpu())
    as_floats = data.ArrayLoader(scaled, labels[:200], 100, device=mx.cpu())
    for (X, _), (X2, _) in zip(as_bytes, as_floats, strict=True):
        onp.testing.assert_allclose(X.asnumpy(), X2.asnumpy(), rtol=1e-6)
    (raw, _), = list(as_floats.host_chunks(scale_on_host=False))  # a GPU's share
    onp.testing.assert_allclose(as_floats.transform(raw).asnumpy()[:, 0], scaled, rtol=1e-6)
    assert float(X2.max()) <= 1.0 and float(X2.max()) > 0.5


def test_mxnet_arrays_and_integer_images_are_accepted():
    images, labels = data.load_arrays("fashion-mnist", "test")
    loader = data.ArrayLoader(mx.np.array(images[:100].astype("int32")),
                              mx.np.array(labels[:100].astype("float32")), 50, device="cpu")
    assert loader.images.dtype == onp.uint8 and (loader.images == images[:100]).all()
    assert (loader.labels == labels[:100]).all() and loader.device == mx.cpu()


def test_text_labels_refuses_what_is_no_class():
    with pytest.raises(ValueError, match="-1 is not a class of Fashion-MNIST: labels are whole "
                                         "numbers 0–9"):
        data.text_labels([3, -1])
    with pytest.raises(ValueError, match="10 is not a class of MNIST"):
        data.text_labels([10], dataset="mnist")


def test_training_batches_are_reshuffled_each_epoch():
    train_iter, _ = data.load_fashion_mnist(1000, seed=0)
    first = [y.asnumpy() for _, y in train_iter]
    second = [y.asnumpy() for _, y in train_iter]
    assert not all((a == b).all() for a, b in zip(first, second, strict=True))
    assert sorted(onp.concatenate(first).tolist()) == sorted(onp.concatenate(second).tolist())


def test_quick_mode_keeps_a_fixed_real_subset(capsys):
    train_iter, test_iter = data.load_fashion_mnist(256, quick=True)
    assert train_iter.num_examples == config.QUICK_TRAIN_EXAMPLES == 1000
    assert test_iter.num_examples == config.QUICK_TEST_EXAMPLES == 500
    assert train_iter.quick and test_iter.quick
    assert "quick mode: using 1,000 of 60,000 training" in capsys.readouterr().out
    again, _ = data.load_fashion_mnist(256, quick=True)
    assert (again.images == train_iter.images).all()
    counts = onp.bincount(train_iter.labels, minlength=10)
    assert counts.min() > 50, f"the subset should cover every class, got {counts}"


def test_chunked_batches_equal_one_batch_at_a_time(monkeypatch):
    """Batches cut from a chunk are exactly the batches gathered one by one, in the same order."""
    images, labels = data.load_arrays("fashion-mnist", "test")
    images, labels = images[:2000], labels[:2000]
    loader = data.ArrayLoader(images, labels, 128, shuffle=True, seed=3, device=mx.cpu())
    loader_small = data.ArrayLoader(images, labels, 128, shuffle=True, seed=3, device=mx.cpu())
    assert loader.batches_per_chunk == 10  # 4 MiB of float32 at 28×28
    batches = list(loader)
    order = onp.random.default_rng(3).permutation(2000)
    assert [y.shape[0] for _, y in batches] == [128] * 15 + [80]
    for k, (X, y) in enumerate(batches):
        idx = order[k * 128 : (k + 1) * 128]
        onp.testing.assert_allclose(X.asnumpy()[:, 0], images[idx] / 255, rtol=1e-6)
        assert (y.asnumpy() == labels[idx]).all()
    # chunks of another size cut the same batches
    monkeypatch.setattr(data, "CHUNK_BYTES", 3 * 4 * 128 * 28 * 28)  # 3 batches a chunk
    assert loader_small.batches_per_chunk == 3
    for (X, y), (X2, y2) in zip(batches, loader_small, strict=True):
        assert (X.asnumpy() == X2.asnumpy()).all() and (y.asnumpy() == y2.asnumpy()).all()


def test_big_images_come_one_batch_a_chunk():
    _, test_iter = data.load_fashion_mnist(128, resize=224)
    assert test_iter.batches_per_chunk == 1
    _, test_iter = data.load_fashion_mnist(128, resize=96)
    assert test_iter.batches_per_chunk == 1


@pytest.mark.parametrize("seed", [5, None])
def test_state_dict_resumes_the_same_shuffles(seed):
    """After load_state_dict, a fresh loader draws the epochs the saved one would have drawn."""
    images, labels = data.load_arrays("fashion-mnist", "test")
    make = lambda: data.ArrayLoader(images[:500], labels[:500], 100, shuffle=True, seed=seed)  # noqa: E731
    config.set_seed(11)
    loader = make()
    next(iter(loader))  # one epoch's order drawn
    state = json.loads(json.dumps(loader.state_dict()))  # survives JSON, as in a checkpoint
    expected = [y.asnumpy() for _, y in loader]
    config.set_seed(99)  # another state, as in a new process
    resumed = make()
    resumed.load_state_dict(state)
    assert all((a == b.asnumpy()).all() for a, (_, b) in zip(expected, resumed, strict=True))


def test_state_of_another_kind_of_loader_is_refused():
    images, labels = data.load_arrays("fashion-mnist", "test")
    seeded = data.ArrayLoader(images[:10], labels[:10], 5, shuffle=True, seed=1)
    unseeded = data.ArrayLoader(images[:10], labels[:10], 5, shuffle=True)
    with pytest.raises(ValueError, match="same seed= argument"):
        unseeded.load_state_dict(seeded.state_dict())


def test_host_chunks_are_uint8_for_a_gpu_and_scaled_for_the_cpu():
    images, labels = data.load_arrays("fashion-mnist", "test")
    loader = data.ArrayLoader(images[:300], labels[:300], 100, device=mx.cpu())
    (raw, y), = list(loader.host_chunks(scale_on_host=False))
    (scaled, y2), = list(loader.host_chunks())
    assert raw.dtype == onp.uint8 and scaled.dtype == onp.float32
    assert (raw.asnumpy() == images[:300]).all() and (y.asnumpy() == y2.asnumpy()).all()
    # the same values as MXNet's own uint8 -> float32 scaling on the device
    assert (scaled.asnumpy() == (raw.astype("float32") / 255).asnumpy()).all()
    assert (loader.transform(raw).asnumpy() == loader.transform(scaled).asnumpy()).all()
