"""The UNIT networks of the CycleGAN-vs-UNIT thesis (Wang 2018, §6.2.2 L441-443; spec 003
section 1.2): Liu, Breuel & Kautz 2017's coupled VAE-GAN, as in the 2017 official code
(mingyuliutw/UNIT ``src/trainers/cocogan_nets.py`` ``COCOResGen2`` and ``COCOSharedDis``,
``src/trainers/common_net.py``; config ``exps/unit/blondhair.yaml``: ``ch 64``, encoder 3 front
convs + 3 residual blocks + 1 shared block, generator 1 shared block + 3 residual blocks + 3
front layers; discriminator 2 front + 4 shared layers).

The thesis: "the encoders consisted of 3 convolutional layers and 4 basic residual blocks. The
final layer of two encoders is shared. The generators consisted of 4 basic residual blocks and 3
transposed convolutional layers. The first layer of the generator is shared. The discriminators
comprised six convolutional layers. For all the networks, LeakyReLU is used for nonlinearity."

=====================================================  ==========  ==========================
builder / part                                         parameters  output at 256x256x3
=====================================================  ==========  ==========================
:func:`unit_vae_pair` encoder_a (= encoder_b)           5,099,136  mu, 64x64x256
:func:`unit_vae_pair` decoder_a (= decoder_b)           5,089,667  image, 256x256x3, tanh
:func:`unit_vae_pair` all four, shared counted once    18,017,286
:func:`unit_discriminators` d_a (= d_b)                25,156,737  4x4x1 logits
:func:`unit_discriminators` both, ``share=True``       25,240,065
:func:`unit_discriminators` both, ``share=False``      50,313,474
=====================================================  ==========  ==========================

All parameters are trainable (instance norm without affine has none, there is no batch norm).
Counts, layer by layer (a k x k conv or transposed conv from n_in to n_out channels has
k*k*n_in*n_out weights and n_out biases; no count depends on the image size)::

    INSResBlock(256)     2 * (9*256*256 + 256)              =  1,180,160
    encoder, private     LeakyReLUConv 7x7 s1 p3, 3 -> 64:  49*3*64 + 64    =      9,472
                         LeakyReLUConv 3x3 s2 p1, 64 -> 128: 9*64*128 + 128  =     73,856
                         LeakyReLUConv 3x3 s2 p1, 128 -> 256: 9*128*256 + 256 =  295,168
                         3 x INSResBlock(256)                               =  3,540,480
                         total                                              =  3,918,976
    encoder, shared      1 x INSResBlock(256)                               =  1,180,160
    encoder_a.count_params() = 3,918,976 + 1,180,160                        =  5,099,136
    decoder, shared      1 x INSResBlock(256)                               =  1,180,160
    decoder, private     3 x INSResBlock(256)                               =  3,540,480
                         LeakyReLUConvT 3x3 s2 p1 op1, 256 -> 128: 9*256*128 + 128 = 295,040
                         LeakyReLUConvT 3x3 s2 p1 op1, 128 -> 64: 9*128*64 + 64 = 73,792
                         ConvT 1x1, 64 -> 3: 64*3 + 3                       =        195
                         total                                              =  3,909,507
    decoder_a.count_params() = 3,909,507 + 1,180,160                        =  5,089,667
    the four together: 2 * 3,918,976 + 2 * 3,909,507 + 2 * 1,180,160       = 18,017,286

    discriminator front (private), per domain
                         LeakyReLUConv 7x7 s2 p3, 3 -> 64: 49*3*64 + 64     =      9,472
                         LeakyReLUConv 3x3 s2 p1, 64 -> 128                 =     73,856
                         total                                              =     83,328
    discriminator trunk (shared when share=True)
                         LeakyReLUConv 3x3 s2 p1, 128 -> 256: 9*128*256 + 256 =  295,168
                         LeakyReLUConv 3x3 s2 p1, 256 -> 512: 9*256*512 + 512 = 1,180,160
                         LeakyReLUConv 3x3 s2 p1, 512 -> 1024: 9*512*1024 + 1024 = 4,719,616
                         LeakyReLUConv 3x3 s2 p1, 1024 -> 2048: 9*1024*2048 + 2048 = 18,876,416
                         Conv 1x1, 2048 -> 1: 2048 + 1                      =      2,049
                         total                                              = 25,073,409
    d_a.count_params() = 83,328 + 25,073,409 = 25,156,737
    both, share=True:  2 * 83,328 + 25,073,409     = 25,240,065
    both, share=False: 2 * (83,328 + 25,073,409)   = 50,313,474

Spatial sizes at 256: encoder 256 -> 256 -> 128 -> 64 (residual blocks keep 64x64x256);
decoder 64 -> 128 -> 256 -> 256; discriminator 256 -> 128 -> 64 | 32 -> 16 -> 8 -> 4 -> 4x4x1.

Choices and what the code does that the thesis does not say:

* Keras functional API, four (two) plain models. Sharing is by layer object: the shared
  residual blocks (and, with ``share=True``, the discriminator trunk) are created once and
  called in both models, so both hold the very same variables and one optimiser step on either
  moves both, as PyTorch's single ``enc_shared`` / ``dec_shared`` / ``model_S`` modules do.
* PyTorch's padding is reproduced exactly: conv padding p = ``ZeroPadding2D(p)`` + a 'valid'
  conv, ``ConvTranspose2d(3, 2, padding=1, output_padding=1)`` = a 'valid' transposed conv cropped
  by one row and column at the top and left (:mod:`gan_repro.models.layers`).
* Non-linearities are the code's: ``LeakyReLUConv2d`` / ``LeakyReLUConvTranspose2d`` use
  ``nn.LeakyReLU()``, slope 0.01 (``slope``; Keras code often uses 0.2), no norm; but the
  residual blocks (``INSResBlock``) use ReLU between their two convs, although the thesis says
  "LeakyReLU is used for nonlinearity" in all networks (L443). Instance norm appears only inside
  the residual blocks: ``nn.InstanceNorm2d`` defaults, no affine parameters, eps 1e-5
  (:func:`~gan_repro.models.layers.instance_norm_torch`). No ReLU after a block's sum, no
  dropout (``res_dropout_ratio`` 0).
* The thesis's "3 transposed convolutional layers" are two LeakyReLU ConvT 3x3 s2 and the final
  ConvT 1x1 s1 + tanh; its "six convolutional layers" of a discriminator are the 2 front and 4
  trunk convs, not counting the 1x1 logit conv (a seventh conv).
* Whether the discriminators share layers is not in the thesis; the code's ``COCOSharedDis``
  shares the trunk (``share=True``, the default); ``share=False`` gives two separate nets.
* The Gaussian noise is not in the models. In the code the shared encoder part ends with a
  ``GaussianNoiseLayer`` (z = mu + N(0, I) in training, z = mu in eval); here the encoders
  output mu and the training family draws the noise from its own input stream, so that runs are
  reproducible and evaluation can fix one draw per figure (spec 003 section 5).
* Initialisation: N(0, 0.02) kernels for every conv and transposed conv (the trainer applies
  ``gaussian_weights_init`` to the whole generator and discriminator); zero biases. The code
  leaves biases at PyTorch's default, U(-1/sqrt(fan_in), 1/sqrt(fan_in)); zero is the Keras
  habit and the CycleGAN one, and a recorded difference.
* Float32 under a mixed-precision policy: the images (last ConvT and tanh), the logits, and mu
  (the last encoder block's sum), so that the KL term and the noise are computed in float32.
"""

