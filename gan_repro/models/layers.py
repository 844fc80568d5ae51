"""Layer recipes shared by the builders: initialisers, PReLU, batch norm.

The CoGAN/SCoGAN nets come from Caffe (mingyuliutw/CoGAN), so their PReLU is Caffe's: one slope per
channel, initial value 0.25 (SCoGAN thesis L1726; Keras' default slope is 0 and per element).
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


def prelu(name: str | None = None, conv: bool = True) -> keras.layers.PReLU:
    """Caffe-style PReLU: per-channel slopes (shared over H, W for conv maps), initial 0.25."""
    return keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(0.25),
        shared_axes=[1, 2] if conv else None,
        name=name,
    )


def batch_norm(
    name: str | None = None, synchronized: bool = True
) -> keras.layers.BatchNormalization:
    """Batch norm before the activation (Table 3.1 note). ``synchronized`` makes the batch
    statistics global under a multi-replica ``tf.distribute`` strategy, so that N devices train
    exactly like one; on one device it is the ordinary layer."""
    return keras.layers.BatchNormalization(synchronized=synchronized, name=name)
