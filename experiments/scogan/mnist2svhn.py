"""SCoGAN thesis, Ch.5.2 / 7: MNIST2SVHN with CoGAN and six soft-coupled variants.

Reproduces Tables 5.2 and 7.1 (the runs; the LPIPS numbers come with ``gan-repro evaluate``)
and Figs 5.4, 5.5 and 7.2 (spec 001_scogan.md sections 1.3, 1.6, 2, 3, 4, 5.2, 10).

Setup (L996, L1048): Table 3.1/3.2 nets without shared layers (CoGAN: 4 generator blocks and
the last 3 discriminator blocks shared), WGAN-GP (lambda 10, 5 critic steps), Adam 2e-4
(0.5, 0.999), batch 128, 25,000 iterations, z ~ U[-1,1]^100, Xavier init. Domain 1 = MNIST
train (60,000) at 32x32x3; domain 2 = SVHN train pruned to the images the Table B.1 classifier
(trained first on MNIST+SVHN, 10 epochs) gives a top softmax > 0.4 (the thesis keeps 70,262).

Evaluation (``gan-repro evaluate``, run at the end of the experiment): the three LPIPS numbers of
Table 5.2 (AlexNet v0.1, 50,000 pairs at paper scale) and the real-vs-real baseline, plus what the
thesis lacks: FID/KID per domain and the share of same-z pairs whose Table B.1 classes agree.

Choices where the thesis is ambiguous (spec section 9), recorded in every run's config.json:
* CoGAN column: WGAN-GP like the rest of Ch.5 ("if not otherwise specified", L996).
* FR column: alpha 100, K = 3 (the value SLFR/FRCC use and the authors' run configs show).
* PL: alpha 1e-3, beta 1e-11 (L1092 and the authors' configs; L988/L1749 say 1e-13/1e-12).
* SL without the /2 of Eq 4.2 and CC with the code's L1 distance (the published numbers come
  from the code, Listings 6.15/6.16).
* SCoGAN shares nothing (the thesis); the authors' code shared the FC block
  (``--shared-generator-layers 1`` reproduces that).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_repro.data import (
    STANDIN_WARNING,
    load_mnist,
    load_svhn,
    load_svhn_standin,
    mnist_to_rgb32,
    prune_domain,
)
from gan_repro.errors import BadOptionError
from gan_repro.losses import vgg19_features, vgg19_weights_path
from gan_repro.runs import (
    check_experiment_args,
    environment,
    experiment_parser,
    read_json,
    write_json,
)
from gan_repro.training.classifier import (
    accuracy,
    load_classifier,
    predict_probs,
    train_digit_classifier,
)
from gan_repro.training.coupled import CoupledConfig, CoupledGAN, load_generators
from gan_repro.training.state import finished_step
from gan_repro.training.trainer import Trainer, TrainerOptions
from gan_repro.viz.figures import loss_curves, panel_figure

NAME = "scogan-mnist2svhn"
TITLE = "SCoGAN MNIST2SVHN: thesis Tables 5.2 and 7.1 vs this reproduction"
PUBLISHED = Path(__file__).with_name("published.csv")
TABLES = ("5.2", "7.1")

#: The columns of Tables 5.2 and 7.1 and their weights (L1050-1092, L1769).
VARIANTS: dict[str, dict] = {
    "CoGAN": {"shared_generator_layers": 4, "shared_discriminator_layers": 3},
    "FR": {"fr_weight": 100.0, "fr_layers": 3},
    "SLFR": {"sl_weight": 10.0, "fr_weight": 100.0, "fr_layers": 3},
    "SLCC": {"sl_weight": 10.0, "cc_weight": 10.0},
    "FRCC": {"fr_weight": 100.0, "fr_layers": 3, "cc_weight": 10.0},
    "PL": {"pl_content_weight": 1e-3, "pl_style_weight": 1e-11},
    "SL": {"sl_weight": 10.0},
}

#: Thesis figures made from the final sample grids: (file, title, [(caption, variant)]).
FIGURES = (
    ("fig5_4.png", "Fig 5.4: MNIST2SVHN", [("SCoGAN-SLFR", "SLFR"), ("SCoGAN-SLCC", "SLCC")]),
    ("fig5_5.png", "Fig 5.5: MNIST2SVHN", [("SCoGAN-FRCC", "FRCC"), ("SCoGAN-PL", "PL")]),
    ("fig7_2.png", "Fig 7.2: MNIST2SVHN", [("SCoGAN-SL, alpha_SL=10", "SL")]),
    (
        "all_variants.png",
        "MNIST2SVHN, every Table 5.2/7.1 column",
        [(f"SCoGAN-{v}" if v != "CoGAN" else v, v) for v in VARIANTS],
    ),
)


@dataclass(frozen=True)
class Scale:
    steps: int
    batch_size: int
    classifier_epochs: int
    classifier_steps_per_epoch: int
    checkpoint_every: int
    sample_every: int
    log_every: int
    full_data: bool
    eval_pairs: int  # LPIPS pairs (Table 5.2: 50,000)
    eval_fid: int  # images per domain for FID/KID and class agreement


SCALES = {
    # the thesis's scale: 25k iterations of batch 128 on the full datasets (L1048, L1069)
    "paper": Scale(25_000, 128, 10, 1000, 1000, 1000, 10, True, 50_000, 10_000),
    # the same code on the bundled MNIST sample and an SVHN stand-in, seconds on a CPU
    "smoke": Scale(6, 8, 1, 20, 6, 3, 1, False, 64, 32),
}


def prepare_data(scale: Scale, out: Path, data_dir=None, classifier_path=None, seed=2020):
    """Both domains as uint8 [N,32,32,3], the frozen classifier, and a provenance record."""
    if scale.full_data:
        mnist, svhn = load_mnist("train", data_dir), load_svhn("train", data_dir)
        mnist_val, svhn_val = load_mnist("test", data_dir), load_svhn("test", data_dir)
        standin = False
    else:
        mnist = load_mnist("test", source="bundled")
        svhn = load_svhn_standin(n=len(mnist.images), seed=seed)
        mnist_val = svhn_val = None
        standin = True
        print(STANDIN_WARNING, file=sys.stderr, flush=True)
    x1 = mnist_to_rgb32(mnist.images)
    record = {
        "domain1": mnist.provenance,
        "domain2": svhn.provenance,
        "svhn_standin": standin,
        "domain1_size": len(x1),
    }
    if classifier_path:
        classifier = load_classifier(classifier_path)
        record["classifier"] = {"source": str(classifier_path)}
    else:
        saved = out / "classifier" / "digit_classifier_b1.keras"
        if saved.exists():
            classifier = load_classifier(saved)
            record["classifier"] = read_json(saved.with_suffix(".json"))
        else:
            images = np.concatenate([x1, svhn.images])
            labels = np.concatenate([mnist.labels, svhn.labels])
            validation = None
            if mnist_val is not None:
                validation = (
                    np.concatenate([mnist_to_rgb32(mnist_val.images), svhn_val.images]),
                    np.concatenate([mnist_val.labels, svhn_val.labels]),
                )
            classifier, metrics = train_digit_classifier(
                images,
                labels,
                epochs=scale.classifier_epochs,
                steps_per_epoch=scale.classifier_steps_per_epoch,
                seed=seed,
                validation=validation,
                verbose=2,
            )
            classifier.trainable = False
            saved.parent.mkdir(parents=True, exist_ok=True)
            classifier.save(saved)
            info = {
                "source": "trained here on MNIST+SVHN train (Table B.1, spec 10.8)",
                "epochs": scale.classifier_epochs,
                "steps_per_epoch": scale.classifier_steps_per_epoch,
                "thesis_accuracy": 0.92,
                **metrics,
            }
            write_json(saved.with_suffix(".json"), info)
            record["classifier"] = info
    pruned, stats = prune_domain(svhn, lambda x: predict_probs_float(classifier, x))
    record["svhn_pruning"] = stats
    record["domain2_size"] = len(pruned.images)
    record["classifier"]["accuracy_on_domain1"] = accuracy(classifier, x1, mnist.labels)
    return x1, pruned.images, classifier, record


def predict_probs_float(classifier, x):
    """Classifier softmax for float images in [-1, 1] (what ``prune_domain`` hands over)."""
    return predict_probs(classifier, np.clip(np.rint(x * 127.5 + 127.5), 0, 255).astype(np.uint8))


def resolve_vgg(choice: str, paper: bool):
    """VGG19 features for PL: 'imagenet' (Keras cache/download), 'random' or a weights path.
    'auto' is imagenet at paper scale; at smoke scale imagenet only if already cached."""
    if choice == "auto":
        choice = "imagenet" if paper or vgg19_weights_path().exists() else "random"
    weights = None if choice == "random" else choice
    return vgg19_features(weights=weights), choice


def run_variant(variant, scale, x1, x2, classifier, out, args, data_record):
    """Train one Table 5.2/7.1 column into ``out/<variant>`` (resuming if it exists)."""
    config = CoupledConfig(batch_size=scale.batch_size, **VARIANTS[variant])
    if args.shared_generator_layers is not None and variant != "CoGAN":
        config.shared_generator_layers = args.shared_generator_layers
    vgg, vgg_choice = (None, None)
    if config.uses_perceptual:
        vgg, vgg_choice = resolve_vgg(args.vgg_weights, scale.full_data)
    run_dir = out / variant
    steps = args.steps or scale.steps
    if (run_dir / "config.json").exists():
        before = read_json(run_dir / "config.json")["model"]
        changed = {k: (before.get(k), v) for k, v in config.as_dict().items() if before.get(k) != v}
        if changed:
            raise BadOptionError(
                f"{run_dir} holds a run with other settings {changed} (old, new); resuming it "
                "would mix two experiments: pass another --out or delete that folder"
            )
    if finished_step(run_dir / "checkpoints") >= steps and (run_dir / "grid.png").exists():
        print(f"[{NAME}] {variant}: already trained to step {steps}, kept", flush=True)
        return 0.0
    family = CoupledGAN(
        config,
        x1,
        x2,
        seed=args.seed,
        classifier=classifier if config.sl_weight > 0 else None,
        vgg=vgg,
    )
    options = TrainerOptions(
        steps=steps,
        seed=args.seed,
        log_every=scale.log_every,
        checkpoint_every=scale.checkpoint_every,
        sample_every=scale.sample_every,
        jit_compile=args.jit,
        precision=args.precision,
        progress=not args.no_progress,
    )
    trainer = Trainer(family, run_dir, options)
    write_json(
        run_dir / "config.json",
        {
            "experiment": NAME,
            "variant": variant,
            "scale": args.scale,
            "thesis": "SCoGAN (Juul-Nyholm & Alminde 2020), Table 5.2/7.1, spec 001_scogan.md",
            "model": config.as_dict(),
            "trainer": vars(options),
            "vgg_weights": vgg_choice,
            "data": data_record,
            "environment": environment(),
        },
    )
    t0 = time.perf_counter()
    trainer.fit()
    elapsed = time.perf_counter() - t0
    figures = run_dir / "figures"
    figures.mkdir(exist_ok=True)
    loss_curves(run_dir / "history.csv", figures / "losses.png", f"{NAME} {variant}")
    last = sorted((run_dir / "samples").glob("step_*.png"))[-1]
    (run_dir / "grid.png").write_bytes(last.read_bytes())
    return elapsed


def make_figures(out: Path) -> list[Path]:
    """Figs 5.4, 5.5, 7.2 (and every variant side by side) from the runs' final grids."""
    made = []
    for filename, title, panels in FIGURES:
        made.append(
            panel_figure(
                [(caption, out / v / "grid.png") for caption, v in panels],
                title,
                out / "figures" / filename,
                columns=4,
            )
        )
    return made


