"""The face-aging families on the one trainer: conditioning learns, the pool behaves like the base
code's, the utkd labels, and exact resume (including the CycleGAN image pools).

Mechanics are tested on small image shapes and one residual block: the step code is the same as at
the thesis's sizes, whose layer tables are pinned in test_models_face_aging.py."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tensorflow as tf

from gan_repro.errors import BadOptionError
from gan_repro.training.cyclegan import CycleGAN, CycleGANConfig, ImagePool
from gan_repro.training.image_gan import ImageGAN, ImageGANConfig
from gan_repro.training.trainer import Trainer, TrainerOptions


def _history(run_dir):
    with (run_dir / "history.csv").open() as f:
        return list(csv.DictReader(f))


def _brightness_data(n=256, size=8, seed=0):
    """Faces whose class sets the brightness: class k is uniform grey at -1 + 2k/3 (+ noise)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    level = (labels / 3.0) * 2 - 1
    x = level[:, None, None, None] + 0.05 * rng.standard_normal((n, size, size, 1))
    return np.clip(np.rint((x + 1) * 127.5), 0, 255).astype(np.uint8), labels


def test_labelled_stream_keeps_images_and_labels_together():
    from gan_repro.data.pipeline import labelled_image_stream

    labels = np.arange(10) % 4
    images = (labels * 60).astype(np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 1), np.uint8)
    ds = labelled_image_stream(images, labels, batch_size=4, seed=3, start=5)
    for x, y in ds.take(6):
        np.testing.assert_allclose(x.numpy()[:, 0, 0, 0], (y.numpy() * 60 - 127.5) / 127.5)


def test_cgan_learns_the_age_condition(tmp_path):
    """A conditional generator on faces whose class sets the brightness: after a short run, each
    class's generated faces have their class's brightness (the CGAN step, Keras-GAN style)."""
    images, labels = _brightness_data()
    config = ImageGANConfig(model="cgan", batch_size=32, image_shape=(8, 8, 1), lr=1e-3)
    family = ImageGAN(config, images, labels, seed=1)
    Trainer(family, tmp_path, TrainerOptions(steps=200, log_every=50, progress=False)).fit()
    z = tf.random.stateless_normal((64, config.latent_dim), [0, 0])
    means = [family.sample(z, np.full(64, k)).mean() for k in range(4)]
    assert np.all(np.diff(means) > 0.15), means  # ordered like -1, -1/3, 1/3, 1
    assert abs(means[0] - -1) < 0.4 and abs(means[3] - 1) < 0.4, means


def test_proposed_loss_runs_and_logs_its_terms(tmp_path):
    images, labels = _brightness_data(64)
    config = ImageGANConfig(
        model="cgan", batch_size=8, image_shape=(8, 8, 1), d_loss="proposed", beta=5.0
    )
    family = ImageGAN(config, images, labels)
    Trainer(family, tmp_path, TrainerOptions(steps=3, log_every=1, progress=False)).fit()
    rows = _history(tmp_path)
    for row in rows:
        r = {k: float(v) for k, v in row.items()}
        for key in ("lc_real", "lc_fake", "p_mean_real", "n_mean_fake", "d_loss", "g_loss"):
            assert np.isfinite(r[key]), key
        for kind in ("real", "fake"):
            # LC = mean|P| - mean|N| (L1026-1028) and L = alpha*BCE + beta*LC (L1044-1046) ...
            lc = r[f"lc_{kind}"]
            assert lc == pytest.approx(r[f"p_mean_{kind}"] - r[f"n_mean_{kind}"], abs=1e-5)
            assert r[f"d_{kind}"] == pytest.approx(r[f"bce_{kind}"] + 5.0 * lc, abs=1e-4)
            # ... so the logged D loss drops below its BCE part exactly when LC < 0
            assert (r[f"d_{kind}"] < r[f"bce_{kind}"]) == (lc < 0)
    # an untrained D scores real and fake alike while their SSIM is low: N > P, LC < 0
    first = {k: float(v) for k, v in rows[0].items()}
    assert first["lc_fake"] < 0 and first["d_fake"] < first["bce_fake"], first


