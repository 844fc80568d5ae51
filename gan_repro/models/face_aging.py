"""The five networks of "Using GANs for Face Aging" (Viñals Canal 2020), Appendix A Figs A.1-A.9.

One builder per published ``model.summary()`` (spec 000 section 1), with the thesis's totals:

============================================  ==========  ==========  ===========================
builder                                       total       trainable   thesis
============================================  ==========  ==========  ===========================
:func:`face_aging_dcgan_generator`            8,302,721   8,302,337   Fig A.1 (L1280-1304)
:func:`face_aging_dcgan_discriminator`          432,897     432,001   Fig A.2 (L1306-1332)
:func:`face_aging_cyclegan_generator`        35,276,553  35,276,553   Figs A.3/A.4 (L1334-1418)
:func:`face_aging_cyclegan_discriminator`     6,962,369   6,962,369   Fig A.5 (L1420-1444)
:func:`face_aging_cgan_generator_body`       10,939,920  10,936,336   Fig A.6 (L1446-1465)
:func:`face_aging_cgan_discriminator_body`    5,646,337   5,646,337   Fig A.7 (L1467-1488)
:func:`face_aging_cdcgan_generator`           2,921,603   2,903,683   Fig A.8 (L1490-1523)
:func:`face_aging_cdcgan_discriminator`       1,844,097   1,843,073   Fig A.9 (L1525-1551)
============================================  ==========  ==========  ===========================

:func:`face_aging_cgan_generator` and :func:`face_aging_cgan_discriminator` add the label
``Embedding`` x input wrapper that Figs A.6/A.7 leave out (L932-934; spec 1.3 row 0): +4 x
latent_dim parameters for G (400 at latent 100, 480 at latent 120) and +4 x 10,000 for D.

Where the thesis text and the summaries disagree, the summaries win (spec section 8); each
builder's docstring names the choices it makes. Common to all:

* Keras 2.3.1 layers map one to one onto Keras 3 layers with the same parameter counts
  (BatchNormalization: gamma, beta trainable + moving mean/variance non-trainable).
* Instance norm (keras_contrib ``InstanceNormalization(axis=-1)`` in the base CycleGAN code:
  per-channel gamma and beta, epsilon 1e-3) is ``keras.layers.GroupNormalization(groups=-1)``,
  which has the same two parameters per channel and the same epsilon.
* Initialisers (spec 8.18): the Keras defaults (Glorot-uniform kernels, zero biases, uniform
  +-0.05 embeddings) for the Keras-GAN / utkd models; N(0, 0.02) kernels for the CycleGAN.
* The last layers are float32 so that images and scores stay float32 under a mixed-precision
  policy (as in :mod:`gan_repro.models.cogan32`).
* The DCGAN, CGAN and CDCGAN discriminators end in a sigmoid as published. ``logits=True`` drops
  that sigmoid (same parameters) for the project's logit-based losses
  (:mod:`gan_repro.losses.adversarial`), which apply it themselves in a stable form.
"""

from __future__ import annotations

import keras

from gan_repro.errors import BadOptionError, check_choice
from gan_repro.models.layers import kernel_initializer
from gan_repro.registry import NETWORKS

LATENT_DIM = 100
#: The four UTKFace age groups of the CGAN/CDCGAN (L920-926): [0,10), [20,30), [50,60), [80,117).
AGE_CLASSES = 4
DCGAN_IMAGE_SHAPE = (100, 100, 1)
CYCLEGAN_IMAGE_SHAPE = (256, 256, 3)
CGAN_IMAGE_SHAPE = (100, 100, 1)
CDCGAN_IMAGE_SHAPE = (32, 32, 3)
RESIDUAL_MODES = ("concat", "add")


def _check_divisible(image_shape, factor: int, what: str) -> None:
    height, width = image_shape[:2]
    if height % factor or width % factor:
        raise BadOptionError(
            f"image_shape={tuple(image_shape)} does not suit the {what}: height and width must "
            f"be multiples of {factor}"
        )


