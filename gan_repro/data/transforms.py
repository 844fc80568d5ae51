"""Pixel transforms for the digit domains (numpy in, numpy out, vectorised).

Spec 001 (SCoGAN thesis) section 4 / 10.7:

* every pixel is scaled from [0, 255] to [-1, 1] with ``(x - 127.5) / 127.5`` (L665, Listing 6.2
  L1235-1239);
* MNIST is "scaled to 32x32" (L519) and turned grey -> RGB because Tables 3.1/3.2 take 32x32x3;
* the MNIST2edge edge image is ``cv2.dilate(img, ones(3, 3), iterations=1) - img`` (L533-537, code
  ``Code/Data.py``), built from the *second* half of MNIST while the first half stays plain;
* MNIST2negative (Fig 3.2b) pairs MNIST with "colour-negated MNIST" (L533): ``255 - img``, made
  the same way from the other half (the thesis selects "50% of the MNIST dataset and convert[s]
  it into either edge/rotate", L537; the authors' code at HEAD has no negative loader).

Spec 002 (MNIST <-> USPS CycleGAN) and report 004 prepare grey digits with :func:`prepare_digits`:
bilinear to 128x128 stored as 3 equal channels (report 002, L152-154), or 28x28 with 1 channel.

Resizing is done on float32 with ``cv2.INTER_LINEAR``, which equals ``tf.image.resize`` bilinear
(half-pixel centres, no antialias) to 1e-7, then rounded back to uint8. The authors' code resizes
after normalising; doing it in uint8 first changes a pixel by at most half a grey level.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import BadOptionError, check_choice

# OpenCV 5 handles at most 128 channels per call (OpenCV 4: 512); images go through in stacks.
_CV_CHANNELS = 128
_EDGE_KERNEL = np.ones((3, 3), np.uint8)


def to_unit_range(x_uint8: np.ndarray) -> np.ndarray:
    """Map uint8 pixels 0..255 to float32 in [-1, 1]: ``(x - 127.5) / 127.5`` (thesis L1235-1239).

    0 maps to exactly -1 and 255 to exactly 1.
    """
    return (np.asarray(x_uint8, dtype=np.float32) - np.float32(127.5)) / np.float32(127.5)


def _per_image(images: np.ndarray, fn) -> np.ndarray:
    """Apply a 2-D OpenCV ``fn`` to every image of a [N,H,W] stack, 128 images per call.

    The stack is turned into [H, W, N] so that one OpenCV call treats images as channels.
    """
    out = []
    for i in range(0, len(images), _CV_CHANNELS):
        chunk = np.ascontiguousarray(np.moveaxis(images[i : i + _CV_CHANNELS], 0, -1))
        res = fn(chunk)
        if res.ndim == 2:  # OpenCV drops a single channel
            res = res[..., None]
        out.append(np.moveaxis(res, -1, 0))
    return np.concatenate(out) if out else images.copy()


def _check_grey(images: np.ndarray, what: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3:
        raise BadOptionError(f"{what} expects grey images [N,H,W]; got shape {images.shape}")
    return images


def resize_grey(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of uint8 grey images [N,H,W] to [N,size,size] (float math, rounded)."""
    images = _check_grey(images, "resize_grey")
    resize = lambda c: cv2.resize(c, (size, size), interpolation=cv2.INTER_LINEAR)
    out = _per_image(images.astype(np.float32), resize)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def grey_to_rgb(images: np.ndarray) -> np.ndarray:
    """[N,H,W] -> [N,H,W,3] with the three channels equal (the code's grayscale_to_rgb)."""
    return np.repeat(np.asarray(images)[..., None], 3, axis=-1)


def mnist_to_rgb32(images_uint8: np.ndarray) -> np.ndarray:
    """MNIST uint8 [N,28,28] -> uint8 [N,32,32,3]: bilinear 28->32 then grey->RGB (spec 4, L519)."""
    return grey_to_rgb(resize_grey(images_uint8, 32))


