"""FID / KID (gan_repro.metrics.fid) against direct numpy/scipy computations written here."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gan_repro.errors import BadOptionError, CorruptDataError, WeightsMissingError
from gan_repro.metrics.fid import (
    extract_features,
    feature_statistics,
    fid_kid,
    frechet_distance,
    inception_features,
    kernel_inception_distance,
    polynomial_mmd2,
)


def _features(seed: int, n: int = 200, d: int = 16, shift: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mix + shift


def _fid_direct(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance through the symmetric form Tr((sqrt(S1) S2 sqrt(S1))^(1/2)), by eigh."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)

    def psd_sqrt(a):
        w, v = np.linalg.eigh((a + a.T) / 2)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    r1 = psd_sqrt(s1)
    tr_covmean = np.sqrt(np.clip(np.linalg.eigvalsh(r1 @ s2 @ r1), 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)


def test_feature_statistics_is_mean_and_unbiased_covariance():
    f = _features(0)
    mu, sigma = feature_statistics(f)
    np.testing.assert_allclose(mu, f.mean(0))
    centred = f - f.mean(0)
    np.testing.assert_allclose(sigma, centred.T @ centred / (len(f) - 1), atol=1e-12)


def test_frechet_distance_matches_direct_computation():
    f1, f2 = _features(1), _features(2, shift=0.3)
    got = frechet_distance(*feature_statistics(f1), *feature_statistics(f2))
    want = _fid_direct(f1, f2)
    assert want > 1.0
    assert got == pytest.approx(want, rel=1e-9, abs=1e-6)


def test_frechet_distance_eigh_method_equals_sqrtm():
    f1, f2 = _features(17, n=300, d=32), _features(18, n=300, d=32, shift=0.2)
    s1, s2 = feature_statistics(f1), feature_statistics(f2)
    assert frechet_distance(*s1, *s2, method="eigh") == pytest.approx(
        frechet_distance(*s1, *s2), rel=1e-9
    )
    with pytest.raises(BadOptionError, match="method"):
        frechet_distance(*s1, *s2, method="svd")


def test_frechet_distance_diagonal_gaussians_closed_form():
    rng = np.random.default_rng(3)
    m1, m2 = rng.normal(size=16), rng.normal(size=16)
    v1, v2 = rng.uniform(0.1, 3.0, 16), rng.uniform(0.1, 3.0, 16)
    want = ((m1 - m2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()
    for method in ("sqrtm", "eigh"):
        got = frechet_distance(m1, np.diag(v1), m2, np.diag(v2), method=method)
        assert got == pytest.approx(want, abs=1e-6)


def test_frechet_distance_identical_stats_is_zero_and_symmetric():
    f1, f2 = _features(4), _features(5, shift=0.5)
    s1, s2 = feature_statistics(f1), feature_statistics(f2)
    assert abs(frechet_distance(*s1, *s1)) < 1e-6
    assert frechet_distance(*s1, *s2) == pytest.approx(frechet_distance(*s2, *s1), rel=1e-8)


def test_frechet_distance_singular_covariances_use_eps():
    # 10 samples in 16 dims: both covariances are singular (rank 9); the result must be finite.
    f1, f2 = _features(6, n=10), _features(7, n=10, shift=1.0)
    got = frechet_distance(*feature_statistics(f1), *feature_statistics(f2))
    assert np.isfinite(got)
    assert got == pytest.approx(_fid_direct(f1, f2), rel=1e-3)


def test_frechet_distance_rejects_invalid_covariance():
    mu = np.zeros(2)
    bad = np.array([[1.0, 0.0], [0.0, -1.0]])  # not PSD: sqrtm is imaginary on the diagonal
    with pytest.raises(ValueError):
        frechet_distance(mu, bad, mu, np.eye(2))
    assert issubclass(CorruptDataError, ValueError)
    with pytest.raises(CorruptDataError, match="NaN"):
        frechet_distance(mu, np.full((2, 2), np.nan), mu, np.eye(2))
    with pytest.raises(BadOptionError):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def _mmd2_direct(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b/d + 1)^3, written as explicit loops."""
    m, d = x.shape
    k = lambda a, b: (float(a @ b) / d + 1.0) ** 3
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2 * xy / (m * m)


def test_polynomial_mmd2_matches_double_loop():
    x, y = _features(8, n=40, d=8), _features(9, n=40, d=8, shift=0.2)
    assert polynomial_mmd2(x, y) == pytest.approx(_mmd2_direct(x, y), rel=1e-10)


def test_kid_one_full_subset_equals_direct_mmd2():
    # subset_size >= N is clipped to N: the one subset is a permutation of all rows, and the
    # unbiased MMD^2 does not depend on the order.
    x, y = _features(10, n=40, d=8), _features(11, n=40, d=8, shift=0.2)
    mean, std = kernel_inception_distance(x, y, num_subsets=1, subset_size=1000)
    assert mean == pytest.approx(_mmd2_direct(x, y), rel=1e-10)
    assert std == 0.0


def test_kid_subsets_are_seeded_and_mean_of_subset_mmds():
    x, y = _features(12, n=120, d=8), _features(13, n=100, d=8)
    mean, std = kernel_inception_distance(x, y, num_subsets=5, subset_size=30, seed=7)
    rng = np.random.RandomState(7)
    mmds = []
    for _ in range(5):
        a = x[rng.choice(120, 30, replace=False)]
        b = y[rng.choice(100, 30, replace=False)]
        mmds.append(_mmd2_direct(a, b))
    assert mean == pytest.approx(np.mean(mmds), rel=1e-9)
    assert std == pytest.approx(np.std(mmds), rel=1e-9)
    assert (mean, std) == kernel_inception_distance(x, y, num_subsets=5, subset_size=30, seed=7)