def _batch_norm(momentum: float, sync_bn: bool) -> keras.layers.BatchNormalization:
    """Keras BN with the base code's momentum. ``sync_bn`` makes the batch statistics global
    under a multi-replica strategy (the same layer on one device); counts are unchanged."""
    return keras.layers.BatchNormalization(momentum=momentum, synchronized=sync_bn)


def _instance_norm(dtype: str | None = None) -> keras.layers.GroupNormalization:
    """Instance normalisation: one group per channel, gamma and beta per channel, epsilon 1e-3
    (keras_contrib ``InstanceNormalization(axis=-1)`` of the base code)."""
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-3, dtype=dtype)


def _sigmoid_or_logit(logits: bool) -> str | None:
    return None if logits else "sigmoid"


# --------------------------------------------------------------------------------------------
# 1.1 DCGAN (L786-822), eriklindernoren/Keras-GAN dcgan.py adapted to 100x100x1
# --------------------------------------------------------------------------------------------


@NETWORKS.register(
    "face_aging_dcgan_generator",
    source="Face-aging thesis Fig A.1 (DCGAN G, 100x100x1)",
)
def face_aging_dcgan_generator(
    latent_dim: int = LATENT_DIM,
    image_shape: tuple[int, int, int] = DCGAN_IMAGE_SHAPE,
    sync_bn: bool = True,
    name: str = "face_aging_dcgan_generator",
) -> keras.Model:
    """Fig A.1 "DeepC_GAN_Generator" (L1280-1304; text L804-808): 8,302,721 parameters
    (8,302,337 trainable, 384 non-trainable) at latent 100 and 100x100x1.

    z [B, latent_dim] -> Dense(25*25*128, relu) -> Reshape(25, 25, 128) -> UpSampling2D ->
    Conv(128, 3, same) -> BN(0.8) -> ReLU -> UpSampling2D -> Conv(64, 3, same) -> BN(0.8) -> ReLU
    -> Conv(C, 3, same) -> tanh, giving [B, 100, 100, 1] in [-1, 1].

    Choices: the block order is Conv -> BN -> ReLU as in Fig A.1, not the text's
    "Convolution-Activation-Normalization" (L804; spec 8.1). BN momentum 0.8 is the Keras-GAN
    value (not stated in the thesis). The start size is ``image_shape / 4`` (25 for 100).
    """
    _check_divisible(image_shape, 4, "DCGAN generator (two 2x upsamplings)")
    h0, w0 = image_shape[0] // 4, image_shape[1] // 4
    z = keras.Input((latent_dim,), name="z")
    h = keras.layers.Dense(h0 * w0 * 128, activation="relu")(z)
    h = keras.layers.Reshape((h0, w0, 128))(h)
    for filters in (128, 64):
        h = keras.layers.UpSampling2D()(h)
        h = keras.layers.Conv2D(filters, 3, padding="same")(h)
        h = _batch_norm(0.8, sync_bn)(h)
        h = keras.layers.Activation("relu")(h)
    h = keras.layers.Conv2D(image_shape[2], 3, padding="same", dtype="float32")(h)
    image = keras.layers.Activation("tanh", dtype="float32", name="image")(h)
    return keras.Model(z, image, name=name)


