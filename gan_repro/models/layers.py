"""Layer recipes shared by the builders: initialisers, PReLU, batch norm, whole-image norm.

PReLU comes in two forms, both with initial slope 0.25 (SCoGAN thesis L1726, the authors'
``--prelu_init 0.25``, spec 10.1):

* ``"element"``: one slope per element of the feature map, Keras' ``PReLU()`` without
  ``shared_axes``. The SCoGAN authors' Keras nets use this form (spec 10.3); it is what gives
  their Table 3.1 generator its 8,116,099 parameters (``tests/test_models.py``).
* ``"channel"``: one slope per channel, shared over H and W, as Caffe's PReLU in the original
  CoGAN (mingyuliutw/CoGAN) that Tables 3.1/3.2 copy (L665).

PyTorch ports (Zhu et al.'s CycleGAN, the 2017 UNIT code; spec 003): :class:`ReflectionPadding2D`
is ``nn.ReflectionPad2d``; :func:`instance_norm_torch` is ``nn.InstanceNorm2d`` with its defaults;
:func:`torch_conv` and :func:`torch_conv_transpose` reproduce the padding arithmetic of
``nn.Conv2d(k, s, padding=p)`` and ``nn.ConvTranspose2d(k, s, padding=p, output_padding=op)``
exactly (same output sizes, same alignment of every output pixel) with plain Keras layers, so
that the models stay ordinary functional models.
"""

from __future__ import annotations

import keras

from gan_repro.errors import check_choice

INITIALIZERS = {
    # The SCoGAN thesis (L239-241, L996) describes Xavier as N(0, sqrt(2/(fan_in+fan_out))):
    # that is Glorot normal. The authors' code maps 'xavier' to glorot_uniform (spec 9.14).
    "xavier": lambda: keras.initializers.GlorotNormal(),
    "xavier_uniform": lambda: keras.initializers.GlorotUniform(),
    # DCGAN / CoGAN-Caffe N(0, 0.02) (spec 10.1 `--weight_init normal`).
    "normal": lambda: keras.initializers.RandomNormal(stddev=0.02),
}


def kernel_initializer(name: str) -> keras.initializers.Initializer:
    """A fresh initializer for ``name`` in :data:`INITIALIZERS` (refuses unknown names)."""
    check_choice("init", name, INITIALIZERS)
    return INITIALIZERS[name]()


PRELU_FORMS = ("element", "channel")


def prelu(
    name: str | None = None, conv: bool = True, slopes: str = "channel", init: float = 0.25
) -> keras.layers.PReLU:
    """PReLU with initial slope ``init`` (Keras' layer, computed in two element-wise passes by
    :class:`gan_repro.models.fused.PReLU`). ``slopes="channel"`` (Caffe): one slope per channel,
    shared over H, W of conv maps; ``slopes="element"`` (Keras default, the SCoGAN authors'
    code): one slope per element. For a flat (``conv=False``) input both are the same."""
    from gan_repro.models.fused import PReLU

    check_choice("prelu", slopes, PRELU_FORMS)
    return PReLU(
        alpha_initializer=keras.initializers.Constant(init),
        shared_axes=[1, 2] if conv and slopes == "channel" else None,
        name=name,
    )


def batch_norm(
    name: str | None = None, synchronized: bool = True
) -> keras.layers.BatchNormalization:
    """Batch norm before the activation (Table 3.1 note). ``synchronized`` makes the batch
    statistics global under a multi-replica ``tf.distribute`` strategy, so that N devices train
    exactly like one; on one device it is the ordinary layer, computed in training by the
    fused kernel (:class:`gan_repro.models.fused.BatchNormalization`)."""
    from gan_repro.models.fused import BatchNormalization

    return BatchNormalization(synchronized=synchronized, name=name)


