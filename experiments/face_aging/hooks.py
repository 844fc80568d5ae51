"""What the face-aging declaration (``utkface.yaml``) cannot say in YAML, registered by name.

* ``face_age_classifier`` (HOOKS): the age-group classifier that judges a run, one per data
  variant's scheme, size and colour (:func:`classifier_key`), trained on first use on the
  variant's faces and saved in ``<results>/classifiers``;
* ``face_aging`` (EVALUATORS): the numbers the thesis never measured
  (:mod:`experiments.face_aging.evaluate`);
* ``face_aging_chapter5`` (FIGURES): Figs 4.3 and 5.1-5.14 (:mod:`experiments.face_aging.figures`);
* ``face_aging`` (REPORTS): the thesis's counts and statements beside ours
  (:mod:`experiments.face_aging.report`).

The runner imports this module because the declaration's ``hooks:`` names it.
"""

from __future__ import annotations

from pathlib import Path

from experiments.face_aging import evaluate as face_evaluate
from experiments.face_aging import figures as face_figures
from experiments.face_aging import report as face_report
from gan_repro.config import resolve_run
from gan_repro.data.utkface import VARIANTS
from gan_repro.io import read_json
from gan_repro.registry import EVALUATORS, FIGURES, HOOKS, REPORTS


class FaceData:
    """``data(variant)``: the FaceDomain of a data variant (``gan_repro.data.utkface.VARIANTS``),
    loaded through ``ctx.inputs`` with the data section of a run of that variant: the one in
    ``specs``, else the one recorded in a trained run's ``config.json``, else the declaration's
    (at the context's scale). The runs share the loaded faces."""

    def __init__(self, ctx, specs: dict | None = None):
        self.ctx = ctx
        self.specs = dict(specs or {})

    def spec(self, variant: str) -> dict:
        if variant in self.specs:
            return self.specs[variant]
        decl = self.ctx.declaration
        runs = [r for r, s in decl.runs.items() if s.get("meta", {}).get("data_variant") == variant]
        for run in runs:
            path = Path(self.ctx.out) / run / "config.json"
            if path.exists():
                return read_json(path)["data"]["spec"]
        if not runs:
            raise KeyError(f"{decl.name} declares no run of the data variant {variant!r}")
        return resolve_run(decl, runs[0], self.ctx.scale).data

    def __call__(self, variant: str):
        return self.ctx.inputs(self.spec(variant)).resources["faces"]


def classifier_key(spec: dict) -> str:
    """Which age-group classifier judges the runs on the data section ``spec``: its variant's
    scheme, size and colour, e.g. ``thesis4-100-grey`` (DCGAN, CGANs), ``thesis4-32-rgb``,
    ``cyclegan-256-rgb`` (``cyclegan-32-rgb`` at smoke scale)."""
    settings = VARIANTS[spec["variant"]]
    size = spec.get("size") or settings["size"]
    return f"{settings['scheme']}-{size}-{'grey' if settings['grey'] else 'rgb'}"


@HOOKS.register("face_age_classifier", source="ours (spec 6): age groups of UTKFace, held out")
def age_classifier(ctx, data: dict, seed: int | None = None, **options):
    """The age-group classifier for the data section ``data`` (:func:`classifier_key`), trained
    on its faces on first use (``options``: :func:`train_age_classifier`'s, e.g. ``epochs``,
    ``steps_per_epoch``, ``train_eval_limit``) and saved in ``ctx.out/classifiers``; returns
    ``(model, its metrics)``."""
    from gan_repro.training.age_classifier import (
        load_age_classifier,
        save_age_classifier,
        train_age_classifier,
    )

    key = classifier_key(data)
    path = Path(ctx.out) / "classifiers" / f"{key}.keras"
    if path.exists():
        return load_age_classifier(path), read_json(path.with_suffix(".json"))
    faces = ctx.inputs(data).resources["faces"]
    name = ctx.declaration.name
    print(f"[{name}] training the age-group classifier {key} on {len(faces.images)} faces")
    model, metrics = train_age_classifier(
        faces.images,
        faces.labels,
        classes=len(faces.group_names),
        seed=ctx.seed if seed is None else seed,
        verbose=2 if ctx.paper else 0,
        **options,
    )
    metrics = {"groups": list(faces.group_names), "data": faces.provenance, **metrics}
    save_age_classifier(model, metrics, path)
    return load_age_classifier(path), metrics


@EVALUATORS.register("face_aging", source="ours (spec 6): age accuracy, FID, identity drift")
def face_aging_evaluator(run) -> dict:
    """:func:`experiments.face_aging.evaluate.evaluate` on a runner :class:`EvalRun`."""
    spec = run.config["data"]["spec"]
    data = FaceData(run.ctx, {run.config["meta"]["data_variant"]: spec})
    hook = {"hook": "face_age_classifier", "data": spec, "seed": run.config["trainer"]["seed"]}
    classifier = run.ctx.resource("age_classifier", {**hook, **run.options.get("classifier", {})})
    return face_evaluate.evaluate(run, data, classifier, classifier_key(spec))


@FIGURES.register("face_aging_chapter5", source="Face-aging thesis Figs 4.3, 5.1-5.14")
def chapter5_figures(ctx, runs=None) -> list[Path]:
    """Every figure of :mod:`experiments.face_aging.figures` into ``ctx.out/figures``."""
    return face_figures.make_figures(ctx.out, FaceData(ctx))


@REPORTS.register("face_aging", source="face-aging counts and statements beside our numbers")
def face_aging_section(report) -> str:
    """:func:`experiments.face_aging.report.report_body` (the generic writer adds the title)."""
    return face_report.report_body(report)


def run_faces(run_dir):
    """The faces a run folder was trained on (its recorded data section and data dir), for
    notebooks: ``run_faces("runs/face-aging/smoke/cyclegan").group(0).images``."""
    from gan_repro.runner import run_inputs

    return run_inputs(run_dir).resources["faces"]
