"""The CycleGAN networks of the CycleGAN-vs-UNIT thesis (Wang 2018, §6.2.1 L437-439; spec 003
section 1.1): Zhu et al. 2017's ResNet generator and 70x70 PatchGAN, as in their official code
(junyanz/pytorch-CycleGAN-and-pix2pix ``models/networks.py``: ``ResnetGenerator``,
``ResnetBlock``, ``NLayerDiscriminator``), plus the thesis's literal "three CONV-RELU layers"
discriminator as an option.

The thesis gives only "two convolution layers with strides two ... 9 residual blocks, and two
fractionally-strided convolutions" (L439) and no widths, kernels or norms; those come from Zhu
et al.'s code with its CycleGAN defaults (``ngf = ndf = 64``, ``norm='instance'``, no dropout,
``init_type='normal'``, ``init_gain=0.02``).

=============================================  ==========  ==========  ========================
builder                                        total       trainable   output at 256x256x3
=============================================  ==========  ==========  ========================
:func:`cyclegan_resnet_generator` (9 blocks)   11,378,179  11,378,179  256x256x3, tanh
:func:`cyclegan_resnet_generator` (6 blocks)    7,837,699   7,837,699  256x256x3, tanh
:func:`cyclegan_patch_discriminator`            2,764,737   2,764,737  30x30x1, raw scores
:func:`cyclegan_three_layer_discriminator`        662,977     662,977  31x31x1, raw scores
=============================================  ==========  ==========  ========================

Counts, layer by layer (a k x k conv from n_in to n_out channels has k*k*n_in*n_out weights and
n_out biases; instance norm without affine has none; no count depends on the image size)::

    generator, 3 channels, ngf 64
      c7s1-64   49*3*64     + 64  =      9,472   reflect pad 3, 7x7 valid conv
      d128       9*64*128   + 128 =     73,856   3x3 s2 p1
      d256       9*128*256  + 256 =    295,168   3x3 s2 p1
      R256  2 * (9*256*256  + 256) =  1,180,160   per block; x9 = 10,621,440 (x6 = 7,080,960)
      u128       9*256*128  + 128 =    295,040   ConvTranspose 3x3 s2 p1 op1
      u64        9*128*64   + 64  =     73,792   ConvTranspose 3x3 s2 p1 op1
      c7s1-3    49*64*3     + 3   =      9,411   reflect pad 3, 7x7 valid conv, tanh
      total 11,378,179 (9 blocks); 7,837,699 (6 blocks, Zhu's choice at 128x128)

    70x70 PatchGAN (NLayerDiscriminator, n_layers 3, ndf 64), all 4x4 convs with padding 1
      C64  s2  16*3*64    + 64  =     3,136   (no norm)     256 -> 128
      C128 s2  16*64*128  + 128 =   131,200                 128 -> 64
      C256 s2  16*128*256 + 256 =   524,544                  64 -> 32
      C512 s1  16*256*512 + 512 = 2,097,664                  32 -> 31
      out  s1  16*512*1   + 1   =     8,193                  31 -> 30
      total 2,764,737; a 30x30x1 map at 256 as in the official code

    three CONV-RELU layers (the thesis's L439 read literally), 4x4 convs with padding 1
      64 s2 3,136; 128 s2 131,200; 256 s2 524,544; out s1 16*256 + 1 = 4,097
      total 662,977; 256 -> 128 -> 64 -> 32 -> 31: a 31x31x1 map

Choices:

* Keras functional API. PyTorch's padding is reproduced exactly, not approximated with
  'same': ``nn.ReflectionPad2d`` is :class:`~gan_repro.models.layers.ReflectionPadding2D`, a
  conv with padding p is ``ZeroPadding2D(p)`` + a 'valid' conv
  (:func:`~gan_repro.models.layers.torch_conv`), and ``ConvTranspose2d(3, 2, padding=1,
  output_padding=1)`` is a 'valid' ``Conv2DTranspose`` cropped by one row and column at the top
  and left (:func:`~gan_repro.models.layers.torch_conv_transpose`). So output sizes (30x30 for
  the PatchGAN) and the alignment of every pixel are those of the official code.
* Instance norm is ``nn.InstanceNorm2d`` as Zhu's ``norm='instance'`` builds it: no affine
  parameters, no running statistics, eps 1e-5
  (:func:`~gan_repro.models.layers.instance_norm_torch`). With it Zhu sets ``use_bias=True``,
  so every conv has a bias.
* Residual blocks are Zhu's ``ResnetBlock``: reflect pad 1, conv, IN, ReLU, reflect pad 1, conv,
  IN, plus the input; no ReLU after the sum, no dropout.
* Initialisation as Zhu's ``init_weights(init_type='normal', init_gain=0.02)``: N(0, 0.02)
  kernels, zero biases.
* Discriminator (spec 003 section 8.1): the standard PatchGAN is
  :func:`cyclegan_patch_discriminator`; the thesis's "three CONV-RELU layers" is
  :func:`cyclegan_three_layer_discriminator` (ReLU, no norm, then a 1-channel output conv,
  which the thesis does not mention but a per-patch score needs). Both give raw scores: the
  loss (BCE as the thesis writes, or Zhu's LSGAN) decides what to do with them.
* The last conv and the tanh (generator) and the score conv (discriminators) are float32, so
  that images and scores stay float32 under a mixed-precision policy.
"""

