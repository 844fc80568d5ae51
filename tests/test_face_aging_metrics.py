"""Face-aging numbers beyond the thesis: the age-group classifier (model, split, training,
save/load) and the metrics of gan_repro.metrics.face_aging, with random-weight networks."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gan_repro.data.utkface import VARIANTS, load_utkface
from gan_repro.errors import BadOptionError, WeightsMissingError
from gan_repro.io import read_json
from gan_repro.metrics.face_aging import (
    age_group_accuracy,
    fid_per_group,
    group_distribution,
    identity_drift,
)
from gan_repro.metrics.fid import extract_features, feature_statistics, frechet_distance
from gan_repro.metrics.lpips import LPIPS
from gan_repro.models.age_classifier import age_group_classifier
from gan_repro.training.age_classifier import (
    balanced_class_weights,
    load_age_classifier,
    predict_group_probs,
    predict_groups,
    save_age_classifier,
    split_indices,
    train_age_classifier,
)


@pytest.fixture(scope="module")
def faces32():
    """The bundled sample's thesis4 faces, uint8 [181, 32, 32, 3] (real faces, no data dir)."""
    return load_utkface(source="bundled", scheme="thesis4", size=32, grey=False).images


# ------------------------------------------------------------------------------------ the model
# Parameter counts with 4 classes (BN moving statistics included).
PARAMS = {"cdcgan": 390_884, "dcgan": 390_308, "cyclegan": 395_124}


@pytest.mark.parametrize("variant", ["cdcgan", "dcgan", "cyclegan"])
def test_classifier_shapes_params_and_softmax(variant):
    v = VARIANTS[variant]
    shape = (v["size"], v["size"], 1 if v["grey"] else 3)
    model = age_group_classifier(shape, classes=4)
    assert model.input_shape == (None, *shape) and model.output_shape == (None, 4)
    assert model.count_params() == PARAMS[variant]
    # the stride-2 stem only for inputs above STEM_SIDE (256 -> 128; 32 and 100 have none)
    stem = [layer for layer in model.layers if layer.name.startswith("stem")]
    assert bool(stem) == (v["size"] > 128), [layer.name for layer in stem]
    x = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype(np.float32)
    p = np.asarray(model(x, training=False))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    # The augmentation is off at inference: two calls agree.
    np.testing.assert_array_equal(p, np.asarray(model(x, training=False)))
    # The last feature map is 4-8 px.
    gap = model.get_layer("gap").input
    assert 4 <= gap.shape[1] <= 8


def test_classifier_rejects_bad_shapes():
    with pytest.raises(BadOptionError):
        age_group_classifier((32, 32, 2))
    with pytest.raises(BadOptionError):
        age_group_classifier((4, 4, 3))
    with pytest.raises(BadOptionError):
        age_group_classifier((32, 32, 3), classes=1)


# -------------------------------------------------------------------------------------- split
def test_split_indices_disjoint_covering_deterministic():
    tr, va = split_indices(1000, 0.1, seed=3)
    assert len(va) == 100 and len(tr) == 900
    assert not set(tr) & set(va)
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])), np.arange(1000))
    tr2, va2 = split_indices(1000, 0.1, seed=3)
    np.testing.assert_array_equal(tr, tr2)
    np.testing.assert_array_equal(va, va2)
    assert not np.array_equal(va, split_indices(1000, 0.1, seed=4)[1])
    assert len(split_indices(5, 0.01)[1]) == 1  # at least one val example
    assert len(split_indices(5, 0.0)[1]) == 0
    with pytest.raises(BadOptionError):
        split_indices(10, 1.0)


def test_balanced_class_weights():
    w = balanced_class_weights(np.array([0] * 6 + [1] * 2 + [2] * 2), 4)
    assert w == pytest.approx({0: 10 / 24, 1: 10 / 8, 2: 10 / 8, 3: 1.0})


# ---------------------------------------------------------------------------------- learning
def test_training_on_real_faces_learns(shared_data):
    """CycleGAN domains 17-23 vs 47-53 at 32x32x3: two epochs beat chance clearly."""
    if not (shared_data / "utkface").is_dir():
        pytest.skip(f"UTKFace subset not found at {shared_data / 'utkface'}")
    d = load_utkface(shared_data, source="local", scheme="cyclegan", size=32, grey=False)
    model, m = train_age_classifier(
        d.images, d.labels, classes=len(d.group_names), epochs=2, batch_size=64, seed=2020
    )
    assert (m["n_train"], m["n_val"]) == (1330, 148)
    assert m["chance"]["uniform"] == 0.5 and 0.5 < m["chance"]["majority"] < 0.6
    assert np.sum(m["val_confusion"]) == 148 and len(m["val_per_class_recall"]) == 2
    assert m["settings"]["steps_per_epoch"] == 21 and len(m["history"]["loss"]) == 2
    assert m["val_balanced_accuracy"] > 0.6, m
    assert m["val_balanced_accuracy"] == pytest.approx(np.mean(m["val_per_class_recall"]))
    assert m["val_accuracy"] > m["chance"]["majority"], m


