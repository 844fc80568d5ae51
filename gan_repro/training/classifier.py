"""Training the pretrained digit classifier of SCoGAN Appendix B (Table B.1).

The thesis trains it "on a mixed dataset containing both MNIST and SVHN images", 10 epochs,
about 92% accuracy (L1069); the authors' code uses Adam (lr 1e-3), sparse categorical
cross-entropy, batch 128 and 1000 steps per epoch (spec 10.8). It is an ordinary supervised
fit, so Keras' ``Model.fit`` is the right tool; the GAN trainer is for adversarial games.

The same trainer fits any registered digit classifier (``network``, a name in
:data:`gan_repro.registry.NETWORKS`): the evaluation trains an *independent* judge for joint
agreement (``digit_classifier_lenet5``, ours) on other data and with another seed than the
Table B.1 net the semantic loss is optimised against (Eq 4.2).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import gan_repro.models  # noqa: F401  (fills NETWORKS)
from gan_repro.data.pipeline import shuffled_indices
from gan_repro.errors import WeightsMissingError
from gan_repro.registry import NETWORKS


def _labelled_stream(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int):
    x = tf.constant(images)
    y = tf.constant(labels.astype(np.int64))

    def fetch(i):
        return (tf.cast(tf.gather(x, i), tf.float32) - 127.5) / 127.5, tf.gather(y, i)

    return (
        shuffled_indices(len(images), seed)
        .batch(batch_size, drop_remainder=True)
        .map(fetch, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def train_digit_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 10,
    steps_per_epoch: int = 1000,
    batch_size: int = 128,
    seed: int = 2020,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    verbose: int = 1,
    network: str = "digit_classifier_b1",
    learning_rate: float = 1e-3,
) -> tuple[keras.Model, dict]:
    """Fit the registered classifier ``network`` (default Table B.1) on uint8 RGB 32x32 images,
    scaled to [-1, 1] like the generators' output. ``seed`` sets the initial weights, dropout
    and the batch order. Adam(``learning_rate``; the authors' 1e-3, spec 10.8), sparse
    categorical cross-entropy.

    Returns the model and ``{"train_accuracy", "val_accuracy"?}`` after the last epoch.
    """
    keras.utils.set_random_seed(seed)
    model = NETWORKS.build(network, classes=int(labels.max()) + 1)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    hist = model.fit(
        _labelled_stream(images, labels, batch_size, seed),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        verbose=verbose,
        shuffle=False,  # the stream is already a fresh permutation each epoch
    )
    metrics = {"train_accuracy": float(hist.history["accuracy"][-1])}
    if validation is not None:
        metrics["val_accuracy"] = accuracy(model, *validation)
    return model, metrics


def predict_probs(model: keras.Model, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Softmax outputs for uint8 images [N, 32, 32, 3]."""
    out = []
    for i in range(0, len(images), batch_size):
        x = (images[i : i + batch_size].astype(np.float32) - 127.5) / 127.5
        out.append(np.asarray(model(x, training=False)))
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def accuracy(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predict_probs(model, images).argmax(-1) == labels))


def load_classifier(path: str | Path, what: str = "classifier", fix: str | None = None):
    """Load a saved ``.keras`` classifier, frozen; a missing file is named with the fix."""
    path = Path(path)
    if not path.is_file():
        fix = fix or (
            "pass the path of a saved Table B.1 classifier (.keras), or leave the option out "
            "to train one first"
        )
        raise WeightsMissingError(f"{what} file {path} does not exist; {fix}")
    model = keras.models.load_model(path, compile=False)
    model.trainable = False
    return model
