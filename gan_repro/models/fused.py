"""Drop-in Keras layers that compute the same function with faster kernels (issue 11).

Each class subclasses the Keras layer it replaces and keeps its variables, its configuration and
its parameter count, so checkpoints, weight loading and the published tables are unchanged; only
the ops that compute ``call`` differ, and their results agree with the Keras layer's to float32
rounding (``tests/test_fused_layers.py``). They exist because the SCoGAN generator step on a
CPU spends most of its time in a few of Keras's op sequences (profile in
``benchmarks/RESULTS.md``):

* :class:`BatchNormalization`: Keras 3 computes training-mode batch statistics with separate
  reductions (and, when ``synchronized``, a full-size ``ones_like`` tensor to count elements),
  then normalises in two more passes. On one replica this layer calls the fused batch-norm kernel
  (oneDNN on a CPU, cuDNN on a GPU), forward and backward; under a multi-replica strategy with
  ``synchronized=True`` it falls back to Keras's cross-replica statistics, so N replicas still
  train like one device.
* :class:`PReLU`: Keras computes ``relu(x) - alpha * relu(-x)`` in five element-wise passes;
  ``where(x > 0, x, alpha * x)`` is the same number for every x, and compiled by XLA as a small
  function of its own it is one loop forward and one backward.
* :class:`MatmulConv2DTranspose`: oneDNN's transposed convolution (``Conv2DBackpropInput``) is
  slow on small feature maps with many channels (the 4x4x1024 -> 8x8x512 block of Table 3.1:
  about 45 % of the machine's matmul rate) and on few output channels (the 6x6 kernel to 3 RGB
  channels: about 20 %). On a CPU this layer computes the transposed convolution as one matmul
  of the input pixels with the kernel, ``[B*h*w, Cin] @ [Cin, k*k*Cout]``, and the overlap-add
  of the k*k taps (``col2im``) as a small XLA-compiled function; forward and backward then run
  at 85-90 % of the matmul rate for the first block and twice oneDNN's rate for the output
  layer. On a GPU it is the Keras layer.

``GAN_REPRO_FUSED=0`` in the environment makes every one of them call the Keras layer's own ops
(to compare, or where two runs must take the same kernels, e.g. one device against several
replicas, whose synchronised batch norm cannot use the fused kernel).

The pattern is the one that pays on a CPU: oneDNN for the matmuls and convolutions, XLA for the
element-wise glue between them (XLA's own CPU convolutions are slow, so compiling the whole step
is not the answer there; on a GPU the trainer compiles the whole step).
"""

from __future__ import annotations

import functools
import os

import keras
import tensorflow as tf


def _enabled() -> bool:
    """The faster kernels are on unless ``GAN_REPRO_FUSED=0``."""
    return os.environ.get("GAN_REPRO_FUSED", "1") != "0"


@functools.cache
def _has_gpu() -> bool:
    return bool(tf.config.list_logical_devices("GPU"))


def _one_replica() -> bool:
    """True outside any ``tf.distribute`` strategy or under a one-replica one."""
    ctx = tf.distribute.get_replica_context()
    if ctx is None:  # cross-replica context: the strategy decides
        return tf.distribute.get_strategy().num_replicas_in_sync == 1
    return ctx.num_replicas_in_sync == 1