# ------------------------------------------------------------------------------ save and load
def test_save_load_round_trip(tmp_path, faces32):
    model = age_group_classifier((32, 32, 3), classes=4, seed=1)
    path = save_age_classifier(model, {"val_accuracy": 0.5}, tmp_path / "clf" / "age.keras")
    assert path.is_file() and read_json(path.with_suffix(".json")) == {"val_accuracy": 0.5}
    assert sorted(p.name for p in path.parent.iterdir()) == ["age.json", "age.keras"]
    loaded = load_age_classifier(path)
    assert not loaded.trainable
    np.testing.assert_allclose(
        predict_group_probs(loaded, faces32[:40], batch_size=16),
        predict_group_probs(model, faces32[:40]),
        rtol=1e-6,
        atol=1e-7,
    )
    # uint8 and the same faces in [-1, 1] give the same predictions.
    floats = (faces32[:40].astype(np.float32) - 127.5) / 127.5
    np.testing.assert_array_equal(
        predict_groups(loaded, floats), predict_groups(loaded, faces32[:40])
    )
    missing = tmp_path / "nowhere" / "age.keras"
    with pytest.raises(WeightsMissingError, match="nowhere/age.keras") as err:
        load_age_classifier(missing)
    assert "train it with the experiment" in str(err.value)


# --------------------------------------------------------------------------- age-group accuracy
def _stub_classifier(classes: int = 3):
    """Callable: constant image of value 10*k (uint8) -> one-hot of class k."""

    def predict(x):
        value = np.asarray(x)[:, 0, 0, 0] * 127.5 + 127.5
        return np.eye(classes, dtype=np.float32)[np.rint(value / 10).astype(int)]

    return predict


def _constant_images(pred, shape=(8, 8, 1)):
    return np.stack([np.full(shape, 10 * k, np.uint8) for k in pred])


def test_age_group_accuracy_exact_numbers():
    target = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
    pred = [0, 0, 1, 1, 1, 2, 2, 2, 2, 0]
    images = _constant_images(pred)
    out = age_group_accuracy(
        _stub_classifier(), images, target, group_names=["a", "b", "c"], batch_size=4
    )
    assert out["confusion"] == [[2, 1, 0], [0, 2, 1], [1, 0, 3]]
    assert out["accuracy"] == pytest.approx(0.7)
    assert out["per_class_accuracy"] == pytest.approx([2 / 3, 2 / 3, 3 / 4])
    assert out["balanced_accuracy"] == pytest.approx((2 / 3 + 2 / 3 + 3 / 4) / 3)
    assert out["per_group_accuracy"] == pytest.approx({"a": 2 / 3, "b": 2 / 3, "c": 0.75})
    assert (out["n"], out["classes"], out["support"]) == (10, 3, [3, 3, 4])
    assert out["chance"] == pytest.approx(1 / 3)
    # The same faces as [-1, 1] floats, and a class with no target: None, not a crash.
    floats = (images.astype(np.float32) - 127.5) / 127.5
    out2 = age_group_accuracy(_stub_classifier(), floats[:6], target[:6])
    assert out2["per_class_accuracy"] == [pytest.approx(2 / 3), pytest.approx(2 / 3), None]
    assert out2["balanced_accuracy"] == pytest.approx(2 / 3) and "group_names" not in out2
    with pytest.raises(BadOptionError):
        age_group_accuracy(_stub_classifier(), images, [3] * 10)
    with pytest.raises(BadOptionError):
        age_group_accuracy(_stub_classifier(), images, target, group_names=["a", "b"])


def test_age_group_accuracy_with_a_keras_model():
    # A fixed linear model on the mean pixel: dark -> class 0, bright -> class 1.
    x = keras.Input((8, 8, 1))
    mean = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant([[-10, 10]]))(
        mean
    )
    model = keras.Model(x, keras.layers.Softmax()(logits))
    images = np.concatenate(
        [np.zeros((3, 8, 8, 1), np.uint8), np.full((2, 8, 8, 1), 255, np.uint8)]
    )
    out = age_group_accuracy(model, images, [0, 0, 1, 1, 1])
    assert out["confusion"] == [[2, 0], [1, 2]] and out["accuracy"] == pytest.approx(0.8)
    assert out["chance"] == 0.5


def test_group_distribution():
    images = _constant_images([0, 0, 1, 1, 1, 2, 2, 2, 2, 0])
    out = group_distribution(_stub_classifier(), images, ["a", "b", "c"], data_labels=[0, 1, 2, 2])
    assert out["counts"] == {"a": 3, "b": 3, "c": 4} and out["n"] == 10
    assert out["shares"] == pytest.approx({"a": 0.3, "b": 0.3, "c": 0.4})
    assert out["data_shares"] == pytest.approx({"a": 0.25, "b": 0.25, "c": 0.5})
    assert out["total_variation"] == pytest.approx(0.1)


