"""The MNIST2SVHN experiment end to end at smoke scale, and the command line around it."""

import json
from pathlib import Path

import pytest

from gan_repro.cli import import_experiment, main
from gan_repro.runs import read_json

exp = import_experiment("scogan-mnist2svhn")


def test_variants_carry_the_thesis_weights():
    """Table 5.2/7.1 columns with the weights of L1069-1092 and L1769 (spec 2.3-2.6)."""
    v = exp.VARIANTS
    assert set(v) == {"CoGAN", "FR", "SLFR", "SLCC", "FRCC", "PL", "SL"}
    assert v["CoGAN"] == {"shared_generator_layers": 4, "shared_discriminator_layers": 3}
    assert (v["SLFR"]["sl_weight"], v["SLFR"]["fr_weight"]) == (10.0, 100.0)
    assert (v["SLCC"]["sl_weight"], v["SLCC"]["cc_weight"]) == (10.0, 10.0)
    assert (v["FRCC"]["fr_weight"], v["FRCC"]["cc_weight"]) == (100.0, 10.0)
    assert (v["PL"]["pl_content_weight"], v["PL"]["pl_style_weight"]) == (1e-3, 1e-11)
    assert v["SL"] == {"sl_weight": 10.0}
    paper = exp.SCALES["paper"]
    assert (paper.steps, paper.batch_size, paper.classifier_epochs) == (25_000, 128, 10)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    root = exp.main(
        ["--scale", "smoke", "--variants", "SLCC,CoGAN", "--out", str(out), "--no-progress"]
    )
    return root


def test_smoke_run_writes_one_complete_results_folder_per_variant(smoke_run):
    data = read_json(smoke_run / "data.json")
    assert data["svhn_standin"] is True and data["domain2"].startswith("STAND-IN, NOT SVHN")
    assert data["svhn_pruning"]["thesis_kept"] == 70_262
    for variant in ("SLCC", "CoGAN"):
        run = smoke_run / variant
        config = read_json(run / "config.json")
        assert config["variant"] == variant and config["scale"] == "smoke"
        assert config["data"]["svhn_standin"] is True  # the stand-in is recorded in the results
        for key, value in exp.VARIANTS[variant].items():
            assert config["model"][key] == value
        assert config["model"]["loss"] == "wgan-gp" and config["model"]["n_critic"] == 5
        rows = (run / "history.csv").read_text().strip().splitlines()
        assert len(rows) == 1 + exp.SCALES["smoke"].steps
        header = rows[0].split(",")
        assert {"d1", "d2", "gp1", "g1", "g2"} <= set(header)
        if variant == "SLCC":
            assert {"sl", "cc"} <= set(header)
        assert (run / "grid.png").stat().st_size > 0
        assert (run / "figures" / "losses.png").exists()
        assert (run / "checkpoints" / "checkpoint").exists()
        assert list((run / "tb").iterdir())
    for fig in ("fig5_4.png", "fig5_5.png", "fig7_2.png", "all_variants.png"):
        assert (smoke_run / "figures" / fig).stat().st_size > 0


def test_smoke_run_ends_evaluated_with_the_thesis_table_beside_ours(smoke_run):
    for variant in ("SLCC", "CoGAN"):
        m = read_json(smoke_run / variant / "metrics.json")
        assert m["step"] == exp.SCALES["smoke"].steps
        lp = m["lpips"]
        assert lp["n_pairs"] == exp.SCALES["smoke"].eval_pairs
        for key in ("gen1_vs_gen2", "gen1_vs_real1", "gen2_vs_real2", "real1_vs_real2"):
            assert lp[key] >= 0.0  # LPIPS heads are non-negative, random or not
        assert "RANDOM" in m["lpips_weights"]  # no official LPIPS file offline: said so
        assert 0.0 <= m["agreement"]["agreement"] <= 1.0
        assert set(m["fid"]) == {"domain1", "domain2"}
    report = (smoke_run / "report.md").read_text()
    assert "| SLCC | Gen. D1 vs Gen. D2 (same z) | 0.3093 |" in report
    assert "| CoGAN | Gen. D2 vs Real D2 | 0.2151 |" in report
    assert "Real D1 vs Real D2 (baseline) | 0.3304" in report
    assert "STAND-IN" in report and "RANDOM network weights" in report


def test_rerunning_a_finished_experiment_resumes_instead_of_retraining(smoke_run, capsys):
    before = (smoke_run / "SLCC" / "history.csv").read_text()
    exp.main(
        [
            "--scale",
            "smoke",
            "--variants",
            "SLCC",
            "--out",
            str(smoke_run.parents[1]),
            "--no-progress",
            "--no-eval",
        ]
    )
    assert (smoke_run / "SLCC" / "history.csv").read_text() == before
    assert "STAND-IN" in capsys.readouterr().err  # said loudly, every time


def test_cli_lists_models_with_parameter_counts(capsys):
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["scogan_generators_32"]["total_params"] == 15_744_518
    assert rows["cogan_discriminators_32"]["total_params"] == 1_629_591


def test_cli_refuses_bad_options_with_the_choices(capsys):
    assert main(["train", "scogan-mnist2svhn", "--scale", "huge"]) == 2
    err = capsys.readouterr().err
    assert "scale='huge'" in err and "'paper'" in err and "'smoke'" in err
    assert main(["train", "scogan-mnist2svhn", "--variants", "SLFR,XX"]) == 2
    assert "'SLCC'" in capsys.readouterr().err
    assert main(["train", "no-such-experiment"]) == 2
    assert "scogan-mnist2svhn" in capsys.readouterr().err


def test_cli_report_rebuilds_the_report_from_run_folders(smoke_run, tmp_path, capsys):
    out = tmp_path / "r.md"
    runs = [str(smoke_run / "SLCC"), str(smoke_run / "CoGAN")]
    assert main(["report", *runs, "--out", str(out)]) == 0
    assert "| SLCC | Gen. D1 vs Real D1 | 0.1153 |" in out.read_text()
    assert "Table 5.2" in capsys.readouterr().out


def test_cli_data_describes_the_bundled_sample(capsys):
    assert main(["data", "mnist", "--split", "test", "--source", "bundled"]) == 0
    out = capsys.readouterr().out
    assert "10000 images" in out and "0:980" in out and "BUNDLED SAMPLE" in out


def test_missing_svhn_names_the_files_and_tfds_name(tmp_path, capsys):
    assert main(["data", "svhn", "--source", "local", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "train_32x32.mat" in err and "svhn_cropped" in err


def test_notebook_runs_on_the_smoke_results(smoke_run, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from gan_repro.cli import EXPERIMENTS  # noqa: F401  (the package is importable)

    path = exp.__file__.rsplit("/experiments/", 1)[0] + "/notebooks/scogan_mnist2svhn.ipynb"
    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("GAN_REPRO_RUN", str(smoke_run))
    where = {"metadata": {"path": str(Path(path).parent)}}
    NotebookClient(nb, timeout=300, kernel_name="python3", resources=where).execute()
    text = "".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    assert "STAND-IN" in text and "CoGAN" in text and "SLCC" in text
    assert "0.3093 / " in text  # Table 5.2's SLCC number beside ours
    assert any(
        o.get("output_type") == "display_data" for c in nb.cells for o in c.get("outputs", [])
    )


def test_cli_models_lists_the_face_aging_builders_with_published_counts(capsys):
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["face_aging_cyclegan_generator"]["total_params"] == 35_276_553
    assert rows["face_aging_dcgan_generator"]["trainable_params"] == 8_302_337
    assert rows["face_aging_cgan_discriminator_body"]["total_params"] == 5_646_337
