"""The two MNIST <-> USPS CycleGAN declarations: the reports' settings resolve as recorded, and a
smoke run on the real digits (MNIST t10k, the complete USPS) writes every figure, the judges'
numbers and the report; the notebook runs on it."""

from __future__ import annotations

import pytest

from gan_repro.config import load_declaration, resolve_run
from gan_repro.io import read_json

SMALL = load_declaration("mnist_usps/cyclegan28")
LARGE = load_declaration("mnist_usps/cyclegan128")


def test_kasmi_thimonier_settings():
    """L169-L182: lambda 0.045 on the summed L1, lr 2e-4, Eq 5's BCE, 1,000 iterations with
    models kept at 200 and 1,000; no identity loss, no pool; 28x28x1 data."""
    cfg = resolve_run(SMALL, "cyclegan", "paper")
    m = cfg.model
    assert (m.forward_cycle_weight, m.backward_cycle_weight, m.identity_weight) == (0.045,) * 2 + (
        0.0,
    )
    assert (m.cycle_reduction, m.adversarial, m.update_order) == ("sum", "bce", "joint")
    assert (m.lr, m.batch_size, m.pool_size, m.image_shape) == (2e-4, 16, 0, (28, 28, 1))
    assert cfg.trainer.steps == 1000 and cfg.trainer.checkpoint_every == 200
    assert cfg.trainer.keep_checkpoints * 200 >= 1000  # 200 .. 1,000 all kept for the figures
    assert cfg.data == {**cfg.data, "dataset": "mnist_usps", "size": 28, "channels": 1}
    assert resolve_run(SMALL, "mean-l1", "paper").model.cycle_reduction == "mean"
    assert resolve_run(SMALL, "cyclegan", "cpu").trainer.steps == 1000  # the paper's counts


def test_grignon_joly_settings_and_their_ablation_sweeps():
    """10 epochs of min(|A|, |B|) = 7,291 steps at batch 1, lambda 10 with Keras-GAN's identity
    0.1 * lambda, and the four 5-epoch ablations of Fig 4 as two sweeps."""
    assert list(LARGE.runs) == ["baseline", "lambda0", "lambda30", "lr0.001", "lr0.01"]
    base = resolve_run(LARGE, "baseline", "paper")
    assert base.trainer.steps == 10 * 7291 and base.trainer.checkpoint_every == 7291
    m = base.model
    assert (m.image_shape, m.batch_size, m.lr, m.beta_1) == ((128, 128, 3), 1, 2e-4, 0.5)
    assert (m.forward_cycle_weight, m.identity_weight, m.adversarial) == (10.0, 1.0, "lsgan")
    assert m.generator_options == {"norm": "contrib"}
    weights = {
        run: (
            resolve_run(LARGE, run, "paper").model.forward_cycle_weight,
            resolve_run(LARGE, run, "paper").model.identity_weight,
            resolve_run(LARGE, run, "paper").model.lr,
            resolve_run(LARGE, run, "paper").trainer.steps,
        )
        for run in LARGE.runs
        if run != "baseline"
    }
    assert weights == {
        "lambda0": (0.0, 0.0, 2e-4, 36455),
        "lambda30": (30.0, pytest.approx(3.0), 2e-4, 36455),
        "lr0.001": (10.0, 1.0, 1e-3, 36455),
        "lr0.01": (10.0, 1.0, 1e-2, 36455),
    }


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, shared_data):
    from gan_repro.runner import run_experiment

    out = tmp_path_factory.mktemp("runs")
    tokens = ["scale=smoke", "runs=cyclegan,mean-l1", f"out={out}", "progress=false"]
    return run_experiment("mnist_usps/cyclegan28", [*tokens, f"data_dir={shared_data}"])


@pytest.mark.slow
def test_smoke_run_judges_the_translations_and_reports_the_claims(smoke):
    data = read_json(smoke / "data.json")
    assert data["sizes"] == {"a": 5000, "b": 7291, "held_out_a": 5000, "held_out_b": 2007}
    m = read_json(smoke / "cyclegan" / "metrics.json")
    assert [p["step"] for p in m["over_steps"]] == [2, 4]  # every kept checkpoint
    n = m["test_images"]["usps"]
    for key, value in m["translation"].items():  # accuracies over n test digits
        assert value * n == pytest.approx(round(value * n)), key
    # the judges are trained on the real training splits and score their held-out digits
    assert m["judges"]["b"]["held_out"].endswith("(2007)")
    assert m["adaptation"]["train_images"] == 64
    assert set(m["feature_distances"]) == {
        "mnist_to_usps",
        "mnist_untranslated_vs_usps",
        "usps_to_mnist",
        "usps_untranslated_vs_mnist",
    }
    for spec in SMALL.figures:  # every declared figure
        assert (smoke / "figures" / spec["file"]).stat().st_size > 0, spec
    config = read_json(smoke / "cyclegan" / "config.json")
    assert config["declaration"] == "mnist_usps/cyclegan28" and config["choices"] == SMALL.choices
    assert (smoke / "cyclegan" / "grid.png").stat().st_size > 0
    assert len((smoke / "cyclegan" / "history.csv").read_text().splitlines()) == 1 + 4
    summary = (smoke / "figures" / "fig2_generator.txt").read_text()
    assert "141,633" in summary  # the L171 generator's parameters
    report = (smoke / "report.md").read_text()
    assert report.startswith(f"# {SMALL.title}")
    assert "no obvious differences between 200 and 1,000 (L184)" in report
    assert "| CyCADA | 0.9560 |" in report and "ours: cyclegan (CycleGAN pixel-level)" in report
    assert "lambda 0.045 on a per-pixel mean" in report


@pytest.mark.slow
def test_notebook_runs_on_the_smoke_results(smoke):
    from conftest import run_notebook

    text, outputs = run_notebook("cyclegan_mnist_usps.ipynb", smoke)
    assert "label kept MNIST->USPS" in text and "mean-l1" in text
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) >= 3
