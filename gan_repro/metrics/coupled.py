"""The three LPIPS numbers of SCoGAN Tables 5.1-5.4 for any coupled run (spec 5.1).

1. Gen. D1 vs Gen. D2: mean LPIPS between G1(z_i) and G2(z_i), the same z_i (pairs).
2. Gen. D1 vs Real D1 and 3. Gen. D2 vs Real D2: mean LPIPS between generated and real images
   of one domain. The thesis does not say how they were paired; the authors' sampler saves N
   generated and N real images and pairs them by index (spec 10.9), so here real images are drawn
   at random (without replacement while the set lasts) and paired by index.
Plus the data baseline, Real D1 vs Real D2, the same way.

Generated images come from inference mode (BN moving statistics, spec 9.12), z ~ U[-1, 1].
Everything streams in batches, so the paper's 50,000 pairs need no more memory than one batch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf


def _real_batches(images: np.ndarray, n: int, batch_size: int, rng: np.random.Generator):
    """``n`` real images as float [-1, 1] batches, drawn at random (no repeats while possible)."""
    order = np.concatenate([rng.permutation(len(images)) for _ in range(-(-n // len(images)))])[:n]
    for i in range(0, n, batch_size):
        yield (images[order[i : i + batch_size]].astype(np.float32) - 127.5) / 127.5


def generated_batches(generate: Callable, n: int, noise_dim: int, batch_size: int, seed: int):
    """``(G1(z), G2(z))`` for ``n`` latent vectors z ~ U[-1, 1], in batches."""
    for i in range(0, n, batch_size):
        b = min(batch_size, n - i)
        z = tf.random.stateless_uniform((b, noise_dim), seed=[seed, i], minval=-1.0, maxval=1.0)
        yield generate(z)


def lpips_measures(
    distance: Callable,
    generate: Callable,
    real1: np.ndarray,
    real2: np.ndarray,
    n: int,
    noise_dim: int = 100,
    batch_size: int = 250,
    seed: int = 0,
) -> dict[str, float]:
    """The three Table 5.2 LPIPS numbers and the real-vs-real baseline over ``n`` pairs.

    ``distance(x, y)`` returns per-pair LPIPS for float batches in [-1, 1];
    ``generate(z)`` returns ``(G1(z), G2(z))``; ``real1``/``real2`` are uint8 images.
    One pass: each batch of z is generated once and serves all three generated measures.
    """
    rng = np.random.default_rng(seed)
    streams = zip(
        generated_batches(generate, n, noise_dim, batch_size, seed),
        _real_batches(real1, n, batch_size, rng),  # paired with G1(z)
        _real_batches(real2, n, batch_size, rng),  # paired with G2(z)
        _real_batches(real1, n, batch_size, rng),  # the baseline's own draws
        _real_batches(real2, n, batch_size, rng),
        strict=True,
    )
    names = ("gen1_vs_gen2", "gen1_vs_real1", "gen2_vs_real2", "real1_vs_real2")
    totals = dict.fromkeys(names, 0.0)
    for (g1, g2), r1, r2, b1, b2 in streams:
        for name, (a, b) in zip(names, ((g1, g2), (g1, r1), (g2, r2), (b1, b2)), strict=True):
            totals[name] += float(np.asarray(distance(a, b), np.float64).sum())
    return {**{k: v / n for k, v in totals.items()}, "n_pairs": n}
