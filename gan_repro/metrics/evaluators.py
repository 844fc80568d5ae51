"""The evaluators a declaration names (``evaluators: [NAME, ...]``), as registry entries.

Each is ``fn(run) -> dict`` for a :class:`gan_repro.runner.EvalRun` (``run.run_dir``,
``run.config``, ``run.inputs``, ``run.options`` = the run's ``eval`` section, ``run.ctx.paper``);
the runner merges what they return into the run's ``metrics.json``. Options read here:

* ``lpips_pairs`` (Table 5.2: 50,000; Table 5.1: 30,000), ``lpips_weights`` (auto | default |
  random | PATH), ``inception_weights`` (auto | imagenet | random | PATH);
* ``fid_images``: generated images per domain for FID/KID and class agreement.

Pretrained networks ('auto'): the official / ImageNet weights at paper scale (downloaded or
converted once); at smaller scales only when already on disk, else random weights, which the
metrics record says in capitals (and the report repeats).
"""

from __future__ import annotations

import numpy as np

from gan_repro.registry import EVALUATORS


def _coupled(run, n: int | None = None):
    """``(generate, family, step)`` of a coupled run, and ``n`` generated pairs (cached)."""
    import tensorflow as tf

    from gan_repro.metrics.coupled import generated_batches

    cache = run.cache  # shared by the coupled evaluators of this run
    if "family" not in cache:
        family, step = run.load()
        g1, g2 = family.models["g1"], family.models["g2"]

        @tf.function
        def generate(z):
            return g1(z, training=False)[-1], g2(z, training=False)[-1]

        cache.update(family=family, step=step, generate=generate)
    if n is not None and cache.get("n") != n:
        seed = run.config["trainer"]["seed"] + 1
        batches = generated_batches(
            cache["generate"], n, cache["family"].config.noise_dim, 250, seed
        )
        cache["fakes"] = [np.concatenate(parts) for parts in zip(*batches, strict=True)]
        cache["n"] = n
    return cache


@EVALUATORS.register("coupled_lpips", source="SCoGAN spec 5.1: the three LPIPS numbers")
def coupled_lpips(run) -> dict:
    """Table 5.1/5.2's three LPIPS numbers (AlexNet v0.1) and the real-vs-real baseline over
    ``lpips_pairs`` pairs, from the newest checkpoint."""
    from gan_repro.metrics.coupled import lpips_measures
    from gan_repro.metrics.lpips import LPIPS
    from gan_repro.metrics.weights import lpips_weights_path
    from gan_repro.pretrained import weights_choice

    c = _coupled(run)
    choice = run.options.get("lpips_weights", "auto")
    weights = weights_choice(choice, lpips_weights_path("alex").exists(), run.ctx.paper, "default")
    lpips = LPIPS("alex", weights=weights)
    arrays = run.inputs.arrays
    n = int(run.options.get("lpips_pairs", 1000))
    measures = lpips_measures(
        lpips,
        c["generate"],
        arrays["domain1"],
        arrays["domain2"],
        n,
        c["family"].config.noise_dim,
        seed=run.config["trainer"]["seed"],
    )
    return {
        "step": c["step"],
        "lpips": measures,
        "lpips_weights": "official v0.1 (converted)" if weights else "RANDOM (not comparable)",
    }


@EVALUATORS.register("coupled_agreement", source="joint-distribution class agreement (ours)")
def coupled_agreement(run) -> dict:
    """The share of same-z pairs whose digit classes agree, next to the chance level. The judge
    is the ``agreement_classifier`` resource when the data gives one (an independent net), else
    the semantic loss's ``classifier`` (then SL runs are judged by the net they optimised:
    recorded as ``judge``)."""
    from gan_repro.metrics.agreement import class_agreement_from_images

    resources = run.inputs.resources
    judge = "agreement_classifier" if "agreement_classifier" in resources else "classifier"
    if judge not in resources:
        return {}
    c = _coupled(run, int(run.options.get("fid_images", 1000)))
    agreement = class_agreement_from_images(resources[judge], *c["fakes"])
    info = run.inputs.record.get(judge, {})
    return {"step": c["step"], "agreement": {**agreement, "judge": info.get("source", judge)}}


@EVALUATORS.register("edge_pixel_agreement", source="CoGAN paper: MNIST2edge pixel agreement")
def edge_pixel_agreement(run) -> dict:
    """The CoGAN paper's pixel agreement for MNIST2edge: the share of pixels where G2's image
    equals the edge image of G1's (same z), after thresholding both."""
    from gan_repro.metrics.agreement import edge_pixel_agreement as agreement

    c = _coupled(run, int(run.options.get("fid_images", 1000)))
    return {"step": c["step"], "pixel_agreement": float(agreement(*c["fakes"]))}


@EVALUATORS.register("coupled_fid", source="FID/KID per domain, Keras InceptionV3 pool features")
def coupled_fid(run) -> dict:
    """FID and KID of each generator's images against its real domain (``fid_images`` each)."""
    from gan_repro.metrics.fid import INCEPTION_WEIGHTS, fid_kid, inception_features
    from gan_repro.pretrained import is_cached, weights_choice

    n = int(run.options.get("fid_images", 1000))
    c = _coupled(run, n)
    choice = run.options.get("inception_weights", "auto")
    weights = weights_choice(choice, is_cached(INCEPTION_WEIGHTS), run.ctx.paper, "imagenet")
    inception = inception_features(weights)
    rng = np.random.default_rng(run.config["trainer"]["seed"])
    fid, kid = {}, {}
    reals = (run.inputs.arrays["domain1"], run.inputs.arrays["domain2"])
    for k, (fake, real) in enumerate(zip(c["fakes"], reals, strict=True), start=1):
        real = real[rng.choice(len(real), size=min(n, len(real)), replace=False)]
        scores = fid_kid(fake, real, inception, subset_size=min(1000, n), fid_method="eigh")
        fid[f"domain{k}"], kid[f"domain{k}"] = scores["fid"], scores["kid_mean"]
    return {
        "step": c["step"],
        "fid": fid,
        "kid": kid,
        "inception_weights": "imagenet" if weights else "RANDOM (not comparable)",
    }
