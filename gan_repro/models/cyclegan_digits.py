"""The MNIST <-> USPS CycleGAN networks of two student reports (specs 002 and 004).

Neither report prints a layer table, so every width below is inferred; the builders name
their choices and the spec sections they come from.

=============================================  ==========  ==========  =========================
builder                                        total       trainable   source
=============================================  ==========  ==========  =========================
:func:`mnist_usps_unet_generator` (contrib)    1,545,425   1,545,425   spec 002 s1.2 (Keras-GAN)
:func:`mnist_usps_unet_generator` (instance)   1,546,819   1,546,819   spec 002 s1.2, Zhu's IN
:func:`mnist_usps_patch_discriminator` (c.)    2,764,743   2,764,743   spec 002 s1.2 (Keras-GAN)
:func:`mnist_usps_patch_discriminator` (i.)    2,766,529   2,766,529   spec 002 s1.2, Zhu's IN
:func:`mnist_usps_resblock_generator_28`         141,633     141,249   spec 004 s1.1 (L171)
:func:`mnist_usps_conv_discriminator_28`         259,745     259,297   spec 004 s1.1 (L169)
=============================================  ==========  ==========  =========================

(3-channel 002 nets, 1-channel 004 nets; no count depends on the image size.)

**Grignon & Joly 2020 (spec 002).** The report fixes only a 128x128x3 input, two G, two D, an
"encoder / transformer / decoder" G built with upsampling layers and a "standard convolutional"
D (L166-168). Its tutorial (rubikscode "Implementing CycleGAN Using Python") most probably
renames the blocks of eriklindernoren/Keras-GAN ``cyclegan/cyclegan.py`` (commit 22a184e2), so
spec 002 section 1.2 takes that file's U-Net G (``gf = 32``) and PatchGAN D (``df = 64``, an
8x8 patch map at 128) as the probable architecture; that is what these builders are. Keras-GAN
normalises with keras_contrib's ``InstanceNormalization()`` whose default ``axis=None``
normalises each image over H, W and C together with one scalar gamma and beta
(:class:`~gan_repro.models.layers.WholeImageNormalization`, ``norm="contrib"``, the default);
``norm="instance"`` is per-channel instance norm as in Zhu et al.'s CycleGAN
(``GroupNormalization(groups=-1)``, as in :mod:`gan_repro.models.face_aging`). Both put the norm
*after* the activation, as Keras-GAN does. Keras default initialisers (Glorot-uniform kernels,
zero biases), as in Keras-GAN.

**Kasmi & Thimonier 2020 (spec 004).** L169/L171 give kernels, strides and paddings but no
widths. Spec 004 section 1.1 matches the layer pattern to the UofT CSC321/CSC413 CycleGAN
assignment and suggests its widths: G 32 -> 64 -> Res64 -> 32 -> C, D 32 -> 64 -> 128 -> 1.
PyTorch's padding p is ``ZeroPadding2D(p)`` + a 'valid' conv here. Inferred: the widths; that
convs followed by BN carry no bias (the CSC321 ``conv`` helper's ``bias=False``); BN after every
conv but the last, D's first layer included (the text's "between each convolutional layer"; DCGAN
practice would omit it there); a residual block ``ReLU(x + BN(conv(x)))`` (CSC321's
``ResnetBlock`` with the ReLU after the sum); "upsample conv" = ``UpSampling2D(2)`` (nearest) +
stride-1 conv; Keras default initialisers rather than PyTorch's. The p3 / p0 paddings of the two
upsampling convs map 28 -> 14 -> 7 -> 16 -> 28, i.e. n -> n for n divisible by 4. D ends in a
1x1 logit only for inputs of 25..32 px, so USPS must be resized (to 28, like MNIST).

The last conv of each network is float32 so that images and scores stay float32 under a
mixed-precision policy.
"""

from __future__ import annotations

import keras

from gan_repro.errors import BadOptionError, check_choice
from gan_repro.models.layers import WholeImageNormalization
from gan_repro.registry import NETWORKS

KERAS_GAN_IMAGE_SHAPE = (128, 128, 3)
DIGITS_28_IMAGE_SHAPE = (28, 28, 1)
#: ``"contrib"``: keras_contrib ``InstanceNormalization()`` (axis=None) of Keras-GAN;
#: ``"instance"``: per-channel instance norm (Zhu et al.).
NORMS = ("contrib", "instance")
#: PyTorch's BatchNorm2d defaults (momentum 0.1 there = 0.9 here, eps 1e-5), for the CSC321 nets.
TORCH_BN_MOMENTUM = 0.9
TORCH_BN_EPSILON = 1e-5