def evaluate(
    run_dir: Path,
    lpips_weights="auto",
    inception_weights="auto",
    n_pairs=None,
    data_dir=None,
    data=None,
) -> dict:
    """Write ``run_dir/metrics.json``: LPIPS (Table 5.2's three numbers + the baseline), FID/KID
    per domain and class agreement of same-z pairs, from the newest checkpoint. ``data`` =
    ``(x1, x2, classifier)`` as :func:`prepare_data` gives them, to skip loading them again."""
    import tensorflow as tf

    from gan_repro.metrics.agreement import class_agreement_from_images
    from gan_repro.metrics.coupled import generated_batches, lpips_measures
    from gan_repro.metrics.fid import INCEPTION_WEIGHTS, fid_kid, inception_features
    from gan_repro.metrics.lpips import LPIPS
    from gan_repro.metrics.weights import lpips_weights_path
    from gan_repro.pretrained import is_cached, weights_choice

    run_dir = Path(run_dir)
    config = read_json(run_dir / "config.json")
    scale = SCALES[config["scale"]]
    if data is None:
        data = prepare_data(scale, run_dir.parent, data_dir, seed=config["trainer"]["seed"])[:3]
    x1, x2, classifier = data
    g1, g2, model, step = load_generators(run_dir)

    @tf.function
    def generate(z):
        return g1(z, training=False)[-1], g2(z, training=False)[-1]

    paper = scale.full_data
    lp_weights = weights_choice(
        lpips_weights, lpips_weights_path("alex").exists(), paper, "default"
    )
    lpips = LPIPS("alex", weights=lp_weights)
    n = n_pairs or scale.eval_pairs
    seed = config["trainer"]["seed"]
    metrics = {
        "step": step,
        "lpips": lpips_measures(lpips, generate, x1, x2, n, model.noise_dim, seed=seed),
        "lpips_weights": "official v0.1 (converted)" if lp_weights else "RANDOM (not comparable)",
    }
    n_img = min(scale.eval_fid, n)
    fakes = [
        np.concatenate(parts)
        for parts in zip(
            *generated_batches(generate, n_img, model.noise_dim, 250, seed + 1), strict=True
        )
    ]
    metrics["agreement"] = class_agreement_from_images(classifier, fakes[0], fakes[1])
    inc_weights = weights_choice(inception_weights, is_cached(INCEPTION_WEIGHTS), paper, "imagenet")
    inception = inception_features(inc_weights)
    rng = np.random.default_rng(seed)
    metrics["fid"], metrics["kid"] = {}, {}
    for k, (fake, real) in enumerate(zip(fakes, (x1, x2), strict=True), start=1):
        real = real[rng.choice(len(real), size=min(n_img, len(real)), replace=False)]
        scores = fid_kid(fake, real, inception, subset_size=min(1000, n_img), fid_method="eigh")
        metrics["fid"][f"domain{k}"] = scores["fid"]
        metrics["kid"][f"domain{k}"] = scores["kid_mean"]
    metrics["inception_weights"] = "imagenet" if inc_weights else "RANDOM (not comparable)"
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def report(out: Path) -> Path:
    """``out/report.md``: every published Table 5.2/7.1 number beside this run's."""
    from gan_repro.report import write_report

    runs = [out / v for v in VARIANTS if (out / v / "config.json").exists()]
    return write_report(runs, PUBLISHED, TABLES, TITLE, out / "report.md")


