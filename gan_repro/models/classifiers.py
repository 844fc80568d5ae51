"""Pretrained-classifier and encoder networks of the SCoGAN thesis (Appendix B, spec 1.6-1.7).

Table B.1's MaxPool row (shape 64x64x64, stride 1) cannot be right; the authors' code
(spec 10.8) is the Keras MNIST-CNN: two *valid* 3x3 convs, a 2x2 max-pool with stride 2, then
flatten. That is what is built here.

:func:`digit_classifier_lenet5` is ours, not the thesis's: a second, differently built digit
classifier to *judge* joint agreement. SCoGAN-SL optimises the Table B.1 net's outputs (Eq 4.2),
so agreement measured with that same net would flatter SL.
"""

from __future__ import annotations

import keras

from gan_repro.registry import NETWORKS


@NETWORKS.register(
    "digit_classifier_b1",
    source="SCoGAN thesis Table B.1 (code layout, spec 10.8)",
)
def digit_classifier_b1(
    input_shape: tuple[int, int, int] = (32, 32, 3),
    classes: int = 10,
    output_activation: str = "softmax",
    name: str = "digit_classifier_b1",
) -> keras.Model:
    """Table B.1: Conv(32,3)+LReLU(0.3), Conv(64,3)+LReLU(0.3), MaxPool(2), Dropout(.25),
    FC(128)+LReLU(0.3), Dropout(.5), FC(classes)+softmax. Inputs in [-1, 1].

    Table B.2 (CelebA) is the same net at 128x128x3 with 13 sigmoid outputs:
    ``digit_classifier_b1((128, 128, 3), 13, "sigmoid")``.
    """
    x = keras.Input(input_shape, name="image")
    h = keras.layers.Conv2D(32, 3)(x)
    h = keras.layers.LeakyReLU(0.3)(h)
    h = keras.layers.Conv2D(64, 3)(h)
    h = keras.layers.LeakyReLU(0.3)(h)
    h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Dropout(0.25)(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dense(128)(h)
    h = keras.layers.LeakyReLU(0.3)(h)
    h = keras.layers.Dropout(0.5)(h)
    y = keras.layers.Dense(classes, activation=output_activation, dtype="float32")(h)
    return keras.Model(x, y, name=name)


@NETWORKS.register("cc_encoder_32", source="SCoGAN authors' Nets.encoder (spec 10.4)")
def cc_encoder_32(
    input_shape: tuple[int, int, int] = (32, 32, 3),
    noise_dim: int = 100,
    name: str = "cc_encoder_32",
) -> keras.Model:
    """Encoder F of the latent cycle consistency (Sec 4.3, L944). The thesis gives no
    architecture; this is the authors' ``Nets.encoder`` (spec 10.4): Conv(64,3,1), Conv(128,3,2),
    Conv(128,3,2), Conv(256,3,2), each 'same' + LeakyReLU(0.2), Flatten, Dropout(0.4),
    FC(noise_dim) linear."""
    x = keras.Input(input_shape, name="image")
    h = x
    for filters, stride in ((64, 1), (128, 2), (128, 2), (256, 2)):
        h = keras.layers.Conv2D(filters, 3, strides=stride, padding="same")(h)
        h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Dropout(0.4)(h)
    z = keras.layers.Dense(noise_dim, dtype="float32")(h)
    return keras.Model(x, z, name=name)


@NETWORKS.register(
    "digit_classifier_lenet5",
    source="ours, not in the thesis: LeNet-5 style judge for joint agreement (LeCun et al. 1998)",
)
def digit_classifier_lenet5(
    input_shape: tuple[int, int, int] = (32, 32, 3),
    classes: int = 10,
    name: str = "digit_classifier_lenet5",
) -> keras.Model:
    """An independent digit classifier (ours; spec 5.2 "beyond the thesis"): LeNet-5's layout
    (LeCun et al. 1998, 32x32 input) with ReLU and max-pooling: Conv(6,5) valid, MaxPool(2),
    Conv(16,5) valid, MaxPool(2), FC(120), FC(84), FC(classes)+softmax; 62,006 parameters at
    32x32x3 and 10 classes. No dropout and no layer in common with Table B.1 (two 3x3 convs,
    LeakyReLU, dropout), so its errors are not the ones the semantic loss was optimised against.
    Inputs in [-1, 1].
    """
    x = keras.Input(input_shape, name="image")
    h = x
    for filters in (6, 16):
        h = keras.layers.Conv2D(filters, 5, activation="relu")(h)
        h = keras.layers.MaxPooling2D(2)(h)
    h = keras.layers.Flatten()(h)
    for units in (120, 84):
        h = keras.layers.Dense(units, activation="relu")(h)
    y = keras.layers.Dense(classes, activation="softmax", dtype="float32")(h)
    return keras.Model(x, y, name=name)


@NETWORKS.register(
    "domain_judge_cnn",
    source="ours, not in the thesis: a two-domain judge of translations (photo vs anime)",
)
def domain_judge_cnn(
    input_shape: tuple[int, int, int] = (64, 64, 3),
    classes: int = 2,
    name: str = "domain_judge_cnn",
) -> keras.Model:
    """A small classifier that tells two image domains apart (ours; spec 003 section 6: the
    thesis has no metric): four 3x3 stride-2 convs (32, 64, 128, 256) with batch norm and
    LeakyReLU(0.2), global average pooling, a 128-unit ReLU layer (the features of the judge's
    FID/KID) and a softmax over ``classes``. 423,490 parameters at 64x64x3 and 2 classes
    (convs 896 + 18,496 + 73,856 + 295,168; BN 4 x (32 + 64 + 128 + 256) = 1,920;
    dense 32,896 + 258). Inputs in [-1, 1]."""
    x = keras.Input(input_shape, name="image")
    h = x
    for filters in (32, 64, 128, 256):
        h = keras.layers.Conv2D(filters, 3, strides=2, padding="same")(h)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    h = keras.layers.Dense(128, activation="relu", name="judge_features")(h)
    y = keras.layers.Dense(classes, activation="softmax", dtype="float32")(h)
    return keras.Model(x, y, name=name)
