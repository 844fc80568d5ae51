"""CoGAN / SCoGAN networks for 32x32 images: SCoGAN thesis Tables 3.1 and 3.2 (spec 1.3, 10.3).

The tables are read as the spec resolves them:

* Table 3.1's "Shape" column lags one row; the true outputs are 4x4x1024 (FC + reshape)
  -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 32x32x3, all ``padding='same'`` (Listing 6.3).
* The FC block is FC -> reshape -> BN -> PReLU (Listing 6.3, L1259-1264).
* The output layer is ``Conv2DTranspose(3, 6, 1, tanh)`` (Listings 6.3/6.4), not BN+PReLU.
* The optional ConvT(1024, k4, s1) row exists only behind the code's ``use_firstlayer`` switch,
  off by default (spec 9.1).
* Discriminators have no normalisation and no sigmoid: they return the raw logit/critic value
  (L1395); only FC-500 has a PReLU; dropout 0.5 follows it.
* PReLU: one slope per element by default, as the authors' Keras code (spec 10.3); Caffe's one
  slope per channel is ``prelu="channel"`` (:mod:`gan_repro.models.layers`).
* Weight sharing = the same layer objects in both networks. CoGAN shares the *first* generator
  blocks and the *last* discriminator blocks (L622-630). SCoGAN shares nothing (L871, L996);
  the authors' code still shares the FC block (spec 10.3) - that is ``shared_layers=1``.
* Weight decay is omitted: in the authors' loop it was never added to the loss (spec 10.6).

Generators return ``[features..., image]`` (Listing 6.7): the feature maps after each
upsampling block except the last hidden one, then the image, so the feature regulariser can use
the first K entries and the trainer always takes ``outputs[-1]`` as the image.
"""

from __future__ import annotations

import keras

from gan_repro.errors import BadOptionError
from gan_repro.models.fused import MatmulConv2DTranspose
from gan_repro.models.layers import batch_norm, kernel_initializer
from gan_repro.models.layers import prelu as prelu_layer
from gan_repro.registry import NETWORKS

NOISE_DIM = 100
IMAGE_SHAPE = (32, 32, 3)
#: Table 3.1 upsampling blocks after the FC block: (filters, kernel, stride, returned as feature).
_GEN_CONV_BLOCKS = ((512, 3, 2, True), (256, 3, 2, True), (128, 3, 2, False))
_FIRST_LAYER_BLOCK = (1024, 4, 1, True)


def _generator_blocks(use_firstlayer: bool, init: str, bias: float, sync_bn: bool, slopes: str):
    """Fresh layer objects for one generator's hidden blocks, each a list of layers plus a flag
    saying whether its output is returned as a feature map."""
    blocks = [
        (
            [
                keras.layers.Dense(
                    4 * 4 * 1024,
                    kernel_initializer=kernel_initializer(init),
                    bias_initializer=keras.initializers.Constant(bias),
                ),
                keras.layers.Reshape((4, 4, 1024)),
                batch_norm(synchronized=sync_bn),
                prelu_layer(slopes=slopes),
            ],
            False,
        )
    ]
    conv_specs = ((_FIRST_LAYER_BLOCK,) if use_firstlayer else ()) + _GEN_CONV_BLOCKS
    size = 4  # the FC block's map is 4x4
    for filters, kernel, stride, is_feature in conv_specs:
        # on the 4x4 map, oneDNN's transposed conv is slow: a matmul on a CPU (models/fused.py)
        conv_t = MatmulConv2DTranspose if size <= 4 else keras.layers.Conv2DTranspose
        size *= stride
        blocks.append(
            (
                [
                    conv_t(
                        filters,
                        kernel,
                        strides=stride,
                        padding="same",
                        kernel_initializer=kernel_initializer(init),
                        bias_initializer=keras.initializers.Constant(bias),
                    ),
                    batch_norm(synchronized=sync_bn),
                    prelu_layer(slopes=slopes),
                ],
                is_feature,
            )
        )
    return blocks


def _output_layer(channels: int, init: str, bias: float, name: str):
    # few output channels: a matmul on a CPU (gan_repro.models.fused)
    return MatmulConv2DTranspose(
        channels,
        6,
        strides=1,
        padding="same",
        activation="tanh",
        kernel_initializer=kernel_initializer(init),
        bias_initializer=keras.initializers.Constant(bias),
        dtype="float32",  # image in float32 under a mixed-precision policy
        name=name,
    )


