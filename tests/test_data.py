"""Tests of gan_repro.data: parsers on real and synthetic files, transforms, streams, stand-in."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from gan_repro.data import (
    STANDIN_WARNING,
    Domain,
    bundled_samples_dir,
    confidence_mask,
    image_stream,
    load_mnist,
    load_svhn,
    load_svhn_standin,
    load_usps,
    mnist2edge,
    mnist2edge_domains,
    mnist_edge,
    mnist_to_rgb32,
    prune_domain,
    resolve_data_dir,
    shuffled_indices,
    to_unit_range,
    usps_to_rgb32,
)
from gan_repro.errors import BadOptionError, CorruptDataError, DatasetMissingError

REPO = Path(__file__).resolve().parents[1]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
USPS_TRAIN_COUNTS = [1194, 1005, 731, 658, 652, 556, 664, 645, 542, 644]


@pytest.fixture(scope="module")
def mnist_sample() -> Domain:
    return load_mnist(source="bundled")


def _shared_data() -> Path:
    return Path(os.environ.get("GAN_REPRO_SHARED_DATA", REPO.parent / "shared" / "data"))


# ------------------------------------------------------------------------------------ MNIST idx
def test_bundled_mnist_is_the_official_test_set(mnist_sample):
    assert mnist_sample.images.shape == (10000, 28, 28)
    assert mnist_sample.images.dtype == np.uint8 and mnist_sample.labels.dtype == np.int64
    assert np.bincount(mnist_sample.labels).tolist() == MNIST_TEST_COUNTS
    assert "BUNDLED SAMPLE" in mnist_sample.provenance and "test" in mnist_sample.provenance
    assert bundled_samples_dir() == REPO / "data" / "samples"


def _copy_mnist(tmp_path: Path, image_bytes: bytes, gz: bool = True) -> None:
    src = bundled_samples_dir() / "mnist"
    name = "t10k-images-idx3-ubyte" + (".gz" if gz else "")
    (tmp_path / name).write_bytes(image_bytes)
    labels = (src / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(labels)


def test_local_mnist_ungzipped_in_subfolder(tmp_path, mnist_sample):
    raw = gzip.decompress((bundled_samples_dir() / "mnist/t10k-images-idx3-ubyte.gz").read_bytes())
    (tmp_path / "mnist").mkdir()
    _copy_mnist(tmp_path / "mnist", raw, gz=False)
    got = load_mnist("test", data_dir=tmp_path, source="local")
    np.testing.assert_array_equal(got.images, mnist_sample.images)
    assert str(tmp_path) in got.provenance


def test_truncated_mnist_raises_corrupt_naming_the_file(tmp_path):
    gz = (bundled_samples_dir() / "mnist/t10k-images-idx3-ubyte.gz").read_bytes()
    _copy_mnist(tmp_path, gz[: len(gz) // 2])  # cut gzip stream
    with pytest.raises(CorruptDataError, match=r"t10k-images-idx3-ubyte\.gz.*re-download"):
        load_mnist("test", data_dir=tmp_path, source="local")
    raw = gzip.decompress(gz)
    _copy_mnist(tmp_path, gzip.compress(raw[:-100]))  # valid gzip, short payload
    with pytest.raises(CorruptDataError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist("test", data_dir=tmp_path, source="auto")


def test_wrong_magic_raises_corrupt(tmp_path):
    labels = (bundled_samples_dir() / "mnist/t10k-labels-idx1-ubyte.gz").read_bytes()
    _copy_mnist(tmp_path, labels)  # a label file where the images should be
    with pytest.raises(CorruptDataError, match="magic number 0x801, expected 0x803"):
        load_mnist("test", data_dir=tmp_path, source="local")


# ------------------------------------------------------------------------------------ SVHN .mat
def test_svhn_mat_parsing(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 32, 3, 5), dtype=np.uint8)
    y = np.array([[10], [1], [2], [10], [9]], dtype=np.uint8)
    (tmp_path / "svhn").mkdir()
    scipy_io.savemat(tmp_path / "svhn" / "test_32x32.mat", {"X": x, "y": y})
    got = load_svhn("test", data_dir=tmp_path, source="auto")
    assert got.images.shape == (5, 32, 32, 3) and got.images.dtype == np.uint8
    np.testing.assert_array_equal(got.images[3], x[:, :, :, 3])
    assert got.labels.tolist() == [0, 1, 2, 0, 9] and got.labels.dtype == np.int64


def test_svhn_missing_and_bad_options(tmp_path):
    with pytest.raises(DatasetMissingError, match="train_32x32.mat") as info:
        load_svhn(source="local", data_dir=tmp_path)
    assert "svhn_cropped" in str(info.value) and str(tmp_path) in str(info.value)
    with pytest.raises(DatasetMissingError, match="load_svhn_standin"):
        load_svhn(source="bundled")
    with pytest.raises(BadOptionError, match="'auto', 'local', 'tfds', 'bundled'"):
        load_svhn(source="internet")
    with pytest.raises(BadOptionError, match="split"):
        load_mnist(split="validation", source="bundled")


# ------------------------------------------------------------------------------------------ USPS
def test_usps_text_format(tmp_path):
    rows = np.full((3, 257), -1.0)
    rows[:, 0] = [6, 5, 0]
    rows[1, 1:] = 1.0
    rows[2, 1 + 17] = 0.0
    text = "\n".join(" ".join(f"{v:.4f}" for v in row) for row in rows) + "\n"
    (tmp_path / "zip.train.gz").write_bytes(gzip.compress(text.encode()))
    got = load_usps("train", data_dir=tmp_path, source="local")
    assert got.images.shape == (3, 16, 16) and got.images.dtype == np.uint8
    assert got.labels.tolist() == [6, 5, 0]
    assert got.images[0].max() == 0 and got.images[1].min() == 255
    assert got.images[2, 1, 1] == 128  # round((0 + 1) * 127.5)
    (tmp_path / "zip.test").write_text("1 0.5 0.5\n")
    with pytest.raises(CorruptDataError, match="zip.test"):
        load_usps("test", data_dir=tmp_path, source="local")


def test_usps_bundled_and_tfds_refused(tmp_path):
    got = load_usps("train", source="bundled")
    assert got.images.shape == (7291, 16, 16)
    assert np.bincount(got.labels).tolist() == USPS_TRAIN_COUNTS
    assert len(load_usps("test", source="bundled")) == 2007
    with pytest.raises(BadOptionError, match="no USPS"):
        load_usps(source="tfds")
    with pytest.raises(DatasetMissingError, match="zip.train"):
        load_usps(source="auto", data_dir=tmp_path)


# ------------------------------------------------------------------------------------------ TFDS
@pytest.mark.parametrize(
    "loader,shape", [(load_mnist, (28, 28)), (load_svhn, (32, 32, 3))], ids=["mnist", "svhn"]
)
def test_tfds_path_with_mock_data(tmp_path, loader, shape):
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=20):
        got = loader("train", data_dir=tmp_path, source="auto")  # empty dir -> TFDS
    assert got.images.shape == (20, *shape) and got.images.dtype == np.uint8
    assert got.labels.shape == (20,) and got.labels.dtype == np.int64
    assert got.labels.min() >= 0 and got.labels.max() <= 9
    assert got.provenance.startswith("TFDS ")


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_REPRO_DATA", raising=False)
    assert resolve_data_dir() is None
    monkeypatch.setenv("GAN_REPRO_DATA", str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert resolve_data_dir("/elsewhere") == Path("/elsewhere")
    with pytest.raises(DatasetMissingError, match="GAN_REPRO_DATA"):
        load_mnist("test", source="local")  # env dir is empty


# ------------------------------------------------------------------------------------ transforms
def test_unit_range_mapping():
    x = to_unit_range(np.array([0, 127, 128, 255], np.uint8))
    assert x.dtype == np.float32
    assert x[0] == -1.0 and x[-1] == 1.0 and -0.01 < x[1] < 0 < x[2] < 0.01


def test_mnist_to_rgb32_matches_tf_bilinear(mnist_sample):
    imgs = mnist_sample.images[:64]
    rgb = mnist_to_rgb32(imgs)
    assert rgb.shape == (64, 32, 32, 3) and rgb.dtype == np.uint8
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    # the authors' order: normalise, then tf.image.resize (bilinear); at most half a grey level off
    ref = tf.image.resize(to_unit_range(imgs)[..., None], (32, 32)).numpy()[..., 0]
    assert np.abs(to_unit_range(rgb[..., 0]) - ref).max() <= 0.5 / 127.5 + 1e-6
    assert usps_to_rgb32(np.zeros((2, 16, 16), np.float32)).shape == (2, 32, 32, 3)


def test_mnist_edge_hand_computed():
    img = np.zeros((1, 5, 5), np.uint8)
    img[0, 2, 2] = 200
    img[0, 2, 3] = 100
    expected = np.zeros((5, 5), np.uint8)
    expected[1:4, 1:5] = 200  # 3x3 max of the two pixels
    expected[1:4, 4] = 100
    expected[2, 2] = 0  # 200 - 200
    expected[2, 3] = 100  # 200 - 100
    np.testing.assert_array_equal(mnist_edge(img)[0], expected)


def test_mnist2edge_halves_are_disjoint(mnist_sample):
    plain, edges = mnist2edge_domains(mnist_sample.images[:101])
    assert plain.shape == edges.shape == (50, 28, 28)
    np.testing.assert_array_equal(edges, mnist_edge(mnist_sample.images[50:100]))
    first, second = mnist2edge(mnist_sample.subset(slice(0, 100)))
    assert second.name == "mnist_edge" and len(first) == len(second) == 50
    np.testing.assert_array_equal(second.labels, mnist_sample.labels[50:100])


# -------------------------------------------------------------------------------------- pipeline
def _take(ds, k) -> np.ndarray:
    return np.stack([np.asarray(x) for x in ds.take(k)])


def test_shuffled_indices_epochs_and_resume():
    n = 37
    stream = _take(shuffled_indices(n, seed=5), 3 * n)
    assert stream.dtype == np.int64
    for e in range(3):
        assert sorted(stream[e * n : (e + 1) * n]) == list(range(n))
    assert not np.array_equal(stream[:n], stream[n : 2 * n])
    for k in (1, 36, 37, 50):
        np.testing.assert_array_equal(_take(shuffled_indices(n, 5, start=k), 3 * n - k), stream[k:])
    assert not np.array_equal(_take(shuffled_indices(n, seed=6), n), stream[:n])
    # equals the public TF op, one seed [seed, epoch] per element
    i64 = lambda v: tf.constant(v, tf.int64)
    public = tf.random.experimental.index_shuffle(i64(40 % n), i64([5, 40 // n]), i64(n - 1))
    assert int(public) == stream[40]


def test_image_stream_resume_group_and_range():
    images = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    images[-1] = 255
    flat = _take(image_stream(images, batch_size=4, seed=3), 9)
    assert flat.shape == (9, 4, 2, 2, 3) and flat.dtype == np.float32
    assert flat.min() >= -1.0 and flat.max() <= 1.0 and flat.max() == 1.0
    order = np.concatenate(list(shuffled_indices(10, 3).batch(36).take(1)))
    np.testing.assert_array_equal(flat.reshape(36, -1)[:, 0], to_unit_range(images[order, 0, 0, 0]))
    grouped = _take(image_stream(images, batch_size=4, seed=3, group=3), 3)
    assert grouped.shape == (3, 4, 3, 2, 2, 3)
    for s in range(3):
        for k in range(3):
            np.testing.assert_array_equal(grouped[s][:, k], flat[3 * s + k])
    resumed = _take(image_stream(images, batch_size=4, seed=3, group=3, start=12), 2)
    np.testing.assert_array_equal(resumed, grouped[1:])
    assert _take(image_stream(images[..., 0], batch_size=2, seed=0), 1).shape == (1, 2, 2, 2, 1)
    with pytest.raises(BadOptionError):
        image_stream(images.astype(np.float32), batch_size=2, seed=0)


# --------------------------------------------------------------------------------------- stand-in
def test_standin(mnist_sample):
    a = load_svhn_standin(n=40, seed=1, mnist=mnist_sample)
    b = load_svhn_standin(n=40, seed=1, mnist=mnist_sample)
    c = load_svhn_standin(n=40, seed=2, mnist=mnist_sample)
    assert a.images.shape == (40, 32, 32, 3) and a.images.dtype == np.uint8
    assert a.labels.dtype == np.int64 and a.name == "svhn_standin"
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)
    assert a.provenance.startswith("STAND-IN, NOT SVHN:")
    assert "NOT SVHN" in STANDIN_WARNING and STANDIN_WARNING.count("\n") >= 3
    assert a.images.std() > 20  # coloured, not blank


# ---------------------------------------------------------------------------------------- pruning
def test_confidence_mask_boundary():
    for dtype in (np.float32, np.float64):
        probs = np.array([[0.4, 0.3, 0.3], [0.41, 0.59, 0.0], [0.2, 0.41, 0.39]], dtype)
        assert confidence_mask(probs).tolist() == [False, True, True]
    assert confidence_mask(np.array([[0.5, 0.5]]), threshold=0.5).tolist() == [False]


def test_prune_domain_counts():
    images = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    domain = Domain("svhn", images, np.arange(10, dtype=np.int64), "synthetic test data")
    seen = []

    def fake_probs(batch):
        seen.append(batch.shape)
        assert batch.dtype == np.float32 and batch.min() >= -1 and batch.max() <= 1
        top = np.where(batch[:, 0, 0, 0] < to_unit_range(np.uint8(5)), 0.4, 0.9)  # 0..4 dropped
        return np.stack([top, (1 - top) / 2, (1 - top) / 2], axis=1)

    kept, stats = prune_domain(domain, fake_probs, batch_size=4)
    assert seen == [(4, 32, 32, 3), (4, 32, 32, 3), (2, 32, 32, 3)]
    assert kept.labels.tolist() == [5, 6, 7, 8, 9] and kept.images.shape == (5, 28, 28)
    assert stats == {
        "kept": 5,
        "total": 10,
        "threshold": 0.4,
        "thesis_kept": 70262,
        "thesis_total": 73257,
    }
    assert kept.provenance.endswith("pruned at max-softmax > 0.4: kept 5 of 10")


# ------------------------------------------------------------------------------ real shared data
def test_shared_mnist_folder():
    folder = _shared_data() / "mnist"
    if not (folder / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"shared data not found at {folder} (set GAN_REPRO_SHARED_DATA)")
    got = load_mnist("test", data_dir=folder, source="local")
    assert len(got) == 10000 and np.bincount(got.labels).tolist() == MNIST_TEST_COUNTS
    with pytest.raises(DatasetMissingError, match="train-images-idx3-ubyte.gz"):
        load_mnist("train", data_dir=folder, source="local")