from __future__ import annotations

import keras

from gan_repro.errors import BadOptionError
from gan_repro.models.layers import (
    LayerChain,
    instance_norm_torch,
    torch_conv,
    torch_conv_transpose,
)
from gan_repro.registry import NETWORKS

UNIT_IMAGE_SHAPE = (256, 256, 3)
#: ``nn.LeakyReLU()``'s default negative slope, which the 2017 UNIT code uses throughout.
TORCH_LEAKY_SLOPE = 0.01
DOMAINS = ("a", "b")


class INSResBlock:
    """UNIT's ``INSResBlock(c, c)``: ``x + IN(conv3x3(ReLU(IN(conv3x3(x)))))`` with zero
    padding 1, biased convs, parameter-free instance norm; 2 * (9 c^2 + c) parameters
    (1,180,160 at c = 256). Created once, callable any number of times on the same variables
    (that is how the encoders and the decoders share their blocks). ``sum_dtype`` applies to
    the final sum only (float32 for mu)."""

    def __init__(self, channels: int, name: str, sum_dtype: str | None = None):
        self.body = LayerChain(
            [
                *torch_conv(channels, 3, padding=1, name=f"{name}_1").layers,
                instance_norm_torch(name=f"{name}_in1"),
                keras.layers.ReLU(name=f"{name}_relu"),
                *torch_conv(channels, 3, padding=1, name=f"{name}_2").layers,
                instance_norm_torch(name=f"{name}_in2"),
            ]
        )
        self.add = keras.layers.Add(dtype=sum_dtype, name=f"{name}_add")

    def __call__(self, x):
        return self.add([x, self.body(x)])

    @property
    def layers(self) -> list:
        return [*self.body.layers, self.add]

    @property
    def weights(self) -> list:
        return [w for layer in self.layers for w in layer.weights]