@NETWORKS.register(
    "cogan_generators_32",
    source="SCoGAN thesis Table 3.1 (+ Listings 6.3/6.7), CoGAN: 4 shared blocks",
    shared_layers=4,
)
@NETWORKS.register(
    "scogan_generators_32",
    source="SCoGAN thesis Table 3.1 without shared layers (L871, L996), multi-output Listing 6.7",
    shared_layers=0,
)
def cogan_generators_32(
    shared_layers: int = 4,
    noise_dim: int = NOISE_DIM,
    channels: int = 3,
    use_firstlayer: bool = False,
    init: str = "xavier",
    bias: float = 0.1,
    sync_bn: bool = True,
    prelu: str = "element",
    name: str = "cogan_generator_32",
) -> tuple[keras.Model, keras.Model]:
    """The Table 3.1 generator pair; the first ``shared_layers`` blocks are the same layers.

    Blocks in order: FC(16384)+BN+PReLU, [ConvT(1024,4,1) if ``use_firstlayer``],
    ConvT(512,3,2), ConvT(256,3,2), ConvT(128,3,2) (each +BN+PReLU(0.25)); then the per-domain
    ConvT(3,6,1,tanh). CoGAN: ``shared_layers=4`` (Table 3.1 "Shared" column); Ch.3 also tries
    3, 2 and 1 (L784); SCoGAN: 0 as the thesis says (L871, L996), or 1 as the authors'
    ``cogan_generators_digit_noshare`` builds it (its FC+BN+PReLU block feeds both generators,
    spec 10.3). Bias init 0.1 is the authors' default (spec 10.1).
    ``prelu``: ``"element"`` (default; the authors' Keras ``PReLU()``, one slope per element,
    8,116,099 parameters per generator) or ``"channel"`` (Caffe's one slope per channel,
    7,872,259), see :func:`gan_repro.models.layers.prelu`.
    Each model maps z [B, noise_dim] to ``[8x8x512, 16x16x256, 32x32xC image]``
    (with ``use_firstlayer``: ``[4x4x1024, 8x8x512, 16x16x256, image]``).
    """
    n_blocks = len(_GEN_CONV_BLOCKS) + 1 + int(use_firstlayer)
    if not 0 <= shared_layers <= n_blocks:
        raise BadOptionError(
            f"shared_layers={shared_layers} is out of range: the Table 3.1 generator has "
            f"{n_blocks} hidden blocks, so choose 0..{n_blocks} (the output layer is never shared)"
        )
    shared = _generator_blocks(use_firstlayer, init, bias, sync_bn, prelu)[:shared_layers]
    models = []
    for domain in (1, 2):
        private = _generator_blocks(use_firstlayer, init, bias, sync_bn, prelu)[shared_layers:]
        z = keras.Input((noise_dim,), name="z")
        h, features = z, []
        for layers, is_feature in shared + private:
            for layer in layers:
                h = layer(h)
            if is_feature:
                features.append(h)
        image = _output_layer(channels, init, bias, name=f"image_{domain}")(h)
        models.append(keras.Model(z, [*features, image], name=f"{name}_{domain}"))
    return models[0], models[1]


def _disc_blocks(init: str, bias: float, dropout: float):
    conv = dict(padding="same", kernel_initializer=kernel_initializer(init))
    const = keras.initializers.Constant(bias)
    return [
        [keras.layers.Conv2D(20, 5, bias_initializer=const, **conv), keras.layers.MaxPooling2D(2)],
        [keras.layers.Conv2D(50, 5, bias_initializer=const, **conv), keras.layers.MaxPooling2D(2)],
        [
            keras.layers.Flatten(),
            keras.layers.Dense(
                500, kernel_initializer=kernel_initializer(init), bias_initializer=const
            ),
            prelu_layer(conv=False),
            keras.layers.Dropout(dropout),
        ],
        [
            keras.layers.Dense(
                1,
                kernel_initializer=kernel_initializer(init),
                bias_initializer=const,
                dtype="float32",
            )
        ],
    ]


@NETWORKS.register(
    "cogan_discriminators_32",
    source="SCoGAN thesis Table 3.2, CoGAN: last 3 blocks shared",
    shared_layers=3,
)
@NETWORKS.register(
    "scogan_discriminators_32",
    source="SCoGAN thesis Table 3.2 without shared layers",
    shared_layers=0,
)
def cogan_discriminators_32(
    shared_layers: int = 3,
    input_shape: tuple[int, int, int] = IMAGE_SHAPE,
    init: str = "xavier",
    bias: float = 0.1,
    dropout: float = 0.5,
    name: str = "cogan_discriminator_32",
) -> tuple[keras.Model, keras.Model]:
    """The Table 3.2 discriminator pair; the *last* ``shared_layers`` blocks are the same layers.

    Blocks: Conv(20,5)+MaxPool2, Conv(50,5)+MaxPool2, FC(500)+PReLU(0.25)+Dropout(0.5), FC(1).
    No normalisation, raw output (the sigmoid lives in the loss, L1395). CoGAN shares the last
    3 blocks (Table 3.2 "Shared" column); SCoGAN shares none. ``dropout`` is a parameter only so
    that tests can switch the one per-replica random op off; the thesis value is 0.5.
    """
    n_blocks = 4
    if not 0 <= shared_layers <= n_blocks:
        raise BadOptionError(
            f"shared_layers={shared_layers} is out of range for the Table 3.2 discriminator: "
            f"choose 0..{n_blocks}"
        )
    shared = _disc_blocks(init, bias, dropout)[n_blocks - shared_layers :]
    models = []
    for domain in (1, 2):
        private = _disc_blocks(init, bias, dropout)[: n_blocks - shared_layers]
        x = keras.Input(input_shape, name="image")
        h = x
        for layers in private + shared:
            for layer in layers:
                h = layer(h)
        models.append(keras.Model(x, h, name=f"{name}_{domain}"))
    return models[0], models[1]
