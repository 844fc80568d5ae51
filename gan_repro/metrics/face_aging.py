"""Numbers for the face-aging models. Every function here goes beyond the thesis.

"Using GANs for Face Aging" judged its samples by eye (spec 000 sections 0 and 6: "no FID/IS/
age-estimator/identity metrics were computed"); section 6 lists per-class FID, age-classifier
accuracy of generated samples and SSIM/identity for the CycleGAN as optional additions, and
section 8 item 22 asks that such checks be marked as additions. They cannot be compared with
anything in the thesis. This module adds:

* :func:`age_group_accuracy`: is a face generated for (or translated to) age group g seen as
  group g by an age classifier trained on real UTKFace faces
  (:mod:`gan_repro.training.age_classifier`)? For the CGAN, CDCGAN and the CycleGAN.
  :func:`age_accuracy_raw_and_median` gives it on the raw faces and after the thesis's median
  filter (Fig 5.7), with their pixel noise (:func:`pixel_noise`);
  :func:`classifier_noise_check` is the classifier's own accuracy on real held-out faces, clean
  and with that much noise added (:func:`matched_noise_std`): the ceiling to read it against.
* :func:`group_distribution`: which groups does an unconditional generator (the DCGAN) produce,
  compared with the groups of its training data?
* :func:`fid_per_group`: FID/KID (:mod:`gan_repro.metrics.fid`) of the fakes of each group
  against the real faces of that group, and pooled over the groups.
* :func:`identity_drift`: how far is a translated face from its own input (LPIPS, SSIM),
  read against the distance between two *different* real faces?

All results are plain JSON-able Python types (float, int, str, list, dict, None).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from skimage.metrics import structural_similarity

from gan_repro.errors import BadOptionError
from gan_repro.metrics.fid import (
    _as_model_input,
    extract_features,
    fid_from_features,
    inception_features,
    kernel_inception_distance,
)
from gan_repro.training.age_classifier import classification_summary, predict_group_probs

_FID_OPTIONS = ("weights", "batch_size", "num_subsets", "subset_size", "seed", "fid_method")


# ------------------------------------------------------------------------------ age accuracy
def age_group_accuracy(
    classifier, images, target_labels, *, group_names=None, batch_size: int = 256
) -> dict:
    """Share of faces the age classifier puts in the group they were made for. Beyond the thesis.

    Answers: does the CGAN/CDCGAN face generated with label g, or the CycleGAN face translated
    to domain g, *look* its age group to a classifier trained on real faces? Read it against the
    classifier's own balanced accuracy on real held-out faces (its ceiling) and ``chance``.

    ``classifier``: a Keras model or a callable, float [-1, 1] batch -> probabilities [B, K];
    ``images``: float [-1, 1] or uint8 [N,H,W,C] (or grey [N,H,W]); ``target_labels``: int [N],
    the group each face was conditioned on / translated to.

    Returns ``accuracy``, ``balanced_accuracy`` (mean of the per-class accuracies present),
    ``per_class_accuracy`` (list over the K classes; None for a class with no faces),
    ``confusion`` ([K][K], rows = target group, columns = predicted group), ``support``, ``n``,
    ``classes`` (K), ``chance`` (1/K) and, with ``group_names``, ``group_names`` and
    ``per_group_accuracy`` ({name: accuracy}).
    """
    target = np.asarray(target_labels).astype(np.int64).reshape(-1)
    probs = predict_group_probs(classifier, images, batch_size)
    if len(probs) != len(target):
        raise BadOptionError(f"{len(probs)} images but {len(target)} target labels")
    if len(target) == 0:
        raise BadOptionError("age_group_accuracy needs at least one image")
    classes = int(probs.shape[1])
    if target.min() < 0 or target.max() >= classes:
        raise BadOptionError(
            f"target labels must lie in 0..{classes - 1} (the classifier has {classes} "
            f"classes); got {target.min()}..{target.max()}"
        )
    s = classification_summary(target, probs.argmax(axis=-1), classes)
    out = {
        "accuracy": s["accuracy"],
        "balanced_accuracy": s["balanced_accuracy"],
        "per_class_accuracy": s["per_class_recall"],
        "confusion": s["confusion"],
        "support": s["support"],
        "n": s["n"],
        "classes": classes,
        "chance": 1.0 / classes,
    }
    if group_names is not None:
        names = _check_names(group_names, classes)
        out["group_names"] = names
        out["per_group_accuracy"] = dict(zip(names, s["per_class_recall"], strict=True))
    return out


def _check_names(group_names, classes: int) -> list[str]:
    names = [str(g) for g in group_names]
    if len(names) != classes:
        raise BadOptionError(
            f"{len(names)} group names {names} but the classifier has {classes} classes"
        )
    return names


def group_distribution(
    classifier, images, group_names, *, data_labels=None, batch_size: int = 256
) -> dict:
    """Predicted share of each age group among ``images``. Beyond the thesis.

    Answers: which ages does an unconditional generator (the DCGAN, trained on all four thesis
    groups) actually produce? Compare ``shares`` with the share of each group in its training
    data: pass those labels as ``data_labels`` to get ``data_shares`` and the total variation
    distance ``0.5 * sum |shares - data_shares|`` (0 = same mix, 1 = disjoint). The classifier's
    own errors blur both the same way only if it is applied to real faces too; for a like-for-
    like baseline, also run this on real faces.

    Returns ``n``, ``counts`` and ``shares`` ({group: ...}, in ``group_names`` order) and, with
    ``data_labels``, ``data_shares`` and ``total_variation``.
    """
    probs = predict_group_probs(classifier, images, batch_size)
    if len(probs) == 0:
        raise BadOptionError("group_distribution needs at least one image")
    names = _check_names(group_names, int(probs.shape[1]))
    counts = np.bincount(probs.argmax(axis=-1), minlength=len(names))
    shares = counts / counts.sum()
    out = {
        "n": int(counts.sum()),
        "counts": {g: int(c) for g, c in zip(names, counts, strict=True)},
        "shares": {g: float(p) for g, p in zip(names, shares, strict=True)},
    }
    if data_labels is not None:
        data_labels = np.asarray(data_labels).astype(np.int64).reshape(-1)
        if len(data_labels) == 0 or data_labels.min() < 0 or data_labels.max() >= len(names):
            raise BadOptionError(f"data_labels must be a non-empty list of 0..{len(names) - 1}")
        data = np.bincount(data_labels, minlength=len(names)) / len(data_labels)
        out["data_shares"] = {g: float(p) for g, p in zip(names, data, strict=True)}
        out["total_variation"] = float(0.5 * np.abs(shares - data).sum())
    return out


# ------------------------------------------------------------------------- noise and smoothing
#: The thesis's preferred smoothing of CGAN outputs: OpenCV's 5x5 median (Fig 5.7, L1157-1177).
MEDIAN_KERNEL = 5


def median_filtered(images) -> np.ndarray:
    """``images`` (float [-1, 1] or uint8, [N,H,W,C] or grey [N,H,W]) through the 5x5 median of
    Fig 5.7 (:func:`gan_repro.viz.face_aging.smooth`, ``"median"``); uint8 [N,H,W,C]."""
    from gan_repro.viz.face_aging import smooth

    return smooth(_as_images(images), "median")


def pixel_noise(images) -> float:
    """The pixel noise of a set of faces: the standard deviation of ``x - median5(x)`` in
    [-1, 1] units (ours). Real UTKFace faces at 100x100 score about 0.03; the CGAN's dense
    generator leaves several times that (the noise Fig 5.7's filters remove, L1155)."""
    x = _as_model_input(_as_images(images))
    if len(x) == 0:
        raise BadOptionError("pixel_noise needs at least one image")
    smooth = (median_filtered(x).astype(np.float32) - 127.5) / 127.5
    return float(np.std(x - smooth))


def matched_noise_std(real_images, target: float, *, seed: int = 0, limit: int = 256) -> float:
    """The standard deviation s of i.i.d. Gaussian pixel noise that, added to ``real_images``
    (clipped to [-1, 1]), gives them the :func:`pixel_noise` ``target`` (e.g. the generated
    faces'); found by bisection on at most ``limit`` faces (the residual grows with s). 0 when
    the real faces are already that noisy."""
    from gan_repro.training.age_classifier import add_pixel_noise

    x = _as_model_input(_as_images(real_images))[: int(limit)]
    if pixel_noise(x) >= target:
        return 0.0
    lo, hi = 0.0, 2.0
    for _ in range(20):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if pixel_noise(add_pixel_noise(x, mid, seed)) < target else (lo, mid)
    return float(0.5 * (lo + hi))


def age_accuracy_raw_and_median(
    classifier, images, target_labels, *, group_names=None, batch_size: int = 256
) -> dict:
    """:func:`age_group_accuracy` of generated faces as they come (``raw``) and after the 5x5
    median filter of Fig 5.7 (``median``), with the :func:`pixel_noise` of both. Beyond the
    thesis (which shows the filtered faces only by eye, L1177)."""
    filtered = median_filtered(images)
    kw = {"group_names": group_names, "batch_size": batch_size}
    return {
        "raw": age_group_accuracy(classifier, images, target_labels, **kw),
        "median": age_group_accuracy(classifier, filtered, target_labels, **kw),
        "pixel_noise_raw": pixel_noise(images),
        "pixel_noise_median": pixel_noise(filtered),
    }


def classifier_noise_check(
    classifier, images, labels, noise_std: float, *, seed: int = 0, batch_size: int = 256
) -> dict:
    """The age classifier on *real* held-out faces: clean, with Gaussian pixel noise of
    ``noise_std`` (e.g. :func:`matched_noise_std` of the generated faces), median filtered, and
    noisy then median filtered. Beyond the thesis: the ceiling of :func:`age_accuracy_raw_and_
    median`; a classifier that cannot read noisy real faces cannot judge noisy generated ones.

    Returns ``noise_std`` and, for ``clean``, ``noisy``, ``median``, ``noisy_median``: accuracy,
    balanced accuracy and confusion (rows true, columns predicted) as
    :func:`age_group_accuracy` gives them.
    """
    from gan_repro.training.age_classifier import add_pixel_noise

    noisy = add_pixel_noise(images, noise_std, seed)
    sets = {
        "clean": images,
        "noisy": noisy,
        "median": median_filtered(images),
        "noisy_median": median_filtered(noisy),
    }
    out: dict = {"noise_std": float(noise_std), "n": int(len(labels))}
    for key, x in sets.items():
        a = age_group_accuracy(classifier, x, labels, batch_size=batch_size)
        out[key] = {k: a[k] for k in ("accuracy", "balanced_accuracy", "confusion")}
    return out


# ------------------------------------------------------------------------------------------ FID
def fid_per_group(
    fakes_by_group: Mapping[str, np.ndarray],
    reals_by_group: Mapping[str, np.ndarray],
    inception_model=None,
    **fid_kwargs,
) -> dict[str, dict]:
    """FID and KID of each age group's fakes against that group's real faces. Beyond the thesis.

    Answers: is the CGAN's "80-116" face as good as its "0-9" face, i.e. which groups does a
    conditional model render well (a pooled FID hides a group it fails on)? Same numbers as
    :func:`gan_repro.metrics.fid.fid_kid` on each pair, but the Inception features of each set
    are computed once and reused for the pooled entry.

    ``fakes_by_group`` / ``reals_by_group``: {group name: images} (float [-1, 1] or uint8,
    [N,H,W,C] or grey [N,H,W]). ``inception_model``: e.g. ``inception_features()``; None builds
    one from ``fid_kwargs["weights"]`` (default "imagenet"). ``fid_kwargs``: ``fid_kid``'s
    ``weights``, ``batch_size`` (64), ``num_subsets`` (100), ``subset_size`` (1000), ``seed`` (0),
    ``fid_method`` ("sqrtm"; "eigh" is much faster). The KID subset size of a group is
    ``min(subset_size, n_a, n_b)``.

    Returns {group: {"fid", "kid_mean", "kid_std", "n_a", "n_b", "kid_subset_size"}} in the order
    of ``fakes_by_group`` (then groups only in ``reals_by_group``), plus ``"all"``: every fake
    against every real face of the groups present on both sides. A group missing on one side or
    with fewer than 2 images on either side is not measured: its entry is ``{"skipped": reason,
    "n_a", "n_b"}`` (it still counts in ``"all"`` when present on both sides).
    FID is biased in N: compare groups and runs at equal sample counts only.
    """
    unknown = sorted(set(fid_kwargs) - set(_FID_OPTIONS))
    if unknown:
        raise BadOptionError(f"unknown fid_per_group options {unknown}; valid: {_FID_OPTIONS}")
    if "all" in fakes_by_group or "all" in reals_by_group:
        raise BadOptionError("'all' is the pooled entry; do not use it as a group name")
    opts = {"batch_size": 64, "num_subsets": 100, "subset_size": 1000, "seed": 0}
    opts.update({k: v for k, v in fid_kwargs.items() if k != "weights"})
    method = opts.pop("fid_method", "sqrtm")
    if inception_model is None:
        inception_model = inception_features(fid_kwargs.get("weights", "imagenet"))

    def features(images):
        if images is None:
            return None
        return extract_features(inception_model, images, opts["batch_size"])

    groups = list(fakes_by_group) + [g for g in reals_by_group if g not in fakes_by_group]
    results: dict[str, dict] = {}
    pooled_a, pooled_b = [], []
    for g in groups:
        fa, fb = features(fakes_by_group.get(g)), features(reals_by_group.get(g))
        if fa is not None and fb is not None:
            pooled_a.append(fa)
            pooled_b.append(fb)
        results[str(g)] = _fid_entry(fa, fb, opts, method)
    fa = np.concatenate(pooled_a) if pooled_a else None
    fb = np.concatenate(pooled_b) if pooled_b else None
    results["all"] = _fid_entry(fa, fb, opts, method)
    both = [str(g) for g in groups if g in fakes_by_group and g in reals_by_group]
    results["all"]["groups"] = both
    return results


def _fid_entry(fa, fb, opts: dict, method: str) -> dict:
    n_a = None if fa is None else len(fa)
    n_b = None if fb is None else len(fb)
    if fa is None or fb is None:
        side = "generated" if fa is None else "real"
        return {"skipped": f"no {side} images for this group", "n_a": n_a, "n_b": n_b}
    if n_a < 2 or n_b < 2:
        return {
            "skipped": f"FID/KID need >= 2 images on each side; got {n_a} generated, {n_b} real",
            "n_a": n_a,
            "n_b": n_b,
        }
    m = min(int(opts["subset_size"]), n_a, n_b)
    fid = fid_from_features(fa, fb, method=method)
    kid_mean, kid_std = kernel_inception_distance(fa, fb, opts["num_subsets"], m, opts["seed"])
    return {
        "fid": fid,
        "kid_mean": kid_mean,
        "kid_std": kid_std,
        "n_a": n_a,
        "n_b": n_b,
        "kid_subset_size": m,
    }


# ------------------------------------------------------------------------------ identity drift
def _summary(values: np.ndarray) -> dict:
    return {
        "mean": float(np.mean(values)),
        "std": float(np.std(values)),
        "median": float(np.median(values)),
    }


def _as_images(images) -> np.ndarray:
    images = np.asarray(images)
    return images[..., None] if images.ndim == 3 else images


def _pair_distances(lpips_model, a, b, ia, ib, batch_size: int, data_range: float):
    """LPIPS and SSIM of the pairs (a[ia[k]], b[ib[k]]), converted to [-1, 1] batch by batch."""
    lp, ss = [], []
    for i in range(0, len(ia), batch_size):
        x = _as_model_input(a[ia[i : i + batch_size]])
        y = _as_model_input(b[ib[i : i + batch_size]])
        if x.shape[-1] == 1:  # LPIPS nets take RGB: a grey face is three equal channels
            xr, yr = np.repeat(x, 3, axis=-1), np.repeat(y, 3, axis=-1)
        else:
            xr, yr = x, y
        lp.append(np.asarray(lpips_model(xr, yr), np.float64).reshape(-1))
        ss.extend(  # on x + 1 in [0, 2]: see identity_drift on why not on [-1, 1] directly
            structural_similarity(u + 1.0, v + 1.0, data_range=data_range, channel_axis=-1)
            for u, v in zip(x, y, strict=True)
        )
    return np.concatenate(lp) if lp else np.zeros(0), np.asarray(ss, np.float64)


def identity_drift(
    inputs,
    outputs,
    lpips_model,
    *,
    data_range: float = 2.0,
    batch_size: int = 16,
    baseline_pairs: int | None = None,
    seed: int = 0,
    per_image: bool = False,
) -> dict:
    """How far each translated face is from its own input, against two different people.
    Beyond the thesis.

    Answers: does the CycleGAN keep the person when it ages a face (spec 000 section 6 lists
    identity preservation as discussed but never measured)? For each pair (input_i, output_i):
    LPIPS (``lpips_model(x, y)`` -> [B], e.g. :class:`gan_repro.metrics.lpips.LPIPS`; grey faces
    are repeated to 3 channels) and SSIM (``skimage.metrics.structural_similarity`` with
    ``data_range`` and ``channel_axis=-1``, its default uniform 7x7 window, per channel, mean).

    SSIM is computed on ``x + 1`` in [0, 2], not on the [-1, 1] floats themselves: its luminance
    term ``(2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)`` assumes non-negative intensities, and
    with signed pixels two mid-grey windows of means +0.1 and -0.1 score about -1 instead of
    about 1 (and SSIM(x, -x) comes out positive). Shifted, the value equals the usual SSIM of
    the uint8 images with ``data_range=255`` (SSIM is invariant to scaling the pixels and the
    range together).

    The baseline is the same two numbers between *different* real input faces: ``baseline_pairs``
    (default N) random pairs (i, j), i != j, from ``np.random.default_rng(seed)``. Drift near the
    baseline means "as different as another person"; near 0 LPIPS / 1 SSIM, "the same face".
    ``share_lpips_below_baseline_median``: the share of outputs closer (LPIPS) to their own
    input than the median pair of different people (1.0 = all clearly the same person, about 0.5
    = no better than a stranger); ``share_ssim_above_baseline_median`` likewise for SSIM.

    ``inputs``, ``outputs``: [N,H,W,C] (or grey [N,H,W]) float [-1, 1] or uint8 (scaled to
    [-1, 1], so ``data_range`` stays 2.0), same shape. With N < 2 there is no baseline (None and
    a ``baseline_note``). ``per_image`` True adds the per-image lists.
    """
    inputs, outputs = _as_images(inputs), _as_images(outputs)
    if inputs.shape != outputs.shape or inputs.ndim != 4:
        raise BadOptionError(
            f"inputs and outputs must be [N,H,W,C] of one shape; got {inputs.shape}, "
            f"{outputs.shape}"
        )
    n = len(inputs)
    if n == 0:
        raise BadOptionError("identity_drift needs at least one pair")
    if int(batch_size) < 1:
        raise BadOptionError(f"batch_size must be >= 1; got {batch_size}")
    batch_size = int(batch_size)
    idx = np.arange(n)
    lp, ss = _pair_distances(lpips_model, inputs, outputs, idx, idx, batch_size, data_range)
    out = {
        "n": n,
        "lpips": _summary(lp),
        "ssim": _summary(ss),
        "data_range": float(data_range),
        "baseline": None,
        "share_lpips_below_baseline_median": None,
        "share_ssim_above_baseline_median": None,
    }
    if n < 2:
        out["baseline_note"] = "a baseline of different faces needs at least 2 inputs"
    else:
        pairs = int(baseline_pairs or n)
        rng = np.random.default_rng(seed)
        first = rng.integers(0, n, pairs)
        second = (first + rng.integers(1, n, pairs)) % n  # never the same face
        b_lp, b_ss = _pair_distances(
            lpips_model, inputs, inputs, first, second, batch_size, data_range
        )
        out["baseline"] = {
            "pairs": pairs,
            "seed": int(seed),
            "what": "LPIPS / SSIM between two different real input faces",
            "lpips": _summary(b_lp),
            "ssim": _summary(b_ss),
        }
        out["share_lpips_below_baseline_median"] = float(np.mean(lp < np.median(b_lp)))
        out["share_ssim_above_baseline_median"] = float(np.mean(ss > np.median(b_ss)))
    if per_image:
        out["per_image"] = {"lpips": lp.tolist(), "ssim": ss.tolist()}
    return out
