"""The fully connected toy GAN of the mode-collapse experiment: SCoGAN thesis Table 2.1 (L374-388).

Table 2.1 (verbatim)::

    Generator        Activation  Neurons      Discriminator    Activation  Neurons
    Input            -           100          Input            -           2
    Fully connected  Tanh        128          Fully connected  Tanh        128
    Fully connected  Tanh        128          Fully connected  Tanh        128
    Fully connected  Tanh        128          Fully connected  Tanh        128
    Output           Linear      2            Output           Sigmoid     1

The generator's Input row says 100, but the settings that go with the table (L390) say
``z_size = 10``; the builders take ``z_size`` and default to 10, the value the experiment ran
with (the authors' previous-semester ``Main.py`` also defaults ``--noise_dim 10`` for the toy).
The discriminator's Sigmoid row is the probability of the NS GAN; as in the authors' code
(``toy_disc``: ``Dense(1)`` then ``BinaryCrossentropy(from_logits=True)``) the builder returns the
logit by default and the loss applies the sigmoid. WGAN-GP drops the sigmoid (L461), so the
same logit is the critic value there. Initialisation is Keras' default (Glorot-uniform kernels,
zero biases), which is what the authors' toy nets used (no initializer given).

Parameter counts, layer by layer (weights + biases):

* generator, z_size=10: 10*128+128 = 1,408; 128*128+128 = 16,512 (twice); 128*2+2 = 258;
  total 34,690 (z_size=100, the Input row: 12,928 + 33,024 + 258 = 46,210);
* discriminator: 2*128+128 = 384; 16,512 (twice); 128*1+1 = 129; total 33,537.
"""

from __future__ import annotations

import keras

from gan_repro.registry import NETWORKS

__all__ = ["HIDDEN", "Z_SIZE", "toy_ring_discriminator", "toy_ring_generator"]

#: Neurons of each hidden fully connected layer (Table 2.1).
HIDDEN = 128
#: Latent size of the experiment (L390, ``z_size = 10``; the table's Input row says 100).
Z_SIZE = 10
_LAYERS = 3  # three Tanh layers in both nets (Table 2.1)


def _tanh_stack(x, hidden: int, layers: int, prefix: str):
    for i in range(layers):
        x = keras.layers.Dense(hidden, activation="tanh", name=f"{prefix}_fc{i + 1}")(x)
    return x


@NETWORKS.register("toy_ring_generator", source="SCoGAN thesis Table 2.1 (L374-388)")
def toy_ring_generator(
    z_size: int = Z_SIZE, hidden: int = HIDDEN, layers: int = _LAYERS, name: str = "toy_generator"
) -> keras.Model:
    """Table 2.1 generator: z [B, z_size] -> 3 x FC(128, tanh) -> FC(2, linear) -> x [B, 2].

    ``z_size`` defaults to the 10 of L390 (the table's Input row says 100, see module doc).
    The output layer is float32 under a mixed-precision policy (points, not activations).
    """
    z = keras.Input((z_size,), name="z")
    h = _tanh_stack(z, hidden, layers, "g")
    x = keras.layers.Dense(2, activation="linear", dtype="float32", name="g_out")(h)
    return keras.Model(z, x, name=name)


@NETWORKS.register("toy_ring_discriminator", source="SCoGAN thesis Table 2.1 (L374-388)")
def toy_ring_discriminator(
    hidden: int = HIDDEN,
    layers: int = _LAYERS,
    logits: bool = True,
    name: str = "toy_discriminator",
) -> keras.Model:
    """Table 2.1 discriminator: x [B, 2] -> 3 x FC(128, tanh) -> FC(1) -> [B, 1].

    ``logits=True`` (default) returns the pre-sigmoid value, which the NS loss turns into
    ``D(x) = sigmoid(logit)`` and WGAN-GP uses as the critic value (the authors' ``toy_disc``);
    ``logits=False`` appends the table's Sigmoid for a probability output.
    """
    x = keras.Input((2,), name="points")
    h = _tanh_stack(x, hidden, layers, "d")
    out = keras.layers.Dense(
        1, activation=None if logits else "sigmoid", dtype="float32", name="d_out"
    )(h)
    return keras.Model(x, out, name=name)