def test_proposed_loss_options_reach_the_loss(tmp_path):
    """The SSIM offset/range and the partner rule are config fields (spec 8.15b/d), recorded in
    config.json, and change the logged SSIMs: on [-1, 1] pixels (offset 0) SSIM differs."""
    images, labels = _brightness_data(64)
    logged = {}
    for offset, partners in ((1.0, "per_anchor"), (0.0, "per_anchor"), (1.0, "per_batch")):
        config = ImageGANConfig(
            model="cgan",
            batch_size=8,
            image_shape=(8, 8, 1),
            d_loss="proposed",
            ssim_pixel_offset=offset,
            lc_partners=partners,
        )
        assert config.as_dict()["ssim_pixel_offset"] == offset
        assert config.as_dict()["lc_partners"] == partners
        family = ImageGAN(config, images, labels, seed=3)
        out = tmp_path / f"{offset}-{partners}"
        Trainer(family, out, TrainerOptions(steps=1, log_every=1, progress=False)).fit()
        logged[(offset, partners)] = {k: float(v) for k, v in _history(out)[0].items()}
    base = logged[(1.0, "per_anchor")]
    assert base["ssim_pos_real"] != pytest.approx(logged[(0.0, "per_anchor")]["ssim_pos_real"])
    assert base["ssim_pos_real"] != pytest.approx(logged[(1.0, "per_batch")]["ssim_pos_real"])
    with pytest.raises(BadOptionError, match="lc_partners"):
        ImageGANConfig(lc_partners="hard_negatives")


def test_utkd_labels_are_inverted_soft_and_flipped():
    images, labels = _brightness_data(16)
    config = ImageGANConfig(model="cgan", image_shape=(8, 8, 1), labels="utkd", label_flip=0.5)
    family = ImageGAN(config, images, labels)
    b = 1000
    u = tf.random.stateless_uniform((b,), [1, 2])
    flip = tf.random.stateless_uniform((b, 2), [3, 4])
    batch = {"z": tf.zeros((b, 4)), "soft_real": u, "soft_fake": u, "flip": flip}
    real, fake, gen = (t.numpy()[:, 0] for t in family._targets(batch))
    kept = flip.numpy()[:, 0] >= 0.5
    assert np.all(real[kept] <= 0.1) and np.all(real[~kept] >= 0.9)  # real ~ U(0, 0.1)
    assert np.all(fake[flip.numpy()[:, 1] >= 0.5] >= 0.9)  # fake ~ 1 - U(0, 0.1)
    assert 0.4 < (~kept).mean() < 0.6 and np.all(gen == 0)


def test_bad_options_are_refused():
    images, labels = _brightness_data(8)
    with pytest.raises(BadOptionError, match="CGAN only"):
        ImageGANConfig(model="dcgan", d_loss="proposed")
    with pytest.raises(BadOptionError, match="shape"):
        ImageGAN(ImageGANConfig(model="cgan"), images, labels)  # 8x8 faces, 100x100 model
    with pytest.raises(BadOptionError, match="age class"):
        ImageGAN(ImageGANConfig(model="cgan", image_shape=(8, 8, 1)), images)


def test_image_pool_follows_the_base_code():
    pool = ImagePool(2, (1, 1, 1), "p")
    img = lambda v: tf.fill((1, 1, 1, 1), float(v))  # noqa: E731
    one, lo, hi = tf.constant([0.9]), tf.constant([0.1]), tf.constant([0.9])
    assert float(pool.query(img(1), one, lo)[0, 0, 0, 0]) == 1  # filling: the new image
    assert float(pool.query(img(2), one, lo)[0, 0, 0, 0]) == 2
    assert int(pool.count.numpy()) == 2
    assert float(pool.query(img(3), lo, lo)[0, 0, 0, 0]) == 3  # u < 0.5: new image, not stored
    np.testing.assert_array_equal(pool.images.numpy().ravel(), [1, 2])
    out = pool.query(img(4), hi, hi)  # u >= 0.5: swap with slot floor(0.9 * 2) = 1
    assert float(out[0, 0, 0, 0]) == 2
    np.testing.assert_array_equal(pool.images.numpy().ravel(), [1, 4])


def _small_cyclegan(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 128, (12, 16, 16, 3), dtype=np.uint8)
    b = rng.integers(128, 256, (12, 16, 16, 3), dtype=np.uint8)
    config = CycleGANConfig(image_shape=(16, 16, 3), n_residual=1, pool_size=3)
    return CycleGAN(config, a, b, seed=seed)


def _train(family, run_dir, steps):
    options = TrainerOptions(steps=steps, log_every=1, checkpoint_every=2, progress=False)
    return Trainer(family, run_dir, options).fit()


def _straight_and_resumed(make_family, tmp_path, steps=4):
    """Train ``steps`` straight (checkpoints every 2), then copy the folder, roll it back to
    the middle checkpoint as if the run had been killed there, and resume it with a new family.
    Returns (straight history, resumed history, resumed family)."""
    import shutil

    _train(make_family(), tmp_path / "straight", steps)
    shutil.copytree(tmp_path / "straight", tmp_path / "resumed")
    ckpt = tmp_path / "resumed" / "checkpoints"
    for late in ckpt.glob(f"ckpt-{steps}.*"):
        late.unlink()
    middle = f"ckpt-{steps // 2}"
    (ckpt / "checkpoint").write_text(
        f'model_checkpoint_path: "{middle}"\nall_model_checkpoint_paths: "{middle}"\n'
    )
    resumed = make_family()
    _train(resumed, tmp_path / "resumed", steps)
    return _history(tmp_path / "straight"), _history(tmp_path / "resumed"), resumed