@keras.saving.register_keras_serializable(package="gan_repro")
class BatchNormalization(keras.layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` whose training-mode call on a 4-D float32 NHWC input
    on one replica is the fused kernel: the same normalisation (biased batch variance) and the
    same moving-statistics update (``moving = momentum * moving + (1 - momentum) * batch``, with
    the biased batch variance, as Keras does). Every other case is Keras's own ``call``."""

    def _fusable(self, inputs, training, mask) -> bool:
        return (
            _enabled()
            and training is True
            and self.trainable
            and mask is None
            and not self.renorm
            and self.center
            and self.scale
            and self.axis in (-1, len(inputs.shape) - 1)
            and len(inputs.shape) == 4
            and inputs.dtype == tf.float32
            and _one_replica()
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fusable(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs,
            tf.convert_to_tensor(self.gamma),
            tf.convert_to_tensor(self.beta),
            epsilon=self.epsilon,
            is_training=True,
            data_format="NHWC",
        )
        # the kernel returns the unbiased (n-1) variance for running averages; Keras averages
        # the biased one
        n = tf.cast(tf.reduce_prod(tf.shape(inputs)[:-1]), tf.float32)
        variance = variance * (n - 1.0) / n
        m = self.momentum
        self.moving_mean.assign(self.moving_mean * m + mean * (1.0 - m))
        self.moving_variance.assign(self.moving_variance * m + variance * (1.0 - m))
        return y


@keras.saving.register_keras_serializable(package="gan_repro")
class PReLU(keras.layers.PReLU):
    """``keras.layers.PReLU`` (same ``alpha`` variable and shapes) computed as
    ``where(x > 0, x, alpha * x)``: for x > 0 both give x, for x <= 0 both give alpha * x
    exactly (``-alpha * relu(-x)`` with exact sign flips)."""

    def call(self, inputs):
        if not _enabled():
            return super().call(inputs)
        return _prelu(inputs, tf.cast(self.alpha, inputs.dtype))


@tf.function(jit_compile=True)
def _prelu(x, alpha):
    """One XLA loop for the compare, multiply and select (and one for their gradient): three
    to five times less time than the same ops one by one on a CPU."""
    return tf.where(x > 0, x, alpha * x)


def conv_transpose_matmul(x: tf.Tensor, kernel: tf.Tensor, stride: int, bias=None) -> tf.Tensor:
    """``tf.nn.conv2d_transpose(x, kernel, stride, "SAME") (+ bias)`` for a square ``kernel``
    ``[k, k, Cout, Cin]`` as a matmul and an overlap-add.

    Input pixel (i, j) adds ``x[i, j] @ kernel[ky, kx]`` to output pixel
    ``(s*i + ky - top, s*j + kx - left)``, where ``top``/``left`` are the SAME padding that the
    forward convolution of the output would put before each axis. The matmul (oneDNN) gives
    every (pixel, tap) product at once; the overlap-add places the taps row by row and column by
    column, compiled by XLA into a few loops (:func:`_overlap_add_fn`).
    """
    k, _, cout, cin = kernel.shape
    h, w = x.shape[1], x.shape[2]
    taps = tf.reshape(tf.transpose(kernel, (3, 0, 1, 2)), (cin, k * k * cout))
    y = tf.matmul(tf.reshape(x, (-1, cin)), taps)
    y = tf.reshape(y, (-1, h, w, k, k * cout))
    if bias is None:
        bias = tf.zeros((cout,), y.dtype)
    return _overlap_add_fn(k, stride, cout)(y, bias)


@functools.cache
def _overlap_add_fn(k: int, stride: int, cout: int):
    """The XLA-compiled overlap-add of :func:`conv_transpose_matmul` for one kernel size,
    stride and channel count: ``[B, h, w, k, k*Cout]`` tap products (+ bias) to
    ``[B, s*h, s*w, Cout]``. Unfused, its pads, slices and sums cost as much as the matmul."""

    @tf.function(jit_compile=True)
    def overlap_add(y, bias):
        h, w = y.shape[1], y.shape[2]
        ho, wo = h * stride, w * stride
        top = max((h - 1) * stride + k - ho, 0) // 2
        left = max((w - 1) * stride + k - wo, 0) // 2
        rows = _overlap_add(tf.unstack(y, axis=3), axis=1, stride=stride)[:, top : top + ho]
        rows = tf.reshape(rows, (-1, ho, w, k, cout))
        cols = _overlap_add(tf.unstack(rows, axis=3), axis=2, stride=stride)
        return tf.nn.bias_add(cols[:, :, left : left + wo], bias)

    return overlap_add


def _overlap_add(taps: list[tf.Tensor], axis: int, stride: int) -> tf.Tensor:
    """Sum of the ``taps`` (each ``[..., n, ...]`` along ``axis``), tap t placed with its
    element i at ``stride * i + t`` on an axis of length ``stride * (n - 1) + len(taps)``."""
    n = taps[0].shape[axis]
    spread_len = stride * (n - 1) + 1
    full = spread_len + len(taps) - 1
    placed = []
    for t, v in enumerate(taps):
        if stride > 1:  # interleave stride-1 zeros after each element along the axis
            v = tf.expand_dims(v, axis + 1)
            pads = [[0, 0]] * len(v.shape)
            pads[axis + 1] = [0, stride - 1]
            v = tf.pad(v, pads)
            shape = tf.unstack(tf.shape(v))
            v = tf.reshape(v, tf.stack([*shape[:axis], n * stride, *shape[axis + 2 :]]))
            v = _head(v, axis, spread_len)
        pads = [[0, 0]] * len(v.shape)
        pads[axis] = [t, full - t - spread_len]
        placed.append(tf.pad(v, pads))
    return tf.add_n(placed)


def _head(v: tf.Tensor, axis: int, length: int) -> tf.Tensor:
    """The first ``length`` elements of ``v`` along ``axis``."""
    begin = [0] * len(v.shape)
    size = [-1] * len(v.shape)
    size[axis] = length
    return tf.slice(v, begin, size)


@keras.saving.register_keras_serializable(package="gan_repro")
class MatmulConv2DTranspose(keras.layers.Conv2DTranspose):
    """``keras.layers.Conv2DTranspose`` (same kernel, bias, shapes and initialisers) computed on
    a CPU by :func:`conv_transpose_matmul` for square kernels, equal strides and ``"same"``
    padding; on a GPU, or for any other configuration, the Keras layer's own ``call``."""

    def _matmul_ok(self, inputs) -> bool:
        return (
            _enabled()
            and not _has_gpu()
            and self.padding == "same"
            and self.data_format == "channels_last"
            and self.output_padding is None
            and tuple(self.dilation_rate) == (1, 1)
            and self.kernel_size[0] == self.kernel_size[1]
            and self.strides[0] == self.strides[1]
            and inputs.shape[1] is not None
            and inputs.shape[2] is not None
        )

    def call(self, inputs):
        if not self._matmul_ok(inputs):
            return super().call(inputs)
        kernel = tf.cast(tf.convert_to_tensor(self.kernel), inputs.dtype)
        bias = tf.cast(self.bias, inputs.dtype) if self.use_bias else None
        y = conv_transpose_matmul(inputs, kernel, self.strides[0], bias)
        return self.activation(y) if self.activation is not None else y
