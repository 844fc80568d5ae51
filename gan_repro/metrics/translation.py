"""How well an unpaired translator keeps the digit: the number the two MNIST <-> USPS CycleGAN
reports never measured (spec 002 section 6, spec 004 section 6; DESIGN.md "Metrics beyond the
theses").

One digit classifier per domain (LeNet-5 style, :func:`gan_repro.models.digit_classifier_lenet5`,
trained on that domain's real training split, its held-out accuracy recorded) judges every image
at 32 x 32 x 3 (:func:`classifier_input`: grey, resized with area averaging when shrinking, e.g.
the 128 x 128 outputs of Grignon & Joly's CycleGAN):

* **label preservation**: the USPS classifier's accuracy on G_AB(MNIST test) against the MNIST
  labels, and the MNIST classifier's on G_BA(USPS test) against the USPS labels (report 002's
  FCN-score analogy, L212: "a '5' has been well generated if [a classifier] recognize[s] that the
  number displayed is in fact a 5");
* **source only**: the MNIST classifier on USPS test and the USPS classifier on MNIST test, what a
  translation has to beat;
* **adaptation** (the literature's MNIST -> USPS protocol, CyCADA's pixel-level variant): a fresh
  classifier of the same recipe trained on G_AB(MNIST train) with the MNIST labels, tested on the
  real USPS test split;
* **FID and KID in the classifier's feature space** (its penultimate layer, 84 units): translated
  images against the real target test split, beside the untranslated source's distance.
"""

from __future__ import annotations

import cv2
import keras
import numpy as np

from gan_repro.errors import BadOptionError
from gan_repro.metrics.fid import fid_from_features, kernel_inception_distance

#: The judges' input (the LeNet-5 layout's 32 x 32, grey repeated in 3 channels).
CLASSIFIER_SIDE = 32


def classifier_input(images) -> np.ndarray:
    """Digits of any size and channel count (uint8, or float in [-1, 1]) -> uint8
    [N, 32, 32, 3]: channels averaged to grey, resized (area averaging when shrinking, bilinear
    when growing), the grey value in every channel."""
    x = np.asarray(images)
    if x.dtype != np.uint8:
        x = np.clip(np.rint((x.astype(np.float32) + 1.0) * 127.5), 0, 255)
    x = x.astype(np.float32)
    if x.ndim == 4:
        x = x.mean(axis=-1)
    if x.ndim != 3:
        raise BadOptionError(f"digit images must be [N,H,W] or [N,H,W,C]; got {x.shape}")
    side = CLASSIFIER_SIDE
    if x.shape[1:] != (side, side):
        shrink = x.shape[1] > side
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        x = np.stack([cv2.resize(img, (side, side), interpolation=interp) for img in x])
    x = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return np.repeat(x[..., None], 3, axis=-1)


def _scaled(images: np.ndarray) -> np.ndarray:
    return (classifier_input(images).astype(np.float32) - 127.5) / 127.5


def predict(classifier: keras.Model, images, batch_size: int = 512) -> np.ndarray:
    """Predicted classes of digit images (any size; see :func:`classifier_input`)."""
    x = _scaled(images)
    out = [
        np.asarray(classifier(x[i : i + batch_size], training=False)).argmax(-1)
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros((0,), np.int64)


def accuracy(classifier: keras.Model, images, labels) -> float:
    return float(np.mean(predict(classifier, images) == np.asarray(labels)))


def features(classifier: keras.Model, images, batch_size: int = 512) -> np.ndarray:
    """The classifier's penultimate-layer activations (the input of its last Dense)."""
    body = keras.Model(classifier.inputs, classifier.layers[-1].input)
    x = _scaled(images)
    out = [
        np.asarray(body(x[i : i + batch_size], training=False))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out).astype(np.float64)


def feature_distances(classifier, images, reference, seed: int = 0) -> dict:
    """FID and KID (mean, x 1) between ``images`` and ``reference`` in ``classifier``'s
    feature space (:func:`features`)."""
    f1, f2 = features(classifier, images), features(classifier, reference)
    kid, _ = kernel_inception_distance(f1, f2, num_subsets=20, subset_size=1000, seed=seed)
    return {"fid": fid_from_features(f1, f2), "kid": kid}