@NETWORKS.register("face_aging_dcgan_discriminator", source="Face-aging thesis Fig A.2 (DCGAN D)")
def face_aging_dcgan_discriminator(
    image_shape: tuple[int, int, int] = DCGAN_IMAGE_SHAPE,
    dropout: float = 0.25,
    logits: bool = False,
    sync_bn: bool = True,
    name: str = "face_aging_dcgan_discriminator",
) -> keras.Model:
    """Fig A.2 "DeepC_GAN_Discriminator" (L1306-1332; text L814-818): 432,897 parameters
    (432,001 trainable, 896 non-trainable) at 100x100x1.

    Conv(32, 3, s2) -> LReLU(0.2) -> Dropout; Conv(64, 3, s2) -> ZeroPad((0,1),(0,1)) -> BN(0.8)
    -> LReLU -> Dropout; Conv(128, 3, s2) -> BN -> LReLU -> Dropout; Conv(256, 3, s1) -> BN ->
    LReLU -> Dropout; Flatten (13*13*256 = 43,264) -> Dense(1, sigmoid). All convs 'same'.
    Shapes 100 -> 50 -> 25 -> 26 (pad) -> 13 -> 13.

    The zero-padding row and BN momentum 0.8 are Keras-GAN's (Fig A.2 lists the padding; the
    text does not). ``dropout`` is 0.25 (L816); ``logits=True`` drops the final sigmoid.
    """
    x = keras.Input(image_shape, name="image")
    h = keras.layers.Conv2D(32, 3, strides=2, padding="same")(x)
    h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.Dropout(dropout)(h)
    for filters, stride, pad in ((64, 2, True), (128, 2, False), (256, 1, False)):
        h = keras.layers.Conv2D(filters, 3, strides=stride, padding="same")(h)
        if pad:
            h = keras.layers.ZeroPadding2D(((0, 1), (0, 1)))(h)
        h = _batch_norm(0.8, sync_bn)(h)
        h = keras.layers.LeakyReLU(0.2)(h)
        h = keras.layers.Dropout(dropout)(h)
    h = keras.layers.Flatten()(h)
    y = keras.layers.Dense(
        1, activation=_sigmoid_or_logit(logits), dtype="float32", name="validity"
    )(h)
    return keras.Model(x, y, name=name)


# --------------------------------------------------------------------------------------------
# 1.2 CycleGAN (L824-910), the layer tables of Brownlee's Keras CycleGAN (spec 1.2, 7)
# --------------------------------------------------------------------------------------------


@NETWORKS.register(
    "face_aging_cyclegan_generator",
    source="Face-aging thesis Figs A.3/A.4 (concatenating 'residual' blocks)",
)
def face_aging_cyclegan_generator(
    image_shape: tuple[int, int, int] = CYCLEGAN_IMAGE_SHAPE,
    n_residual: int = 9,
    residual: str = "concat",
    name: str = "face_aging_cyclegan_generator",
) -> keras.Model:
    """Figs A.3/A.4 "Cycle_GAN_Generator" (L1334-1418): 35,276,553 parameters, all trainable,
    mapping [B, 256, 256, 3] to [B, 256, 256, 3] in [-1, 1].

    c7s1-64, d128, d256 (Conv 7x7 s1 / 3x3 s2 / 3x3 s2, each -> IN -> ReLU), nine "residual"
    blocks at 64x64, u128, u64 (ConvT 3x3 s2 -> IN -> ReLU), then Conv(3, 7x7) -> IN -> tanh.
    Every conv is 'same' with N(0, 0.02) kernels; IN = ``GroupNormalization(groups=-1)``.

    A block is Conv(256, 3) -> IN -> ReLU -> Conv(256, 3) -> IN, then
    ``Concatenate([block_output, block_input])``: the channel count grows by 256 per block,
    512 ... 2560 (``concatenate_9 (None, 64, 64, 2560)``, L1403), which is what the published
    counts need (first conv of block k: 9 * 256k * 256 + 256 parameters).

    Choices (spec 8.2, 8.3): the summary wins over the text's "zero-pad 3, conv k4 s2, LeakyReLU,
    add" blocks (L884) and its [256, 256, 128] upsampling shape (L888). The activations are
    anonymous in the summary; ReLU inside and tanh at the end follow the base code. The final
    IN before the tanh is in the summary (6 parameters) and kept.
    ``residual="add"`` is an ablation, not the thesis model: true ResNet blocks ``x + block(x)``
    (256 channels throughout; 11,388,681 parameters).
    """
    check_choice("residual", residual, RESIDUAL_MODES)
    _check_divisible(image_shape, 4, "CycleGAN generator (two stride-2 convs)")
    init = lambda: kernel_initializer("normal")  # N(0, 0.02)

    def conv(filters, kernel, strides=1, dtype=None):
        return keras.layers.Conv2D(
            filters, kernel, strides=strides, padding="same", kernel_initializer=init(), dtype=dtype
        )

    x = keras.Input(image_shape, name="image")
    h = x
    for filters, kernel, strides in ((64, 7, 1), (128, 3, 2), (256, 3, 2)):
        h = conv(filters, kernel, strides)(h)
        h = _instance_norm()(h)
        h = keras.layers.Activation("relu")(h)
    for _ in range(n_residual):
        g = conv(256, 3)(h)
        g = _instance_norm()(g)
        g = keras.layers.Activation("relu")(g)
        g = conv(256, 3)(g)
        g = _instance_norm()(g)
        h = (
            keras.layers.Concatenate()([g, h])
            if residual == "concat"
            else keras.layers.Add()([g, h])
        )
    for filters in (128, 64):
        h = keras.layers.Conv2DTranspose(
            filters, 3, strides=2, padding="same", kernel_initializer=init()
        )(h)
        h = _instance_norm()(h)
        h = keras.layers.Activation("relu")(h)
    h = conv(image_shape[2], 7, dtype="float32")(h)
    h = _instance_norm(dtype="float32")(h)
    image = keras.layers.Activation("tanh", dtype="float32", name="translated")(h)
    return keras.Model(x, image, name=name)


