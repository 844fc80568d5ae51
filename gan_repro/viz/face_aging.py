"""Figures of "Using GANs for Face Aging" (seed 000): Chapter 5 layouts and the OpenCV filters.

Line numbers (Lnnnn) refer to the thesis text as cited by spec 000_face_aging.md, section 5:

- Fig 4.3 (L864-872): UTKFace examples, row 1 domain A (17-23), row 2 domain B (47-53).
- Fig 5.1 (L1083), Figs 5.9/5.10/5.11 (L1201/L1208/L1217): samples at various iterations.
- Figs 5.2/5.3 (L1104/L1123): CycleGAN 2x5 real/translated plots, AtoB and BtoA side by side.
- Fig 5.5 (L1151): losses of the last 10 iterations of the collapsed CycleGAN run.
- Fig 5.6 (L1164): one CGAN sample per age class.
- Fig 5.7 (L1177, filters L1157): OpenCV smoothing of CGAN outputs; the median is preferred.
- Fig 5.8 (L1190): CGAN samples at various iterations with the losses at those iterations.
- Fig 5.13 (L1247): loss profiles, BCE run beside the custom-loss run.

As in ``figures.py`` every figure is drawn on a ``matplotlib.figure.Figure`` (no pyplot), and
each figure function returns the Path it wrote. Images are float in [-1, 1] or uint8, as
[N, H, W, C] batches or single H x W (x C) images.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from gan_repro.errors import BadOptionError, check_choice
from gan_repro.io import atomic_save
from gan_repro.viz.grids import tile, to_uint8

ImageLike = np.ndarray | str | Path


# --------------------------------------------------------------------------------------------
# OpenCV smoothing (Fig 5.7)
# --------------------------------------------------------------------------------------------


def _keep_shape(filter_fn: Callable[[np.ndarray], np.ndarray]) -> Callable:
    """Wrap an OpenCV filter so an H x W x 1 image comes back H x W x 1 (OpenCV drops the
    axis) and non-contiguous views are accepted."""

    def apply(img: np.ndarray) -> np.ndarray:
        img = np.ascontiguousarray(img, dtype=np.uint8)
        return filter_fn(img).reshape(img.shape)

    return apply


# The four methods of the OpenCV "Smoothing Images" tutorial the thesis follows (spec section 4;
# the thesis gives no kernel sizes, L1157): 5x5 box, 5x5 Gaussian, 5 median, bilateral 9/75/75.
SMOOTHING_FILTERS: OrderedDict[str, Callable[[np.ndarray], np.ndarray]] = OrderedDict(
    averaging=_keep_shape(lambda img: cv2.blur(img, (5, 5))),
    gaussian=_keep_shape(lambda img: cv2.GaussianBlur(img, (5, 5), 0)),
    median=_keep_shape(lambda img: cv2.medianBlur(img, 5)),
    bilateral=_keep_shape(lambda img: cv2.bilateralFilter(img, 9, 75, 75)),
)


def _as_uint8(images) -> np.ndarray:
    images = np.asarray(images)
    return images if images.dtype == np.uint8 else to_uint8(images)


def smooth(images: np.ndarray, method: str) -> np.ndarray:
    """Apply one of ``SMOOTHING_FILTERS`` to every image of a batch (Fig 5.7, L1157-1177).

    ``images`` is [N, H, W, C], float in [-1, 1] or uint8; the result is uint8 of the same
    shape. An unknown ``method`` raises ``BadOptionError`` listing the valid names.
    """
    check_choice("method", method, SMOOTHING_FILTERS)
    batch = _as_uint8(images)
    if batch.ndim != 4:
        raise ValueError(f"smooth expects a batch [N, H, W, C], got shape {batch.shape}")
    filter_fn = SMOOTHING_FILTERS[method]
    return np.stack([filter_fn(img) for img in batch]) if len(batch) else batch.copy()


# --------------------------------------------------------------------------------------------
# Private drawing helpers
# --------------------------------------------------------------------------------------------


def _load(image: ImageLike) -> np.ndarray | None:
    """An image array as given, or read from a path; ``None`` for a missing file."""
    if isinstance(image, str | Path):
        path = Path(image)
        return np.asarray(Image.open(path)) if path.exists() else None
    return np.asarray(image)


def _missing_name(path: ImageLike) -> str:
    """How a missing image file is named in its empty panel ("" for an array)."""
    if not isinstance(path, str | Path):
        return ""
    path = Path(path)
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _show(ax, image: ImageLike | None, title: str | None = None, missing: str = "") -> None:
    """Draw one image on ``ax``, grey (H x W or H x W x 1) with the gray colour map, colour
    as is; ``None`` draws an empty panel saying "not run: <missing>"."""
    ax.axis("off")
    if image is None:
        ax.text(0.5, 0.5, f"not run:\n{missing}", ha="center", va="center", fontsize=8)
    else:
        img = _as_uint8(image)
        if img.ndim == 3 and img.shape[-1] == 1:
            img = img[..., 0]
        if img.ndim == 2:
            ax.imshow(img, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        else:
            ax.imshow(img, interpolation="nearest")
    if title:
        ax.set_title(title, fontsize=9)


def _row_label(ax, text: str) -> None:
    """A vertical label left of an axis whose frame is switched off."""
    ax.text(
        -0.06, 0.5, text, transform=ax.transAxes, rotation=90, ha="right", va="center", fontsize=9
    )


def _save(fig: Figure, out: str | Path, dpi: int = 120) -> Path:
    """Create the parent folder and write the figure; returns the output Path."""
    return atomic_save(out, lambda tmp: fig.savefig(tmp, dpi=dpi))


def _grid(rows: int, cols: int, cell: float = 2.2, title: str = ""):
    fig = Figure(figsize=(cell * cols + 0.4, cell * rows + 0.5))
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.suptitle(title, fontsize=10)
    return fig, axes


def _short(key: str) -> str:
    """``d_loss`` -> ``D``, ``g_loss`` -> ``G``; other keys as they are."""
    name = key.removesuffix("_loss")
    return name.upper() if len(name) == 1 else name


def _present(history: dict[str, np.ndarray], keys: Sequence[str]) -> list[str]:
    return [k for k in keys if k in history and k != "step"]


# --------------------------------------------------------------------------------------------
# Image grids (pure arrays)
# --------------------------------------------------------------------------------------------


def pairs_grid(real: np.ndarray, translated: np.ndarray) -> np.ndarray:
    """The 2 x n plot of the Keras CycleGAN base code as one uint8 tile (Figs 5.2/5.3,
    L1104/L1123): row 1 the ``n`` real inputs [n, H, W, C], row 2 their translations."""
    real, translated = _as_uint8(real), _as_uint8(translated)
    if real.shape != translated.shape:
        raise ValueError(f"real {real.shape} and translated {translated.shape} differ in shape")
    return tile(np.concatenate([real, translated]), rows=2, cols=len(real))


def class_rows(images_by_class: np.ndarray, class_names: Sequence[str] | None = None) -> np.ndarray:
    """One row per age class: [K, M, H, W, C] -> a K x M uint8 tile (CGAN/CDCGAN samples,
    Figs 5.8/5.10). ``class_names``, when given, must name the K classes in row order; it is a
    check only, since an array carries no labels. Fig 5.6 (L1164) is the M = 1 case drawn
    transposed as a single row: use ``one_per_class_row``."""
    images = _as_uint8(images_by_class)
    if images.ndim != 5:
        raise ValueError(f"class_rows expects [K, M, H, W, C], got shape {images.shape}")
    k, m = images.shape[:2]
    if class_names is not None and len(class_names) != k:
        raise ValueError(f"{len(class_names)} class names for {k} classes")
    return tile(images.reshape(k * m, *images.shape[2:]), rows=k, cols=m)


def one_per_class_row(images: np.ndarray) -> np.ndarray:
    """Fig 5.6 (L1164): one image per class [K, H, W, C] -> a 1 x K uint8 tile."""
    images = _as_uint8(images)
    return tile(images, rows=1, cols=len(images))


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def smoothing_figure(
    images: np.ndarray,
    out: str | Path,
    title: str = "Fig 5.7: OpenCV smoothing of CGAN outputs (median preferred)",
    labels: Sequence[str] | None = None,
) -> Path:
    """Fig 5.7 (L1177): one row per input image (e.g. one per CGAN age class, labelled from
    ``labels``), columns "original" then each of ``SMOOTHING_FILTERS``."""
    originals = _as_uint8(images)
    filtered = [smooth(originals, name) for name in SMOOTHING_FILTERS]
    columns = ["original", *SMOOTHING_FILTERS]
    fig, axes = _grid(len(originals), len(columns), title=title)
    for r in range(len(originals)):
        for c, name in enumerate(columns):
            img = originals[r] if c == 0 else filtered[c - 1][r]
            _show(axes[r, c], img, title=name if r == 0 else None)
        if labels is not None:
            _row_label(axes[r, 0], str(labels[r]))
    fig.tight_layout()
    return _save(fig, out)


def iteration_montage(
    snapshots: Sequence[tuple[int, ImageLike]],
    out: str | Path,
    title: str,
    ncols: int | None = None,
) -> Path:
    """Samples at various iterations (Fig 5.1 L1083; Figs 5.9/5.10/5.11 L1201/L1208/L1217).

    ``snapshots`` is a list of (step, image): an already tiled grid (uint8 H x W x C or H x W)
    or the path of a saved sample PNG; panels are titled "iteration {step}", ``ncols`` to a row
    (default: up to 4), and missing files drawn as "not run" panels.
    """
    cols = max(1, min(ncols or 4, len(snapshots)))
    rows = max(1, -(-len(snapshots) // cols))
    fig, axes = _grid(rows, cols, cell=3.0, title=title)
    for ax in axes.flat[len(snapshots) :]:
        ax.axis("off")
    for ax, (step, image) in zip(axes.flat, snapshots, strict=False):
        _show(ax, _load(image), f"iteration {step}", missing=_missing_name(image))
    fig.tight_layout()
    return _save(fig, out)


def loss_at(history: dict[str, np.ndarray], step: int, key: str) -> float:
    """The ``key`` loss of the logged row with the nearest step <= ``step`` (the last such row
    when a step was logged twice); NaN when the key is absent or nothing was logged yet."""
    if key not in history or "step" not in history:
        return float("nan")
    steps = np.asarray(history["step"])
    candidates = np.flatnonzero(steps <= step)
    if not len(candidates):
        return float("nan")
    best = steps[candidates].max()
    return float(np.asarray(history[key])[candidates[steps[candidates] == best][-1]])


def samples_with_losses(
    snapshots: Sequence[tuple[int, ImageLike]],
    history: dict[str, np.ndarray],
    out: str | Path,
    title: str,
    keys: Sequence[str] = ("d_loss", "g_loss"),
) -> Path:
    """Fig 5.8 (L1190): "results at various iterations with the corresponding loss values".

    Top row: the snapshot panels, titled "iteration N" and the losses logged at the nearest
    step <= N (``loss_at``), e.g. "D 0.62  G 1.10". Bottom: the loss curves against the
    iteration with dashed markers at the snapshot steps. ``history`` is as returned by
    ``gan_repro.viz.figures.read_history``; keys it lacks are skipped.
    """
    present = _present(history, keys) if "step" in history else []
    n = max(1, len(snapshots))
    fig = Figure(figsize=(max(2.6 * n, 6.0), 6.2))
    grid = fig.add_gridspec(2, n, height_ratios=[1.0, 0.8])
    for i, (step, image) in enumerate(snapshots):
        losses = "  ".join(f"{_short(k)} {loss_at(history, step, k):.2f}" for k in present)
        caption = f"iteration {step}" + (f"\n{losses}" if losses else "")
        _show(fig.add_subplot(grid[0, i]), _load(image), caption, missing=_missing_name(image))
    curves = fig.add_subplot(grid[1, :])
    for k in present:
        curves.plot(history["step"], history[k], lw=1, label=k)
    for step, _ in snapshots:
        curves.axvline(step, color="0.5", ls="--", lw=0.8)
    if present:
        curves.legend(fontsize=7)
    else:
        curves.text(
            0.5, 0.5, "no losses logged", ha="center", va="center", transform=curves.transAxes
        )
    curves.set_xlabel("iteration")
    curves.set_ylabel("loss")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


def _moving_average(y: np.ndarray, window: int) -> np.ndarray:
    return np.convolve(y, np.ones(window) / window, mode="valid")


def loss_profiles(
    histories: Sequence[tuple[str, dict[str, np.ndarray]]],
    out: str | Path,
    title: str,
    keys: Sequence[str] = ("d_loss", "g_loss"),
    window: int = 1,
) -> Path:
    """Fig 5.13 (L1247): loss profiles of several runs side by side (BCE left, custom loss
    with beta = 5 right in the thesis).

    One column per run (``histories`` is a list of (caption, history dict)), one row per key
    with the y-axis shared along the row so the runs compare. ``window`` > 1 draws a moving
    average over the faint raw curve. Keys no run logged are skipped; a run lacking a key
    shows "not logged" in that panel.
    """
    if not isinstance(window, int | np.integer) or window < 1:
        raise BadOptionError(f"window={window!r} must be an integer >= 1 (1 = no smoothing)")
    present = [k for k in keys if any(k in _present(h, [k]) for _, h in histories)]
    rows, cols = max(1, len(present)), max(1, len(histories))
    fig = Figure(figsize=(4.2 * cols, 2.8 * rows + 0.5))
    axes = fig.subplots(rows, cols, squeeze=False, sharex="col", sharey="row")
    for c, (caption, history) in enumerate(histories):
        axes[0, c].set_title(caption, fontsize=10)
        axes[-1, c].set_xlabel("iteration")
        for r, key in enumerate(present):
            ax = axes[r, c]
            if key not in history or "step" not in history:
                ax.text(
                    0.5, 0.5, f"{key} not logged", ha="center", va="center", transform=ax.transAxes
                )
                continue
            step, y = np.asarray(history["step"]), np.asarray(history[key])
            smoothed = window > 1 and len(y) >= window
            ax.plot(step, y, lw=0.8, alpha=0.3 if smoothed else 1.0, label=key)
            if smoothed:
                ax.plot(
                    step[window - 1 :],
                    _moving_average(y, window),
                    lw=1.2,
                    label=f"{key} (mean of {window})",
                )
            ax.legend(fontsize=7)
    for r, key in enumerate(present):
        axes[r, 0].set_ylabel(key)
    if not present:
        for ax in axes[0]:
            ax.text(0.5, 0.5, "no losses logged", ha="center", va="center", transform=ax.transAxes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


def _two_rows(
    top: np.ndarray, bottom: np.ndarray, captions: Sequence[str], out: str | Path, title: str
) -> Path:
    """A 2 x n figure, ``top`` images in row 1 and ``bottom`` in row 2, rows labelled."""
    n = max(len(top), len(bottom), 1)
    fig, axes = _grid(2, n, title=title)
    for r, images in enumerate((top, bottom)):
        for c in range(n):
            if c < len(images):
                _show(axes[r, c], images[c])
            else:
                axes[r, c].axis("off")
        _row_label(axes[r, 0], captions[r])
    fig.tight_layout()
    return _save(fig, out)


def translation_pairs(
    real: np.ndarray,
    translated: np.ndarray,
    out: str | Path,
    title: str,
    captions: Sequence[str] = ("real", "translated"),
) -> Path:
    """Figs 5.2/5.3 (L1104/L1123): the Keras CycleGAN base code's 2 x n plot, row 1 the real
    inputs, row 2 their translations (n = 5 there). Put the AtoB and BtoA plots of one
    iteration next to each other with ``side_by_side``."""
    if len(real) != len(translated):
        raise ValueError(f"{len(real)} real images but {len(translated)} translations")
    return _two_rows(_as_uint8(real), _as_uint8(translated), captions, out, title)


def side_by_side(
    panels: Sequence[tuple[str, ImageLike]], out: str | Path, title: str, columns: int = 2
) -> Path:
    """Panels "(a) caption", "(b) caption" like ``figures.panel_figure`` (Figs 5.2-5.4, 5.6,
    5.12, 5.14 put two results next to each other), accepting image arrays as well as paths;
    a missing path is drawn as an empty panel saying "not run: <name>"."""
    cols = max(1, min(columns, len(panels)))
    rows = max(1, -(-len(panels) // cols))
    fig = Figure(figsize=(3.4 * cols, 3.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.axis("off")
    for i, (ax, (caption, image)) in enumerate(zip(axes.flat, panels, strict=False)):
        letter = chr(ord("a") + i)
        _show(ax, _load(image), f"({letter}) {caption}", missing=_missing_name(image))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out, dpi=150)


def loss_tail_table(history: dict[str, np.ndarray], keys: Sequence[str], last: int = 10) -> str:
    """Markdown table of the last ``last`` logged iterations (Fig 5.5, L1151: "Loss for the
    last 10 iterations on the collapsed method", the CycleGAN's dA[real,fake] dB[real,fake]
    g[AtoB,BtoA]). Columns: step, then the ``keys`` the history has, in logged order."""
    present = _present(history, keys)
    n = len(history.get("step", ()))
    start = max(0, n - last)
    lines = [
        "| " + " | ".join(["step", *present]) + " |",
        "|" + "---:|" * (1 + len(present)),
    ]
    for i in range(start, n):
        cells = [str(int(history["step"][i]))]
        cells += [f"{float(history[k][i]):.4g}" for k in present]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def loss_tail_figure(
    history: dict[str, np.ndarray],
    keys: Sequence[str],
    out: str | Path,
    title: str,
    last: int = 10,
) -> Path:
    """Fig 5.5 (L1151) as a plot: the ``keys`` losses over the last ``last`` logged
    iterations, one marked line per key (absent keys skipped)."""
    present = _present(history, keys) if "step" in history else []
    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.add_subplot()
    steps = np.asarray(history.get("step", []))[-last:]
    for k in present:
        ax.plot(steps, np.asarray(history[k])[-last:], marker="o", ms=3, lw=1, label=k)
    if present:
        ax.legend(fontsize=7, ncol=2)
    else:
        ax.text(0.5, 0.5, "no losses logged", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


def dataset_examples(
    domain_a: np.ndarray,
    domain_b: np.ndarray,
    out: str | Path,
    title: str,
    n: int = 6,
    captions: Sequence[str] = ("17-23", "47-53"),
) -> Path:
    """Fig 4.3 (L864-872): UTKFace examples, row 1 the first ``n`` images of domain A (ages
    17-23), row 2 the first ``n`` of domain B (47-53); the caller picks them at random."""
    return _two_rows(_as_uint8(domain_a)[:n], _as_uint8(domain_b)[:n], captions, out, title)
