"""Face-aging figures (spec 000 section 5): OpenCV smoothing, grid layouts, loss figures."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_repro.errors import BadOptionError
from gan_repro.viz import face_aging as fa
from gan_repro.viz.grids import save_image


def _clean_and_noisy(n=2, size=32, channels=1, amount=0.1, seed=0):
    """Smooth gradients with salt-and-pepper noise on ``amount`` of the pixels."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(60, 190, size)
    clean = np.broadcast_to((ramp[:, None] + ramp[None, :]) / 2, (size, size))
    clean = np.repeat(clean[None, :, :, None], n, axis=0).repeat(channels, axis=-1)
    clean = np.rint(clean).astype(np.uint8)
    noisy = clean.copy()
    hit = rng.random(noisy.shape[:3]) < amount
    noisy[hit] = np.where(rng.random(hit.sum()) < 0.5, 0, 255)[:, None]
    return clean, noisy


def _mae(a, b):
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


def _assert_png(path: Path):
    assert path.is_file() and path.stat().st_size > 0
    with Image.open(path) as img:
        img.verify()


@pytest.fixture
def history():
    steps = np.arange(0, 300, 20, dtype=float)  # 0, 20, ..., 280: 15 rows
    return {
        "step": steps,
        "d_loss": 0.5 + steps / 1000,
        "g_loss": 2.0 - steps / 500,
    }


# --- smoothing ------------------------------------------------------------------------------


def test_filters_are_the_four_opencv_methods_in_order():
    assert list(fa.SMOOTHING_FILTERS) == ["averaging", "gaussian", "median", "bilateral"]


@pytest.mark.parametrize("method", list(fa.SMOOTHING_FILTERS))
@pytest.mark.parametrize("channels", [1, 3])
def test_each_filter_changes_a_noisy_image_and_keeps_shape(method, channels):
    _, noisy = _clean_and_noisy(channels=channels)
    out = fa.smooth(noisy, method)
    assert out.shape == noisy.shape and out.dtype == np.uint8
    assert not np.array_equal(out, noisy)


def test_median_removes_most_salt_and_pepper_noise():
    clean, noisy = _clean_and_noisy(n=4)
    before = _mae(noisy, clean)
    after = _mae(fa.smooth(noisy, "median"), clean)
    assert after < 0.5 * before


def test_filter_callables_keep_grey_channel_axis():
    _, noisy = _clean_and_noisy(n=1)
    for fn in fa.SMOOTHING_FILTERS.values():
        assert fn(noisy[0]).shape == noisy[0].shape
        assert fn(noisy[0, ..., 0]).shape == noisy[0, ..., 0].shape


def test_smooth_accepts_float_minus_one_to_one():
    _, noisy = _clean_and_noisy(n=2, channels=3)
    floats = noisy.astype(np.float32) / 127.5 - 1.0
    out = fa.smooth(floats, "gaussian")
    assert out.dtype == np.uint8 and out.shape == noisy.shape
    np.testing.assert_array_equal(out, fa.smooth(noisy, "gaussian"))


def test_smooth_refuses_unknown_method():
    _, noisy = _clean_and_noisy(n=1)
    with pytest.raises(BadOptionError, match="median"):
        fa.smooth(noisy, "wiener")


# --- array grids ----------------------------------------------------------------------------


def _flat(values, size=4, channels=3):
    """One flat-coloured uint8 image per value: [len(values), size, size, channels]."""
    return np.stack([np.full((size, size, channels), v, np.uint8) for v in values])


def _block(grid, r, c, size=4, pad=2):
    y, x = pad + r * (size + pad), pad + c * (size + pad)
    return grid[y : y + size, x : x + size]


def test_pairs_grid_real_on_top_translated_below():
    real, fake = _flat([10, 20, 30, 40, 50]), _flat([110, 120, 130, 140, 150])
    grid = fa.pairs_grid(real, fake)
    assert grid.dtype == np.uint8 and grid.shape == (2 + 2 * 6, 2 + 5 * 6, 3)
    for c in range(5):
        assert (_block(grid, 0, c) == 10 * (c + 1)).all()
        assert (_block(grid, 1, c) == 110 + 10 * c).all()


def test_pairs_grid_mixed_dtypes_and_shape_check():
    real = _flat([0, 255])
    fake = np.stack([np.full((4, 4, 3), -1.0), np.full((4, 4, 3), 1.0)])
    grid = fa.pairs_grid(real, fake)
    assert (_block(grid, 1, 0) == 0).all() and (_block(grid, 1, 1) == 255).all()
    with pytest.raises(ValueError):
        fa.pairs_grid(real, _flat([1, 2, 3]))


def test_class_rows_one_row_per_class():
    k, m = 4, 3
    imgs = np.stack([_flat([10 * (r * m + c) for c in range(m)], channels=1) for r in range(k)])
    grid = fa.class_rows(imgs, ["0-10", "20-30", "50-60", "80+"])
    assert grid.shape == (2 + k * 6, 2 + m * 6, 1)
    for r in range(k):
        for c in range(m):
            assert (_block(grid, r, c) == 10 * (r * m + c)).all()
    with pytest.raises(ValueError):
        fa.class_rows(imgs, ["a", "b"])