@NETWORKS.register(
    "face_aging_cyclegan_discriminator",
    source="Face-aging thesis Fig A.5 (16x16 patch output)",
)
def face_aging_cyclegan_discriminator(
    image_shape: tuple[int, int, int] = CYCLEGAN_IMAGE_SHAPE,
    name: str = "face_aging_cyclegan_discriminator",
) -> keras.Model:
    """Fig A.5 "Cycle_GAN_Discriminator" (L1420-1444): 6,962,369 parameters, all trainable;
    [B, 256, 256, 3] -> a [B, 16, 16, 1] patch map of raw scores (trained with MSE against
    ones/zeros, L906-908).

    C64 (no norm) -> C128 -> C256 -> C512 (4x4, stride 2, IN, LeakyReLU(0.2)), then
    C512 (4x4, stride 1, IN, LeakyReLU(0.2)) and Conv(1, 4x4, s1), linear. All 'same',
    N(0, 0.02) kernels.

    Choice (spec 8.4): the summary wins over the text's four-layer net with a 32x32x1 output
    (L896-900): there are four stride-2 convs, the extra stride-1 C512, and a 16x16 patch map.
    The "70 PatchGAN" name (L894) is nominal; the receptive field is larger than 70.
    """
    _check_divisible(image_shape, 16, "CycleGAN discriminator (four stride-2 convs)")
    init = lambda: kernel_initializer("normal")
    x = keras.Input(image_shape, name="image")
    h = x
    for i, (filters, strides) in enumerate(((64, 2), (128, 2), (256, 2), (512, 2), (512, 1))):
        h = keras.layers.Conv2D(
            filters, 4, strides=strides, padding="same", kernel_initializer=init()
        )(h)
        if i:
            h = _instance_norm()(h)
        h = keras.layers.LeakyReLU(0.2)(h)
    patches = keras.layers.Conv2D(
        1, 4, padding="same", kernel_initializer=init(), dtype="float32", name="patch_scores"
    )(h)
    return keras.Model(x, patches, name=name)


# --------------------------------------------------------------------------------------------
# 1.3 CGAN (L912-954), eriklindernoren/Keras-GAN cgan.py adapted to 100x100x1 and 4 classes
# --------------------------------------------------------------------------------------------


