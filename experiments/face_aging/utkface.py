"""Face-aging thesis (Viñals Canal 2020), Chapter 5: five GANs on UTKFace, and the numbers it lacks.

``make repro-face-aging [SCALE=smoke]`` trains every run below, draws the Chapter 5 figures,
evaluates each run and prints the report (spec 000_face_aging.md; thesis lines in brackets):

=====================  =====================================================================
run                    thesis setting
=====================  =====================================================================
dcgan                  DCGAN, 100x100 grey, batch 60, 6,500 iterations (L1076), Fig 5.1
cyclegan               CycleGAN 17-23 <-> 47-53, 256x256 colour, D loss x0.5, 33,000
                       iterations (L1116-1127), batch 1 + 50-image pool; Figs 5.2/5.3
cyclegan-collapsed     the same without slowing D (x1.0), 11,000 iterations: Figs 5.4/5.5
cgan-z100, cgan-z120   CGAN, 100x100 grey, batch 100, 60,000 iterations, latent 100 / 120
                       (L918, L938, L1146): Figs 5.6-5.8
cgan-lc-b1, cgan-lc-b5 CGAN latent 120 with the proposed loss, alpha 1, beta 1 / 5 (L1048,
                       L1225-1240): Figs 5.12-5.14
cdcgan                 conditional DCGAN, 32x32 colour, 1,550 iterations (L1192) of batch 16
                       (the base notebook's; the thesis gives none): Figs 5.9-5.11
=====================  =====================================================================

Beyond the thesis (spec section 6): an age-group classifier per image variant, trained here on
UTKFace with a held-out split; the age-group accuracy of generated (CGAN, CDCGAN) and translated
(CycleGAN) faces; FID per age group; CycleGAN identity drift (LPIPS and SSIM of input vs output,
against a different-person baseline); the DCGAN's predicted age mix against the data's.

Scales. ``paper``: the iterations and batch sizes above on the full UTKFace folder (``--data-dir``
or ``GAN_REPRO_DATA``; there is no TFDS UTKFace). ``smoke``: the same code for a few iterations on
the real faces of the data dir if one is set (e.g. the 9,780-face crop_part1 sample), else on the
~200 faces bundled in ``data/samples/utkface``; the CycleGAN runs at 32x32 there (its layers and
parameter counts do not depend on the resolution; 256x256 costs ~1 minute a step on a CPU).

Where the thesis text and its ``model.summary()`` tables disagree, the summaries win (spec 8);
the builders' docstrings say which. Other choices, all recorded in each run's ``config.json``:
CycleGAN batch 1 and pool 50 (spec 8.5); no Colab optimizer resets (8.17); hard labels for the
CDCGAN (8.13); SSIM with data range 2, the literal similarity as d2 with a floor of 0.01, and
random partners per anchor for the proposed loss (8.15).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from gan_repro.data.utkface import VARIANTS as DATA_VARIANTS
from gan_repro.data.utkface import load_utkface
from gan_repro.errors import BadOptionError, GanReproError
from gan_repro.runs import (
    check_experiment_args,
    environment,
    experiment_parser,
    read_json,
    write_json,
)
from gan_repro.training.cyclegan import CycleGAN, CycleGANConfig
from gan_repro.training.image_gan import ImageGAN, ImageGANConfig
from gan_repro.training.state import finished_step
from gan_repro.training.trainer import Trainer, TrainerOptions
from gan_repro.viz.figures import loss_curves

NAME = "face-aging"
TITLE = "Using GANs for Face Aging (Viñals Canal 2020): the thesis vs this reproduction"
PUBLISHED = Path(__file__).with_name("published.csv")


@dataclass(frozen=True)
class Run:
    """One trained model of Chapter 5: its family, settings and data variant."""

    family: str  # "image" | "cycle"
    data: str  # key of gan_repro.data.utkface.VARIANTS
    config: dict = field(default_factory=dict)
    thesis: str = ""


RUNS: dict[str, Run] = {
    "dcgan": Run("image", "dcgan", {"model": "dcgan", "batch_size": 60}, "§5.1, Fig 5.1"),
    "cyclegan": Run("cycle", "cyclegan", {}, "§5.2, Figs 5.2-5.4 (healthy run, D slowed x0.5)"),
    "cyclegan-collapsed": Run(
        "cycle", "cyclegan", {"d_loss_weight": 1.0}, "§5.2, Figs 5.4/5.5 (first run, D not slowed)"
    ),
    "cgan-z100": Run("image", "cgan", {"model": "cgan", "latent_dim": 100}, "§5.3, Fig 5.6 right"),
    "cgan-z120": Run(
        "image", "cgan", {"model": "cgan", "latent_dim": 120}, "§5.3, Figs 5.6 left, 5.7, 5.8"
    ),
    "cgan-lc-b1": Run(
        "image",
        "cgan",
        {"model": "cgan", "latent_dim": 120, "d_loss": "proposed", "alpha": 1.0, "beta": 1.0},
        "§5.5, Fig 5.12 right, Fig 5.14",
    ),
    "cgan-lc-b5": Run(
        "image",
        "cgan",
        {"model": "cgan", "latent_dim": 120, "d_loss": "proposed", "alpha": 1.0, "beta": 5.0},
        "§5.5, Figs 5.13/5.14",
    ),
    "cdcgan": Run("image", "cdcgan", {"model": "cdcgan", "batch_size": 16}, "§5.4, Figs 5.9-5.11"),
}


@dataclass(frozen=True)
class Scale:
    steps: dict[str, int]
    batch_size: dict[str, int]  # runs not listed keep the thesis's batch
    sample_every: dict[str, int]
    full_data: bool
    cyclegan_size: int
    classifier_epochs: int
    classifier_steps: int | None  # per epoch; None: one pass over the training split
    eval_per_class: int  # generated faces per age class (conditional runs)
    eval_translate: int  # faces translated per direction (CycleGAN)
    log_every: int = 10
    checkpoint_every: int = 1000

    def batch(self, run: str) -> int | None:
        return self.batch_size.get(run)


PAPER_STEPS = {
    "dcgan": 6_500,
    "cyclegan": 33_000,
    "cyclegan-collapsed": 11_000,
    "cgan-z100": 60_000,
    "cgan-z120": 60_000,
    "cgan-lc-b1": 60_000,
    "cgan-lc-b5": 60_000,
    "cdcgan": 1_550,
}
SCALES = {
    "paper": Scale(
        steps=PAPER_STEPS,
        batch_size={},
        # Keras-GAN sample interval 200 (CGAN 57000/59800 are multiples, spec 8.11); the
        # CycleGAN "every 500 iterations" (L1097); dense early CDCGAN grids for Fig 5.11.
        sample_every={
            "dcgan": 250,
            "cyclegan": 500,
            "cyclegan-collapsed": 500,
            "cgan-z100": 200,
            "cgan-z120": 200,
            "cgan-lc-b1": 200,
            "cgan-lc-b5": 200,
            "cdcgan": 10,
        },
        full_data=True,
        cyclegan_size=256,
        classifier_epochs=15,
        classifier_steps=None,
        eval_per_class=1000,
        eval_translate=1000,
        checkpoint_every=1000,
    ),
    "smoke": Scale(
        # 4 iterations each; 2 for the CycleGANs (35M-parameter generators, ~6 s a step on a CPU)
        steps={k: 2 if k.startswith("cyclegan") else 4 for k in PAPER_STEPS},
        batch_size={"dcgan": 4, "cgan-z100": 4, "cgan-z120": 4, "cgan-lc-b1": 4, "cgan-lc-b5": 4}
        | {"cdcgan": 4},
        sample_every={k: 1 if k.startswith("cyclegan") else 2 for k in PAPER_STEPS},
        full_data=False,
        cyclegan_size=32,
        classifier_epochs=1,
        classifier_steps=8,
        eval_per_class=6,
        eval_translate=6,
        log_every=1,
        checkpoint_every=4,
    ),
}


# ----------------------------------------------------------------------------------------- data
def load_faces(data: str, scale: Scale, data_dir=None):
    """The UTKFace selection of a data variant (``gan_repro.data.utkface.VARIANTS``) at ``scale``:
    the full folder at paper scale; at smoke scale the data dir if set, else the bundled sample."""
    from gan_repro.data.sources import resolve_data_dir

    settings = dict(DATA_VARIANTS[data])
    if data == "cyclegan":
        settings["size"] = scale.cyclegan_size
    if scale.full_data or resolve_data_dir(data_dir) is not None:
        return load_utkface(data_dir, source="auto", **settings)
    return load_utkface(source="bundled", **settings)


class FaceData:
    """Loads each data variant once per process (the runs share them)."""

    def __init__(self, scale: Scale, data_dir=None):
        self.scale, self.data_dir = scale, data_dir
        self._cache = {}

    def __call__(self, data: str):
        if data not in self._cache:
            self._cache[data] = load_faces(data, self.scale, self.data_dir)
        return self._cache[data]

    def record(self) -> dict:
        return {k: d.provenance for k, d in self._cache.items()}


# ------------------------------------------------------------------------------------- training
def make_family(name: str, scale: Scale, faces, seed: int):
    """The family of run ``name`` on its loaded ``faces`` (a FaceDomain)."""
    run = RUNS[name]
    if run.family == "cycle":
        size = scale.cyclegan_size
        config = CycleGANConfig(image_shape=(size, size, 3), **run.config)
        return CycleGAN(config, faces.group(0).images, faces.group(1).images, seed=seed)
    kwargs = dict(run.config)
    if scale.batch(name):
        kwargs["batch_size"] = scale.batch(name)
    config = ImageGANConfig(**kwargs)
    return ImageGAN(config, faces.images, faces.labels, seed=seed)


def run_one(name: str, scale: Scale, data: FaceData, out: Path, args) -> float:
    """Train run ``name`` into ``out/name`` (resuming if it exists); seconds spent."""
    run_dir = out / name
    steps = args.steps or scale.steps[name]
    faces = data(RUNS[name].data)
    family = make_family(name, scale, faces, args.seed)
    if (run_dir / "config.json").exists():
        before = read_json(run_dir / "config.json")["model"]
        now = json.loads(json.dumps(family.config.as_dict()))  # tuples as JSON has them
        changed = {k: (before.get(k), v) for k, v in now.items() if before.get(k) != v}
        if changed:
            raise BadOptionError(
                f"{run_dir} holds a run with other settings {changed} (old, new); resuming it "
                "would mix two experiments: pass another --out or delete that folder"
            )
    if finished_step(run_dir / "checkpoints") >= steps:
        print(f"[{NAME}] {name}: already trained to step {steps}, kept", flush=True)
        return 0.0
    options = TrainerOptions(
        steps=steps,
        seed=args.seed,
        log_every=scale.log_every,
        checkpoint_every=min(scale.checkpoint_every, steps),
        sample_every=scale.sample_every[name],
        jit_compile=args.jit,
        precision=args.precision,
        progress=not args.no_progress,
    )
    trainer = Trainer(family, run_dir, options)
    write_json(
        run_dir / "config.json",
        {
            "experiment": NAME,
            "variant": name,
            "scale": args.scale,
            "thesis": f"Viñals Canal 2020 {RUNS[name].thesis}; spec 000_face_aging.md",
            "family": RUNS[name].family,
            "data_variant": RUNS[name].data,
            "thesis_steps": PAPER_STEPS[name],
            "model": family.config.as_dict(),
            "trainer": vars(options),
            "data": {
                "provenance": faces.provenance,
                "counts": faces.counts(),
                "data_dir": None if args.data_dir is None else str(Path(args.data_dir).resolve()),
            },
            "environment": environment(),
        },
    )
    t0 = time.perf_counter()
    trainer.fit()
    elapsed = time.perf_counter() - t0
    (run_dir / "figures").mkdir(exist_ok=True)
    loss_curves(run_dir / "history.csv", run_dir / "figures" / "losses.png", f"{NAME} {name}")
    return elapsed


# ----------------------------------------------------------------------------------- classifiers
def classifier_key(run: str, scale: Scale) -> str:
    """Which age-group classifier judges ``run``: its data variant's scheme, size and colour,
    e.g. ``thesis4-100-grey`` (DCGAN, CGANs), ``thesis4-32-rgb``, ``cyclegan-256-rgb``."""
    settings = DATA_VARIANTS[RUNS[run].data]
    size = scale.cyclegan_size if RUNS[run].data == "cyclegan" else settings["size"]
    return f"{settings['scheme']}-{size}-{'grey' if settings['grey'] else 'rgb'}"


def classifier_for(run: str, scale: Scale, data: FaceData, out: Path, seed: int):
    """The age-group classifier of ``run`` (:func:`classifier_key`), trained on the run's data
    variant on first use and saved in ``out/classifiers``; returns (model, its metrics)."""
    from gan_repro.training.age_classifier import (
        load_age_classifier,
        save_age_classifier,
        train_age_classifier,
    )

    key = classifier_key(run, scale)
    path = out / "classifiers" / f"{key}.keras"
    if path.exists():
        return load_age_classifier(path), read_json(path.with_suffix(".json"))
    faces = data(RUNS[run].data)
    print(f"[{NAME}] training the age-group classifier {key} on {len(faces.images)} faces")
    model, metrics = train_age_classifier(
        faces.images,
        faces.labels,
        classes=len(faces.group_names),
        epochs=scale.classifier_epochs,
        steps_per_epoch=scale.classifier_steps,
        train_eval_limit=None if scale.full_data else 256,
        seed=seed,
        verbose=2 if scale.full_data else 0,
    )
    metrics = {"groups": list(faces.group_names), "data": faces.provenance, **metrics}
    save_age_classifier(model, metrics, path)
    return load_age_classifier(path), metrics


# ------------------------------------------------------------------- entry points for gan-repro
def evaluate(run_dir, lpips_weights="auto", inception_weights="auto", n=None, data_dir=None):
    """``gan-repro evaluate RUN``: see :func:`experiments.face_aging.evaluate.evaluate`."""
    from experiments.face_aging.evaluate import evaluate as evaluate_run

    return evaluate_run(Path(run_dir), lpips_weights, inception_weights, n, data_dir)


def report_folder(out) -> Path:
    """``gan-repro report RUN...``: the report of the results folder holding the runs."""
    from experiments.face_aging.report import report

    return report(Path(out))


# ------------------------------------------------------------------------------------------ CLI
def parse_args(argv=None):
    choices = ("--runs", "run", list(RUNS))
    p = experiment_parser(
        "python -m experiments.face_aging.utkface", __doc__.split("\n\n")[0], SCALES, choices
    )
    args = p.parse_args(argv)
    args.run_list = check_experiment_args(args, SCALES, choices)
    return args


def main(argv=None) -> Path:
    from experiments.face_aging.evaluate import evaluate as evaluate_run
    from experiments.face_aging.figures import make_figures

    args = parse_args(argv)
    scale = SCALES[args.scale]
    out = args.out / NAME / args.scale
    out.mkdir(parents=True, exist_ok=True)
    data = FaceData(scale, args.data_dir)
    timings = {}
    for name in args.run_list:
        print(f"[{NAME}] {name}: {args.scale} scale", flush=True)
        timings[name] = run_one(name, scale, data, out, args)
    write_json(out / "data.json", data.record())
    write_json(out / "timings.json", {"seconds_per_run": timings})
    made = make_figures(out, data)
    if not args.no_eval:
        for name in args.run_list:
            print(f"[{NAME}] evaluating {name}", flush=True)
            evaluate_run(
                out / name,
                args.lpips_weights,
                args.inception_weights,
                data_dir=args.data_dir,
                data=data,
            )
    print(report_folder(out).read_text())
    print(f"[{NAME}] results in {out}; figures: {', '.join(p.name for p in made)}")
    return out


if __name__ == "__main__":
    try:
        main()
    except GanReproError as e:
        sys.exit(f"error: {e}")
