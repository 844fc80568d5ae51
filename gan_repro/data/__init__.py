"""Datasets and input pipelines.

* :mod:`.sources`: MNIST, SVHN, USPS loaders (local official files, TFDS, bundled samples).
* :mod:`.transforms`: pixel transforms of the SCoGAN thesis (spec 001 section 4).
* :mod:`.pipeline`: deterministic tf.data streams that resume at an exact example position.
* :mod:`.standin`: a synthetic SVHN look-alike for offline smoke runs (NOT SVHN).
* :mod:`.pruning`: SVHN confidence pruning (thesis L546).
"""

from .pipeline import image_stream, labelled_image_stream, shuffled_indices
from .pruning import confidence_mask, prune_domain
from .sources import (
    SOURCES,
    Domain,
    bundled_samples_dir,
    load_mnist,
    load_svhn,
    load_usps,
    mnist2edge,
    resolve_data_dir,
)
from .standin import STANDIN_WARNING, load_svhn_standin
from .transforms import (
    grey_to_rgb,
    mnist2edge_domains,
    mnist_edge,
    mnist_to_rgb32,
    resize_grey,
    to_rgb32,
    to_unit_range,
    usps_to_rgb32,
)

__all__ = [
    "SOURCES",
    "STANDIN_WARNING",
    "Domain",
    "bundled_samples_dir",
    "confidence_mask",
    "grey_to_rgb",
    "image_stream",
    "labelled_image_stream",
    "load_mnist",
    "load_svhn",
    "load_svhn_standin",
    "load_usps",
    "mnist2edge",
    "mnist2edge_domains",
    "mnist_edge",
    "mnist_to_rgb32",
    "prune_domain",
    "resize_grey",
    "resolve_data_dir",
    "shuffled_indices",
    "to_rgb32",
    "to_unit_range",
    "usps_to_rgb32",
]
