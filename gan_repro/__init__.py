"""gan_repro: Keras 3 reproductions of five GAN theses.

The library is organised as DESIGN.md lays out: ``data`` (tf.data sources and pipelines),
``models`` (functional builders named after the published tables), ``losses`` (pure functions
citing the thesis equations), ``training`` (one GradientTape trainer core and the family step
functions), ``metrics`` and ``viz``. Experiments live in the repository's ``experiments/``.
"""

__version__ = "0.1.0"
