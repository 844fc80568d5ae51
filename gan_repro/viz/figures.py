"""Multi-panel figures in the thesis layouts and loss curves, from run folders' files.

Drawn on ``matplotlib.figure.Figure`` objects, not pyplot: no global backend is chosen, so the
library works headless and leaves a notebook's inline plotting alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from gan_repro.io import atomic_save
from gan_repro.registry import FIGURES


def panel_figure(
    panels: list[tuple[str, Path]], title: str, out: str | Path, columns: int = 4
) -> Path:
    """Side-by-side panels "(a) caption", "(b) caption" like the thesis's Figs 5.4/5.5/7.2.

    ``panels`` is a list of (caption, image path), laid out ``columns`` to a row; missing
    images are drawn as an empty panel that says which run is missing, so a partial
    reproduction still shows what it has.
    """
    cols = min(columns, len(panels))
    rows = -(-len(panels) // cols)
    fig = Figure(figsize=(3.4 * cols, 3.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for i, (ax, (caption, path)) in enumerate(zip(axes.flat, panels, strict=False)):
        ax.axis("off")
        letter = chr(ord("a") + i)
        if Path(path).exists():
            ax.imshow(np.asarray(Image.open(path)), interpolation="nearest")
        else:
            ax.text(0.5, 0.5, f"not run:\n{Path(path).parent.name}", ha="center", va="center")
        ax.set_title(f"({letter}) {caption}", fontsize=10)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=150))


def read_history(path: str | Path) -> dict[str, np.ndarray]:
    """A ``history.csv`` by column (the complete rows: :func:`gan_repro.training.history.read_rows`,
    so the file of a run killed mid-row reads too)."""
    from gan_repro.training.history import read_rows

    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: no history.csv there")
    rows = read_rows(path)
    if not rows:
        return {}
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def loss_curves(history_csv: str | Path, out: str | Path, title: str = "") -> Path:
    """Discriminator and generator losses against the step, one panel each (cf. Fig 4.3's
    D-loss plots; keys starting with d/gp and g/adv); every other logged term (regularisers,
    the proposed loss's LC, ...) in a third panel, on a log scale when all are positive."""
    h = read_history(history_csv)
    keys = [k for k in h if k != "step"]
    disc = [k for k in keys if k.startswith(("d", "gp"))]
    gen = [k for k in keys if k.startswith(("g", "adv")) and k not in disc]
    groups = {
        "critic / discriminator": disc,
        "generator": gen,
        "regularisers and terms": [k for k in keys if k not in disc and k not in gen],
    }
    groups = {k: v for k, v in groups.items() if v}
    fig = Figure(figsize=(4.5 * len(groups), 3.2))
    axes = fig.subplots(1, len(groups), squeeze=False)
    for ax, (name, keys) in zip(axes[0], groups.items(), strict=True):
        for k in keys:
            ax.plot(h["step"], h[k], label=k, lw=1)
        if name.startswith("regularisers") and all((h[k] > 0).all() for k in keys):
            ax.set_yscale("log")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=120))


@FIGURES.register("panels", source="a thesis figure made of runs' final sample grids")
def grid_panels(ctx, file: str, title: str, panels="all", columns: int = 4) -> Path:
    """``ctx.out/figures/<file>``: the final ``grid.png`` of each run in ``panels``, a list of
    ``[caption, run]`` pairs (``all``: every run of the declaration, captioned by its name)."""
    if panels == "all":
        panels = [[run, run] for run in ctx.declaration.runs]
    return panel_figure(
        [(caption, ctx.out / run / "grid.png") for caption, run in panels],
        title,
        ctx.out / "figures" / file,
        columns=columns,
    )


@FIGURES.register("losses", source="logged losses of several runs on shared axes")
def history_figure(
    ctx, file: str, title: str, runs: list, keys: list[str], log: bool = False
) -> Path:
    """``ctx.out/figures/<file>``: one panel per logged key, every run in ``runs`` (names or
    ``[caption, run]`` pairs) as a curve against the iteration (e.g. Fig 4.3's D losses)."""
    runs = [[r, r] if isinstance(r, str) else r for r in runs]
    fig = Figure(figsize=(4.5 * len(keys), 3.2))
    axes = fig.subplots(1, len(keys), squeeze=False)[0]
    for ax, key in zip(axes, keys, strict=True):
        for caption, run in runs:
            path = ctx.out / run / "history.csv"
            h = read_history(path) if path.exists() else {}
            if key in h:
                ax.plot(h["step"], h[key], label=caption, lw=1)
            else:
                ax.plot([], [], label=f"{caption} (not run)")
        if log:
            ax.set_yscale("log")
        ax.set_title(key, fontsize=10)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return atomic_save(ctx.out / "figures" / file, lambda tmp: fig.savefig(tmp, dpi=120))


@FIGURES.register("weight_difference", source="SCoGAN Fig 4.1: G1/G2 weight difference")
def weight_difference_figure(ctx, file: str, title: str, runs: list) -> Path:
    """Fig 4.1: the logged ``weight_diff`` (sum of mean squared G1-G2 differences) per run."""
    return history_figure(ctx, file, title, runs, ["weight_diff"])


def not_run_figure(out, title: str, missing: str) -> Path:
    """A figure whose run is missing: its title and which run to train (a partial reproduction
    still writes every declared figure file)."""
    fig = Figure(figsize=(4.0, 3.0))
    fig.text(0.5, 0.6, title, ha="center", va="center", fontsize=10)
    fig.text(0.5, 0.4, f"not run: {missing}", ha="center", va="center", fontsize=9)
    return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=100))
