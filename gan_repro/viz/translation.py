"""Figures of unpaired translation runs (the CycleGAN family), drawn from run folders.

Registered in ``FIGURES`` for declarations: the translations of fixed held-out images at chosen
checkpoints (with their cycle reconstructions, Keras-GAN's "Original / Translated /
Reconstructed" layout), loss curves against the epoch, label preservation over the iterations
(``metrics.json``), sample grids of both domains and the networks' layer summaries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from gan_repro.io import atomic_save, read_json
from gan_repro.registry import FIGURES
from gan_repro.viz.figures import not_run_figure, read_history
from gan_repro.viz.grids import tile, to_uint8

#: Held-out images per direction in the translation figures.
FIGURE_IMAGES = 8


def _save(fig: Figure, out: Path, dpi: int = 130) -> Path:
    fig.tight_layout()
    return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=dpi))


def _run_config(ctx, run: str) -> dict | None:
    path = ctx.out / run / "config.json"
    return read_json(path) if path.exists() else None


def held_out_images(ctx, data_spec: dict, n: int = FIGURE_IMAGES) -> tuple[np.ndarray, ...]:
    """The first ``n`` held-out test images of each domain, prepared as the run's inputs
    (uint8); the training images where a dataset holds nothing out."""
    inputs = ctx.inputs(data_spec)
    if inputs.held_out and "preparation" in inputs.record:
        from gan_repro.data.registered import prepared_held_out

        return tuple(x for x, _ in prepared_held_out(inputs, n))
    return tuple(inputs.arrays[k][:n] for k in ("a", "b"))


def _chosen_steps(kept: list[int], at: list) -> list[int]:
    """``at``'s entries as kept checkpoint steps: numbers, ``first`` or ``last``; steps not
    kept are dropped (the figure says which were asked)."""
    out = []
    for s in at:
        step = kept[0] if s == "first" else kept[-1] if s == "last" else int(s)
        if step in kept and step not in out:
            out.append(step)
    return out


@FIGURES.register("translations", source="CycleGAN translations at chosen checkpoints")
def translations_figure(
    ctx, file: str, title: str, run: str, at=("first", "last"), reconstruct: bool = False
) -> Path:
    """``ctx.out/figures/<file>``: for each checkpoint in ``at`` (steps, ``first``, ``last``),
    fixed held-out A images over G_AB(A) (and G_BA(G_AB(A)) with ``reconstruct``), then B over
    G_BA(B) (and G_AB(G_BA(B))): Figs 6-9 of report 004, Fig 3 of report 002."""
    from gan_repro.training.state import kept_steps, restore_trained

    out = ctx.out / "figures" / file
    config = _run_config(ctx, run)
    kept = kept_steps(ctx.out / run)
    steps = _chosen_steps(kept, list(at))
    if config is None or not steps:
        return not_run_figure(out, title, f"{run} (checkpoints {list(at)})")
    a, b = held_out_images(ctx, config["data"]["spec"])
    family, _ = ctx.load_run(run)
    g = {"g_ab": family.models["g_ab"], "g_ba": family.models["g_ba"]}
    fig = Figure(figsize=(7.5, (3.2 if reconstruct else 2.3) * len(steps)))
    axes = fig.subplots(len(steps), 1, squeeze=False)[:, 0]
    for ax, step in zip(axes, steps, strict=True):
        restore_trained(ctx.out / run, g, step)
        ab, ba = family.translate(a, "AtoB", 64), family.translate(b, "BtoA", 64)
        rows = [a, to_uint8(ab)]
        if reconstruct:
            rows.append(to_uint8(family.translate(to_uint8(ab), "BtoA", 64)))
        rows += [b, to_uint8(ba)]
        if reconstruct:
            rows.append(to_uint8(family.translate(to_uint8(ba), "AtoB", 64)))
        grid = tile(np.concatenate(rows), rows=len(rows), cols=len(a))
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray")
        ax.axis("off")
        names = "A, G_AB(A), G_BA(G_AB(A)), B, G_BA(B), G_AB(G_BA(B))"
        if not reconstruct:
            names = "A, G_AB(A), B, G_BA(B)"
        ax.set_title(f"step {step:,} (rows: {names})", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return _save(fig, out)


@FIGURES.register("epoch_losses", source="D and G losses against the epoch, a panel per run")
def epoch_losses_figure(
    ctx, file: str, title: str, runs: list, epochs: float | None = None, keys=("d_loss", "g_loss")
) -> Path:
    """``ctx.out/figures/<file>``: one panel per ``[caption, run]``, each logged key in
    ``keys`` against the epoch (the run's data record's ``epoch_examples`` / batch size; steps
    when the data has no epoch), up to ``epochs`` (report 002 Figs 2 and 4)."""
    runs = [[r, r] if isinstance(r, str) else r for r in runs]
    cols = min(len(runs), 3)
    rows = -(-len(runs) // cols)
    fig = Figure(figsize=(4.4 * cols, 3.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(runs) :]:
        ax.axis("off")
    for ax, (caption, run) in zip(axes.flat, runs, strict=False):
        config, path = _run_config(ctx, run), ctx.out / run / "history.csv"
        if config is None or not path.exists():
            ax.text(0.5, 0.5, f"not run: {run}", ha="center", va="center")
            ax.set_title(caption, fontsize=9)
            continue
        h = read_history(path)
        per_epoch = config["data"].get("epoch_examples")
        unit = per_epoch / config["model"]["batch_size"] if per_epoch else None
        x = h["step"] / unit if unit else h["step"]
        keep = x <= epochs if (epochs and unit) else np.ones_like(x, bool)
        for key in keys:
            if key in h:
                ax.plot(x[keep], h[key][keep], lw=0.8, label=key)
        ax.set_xlabel("epoch" if unit else "iteration")
        ax.set_title(caption, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, ctx.out / "figures" / file)


@FIGURES.register("translation_accuracy", source="label preservation over the iterations (ours)")
def translation_accuracy_figure(ctx, file: str, title: str, runs: list) -> Path:
    """``ctx.out/figures/<file>``: the ``digit_translation`` evaluator's accuracy at every kept
    checkpoint, both directions, one curve per run, the source-only level dashed."""
    fig = Figure(figsize=(9.0, 3.4))
    axes = fig.subplots(1, 2)
    keys = (("mnist_to_usps", "source_only_usps_clf_on_mnist"),)
    keys += (("usps_to_mnist", "source_only_mnist_clf_on_usps"),)
    labels = ("USPS judge on G_AB(MNIST test)", "MNIST judge on G_BA(USPS test)")
    for ax, (key, baseline), label in zip(axes, keys, labels, strict=True):
        for run in runs:
            path = ctx.out / run / "metrics.json"
            m = read_json(path) if path.exists() else {}
            points = m.get("over_steps") or []
            if not points:
                ax.plot([], [], label=f"{run} (not evaluated)")
                continue
            line = ax.plot([p["step"] for p in points], [p[key] for p in points], "o-", label=run)
            level = m["translation"][baseline]
            ax.axhline(level, ls="--", lw=0.8, color=line[0].get_color())
        ax.set_ylim(0, 1)
        ax.set_xlabel("iteration")
        ax.set_ylabel("accuracy (dashed: untranslated)")
        ax.set_title(label, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, ctx.out / "figures" / file)


@FIGURES.register("domain_samples", source="sample grids of both domains as the networks see them")
def domain_samples_figure(ctx, file: str, title: str, run: str, n: int = 64) -> Path:
    """``ctx.out/figures/<file>``: ``n`` training images of each domain (report 004 Figs 4-5)."""
    config = _run_config(ctx, run)
    out = ctx.out / "figures" / file
    if config is None:
        return not_run_figure(out, title, run)
    arrays = ctx.inputs(config["data"]["spec"]).arrays
    side = int(np.sqrt(n))
    fig = Figure(figsize=(8.0, 4.3))
    for ax, key, name in zip(fig.subplots(1, 2), ("a", "b"), ("domain A", "domain B"), strict=True):
        grid = tile(arrays[key][: side * side], rows=side, cols=side)
        ax.imshow(grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray")
        ax.axis("off")
        ax.set_title(f"{name} ({len(arrays[key]):,} images)", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return _save(fig, out)


@FIGURES.register("layer_summary", source="a network's layer table (model.summary) as a figure")
def layer_summary_figure(ctx, file: str, title: str, run: str, network: str) -> Path:
    """``ctx.out/figures/<file>`` (and ``.txt``): the Keras summary of model ``network`` of the
    run (layers, output shapes, parameters), for diagrams the reports lost (004 Figs 2-3)."""
    out = ctx.out / "figures" / file
    config = _run_config(ctx, run)
    if config is None:
        return not_run_figure(out, title, run)
    from gan_repro.registry import FAMILIES

    cls = FAMILIES.get(config["family"])
    model = cls.for_inference(cls.Config(**config["model"])).models[network]
    lines: list[str] = []
    model.summary(print_fn=lambda line, **_: lines.append(line), line_length=96)
    text = "\n".join(lines)
    from gan_repro.io import atomic_write

    atomic_write(out.with_suffix(".txt"), text + "\n")
    fig = Figure(figsize=(9.5, 0.16 * len(text.splitlines()) + 0.8))
    fig.text(0.01, 0.99, text, family="monospace", fontsize=6.5, va="top")
    fig.suptitle(title, fontsize=10)
    return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=130))