def _norm(norm: str) -> keras.layers.Layer:
    if norm == "contrib":
        return WholeImageNormalization(epsilon=1e-3)
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-3)


def _check_multiple(image_shape, factor: int, what: str) -> None:
    height, width = image_shape[:2]
    if height % factor or width % factor:
        raise BadOptionError(
            f"image_shape={tuple(image_shape)} does not suit the {what}: height and width must "
            f"be multiples of {factor}"
        )


def _torch_bn(sync_bn: bool) -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(
        momentum=TORCH_BN_MOMENTUM, epsilon=TORCH_BN_EPSILON, synchronized=sync_bn
    )


# --------------------------------------------------------------------------------------------
# Spec 002 section 1.2: eriklindernoren/Keras-GAN cyclegan/cyclegan.py (inferred lineage)
# --------------------------------------------------------------------------------------------


@NETWORKS.register(
    "mnist_usps_unet_generator",
    source="Grignon & Joly 2020 (spec 002 §1.2, inferred Keras-GAN lineage): U-Net G, gf=32",
)
def mnist_usps_unet_generator(
    image_shape: tuple[int, int, int] = KERAS_GAN_IMAGE_SHAPE,
    gf: int = 32,
    norm: str = "contrib",
    name: str = "mnist_usps_unet_generator",
) -> keras.Model:
    """Keras-GAN's U-Net generator (spec 002 section 1.2 table, rows "G enc1" .. "G out"):
    [B, H, W, C] in [-1, 1] -> [B, H, W, C] in [-1, 1]; 1,545,411 conv parameters at gf 32 and
    C 3, plus 7 norm layers: 1,545,425 with ``norm="contrib"`` (2 each), 1,546,819 with
    ``norm="instance"`` (2 per channel).

    Down (x4, f = gf, 2gf, 4gf, 8gf): Conv(f, 4, s2, same) -> LeakyReLU(0.2) -> norm.
    Up (x3, f = 4gf, 2gf, gf): UpSampling2D(2) -> Conv(f, 4, s1, same, relu) -> norm ->
    Concatenate([up, matching down]). Out: UpSampling2D(2) -> Conv(C, 4, s1, same, tanh).
    At 128: 64, 32, 16, 8 going down, 16, 32, 64, 128 going up.

    The report calls the blocks "encoder / transformer / decoder" (L168); the mapping to this
    U-Net is inferred, not stated. H and W must be multiples of 16 (four stride-2 convs).
    """
    check_choice("norm", norm, NORMS)
    _check_multiple(image_shape, 16, "U-Net generator (four stride-2 convs, four 2x upsamplings)")
    x = keras.Input(image_shape, name="image")
    downs = []
    h = x
    for i, filters in enumerate((gf, 2 * gf, 4 * gf, 8 * gf), start=1):
        h = keras.layers.Conv2D(filters, 4, strides=2, padding="same", name=f"down{i}_conv")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"down{i}_lrelu")(h)
        h = _norm(norm)(h)
        downs.append(h)
    for i, (filters, skip) in enumerate(
        zip((4 * gf, 2 * gf, gf), downs[-2::-1], strict=True), start=1
    ):
        h = keras.layers.UpSampling2D(2, name=f"up{i}_upsample")(h)
        h = keras.layers.Conv2D(filters, 4, padding="same", activation="relu", name=f"up{i}_conv")(
            h
        )
        h = _norm(norm)(h)
        h = keras.layers.Concatenate(name=f"up{i}_skip")([h, skip])
    h = keras.layers.UpSampling2D(2, name="out_upsample")(h)
    image = keras.layers.Conv2D(
        image_shape[2], 4, padding="same", activation="tanh", dtype="float32", name="translated"
    )(h)
    return keras.Model(x, image, name=name)


