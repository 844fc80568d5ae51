"""The Chapter 4/5 figures of the face-aging thesis, drawn from the run folders (spec section 5).

Iterations are the thesis's; a shorter run (smoke scale, ``--steps``) shows the sample grid at the
same *fraction* of its length, and every panel is titled with the iteration it really shows.
A figure whose runs are missing is drawn with "not run" panels, so a partial reproduction still
shows what it has. Layouts (the thesis describes none, spec 8.19):

==================  =========================================================================
fig4_3              2 x 6 dataset faces, row 1 ages 17-23 (A), row 2 ages 47-53 (B) (L864-872)
fig5_1              DCGAN 5x5 grids at several iterations (L1083)
fig5_2              CycleGAN at the end, real over translated, A->B beside B->A (L1116)
fig5_3              CycleGAN grids at iterations 30,000 and 33,000 (L1123)
fig5_4              iteration 11,000: the collapsed run (D not slowed) beside the healthy one
fig5_5              the collapsed run's losses over its last 10 logged iterations (L1151)
fig5_6              CGAN at iteration 59,800: latent 120 (left) beside latent 100 (L1164)
fig5_7              one CGAN face per age class through OpenCV's four smoothing filters (L1177)
fig5_8              CGAN grids at several iterations with the losses (L1190)
fig5_9 / 5_10       CDCGAN early (first 10 %) and late (last grids) (L1201, L1208)
fig5_11             CDCGAN's very first iterations: the colour balance (L1217)
fig5_12             CGAN with BCE (left) beside the proposed loss, beta 1 (right) (L1232)
fig5_13             loss profiles: BCE beside the proposed loss with beta 5 (L1247)
fig5_14             iteration 57,000: the proposed loss with beta 1 beside beta 5 (L1254)
==================  =========================================================================
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from gan_repro.io import read_json
from gan_repro.viz import face_aging as fv
from gan_repro.viz.figures import read_history

#: Side-by-side sample grids: (file, title, [(run, thesis iteration, caption), ...]).
COMPARISONS = (
    (
        "fig5_3_cyclegan_30k_33k.png",
        "Fig 5.3: rows real A, A->B, real B, B->A",
        [("cyclegan", 30_000, "CycleGAN"), ("cyclegan", 33_000, "CycleGAN")],
    ),
    (
        "fig5_4_collapsed_vs_healthy.png",
        "Fig 5.4: CycleGAN at iteration 11,000",
        [
            ("cyclegan-collapsed", 11_000, "(collapsed) D not slowed"),
            ("cyclegan", 11_000, "(healthy) D loss x0.5"),
        ],
    ),
    (
        "fig5_6_cgan_latent.png",
        "Fig 5.6: CGAN, one face per age class (columns 0-9, 20-29, 50-59, 80+)",
        [("cgan-z120", 59_800, "latent 120"), ("cgan-z100", 59_800, "latent 100")],
    ),
    (
        "fig5_12_bce_vs_proposed.png",
        "Fig 5.12: CGAN discriminator loss, BCE vs the proposed loss",
        [("cgan-z120", 59_800, "BCE"), ("cgan-lc-b1", 59_800, "proposed loss, alpha 1, beta 1")],
    ),
    (
        "fig5_14_beta1_vs_beta5.png",
        "Fig 5.14: CGAN with the proposed loss",
        [("cgan-lc-b1", 57_000, "beta 1"), ("cgan-lc-b5", 57_000, "beta 5")],
    ),
)


def sample_steps(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, png) of every saved sample grid of a run, in step order."""
    paths = sorted((Path(run_dir) / "samples").glob("step_*.png"))
    return [(int(p.stem.split("_")[1]), p) for p in paths]


def snapshot(run_dir: Path, thesis_step: int) -> tuple[int, Path]:
    """The sample grid at ``thesis_step`` scaled to this run's length: the last grid at or
    before it (the first grid if none is). A missing run gives (thesis_step, a missing path)."""
    run_dir = Path(run_dir)
    grids = sample_steps(run_dir)
    if not grids or not (run_dir / "config.json").exists():
        return thesis_step, run_dir / "samples" / "missing.png"
    config = read_json(run_dir / "config.json")
    target = thesis_step * config["trainer"]["steps"] / config["meta"]["thesis_steps"]
    before = [g for g in grids if g[0] <= target + 1e-9]
    return before[-1] if before else grids[0]


def _panel(run_dir: Path, thesis_step: int, caption: str):
    step, path = snapshot(run_dir, thesis_step)
    return f"{caption}, iteration {step}", path


def _existing(run_dir: Path, thesis_steps) -> list[tuple[int, Path]]:
    """The distinct sample grids at ``thesis_steps`` that exist, in step order."""
    return sorted(s for s in {snapshot(run_dir, t) for t in thesis_steps} if s[1].exists())


def _montage(run_dir: Path, thesis_steps, out: Path, title: str) -> Path:
    shots = _existing(run_dir, thesis_steps)
    if not shots:
        return fv.side_by_side([(title, Path(run_dir) / "missing.png")], out, title, columns=1)
    return fv.iteration_montage(shots, out, title)


