"""Every declared experiment: it loads, every run resolves at every scale, the scales change
counts and never the architecture, and a smoke run trains, evaluates and reports (one smoke
test per declaration, parametrised over all of them, so a new declaration is covered by adding
its file). The declaration machinery itself: layered overrides, sweeps, refused keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_repro.config import (
    all_declarations,
    load_declaration,
    parse_overrides,
    resolve_run,
)
from gan_repro.errors import BadOptionError
from gan_repro.io import read_json
from gan_repro.registry import FAMILIES

DECLARATIONS = {d.key: d for d in all_declarations()}


def test_every_thesis_experiment_is_declared():
    assert {
        "scogan/mnist2svhn",
        "scogan/mnist2edge",
        "scogan/toy-ring",
        "scogan/mnist2svhn-fr",
        "cogan/mnist2svhn-sharing",
        "face_aging/utkface",
        "mnist_usps/cyclegan28",
        "mnist_usps/cyclegan128",
        "cyclegan_unit/photo-anime",
    } <= set(DECLARATIONS)


@pytest.mark.parametrize("key", sorted(DECLARATIONS))
def test_every_run_resolves_at_every_scale_with_the_same_networks(key):
    decl = DECLARATIONS[key]
    assert {"paper", "smoke"} <= set(decl.scales)
    for run in decl.runs:
        paper = resolve_run(decl, run, "paper")
        assert paper.family in FAMILIES
        for scale in decl.scales:
            cfg = resolve_run(decl, run, scale)
            assert cfg.family == paper.family
            # the same networks at every scale: only counts (steps, batch, data, eval) change
            arch = {k: v for k, v in cfg.model_dict().items() if not _is_count(k)}
            assert arch == {k: v for k, v in paper.model_dict().items() if not _is_count(k)}


def _is_count(key: str) -> bool:
    return key in {"batch_size", "image_shape", "sample_points", "lr_hold_steps", "lr_decay_steps"}


@pytest.mark.parametrize("key", sorted(DECLARATIONS))
def test_every_declaration_publishes_its_numbers_beside_ours(key):
    decl = DECLARATIONS[key]
    if decl.report.get("published"):
        assert (decl.folder / decl.report["published"]).is_file()
    assert decl.evaluators and decl.figures and decl.choices


#: Declarations whose smoke run a dedicated module trains anyway (and checks at least what
#: the generic smoke test checks): they are not trained twice.
DEDICATED_SMOKE = {
    "scogan/mnist2svhn": "test_experiment_mnist2svhn.py",
    "face_aging/utkface": "test_experiment_face_aging.py",
    "mnist_usps/cyclegan28": "test_experiment_mnist_usps.py",
    "cyclegan_unit/photo-anime": "test_experiment_cyclegan_unit.py",
}


def test_dedicated_smoke_modules_exist():
    for key, module in DEDICATED_SMOKE.items():
        assert key in DECLARATIONS and (Path(__file__).parent / module).is_file(), key


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(set(DECLARATIONS) - set(DEDICATED_SMOKE)))
def test_smoke_run_trains_evaluates_and_reports(key, tmp_path, shared_data_or_none):
    """The declaration's first run at smoke scale through the one runner: a results folder
    with its config, history, grid and metrics, every declared figure file, and the report."""
    from gan_repro.runner import run_experiment

    decl = DECLARATIONS[key]
    run = next(iter(decl.runs))
    tokens = ["scale=smoke", f"runs={run}", f"out={tmp_path}", "progress=false"]
    if key.startswith("face_aging") and shared_data_or_none is not None:
        tokens.append(f"data_dir={shared_data_or_none / 'utkface'}")
    out = run_experiment(key, tokens)
    assert out == Path(tmp_path) / decl.name / "smoke"
    config = read_json(out / run / "config.json")
    steps = resolve_run(decl, run, "smoke").trainer.steps
    assert config["declaration"] == key and config["trainer"]["steps"] == steps
    assert (out / run / "grid.png").stat().st_size > 0
    metrics = read_json(out / run / "metrics.json")
    assert metrics["step"] == steps
    for spec in decl.figures:
        if "file" in spec:
            assert (out / "figures" / spec["file"]).is_file(), spec
    assert (out / "report.md").read_text().startswith(f"# {decl.title}")


# --------------------------------------------------------------------- the declaration machinery
def _decl(tmp_path, text: str):
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return load_declaration(path)


TOY = """
name: toy-test
title: t
thesis: t
family: toy
model: {lr: 1.0e-4}
trainer: {steps: 100}
data: {dataset: ring}
runs:
  a: {model: {n_critic: 1}}
  b:
    model: {lr: 2.0e-4}
    sweep:
      grid: {model.n_critic: [1, 5], model.batch_size: [10, 20]}
      name: "b{n_critic}-{batch_size}"
scales:
  paper: {}
  smoke:
    trainer: {steps: 3}
    runs:
      b: {trainer: {steps: 2}}
      b5-20: {trainer: {steps: 1}}
figures: [{figure: ring_dataset, file: d.png}]
evaluators: [ring_modes]
choices: [c]
"""


def test_layers_merge_in_order_defaults_base_run_scale_then_command_line(tmp_path):
    decl = _decl(tmp_path, TOY)
    assert list(decl.runs) == ["a", "b1-10", "b1-20", "b5-10", "b5-20"]
    a = resolve_run(decl, "a", "paper")
    assert (a.model.lr, a.model.n_critic, a.trainer.steps, a.model.z_size) == (1e-4, 1, 100, 10)
    b = resolve_run(decl, "b5-10", "paper")
    assert (b.model.lr, b.model.n_critic, b.model.batch_size) == (2e-4, 5, 10)
    assert resolve_run(decl, "a", "smoke").trainer.steps == 3
    assert resolve_run(decl, "b1-10", "smoke").trainer.steps == 2  # by its sweep's name
    assert resolve_run(decl, "b5-20", "smoke").trainer.steps == 1  # by its own name
    cli = parse_overrides(["trainer.steps=7", "model.lr=1e-3", "runs.a.model.n_critic=3"])
    assert resolve_run(decl, "b5-20", "smoke", cli).trainer.steps == 7  # the command line wins
    a = resolve_run(decl, "a", "smoke", cli)
    assert (a.model.lr, a.model.n_critic) == (1e-3, 3)


def test_bad_keys_values_and_scales_are_refused_with_the_fix(tmp_path):
    decl = _decl(tmp_path, TOY)
    with pytest.raises(BadOptionError, match="n_critc"):
        resolve_run(decl, "a", "paper", parse_overrides(["model.n_critc=2"]))
    with pytest.raises(BadOptionError, match="model.lr: Value 'fast'"):
        resolve_run(decl, "a", "paper", parse_overrides(["model.lr=fast"]))
    with pytest.raises(BadOptionError, match="no scale 'huge'"):
        resolve_run(decl, "a", "huge")
    with pytest.raises(BadOptionError, match="not key=value"):
        parse_overrides(["steps"])
    with pytest.raises(BadOptionError, match="unknown option 'stpes'"):
        parse_overrides(["stpes=3"])
    with pytest.raises(BadOptionError, match="architecture"):
        _decl(tmp_path, TOY.replace("trainer: {steps: 3}", "model: {generator: other}"))
    with pytest.raises(BadOptionError, match="'smoke' scale"):
        _decl(tmp_path, TOY.split("  smoke:")[0] + "figures: []\n")
    with pytest.raises(BadOptionError, match="titel"):
        _decl(tmp_path, TOY + "titel: x\n")
