"""Perceptual loss of SCoGAN-PL (spec 001, sections 1.8, 2.6 and 10.5).

A frozen ImageNet VGG19 (``keras.applications.VGG19``, L965, L990, Listing 6.17 L1632; L972's
"VGG16" is a typo) gives feature maps of the generated and real images. The content (feature
reconstruction) term compares G1(z) with G2(z); the style term compares each G_i(z) with a real
batch of its own domain through Gram matrices (Eq 4.5, L972-976; Listings 6.17-6.18,
L1631-1706). The layer names are not in the thesis; they are the authors' code's (spec 10.5).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from gan_repro.errors import CorruptDataError
from gan_repro.pretrained import KerasWeights, cache_candidates, resolve_weights

__all__ = [
    "CONTENT_LAYERS",
    "STYLE_LAYERS",
    "VGG19_WEIGHTS_FILE",
    "VGG19_WEIGHTS_URL",
    "gram_matrix",
    "perceptual_losses",
    "vgg19_features",
    "vgg19_weights_path",
]

CONTENT_LAYERS = ("block5_conv2",)
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")

VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + VGG19_WEIGHTS_FILE
)
VGG19_WEIGHTS = KerasWeights(
    "VGG19 ImageNet notop weights (perceptual loss)",
    VGG19_WEIGHTS_FILE,
    VGG19_WEIGHTS_URL,
    md5="253f8cb515780f3b799900260a226db6",  # what keras.applications.VGG19 itself checks
)


def vgg19_weights_path() -> Path:
    """Where Keras caches the ImageNet VGG19 notop weights: ``$KERAS_HOME/models/`` (or
    ``~/.keras/models/``) + ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5``."""
    return cache_candidates(VGG19_WEIGHTS)[0]


class _VGGPreprocess(keras.layers.Layer):
    """[-1, 1] generator images -> [0, 255] -> ``vgg19.preprocess_input`` (L1639-1640).

    ``preprocess_input`` is Caffe style: RGB -> BGR and ImageNet channel means subtracted.
    """

    def call(self, inputs):
        x = (0.5 * tf.cast(inputs, self.compute_dtype) + 0.5) * 255.0
        return keras.applications.vgg19.preprocess_input(x)


def vgg19_features(weights="imagenet", input_shape=(32, 32, 3)) -> keras.Model:
    """Frozen VGG19 feature extractor: ``images in [-1,1] -> {layer_name: feature map}``.

    ``VGG19(include_top=False)`` with ImageNet weights, frozen (spec 1.8, 10.5). The returned
    model maps a ``[B, H, W, 3]`` batch in [-1, 1] to a dict with the
    ``CONTENT_LAYERS + STYLE_LAYERS`` outputs; the mapping to [0, 255] and
    ``keras.applications.vgg19.preprocess_input`` happen inside the model (L1639-1640).
    VGG19 needs inputs of at least 32x32; at 32x32 the block5 maps are 2x2x512.

    Args:
        weights: "imagenet" (the Keras cache file if present, else Keras downloads it), a path
            to the notop ``.h5`` weights file, or None (random weights, for tests).
        input_shape: ``(H, W, 3)`` of the generator images.

    Returns:
        A ``keras.Model`` with no trainable weights whose output is a dict of tensors.

    Raises:
        WeightsMissingError: the weights are neither cached nor downloadable, or the given
            path does not exist; the message names the cache path and the official URL.
        CorruptDataError: the weights file exists but cannot be loaded into VGG19.
    """
    weights_path = resolve_weights(VGG19_WEIGHTS, weights)
    input_shape = tuple(input_shape)
    vgg = keras.applications.VGG19(include_top=False, weights=None, input_shape=input_shape)
    if weights_path is not None:
        try:
            vgg.load_weights(weights_path)
        except Exception as exc:
            raise CorruptDataError(
                f"VGG19 weights file {weights_path} exists but cannot be loaded "
                f"({type(exc).__name__}: {exc}). It should be the notop ImageNet file "
                f"{VGG19_WEIGHTS_URL}; download it again and place it at {vgg19_weights_path()}, "
                "or pass the path of a good copy as weights=..."
            ) from exc
    vgg.trainable = False
    names = CONTENT_LAYERS + STYLE_LAYERS
    inputs = keras.Input(shape=input_shape, name="images")
    x = _VGGPreprocess(name="vgg19_preprocess")(inputs)
    extractor = keras.Model(vgg.input, [vgg.get_layer(n).output for n in names], name="vgg19")
    outputs = extractor(x)
    model = keras.Model(inputs, dict(zip(names, outputs, strict=True)), name="vgg19_features")
    model.trainable = False
    return model


def gram_matrix(features) -> tf.Tensor:
    """Gram matrices ``einsum('bijc,bijd->bcd', F, F) / (H*W)`` of ``[B, H, W, C]`` features.

    Follows the code (Listing 6.17; spec 10.5), which divides by ``H*W`` only; Eq 4.5 (L972)
    prints ``1/(H_j W_j C_j)``. Computed in float32.
    """
    f = tf.cast(features, tf.float32)
    shape = tf.shape(f)
    hw = tf.cast(shape[1] * shape[2], tf.float32)
    return tf.einsum("bijc,bijd->bcd", f, f) / hw


def perceptual_losses(
    feats_fake1: dict,
    feats_fake2: dict,
    feats_real1: dict,
    feats_real2: dict,
    content_weight: float = 1e-3,
    style_weight: float = 1e-11,
):
    """Perceptual loss terms ``(content, style1, style2)`` (Eq 4.5, L972-976; Listings 6.17-6.18).

    * ``content = content_weight * mean over CONTENT_LAYERS of mean((F(G1(z)) - F(G2(z)))²)``
      (FRL; the code divides by the number of content layers, here 1).
    * ``style_i = style_weight * Σ_{STYLE_LAYERS} mean((Gram(F(G_i(z))) - Gram(F(x_i)))²) / 5``
      (SRL, Gram with the code's H*W normaliser, see ``gram_matrix``), x_i a real batch of
      domain i (the code uses the last critic iteration's real batches, spec 10.2).

    G1's perceptual term is ``content + style1`` and G2's is ``content + style2``. The means run
    over all elements (batch included), as ``reduce_mean`` in the code; fake and real batches
    must have the same size.

    Default weights α_PL = 1e-3 and β_PL = 1e-11: the thesis gives β as 1e-13 (L988), 1e-11
    (L1092, L1147) and 1e-12 (L1749); the authors' run configs use 1e-11, which is the spec's
    recommendation (spec 2.6, 9.9).

    Args:
        feats_fake1, feats_fake2: ``vgg19_features`` outputs on G1(z) and G2(z) (same z).
        feats_real1, feats_real2: ``vgg19_features`` outputs on real batches of each domain.
        content_weight: α_PL.
        style_weight: β_PL.

    Returns:
        Tuple of three float32 scalars ``(content, style1, style2)``.
    """
    content = tf.add_n(
        [
            tf.reduce_mean(
                tf.math.squared_difference(
                    tf.cast(feats_fake1[n], tf.float32), tf.cast(feats_fake2[n], tf.float32)
                )
            )
            for n in CONTENT_LAYERS
        ]
    )
    content = content * content_weight / len(CONTENT_LAYERS)

    def style(fake: dict, real: dict) -> tf.Tensor:
        total = tf.add_n(
            [
                tf.reduce_mean(
                    tf.math.squared_difference(gram_matrix(fake[n]), gram_matrix(real[n]))
                )
                for n in STYLE_LAYERS
            ]
        )
        return total * style_weight / len(STYLE_LAYERS)

    return content, style(feats_fake1, feats_real1), style(feats_fake2, feats_real2)