def parse_args(argv=None):
    choices = ("--variants", "variant", list(VARIANTS))
    p = experiment_parser(
        "python -m experiments.scogan.mnist2svhn", __doc__.split("\n\n")[0], SCALES, choices
    )
    p.add_argument("--classifier", default=None, help="a saved Table B.1 classifier (.keras)")
    p.add_argument("--vgg-weights", default="auto", help="auto | imagenet | random | PATH.h5")
    p.add_argument(
        "--shared-generator-layers",
        type=int,
        default=None,
        help="SCoGAN variants only: share the first N generator blocks (code: 1)",
    )
    args = p.parse_args(argv)
    args.variant_list = check_experiment_args(args, SCALES, choices)
    return args


def main(argv=None) -> Path:
    args = parse_args(argv)
    scale = SCALES[args.scale]
    out = args.out / NAME / args.scale
    out.mkdir(parents=True, exist_ok=True)
    x1, x2, classifier, record = prepare_data(
        scale, out, args.data_dir, args.classifier, seed=args.seed
    )
    write_json(out / "data.json", record)
    timings = {}
    for variant in args.variant_list:
        print(f"[{NAME}] {variant}: {args.scale} scale", flush=True)
        timings[variant] = run_variant(variant, scale, x1, x2, classifier, out, args, record)
    made = make_figures(out)
    write_json(out / "timings.json", {"seconds_per_variant": timings})
    if not args.no_eval:
        for variant in args.variant_list:
            print(f"[{NAME}] evaluating {variant}", flush=True)
            evaluate(
                out / variant,
                args.lpips_weights,
                args.inception_weights,
                data=(x1, x2, classifier),
            )
        print(report(out).read_text())
    if record["svhn_standin"]:
        print(STANDIN_WARNING, file=sys.stderr, flush=True)
    print(f"[{NAME}] results in {out}; figures: {', '.join(p.name for p in made)}")
    return out


if __name__ == "__main__":
    try:
        main()
    except BadOptionError as e:
        sys.exit(f"error: {e}")
