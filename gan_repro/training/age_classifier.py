"""Training the age-group classifier that scores generated faces. Beyond the thesis.

The thesis has no classifier, no split and no numbers (spec 000 sections 4, 6 and 8 item 22);
this suite adds an age-group accuracy of generated faces (:mod:`gan_repro.metrics.face_aging`),
which needs a classifier trained on real UTKFace faces of the same variant (size, grey or
colour, age scheme) as the GAN it judges. The network is
:func:`gan_repro.models.age_classifier.age_group_classifier`.

It is an ordinary supervised fit, done like the SCoGAN digit classifier
(:mod:`gan_repro.training.classifier`): Keras ``fit`` with Adam(1e-3) and sparse categorical
cross-entropy on the same seeded, resumable stream of [-1, 1] batches. UTKFace's groups are
imbalanced (thesis4 on the full set: 3062 / 7344 / 2299 / 673), so by default every class is
weighted ``N / (K n_k)`` (n_k: its count in the train split), and the headline number is the
*balanced* accuracy (mean per-class recall) on a held-out split.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_repro.data.pipeline import shuffled_indices
from gan_repro.errors import BadOptionError, CorruptDataError
from gan_repro.io import atomic_save, read_json, write_json
from gan_repro.metrics.fid import _as_model_input, _feature_fn
from gan_repro.models.age_classifier import age_group_classifier
from gan_repro.training.classifier import load_classifier

#: Default pixel-noise augmentation (ours; see :func:`noisy_labelled_stream`): half of the
#: training faces get Gaussian noise of a standard deviation drawn from U(0, 0.5) in [-1, 1]
#: units, the range of the pixel noise the thesis's CGAN leaves on its faces (Figs 5.6-5.8,
#: the reason for the smoothing of Fig 5.7, L1155-1177).
NOISE_STD = 0.5
NOISE_PROB = 0.5
#: Share of training faces (noised or not) passed through the 5x5 median of Fig 5.7 (L1157-1177),
#: so that the filtered generated faces are not out of distribution either.
MEDIAN_PROB = 0.25


def median5(x: tf.Tensor) -> tf.Tensor:
    """The 5x5 median of every channel of float images [B,H,W,C] (borders reflected), in TF
    for the input stream; OpenCV's ``medianBlur(img, 5)`` of Fig 5.7 up to the border rule."""
    channels = x.shape[-1]
    padded = tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    patches = tf.image.extract_patches(padded, [1, 5, 5, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
    shape = tf.concat([tf.shape(patches)[:3], [25, channels]], 0)
    values = tf.transpose(tf.reshape(patches, shape), [0, 1, 2, 4, 3])  # [B,H,W,C,25]
    return tf.math.top_k(values, 13).values[..., -1]


# ---------------------------------------------------------------------------------------- split
def split_indices(
    n: int, val_fraction: float = 0.1, seed: int = 2020
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded train/validation split of ``range(n)``: (train_idx, val_idx), each sorted.

    The thesis trains on all of UTKFace and has no split (spec 000 section 4); this one is ours.
    It is a plain permutation (``np.random.default_rng(seed).permutation(n)``), not stratified:
    the first ``round(n * val_fraction)`` indices of the permutation (at least 1 when
    ``val_fraction > 0`` and ``n >= 2``) are the validation set, the rest the training set. The
    two are disjoint, cover ``range(n)``, and depend only on (n, val_fraction, seed).
    """
    n = int(n)
    if n < 1:
        raise BadOptionError(f"cannot split an empty dataset (n={n})")
    if not 0.0 <= float(val_fraction) < 1.0:
        raise BadOptionError(f"val_fraction={val_fraction} must be in [0, 1)")
    n_val = int(round(n * float(val_fraction)))
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    perm = np.random.default_rng(int(seed)).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


# -------------------------------------------------------------------------------------- metrics
def balanced_class_weights(labels: np.ndarray, classes: int) -> dict[int, float]:
    """``N / (K n_k)`` per class k (sklearn's "balanced"); 1.0 for a class absent from labels."""
    counts = np.bincount(np.asarray(labels, np.int64), minlength=classes)
    n = int(counts.sum())
    return {k: (n / (classes * int(c)) if c else 1.0) for k, c in enumerate(counts)}


def confusion_matrix(true: np.ndarray, pred: np.ndarray, classes: int) -> np.ndarray:
    """int64 [K, K]: row = true class, column = predicted class."""
    true = np.asarray(true, np.int64)
    pred = np.asarray(pred, np.int64)
    return np.bincount(true * classes + pred, minlength=classes * classes).reshape(classes, -1)


def classification_summary(true: np.ndarray, pred: np.ndarray, classes: int) -> dict:
    """Accuracy, per-class recall (None for a class with no examples), balanced accuracy
    (mean recall over the classes present) and the confusion matrix, as JSON-able types."""
    cm = confusion_matrix(true, pred, classes)
    support = cm.sum(axis=1)
    recall = [float(cm[k, k] / support[k]) if support[k] else None for k in range(classes)]
    present = [r for r in recall if r is not None]
    n = int(cm.sum())
    return {
        "accuracy": float(np.trace(cm) / n) if n else None,
        "balanced_accuracy": float(np.mean(present)) if present else None,
        "per_class_recall": recall,
        "support": support.tolist(),
        "confusion": cm.tolist(),
        "n": n,
    }


# ---------------------------------------------------------------------------------- prediction
def predict_group_probs(model, images, batch_size: int = 256) -> np.ndarray:
    """Class probabilities float32 [N, K] of ``model`` for uint8 (0..255, scaled with
    ``(x - 127.5) / 127.5``) or float [-1, 1] images [N,H,W,C] (or grey [N,H,W]).

    ``model``: a Keras model (run in inference mode through one cached ``tf.function``, as the
    FID feature extractor is) or any callable taking a float32 batch and returning probabilities
    [B, K]. Images are scaled batch by batch, so a large uint8 set is never held in float at once.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if int(batch_size) < 1:
        raise BadOptionError(f"batch_size must be >= 1; got {batch_size}")
    is_keras = isinstance(model, keras.Model)
    run = _feature_fn(model) if is_keras else model
    out = [
        np.asarray(run(tf.constant(_as_model_input(images[i : i + batch_size]))), np.float32)
        for i in range(0, len(images), int(batch_size))
    ]
    if out:
        return np.concatenate(out)
    return np.zeros((0, model.output_shape[-1] if is_keras else 0), np.float32)


def predict_groups(model, images, batch_size: int = 256) -> np.ndarray:
    """Predicted group index int64 [N] (argmax of :func:`predict_group_probs`)."""
    return predict_group_probs(model, images, batch_size).argmax(axis=-1).astype(np.int64)


# ------------------------------------------------------------------------------------ training
def add_pixel_noise(images, std, seed) -> np.ndarray:
    """``images`` (uint8 or float [-1, 1]) plus i.i.d. Gaussian pixel noise of standard deviation
    ``std`` ([-1, 1] units; a scalar or one value per image), clipped to [-1, 1]; float32.
    Real faces "with the generators' noise" for judging the classifier (ours)."""
    x = _as_model_input(images)
    std = np.broadcast_to(np.asarray(std, np.float32).reshape(-1, 1, 1, 1), (len(x), 1, 1, 1))
    noise = np.random.default_rng(seed).standard_normal(x.shape).astype(np.float32)
    return np.clip(x + std * noise, -1.0, 1.0)


def noisy_labelled_stream(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    seed: int,
    noise_std: float = 0.0,
    noise_prob: float = 0.0,
    median_prob: float = 0.0,
) -> tf.data.Dataset:
    """Infinite seeded batches ``(x in [-1, 1], y)``, a fresh permutation each epoch (the stream
    of :mod:`gan_repro.training.classifier`), with pixel-noise augmentation (ours).

    With probability ``noise_prob`` a face gets i.i.d. Gaussian noise of standard deviation
    ``s ~ U(0, noise_std)`` ([-1, 1] units), then is clipped to [-1, 1]; then, with probability
    ``median_prob``, it goes through the 5x5 median of Fig 5.7 (:func:`median5`). Every draw is
    a stateless function of ``(seed, batch number)``. All zero: the clean stream.
    """
    x = tf.constant(images)
    y = tf.constant(labels.astype(np.int64))
    noisy = float(noise_std) > 0 and float(noise_prob) > 0
    smoothed = float(median_prob) > 0

    def fetch(step, i):
        xb = (tf.cast(tf.gather(x, i), tf.float32) - 127.5) / 127.5
        if noisy:
            key = lambda k: tf.stack([tf.constant(int(seed), tf.int64), 3 * step + k])  # noqa: E731
            per_image = tf.stack([tf.shape(xb)[0], 1, 1, 1])
            on = tf.random.stateless_uniform(per_image, key(0)) < float(noise_prob)
            std = float(noise_std) * tf.random.stateless_uniform(per_image, key(1))
            noise = tf.random.stateless_normal(tf.shape(xb), key(2))
            xb = tf.clip_by_value(xb + tf.where(on, std, 0.0) * noise, -1.0, 1.0)
        if smoothed:
            key = tf.stack([tf.constant(int(seed) + 1, tf.int64), step])
            pick = tf.random.stateless_uniform([tf.shape(xb)[0], 1, 1, 1], key) < median_prob
            xb = tf.where(pick, median5(xb), xb)
        return xb, tf.gather(y, i)

    batches = shuffled_indices(len(images), seed).batch(batch_size, drop_remainder=True)
    return (
        tf.data.Dataset.zip((tf.data.Dataset.counter(0, dtype=tf.int64), batches))
        .map(fetch, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def _check_data(images: np.ndarray, labels: np.ndarray, classes: int) -> tuple:
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.dtype != np.uint8 or images.shape[-1] not in (1, 3):
        raise BadOptionError(
            f"images must be uint8 [N,H,W,C] with C = 1 or 3; got {images.dtype}"
            f"{list(images.shape)}"
        )
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if len(labels) != len(images):
        raise CorruptDataError(f"{len(images)} images but {len(labels)} labels")
    if int(classes) < 2:
        raise BadOptionError(f"classes={classes} must be >= 2")
    if len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise BadOptionError(
            f"labels must lie in 0..{classes - 1} (classes={classes}); "
            f"got {labels.min()}..{labels.max()}"
        )
    return images, labels


def train_age_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    classes: int,
    epochs: int,
    steps_per_epoch: int | None = None,
    batch_size: int = 64,
    val_fraction: float = 0.1,
    seed: int = 2020,
    class_weight: str | None = "balanced",
    verbose: int = 0,
    train_eval_limit: int | None = 2000,
    noise_std: float = NOISE_STD,
    noise_prob: float = NOISE_PROB,
    median_prob: float = MEDIAN_PROB,
) -> tuple[keras.Model, dict]:
    """Fit :func:`~gan_repro.models.age_classifier.age_group_classifier` on uint8 faces.

    ``images`` uint8 [N,H,W,C] (e.g. ``load_utkface(...).images``), ``labels`` the group indices
    [N]. The data are split with :func:`split_indices` (``val_fraction``, ``seed``); training
    draws batches of the train split from the seeded stream of
    :mod:`gan_repro.training.classifier` (a fresh permutation each epoch), ``steps_per_epoch``
    defaulting to ``ceil(N_train / batch_size)``. ``class_weight``: ``"balanced"`` (``N/(K n_k)``
    on the train split) or None.

    Returns the model and a JSON-able metrics dict: ``train_accuracy`` and ``val_accuracy``
    (inference mode, no augmentation), ``val_balanced_accuracy``, ``val_per_class_recall``,
    ``val_confusion`` (rows true, columns predicted), ``n_train``, ``n_val``, ``chance``
    (``{"uniform": 1/K, "majority": share of the largest class in the val split}``),
    ``class_weights``, ``history`` (per-epoch loss/accuracy of ``fit``, class-weighted and with
    augmentation and dropout on) and the settings. Val entries are None when there is no val split.
    ``train_eval_limit``: the train accuracies are measured on at most that many training faces
    (a seeded subsample; None: all), a diagnostic that need not cost a pass over the whole split.
    """
    if class_weight not in ("balanced", None):
        raise BadOptionError(f"class_weight={class_weight!r} must be 'balanced' or None")
    if int(epochs) < 1 or int(batch_size) < 1:
        raise BadOptionError(f"epochs={epochs} and batch_size={batch_size} must be >= 1")
    images, labels = _check_data(images, labels, classes)
    classes, batch_size = int(classes), int(batch_size)
    train_idx, val_idx = split_indices(len(images), val_fraction, seed)
    x_train, y_train = images[train_idx], labels[train_idx]
    steps = int(steps_per_epoch or math.ceil(len(train_idx) / batch_size))

    keras.utils.set_random_seed(seed)
    model = age_group_classifier(images.shape[1:], classes, seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    weights = balanced_class_weights(y_train, classes) if class_weight == "balanced" else None
    hist = model.fit(
        noisy_labelled_stream(
            x_train, y_train, batch_size, seed, noise_std, noise_prob, median_prob
        ),
        epochs=int(epochs),
        steps_per_epoch=steps,
        class_weight=weights,
        verbose=verbose,
        shuffle=False,  # the stream is already a fresh permutation each epoch
    )
    check = np.arange(len(x_train))
    if train_eval_limit is not None and len(check) > int(train_eval_limit):
        check = np.sort(np.random.default_rng(seed).choice(check, int(train_eval_limit), False))
    train = classification_summary(y_train[check], predict_groups(model, x_train[check]), classes)
    metrics = {
        "train_accuracy": train["accuracy"],
        "train_balanced_accuracy": train["balanced_accuracy"],
        "val_accuracy": None,
        "val_balanced_accuracy": None,
        "val_per_class_recall": None,
        "val_confusion": None,
        "n_train": len(train_idx),
        "n_val": len(val_idx),
        "chance": {"uniform": 1.0 / classes, "majority": None},
        "class_weights": None if weights is None else [weights[k] for k in range(classes)],
        "history": {k: [float(v) for v in vs] for k, vs in hist.history.items()},
        "settings": {
            "classes": classes,
            "image_shape": list(images.shape[1:]),
            "epochs": int(epochs),
            "steps_per_epoch": steps,
            "batch_size": batch_size,
            "val_fraction": float(val_fraction),
            "seed": int(seed),
            "class_weight": class_weight,
            "noise_std": float(noise_std),
            "noise_prob": float(noise_prob),
            "median_prob": float(median_prob),
            "optimizer": "Adam(1e-3)",
            "train_eval_faces": len(check),
        },
    }
    if len(val_idx):
        y_val = labels[val_idx]
        val = classification_summary(y_val, predict_groups(model, images[val_idx]), classes)
        metrics.update(
            val_accuracy=val["accuracy"],
            val_balanced_accuracy=val["balanced_accuracy"],
            val_per_class_recall=val["per_class_recall"],
            val_confusion=val["confusion"],
        )
        share = np.bincount(y_val, minlength=classes) / len(y_val)
        metrics["chance"]["majority"] = float(share.max())
    return model, metrics


# --------------------------------------------------------------------------------- save / load
def save_age_classifier(model: keras.Model, metrics: dict, path: str | Path) -> Path:
    """Save ``model`` to ``path`` (``.keras``) and ``metrics`` to ``path.with_suffix('.json')``.

    Both are written to a temporary name and renamed, so a crash never leaves half a file.
    Returns the model path.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise BadOptionError(f"{path}: the classifier file must end in .keras")
    atomic_save(path, model.save)  # the temporary file keeps the .keras suffix Keras needs
    write_json(path.with_suffix(".json"), metrics)
    return path


def load_age_classifier(path: str | Path) -> keras.Model:
    """Load a classifier saved by :func:`save_age_classifier`, frozen (``trainable = False``)."""
    return load_classifier(
        path,
        "age classifier",
        "train it with the experiment (train_age_classifier + save_age_classifier on the faces "
        "of the same variant) or pass the path of a saved .keras age classifier",
    )


def load_age_classifier_metrics(path: str | Path) -> dict | None:
    """The metrics saved beside a classifier (``path.with_suffix('.json')``), or None."""
    meta = Path(path).with_suffix(".json")
    return read_json(meta) if meta.is_file() else None
