"""Numbers for unpaired translation between two image domains (photo <-> anime). Beyond the thesis.

The CycleGAN-vs-UNIT thesis judges by eye only (spec 003 section 6). Its claims (L64, L447,
L464, L490-492: CycleGAN more realistic; UNIT more varied and better at keeping the structure of
its input) are put to four measurements per direction, on the held-out test images:

* **realism**: FID and KID x 100 between the translations and the real test images of the target
  domain, in InceptionV3 pool features (:mod:`gan_repro.metrics.fid`; U-GAT-IT's Table 2
  reports KID x 100 on selfie2anime), and in the features of a **domain judge** trained here to
  tell the two domains apart (:func:`judge_input`), which also gives the share of translations
  it takes for the target domain;
* **diversity**: MUNIT's protocol (Huang et al. 2018, section 5.1): for each of ``inputs`` test
  images, ``pairs`` pairs of outputs under independent noise draws, the mean LPIPS between the
  two outputs of a pair; a deterministic translator (CycleGAN) scores 0 by construction. The
  weight-free per-pixel standard deviation over the draws is given beside it;
* **structure kept**: LPIPS and SSIM between each input and its own translation, against the same
  numbers between an input and the translation of a *different* input (of another face), as the
  face-aging identity drift does (:func:`gan_repro.metrics.face_aging.identity_drift`).
"""

from __future__ import annotations

import cv2
import numpy as np

from gan_repro.errors import BadOptionError
from gan_repro.metrics.face_aging import identity_drift
from gan_repro.metrics.fid import fid_from_features, kernel_inception_distance

#: The domain judge's input side (images of any size are resized to it).
JUDGE_SIDE = 64


def as_uint8(images) -> np.ndarray:
    """uint8 [N,H,W,C] from uint8 or float [-1, 1] images."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        return x
    return np.clip(np.rint((x.astype(np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def judge_input(images, side: int = JUDGE_SIDE) -> np.ndarray:
    """Images (uint8 or float [-1, 1], [N,H,W,3]) -> uint8 [N, side, side, 3] for the judge:
    area averaging when shrinking, bilinear when growing."""
    x = as_uint8(images)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise BadOptionError(f"the domain judge takes RGB images [N,H,W,3]; got {x.shape}")
    if x.shape[1:3] == (side, side):
        return x
    interp = cv2.INTER_AREA if x.shape[1] > side else cv2.INTER_LINEAR
    return np.stack([cv2.resize(img, (side, side), interpolation=interp) for img in x])


def _judge_float(images) -> np.ndarray:
    return (judge_input(images).astype(np.float32) - 127.5) / 127.5


def judge_probabilities(judge, images, batch_size: int = 256) -> np.ndarray:
    """The judge's probability that each image belongs to domain B (class 1)."""
    x = _judge_float(images)
    out = [
        np.asarray(judge(x[i : i + batch_size], training=False))[:, 1]
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros(0)


def judged_as(judge, images, domain: str) -> float:
    """The share of ``images`` the judge assigns to ``domain`` ("a" or "b")."""
    p = judge_probabilities(judge, images)
    return float(np.mean(p >= 0.5) if domain == "b" else np.mean(p < 0.5))


def judge_features(judge, images, batch_size: int = 256) -> np.ndarray:
    """The judge's penultimate activations (the input of its last Dense layer)."""
    import keras

    body = keras.Model(judge.inputs, judge.layers[-1].input)
    x = _judge_float(images)
    out = [
        np.asarray(body(x[i : i + batch_size], training=False))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out).astype(np.float64)


def distances(f1: np.ndarray, f2: np.ndarray, seed: int = 0) -> dict:
    """FID and KID x 100 (U-GAT-IT's unit) between two feature sets."""
    m = max(2, min(len(f1), len(f2), 1000))
    kid, kid_std = kernel_inception_distance(f1, f2, num_subsets=50, subset_size=m, seed=seed)
    return {
        "fid": fid_from_features(f1, f2),
        "kid_x100": 100.0 * kid,
        "kid_x100_std": 100.0 * kid_std,
        "n": [len(f1), len(f2)],
    }


def diversity(translate, images, lpips_model, *, pairs: int = 19, seed: int = 0) -> dict:
    """MUNIT's LPIPS diversity: ``translate(images, noise_seed)`` (float [-1, 1] outputs) twice
    per pair with two independent draws (one per image; ``lpips_model`` a
    :class:`gan_repro.metrics.lpips.LPIPS`), the mean LPIPS between the two outputs over every image
    and pair; and the per-pixel standard deviation over all ``2 * pairs`` outputs, averaged."""
    if len(images) == 0 or pairs < 1:
        raise BadOptionError("diversity needs at least one image and one pair")
    scores, outputs = [], []
    for p in range(pairs):
        first = translate(images, seed + 2 * p)
        second = translate(images, seed + 2 * p + 1)
        scores.append(np.asarray(lpips_model.distances(first, second, 16), np.float64))
        outputs += [first, second]
    lp = np.concatenate(scores)
    stack = np.stack(outputs).astype(np.float64)  # [draws, N, H, W, C] in [-1, 1]
    return {
        "lpips_mean": float(lp.mean()),
        "lpips_std": float(lp.std()),
        "pixel_std": float(stack.std(axis=0).mean()),
        "inputs": len(images),
        "pairs": int(pairs),
        "protocol": "MUNIT 5.1: per input, LPIPS between the outputs of independent noise draws",
    }


def structure_kept(inputs, outputs, lpips_model, *, seed: int = 0) -> dict:
    """LPIPS and SSIM of each input against its own translation, and the baseline of an input
    against the translation of a different input (``j != i``): near the baseline means the
    output keeps no more of its input's structure than of anyone else's."""
    inputs, outputs = as_uint8(inputs), as_uint8(outputs)
    n = len(inputs)
    if n < 2:
        raise BadOptionError("structure_kept needs at least two inputs (for the baseline)")
    own = identity_drift(inputs, outputs, lpips_model, seed=seed, per_image=True)
    rng = np.random.default_rng(seed)
    other = (np.arange(n) + rng.integers(1, n, n)) % n  # never the same input
    shuffled = identity_drift(inputs, outputs[other], lpips_model, seed=seed, per_image=True)
    own_ssim = np.asarray(own["per_image"]["ssim"])
    other_ssim = np.asarray(shuffled["per_image"]["ssim"])
    return {
        "own_lpips": own["lpips"]["mean"],
        "own_ssim": own["ssim"]["mean"],
        "other_lpips": shuffled["lpips"]["mean"],
        "other_ssim": shuffled["ssim"]["mean"],
        "share_ssim_own_above_other_median": float(np.mean(own_ssim > np.median(other_ssim))),
        "n": n,
    }
