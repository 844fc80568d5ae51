"""Sample grids in the thesis layouts.

SCoGAN thesis (L667, L699): a 4x4 grid; rows 1-2 are G1 on 8 latent vectors, rows 3-4 are G2
on the *same* 8 vectors, so row 1[i] pairs with row 3[i] (and row 2[i] with row 4[i]).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from gan_repro.io import atomic_save


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] floats -> uint8 (greyscale channels kept)."""
    return np.clip(np.rint((np.asarray(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def tile(images: np.ndarray, rows: int, cols: int, pad: int = 2) -> np.ndarray:
    """Tile ``rows*cols`` images [N,H,W,C] row by row with a white ``pad`` pixel border."""
    images = to_uint8(images) if images.dtype != np.uint8 else images
    n, h, w, ch = images.shape
    if n != rows * cols:
        raise ValueError(f"tile needs {rows * cols} images, got {n}")
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, ch), 255, np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        out[
            pad + r * (h + pad) : pad + r * (h + pad) + h,
            pad + c * (w + pad) : pad + c * (w + pad) + w,
        ] = img
    return out


def coupled_grid(domain1: np.ndarray, domain2: np.ndarray) -> np.ndarray:
    """The thesis's 4x4 pair grid from 8 G1 and 8 G2 images drawn from the same z."""
    if len(domain1) != 8 or len(domain2) != 8:
        raise ValueError("the thesis grid shows 8 latent vectors per domain")
    return tile(np.concatenate([domain1, domain2]), rows=4, cols=4)


def save_image(image: np.ndarray, path: str | Path) -> None:
    """Write an HxWxC uint8 image as PNG, atomically (temp file + rename)."""
    arr = image[..., 0] if image.shape[-1] == 1 else image
    atomic_save(path, lambda tmp: Image.fromarray(arr).save(tmp, format="PNG"))
