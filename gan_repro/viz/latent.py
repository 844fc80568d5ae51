"""Walking the shared latent space: spherical interpolation and the two-generator strip."""

from __future__ import annotations

import numpy as np

from gan_repro.viz.grids import tile


def slerp(z0: np.ndarray, z1: np.ndarray, t: float) -> np.ndarray:
    """Spherical linear interpolation (Shoemake 1985; White 2016 for GAN latents).

    Follows the great circle between the directions of ``z0`` and ``z1`` while the norm goes
    linearly from |z0| to |z1|; falls back to linear interpolation for (anti)parallel vectors.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    cos = np.clip(np.dot(z0 / n0, z1 / n1), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return (1 - t) * z0 + t * z1
    direction = (np.sin((1 - t) * omega) * z0 / n0 + np.sin(t * omega) * z1 / n1) / np.sin(omega)
    return direction * ((1 - t) * n0 + t * n1)


def interpolation_strip(generate, z0, z1, steps: int = 8) -> np.ndarray:
    """A 2-row image: G1 (top) and G2 (bottom) along the slerp path from z0 to z1.

    ``generate(z)`` returns ``(G1(z), G2(z))`` in [-1, 1] for a batch of latent vectors.
    """
    path = np.stack([slerp(z0, z1, t) for t in np.linspace(0.0, 1.0, steps)]).astype(np.float32)
    img1, img2 = generate(path)
    return tile(np.concatenate([np.asarray(img1), np.asarray(img2)]), rows=2, cols=steps)