def _grid_to_uint8(x: np.ndarray, low: float) -> np.ndarray:
    """USPS floats in [low, 1] -> uint8: round((x - low) / (1 - low) * 255), halves rounded up.

    ESL values in [-1, 1] give round((x + 1) * 127.5), Kaggle values in [0, 1] round(x * 255).
    The values are first snapped to the 1e-4 grid of the ESL text (4 decimals; the data are
    multiples of 0.001) and the rounding is done in integers. Plain float rounding would settle
    the many exact ties (x = -0.8 gives 25.5) by float error, so that the text, the float32 npz
    and the [0, 1] HDF5 copy would differ by one grey level in a few hundred pixels; this way the
    three routes give identical pixels.
    """
    span = round((1.0 - low) * 10_000)
    k = np.rint((np.asarray(x, np.float64) - low) * 10_000).astype(np.int64)
    return np.clip((2 * 255 * k + span) // (2 * span), 0, 255).astype(np.uint8)


def _unit_float_to_uint8(images: np.ndarray) -> np.ndarray:
    """ESL/USPS style floats in [-1, 1] -> uint8 with round((x + 1) * 127.5), as load_usps does."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    return _grid_to_uint8(images, -1.0)


def usps_to_rgb32(images: np.ndarray) -> np.ndarray:
    """USPS [N,16,16] -> uint8 [N,32,32,3]: bilinear 16->32 then grey->RGB.

    Accepts uint8 0..255 or the ESL float values in [-1, 1] (mapped with round((x+1)*127.5)).
    """
    return grey_to_rgb(resize_grey(_unit_float_to_uint8(images), 32))


def to_rgb32(images: np.ndarray) -> np.ndarray:
    """Any digit domain to uint8 [N,32,32,3]: grey images are resized, 32x32 RGB passes through."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1:] == (32, 32, 3):
        return images
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 3:
        return grey_to_rgb(resize_grey(_unit_float_to_uint8(images), 32))
    raise BadOptionError(f"cannot make 32x32 RGB from images of shape {images.shape}")


_PREPARE_BLOCK = 1024  # images resized per step: bounds the float32 scratch memory


def prepare_digits(images: np.ndarray, size: int, channels: int) -> np.ndarray:
    """Grey uint8 digits [N,h,w] (or [N,h,w,1]) -> uint8 [N,size,size,channels].

    The two preparations of the digit CycleGAN studies:

    * report 002 (spec 002 section 4, L152-154) bilinearly upsamples MNIST 28x28 and USPS 16x16
      to 128x128 and stores 3 channels (the model takes 128x128x3):
      ``prepare_digits(x, 128, 3)``;
    * report 004 trains on 28x28 single-channel digits, USPS resized up to MNIST's size:
      ``prepare_digits(x, 28, 1)``.

    Resizing is :func:`resize_grey` (``cv2.INTER_LINEAR`` on float32, rounded to uint8; the same
    as ``tf.image.resize`` bilinear without antialias); images already ``size`` x ``size`` pass
    unchanged. The grey value is repeated in every channel. Images go through in blocks of
    1,024, so preparing all of MNIST at 128x128x3 needs only the 2.9 GB output. RGB input
    [N,h,w,3] is refused: this takes grey digits.
    """
    check_choice("channels", channels, (1, 3))
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise BadOptionError(f"size must be a positive int (pixels per side); got {size!r}")
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise BadOptionError(
            f"prepare_digits takes grey digits [N,h,w] or [N,h,w,1]; got shape {images.shape}"
            + (" (RGB: pass the grey images before grey -> RGB)" if images.ndim == 4 else "")
        )
    if images.dtype != np.uint8:
        raise BadOptionError(
            f"prepare_digits takes uint8 pixels 0..255; got {images.dtype} (map ESL floats in "
            "[-1, 1] with round((x + 1) * 127.5) first, as load_usps does)"
        )
    size = int(size)
    out = np.empty((len(images), size, size, channels), np.uint8)
    same = images.shape[1:] == (size, size)
    for i in range(0, len(images), _PREPARE_BLOCK):
        block = images[i : i + _PREPARE_BLOCK]
        out[i : i + len(block)] = (block if same else resize_grey(block, size))[..., None]
    return out


def mnist_edge(images_uint8: np.ndarray) -> np.ndarray:
    """Edge images: ``cv2.dilate(img, np.ones((3,3)), iterations=1) - img`` (spec 10.7, L533-537).

    uint8 [N,H,W] in, same shape out. Dilation is never below the image, so no wrap-around.
    """
    images = _check_grey(images_uint8, "mnist_edge").astype(np.uint8, copy=False)
    dilated = _per_image(images, lambda c: cv2.dilate(c, _EDGE_KERNEL, iterations=1))
    return dilated - images


def mnist2edge_domains(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split MNIST into the two disjoint MNIST2edge domains (spec 4, L533-537; code Data.py).

    Returns ``(images[:h], mnist_edge(images[h:2h]))`` with ``h = N // 2``: 30,000 plain digits
    and the edges of the other 30,000 for the 60,000-image train set. With odd N the last image
    is left out so both domains have the same size.
    """
    images = _check_grey(images, "mnist2edge_domains")
    half = len(images) // 2
    return images[:half], mnist_edge(images[half : 2 * half])


def mnist_negative(images_uint8: np.ndarray) -> np.ndarray:
    """Colour-negated digits, ``255 - img`` (MNISTnegative, L533; Fig 3.2b). uint8 in and out,
    any shape (grey [N,H,W] or RGB): negation commutes with resizing and grey -> RGB."""
    images = np.asarray(images_uint8)
    if images.dtype != np.uint8:
        raise BadOptionError(f"mnist_negative expects uint8 pixels; got {images.dtype}")
    return np.uint8(255) - images


def mnist2negative_domains(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two disjoint MNIST2negative domains (Fig 3.2b, L533-537), built like MNIST2edge:
    ``(images[:h], mnist_negative(images[h:2h]))`` with ``h = N // 2`` (30,000 each for the
    60,000-image train set)."""
    images = _check_grey(images, "mnist2negative_domains")
    half = len(images) // 2
    return images[:half], mnist_negative(images[half : 2 * half])