@NETWORKS.register(
    "mnist_usps_patch_discriminator",
    source="Grignon & Joly 2020 (spec 002 §1.2, inferred Keras-GAN lineage): PatchGAN D, df=64",
)
def mnist_usps_patch_discriminator(
    image_shape: tuple[int, int, int] = KERAS_GAN_IMAGE_SHAPE,
    df: int = 64,
    norm: str = "contrib",
    name: str = "mnist_usps_patch_discriminator",
) -> keras.Model:
    """Keras-GAN's PatchGAN discriminator (spec 002 section 1.2 table, rows "D1" .. "D out"):
    [B, H, W, C] -> a [B, H/16, W/16, 1] map of raw scores (8x8 at 128, 2x2 at 32), trained with
    MSE against ones / zeros (LSGAN). 2,764,737 conv parameters at df 64 and C 3, plus 3 norm
    layers: 2,764,743 with ``norm="contrib"``, 2,766,529 with ``norm="instance"``.

    Conv(df, 4, s2, same) -> LeakyReLU(0.2) (no norm); then Conv(f, 4, s2, same) ->
    LeakyReLU(0.2) -> norm for f = 2df, 4df, 8df; then Conv(1, 4, s1, same), linear.

    The report only says "a standard convolutional neural network" (L168). H and W must be
    multiples of 16, so that the patch map is exactly H/16 x W/16 (Keras-GAN's ``disc_patch``).
    """
    check_choice("norm", norm, NORMS)
    _check_multiple(image_shape, 16, "PatchGAN discriminator (four stride-2 convs)")
    x = keras.Input(image_shape, name="image")
    h = x
    for i, filters in enumerate((df, 2 * df, 4 * df, 8 * df), start=1):
        h = keras.layers.Conv2D(filters, 4, strides=2, padding="same", name=f"d{i}_conv")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"d{i}_lrelu")(h)
        if i > 1:
            h = _norm(norm)(h)
    patches = keras.layers.Conv2D(1, 4, padding="same", dtype="float32", name="patch_scores")(h)
    return keras.Model(x, patches, name=name)


# --------------------------------------------------------------------------------------------
# Spec 004 section 1.1: Kasmi & Thimonier L169-171, CSC321-style 28x28 nets (inferred widths)
# --------------------------------------------------------------------------------------------


@NETWORKS.register(
    "mnist_usps_resblock_generator_28",
    source="Kasmi & Thimonier 2020 L171 (spec 004 §1.1): conv-conv-res-upconv-upconv G, 28x28",
)
def mnist_usps_resblock_generator_28(
    image_shape: tuple[int, int, int] = DIGITS_28_IMAGE_SHAPE,
    widths: tuple[int, int] = (32, 64),
    sync_bn: bool = True,
    name: str = "mnist_usps_resblock_generator_28",
) -> keras.Model:
    """Kasmi & Thimonier's generator (L171; spec 004 section 1.1): [B, H, W, C] in [-1, 1] ->
    [B, H, W, C] in [-1, 1]; 141,633 parameters (141,249 trainable, 384 BN moving statistics)
    at 28x28x1 with the CSC321 widths (32, 64).

    Spatial sizes at 28 (PyTorch padding p = ``ZeroPadding2D(p)`` + 'valid' conv):

    * ``down1``: pad 2, Conv(w0, 5, s2) -> BN -> ReLU: 28 -> 14
    * ``down2``: pad 2, Conv(w1, 5, s2) -> BN -> ReLU: 14 -> 7
    * ``res``: ReLU(x + BN(pad 1, Conv(w1, 3, s1)(x))): 7 -> 7 (CSC321 ``ResnetBlock``)
    * ``up1``: UpSampling2D(2), pad 3, Conv(w0, 5, s1) -> BN -> ReLU: 7 -> 14 -> 16
    * ``up2``: UpSampling2D(2), Conv(C, 5, s1) (pad 0, bias) -> tanh: 16 -> 32 -> 28

    Convs followed by BN have no bias (BN's beta replaces it; CSC321's ``bias=False``). BN is
    Keras' with PyTorch's defaults: momentum 0.9 (PyTorch's 0.1) and epsilon 1e-5.
    ``sync_bn`` makes the batch statistics global under a multi-replica strategy (no change on
    one device or in the counts). Widths, bias and BN placement are inferred (module docstring).
    H and W must be multiples of 4: only then does the p3 / p0 pair return the input size.
    """
    height, width, channels = image_shape
    if height % 4 or width % 4:
        raise BadOptionError(
            f"image_shape={tuple(image_shape)} does not suit the 28x28 residual generator: "
            "height and width must be multiples of 4, the only sizes n that its padding 3 / "
            "padding 0 upsampling convs map back to n (n -> n/2 -> n/4 -> n/2+2 -> n); "
            "e.g. 28 or 32"
        )
    w0, w1 = widths
    x = keras.Input(image_shape, name="image")
    h = x
    for i, filters in enumerate((w0, w1), start=1):
        h = keras.layers.ZeroPadding2D(2, name=f"down{i}_pad")(h)
        h = keras.layers.Conv2D(filters, 5, strides=2, use_bias=False, name=f"down{i}_conv")(h)
        h = _torch_bn(sync_bn)(h)
        h = keras.layers.Activation("relu", name=f"down{i}_relu")(h)
    g = keras.layers.ZeroPadding2D(1, name="res_pad")(h)
    g = keras.layers.Conv2D(w1, 3, use_bias=False, name="res_conv")(g)
    g = _torch_bn(sync_bn)(g)
    h = keras.layers.Add(name="res_add")([h, g])
    h = keras.layers.Activation("relu", name="res_relu")(h)
    h = keras.layers.UpSampling2D(2, name="up1_upsample")(h)
    h = keras.layers.ZeroPadding2D(3, name="up1_pad")(h)
    h = keras.layers.Conv2D(w0, 5, use_bias=False, name="up1_conv")(h)
    h = _torch_bn(sync_bn)(h)
    h = keras.layers.Activation("relu", name="up1_relu")(h)
    h = keras.layers.UpSampling2D(2, name="up2_upsample")(h)
    h = keras.layers.Conv2D(channels, 5, dtype="float32", name="up2_conv")(h)
    image = keras.layers.Activation("tanh", dtype="float32", name="translated")(h)
    return keras.Model(x, image, name=name)