@NETWORKS.register(
    "face_aging_cgan_generator_body",
    source="Face-aging thesis Fig A.6 (inner CGAN G, latent 100)",
)
def face_aging_cgan_generator_body(
    latent_dim: int = LATENT_DIM,
    image_shape: tuple[int, int, int] = CGAN_IMAGE_SHAPE,
    sync_bn: bool = True,
    name: str = "face_aging_cgan_generator_body",
) -> keras.Model:
    """Fig A.6 "CGAN Generator" (L1446-1465), the inner network only: 10,939,920 parameters
    (10,936,336 trainable, 3,584 non-trainable) at latent 100; 10,945,040 at latent 120 (the
    first Dense has 120*256 + 256 = 30,976 parameters instead of 25,856).

    [B, latent_dim] -> Dense(256) -> LReLU(0.2) -> BN(0.8) -> Dense(512) -> LReLU -> BN ->
    Dense(1024) -> LReLU -> BN -> Dense(H*W*C, tanh) -> Reshape(100, 100, 1).

    Choice (spec 8.10): LeakyReLU(0.2) *before* BN(0.8), as in the summary and L930, not the
    text's "Dense-ReLU-Normalization" (L936).
    """
    z = keras.Input((latent_dim,), name="conditioned_z")
    h = z
    for units in (256, 512, 1024):
        h = keras.layers.Dense(units)(h)
        h = keras.layers.LeakyReLU(0.2)(h)
        h = _batch_norm(0.8, sync_bn)(h)
    pixels = int(image_shape[0] * image_shape[1] * image_shape[2])
    h = keras.layers.Dense(pixels, activation="tanh", dtype="float32")(h)
    image = keras.layers.Reshape(image_shape, dtype="float32", name="image")(h)
    return keras.Model(z, image, name=name)


@NETWORKS.register(
    "face_aging_cgan_generator",
    source="Face-aging thesis L932-936: Fig A.6 + label Embedding x noise",
)
@NETWORKS.register(
    "face_aging_cgan_generator_latent120",
    source="Face-aging thesis L938, L1146: CGAN G at latent 120",
    latent_dim=120,
)
def face_aging_cgan_generator(
    latent_dim: int = LATENT_DIM,
    classes: int = AGE_CLASSES,
    image_shape: tuple[int, int, int] = CGAN_IMAGE_SHAPE,
    sync_bn: bool = True,
    name: str = "face_aging_cgan_generator",
) -> keras.Model:
    """The full CGAN generator (L932-936): ``[z, label] -> image``; Fig A.6's body inside.

    Inputs: z [B, latent_dim] ~ N(0, 1) and an integer age class [B, 1] (int32, 0..classes-1).
    ``Flatten(Embedding(classes, latent_dim)(label))`` is multiplied element-wise with z and the
    product goes through :func:`face_aging_cgan_generator_body` (reachable as the layer named
    ``f"{name}_body"``). Parameters: body + classes * latent_dim = 10,940,320 at latent 100,
    10,945,520 at latent 120 (the thesis's second setting, L938, L1146).

    Choice (spec 8.9): the text applies the Embedding to "the one-hot-vector" (L934); Keras-GAN,
    whose code the summaries match, embeds the integer label. Integer labels it is.
    """
    body = face_aging_cgan_generator_body(latent_dim, image_shape, sync_bn, name=f"{name}_body")
    z = keras.Input((latent_dim,), name="z")
    label = keras.Input((1,), dtype="int32", name="label")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(classes, latent_dim)(label))
    conditioned = keras.layers.Multiply()([z, embedded])
    return keras.Model([z, label], body(conditioned), name=name)