def _one_face_per_class(run_dir: Path, seed: int = 0) -> np.ndarray | None:
    """One face per age class from one noise vector (the thesis's 4-image CGAN samples)."""
    from gan_repro.runner import load_run

    if not (Path(run_dir) / "checkpoints").exists():
        return None
    family, _ = load_run(run_dir)
    k = family.config.classes
    z = tf.repeat(tf.random.stateless_normal((1, family.config.latent_dim), [seed, 7]), k, 0)
    return family.sample(z, np.arange(k))


def _cyclegan_pairs(run_dir: Path, data, out: Path) -> Path:
    from gan_repro.runner import load_run

    title = "Fig 5.2: CycleGAN, real faces (top) and their translations (bottom)"
    if not (Path(run_dir) / "checkpoints").exists():
        return fv.side_by_side([("not run", Path(run_dir) / "missing.png")], out, title)
    faces = data("cyclegan")
    family, step = load_run(run_dir)
    rng = np.random.default_rng(0)
    panels = []
    for direction, src in (("AtoB", 0), ("BtoA", 1)):
        group = faces.group(src).images
        real = group[rng.choice(len(group), size=min(5, len(group)), replace=False)]
        panels.append(
            (
                f"{direction} ({faces.group_names[src]} -> {faces.group_names[1 - src]}), "
                f"iteration {step}",
                fv.pairs_grid(real, family.translate(real, direction)),
            )
        )
    return fv.side_by_side(panels, out, title, columns=2)


def make_figures(out: Path, data) -> list[Path]:
    """Every figure of the module table into ``out/figures``; returns their paths."""
    out = Path(out)
    figs = out / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    made = []
    cyc = data("cyclegan")
    rng = np.random.default_rng(0)
    a, b = (cyc.group(i).images for i in (0, 1))
    made.append(
        fv.dataset_examples(
            a[rng.permutation(len(a))],
            b[rng.permutation(len(b))],
            figs / "fig4_3_dataset.png",
            "Fig 4.3: UTKFace, CycleGAN domains",
            captions=tuple(cyc.group_names),
        )
    )
    made.append(
        _montage(
            out / "dcgan",
            (250, 500, 1000, 2000, 3000, 4000, 5000, 6500),
            figs / "fig5_1_dcgan_iterations.png",
            "Fig 5.1: DCGAN results at various iterations",
        )
    )
    made.append(_cyclegan_pairs(out / "cyclegan", data, figs / "fig5_2_cyclegan_pairs.png"))
    collapsed = out / "cyclegan-collapsed" / "history.csv"
    keys = ("dA_real", "dA_fake", "dB_real", "dB_fake", "g_AtoB", "g_BtoA")
    made.append(
        fv.loss_tail_figure(
            read_history(collapsed) if collapsed.exists() else {},
            keys,
            figs / "fig5_5_collapsed_last10.png",
            "Fig 5.5: losses of the last 10 iterations, collapsed CycleGAN",
        )
    )
    faces = _one_face_per_class(out / "cgan-z120")
    if faces is not None:
        made.append(
            fv.smoothing_figure(
                faces,
                figs / "fig5_7_smoothing.png",
                labels=list(data("cgan").group_names),
            )
        )
    cgan_hist = out / "cgan-z120" / "history.csv"
    made.append(
        fv.samples_with_losses(
            _existing(out / "cgan-z120", (200, 5_000, 20_000, 40_000, 59_800)),
            read_history(cgan_hist) if cgan_hist.exists() else {},
            figs / "fig5_8_cgan_iterations_losses.png",
            "Fig 5.8: CGAN (latent 120) at various iterations, with its losses",
        )
    )
    cd = out / "cdcgan"
    made.append(
        _montage(cd, (50, 100, 150), figs / "fig5_9_cdcgan_early.png", "Fig 5.9: CDCGAN early")
    )
    made.append(
        _montage(cd, (1_350, 1_450, 1_550), figs / "fig5_10_cdcgan_late.png", "Fig 5.10: late")
    )
    made.append(
        _montage(
            cd, (10, 20, 30, 40), figs / "fig5_11_cdcgan_first.png", "Fig 5.11: first iterations"
        )
    )
    histories = [
        (caption, read_history(out / run / "history.csv"))
        for caption, run in (("BCE", "cgan-z120"), ("proposed, beta 5", "cgan-lc-b5"))
        if (out / run / "history.csv").exists()
    ]
    made.append(
        fv.loss_profiles(
            histories,
            figs / "fig5_13_loss_profiles.png",
            "Fig 5.13: loss profiles, BCE vs the proposed loss (beta 5)",
            window=25,
        )
    )
    for filename, title, panels in COMPARISONS:
        made.append(
            fv.side_by_side(
                [_panel(out / run, step, caption) for run, step, caption in panels],
                figs / filename,
                title,
            )
        )
    return made