@keras.saving.register_keras_serializable(package="gan_repro")
class WholeImageNormalization(keras.layers.Layer):
    """keras_contrib's ``InstanceNormalization()`` with its default ``axis=None``, the norm of
    eriklindernoren/Keras-GAN (``cyclegan/cyclegan.py``; spec 002 section 1.2).

    Each sample is normalised over all its non-batch axes together (H, W and C of an image:
    one mean and one standard deviation per image, so the other images of the batch do not
    matter), then scaled and shifted by ONE scalar ``gamma`` and ONE scalar ``beta`` (2
    parameters per layer, initialised to 1 and 0)::

        y = gamma * (x - mean) / (std + epsilon) + beta,    std = sqrt(population variance)

    As in keras_contrib, ``epsilon`` (1e-3) is added to the standard deviation, not to the
    variance under a square root (``K.std(...) + self.epsilon``); the two differ by at most
    ~epsilon / (2 std) relative. The variance is clamped at 1e-12 before the square root so that
    a constant sample gives a zero gradient instead of NaN (sqrt'(0) is infinite); the forward
    value changes by less than 1e-6 / epsilon relative only for such samples.

    The statistics are computed in float32 and the result cast back to the compute dtype, so
    the layer is safe under a mixed-precision policy. There are no moving statistics: training
    and inference behave the same.
    """

    def __init__(self, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"{self.name} needs a batch axis and one more; got {input_shape}")
        self.gamma = self.add_weight(shape=(1,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(1,), initializer="zeros", name="beta")

    def call(self, inputs):
        x = keras.ops.cast(inputs, "float32")
        axes = tuple(range(1, len(inputs.shape)))
        mean = keras.ops.mean(x, axis=axes, keepdims=True)
        variance = keras.ops.mean(keras.ops.square(x - mean), axis=axes, keepdims=True)
        std = keras.ops.sqrt(keras.ops.maximum(variance, 1e-12))
        y = (x - mean) / (std + self.epsilon)
        y = y * keras.ops.cast(self.gamma, "float32") + keras.ops.cast(self.beta, "float32")
        return keras.ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


# --------------------------------------------------------------------------------------------
# PyTorch ports: reflection padding, InstanceNorm2d, Conv2d / ConvTranspose2d padding
# --------------------------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="gan_repro")
class ReflectionPadding2D(keras.layers.Layer):
    """PyTorch's ``nn.ReflectionPad2d(padding)`` on NHWC maps: ``padding`` rows / columns on
    every side, mirrored about the edge pixel, which is not repeated (NumPy's ``mode="reflect"``,
    ``tf.pad(mode="REFLECT")``). ``padding`` must be smaller than the height and the width."""

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)
        if self.padding < 0:
            raise ValueError(f"padding={padding} must be >= 0")

    def call(self, inputs):
        p = self.padding
        return keras.ops.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape

        def grow(n):
            return None if n is None else n + 2 * self.padding

        return (batch, grow(height), grow(width), channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def instance_norm_torch(
    dtype: str | None = None, name: str | None = None
) -> keras.layers.GroupNormalization:
    """PyTorch's ``nn.InstanceNorm2d(C)`` with its defaults (``affine=False``, eps 1e-5, no
    running statistics): each channel of each image normalised over H, W with the biased
    variance, ``(x - mean) / sqrt(var + 1e-5)``, and no parameters. This is Zhu et al.'s
    ``norm='instance'`` and the norm of UNIT's ``INSResBlock``. The statistics are computed in
    float32 (Keras' GroupNormalization upcasts), so it is safe under mixed precision."""
    return keras.layers.GroupNormalization(
        groups=-1, center=False, scale=False, epsilon=1e-5, dtype=dtype, name=name
    )


class LayerChain:
    """Keras layers applied one after the other, like a small ``nn.Sequential`` that is not a
    model: calling it adds its layers to the functional graph being built. The layers are
    created once, so calling the same chain on two tensors (or in two models) shares their
    variables."""

    def __init__(self, layers):
        self.layers = list(layers)

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def weights(self) -> list:
        return [w for layer in self.layers for w in layer.weights]


def _named(name: str | None, suffix: str) -> str | None:
    return None if name is None else f"{name}_{suffix}"


def torch_conv_length(n: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """PyTorch's ``Conv2d`` output length ``floor((n + 2p - k) / s) + 1`` (< 1: input too small)."""
    return (n + 2 * padding - kernel) // stride + 1


def torch_conv(
    filters: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    use_bias: bool = True,
    init: str = "normal",
    dtype: str | None = None,
    name: str | None = None,
) -> LayerChain:
    """PyTorch's ``nn.Conv2d(C_in, filters, kernel, stride, padding=padding, bias=use_bias)``:
    ``ZeroPadding2D(padding)`` (left out when 0), then a 'valid' ``Conv2D``. The output is
    :func:`torch_conv_length` long and every output pixel sees the same inputs as in PyTorch
    (Keras' 'same' pads asymmetrically for even kernels and stride 2). Kernel from
    :func:`kernel_initializer` (``"normal"``: N(0, 0.02), the CycleGAN and UNIT init), zero
    bias. Layer names ``{name}_pad``, ``{name}_conv``."""
    layers = []
    if padding:
        layers.append(keras.layers.ZeroPadding2D(padding, dtype=dtype, name=_named(name, "pad")))
    layers.append(
        keras.layers.Conv2D(
            filters,
            kernel,
            strides=stride,
            padding="valid",
            use_bias=use_bias,
            kernel_initializer=kernel_initializer(init),
            bias_initializer="zeros",
            dtype=dtype,
            name=_named(name, "conv"),
        )
    )
    return LayerChain(layers)


def torch_conv_transpose_length(
    n: int, kernel: int, stride: int, padding: int = 0, output_padding: int = 0
) -> int:
    """PyTorch's ``ConvTranspose2d`` output length ``s (n - 1) + k - 2p + op``."""
    return stride * (n - 1) + kernel - 2 * padding + output_padding


def torch_conv_transpose(
    filters: int,
    kernel: int = 3,
    stride: int = 2,
    padding: int = 1,
    output_padding: int = 1,
    use_bias: bool = True,
    init: str = "normal",
    dtype: str | None = None,
    name: str | None = None,
) -> LayerChain:
    """PyTorch's ``nn.ConvTranspose2d(C_in, filters, kernel, stride, padding, output_padding)``
    exactly: the same output size (:func:`torch_conv_transpose_length`) and the same value at
    every output pixel.

    PyTorch scatters input pixel i through kernel tap j (no flip) to the "full" position
    ``o = s i + j``, ``o`` in ``[0, s (n - 1) + k)``, and keeps ``o' = o - p`` for ``o'`` in
    ``[0, s (n - 1) + k - 2p + op)``: ``p`` positions cropped at the top / left and ``p - op`` at
    the bottom / right. Keras' ``Conv2DTranspose(padding="valid", output_padding=q)`` gives that
    full map, with the same ``o = s i + j`` placement, plus ``q`` rows / columns at the end. So
    ``q = max(op - p, 0)`` (only when op > p does PyTorch keep positions that no input reaches;
    they hold the bias alone there, and here), then ``Cropping2D`` of ``p`` at the top / left and
    ``p + q - op`` at the bottom / right (left out when both are 0).

    k3 s2 p1 op1 (the CycleGAN / UNIT upsampler): full map 2n + 1, crop 1 top / left and none at
    the end, giving 2n with input pixel i at 2i + j - 1. k1 s1 p0: a plain 1x1 transposed conv.
    Kernel N(0, 0.02) by default (:func:`kernel_initializer`), zero bias. Layer names
    ``{name}_convT``, ``{name}_crop``.
    """
    if not 0 <= output_padding < stride:
        raise ValueError(
            f"output_padding={output_padding} must be >= 0 and smaller than stride={stride} "
            "(PyTorch's rule for ConvTranspose2d)"
        )
    extra = max(output_padding - padding, 0)
    crop_end = padding + extra - output_padding
    layers = [
        keras.layers.Conv2DTranspose(
            filters,
            kernel,
            strides=stride,
            padding="valid",
            output_padding=extra,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer(init),
            bias_initializer="zeros",
            dtype=dtype,
            name=_named(name, "convT"),
        )
    ]
    if padding or crop_end:
        crop = ((padding, crop_end), (padding, crop_end))
        layers.append(keras.layers.Cropping2D(crop, dtype=dtype, name=_named(name, "crop")))
    return LayerChain(layers)