def test_kid_same_distribution_near_zero_shifted_clearly_positive():
    rng = np.random.default_rng(14)
    a, b = rng.normal(size=(600, 64)), rng.normal(size=(600, 64))
    c = rng.normal(size=(600, 64)) + 0.5
    same_mean, same_std = kernel_inception_distance(a, b, num_subsets=20, subset_size=200)
    diff_mean, diff_std = kernel_inception_distance(a, c, num_subsets=20, subset_size=200)
    assert abs(same_mean) < 3 * same_std + 1e-3
    assert diff_mean > 0.05
    assert diff_mean > 20 * (abs(same_mean) + same_std)


@pytest.fixture(scope="module")
def random_inception():
    return inception_features(weights=None)


def test_inception_features_random_weights_shape_and_grey(random_inception):
    rng = np.random.default_rng(15)
    rgb = rng.uniform(-1, 1, size=(2, 32, 32, 3)).astype(np.float32)
    grey = rng.uniform(-1, 1, size=(2, 32, 32)).astype(np.float32)
    tiled = np.repeat(grey[..., None], 3, axis=-1)
    # batch_size=3 over 4 images: one full batch and a remainder, in one graph.
    feats = extract_features(random_inception, np.concatenate([rgb, tiled]), batch_size=3)
    assert feats.shape == (4, 2048) and feats.dtype == np.float64
    assert np.isfinite(feats).all()
    f_grey = extract_features(random_inception, grey)  # [N,H,W] is grey, tiled inside the model
    assert f_grey.shape == (2, 2048)
    np.testing.assert_allclose(f_grey, feats[2:], rtol=1e-4, atol=1e-5)
    assert random_inception(rgb[:, :17, :20, :1]).shape == (2, 2048)  # any size, C=1 directly
    with pytest.raises(BadOptionError, match=r"\[-1, 1\]"):
        extract_features(random_inception, rgb * 255)


def test_fid_kid_convenience():
    # A tiny feature net keeps this fast (sqrtm of a 2048x2048 matrix takes ~30 s on 2 cores).
    images = keras.Input((16, 16, 3))
    feats = keras.layers.Dense(8, kernel_initializer=keras.initializers.GlorotUniform(0))(
        keras.layers.Flatten()(images)
    )
    model = keras.Model(images, feats)
    rng = np.random.default_rng(16)
    a = rng.uniform(-1, 1, size=(30, 16, 16, 3)).astype(np.float32)
    b = rng.uniform(-1, 1, size=(25, 16, 16, 3)).astype(np.float32)
    out = fid_kid(a, b, model=model, batch_size=8, num_subsets=3, subset_size=10)
    assert set(out) == {"fid", "kid_mean", "kid_std", "n_a", "n_b"}
    assert (out["n_a"], out["n_b"]) == (30, 25)
    fa, fb = extract_features(model, a), extract_features(model, b)
    np.testing.assert_allclose(fa, np.asarray(model(a), np.float64), rtol=1e-5, atol=1e-6)
    assert out["fid"] == pytest.approx(_fid_direct(fa, fb), rel=1e-6)
    kid = kernel_inception_distance(fa, fb, num_subsets=3, subset_size=10)
    assert (out["kid_mean"], out["kid_std"]) == pytest.approx(kid)
    # uint8 is mapped with (x - 127.5) / 127.5 before the model.
    u8 = rng.integers(0, 256, size=(3, 16, 16, 3), dtype=np.uint8)
    np.testing.assert_allclose(
        extract_features(model, u8),
        extract_features(model, (u8.astype(np.float32) - 127.5) / 127.5),
        rtol=1e-6,
    )
    eigh = fid_kid(a, b, model=model, num_subsets=3, subset_size=10, fid_method="eigh")
    assert eigh["fid"] == pytest.approx(out["fid"], rel=1e-8)


def test_missing_weights_path_names_it(tmp_path):
    missing = tmp_path / "nope" / "inception.h5"
    with pytest.raises(WeightsMissingError, match="nope"):
        inception_features(weights=missing)


def test_corrupt_weights_file_is_reported(tmp_path):
    bad = tmp_path / "inception_notop.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(CorruptDataError, match="inception_notop.h5"):
        inception_features(weights=bad)


def test_bad_weights_option():
    with pytest.raises(BadOptionError):
        inception_features(weights=3)


def test_fid_from_features_low_rank_path_equals_the_full_formula():
    """Fewer samples than dimensions: the samples-space trace equals the D x D computation."""
    from gan_repro.metrics.fid import fid_from_features

    rng = np.random.default_rng(3)
    f1 = rng.normal(size=(20, 64))
    f2 = rng.normal(loc=0.3, scale=1.5, size=(30, 64))
    full = frechet_distance(*feature_statistics(f1), *feature_statistics(f2), method="sqrtm")
    assert fid_from_features(f1, f2) == pytest.approx(full, rel=1e-6)
    many1, many2 = rng.normal(size=(100, 8)), rng.normal(size=(90, 8))  # N > D: the usual path
    assert fid_from_features(many1, many2) == pytest.approx(
        frechet_distance(*feature_statistics(many1), *feature_statistics(many2)), rel=1e-9
    )
    assert fid_from_features(f1, f1) == pytest.approx(0.0, abs=1e-8)
