"""The published tables, the streamed LPIPS measures and the thesis-vs-ours report."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from gan_repro.io import write_json
from gan_repro.metrics.coupled import lpips_measures
from gan_repro.report import load_published, write_report

PUBLISHED = Path(__file__).resolve().parents[1] / "experiments" / "scogan" / "published.csv"


def test_published_tables_hold_every_cell_of_5_2_and_7_1():
    rows = load_published(PUBLISHED)
    t52 = {(r["model"], r["metric"]): r["value"] for r in rows if r["table"] == "5.2"}
    assert len(t52) == 6 * 3 + 1
    assert t52[("SLFR", "gen1_vs_gen2")] == 0.3016
    assert t52[("CoGAN", "gen2_vs_real2")] == 0.2151
    assert t52[("baseline", "real1_vs_real2")] == 0.3304
    t71 = {(r["model"], r["metric"]): r["value"] for r in rows if r["table"] == "7.1"}
    assert t71 == {
        ("SL", "gen1_vs_gen2"): 0.3018,
        ("SL", "gen1_vs_real1"): 0.1140,
        ("SL", "gen2_vs_real2"): 0.2053,
    }


def test_lpips_measures_pair_and_average_as_specified():
    """With a distance of mean |a - b| the four numbers are known by hand."""

    def generate(z):
        b = z.shape[0]
        return tf.fill((b, 4, 4, 3), 0.5), tf.fill((b, 4, 4, 3), -0.5)

    def distance(x, y):
        return tf.reduce_mean(tf.abs(tf.convert_to_tensor(x) - y), axis=[1, 2, 3])

    real1 = np.full((7, 4, 4, 3), 255, np.uint8)  # +1
    real2 = np.zeros((5, 4, 4, 3), np.uint8)  # -1
    m = lpips_measures(distance, generate, real1, real2, n=10, batch_size=4, noise_dim=3)
    assert m["gen1_vs_gen2"] == pytest.approx(1.0)
    assert m["gen1_vs_real1"] == pytest.approx(0.5)
    assert m["gen2_vs_real2"] == pytest.approx(0.5)
    assert m["real1_vs_real2"] == pytest.approx(2.0)
    assert m["n_pairs"] == 10


def test_same_z_pairs_are_the_same_across_measures():
    """z-dependent images: G1(z) = z and G2(z) = z + 0.25 (broadcast over pixels), so the
    same-z distance is exactly 0.25 per pair while any mispairing (G1(z_i) with G2(z_j)) would
    add |z_i - z_j|; generated-vs-real are checked against the z the generator really saw."""
    seen = []

    def generate(z):
        seen.append(np.asarray(z))
        image = z[:, None, None, :] * tf.ones((1, 2, 2, 1))
        return image, image + 0.25

    def distance(x, y):
        return tf.reduce_mean(tf.abs(tf.convert_to_tensor(x) - y), axis=[1, 2, 3])

    real = np.zeros((8, 2, 2, 3), np.uint8)  # -1 everywhere
    m = lpips_measures(distance, generate, real, real, n=6, batch_size=6, noise_dim=3, seed=4)
    assert len(seen) == 1  # one batch of z, generated once, serves all three measures
    z = seen[0]
    assert np.all(np.abs(z) <= 1.0) and np.std(z) > 0.1  # U[-1, 1], not a constant
    assert m["gen1_vs_gen2"] == pytest.approx(0.25)
    assert m["gen1_vs_real1"] == pytest.approx(np.mean(np.abs(z + 1.0)))
    assert m["gen2_vs_real2"] == pytest.approx(np.mean(np.abs(z + 1.25)))
    assert m["real1_vs_real2"] == 0.0


def _run(root, variant, metrics, standin=True):
    run = root / variant
    write_json(
        run / "config.json",
        {"variant": variant, "scale": "smoke", "data": {"svhn_standin": standin}},
    )
    if metrics is not None:
        write_json(run / "metrics.json", metrics)
    return run


def test_report_puts_thesis_ours_and_difference_side_by_side(tmp_path):
    lp = {"gen1_vs_gen2": 0.31, "gen1_vs_real1": 0.12, "gen2_vs_real2": 0.2, "real1_vs_real2": 0.33}
    runs = [
        _run(tmp_path, "SLFR", {"lpips": lp, "agreement": {"class_agreement": 0.8}}),
        _run(tmp_path, "SL", {"lpips": lp}),
        _run(tmp_path, "PL", None),
    ]
    decl = SimpleNamespace(
        title="MNIST2SVHN",
        path=str(PUBLISHED),  # the published CSV lies beside the declaration
        choices=["SL without the /2 of Eq 4.2"],
        report={"published": PUBLISHED.name, "tables": ["5.2", "7.1"]},
    )
    out = write_report(decl, runs, tmp_path / "report.md")
    text = out.read_text()
    assert text.startswith("# MNIST2SVHN\n")
    assert "## Choices where the thesis is ambiguous" in text and "- SL without the /2" in text
    assert "| SLFR | Gen. D1 vs Gen. D2 (same z) | 0.3016 | 0.3100 | +0.0084 | Table 5.2" in text
    assert "| SL | Gen. D2 vs Real D2 | 0.2053 | 0.2000 | -0.0053 | Table 7.1" in text
    assert "| (data) | Real D1 vs Real D2 (baseline) | 0.3304 | 0.3300 | -0.0004" in text
    assert "Not evaluated yet (`gan-repro evaluate`): PL" in text
    assert "STAND-IN" in text
    assert "agreement:class_agreement" in text and "0.8000" in text
