"""The datasets a declaration names (``data: {dataset: NAME, ...}``), as registry entries.

Each entry is ``fn(ctx, **options) -> Inputs``: the family's input arrays by name, a provenance
record (written to the run's ``config.json`` and the experiment's ``data.json``), resources and
loud warnings. ``ctx`` is the runner's :class:`gan_repro.runner.Context` (``ctx.paper``,
``ctx.data_dir``, ``ctx.seed``, ``ctx.out``). ``full: true`` (paper scale) reads the full
official datasets (``--data-dir``/``GAN_REPRO_DATA`` files or TFDS) and stops with the fix when
they are missing; ``full: false`` reads the real samples bundled in ``data/samples`` (or the
data dir when one is set, where the dataset says so). SVHN is not bundled: without ``full`` the
MNIST2SVHN pair uses a loudly labelled STAND-IN, recorded as such.

A data section may also name ``prepare: [HOOK, ...]``: ``HOOKS`` entries
``fn(ctx, inputs, **options) -> Inputs`` applied in order, with their options from the data
section under their own name (e.g. the SVHN pruning with the Table B.1 classifier,
:func:`gan_repro.hooks.svhn_pruning`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gan_repro.data.sources import Domain, load_mnist, load_svhn
from gan_repro.data.standin import STANDIN_WARNING, load_svhn_standin
from gan_repro.data.transforms import (
    mnist2edge_domains,
    mnist2negative_domains,
    mnist_to_rgb32,
)
from gan_repro.errors import check_choice
from gan_repro.registry import DATASETS


@dataclass
class Inputs:
    """What a dataset entry gives: the family's arrays by name, where they came from, resources
    (frozen networks it trained or used) and warnings the run must print loudly."""

    arrays: dict[str, np.ndarray]
    record: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: held-out Domains ``domain1``/``domain2`` (the test splits) for what must not see the
    #: training data (e.g. an independent judge's training)
    held_out: dict[str, Any] = field(default_factory=dict)


@DATASETS.register("mnist_svhn", source="SCoGAN thesis section 4: MNIST train + SVHN train")
def mnist_svhn(ctx, full: bool = True) -> Inputs:
    """Domain 1 = MNIST at 32x32x3, domain 2 = SVHN (L519, L546), uint8. Without ``full``: the
    bundled real MNIST t10k sample and an SVHN STAND-IN made from MNIST digits (NOT SVHN)."""
    if full:
        mnist, svhn = load_mnist("train", ctx.data_dir), load_svhn("train", ctx.data_dir)
        held_out = {
            "domain1": load_mnist("test", ctx.data_dir),
            "domain2": load_svhn("test", ctx.data_dir),
        }
        warnings = []
    else:
        mnist = load_mnist("test", source="bundled")
        svhn = load_svhn_standin(n=len(mnist.images), seed=ctx.seed)
        held_out = {}
        warnings = [STANDIN_WARNING]
    x1 = mnist_to_rgb32(mnist.images)
    record = {
        "domain1": mnist.provenance,
        "domain2": svhn.provenance,
        "svhn_standin": not full,
        "domain1_size": len(x1),
        "domain2_size": len(svhn.images),
    }
    return Inputs(
        {"domain1": x1, "domain2": svhn.images},
        record,
        resources={"domains": (mnist, svhn)},
        warnings=warnings,
        held_out=held_out,
    )


@DATASETS.register("mnist_pair", source="SCoGAN thesis section 4: MNIST2edge, MNIST2negative")
def mnist_pair(ctx, pair: str = "edge", full: bool = True) -> Inputs:
    """Two disjoint halves of MNIST at 32x32x3: plain digits and their edges (``pair: edge``,
    L533-537) or their colour negatives (``pair: negative``, Fig 3.2b). Without ``full``: the
    same from the real MNIST t10k files (10,000 digits, 5,000 per domain) of the data dir when
    one is set, else the bundled copy."""
    check_choice("pair", pair, ("edge", "negative"))
    if full:
        mnist = load_mnist("train", ctx.data_dir)
    else:
        mnist = load_mnist("test", ctx.data_dir, source="local" if ctx.data_dir else "bundled")
    split = mnist2edge_domains if pair == "edge" else mnist2negative_domains
    plain, other = split(mnist.images)
    half = len(plain)
    first = mnist.subset(slice(0, half), note=f"MNIST2{pair} domain 1: images [0, {half})")
    what = "dilate(3x3)-minus-image edges" if pair == "edge" else "colour negatives (255 - x)"
    second = Domain(
        f"mnist_{pair}",
        other,
        mnist.labels[half : 2 * half],
        f"{mnist.provenance}; MNIST2{pair} domain 2: {what} of images [{half}, {2 * half})",
    )
    record = {
        "pair": pair,
        "domain1": first.provenance,
        "domain2": second.provenance,
        "domain1_size": len(first.images),
        "domain2_size": len(second.images),
    }
    held_out = {}
    if full:  # the test split, made into the same two domains
        test = load_mnist("test", ctx.data_dir)
        t_plain, t_other = split(test.images)
        n = len(t_plain)
        held_out = {
            "domain1": test.subset(slice(0, n), note="test split, domain 1"),
            "domain2": Domain(f"mnist_{pair}_test", t_other, test.labels[n : 2 * n], "test"),
        }
    return Inputs(
        {"domain1": mnist_to_rgb32(first.images), "domain2": mnist_to_rgb32(second.images)},
        record,
        resources={"domains": (first, second)},
        held_out=held_out,
    )


@DATASETS.register("utkface", source="Face-aging thesis L800, L858, L920-926: UTKFace age groups")
def utkface(ctx, variant: str = "cgan", size: int | None = None, full: bool = True) -> Inputs:
    """The UTKFace faces of a model's data variant (:data:`gan_repro.data.utkface.VARIANTS`:
    scheme, size, colour), ``size`` overriding the variant's (the smoke CycleGAN's 32x32).
    ``full``: the full folder in the data dir (``data_dir=``/``GAN_REPRO_DATA``; there is no TFDS
    UTKFace), else the data dir if one is set, else the ~200 faces bundled in
    ``data/samples/utkface``. Arrays ``images``/``labels`` (group index); for the ``cyclegan``
    variant ``a``/``b``, its two age groups. The FaceDomain is the ``faces`` resource."""
    from gan_repro.data.sources import resolve_data_dir
    from gan_repro.data.utkface import VARIANTS, load_utkface

    check_choice("variant", variant, tuple(VARIANTS))
    settings = dict(VARIANTS[variant], **({"size": int(size)} if size is not None else {}))
    if full or resolve_data_dir(ctx.data_dir) is not None:
        faces = load_utkface(ctx.data_dir, source="auto", **settings)
    else:
        faces = load_utkface(source="bundled", **settings)
    if variant == "cyclegan":
        arrays = {"a": faces.group(0).images, "b": faces.group(1).images}
    else:
        arrays = {"images": faces.images, "labels": faces.labels}
    record = {"variant": variant, "provenance": faces.provenance, "counts": faces.counts()}
    return Inputs(arrays, record, resources={"faces": faces})


@DATASETS.register("mnist_usps", source="CycleGAN MNIST<->USPS reports: 002 L146-164, 004 L161-165")
def mnist_usps(ctx, size: int = 28, channels: int = 1, full: bool = True) -> Inputs:
    """Domain A = MNIST, domain B = USPS, both prepared as grey digits bilinearly resized to
    ``size`` with ``channels`` equal channels: 128 x 128 x 3 for Grignon & Joly (L152-154,
    their trainA/trainB folders), 28 x 28 x 1 for Kasmi & Thimonier (USPS resized up to MNIST's
    size, spec 004 section 1.1). Arrays ``a``/``b`` (uint8, prepared); the native training
    Domains are the ``domains`` resource and the native test splits the held-out domains
    ``domain1``/``domain2`` (the evaluation prepares them the same way).

    ``full``: MNIST's 60,000 training and 10,000 test digits (local idx files or TFDS). Else the
    real MNIST t10k digits (the data dir's if one is set, else the bundled copy), the first half
    to train on and the second half held out. USPS is always the complete ESL set, 7,291 train
    and 2,007 test (the data dir's ``zip.train``/``usps.h5``/npz when it has them, else the copy
    bundled with the suite)."""
    from gan_repro.data.sources import load_usps
    from gan_repro.data.transforms import prepare_digits
    from gan_repro.errors import DatasetMissingError

    if full:
        mnist_train, mnist_test = (
            load_mnist("train", ctx.data_dir),
            load_mnist("test", ctx.data_dir),
        )
    else:
        t10k = load_mnist("test", ctx.data_dir, source="local" if ctx.data_dir else "bundled")
        half = len(t10k) // 2
        mnist_train = t10k.subset(slice(0, half), note=f"t10k [0, {half}) to train on")
        mnist_test = t10k.subset(slice(half, None), note=f"t10k [{half}, {len(t10k)}) held out")
    usps = {}
    for split in ("train", "test"):
        try:
            usps[split] = load_usps(split, ctx.data_dir, source="local")
        except DatasetMissingError:
            usps[split] = load_usps(split, source="bundled")
    record = {
        "domain_a": mnist_train.provenance,
        "domain_b": usps["train"].provenance,
        "held_out_a": mnist_test.provenance,
        "held_out_b": usps["test"].provenance,
        "preparation": {"size": int(size), "channels": int(channels), "resize": "bilinear"},
        "sizes": {
            "a": len(mnist_train),
            "b": len(usps["train"]),
            "held_out_a": len(mnist_test),
            "held_out_b": len(usps["test"]),
        },
        # Keras-GAN's epoch: min(|A|, |B|) batches (spec 002 section 8.5)
        "epoch_examples": min(len(mnist_train), len(usps["train"])),
    }
    arrays = {
        "a": prepare_digits(mnist_train.images, size, channels),
        "b": prepare_digits(usps["train"].images, size, channels),
    }
    return Inputs(
        arrays,
        record,
        resources={"domains": (mnist_train, usps["train"])},
        held_out={"domain1": mnist_test, "domain2": usps["test"]},
    )


def prepared_held_out(inputs: Inputs, n: int | None = None) -> tuple[tuple[np.ndarray, ...], ...]:
    """``((x_a, y_a), (x_b, y_b))``: the first ``n`` held-out test digits of each domain of a
    ``mnist_usps`` input (all with ``None``), prepared as the training arrays are (the record's
    ``preparation``), with their labels."""
    from gan_repro.data.transforms import prepare_digits

    prep = inputs.record["preparation"]
    domains = inputs.held_out["domain1"], inputs.held_out["domain2"]
    return tuple(
        (prepare_digits(d.images[:n], prep["size"], prep["channels"]), d.labels[:n])
        for d in domains
    )


def _unpaired_inputs(uset, substitution: str | None, **record) -> Inputs:
    """Inputs of an :class:`~gan_repro.data.unpaired.UnpairedSet`: arrays ``a``/``b`` (train),
    held-out ``test_a``/``test_b``; the substitution sentence first among the warnings."""
    rec = uset.record
    sizes = {
        "a": rec["sizes"]["trainA"],
        "b": rec["sizes"]["trainB"],
        "test_a": rec["sizes"]["testA"],
        "test_b": rec["sizes"]["testB"],
    }
    warnings = ([substitution] if substitution else []) + list(rec["warnings"])
    record = {
        **record,
        "root": rec["root"],
        "sizes": sizes,
        "requested_sizes": rec["requested_sizes"],
        "preparation": rec["preparation"],
        "provenance": rec["provenance"],
        "substitution": substitution,
        "loader": {k: v for k, v in rec.items() if k not in ("provenance", "warnings")},
        "warnings": warnings,
    }
    return Inputs(
        {"a": uset.train_a, "b": uset.train_b},
        record,
        resources={"names": uset.names},
        warnings=warnings,
        held_out={"test_a": uset.test_a, "test_b": uset.test_b},
    )


@DATASETS.register("unpaired", source="CycleGAN-layout folders or TFDS cycle_gan/*")
def unpaired(
    ctx,
    pair: str = "selfie2anime",
    source: str = "folder",
    size: int = 256,
    train_sizes=None,
    test_sizes=None,
    crop: str = "center",
    root=None,
) -> Inputs:
    """The photo <-> anime experiment's two unpaired domains (spec 003 section 4, L421-439),
    uint8 ``size x size x 3`` (256 in the thesis, L439). ``source: folder``: a CycleGAN-layout
    folder (trainA/ trainB/ testA/ testB/): ``root`` if given, else ``<data dir>/<pair>``,
    else the data dir itself when it has trainA/. ``source: tfds``: TFDS ``cycle_gan/<pair>``.
    ``train_sizes``/``test_sizes``: None (all), one size or [A, B]; a seeded subset (``ctx.seed``)
    of a larger split, all of a smaller one with a loud warning (e.g. the thesis's [5866, 3528]).
    The default pair, U-GAT-IT's selfie2anime, stands in for the thesis's MS-Celeb-1M and
    Danbooru2017 sets, which are no longer available: recorded and warned as a substitution."""
    from pathlib import Path

    from gan_repro.data.sources import resolve_data_dir
    from gan_repro.data.unpaired import HOW_TO_GET, load_unpaired_folder, load_unpaired_tfds
    from gan_repro.errors import DatasetMissingError

    check_choice("source", source, ("folder", "tfds"))
    options = dict(size=size, train_sizes=train_sizes, test_sizes=test_sizes, crop=crop)
    if source == "tfds":
        uset = load_unpaired_tfds(pair, seed=ctx.seed, **options)
    else:
        data_dir = resolve_data_dir(ctx.data_dir)
        if root is not None:
            folder = Path(root).expanduser()
        elif data_dir is None:
            raise DatasetMissingError(
                f"the unpaired pair {pair!r} needs a data dir (pass --data-dir / data_dir=... or "
                f"set GAN_REPRO_DATA) holding {pair}/ or a root: option. {HOW_TO_GET}"
            )
        elif (data_dir / pair).is_dir() or not (data_dir / "trainA").is_dir():
            folder = data_dir / pair  # when neither exists, the error names this one
        else:
            folder = data_dir
        uset = load_unpaired_folder(folder, seed=ctx.seed, name=pair, **options)
    s = uset.record["sizes"]
    substitution = None
    if pair == "selfie2anime":
        substitution = (
            "The thesis trained on 5,866 MS-Celeb-1M photos (L429) and 3,528 Danbooru2017 anime "
            "faces (L423), both no longer available; this run uses the selfie2anime set of "
            f"U-GAT-IT (Kim et al. 2020) instead: {s['trainA']:,} selfies (A) and "
            f"{s['trainB']:,} anime faces (B) to train, {s['testA']:,} + {s['testB']:,} held out"
        )
    return _unpaired_inputs(uset, substitution, pair=pair, source=source)


@DATASETS.register(
    "celeba_attribute", source="UNIT's CelebA attribute pair (exps/unit/blondhair.yaml)"
)
def celeba_attribute(
    ctx,
    attribute: str = "Blond_Hair",
    size: int = 64,
    test_per_domain: int = 100,
    max_train=None,
    crop: str = "center",
) -> Inputs:
    """A real unpaired pair from CelebA (data dir or its ``celeba/`` subfolder): A = faces
    without ``attribute``, B = faces with it, as UNIT's own CelebA task (the 2017 UNIT code's
    ``exps/unit/blondhair.yaml``, non-blond <-> blond); uint8 ``size x size x 3``, center square
    crop. Per domain ``test_per_domain`` faces are held out (``test_a``/``test_b``), the rest
    train (``a``/``b``), capped at ``max_train`` (one size or [A, B]); seeded by ``ctx.seed``.
    A CPU-scale stand-in for the photo <-> anime pair, recorded and warned as such."""
    from gan_repro.data.sources import resolve_data_dir
    from gan_repro.data.unpaired import load_celeba_attribute

    uset = load_celeba_attribute(
        resolve_data_dir(ctx.data_dir),
        attribute=attribute,
        size=size,
        test_per_domain=test_per_domain,
        max_train=max_train,
        seed=ctx.seed,
        crop=crop,
    )
    substitution = (
        f"CPU-scale stand-in for the photo <-> anime pair: real CelebA faces, A = not "
        f"{attribute}, B = {attribute} (the UNIT code's own CelebA task); no anime images are "
        "involved"
    )
    rec = uset.record
    extra = {k: rec[k] for k in ("attribute", "image_folder", "domain_counts", "b_share")}
    return _unpaired_inputs(
        uset, substitution, pair=f"celeba_{attribute}", source="celeba", **extra
    )