@NETWORKS.register(
    "mnist_usps_conv_discriminator_28",
    source="Kasmi & Thimonier 2020 L169 (spec 004 §1.1): 3 conv k5 s2 + conv k4 -> 1 logit",
)
def mnist_usps_conv_discriminator_28(
    image_shape: tuple[int, int, int] = DIGITS_28_IMAGE_SHAPE,
    widths: tuple[int, int, int] = (32, 64, 128),
    sync_bn: bool = True,
    name: str = "mnist_usps_conv_discriminator_28",
) -> keras.Model:
    """Kasmi & Thimonier's discriminator (L169; spec 004 section 1.1): [B, H, W, C] -> one
    raw score [B, 1, 1, 1]; 259,745 parameters (259,297 trainable, 448 BN moving statistics) at
    28x28x1 with the CSC321 widths (32, 64, 128).

    Three times pad 2, Conv(w, 5, s2, no bias) -> BN -> ReLU (28 -> 14 -> 7 -> 4), then
    Conv(1, 4, s1, valid) with a bias, linear: a logit. The report leaves the output activation
    open (spec 004 section 1.1): the loss applies the sigmoid (BCE, eq. 5) or uses it as is
    (LSGAN MSE). BN as in :func:`mnist_usps_resblock_generator_28` (momentum 0.9, epsilon 1e-5),
    including after the first conv ("between each convolutional layer", L169).

    Only inputs of 25..32 px give the 4x4 map that the k4 valid conv turns into 1x1
    (ceil(n/8) must be 4); native 16x16 USPS gives 2x2 and fails (spec 004 section 1.1).
    """
    if len(widths) != 3:
        raise BadOptionError(f"widths={widths!r}: this discriminator has three k5 s2 convs")
    height, width = image_shape[:2]
    if not (25 <= height <= 32 and 25 <= width <= 32):
        raise BadOptionError(
            f"image_shape={tuple(image_shape)} does not suit the 28x28 discriminator: three "
            "stride-2 convs take n to ceil(n/8), which must be 4 for its final 4x4 'valid' conv "
            "to give a 1x1 score, so height and width must be 25..32 (resize 16x16 USPS to 28; "
            "spec 004 section 1.1)"
        )
    x = keras.Input(image_shape, name="image")
    h = x
    for i, filters in enumerate(widths, start=1):
        h = keras.layers.ZeroPadding2D(2, name=f"d{i}_pad")(h)
        h = keras.layers.Conv2D(filters, 5, strides=2, use_bias=False, name=f"d{i}_conv")(h)
        h = _torch_bn(sync_bn)(h)
        h = keras.layers.Activation("relu", name=f"d{i}_relu")(h)
    logit = keras.layers.Conv2D(1, 4, dtype="float32", name="logit")(h)
    return keras.Model(x, logit, name=name)
