"""Layer recipes shared by the builders: initialisers, PReLU, batch norm, whole-image norm.

PReLU comes in two forms, both with initial slope 0.25 (SCoGAN thesis L1726, the authors'
``--prelu_init 0.25``, spec 10.1):

* ``"element"``: one slope per element of the feature map, Keras' ``PReLU()`` without
  ``shared_axes``. The SCoGAN authors' Keras nets use this form (spec 10.3); it is what gives
  their Table 3.1 generator its 8,116,099 parameters (``tests/test_models.py``).
* ``"channel"``: one slope per channel, shared over H and W, as Caffe's PReLU in the original
  CoGAN (mingyuliutw/CoGAN) that Tables 3.1/3.2 copy (L665).
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
    """PReLU with initial slope ``init``. ``slopes="channel"`` (Caffe): one slope per channel,
    shared over H, W of conv maps; ``slopes="element"`` (Keras default, the SCoGAN authors'
    code): one slope per element. For a flat (``conv=False``) input both are the same."""
    check_choice("prelu", slopes, PRELU_FORMS)
    return keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(init),
        shared_axes=[1, 2] if conv and slopes == "channel" else None,
        name=name,
    )


def batch_norm(
    name: str | None = None, synchronized: bool = True
) -> keras.layers.BatchNormalization:
    """Batch norm before the activation (Table 3.1 note). ``synchronized`` makes the batch
    statistics global under a multi-replica ``tf.distribute`` strategy, so that N devices train
    exactly like one; on one device it is the ordinary layer."""
    return keras.layers.BatchNormalization(synchronized=synchronized, name=name)


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