def test_cyclegan_resumes_exactly_with_its_pools(tmp_path):
    """4 steps straight == 2 steps, a restart, 2 more: the losses and the pools agree; and the
    logged losses are the thesis's weighted sums."""
    straight, again, resumed = _straight_and_resumed(_small_cyclegan, tmp_path)
    assert len(again) == 4
    for k in ("dA_real", "dB_fake", "g_AtoB", "g_BtoA_cycle_forward"):
        np.testing.assert_allclose(
            [float(r[k]) for r in again], [float(r[k]) for r in straight], rtol=1e-4
        )
    assert int(resumed.pools["a"].count.numpy()) == 3
    # the logged totals are 1*adv + 5*identity + 10*forward + 10*backward (L906-910) ...
    row = {k: float(v) for k, v in straight[0].items()}
    for g in ("g_AtoB", "g_BtoA"):
        total = (
            row[f"{g}_adv"]
            + 5 * row[f"{g}_identity"]
            + 10 * row[f"{g}_cycle_forward"]
            + 10 * row[f"{g}_cycle_backward"]
        )
        assert row[g] == pytest.approx(total, rel=1e-5)
    # ... and D's is 0.5 * MSE: untrained patch scores are ~0, so ~0.5 against 1, ~0 against 0
    assert 0.2 < row["dA_real"] < 0.8 and row["dA_fake"] < 0.3


def test_image_gan_resumes_exactly_and_reloads(tmp_path):
    images, labels = _brightness_data(64)

    def family():
        return ImageGAN(
            ImageGANConfig(model="dcgan", batch_size=8, image_shape=(8, 8, 1)), images, labels
        )

    a, b, _ = _straight_and_resumed(family, tmp_path)
    assert len(b) == 4
    np.testing.assert_allclose(
        [float(r["g_loss"]) for r in b], [float(r["g_loss"]) for r in a], rtol=1e-4
    )


def test_one_generator_call_on_two_batches_equals_two_calls():
    """What the batched composite step relies on: instance norm treats each image alone."""
    from gan_repro.models.face_aging import face_aging_cyclegan_generator

    g = face_aging_cyclegan_generator((16, 16, 3), n_residual=1)
    a, b = (tf.random.stateless_uniform((2, 16, 16, 3), [s, 0], -1, 1) for s in (1, 2))
    both = g(tf.concat([a, b], 0), training=True)
    np.testing.assert_allclose(both[:2], g(a, training=True), atol=1e-5)
    np.testing.assert_allclose(both[2:], g(b, training=True), atol=1e-5)


def test_image_gan_is_registered_and_takes_networks_by_name(tmp_path):
    """The family is FAMILIES["image_gan"]; its networks are NETWORKS names, defaulting from the
    model; any registered pair whose label inputs suit the model trains without edits."""
    import json

    from gan_repro.registry import FAMILIES, NETWORKS
    from gan_repro.training.image_gan import NETWORK_NAMES

    assert FAMILIES.get("image_gan") is ImageGAN
    assert ImageGAN.Config is ImageGANConfig and ImageGAN.inputs == ("images", "labels")
    for model, (g, d) in NETWORK_NAMES.items():
        config = ImageGANConfig(model=model)
        assert (config.generator, config.discriminator) == (g, d)
        assert g in NETWORKS and d in NETWORKS
        again = ImageGANConfig(**json.loads(json.dumps(config.as_dict())))
        assert again == config  # JSON-serialisable, plain fields
    images, labels = _brightness_data(32)
    mixed = ImageGANConfig(
        model="cgan",
        batch_size=8,
        image_shape=(8, 8, 1),
        generator="face_aging_cdcgan_generator",  # one-hot label input
        discriminator="face_aging_cgan_discriminator",  # integer label -> Embedding
    )
    family = ImageGAN.from_inputs(mixed, {"images": images, "labels": labels}, seed=0)
    Trainer(family, tmp_path, TrainerOptions(steps=2, log_every=1, progress=False)).fit()
    assert family.models["g"].name == "face_aging_cdcgan_generator"
    assert np.isfinite(float(_history(tmp_path)[-1]["g_loss"]))
    wrong = ImageGANConfig(
        model="cgan", image_shape=(8, 8, 1), generator="face_aging_dcgan_generator"
    )
    with pytest.raises(BadOptionError, match="conditional generator"):
        ImageGAN(wrong, images, labels).build()
