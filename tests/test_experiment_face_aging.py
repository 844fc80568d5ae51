"""`make repro-face-aging SCALE=smoke` end to end on real UTKFace faces: the declaration
experiments/face_aging/utkface.yaml through the runner (training, figures, evaluation, report),
the CLI and the notebook.

CI time: four of the eight runs are trained (dcgan, cyclegan, cgan-lc-b1, cdcgan); they cover
every code path (the others differ by a number in their config: cgan-z100/z120 by the latent size,
cgan-lc-b5 by beta, cyclegan-collapsed by the D-loss weight), and their figure panels say "not run".
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from gan_repro.config import load_declaration, resolve_run
from gan_repro.errors import BadOptionError
from gan_repro.runner import run_experiment

RUNS = "dcgan,cyclegan,cgan-lc-b1,cdcgan"
NAME = "face_aging/utkface"
#: The thesis's iterations (L1076, L1116-1127, L1146, L1192) and the smoke scale's.
PAPER_STEPS = {"dcgan": 6_500, "cyclegan": 33_000, "cgan-lc-b1": 60_000, "cdcgan": 1_550}
SMOKE_STEPS = {"dcgan": 4, "cyclegan": 2, "cgan-lc-b1": 4, "cdcgan": 4}


def _tokens(out, shared, runs=RUNS):
    tokens = ["scale=smoke", f"out={out}", f"runs={runs}", "progress=false"]
    if shared is not None and (shared / "utkface").is_dir():
        tokens.append(f"data_dir={shared / 'utkface'}")
    return tokens


@pytest.fixture(scope="module")
def smoke(tmp_path_factory, request):
    """The smoke experiment on the shared real UTKFace sample (else the bundled faces)."""
    shared = request.getfixturevalue("shared_data_or_none")
    out = tmp_path_factory.mktemp("face")
    return run_experiment(NAME, _tokens(out, shared))


def test_the_declaration_holds_the_thesis_settings():
    decl = load_declaration(NAME)
    assert decl.name == "face-aging" and len(decl.runs) == 8
    for run in decl.runs:
        paper, smoke = resolve_run(decl, run, "paper"), resolve_run(decl, run, "smoke")
        assert paper.trainer.steps == paper.meta["thesis_steps"]
        assert paper.model_dict() | {"batch_size": 0, "image_shape": 0} == smoke.model_dict() | {
            "batch_size": 0,
            "image_shape": 0,
        }  # a scale changes counts (and the CycleGAN's resolution), never the model
    cdcgan = resolve_run(decl, "cdcgan", "paper")
    assert (cdcgan.model.batch_size, cdcgan.trainer.steps, cdcgan.trainer.sample_every) == (
        16,
        1550,
        10,
    )
    cyc = resolve_run(decl, "cyclegan", "smoke")
    assert cyc.model.image_shape == (32, 32, 3) and cyc.data["size"] == 32
    assert cyc.model.batch_size == 1 and cyc.trainer.steps == 2


def test_every_run_is_trained_evaluated_and_recorded(smoke):
    for run in RUNS.split(","):
        d = smoke / run
        config = json.loads((d / "config.json").read_text())
        assert config["experiment"] == "face-aging" and config["scale"] == "smoke"
        assert config["meta"]["thesis_steps"] == PAPER_STEPS[run]
        assert config["data"]["counts"] and config["data"]["provenance"].startswith("UTKFace")
        steps = SMOKE_STEPS[run]
        assert (d / "history.csv").read_text().count("\n") == 1 + steps  # header + one per step
        assert sorted(p.name for p in (d / "samples").glob("*.png"))
        assert (d / "figures" / "losses.png").is_file() and (d / "checkpoints").is_dir()
        metrics = json.loads((d / "metrics.json").read_text())
        assert metrics["step"] == steps and "RANDOM" in metrics["inception_weights"]
    cyc = json.loads((smoke / "cyclegan" / "config.json").read_text())["model"]
    assert cyc["pool_size"] == 50 and cyc["d_loss_weight"] == 0.5 and cyc["batch_size"] == 1
    assert cyc["identity_weight"] == 5 and cyc["forward_cycle_weight"] == 10
    lc = json.loads((smoke / "cgan-lc-b1" / "config.json").read_text())["model"]
    assert lc["d_loss"] == "proposed" and lc["latent_dim"] == 120 and lc["d2"] == "ssim"
    assert "lc_real" in (smoke / "cgan-lc-b1" / "history.csv").read_text().splitlines()[0]


def test_metrics_beyond_the_thesis(smoke):
    cgan = json.loads((smoke / "cgan-lc-b1" / "metrics.json").read_text())
    acc = cgan["age_accuracy"]
    assert acc["chance"] == 0.25 and acc["n"] == 4 * 6 and list(acc["support"]) == [6] * 4
    hits = np.trace(np.array(acc["confusion"]))  # the accuracy is the confusion's diagonal
    assert acc["accuracy"] == pytest.approx(hits / 24)
    assert acc["balanced_accuracy"] == pytest.approx(np.mean(acc["per_class_accuracy"]))
    assert set(cgan["fid_per_group"]) == {"0-9", "20-29", "50-59", "80-116", "all"}
    cyc = json.loads((smoke / "cyclegan" / "metrics.json").read_text())
    for direction in ("AtoB", "BtoA"):
        x = cyc["directions"][direction]
        assert x["age_accuracy_translated"]["n"] == 6
        drift = x["identity_drift"]
        assert drift["n"] == 6 and drift["baseline"]["pairs"] == 6
        # a 2-step generator changes its input (0 would mean it returned the face unchanged)
        assert drift["lpips"]["mean"] > 0 and -1 <= drift["ssim"]["mean"] < 1
        assert drift["baseline"]["lpips"]["mean"] > 0
    dcgan = json.loads((smoke / "dcgan" / "metrics.json").read_text())
    assert sum(dcgan["age_mix_generated"]["shares"].values()) == pytest.approx(1.0)
    d_acc = dcgan["losses"]["last"]["d_acc"]  # mean of 4 real and 4 fake hits: k / 8
    assert 0 <= d_acc <= 1 and d_acc * 8 == pytest.approx(round(d_acc * 8))
    assert dcgan["losses"]["last_step"] == SMOKE_STEPS["dcgan"]
    for key in ("thesis4-100-grey", "thesis4-32-rgb", "cyclegan-32-rgb"):
        assert (smoke / "classifiers" / f"{key}.keras").is_file()


def test_every_chapter5_figure_is_drawn(smoke):
    names = {p.name for p in (smoke / "figures").glob("*.png")}
    expected = {
        "fig4_3_dataset.png",
        "fig5_1_dcgan_iterations.png",
        "fig5_2_cyclegan_pairs.png",
        "fig5_3_cyclegan_30k_33k.png",
        "fig5_4_collapsed_vs_healthy.png",
        "fig5_5_collapsed_last10.png",
        "fig5_6_cgan_latent.png",
        "fig5_8_cgan_iterations_losses.png",
        "fig5_9_cdcgan_early.png",
        "fig5_10_cdcgan_late.png",
        "fig5_11_cdcgan_first.png",
        "fig5_12_bce_vs_proposed.png",
        "fig5_13_loss_profiles.png",
        "fig5_14_beta1_vs_beta5.png",
    }
    assert expected <= names, expected - names
    # Fig 5.7 needs the CGAN with BCE (cgan-z120), which this CI run leaves out
    assert "fig5_7_smoothing.png" not in names


def test_report_quotes_the_thesis_beside_our_numbers(smoke):
    text = (smoke / "report.md").read_text()
    assert "| dcgan | generator | 8,302,721 | 8,302,721 |" in text
    assert "| cyclegan | generator | 35,276,553 | 35,276,553 |" in text
    assert "| cgan | discriminator | 5,646,337 | 5,646,337 |" in text
    assert "| cdcgan | generator | 2,921,603 | 2,921,603 |" in text
    assert "no age change was perceptible" in text and "translated faces classed" in text
    assert "Smoke scale" in text and "RANDOM network weights" in text
    assert "| thesis4 | 0-9 | 3,062 |" in text
    assert "Not run: cyclegan-collapsed, cgan-z100, cgan-z120, cgan-lc-b5." in text
    assert text.startswith("# Using GANs for Face Aging (Viñals Canal 2020)")
    assert "Choices where the thesis is ambiguous" in text and "50-image pool" in text


def test_cli_report_and_figure_snapshot_scaling(smoke, capsys):
    from experiments.face_aging.figures import snapshot
    from gan_repro.cli import main

    assert main(["report", str(smoke / "cgan-lc-b1")]) == 0
    assert "What the thesis said" in capsys.readouterr().out
    # 59,800 of 60,000 thesis iterations -> the last grid of a 4-step run
    step, path = snapshot(smoke / "cgan-lc-b1", 59_800)
    assert step == 2 and path.exists()  # grids at 2 and 4; 59800/60000*4 = 3.99 -> 2
    assert snapshot(smoke / "cgan-lc-b1", 60_000)[0] == 4


def test_a_folder_with_other_settings_is_refused(smoke):
    cfg = smoke / "cdcgan" / "config.json"
    original = cfg.read_text()
    saved = json.loads(original)
    saved["model"]["batch_size"] = 999
    cfg.write_text(json.dumps(saved))
    try:
        with pytest.raises(BadOptionError, match="other settings"):
            run_experiment(NAME, _tokens(smoke.parents[1], None, runs="cdcgan"))
    finally:
        cfg.write_text(original)


def test_bad_run_names_are_refused(tmp_path):
    with pytest.raises(BadOptionError, match="run"):
        run_experiment(NAME, _tokens(tmp_path, None, runs="dcgan,stylegan"))


def test_notebook_runs_on_the_smoke_results(smoke):
    from conftest import run_notebook

    text, outputs = run_notebook("face_aging.ipynb", smoke)
    assert "cgan-lc-b1" in text and "age-group accuracy" in text and "LPIPS" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4