# ---------------------------------------------------------------------------------- FID per group
@pytest.fixture(scope="module")
def tiny_features():
    """A small fixed random feature net standing in for InceptionV3 (whose 2048-d FID takes
    several seconds per pair on 2 cores; test_fid covers the Inception model itself)."""
    images = keras.Input((32, 32, 3))
    h = keras.layers.AveragePooling2D(4)(images)
    feats = keras.layers.Dense(16, kernel_initializer=keras.initializers.GlorotUniform(0))(
        keras.layers.Flatten()(h)
    )
    return keras.Model(images, feats)


def test_fid_per_group(tiny_features, faces32):
    fakes = {"same": faces32[:12], "diff": faces32[12:24], "few": faces32[24:25]}
    reals = {
        "same": faces32[:12],
        "diff": faces32[100:130],
        "few": faces32[30:33],
        "only_real": faces32[40:50],
    }
    out = fid_per_group(
        fakes, reals, tiny_features, num_subsets=5, subset_size=20, fid_method="eigh"
    )
    assert list(out) == ["same", "diff", "few", "only_real", "all"]
    assert abs(out["same"]["fid"]) < 1e-6 and out["diff"]["fid"] > 1e-2
    assert out["same"]["kid_subset_size"] == 12 and out["diff"]["kid_subset_size"] == 12
    assert out["diff"]["n_a"] == 12 and out["diff"]["n_b"] == 30
    assert "skipped" in out["few"] and ">= 2 images" in out["few"]["skipped"]
    assert (out["few"]["n_a"], out["few"]["n_b"]) == (1, 3)
    assert "no generated images" in out["only_real"]["skipped"]
    assert out["only_real"]["n_b"] == 10 and out["only_real"]["n_a"] is None
    # "all" pools the groups present on both sides, the small one included.
    assert out["all"]["groups"] == ["same", "diff", "few"]
    assert (out["all"]["n_a"], out["all"]["n_b"]) == (25, 45) and out["all"]["fid"] > 0
    # The same numbers as fid.py on the same features.
    fa = extract_features(tiny_features, faces32[12:24])
    fb = extract_features(tiny_features, faces32[100:130])
    direct = frechet_distance(*feature_statistics(fa), *feature_statistics(fb), method="eigh")
    assert out["diff"]["fid"] == pytest.approx(direct, rel=1e-6)
    few = fid_per_group({"g": faces32[:1]}, {"g": faces32[:5], "h": faces32[5:9]}, tiny_features)
    assert ">= 2 images" in few["g"]["skipped"] and "skipped" in few["all"]
    assert "no generated images" in few["h"]["skipped"]
    with pytest.raises(BadOptionError, match="unknown"):
        fid_per_group(fakes, reals, tiny_features, subsets=3)


# ---------------------------------------------------------------------------- identity drift
@pytest.fixture(scope="module")
def random_lpips():
    return LPIPS("alex", weights=None)


def test_identity_drift_same_faces_and_other_faces(random_lpips, faces32):
    faces = faces32[:48]
    same = identity_drift(faces, faces, random_lpips, batch_size=16, seed=1)
    assert same["lpips"]["mean"] == pytest.approx(0.0, abs=1e-7)
    assert same["ssim"]["mean"] == pytest.approx(1.0, abs=1e-6)
    assert same["share_lpips_below_baseline_median"] == 1.0
    assert same["share_ssim_above_baseline_median"] == 1.0
    base = same["baseline"]
    assert base["pairs"] == 48 and base["lpips"]["median"] > 0 and base["ssim"]["median"] < 0.9
    # Outputs that are other people drift about as far as the baseline of different people.
    other = identity_drift(faces, np.roll(faces, 1, axis=0), random_lpips, seed=1, per_image=True)
    ratio = other["lpips"]["mean"] / other["baseline"]["lpips"]["mean"]
    assert 0.7 < ratio < 1.4, other
    assert 0.2 < other["share_lpips_below_baseline_median"] < 0.8
    assert abs(other["ssim"]["mean"] - other["baseline"]["ssim"]["mean"]) < 0.1
    assert len(other["per_image"]["lpips"]) == 48 and other["baseline"] == base
    # Grey [N,H,W] faces (repeated to RGB for LPIPS) and float inputs work too.
    grey = faces[..., 0]
    g = identity_drift(grey, grey, random_lpips, baseline_pairs=10)
    assert g["lpips"]["mean"] == pytest.approx(0.0, abs=1e-7) and g["baseline"]["pairs"] == 10
    one = identity_drift(faces[:1], faces[:1].astype(np.float32) / 127.5 - 1, random_lpips)
    assert one["baseline"] is None and "baseline_note" in one
