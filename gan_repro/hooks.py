"""Named hooks: what a declaration cannot say in YAML, but the library can do by name.

* ``prepare`` hooks (``data: {prepare: [NAME], NAME: {...options}}``), ``fn(ctx, inputs,
  **options) -> Inputs``: change a dataset before training, e.g. :func:`svhn_pruning`.
* resource hooks (``resources: {name: NAME | {hook: NAME, ...}}``), ``fn(ctx, **options)``:
  build a frozen network a family needs, e.g. :func:`vgg19_resource` for the perceptual loss.

Thesis-specific hooks live with their experiment (``experiments/<thesis>/hooks.py``) and are
registered when the runner imports the modules the declaration's ``hooks:`` list names.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from gan_repro.data.pruning import prune_domain
from gan_repro.data.registered import Inputs
from gan_repro.io import read_json, write_json
from gan_repro.registry import HOOKS
from gan_repro.training.classifier import (
    accuracy,
    load_classifier,
    predict_probs,
    train_digit_classifier,
)


def predict_probs_float(classifier, x):
    """Classifier softmax for float images in [-1, 1] (what ``prune_domain`` hands over)."""
    return predict_probs(classifier, np.clip(np.rint(x * 127.5 + 127.5), 0, 255).astype(np.uint8))


def _with_resource(inputs: Inputs, name: str, model, info: dict) -> Inputs:
    """``inputs`` with one more resource (a frozen network) and its record under ``name``."""
    record = {**inputs.record, name: info}
    resources = {**inputs.resources, name: model}
    return Inputs(inputs.arrays, record, resources, inputs.warnings, inputs.held_out)


def digit_classifier(
    ctx,
    inputs: Inputs,
    *,
    network: str = "digit_classifier_b1",
    epochs: int = 10,
    steps_per_epoch: int = 1000,
    seed: int | None = None,
    path: str | None = None,
    folder: str = "classifier",
    on: str = "train",
    what: str = "Table B.1, spec 10.8",
    thesis_accuracy: float | None = None,
):
    """A digit classifier on both domains of ``inputs`` (``on: train``, the arrays the GANs see),
    on their held-out splits (``on: held_out``, data the GANs never saw) or on domain 1 alone
    (``on: domain1``), saved once in ``ctx.out/<folder>/<network>[-<on>].keras`` and loaded on
    reruns; ``path`` uses a given file. Returns ``(model, record)``."""
    if path:
        return load_classifier(path), {"source": str(path)}
    saved = ctx.out / folder / (f"{network}.keras" if on == "train" else f"{network}-{on}.keras")
    return cached_classifier(
        saved,
        lambda: _train_on_domains(
            ctx, inputs, network, epochs, steps_per_epoch, seed, on, what, thesis_accuracy
        ),
    )


def _train_on_domains(
    ctx, inputs, network, epochs, steps_per_epoch, seed, on, what, thesis_accuracy
):
    """:func:`digit_classifier`'s training: ``(model, record)``."""
    from gan_repro.data.transforms import mnist_to_rgb32, to_rgb32

    (d1, d2) = inputs.resources["domains"]
    if on == "held_out" and inputs.held_out:
        d1, d2 = inputs.held_out["domain1"], inputs.held_out["domain2"]
    elif on == "held_out":  # smoke scale: no held-out split; the other half of each domain
        d1, d2 = d1.subset(slice(len(d1) // 2, None)), d2.subset(slice(len(d2) // 2, None))
    parts = [d1] if on == "domain1" else [d1, d2]
    images = np.concatenate([to_rgb32(d.images) for d in parts])
    labels = np.concatenate([d.labels for d in parts])
    seed = ctx.seed if seed is None else seed
    validation = None
    if on == "train" and inputs.held_out:  # report the held-out accuracy (paper scale)
        v1, v2 = inputs.held_out["domain1"], inputs.held_out["domain2"]
        validation = (
            np.concatenate([mnist_to_rgb32(v1.images), to_rgb32(v2.images)]),
            np.concatenate([v1.labels, v2.labels]),
        )
    classifier, metrics = train_digit_classifier(
        images,
        labels,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        seed=seed,
        network=network,
        validation=validation,
        verbose=2 if ctx.paper else 0,
    )
    info = {
        "source": f"trained here ({what}) on {' + '.join(d.name for d in parts)} ({on}), "
        f"seed {seed}",
        "network": network,
        "epochs": epochs,
        "steps_per_epoch": steps_per_epoch,
        **({"thesis_accuracy": thesis_accuracy} if thesis_accuracy is not None else {}),
        **metrics,
    }
    return classifier, info


def cached_classifier(saved, train) -> tuple:
    """The classifier saved at ``saved`` and its record beside it (``.json``), loaded frozen;
    else ``train() -> (model, record)``, frozen and saved there atomically first."""
    if saved.exists():
        return load_classifier(saved), read_json(saved.with_suffix(".json"))
    from gan_repro.io import atomic_save

    model, info = train()
    model.trainable = False
    atomic_save(saved, model.save)
    write_json(saved.with_suffix(".json"), info)
    return load_classifier(saved), info


@HOOKS.register("svhn_pruning", source="SCoGAN thesis L546: SVHN kept at top softmax > 0.4")
def svhn_pruning(
    ctx,
    inputs: Inputs,
    *,
    threshold: float = 0.4,
    classifier_epochs: int = 10,
    classifier_steps_per_epoch: int = 1000,
    classifier: str | None = None,
) -> Inputs:
    """Train the Table B.1 classifier on MNIST+SVHN (10 epochs, spec 10.8) unless ``classifier``
    names a saved one, and keep the SVHN images it classifies with top softmax > ``threshold``
    (the thesis keeps 70,262 of 73,257). The frozen classifier becomes the ``classifier``
    resource (the semantic loss's, Eq 4.2)."""
    model, info = digit_classifier(
        ctx,
        inputs,
        epochs=classifier_epochs,
        steps_per_epoch=classifier_steps_per_epoch,
        path=classifier,
        thesis_accuracy=0.92,
    )
    mnist, svhn = inputs.resources["domains"]
    pruned, stats = prune_domain(svhn, lambda x: predict_probs_float(model, x), threshold)
    info = {**info, "accuracy_on_domain1": accuracy(model, inputs.arrays["domain1"], mnist.labels)}
    record = {
        **inputs.record,
        "classifier": info,
        "svhn_pruning": stats,
        "domain2_size": len(pruned.images),
    }
    arrays = {**inputs.arrays, "domain2": pruned.images}
    resources = {**inputs.resources, "classifier": model, "domains": (mnist, pruned)}
    return Inputs(arrays, record, resources, inputs.warnings, inputs.held_out)


@HOOKS.register("mnist_classifier", source="SCoGAN thesis L1020: MNIST-only Table B.1 classifier")
def mnist_classifier(
    ctx,
    inputs: Inputs,
    *,
    classifier_epochs: int = 10,
    classifier_steps_per_epoch: int = 1000,
    classifier: str | None = None,
) -> Inputs:
    """The classifier of the semantic loss on MNIST2edge: Table B.1 trained on the *plain*
    MNIST domain only ("standard MNIST, 10 epochs, ~98%", L1020), so SL compares the class
    posteriors of both generators' images under one MNIST-trained net. It becomes the
    ``classifier`` resource."""
    model, info = digit_classifier(
        ctx,
        inputs,
        epochs=classifier_epochs,
        steps_per_epoch=classifier_steps_per_epoch,
        path=classifier,
        on="domain1",
        thesis_accuracy=0.98,
    )
    return _with_resource(inputs, "classifier", model, info)


@HOOKS.register("agreement_classifier", source="ours: an independent judge of joint agreement")
def agreement_classifier(
    ctx,
    inputs: Inputs,
    *,
    network: str = "digit_classifier_lenet5",
    epochs: int = 10,
    steps_per_epoch: int = 500,
    classifier: str | None = None,
) -> Inputs:
    """A judge of joint agreement independent of the semantic loss's classifier: another
    architecture (LeNet-5 style), another seed, trained on other data (the held-out test splits
    at paper scale, the other half of each domain at smaller ones), so SL runs are not judged
    by the very net they optimised against. It becomes the ``agreement_classifier`` resource,
    which the ``coupled_agreement`` evaluator prefers."""
    model, info = digit_classifier(
        ctx,
        inputs,
        network=network,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        seed=ctx.seed + 1,
        path=classifier,
        folder="agreement_classifier",
        on="held_out",
        what=f"{network}, independent of the SL classifier",
    )
    return _with_resource(inputs, "agreement_classifier", model, info)


@HOOKS.register("vgg19_features", source="SCoGAN thesis Eq 4.5: frozen VGG19 (spec 1.8, 10.5)")
def vgg19_resource(ctx, weights: str = "auto"):
    """VGG19 features for the perceptual loss: 'imagenet' (Keras cache, downloaded if need be),
    'random' or a weights path; 'auto' is imagenet at paper scale, and at smaller scales
    imagenet only when the file is already cached (else random weights, recorded)."""
    from gan_repro.losses import vgg19_features, vgg19_weights_path

    if weights == "auto":
        weights = "imagenet" if ctx.paper or vgg19_weights_path().exists() else "random"
    ctx.records["vgg19_weights"] = weights
    return vgg19_features(weights=None if weights == "random" else weights)


@HOOKS.register("domain_classifiers", source="ours: one digit classifier per domain (judges)")
def domain_classifiers(
    ctx,
    inputs: Inputs,
    *,
    network: str = "digit_classifier_lenet5",
    epochs: int = 10,
    steps_per_epoch: int = 200,
) -> Inputs:
    """A digit classifier per domain of an unpaired pair (``domains`` resource: the native
    training splits), trained on that domain's real training split and scored on its held-out
    test split, saved once in ``ctx.out/classifiers/<network>-<domain>.keras`` and loaded on
    reruns. They judge translations (:mod:`gan_repro.metrics.translation`) and become the
    ``classifier_a`` / ``classifier_b`` resources, their records ``classifier_a`` / ``_b``."""
    from gan_repro.metrics.translation import accuracy as digit_accuracy
    from gan_repro.metrics.translation import classifier_input

    def train(train_split, test, seed):
        model, metrics = train_digit_classifier(
            classifier_input(train_split.images),
            train_split.labels,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            seed=seed,
            network=network,
            verbose=2 if ctx.paper else 0,
        )
        return model, {
            "source": f"trained here on {train_split.provenance}, seed {seed}",
            "network": network,
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "train_accuracy": metrics["train_accuracy"],
            "held_out_accuracy": digit_accuracy(model, test.images, test.labels),
            "held_out": test.provenance,
        }

    tests = (inputs.held_out["domain1"], inputs.held_out["domain2"])
    parts = zip(("a", "b"), inputs.resources["domains"], tests, strict=True)
    for k, (key, split, test) in enumerate(parts):
        saved = ctx.out / "classifiers" / f"{network}-{split.name}.keras"
        model, info = cached_classifier(saved, partial(train, split, test, ctx.seed + 10 + k))
        inputs = _with_resource(inputs, f"classifier_{key}", model, info)
    return inputs


@HOOKS.register("domain_judge", source="ours: a two-domain classifier that judges translations")
def domain_judge(
    ctx,
    inputs: Inputs,
    *,
    network: str = "domain_judge_cnn",
    epochs: int = 5,
    steps_per_epoch: int = 100,
    batch_size: int = 64,
) -> Inputs:
    """A classifier of domain A (class 0) vs domain B (class 1), trained on the two training
    sets (``a``, ``b``; the smaller one repeated to balance them) at the judge's 64x64
    (:func:`gan_repro.metrics.unpaired.judge_input`), scored on the held-out ``test_a`` /
    ``test_b``, saved once in ``ctx.out/classifiers/<network>.keras`` and loaded on reruns. It
    becomes the ``domain_judge`` resource (record ``domain_judge``): the share of translations
    it takes for the target domain, and FID/KID in its features."""
    from gan_repro.metrics.unpaired import judge_input, judged_as

    a, b = inputs.arrays["a"], inputs.arrays["b"]

    def train():
        n = max(len(a), len(b))
        rng = np.random.default_rng(ctx.seed + 30)
        index = [np.resize(rng.permutation(len(x)), n) for x in (a, b)]  # balanced classes
        images = np.concatenate([judge_input(a[index[0]]), judge_input(b[index[1]])])
        labels = np.repeat(np.arange(2), n)
        model, metrics = train_digit_classifier(
            images,
            labels,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            batch_size=batch_size,
            seed=ctx.seed + 31,
            network=network,
            verbose=2 if ctx.paper else 0,
        )
        info = {
            "source": f"trained here on the training sets ({len(a)} A, {len(b)} B, balanced), "
            f"seed {ctx.seed + 31}",
            "network": network,
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            **metrics,
        }
        test_a, test_b = inputs.held_out.get("test_a"), inputs.held_out.get("test_b")
        if test_a is not None and test_b is not None:
            info["held_out_accuracy"] = {
                "a": judged_as(model, test_a, "a"),
                "b": judged_as(model, test_b, "b"),
            }
        return model, info

    saved = ctx.out / "classifiers" / f"{network}.keras"
    model, info = cached_classifier(saved, train)
    return _with_resource(inputs, "domain_judge", model, info)
