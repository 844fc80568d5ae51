"""Figures of unpaired translation between two image domains (CycleGAN and UNIT run folders).

The thesis layouts of the CycleGAN-vs-UNIT thesis (spec 003 section 5), registered in
``FIGURES`` for declarations: a domain's training images (Figs 6.1/6.2), translations with the
input below (Figs 6.3/6.4), a failure case (Fig 6.5), and UNIT's input / VAE reconstruction /
translation rows under one fixed noise draw (Figs 6.6-6.11). Test images are the held-out
``test_a`` / ``test_b`` of the run's data section.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from gan_repro.errors import check_choice
from gan_repro.registry import FIGURES
from gan_repro.viz.figures import not_run_figure
from gan_repro.viz.grids import tile, to_uint8
from gan_repro.viz.translation import _run_config, _save

DIRECTIONS = {"AtoB": ("a", "b"), "BtoA": ("b", "a")}


def _loaded(ctx, run: str):
    """``(family, step)`` of ``run`` at its newest checkpoint, built once per experiment context
    for all the figures here (none of them moves the weights)."""
    cache = ctx.__dict__.setdefault("_unpaired_figure_families", {})
    if run not in cache:
        cache[run] = ctx.load_run(run)
    return cache[run]


def _test_images(ctx, config: dict, domain: str) -> np.ndarray:
    inputs = ctx.inputs(config["data"]["spec"])
    return inputs.held_out.get(f"test_{domain}", inputs.arrays[domain])


def _sources(ctx, run: str, direction: str, rows: slice):
    """``(x, family, step)``: test images ``rows`` of the source domain of ``direction`` and
    the run's family at its newest checkpoint; None when the run has no folder yet."""
    check_choice("direction", direction, DIRECTIONS)
    config = _run_config(ctx, run)
    if config is None:
        return None
    x = _test_images(ctx, config, DIRECTIONS[direction][0])[rows]
    return (x, *_loaded(ctx, run))


def _rows_figure(
    rows: list[np.ndarray], labels: list[str], title: str, out: Path, detail: str = ""
) -> Path:
    """Rows of images, one label each, under ``title`` and a second line ``detail``."""
    n = len(rows[0])
    grid = tile(
        np.concatenate([to_uint8(r) if r.dtype != np.uint8 else r for r in rows]),
        rows=len(rows),
        cols=n,
    )
    fig = Figure(figsize=(1.2 * n + 1.2, 1.25 * len(rows) + 0.6))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(grid)
    ax.set_xticks([])
    side = grid.shape[0] / len(rows)
    ax.set_yticks([side * (i + 0.5) for i in range(len(rows))], labels, fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(f"{title}\n{detail}" if detail else title, fontsize=9)
    return _save(fig, out)


@FIGURES.register("domain_grid", source="a domain's training images (Figs 6.1, 6.2)")
def domain_grid_figure(
    ctx, file: str, title: str, run: str, domain: str = "a", n: int = 16, cols: int = 8
) -> Path:
    """``n`` training images of ``domain`` ("a" or "b") as the networks see them."""
    check_choice("domain", domain, ("a", "b"))
    out = ctx.out / "figures" / file
    config = _run_config(ctx, run)
    if config is None:
        return not_run_figure(out, title, run)
    images = ctx.inputs(config["data"]["spec"]).arrays[domain][:n]
    rows = max(1, int(np.ceil(len(images) / cols)))
    pad = rows * cols - len(images)
    if pad:
        images = np.concatenate([images, np.full((pad, *images.shape[1:]), 255, np.uint8)])
    fig = Figure(figsize=(1.2 * cols, 1.2 * rows + 0.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(tile(images, rows=rows, cols=cols))
    ax.axis("off")
    fig.suptitle(title, fontsize=9)
    return _save(fig, out)


@FIGURES.register("translation_pairs", source="translations above their inputs (Figs 6.3, 6.4)")
def translation_pairs_figure(
    ctx, file: str, title: str, run: str, direction: str = "AtoB", offset: int = 0, n: int = 8
) -> Path:
    """Test images ``[offset, offset + n)`` of the source domain (lower row) under their
    translations (upper row), the thesis's layout."""
    out = ctx.out / "figures" / file
    loaded = _sources(ctx, run, direction, slice(offset, offset + n))
    if loaded is None:
        return not_run_figure(out, title, run)
    x, family, step = loaded
    source, target = DIRECTIONS[direction]
    y = family.translate(x, direction, 16)
    labels = [f"{run}: {source.upper()} -> {target.upper()}", f"test {source.upper()}"]
    return _rows_figure([y, x], labels, title, out, f"step {step:,}")


@FIGURES.register("failure_cases", source="the inputs whose translation keeps least (Fig 6.5)")
def failure_cases_figure(
    ctx, file: str, title: str, run: str, direction: str = "AtoB", n: int = 4, pool: int = 100
) -> Path:
    """Of the first ``pool`` test images, the ``n`` whose translation is least like its input
    (lowest SSIM): the thesis picked its side face by eye (Fig 6.5); this picks by number.
    Upper row the translation, lower row the input, each with its SSIM."""
    from skimage.metrics import structural_similarity

    out = ctx.out / "figures" / file
    loaded = _sources(ctx, run, direction, slice(0, pool))
    if loaded is None:
        return not_run_figure(out, title, run)
    x, family, step = loaded
    source, _ = DIRECTIONS[direction]
    y = to_uint8(family.translate(x, direction, 16))
    ssim = np.array(
        [
            structural_similarity(a, b, channel_axis=-1, data_range=255)
            for a, b in zip(x, y, strict=True)
        ]
    )
    worst = np.argsort(ssim)[:n]
    scores = ", ".join(f"{ssim[i]:.2f}" for i in worst)
    labels = ["translation", f"test {source.upper()}"]
    detail = f"step {step:,}; SSIM to the input {scores}"
    return _rows_figure([y[worst], x[worst]], labels, title, out, detail)


@FIGURES.register("latent_rows", source="UNIT: input, VAE reconstruction, translation (6.6-6.11)")
def latent_rows_figure(
    ctx,
    file: str,
    title: str,
    run: str,
    direction: str = "AtoB",
    noise_seed: int = 1,
    offset: int = 0,
    n: int = 8,
) -> Path:
    """Three rows over test images ``[offset, offset + n)`` of the source domain: the input x,
    its VAE reconstruction G_X(E_X(x) + eps) and its translation G_Y(E_X(x) + eps), with ONE
    noise draw eps (``noise_seed``) for every column: "for each set ... the sampled latent space
    is the same" (L464)."""
    out = ctx.out / "figures" / file
    loaded = _sources(ctx, run, direction, slice(offset, offset + n))
    if loaded is None:
        return not_run_figure(out, title, run)
    x, family, step = loaded
    source, target = DIRECTIONS[direction]
    recon = family.reconstruct(x, source.upper(), 16, noise_seed=noise_seed)
    y = family.translate(x, direction, 16, noise_seed=noise_seed)
    labels = [f"input {source.upper()}", "VAE reconstruction", f"-> {target.upper()}"]
    detail = f"step {step:,}, one noise draw (seed {noise_seed}) for every column"
    return _rows_figure([x, recon, y], labels, title, out, detail)