from __future__ import annotations

import keras

from gan_repro.errors import BadOptionError
from gan_repro.models.layers import (
    ReflectionPadding2D,
    instance_norm_torch,
    torch_conv,
    torch_conv_length,
    torch_conv_transpose,
)
from gan_repro.registry import NETWORKS

CYCLEGAN_IMAGE_SHAPE = (256, 256, 3)


def _check_generator_size(image_shape) -> None:
    height, width = image_shape[:2]
    if height % 4 or width % 4:
        raise BadOptionError(
            f"image_shape={tuple(image_shape)} does not suit the CycleGAN ResNet generator: "
            "height and width must be multiples of 4, so that its two stride-2 convs and two "
            "stride-2 transposed convs give back the input size (e.g. 256 or 128)"
        )


def _check_score_map(image_shape, layers, what: str) -> None:
    """Refuse inputs too small for a >= 1x1 score map after ``layers`` = [(kernel, stride,
    padding), ...] PyTorch convs."""
    sides = []
    for n in image_shape[:2]:
        for kernel, stride, padding in layers:
            n = torch_conv_length(n, kernel, stride, padding)
        sides.append(n)
    if min(sides) < 1:
        raise BadOptionError(
            f"image_shape={tuple(image_shape)} is too small for the {what}: its convs leave a "
            f"{sides[0]}x{sides[1]} score map; use a larger image (256 gives 30x30 for the "
            "PatchGAN, 31x31 for the three-layer net)"
        )


@NETWORKS.register(
    "cyclegan_resnet_generator",
    source="Wang 2018 thesis §6.2.1 L439 = Zhu et al. 2017 ResnetGenerator (9 blocks, IN, reflect)",
)
def cyclegan_resnet_generator(
    image_shape: tuple[int, int, int] = CYCLEGAN_IMAGE_SHAPE,
    n_residual: int = 9,
    ngf: int = 64,
    name: str = "cyclegan_resnet_generator",
) -> keras.Model:
    """Zhu et al.'s ResNet generator (``ResnetGenerator(n_blocks=9)``; thesis L439 "two
    convolution layers with strides two ... 9 residual blocks, and two fractionally-strided
    convolutions"): [B, H, W, C] in [-1, 1] -> [B, H, W, C] in [-1, 1]. 11,378,179 parameters at
    9 blocks, 7,837,699 at 6, all trainable (module docstring).

    c7s1-64: reflect pad 3, Conv(ngf, 7) valid, IN, ReLU; d128, d256: Conv(3, s2, p1), IN, ReLU;
    ``n_residual`` x R256: [reflect pad 1, Conv(256, 3), IN, ReLU, reflect pad 1, Conv(256, 3),
    IN] + input; u128, u64: ConvTranspose(3, s2, p1, op1), IN, ReLU; c7s1-C: reflect pad 3,
    Conv(C, 7) valid, tanh. Every conv has a bias; IN has no parameters (Zhu's
    ``norm='instance'``). H and W must be multiples of 4.
    """
    _check_generator_size(image_shape)
    if n_residual < 0:
        raise BadOptionError(f"n_residual={n_residual} must be >= 0")
    channels = image_shape[2]
    x = keras.Input(image_shape, name="image")
    h = ReflectionPadding2D(3, name="c7s1_reflect")(x)
    h = torch_conv(ngf, 7, name="c7s1")(h)
    h = instance_norm_torch(name="c7s1_in")(h)
    h = keras.layers.ReLU(name="c7s1_relu")(h)
    filters = ngf
    for i in (1, 2):
        filters *= 2
        h = torch_conv(filters, 3, stride=2, padding=1, name=f"d{i}")(h)
        h = instance_norm_torch(name=f"d{i}_in")(h)
        h = keras.layers.ReLU(name=f"d{i}_relu")(h)
    for i in range(1, n_residual + 1):
        g = ReflectionPadding2D(1, name=f"res{i}_reflect1")(h)
        g = torch_conv(filters, 3, name=f"res{i}_1")(g)
        g = instance_norm_torch(name=f"res{i}_in1")(g)
        g = keras.layers.ReLU(name=f"res{i}_relu")(g)
        g = ReflectionPadding2D(1, name=f"res{i}_reflect2")(g)
        g = torch_conv(filters, 3, name=f"res{i}_2")(g)
        g = instance_norm_torch(name=f"res{i}_in2")(g)
        h = keras.layers.Add(name=f"res{i}_add")([h, g])
    for i in (1, 2):
        filters //= 2
        h = torch_conv_transpose(filters, 3, 2, padding=1, output_padding=1, name=f"u{i}")(h)
        h = instance_norm_torch(name=f"u{i}_in")(h)
        h = keras.layers.ReLU(name=f"u{i}_relu")(h)
    h = ReflectionPadding2D(3, name="out_reflect")(h)
    h = torch_conv(channels, 7, dtype="float32", name="out")(h)
    image = keras.layers.Activation("tanh", dtype="float32", name="translated")(h)
    return keras.Model(x, image, name=name)