def _leaky_conv(filters, kernel, stride, padding, slope, name) -> LayerChain:
    """UNIT's ``LeakyReLUConv2d``: biased conv with PyTorch padding, then LeakyReLU, no norm."""
    conv = torch_conv(filters, kernel, stride=stride, padding=padding, name=name)
    return LayerChain([*conv.layers, keras.layers.LeakyReLU(slope, name=f"{name}_lrelu")])


def _check_multiple(image_shape, factor: int, what: str, why: str) -> None:
    height, width = image_shape[:2]
    if height % factor or width % factor:
        raise BadOptionError(
            f"image_shape={tuple(image_shape)} does not suit the {what}: height and width must "
            f"be multiples of {factor} ({why})"
        )


def _check_counts(**counts) -> None:
    for key, value in counts.items():
        low = 1 if key in ("ch", "n_enc_front", "n_gen_front", "n_front") else 0
        if int(value) != value or value < low:
            raise BadOptionError(f"{key}={value!r} must be an integer >= {low}")


@NETWORKS.register(
    "unit_vae_pair",
    source="Wang 2018 thesis §6.2.2 L443 = UNIT 2017 code COCOResGen2 (E, G pairs, shared blocks)",
)
def unit_vae_pair(
    image_shape: tuple[int, int, int] = UNIT_IMAGE_SHAPE,
    ch: int = 64,
    n_enc_front: int = 3,
    n_enc_res: int = 3,
    n_enc_shared: int = 1,
    n_gen_shared: int = 1,
    n_gen_res: int = 3,
    n_gen_front: int = 3,
    slope: float = TORCH_LEAKY_SLOPE,
    name: str = "unit",
) -> tuple[keras.Model, keras.Model, keras.Model, keras.Model]:
    """UNIT's two encoders and two generators (``COCOResGen2``; thesis L443): returns
    ``(encoder_a, encoder_b, decoder_a, decoder_b)``, named ``{name}_encoder_a`` etc.

    encoder_x: image [B, H, W, C] -> mu [B, H/f, W/f, ch f], f = 2^(n_enc_front - 1)
    (64x64x256 at 256): LeakyReLUConv(7x7 s1 p3, ch); (n_enc_front - 1) x LeakyReLUConv(3x3 s2
    p1), doubling the width; ``n_enc_res`` private INSResBlocks; ``n_enc_shared`` INSResBlocks
    shared by the two encoders (the same layers, so the same variables).

    decoder_x: z [B, H/f, W/f, ch f] -> image [B, H, W, C] in [-1, 1]: ``n_gen_shared``
    INSResBlocks shared by the two decoders; ``n_gen_res`` private INSResBlocks;
    (n_gen_front - 1) x LeakyReLUConvTranspose(3x3 s2 p1 op1), halving the width; ConvTranspose
    1x1 s1 to C channels, tanh.

    The noise z = mu + N(0, I) is left to the training family (module docstring). Defaults
    (the thesis's configuration): 5,099,136 parameters per encoder, 5,089,667 per decoder,
    18,017,286 for the four with the shared blocks counted once. ``slope`` is the LeakyReLU
    negative slope (PyTorch's default 0.01). H and W must be multiples of f;
    ``n_gen_front`` must equal ``n_enc_front`` so that the decoders give back the input size.
    """
    _check_counts(
        ch=ch,
        n_enc_front=n_enc_front,
        n_enc_res=n_enc_res,
        n_enc_shared=n_enc_shared,
        n_gen_shared=n_gen_shared,
        n_gen_res=n_gen_res,
        n_gen_front=n_gen_front,
    )
    if n_gen_front != n_enc_front:
        raise BadOptionError(
            f"n_gen_front={n_gen_front} must equal n_enc_front={n_enc_front}: the decoders undo "
            "the encoders' stride-2 convs one for one, or the images would not match the inputs"
        )
    factor = 2 ** (n_enc_front - 1)
    _check_multiple(
        image_shape,
        factor,
        "UNIT encoders",
        f"{n_enc_front - 1} stride-2 convs, undone by as "
        "many stride-2 transposed convs in the decoders",
    )
    height, width, channels = image_shape
    latent_channels = ch * factor
    latent_shape = (height // factor, width // factor, latent_channels)
    n_enc_blocks = n_enc_res + n_enc_shared

    def mu_dtype(i: int) -> str | None:  # the last block of the encoder gives mu
        return "float32" if i == n_enc_blocks else None

    enc_shared = [
        INSResBlock(latent_channels, f"enc_shared{i}", mu_dtype(n_enc_res + i))
        for i in range(1, n_enc_shared + 1)
    ]
    dec_shared = [
        INSResBlock(latent_channels, f"dec_shared{i}") for i in range(1, n_gen_shared + 1)
    ]

    encoders = []
    for d in DOMAINS:
        x = keras.Input(image_shape, name="image")
        h = _leaky_conv(ch, 7, 1, 3, slope, f"enc_{d}_front1")(x)
        filters = ch
        for i in range(2, n_enc_front + 1):
            filters *= 2
            h = _leaky_conv(filters, 3, 2, 1, slope, f"enc_{d}_front{i}")(h)
        for i in range(1, n_enc_res + 1):
            h = INSResBlock(latent_channels, f"enc_{d}_res{i}", mu_dtype(i))(h)
        for block in enc_shared:
            h = block(h)
        if n_enc_blocks == 0:  # no residual block: mu is the last conv's output, made float32
            h = keras.layers.Activation("linear", dtype="float32", name="mu")(h)
        encoders.append(keras.Model(x, h, name=f"{name}_encoder_{d}"))

    decoders = []
    for d in DOMAINS:
        z = keras.Input(latent_shape, name="z")
        h = z
        for block in dec_shared:
            h = block(h)
        for i in range(1, n_gen_res + 1):
            h = INSResBlock(latent_channels, f"dec_{d}_res{i}")(h)
        filters = latent_channels
        for i in range(1, n_gen_front):
            filters //= 2
            conv_t = torch_conv_transpose(filters, 3, 2, 1, 1, name=f"dec_{d}_up{i}")
            h = keras.layers.LeakyReLU(slope, name=f"dec_{d}_up{i}_lrelu")(conv_t(h))
        h = torch_conv_transpose(channels, 1, 1, 0, 0, dtype="float32", name=f"dec_{d}_out")(h)
        image = keras.layers.Activation("tanh", dtype="float32", name="image")(h)
        decoders.append(keras.Model(z, image, name=f"{name}_decoder_{d}"))

    encoder_a, encoder_b = encoders
    decoder_a, decoder_b = decoders
    return encoder_a, encoder_b, decoder_a, decoder_b


@NETWORKS.register(
    "unit_discriminators",
    source="Wang 2018 thesis §6.2.2 L443 'six convolutional layers' = UNIT 2017 COCOSharedDis",
)
def unit_discriminators(
    image_shape: tuple[int, int, int] = UNIT_IMAGE_SHAPE,
    ch: int = 64,
    n_front: int = 2,
    n_shared: int = 4,
    share: bool = True,
    slope: float = TORCH_LEAKY_SLOPE,
    name: str = "unit_d",
) -> tuple[keras.Model, keras.Model]:
    """UNIT's two discriminators (``COCOSharedDis``; thesis L443 "six convolutional layers"):
    returns ``(d_a, d_b)``, named ``{name}_a`` and ``{name}_b``; each maps [B, H, W, C] to a
    [B, H/2^L, W/2^L, 1] map of raw logits, L = n_front + n_shared (4x4x1 at 256; the code
    flattens it and applies BCE on its sigmoid).

    Private front: LeakyReLUConv(7x7 s2 p3, ch), then (n_front - 1) x LeakyReLUConv(3x3 s2 p1),
    doubling the width. Trunk: n_shared x LeakyReLUConv(3x3 s2 p1), doubling, then Conv 1x1 ->
    1 logit (float32). With ``share=True`` (the code) the trunk is one set of layers called by
    both discriminators; with ``share=False`` each has its own. With ``n_shared=0`` the code puts
    the 1x1 conv in each front, so nothing is shared. Defaults: 25,156,737 parameters each,
    25,240,065 for the pair with the trunk shared, 50,313,474 without. H and W must be multiples
    of 2^L.
    """
    _check_counts(ch=ch, n_front=n_front, n_shared=n_shared)
    depth = n_front + n_shared
    _check_multiple(image_shape, 2**depth, "UNIT discriminators", f"{depth} stride-2 convs")
    trunk_width = ch * 2 ** (n_front - 1)

    def trunk(prefix: str) -> list:
        layers = []
        filters = trunk_width
        for i in range(1, n_shared + 1):
            filters *= 2
            layers.append(_leaky_conv(filters, 3, 2, 1, slope, f"{prefix}trunk{i}"))
        layers.append(torch_conv(1, 1, dtype="float32", name=f"{prefix}logits"))
        return layers

    shared_trunk = trunk("") if share and n_shared else None
    models = []
    for d in DOMAINS:
        x = keras.Input(image_shape, name="image")
        h = _leaky_conv(ch, 7, 2, 3, slope, f"{d}_front1")(x)
        filters = ch
        for i in range(2, n_front + 1):
            filters *= 2
            h = _leaky_conv(filters, 3, 2, 1, slope, f"{d}_front{i}")(h)
        for chain in shared_trunk or trunk(f"{d}_"):
            h = chain(h)
        models.append(keras.Model(x, h, name=f"{name}_{d}"))
    d_a, d_b = models
    return d_a, d_b