@NETWORKS.register(
    "face_aging_cgan_discriminator_body",
    source="Face-aging thesis Fig A.7 (inner CGAN D)",
)
def face_aging_cgan_discriminator_body(
    image_shape: tuple[int, int, int] = CGAN_IMAGE_SHAPE,
    dropout: float = 0.4,
    logits: bool = False,
    name: str = "face_aging_cgan_discriminator_body",
) -> keras.Model:
    """Fig A.7 "CGAN Discriminator" (L1467-1488), the inner network only: 5,646,337
    parameters, all trainable.

    [B, H*W*C = 10,000] -> Dense(512) -> LReLU(0.2) -> Dense(512) -> LReLU -> Dropout(0.4) ->
    Dense(512) -> LReLU -> Dropout(0.4) -> Dense(1, sigmoid) (text L944-950). ``logits=True``
    drops the sigmoid. No normalisation, no auxiliary classifier (L954).
    """
    pixels = int(image_shape[0] * image_shape[1] * image_shape[2])
    x = keras.Input((pixels,), name="conditioned_image")
    h = x
    for i in range(3):
        h = keras.layers.Dense(512)(h)
        h = keras.layers.LeakyReLU(0.2)(h)
        if i:
            h = keras.layers.Dropout(dropout)(h)
    y = keras.layers.Dense(
        1, activation=_sigmoid_or_logit(logits), dtype="float32", name="validity"
    )(h)
    return keras.Model(x, y, name=name)


@NETWORKS.register(
    "face_aging_cgan_discriminator",
    source="Face-aging thesis L944-950: Fig A.7 + label Embedding x image",
)
def face_aging_cgan_discriminator(
    classes: int = AGE_CLASSES,
    image_shape: tuple[int, int, int] = CGAN_IMAGE_SHAPE,
    dropout: float = 0.4,
    logits: bool = False,
    name: str = "face_aging_cgan_discriminator",
) -> keras.Model:
    """The full CGAN discriminator (L944-950): ``[image, label] -> validity``; Fig A.7's body
    inside.

    ``Flatten(image) * Flatten(Embedding(classes, H*W*C)(label))`` goes through
    :func:`face_aging_cgan_discriminator_body` (the layer named ``f"{name}_body"``).
    Parameters: 5,646,337 + 4 * 10,000 = 5,686,337. Integer labels [B, 1] (spec 8.9).
    """
    body = face_aging_cgan_discriminator_body(image_shape, dropout, logits, name=f"{name}_body")
    pixels = int(image_shape[0] * image_shape[1] * image_shape[2])
    image = keras.Input(image_shape, name="image")
    label = keras.Input((1,), dtype="int32", name="label")
    embedded = keras.layers.Flatten()(keras.layers.Embedding(classes, pixels)(label))
    conditioned = keras.layers.Multiply()([keras.layers.Flatten()(image), embedded])
    return keras.Model([image, label], body(conditioned), name=name)


# --------------------------------------------------------------------------------------------
# 1.4 Conditional DCGAN (L956-984), utkd/gans cifar10cgan.ipynb with 4 classes
# --------------------------------------------------------------------------------------------