@NETWORKS.register(
    "cyclegan_patch_discriminator",
    source="Wang 2018 thesis §6.2.1 L439 as Zhu et al. 2017 NLayerDiscriminator (70x70 PatchGAN)",
)
def cyclegan_patch_discriminator(
    image_shape: tuple[int, int, int] = CYCLEGAN_IMAGE_SHAPE,
    n_layers: int = 3,
    ndf: int = 64,
    name: str = "cyclegan_patch_discriminator",
) -> keras.Model:
    """Zhu et al.'s 70x70 PatchGAN (``NLayerDiscriminator(n_layers=3)``): [B, H, W, C] -> a
    [B, h, w, 1] map of raw scores, 30x30 at 256 as in the official code; 2,764,737 parameters,
    all trainable (module docstring).

    All convs are 4x4 with padding 1 (``ZeroPadding2D(1)`` + valid) and a bias: Conv(ndf, s2),
    LeakyReLU(0.2) (no norm); for n = 1 .. n_layers - 1: Conv(ndf * min(2^n, 8), s2), IN,
    LeakyReLU(0.2); Conv(ndf * min(2^n_layers, 8), s1), IN, LeakyReLU(0.2); Conv(1, s1), linear.
    IN has no parameters (Zhu's ``norm='instance'``).
    """
    if n_layers < 1:
        raise BadOptionError(f"n_layers={n_layers} must be >= 1")
    _check_score_map(
        image_shape, [(4, 2, 1)] * n_layers + [(4, 1, 1)] * 2, "PatchGAN discriminator"
    )
    x = keras.Input(image_shape, name="image")
    h = torch_conv(ndf, 4, stride=2, padding=1, name="d1")(x)
    h = keras.layers.LeakyReLU(0.2, name="d1_lrelu")(h)
    for n in range(1, n_layers + 1):
        stride = 2 if n < n_layers else 1
        h = torch_conv(ndf * min(2**n, 8), 4, stride=stride, padding=1, name=f"d{n + 1}")(h)
        h = instance_norm_torch(name=f"d{n + 1}_in")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"d{n + 1}_lrelu")(h)
    scores = torch_conv(1, 4, padding=1, dtype="float32", name="patch_scores")(h)
    return keras.Model(x, scores, name=name)


@NETWORKS.register(
    "cyclegan_three_layer_discriminator",
    source="Wang 2018 thesis §6.2.1 L439 read literally: three CONV-RELU layers + score conv",
)
def cyclegan_three_layer_discriminator(
    image_shape: tuple[int, int, int] = CYCLEGAN_IMAGE_SHAPE,
    ndf: int = 64,
    name: str = "cyclegan_three_layer_discriminator",
) -> keras.Model:
    """The thesis's "discriminator consists of three CONV-RELU layers" (L439) taken literally:
    [B, H, W, C] -> a [B, h, w, 1] map of raw scores, 31x31 at 256; 662,977 parameters, all
    trainable (module docstring).

    Three times Conv(f, 4, s2, p1) + ReLU for f = ndf, 2 ndf, 4 ndf (no norm: the thesis names
    none), then Conv(1, 4, s1, p1), linear (the output layer that any per-patch score needs; the
    thesis does not mention it). Widths, kernels and paddings follow Zhu's PatchGAN.
    """
    _check_score_map(image_shape, [(4, 2, 1)] * 3 + [(4, 1, 1)], "three-layer discriminator")
    x = keras.Input(image_shape, name="image")
    h = x
    for i in (1, 2, 3):
        h = torch_conv(ndf * 2 ** (i - 1), 4, stride=2, padding=1, name=f"d{i}")(h)
        h = keras.layers.ReLU(name=f"d{i}_relu")(h)
    scores = torch_conv(1, 4, padding=1, dtype="float32", name="patch_scores")(h)
    return keras.Model(x, scores, name=name)
