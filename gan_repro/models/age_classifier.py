"""Age-group classifier for judging generated faces. OUR addition, not a network of the thesis.

"Using GANs for Face Aging" judged its samples by eye only (spec 000 sections 0 and 6; section 8
item 22 asks a reproduction to define its own numbers and mark them as additions). This suite
measures how often a generated or translated face is *recognised* as the age group it was
conditioned on or translated to (:mod:`gan_repro.metrics.face_aging`), with a classifier trained
on real UTKFace faces (:mod:`gan_repro.training.age_classifier`). Its architecture is ours:

* a VGG-like stack of ``Conv3x3-BN-ReLU-MaxPool2`` blocks of 32, 64, 128 and 256 channels, each
  pooling while the feature map stays >= :data:`MIN_SIDE` px (32 -> 4, 100 -> 6), then
  GlobalAveragePooling, Dropout(0.3) and a softmax Dense layer;
* a cheap stem for large inputs: a stride-2 ``Conv(16)-BN-ReLU`` for every halving needed to
  bring the side to <= :data:`STEM_SIDE` (256 -> 128), so the 256x256 CycleGAN faces cost about
  what the 100x100 ones do;
* light augmentation inside the model, active only in training (Keras preprocessing layers
  are the identity at inference): a horizontal flip (label preserving for the aligned UTKFace
  crops) and a random translation of up to 5 % of the side (reflect fill).

Inputs are float images in [-1, 1] (the generators' tanh range, and ``(x - 127.5) / 127.5`` of
the real uint8 faces): 100x100x1 grey (DCGAN/CGAN), 32x32x3 (CDCGAN), 256x256x3 (CycleGAN), or
any other size >= 8. Regularisation: BN, dropout, the augmentation, and global pooling instead of
a wide dense layer. Parameters with 4 classes (BN moving statistics included: 960, or 992 with
the 256 stem): 32x32x3 390,884; 100x100x1 390,308; 256x256x3 395,124.
"""

from __future__ import annotations

import keras

from gan_repro.errors import BadOptionError
from gan_repro.registry import NETWORKS

#: Channels of the main blocks.
BLOCK_FILTERS = (32, 64, 128, 256)
#: A block pools (halves the side) only while the result stays at least this many pixels.
MIN_SIDE = 4
#: Inputs larger than this are halved by stride-2 stem convs first.
STEM_SIDE = 128
STEM_FILTERS = 16
#: BatchNormalization momentum: 0.9 (not Keras' 0.99), so the moving statistics used at inference
#: settle within the few hundred steps a small UTKFace selection gives.
BN_MOMENTUM = 0.9


def _conv_bn_relu(h, filters: int, strides: int, name: str):
    h = keras.layers.Conv2D(
        filters, 3, strides=strides, padding="same", use_bias=False, name=f"{name}_conv"
    )(h)
    h = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(h)
    return keras.layers.ReLU(name=f"{name}_relu")(h)


@NETWORKS.register(
    "age_group_classifier",
    source="Age-group classifier of this suite (face-aging evaluation, not in the thesis)",
)
def age_group_classifier(
    image_shape: tuple[int, int, int] = (100, 100, 1),
    classes: int = 4,
    name: str = "age_group_classifier",
    *,
    dropout: float = 0.3,
    translate: float = 0.05,
    augment: bool = True,
    seed: int | None = None,
) -> keras.Model:
    """The age-group CNN (ours, beyond the thesis; see the module docstring).

    ``image_shape`` (H, W, C) with C = 1 or 3 and H, W >= 8; inputs float in [-1, 1].
    Output: softmax probabilities [B, classes] (float32 under any precision policy).
    ``augment`` False drops the flip/translation layers; ``seed`` seeds them.
    """
    if len(image_shape) != 3 or image_shape[-1] not in (1, 3):
        raise BadOptionError(f"image_shape={image_shape!r} must be (H, W, C) with C = 1 or 3")
    if min(image_shape[:2]) < 8:
        raise BadOptionError(f"image_shape={image_shape!r}: the classifier needs H, W >= 8")
    if int(classes) < 2:
        raise BadOptionError(f"classes={classes} must be >= 2")
    x = keras.Input(tuple(image_shape), name="image")
    h = x
    if augment:
        h = keras.layers.RandomFlip("horizontal", seed=seed, name="aug_flip")(h)
        h = keras.layers.RandomTranslation(
            translate,
            translate,
            fill_mode="reflect",
            seed=None if seed is None else seed + 1,  # not the flip's stream
            name="aug_translate",
        )(h)
    side = min(image_shape[:2])
    stem = 0
    while side > STEM_SIDE:
        h = _conv_bn_relu(h, STEM_FILTERS, 2, f"stem{stem}")
        side = -(-side // 2)
        stem += 1
    for k, filters in enumerate(BLOCK_FILTERS):
        h = _conv_bn_relu(h, filters, 1, f"block{k}")
        if side // 2 >= MIN_SIDE:
            h = keras.layers.MaxPooling2D(2, name=f"block{k}_pool")(h)
            side //= 2
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    h = keras.layers.Dropout(dropout, name="dropout")(h)
    y = keras.layers.Dense(int(classes), activation="softmax", dtype="float32", name="probs")(h)
    return keras.Model(x, y, name=name)
