"""Figures of the toy mode-collapse experiment and of the divergence demo (SCoGAN thesis Ch.2).

* Fig 2.9 (L370): the 10-mode ring data set, :func:`dataset_figure`.
* Figs 2.10 / 2.11 (L397, L404): NS GAN samples during training with k=1 (all modes) and k=5
  (collapse to about 6 modes); Fig 2.14 (L492): WGAN-GP on the k=5 setting, 3,000 iterations.
  All three are :func:`training_figure` on a run folder.
* Fig 2.15 (L497): the WGAN-GP discriminator loss (WD estimate), :func:`critic_loss_figure`.
* Figs 2.7 and 2.12 (L341-350, L410; Appendix C, L1904-1946): JSD and Wasserstein distance
  between N(0, 1) and N(i, 1) as i goes 0..20, :func:`jsd_shift_figure` and
  :func:`wasserstein_shift_figure` on the numbers of :func:`shift_distances`.

The thesis draws the 2D samples as KDE plots (spec 5.3; the authors' ``plot_distribution`` is a
seaborn ``jointplot(kind="kde")``). Here the density is a SciPy Gaussian KDE drawn as filled
contours over the real ring (grey points), with a scatter instead where a KDE cannot be fitted
(e.g. a fully collapsed generator). Everything is drawn on ``matplotlib.figure.Figure``
objects, not pyplot (like :mod:`gan_repro.viz.figures`).

Training figures read what :meth:`gan_repro.training.toy.ToyGAN.save_samples` leaves in the
run folder: ``RUN/samples/points_XXXXXX.npy`` (the generated points at the fixed noise) next
to each ``step_XXXXXX.png``, and ``RUN/history.csv`` for the loss curve.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gan_repro.data.ring import RING_RADIUS, ring_centres, ring_points

__all__ = [
    "critic_loss_figure",
    "dataset_figure",
    "jsd_shift_figure",
    "load_sample_points",
    "scatter_image",
    "shift_distances",
    "training_figure",
    "wasserstein_shift_figure",
]

LIMIT = RING_RADIUS + 1.0  # axis half-width of the ring plots
_POINTS_FILE = re.compile(r"points_(\d+)\.npy$")


def _save(fig: Figure, out) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    return out


def _ring_axes(ax, title: str = "", limit: float = LIMIT) -> None:
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def _kde(ax, points: np.ndarray, limit: float, cmap: str = "Blues") -> bool:
    """Filled KDE contours of ``points``; False (nothing drawn) if no KDE can be fitted."""
    from scipy.stats import gaussian_kde

    points = np.asarray(points, np.float64)
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 3:
        return False
    try:
        kde = gaussian_kde(points.T)
    except (np.linalg.LinAlgError, ValueError):
        return False
    grid = np.linspace(-limit, limit, 160)
    xx, yy = np.meshgrid(grid, grid)
    density = kde(np.stack([xx.ravel(), yy.ravel()])).reshape(xx.shape)
    if not np.isfinite(density).all() or density.max() <= 0:
        return False
    levels = np.linspace(density.max() * 0.02, density.max(), 12)
    ax.contourf(xx, yy, density, levels=levels, cmap=cmap, extend="neither")
    return True


def _draw_points(ax, points, real=None, style: str = "kde", limit: float = LIMIT) -> None:
    """Generated ``points`` as a KDE (or scatter) with the ``real`` points in grey on top."""
    points = np.asarray(points)
    if not (style == "kde" and _kde(ax, points, limit)):
        ax.scatter(points[:, 0], points[:, 1], s=3, c="tab:blue", linewidths=0, label="generated")
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=0.5, c="0.45", linewidths=0, alpha=0.5, label="real")


def scatter_image(
    points: np.ndarray,
    real: np.ndarray | None = None,
    title: str = "",
    size: float = 4.0,
    dpi: int = 100,
    limit: float = LIMIT,
) -> np.ndarray:
    """Generated ``points`` (blue) scattered over the ``real`` ring (grey) and the mode centres
    (black crosses), as an RGB uint8 image [H, W, 3] (the trainer's per-step sample image)."""
    fig = Figure(figsize=(size, size), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    _draw_points(ax, np.asarray(points), None if real is None else np.asarray(real), "scatter")
    c = ring_centres()
    ax.scatter(c[:, 0], c[:, 1], marker="x", s=18, c="k", linewidths=0.8)
    _ring_axes(ax, title, limit)
    fig.tight_layout()
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def dataset_figure(out, points: np.ndarray | None = None, seed: int = 2020) -> Path:
    """Fig 2.9: the toy ring (5,100 points, 10 modes) as a KDE (left) and a scatter (right)."""
    points = ring_points(seed=seed) if points is None else np.asarray(points)
    fig = Figure(figsize=(7.6, 3.8))
    a, b = fig.subplots(1, 2)
    if not _kde(a, points, LIMIT):
        a.scatter(points[:, 0], points[:, 1], s=1)
    _ring_axes(a, "KDE")
    b.scatter(points[:, 0], points[:, 1], s=1, c="tab:blue", linewidths=0)
    _ring_axes(b, f"{len(points)} points")
    fig.suptitle("Toy dataset for mode collapse experiments (Fig 2.9)", fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


def load_sample_points(run_dir) -> dict[int, np.ndarray]:
    """``{step: points [n, 2]}`` from ``RUN/samples/points_XXXXXX.npy``, sorted by step."""
    found = {}
    for path in (Path(run_dir) / "samples").glob("points_*.npy"):
        m = _POINTS_FILE.search(path.name)
        if m:
            found[int(m.group(1))] = np.load(path)
    return dict(sorted(found.items()))


def _pick(steps: list[int], wanted, max_panels: int) -> list[int]:
    if wanted is not None:
        missing = [s for s in wanted if s not in steps]
        if missing:
            raise FileNotFoundError(f"no saved points for steps {missing}; saved: {steps}")
        return list(wanted)
    if len(steps) <= max_panels:
        return steps
    idx = np.unique(np.linspace(0, len(steps) - 1, max_panels).round().astype(int))
    return [steps[i] for i in idx]


def training_figure(
    run_dir,
    out,
    steps: list[int] | None = None,
    title: str = "",
    max_panels: int = 8,
    columns: int = 4,
    style: str = "kde",
    real: np.ndarray | None = None,
) -> Path:
    """Figs 2.10 / 2.11 / 2.14: the generated distribution at several iterations of one run.

    One panel per step (``steps``, or up to ``max_panels`` evenly spaced saved steps), each the
    KDE (``style="kde"``) or scatter (``"scatter"``) of the points saved at that step, over the
    real ring (``real``, default the seeded 5,100-point ring), titled "iteration N".
    """
    saved = load_sample_points(run_dir)
    if not saved:
        raise FileNotFoundError(f"{run_dir}/samples holds no points_*.npy: train the run first")
    chosen = _pick(list(saved), steps, max_panels)
    real = ring_points() if real is None else np.asarray(real)
    cols = min(columns, len(chosen))
    rows = -(-len(chosen) // cols)
    fig = Figure(figsize=(2.6 * cols, 2.7 * rows + 0.4))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(chosen) :]:
        ax.axis("off")
    for ax, step in zip(axes.flat, chosen, strict=False):
        _draw_points(ax, saved[step], real, style)
        _ring_axes(ax, f"iteration {step}")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


def critic_loss_figure(run_dir, out, title: str = "") -> Path:
    """Fig 2.15: the WGAN-GP discriminator loss against the iteration.

    Draws the logged ``d_loss`` (critic loss as optimised: ``mean D(G(z)) - mean D(x) +
    lambda*GP``, the authors' ``disc_loss``) and, when logged, ``wd`` = ``mean D(x) - mean
    D(G(z))``, the Wasserstein estimate itself (which falls towards 0 as the model learns)."""
    from gan_repro.viz.figures import read_history

    h = read_history(Path(run_dir) / "history.csv")
    if "d_loss" not in h:
        raise FileNotFoundError(f"{run_dir}/history.csv has no d_loss column")
    fig = Figure(figsize=(6.0, 3.4))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(h["step"], h["d_loss"], lw=0.8, label="discriminator loss (incl. GP)")
    if "wd" in h:
        ax.plot(h["step"], h["wd"], lw=0.8, label="WD estimate E[D(x)] - E[D(G(z))]")
    ax.axhline(0.0, c="0.6", lw=0.5)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.set_title(title or "Discriminator loss (WD estimate) for WGAN-GP training", fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


# -- Appendix C: JSD and WD of shifted Gaussians ---------------------------------------------
def _jsd(p: np.ndarray, q: np.ndarray) -> float:
    """Appendix C's ``JSD(P, Q)``: L1-normalise both, M = (P+Q)/2, mean of the two KLs (nats)."""
    from scipy.stats import entropy

    p = p / np.linalg.norm(p, ord=1)
    q = q / np.linalg.norm(q, ord=1)
    m = 0.5 * (p + q)
    return float(0.5 * (entropy(p, m) + entropy(q, m)))


def shift_distances(samples: int = 100_000, shifts: int = 21, seed: int = 2020) -> dict:
    """The numbers of the Appendix C script (L1904-1946), step by step as it computes them.

    ``p`` = ``samples`` draws of N(0, 1) and ``q1, q2, q3`` of N(10, 1), N(15, 1), N(20, 1) (the
    example densities drawn in Figs 2.7 / 2.12). For ``i`` in ``0..shifts-1``: ``q`` = draws of
    N(i, 1); ``jsd[i]`` = the script's JSD between ``norm.pdf`` on a linspace over ``p``'s range
    (±1) and ``norm.pdf`` on a linspace over ``q``'s range (two index-aligned vectors: the second
    is the standard normal density seen from ``q``'s window, i.e. a copy shifted by about i
    grid positions), and ``wd[i]`` = ``scipy.stats.wasserstein_distance(p, q)``.

    The draws use ``np.random.RandomState(seed)`` in the script's order (p, q1, q2, q3, then the
    loop's q). The text says p has standard deviation 0.1 (L341); the script draws unit-variance
    normals (``np.random.normal(mean, size=...)``), which is what is reproduced.
    """
    from scipy.stats import norm, wasserstein_distance

    rng = np.random.RandomState(seed)
    p = rng.normal(0, size=samples)
    q1 = rng.normal(10, size=samples)
    q2 = rng.normal(15, size=samples)
    q3 = rng.normal(20, size=samples)
    p_pdf = norm.pdf(np.linspace(p.min() - 1, p.max() + 1, samples))
    jsd, wd = [], []
    for i in range(shifts):
        q = rng.normal(i, size=samples)
        q_pdf = norm.pdf(np.linspace(q.min() - 1, q.max() + 1, samples))
        jsd.append(_jsd(p_pdf, q_pdf))
        wd.append(float(wasserstein_distance(p, q)))
    return {
        "shift": np.arange(shifts),
        "jsd": np.array(jsd),
        "wd": np.array(wd),
        "p": p,
        "q1": q1,
        "q2": q2,
        "q3": q3,
    }


def _shift_figure(d: dict, key: str, label: str, title: str, out) -> Path:
    from scipy.stats import gaussian_kde

    fig = Figure(figsize=(6.4, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    # seaborn's distplot: a density histogram with a KDE line, one per distribution
    for name, colour in (("p", "C0"), ("q1", "C1"), ("q2", "C2"), ("q3", "C3")):
        x = d[name]
        ax.hist(x, bins=50, density=True, alpha=0.35, color=colour)
        grid = np.linspace(x.min(), x.max(), 200)
        sub = x[:: max(1, len(x) // 20_000)]  # KDE on a 20k subsample: same curve, faster
        ax.plot(grid, gaussian_kde(sub)(grid), color=colour, lw=1.0, label=name)
    ax.plot(d["shift"], d[key], color="k", marker="o", ms=3, lw=1.2, label=label)
    ax.set_xlabel("mean of q (shift)")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, out)


def jsd_shift_figure(out, samples: int = 100_000, shifts: int = 21, seed: int = 2020) -> Path:
    """Fig 2.7: the JSD between p = N(0, 1) and q = N(i, 1), i = 0..20, drawn with the example
    densities p, q1, q2, q3 on the same axes, as the Appendix C script plots it. The JSD rises
    and then stays at log 2 once the densities no longer overlap."""
    d = shift_distances(samples, shifts, seed)
    return _shift_figure(d, "jsd", "JSD", "JSD behaviour when distributions are moved apart", out)


def wasserstein_shift_figure(
    out, samples: int = 100_000, shifts: int = 21, seed: int = 2020
) -> Path:
    """Fig 2.12: the Wasserstein distance (SciPy) between p = N(0, 1) and q = N(i, 1), i = 0..20,
    with the example densities, as Appendix C's second plot. It grows linearly (about i)."""
    d = shift_distances(samples, shifts, seed)
    return _shift_figure(
        d, "wd", "WD", "WD behaviour when distributions are moved further apart", out
    )