@NETWORKS.register(
    "face_aging_cdcgan_generator",
    source="Face-aging thesis Fig A.8 (conditional DCGAN G)",
)
def face_aging_cdcgan_generator(
    latent_dim: int = LATENT_DIM,
    classes: int = AGE_CLASSES,
    image_shape: tuple[int, int, int] = CDCGAN_IMAGE_SHAPE,
    sync_bn: bool = True,
    name: str = "face_aging_cdcgan_generator",
) -> keras.Model:
    """Fig A.8 "Conditional_DeepC_GAN_Generator" (L1490-1523; text L964-970): 2,921,603
    parameters (2,903,683 trainable, 17,920 non-trainable); ``[z, one_hot] -> [B, 32, 32, 3]``.

    Concatenate(z [B, 100], one-hot label [B, 4]) -> Dense(8*8*128, relu) -> BN(0.9) ->
    LReLU(0.1) -> Reshape(8, 8, 128); then 128-filter layers, each -> BN(0.9) -> LReLU(0.1):
    Conv(4, s1), ConvT(4, s2), Conv(5, s1), ConvT(4, s2), Conv(5, s1), Conv(5, s1); then
    Conv(3, 5, s1) -> tanh. All 'same'.

    Choices (spec 8.12): the stride-2 layers are ``Conv2DTranspose`` (summary, base notebook)
    though the text says "convolutions"; the text's "dense Layer with 128 filters and ReLU"
    (L964) is Dense(8192, relu) followed by BN and LeakyReLU, as in the summary. The label is
    a float one-hot vector concatenated with z (L964), not an embedding.
    """
    _check_divisible(image_shape, 4, "CDCGAN generator (two stride-2 transposed convs)")
    h0, w0 = image_shape[0] // 4, image_shape[1] // 4
    z = keras.Input((latent_dim,), name="z")
    one_hot = keras.Input((classes,), name="label_one_hot")
    h = keras.layers.Concatenate()([z, one_hot])
    h = keras.layers.Dense(h0 * w0 * 128, activation="relu")(h)
    h = _batch_norm(0.9, sync_bn)(h)
    h = keras.layers.LeakyReLU(0.1)(h)
    h = keras.layers.Reshape((h0, w0, 128))(h)
    for kernel, stride in ((4, 1), (4, 2), (5, 1), (4, 2), (5, 1), (5, 1)):
        layer = keras.layers.Conv2DTranspose if stride == 2 else keras.layers.Conv2D
        h = layer(128, kernel, strides=stride, padding="same")(h)
        h = _batch_norm(0.9, sync_bn)(h)
        h = keras.layers.LeakyReLU(0.1)(h)
    h = keras.layers.Conv2D(image_shape[2], 5, padding="same", dtype="float32")(h)
    image = keras.layers.Activation("tanh", dtype="float32", name="image")(h)
    return keras.Model([z, one_hot], image, name=name)


@NETWORKS.register(
    "face_aging_cdcgan_discriminator",
    source="Face-aging thesis Fig A.9 (conditional DCGAN D)",
)
def face_aging_cdcgan_discriminator(
    classes: int = AGE_CLASSES,
    image_shape: tuple[int, int, int] = CDCGAN_IMAGE_SHAPE,
    dropout: float = 0.0,
    logits: bool = False,
    sync_bn: bool = True,
    name: str = "face_aging_cdcgan_discriminator",
) -> keras.Model:
    """Fig A.9 "Conditional_DeepC_GAN_Discriminator" (L1525-1551; text L976-980): 1,844,097
    parameters (1,843,073 trainable, 1,024 non-trainable); ``[image, one_hot] -> [B, 1]``.

    Conv(128, 3, s1), then three Conv(128, 4, s2), each 'same' -> BN(0.9) -> LReLU(0.1);
    Flatten (4*4*128 = 2048) -> Concatenate(one-hot label [B, 4]) -> Dense(512, relu) ->
    Dense(1, sigmoid).

    Choices (spec 8.12): the text's 512-filter "Convolutional layer" and final 1-filter layer
    are the summary's Dense layers. The text's 40 % Dropout after the 512 layer (L980) is not in
    the summary and is commented out in the base notebook, so ``dropout`` defaults to 0 (no
    layer); ``dropout=0.4`` adds the text's layer (no parameters). ``logits=True`` drops the
    final sigmoid.
    """
    x = keras.Input(image_shape, name="image")
    one_hot = keras.Input((classes,), name="label_one_hot")
    h = x
    for kernel, stride in ((3, 1), (4, 2), (4, 2), (4, 2)):
        h = keras.layers.Conv2D(128, kernel, strides=stride, padding="same")(h)
        h = _batch_norm(0.9, sync_bn)(h)
        h = keras.layers.LeakyReLU(0.1)(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.Concatenate()([h, one_hot])
    h = keras.layers.Dense(512, activation="relu")(h)
    if dropout:
        h = keras.layers.Dropout(dropout)(h)
    y = keras.layers.Dense(
        1, activation=_sigmoid_or_logit(logits), dtype="float32", name="validity"
    )(h)
    return keras.Model([x, one_hot], y, name=name)
