"""Layer recipes shared by the builders: initialisers, PReLU, batch norm.

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
