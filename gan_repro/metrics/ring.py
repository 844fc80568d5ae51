"""Mode-collapse measures on the toy ring (SCoGAN thesis Ch.2, Figs 2.10, 2.11, 2.14).

The thesis judges the ring runs by eye only (spec 5.3): k=1 "learns" the distribution, k=5
"resolves to only learn 6 out of 10 modes" (L392). Here the eye is replaced by the measures of
the mode-collapse literature on 2D Gaussian-mixture rings (Unrolled GAN, Metz et al. 2017;
VEEGAN, Srivastava et al. 2017, Table 1; PacGAN, Lin et al. 2018, Table 2), computed on a
fixed number of generated points (those papers use 2,500):

* a generated point is **high quality** when it lies within ``3 * std`` (Euclidean distance)
  of its *nearest* mode centre, ``std`` being the standard deviation of the real modes
  (0.05 here, so 0.15 around each centre);
* a mode is **covered** when at least ``min_count`` high-quality points have it as nearest
  mode. VEEGAN and PacGAN count a mode as captured when some generated sample lies within
  three standard deviations of it, i.e. ``min_count = 1`` (the default). With 2,500 points a
  mode the generator only grazes counts then, so :func:`ring_report` also accepts a larger
  ``min_count`` (e.g. a tenth of the ``n / modes`` an even spread puts in each mode);
* the **mode histogram** is the number of high-quality points per mode, and PacGAN's
  "reverse KL" is ``KL(generated mode shares || uniform)`` over the modes, on the high-quality
  points (0 for a perfectly even spread, ``log(modes)`` for one mode).

All functions are NumPy; points are [N, 2] float arrays (any N, any dimension really).
"""

from __future__ import annotations

import numpy as np

from gan_repro.data.ring import RING_STD, ring_centres

__all__ = [
    "HQ_STDS",
    "high_quality_share",
    "mode_counts",
    "mode_kl",
    "modes_covered",
    "nearest_mode",
    "ring_report",
]

#: A sample is high quality within this many standard deviations of its nearest mode.
HQ_STDS = 3.0


def nearest_mode(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of the nearest centre int64 [N], Euclidean distance to it float64 [N])."""
    p = np.asarray(points, np.float64)
    c = np.asarray(centres, np.float64)
    d = np.sqrt(((p[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    which = d.argmin(axis=1)
    return which.astype(np.int64), d[np.arange(len(p)), which]


def _high_quality(points, centres, std):
    which, dist = nearest_mode(points, centres)
    return which, dist <= HQ_STDS * std


def mode_counts(points, centres=None, std: float = RING_STD) -> np.ndarray:
    """High-quality points per mode, int64 [modes] (points farther than 3 std count nowhere)."""
    centres = ring_centres() if centres is None else np.asarray(centres)
    which, hq = _high_quality(points, centres, std)
    return np.bincount(which[hq], minlength=len(centres)).astype(np.int64)


def modes_covered(points, centres=None, std: float = RING_STD, min_count: int = 1) -> int:
    """Modes with at least ``min_count`` high-quality points (VEEGAN/PacGAN: ``min_count=1``)."""
    return int((mode_counts(points, centres, std) >= max(int(min_count), 1)).sum())


def high_quality_share(points, centres=None, std: float = RING_STD) -> float:
    """Fraction of points within 3 std of their nearest mode (VEEGAN's "% high quality" / 100)."""
    centres = ring_centres() if centres is None else np.asarray(centres)
    if len(points) == 0:
        return 0.0
    return float(_high_quality(points, centres, std)[1].mean())


def mode_kl(points, centres=None, std: float = RING_STD) -> float:
    """PacGAN's reverse KL: ``KL(q || uniform)`` with q the high-quality points' mode shares.

    ``sum_i q_i log(q_i * modes)`` over modes with ``q_i > 0``; ``inf`` if no point is high
    quality (there is no q then)."""
    counts = mode_counts(points, centres, std).astype(np.float64)
    total = counts.sum()
    if total == 0:
        return float("inf")
    q = counts[counts > 0] / total
    return float((q * np.log(q * len(counts))).sum())


def ring_report(points, centres=None, std: float = RING_STD, min_count: int = 1) -> dict:
    """All the measures at once: ``{"modes_covered", "high_quality", "mode_kl", "mode_counts",
    "points", "min_count"}`` (``mode_counts`` as a list, so the dict is JSON-ready)."""
    counts = mode_counts(points, centres, std)
    return {
        "modes_covered": int((counts >= max(int(min_count), 1)).sum()),
        "high_quality": high_quality_share(points, centres, std),
        "mode_kl": mode_kl(points, centres, std),
        "mode_counts": [int(c) for c in counts],
        "points": int(len(points)),
        "min_count": int(min_count),
    }
