"""The CycleGAN-vs-UNIT declaration (Wang 2018, spec 003): the thesis's settings resolve as
recorded, and a smoke run on real images (CelebA faces against horse2zebra, laid out as a
CycleGAN folder: no synthetic stand-in) writes Figs 6.1-6.11, every number of the evaluator and
the report; the notebook runs on it."""

from __future__ import annotations

import shutil

import pytest

from gan_repro.config import load_declaration, resolve_run
from gan_repro.io import read_json

DECL = load_declaration("cyclegan_unit/photo-anime")


def test_the_thesis_settings_and_our_recorded_choices():
    cyc = resolve_run(DECL, "cyclegan", "paper")
    m = cyc.model
    assert cyc.family == "cyclegan" and m.image_shape == (256, 256, 3) and m.batch_size == 1
    assert (m.generator, m.discriminator, m.n_residual) == (
        "cyclegan_resnet_generator",
        "cyclegan_patch_discriminator",
        9,
    )
    assert (m.forward_cycle_weight, m.identity_weight, m.adversarial, m.pool_size) == (
        10.0,
        5.0,
        "lsgan",
        50,
    )
    assert (m.update_order, m.d_update, m.d_loss_weight, m.lr) == ("joint", "combined", 0.5, 2e-4)
    assert (m.lr_hold_steps, m.lr_decay_steps, cyc.trainer.steps) == (340000, 340000, 680000)
    literal = resolve_run(DECL, "cyclegan-as-written", "paper").model
    assert (literal.adversarial, literal.identity_weight, literal.pool_size) == ("bce", 0.0, 0)
    assert literal.discriminator == "cyclegan_three_layer_discriminator"
    unit = resolve_run(DECL, "unit", "paper")
    assert unit.family == "unit" and unit.trainer.steps == 680000
    u = unit.model
    assert (u.gan_weight, u.kl_direct_weight, u.recon_weight, u.kl_cycle_weight) == (
        10.0,
        0.1,
        100.0,
        0.1,
    )
    assert (u.cycle_weight, u.lr, u.weight_decay, u.objective) == (100.0, 1e-4, 1e-4, "code")
    data = resolve_run(DECL, "unit", "paper").data
    assert data["dataset"] == "unpaired" and data["pair"] == "selfie2anime"
    assert data["train_sizes"] == [5866, 3528]  # L429, L423
    assert resolve_run(DECL, "cyclegan", "cpu").data["dataset"] == "celeba_attribute"


@pytest.fixture(scope="module")
def folder(tmp_path_factory, shared_data):
    """A CycleGAN-layout folder of real images: CelebA faces (A) and horse2zebra (B)."""
    root = tmp_path_factory.mktemp("selfie2anime_standin")
    faces = sorted((shared_data / "celeba" / "img_align_celeba").glob("*.jpg"))
    horses = sorted((shared_data / "cyclegan" / "horse2zebra").glob("*/*.jpg"))
    for split, files in (
        ("trainA", faces[:20]),
        ("testA", faces[20:]),
        ("trainB", horses[:5]),
        ("testB", horses[5:]),
    ):
        (root / split).mkdir()
        for f in files:
            shutil.copy(f, root / split / f.name)
    return root


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, folder):
    from gan_repro.runner import run_experiment

    out = tmp_path_factory.mktemp("runs")
    tokens = ["scale=smoke", "runs=cyclegan,unit", f"out={out}", "progress=false"]
    return run_experiment("cyclegan_unit/photo-anime", [*tokens, f"data_dir={folder}"])


@pytest.mark.slow
def test_smoke_run_draws_every_figure_measures_and_reports(smoke):
    record = read_json(smoke / "data.json")
    assert record["sizes"] == {"a": 20, "b": 5, "test_a": 12, "test_b": 3}
    assert "5,866 MS-Celeb-1M photos" in record["substitution"]
    for spec in DECL.figures:
        assert (smoke / "figures" / spec["file"]).stat().st_size > 0, spec
    for run in ("cyclegan", "unit"):
        m = read_json(smoke / run / "metrics.json")
        assert m["step"] == 2 and m["test_images"] == {"a": 4, "b": 3}
        for direction in ("AtoB", "BtoA"):
            d = m[direction]
            assert set(d) >= {"inception", "judged_target", "judge_features", "diversity"}
            assert d["diversity"]["pairs"] == 2 and d["diversity"]["inputs"] == 2
            assert 0.0 <= d["structure"]["own_ssim"] <= 1.0
        config = read_json(smoke / run / "config.json")
        assert config["choices"] == DECL.choices and config["data"]["substitution"]
    cyc, unit = (read_json(smoke / r / "metrics.json") for r in ("cyclegan", "unit"))
    assert cyc["AtoB"]["diversity"]["lpips_mean"] == 0.0  # one output per input
    assert cyc["deterministic"] and not unit["deterministic"]
    assert unit["AtoB"]["diversity"]["pixel_std"] > 0.0  # the noise draws differ
    report = (smoke / "report.md").read_text()
    assert report.startswith(f"# {DECL.title}")
    assert "| photo -> anime | 13.08 | 14.71 |" in report  # U-GAT-IT's table as context
    assert "UNIT keeps structure better (L64, L492)" in report
    assert "Data substitution" in report and "RANDOM" in report


@pytest.mark.slow
def test_notebook_runs_on_the_smoke_results(smoke):
    from conftest import run_notebook

    text, outputs = run_notebook("cyclegan_vs_unit.ipynb", smoke)
    assert "LPIPS diversity" in text and "unit" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 3


def test_a_missing_folder_says_where_to_get_selfie2anime(tmp_path):
    from gan_repro.errors import DatasetMissingError
    from gan_repro.runner import run_experiment

    tokens = ["scale=smoke", "runs=unit", f"out={tmp_path}", f"data_dir={tmp_path / 'none'}"]
    with pytest.raises(DatasetMissingError, match="selfie2anime") as err:
        run_experiment("cyclegan_unit/photo-anime", tokens)
    assert "trainA" in str(err.value)