def test_one_per_class_row_is_transposed_single_column():
    imgs = _flat([5, 60, 120, 200])
    row = fa.one_per_class_row(imgs)
    assert row.shape == (2 + 6, 2 + 4 * 6, 3)
    for c, v in enumerate([5, 60, 120, 200]):
        assert (_block(row, 0, c) == v).all()
    column = fa.class_rows(imgs[:, None])
    np.testing.assert_array_equal(column.transpose(1, 0, 2), row)


# --- losses ---------------------------------------------------------------------------------


def test_loss_at_takes_nearest_logged_step_not_after(history):
    assert fa.loss_at(history, 40, "d_loss") == pytest.approx(0.54)
    assert fa.loss_at(history, 59, "d_loss") == pytest.approx(0.54)
    assert fa.loss_at(history, 60, "g_loss") == pytest.approx(2.0 - 60 / 500)
    assert fa.loss_at(history, 10_000, "d_loss") == pytest.approx(0.5 + 280 / 1000)
    assert np.isnan(fa.loss_at(history, -1, "d_loss"))
    assert np.isnan(fa.loss_at(history, 100, "missing"))


def test_loss_at_prefers_last_row_of_a_repeated_step():
    h = {"step": np.array([0.0, 10.0, 10.0, 20.0]), "d_loss": np.array([1.0, 2.0, 3.0, 4.0])}
    assert fa.loss_at(h, 15, "d_loss") == 3.0


def test_loss_tail_table_last_ten_rows_in_order(history):
    table = fa.loss_tail_table(history, ["d_loss", "absent", "g_loss"], last=10)
    lines = table.strip().splitlines()
    assert lines[0] == "| step | d_loss | g_loss |"
    body = lines[2:]
    assert len(body) == 10
    for line, step in zip(body, range(100, 300, 20), strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert int(cells[0]) == step
        assert float(cells[1]) == pytest.approx(0.5 + step / 1000, rel=1e-3)
        assert float(cells[2]) == pytest.approx(2.0 - step / 500, rel=1e-3)


def test_loss_tail_table_short_and_empty_history():
    short = {"step": np.array([1.0, 2.0]), "g": np.array([0.002, 0.003])}
    lines = fa.loss_tail_table(short, ["g"]).strip().splitlines()
    assert len(lines) == 4 and lines[-1] == "| 2 | 0.003 |"
    assert fa.loss_tail_table({}, ["g"]).strip().splitlines()[0] == "| step |"


# --- figures --------------------------------------------------------------------------------


def test_smoothing_figure_writes_png(tmp_path):
    _, noisy = _clean_and_noisy(n=4)
    out = fa.smoothing_figure(noisy, tmp_path / "fig" / "5_7.png", labels=list("0123"))
    assert out == tmp_path / "fig" / "5_7.png"
    _assert_png(out)


def test_iteration_montage_arrays_paths_and_missing(tmp_path):
    grid = fa.pairs_grid(_flat([10, 20]), _flat([30, 40]))
    saved = tmp_path / "run" / "samples" / "000500.png"
    save_image(grid, saved)
    snaps = [(0, grid[..., 0]), (500, saved), (1000, str(tmp_path / "none" / "001000.png"))]
    _assert_png(fa.iteration_montage(snaps, tmp_path / "5_1.png", "Fig 5.1", ncols=2))


def test_samples_with_losses_skips_absent_keys(tmp_path, history):
    snaps = [(40, _flat([100], size=8)[0]), (250, tmp_path / "missing.png")]
    out = fa.samples_with_losses(
        snaps, history, tmp_path / "5_8.png", "Fig 5.8", keys=("d_loss", "nope", "g_loss")
    )
    _assert_png(out)
    _assert_png(fa.samples_with_losses(snaps, {}, tmp_path / "empty.png", "no history"))


def test_loss_profiles_with_smoothing_and_missing_keys(tmp_path, history):
    other = {"step": history["step"], "g_loss": history["g_loss"] * 0.9}
    runs = [("BCE", history), ("custom, beta=5", other)]
    _assert_png(fa.loss_profiles(runs, tmp_path / "5_13.png", "Fig 5.13", window=3))
    _assert_png(fa.loss_profiles(runs, tmp_path / "k.png", "none", keys=("absent",)))
    with pytest.raises(BadOptionError):
        fa.loss_profiles(runs, tmp_path / "bad.png", "bad", window=0)


def test_translation_pairs_and_side_by_side(tmp_path):
    real = np.random.default_rng(1).uniform(-1, 1, (5, 8, 8, 3)).astype(np.float32)
    a2b = fa.translation_pairs(real, -real, tmp_path / "AtoB.png", "AtoB 500")
    _assert_png(a2b)
    panels = [
        ("AtoB, iteration 500", a2b),
        ("BtoA, iteration 500", fa.pairs_grid(real, real)),
        ("iteration 4000", tmp_path / "cyclegan_run" / "AtoB_004000.png"),
    ]
    _assert_png(fa.side_by_side(panels, tmp_path / "5_2.png", "Fig 5.2", columns=2))


def test_loss_tail_figure_and_dataset_examples(tmp_path, history):
    keys = ["d_loss", "dA_real", "g_loss"]
    _assert_png(fa.loss_tail_figure(history, keys, tmp_path / "5_5.png", "Fig 5.5"))
    _assert_png(fa.loss_tail_figure({}, keys, tmp_path / "5_5_empty.png", "empty"))
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (7, 16, 16, 3), dtype=np.uint8)
    _assert_png(fa.dataset_examples(a, b, tmp_path / "4_3.png", "Fig 4.3", n=6))
