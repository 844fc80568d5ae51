"""Figures of coupled (CoGAN / SCoGAN) runs that need the trained generators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from gan_repro.io import atomic_save
from gan_repro.registry import FIGURES
from gan_repro.viz.grids import to_uint8


@FIGURES.register("lpips_extremes", source="SCoGAN Figs 5.1/5.3: lowest and highest LPIPS pairs")
def lpips_extremes(
    ctx, file: str, title: str, run: str, pairs: int | None = None, show: int = 8
) -> Path:
    """The ``show`` same-z pairs (G1(z), G2(z)) with the lowest and the highest LPIPS among
    ``pairs`` (default: the run's ``eval.lpips_pairs``), each pair titled with its distance.
    LPIPS weights as the evaluators choose them ('auto'); a missing run draws a note."""
    out = ctx.out / "figures" / file
    fig = Figure(figsize=(1.6 * show, 7.0))
    if not (ctx.out / run / "checkpoints" / "checkpoint").exists():
        fig.text(0.5, 0.5, f"not run: {run}", ha="center", va="center")
        return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=100))
    import tensorflow as tf

    from gan_repro.io import read_json
    from gan_repro.metrics.coupled import generated_batches
    from gan_repro.metrics.lpips import LPIPS
    from gan_repro.metrics.weights import lpips_weights_path
    from gan_repro.pretrained import weights_choice

    family, step = ctx.load_run(run)
    config = read_json(ctx.out / run / "config.json")
    n = int(pairs or config.get("eval", {}).get("lpips_pairs", 1000))
    g1, g2 = family.models["g1"], family.models["g2"]
    choice = config.get("eval", {}).get("lpips_weights", "auto")
    weights = weights_choice(choice, lpips_weights_path("alex").exists(), ctx.paper, "default")
    lpips = LPIPS("alex", weights=weights)

    @tf.function
    def generate(z):
        return g1(z, training=False)[-1], g2(z, training=False)[-1]

    images1, images2, distances = [], [], []
    for a, b in generated_batches(generate, n, family.config.noise_dim, 250, ctx.seed + 7):
        distances.append(np.asarray(lpips(a, b)).reshape(-1))
        images1.append(to_uint8(np.asarray(a)))
        images2.append(to_uint8(np.asarray(b)))
    d = np.concatenate(distances)
    x1, x2 = np.concatenate(images1), np.concatenate(images2)
    order = np.argsort(d)
    picks = (("lowest", order[:show]), ("highest", order[::-1][:show]))
    axes = fig.subplots(4, show, squeeze=False)
    for block, (name, index) in enumerate(picks):
        for j, i in enumerate(index):
            for row, x in enumerate((x1, x2)):
                ax = axes[2 * block + row][j]
                ax.imshow(x[i].squeeze(), cmap="gray" if x.shape[-1] == 1 else None)
                ax.set_axis_off()
            axes[2 * block][j].set_title(f"{d[i]:.3f}", fontsize=8)
        axes[2 * block][0].text(
            -0.3,
            0.5,
            name,
            rotation=90,
            va="center",
            ha="right",
            transform=axes[2 * block][0].transAxes,
            fontsize=9,
        )
    weights_note = "" if weights else " [RANDOM LPIPS weights]"
    fig.suptitle(f"{title} (step {step}, {n} pairs){weights_note}", fontsize=10)
    return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=100))
