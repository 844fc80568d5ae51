"""A synthetic SVHN-like domain, for SMOKE-SCALE runs only.

No real SVHN subset of useful size can be shipped or fetched offline (data/README.md), yet the
MNIST2SVHN experiments (spec 001 section 4, L546) must run end to end on a CPU without internet.
This module fakes the *look* of SVHN's cropped house numbers from MNIST digits: coloured
background and foreground with varied contrast, a slight tilt and scale, a blur, sensor noise,
an illumination ramp, and the neighbouring digits of the house number cut off at the left and
right edges. It is not SVHN and numbers measured on it say nothing about the thesis; every
Domain it makes says so in its provenance, and experiments print :data:`STANDIN_WARNING`.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import BadOptionError
from .sources import Domain, load_mnist

STANDIN_WARNING = """\
################################################################################
#  WARNING: SVHN STAND-IN IN USE -- THIS IS NOT SVHN.                          #
#  The "SVHN" domain is synthetic: MNIST digits painted on coloured 32x32      #
#  backgrounds with blur, noise and cut-off neighbour digits. It exists only   #
#  so that smoke-scale runs work offline. Results on it are NOT comparable to  #
#  the thesis. For real runs use load_svhn(source="tfds") (svhn_cropped) or    #
#  the official train_32x32.mat with --data-dir.                               #
################################################################################"""

_SIZE = 32
_CHUNK = 4096  # images painted per vectorised step (part of the seeded recipe)


def _tight(digit: np.ndarray) -> np.ndarray:
    """The digit's columns that hold ink (a 4-column blank if it has none)."""
    cols = np.flatnonzero(digit.max(axis=0))
    return digit[:, cols[0] : cols[-1] + 1] if len(cols) else digit[:, :4] * 0


def _house_number_strip(rng, digits: np.ndarray, centre: int) -> tuple[np.ndarray, float]:
    """[28, W] strip: optional left neighbour, gap, centre digit, gap, optional right neighbour.

    Returns the strip and the x coordinate of the centre digit's middle.
    """
    parts, centre_x, x = [], 0.0, 0
    for role in ("left", "centre", "right"):
        if role != "centre" and rng.random() > 0.8:  # no neighbour on this side
            piece = np.zeros((28, int(rng.integers(4, 16))), np.uint8)
        else:
            index = centre if role == "centre" else int(rng.integers(len(digits)))
            piece = _tight(digits[index])
        if role == "centre":
            centre_x = x + piece.shape[1] / 2.0
        gap = np.zeros((28, int(rng.integers(1, 5))), np.uint8)
        parts += [piece, gap]
        x += piece.shape[1] + gap.shape[1]
    return np.concatenate(parts, axis=1), centre_x


def _window_mask(rng, strip: np.ndarray, centre_x: float) -> np.ndarray:
    """Ink mask [32,32] in [0,1]: a tilted square window of the strip around the centre digit."""
    side = rng.uniform(22.0, 30.0)  # window side in strip pixels (SVHN crops are square)
    cx = centre_x + rng.uniform(-1.5, 1.5)
    cy = 14.0 + rng.uniform(-1.5, 1.5)
    angle = np.deg2rad(rng.uniform(-8.0, 8.0))
    cos, sin = np.cos(angle) * side / _SIZE, np.sin(angle) * side / _SIZE
    c = (_SIZE - 1) / 2.0  # output pixel (u, v) -> strip point, centred on (cx, cy)
    warp = np.array([[cos, -sin, cx - cos * c + sin * c], [sin, cos, cy - sin * c - cos * c]])
    return cv2.warpAffine(
        strip.astype(np.float32) / 255.0,
        warp,
        (_SIZE, _SIZE),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderValue=0.0,
    )


def _paint(rng, masks: np.ndarray) -> np.ndarray:
    """Colour [k,32,32] ink masks: tinted background/foreground, light ramp, blur, noise."""
    k = len(masks)
    # mostly muted colours, as on house fronts: a grey level plus a random tint
    lum = rng.uniform(0.08, 0.92, (k, 1))
    background = np.clip(lum + rng.normal(0.0, 0.12, (k, 3)) * rng.uniform(0, 1.5, (k, 1)), 0, 1)
    contrast = rng.uniform(0.15, 0.75, (k, 1))
    up = (lum + contrast <= 1.0) & ((lum - contrast < 0.0) | (rng.random((k, 1)) < 0.5))
    tint = rng.normal(0.0, 0.12, (k, 3)) * rng.uniform(0.0, 1.5, (k, 1))
    foreground = np.clip(background + np.where(up, 1.0, -1.0) * contrast + tint, 0.0, 1.0)
    m = masks[..., None]
    background, foreground = (c.astype(np.float32)[:, None, None] for c in (background, foreground))
    img = background + (foreground - background) * m

    ramp = np.linspace(-1.0, 1.0, _SIZE, dtype=np.float32)
    direction = rng.uniform(0.0, 2.0 * np.pi, (k, 1, 1)).astype(np.float32)
    light = np.cos(direction) * ramp[None, None, :] + np.sin(direction) * ramp[None, :, None]
    img *= (1.0 + rng.uniform(0.0, 0.25, (k, 1, 1)).astype(np.float32) * light)[..., None]

    for i, sigma in enumerate(rng.uniform(0.4, 1.2, k)):
        img[i] = cv2.GaussianBlur(img[i], (0, 0), sigma)
    img += rng.standard_normal(img.shape, dtype=np.float32) * rng.uniform(
        0.005, 0.04, (k, 1, 1, 1)
    ).astype(np.float32)
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def load_svhn_standin(n: int = 10000, seed: int = 0, mnist: Domain | None = None) -> Domain:
    """``n`` synthetic SVHN-like uint8 [n,32,32,3] images labelled with their MNIST digit.

    Digits come from ``mnist`` (default: the bundled MNIST test sample, ``load_mnist(
    source="bundled")``), drawn with replacement. Deterministic in ``seed``. SMOKE SCALE ONLY.
    """
    if mnist is None:
        mnist = load_mnist(source="bundled")
    digits = np.asarray(mnist.images)
    if digits.ndim != 3 or digits.dtype != np.uint8:
        raise BadOptionError(f"the stand-in needs grey uint8 MNIST digits; got {digits.shape}")
    if int(n) < 1:
        raise BadOptionError(f"n={n} must be >= 1")
    rng = np.random.default_rng(seed)
    centres = rng.integers(len(digits), size=int(n))
    images = np.empty((int(n), _SIZE, _SIZE, 3), np.uint8)
    for first in range(0, int(n), _CHUNK):
        masks = np.stack(
            [
                _window_mask(rng, *_house_number_strip(rng, digits, int(centre)))
                for centre in centres[first : first + _CHUNK]
            ]
        )
        images[first : first + len(masks)] = _paint(rng, masks)
    provenance = (
        f"STAND-IN, NOT SVHN: {int(n)} synthetic 32x32 RGB house-number-like images made from "
        f"MNIST digits ({mnist.provenance}) with random colours, contrast, tilt, blur, noise and "
        f"cut-off neighbour digits, seed={seed}; for smoke-scale runs only"
    )
    return Domain("svhn_standin", images, mnist.labels[centres].astype(np.int64), provenance)
