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


@EVALUATORS.register("digit_translation", source="ours: label preservation of G_AB / G_BA, etc.")
def digit_translation(run) -> dict:
    """The numbers of :mod:`gan_repro.metrics.translation` for a digit CycleGAN run: label
    preservation in both directions at every kept checkpoint (``over_steps``) and at the last
    one the source-only and target-only baselines, FID/KID in the judges' feature spaces and
    the adaptation accuracy. Options: ``test_images`` (first N of each test split),
    ``adaptation_train`` (translated MNIST training digits for the adapted classifier; 0 skips
    it), ``adaptation_epochs``, ``adaptation_steps_per_epoch``."""
    from gan_repro.data.registered import prepared_held_out
    from gan_repro.metrics import translation as t
    from gan_repro.training.classifier import train_digit_classifier
    from gan_repro.training.state import kept_steps, restore_trained

    inputs, options = run.inputs, run.options
    judges = inputs.resources["classifier_a"], inputs.resources["classifier_b"]
    n = int(options.get("test_images", 2000))
    (x_a, y_a), (x_b, y_b) = prepared_held_out(inputs, n)
    family, step = run.load()
    generators = {k: family.models[k] for k in ("g_ab", "g_ba")}
    over_steps = []
    for s in kept_steps(run.run_dir) if options.get("over_steps", True) else [step]:
        restore_trained(run.run_dir, generators, s)
        ab, ba = family.translate(x_a, "AtoB", 64), family.translate(x_b, "BtoA", 64)
        over_steps.append(
            {
                "step": s,
                "mnist_to_usps": t.accuracy(judges[1], ab, y_a),
                "usps_to_mnist": t.accuracy(judges[0], ba, y_b),
            }
        )
    final = over_steps[-1]  # the newest checkpoint (the models are left there)
    seed = run.config["trainer"]["seed"]
    out = {
        "step": final["step"],
        "test_images": {"mnist": len(x_a), "usps": len(x_b)},
        "translation": {
            "mnist_to_usps": final["mnist_to_usps"],
            "usps_to_mnist": final["usps_to_mnist"],
            "source_only_mnist_clf_on_usps": t.accuracy(judges[0], x_b, y_b),
            "source_only_usps_clf_on_mnist": t.accuracy(judges[1], x_a, y_a),
            "target_only_usps_clf_on_usps": t.accuracy(judges[1], x_b, y_b),
            "target_only_mnist_clf_on_mnist": t.accuracy(judges[0], x_a, y_a),
        },
        "over_steps": over_steps,
        "feature_distances": {
            "mnist_to_usps": t.feature_distances(judges[1], ab, x_b, seed),
            "mnist_untranslated_vs_usps": t.feature_distances(judges[1], x_a, x_b, seed),
            "usps_to_mnist": t.feature_distances(judges[0], ba, x_a, seed),
            "usps_untranslated_vs_mnist": t.feature_distances(judges[0], x_b, x_a, seed),
        },
        "judges": {k: inputs.record.get(f"classifier_{k}", {}) for k in ("a", "b")},
    }
    m = int(options.get("adaptation_train", 0))
    if m:
        train_a = inputs.arrays["a"][:m]
        labels = inputs.resources["domains"][0].labels[:m]
        judge = inputs.record.get("classifier_a", {})
        adapted, _ = train_digit_classifier(
            t.classifier_input(family.translate(train_a, "AtoB", 64)),
            labels,
            epochs=int(options.get("adaptation_epochs", judge.get("epochs", 10))),
            steps_per_epoch=int(
                options.get("adaptation_steps_per_epoch", judge.get("steps_per_epoch", 200))
            ),
            seed=seed + 20,
            network=judge.get("network", "digit_classifier_lenet5"),
            verbose=0,
        )
        out["adaptation"] = {
            "adapted_clf_on_usps": t.accuracy(adapted, x_b, y_b),
            "source_only_clf_on_usps": out["translation"]["source_only_mnist_clf_on_usps"],
            "train_images": len(train_a),
            "protocol": f"trained on G_AB(MNIST train[:{len(train_a)}]) with MNIST labels, "
            f"tested on USPS test[:{len(x_b)}]",
        }
    return out


@EVALUATORS.register(
    "unpaired_translation",
    source="ours: realism, diversity and structure kept of A <-> B translations",
)
def unpaired_translation(run) -> dict:
    """The numbers of :mod:`gan_repro.metrics.unpaired` for a CycleGAN or UNIT run, per
    direction on the held-out ``test_a`` / ``test_b``: FID and KID x 100 against the real target
    test images (InceptionV3 with ImageNet weights; ``inception: false`` skips it, and so does
    ``inception_weights: auto`` below paper scale without the weights on disk, since
    random-weight features are near zero; ``random`` asks for them anyway, for tests), the
    ``domain_judge``'s target share and FID/KID in its features (when the data section trains
    one), LPIPS diversity over noise
    draws (MUNIT: ``diversity_inputs`` x ``diversity_pairs``) and the structure kept (LPIPS/SSIM
    of input vs own output against input vs another input's output). UNIT translates with the
    latent mean (its noise layer is off at test time, as in the code); the diversity draws
    add noise. Options: ``test_images``, ``diversity_inputs`` (100), ``diversity_pairs`` (19),
    ``inception``, ``inception_weights``, ``lpips_weights``."""
    from gan_repro.metrics import unpaired as u
    from gan_repro.metrics.fid import INCEPTION_WEIGHTS, extract_features, inception_features
    from gan_repro.metrics.lpips import LPIPS
    from gan_repro.metrics.weights import lpips_weights_path
    from gan_repro.pretrained import is_cached, weights_choice

    options, inputs, paper = run.options, run.inputs, run.ctx.paper
    seed = int(run.config["trainer"]["seed"])
    n = int(options.get("test_images", 1000))
    tests = {"a": inputs.held_out["test_a"][:n], "b": inputs.held_out["test_b"][:n]}
    family, step = run.load()
    stochastic = run.config["family"] == "unit"
    lp_choice = options.get("lpips_weights", "auto")
    lp = weights_choice(lp_choice, lpips_weights_path("alex").exists(), paper, "default")
    lpips = LPIPS("alex", weights=lp)
    out = {
        "step": step,
        "test_images": {k: len(v) for k, v in tests.items()},
        "lpips_weights": "official v0.1 (converted)" if lp else "RANDOM (not comparable)",
        "deterministic": not stochastic,
    }
    inception = None
    choice = options.get("inception_weights", "auto")
    if choice == "auto" and not (paper or is_cached(INCEPTION_WEIGHTS)):
        # random InceptionV3 features are ~0 (KID ~ 0 for any pair): no number beats a wrong one
        out["inception_weights"] = "skipped: no ImageNet weights on disk (inception_weights=random)"
    elif options.get("inception", True):
        weights = weights_choice(choice, is_cached(INCEPTION_WEIGHTS), paper, "imagenet")
        inception = inception_features(weights)
        out["inception_weights"] = "imagenet" if weights else "RANDOM (not comparable)"
    judge = inputs.resources.get("domain_judge")
    k_div = int(options.get("diversity_inputs", 100))
    pairs = int(options.get("diversity_pairs", 19))
    for direction, source, target in (("AtoB", "a", "b"), ("BtoA", "b", "a")):
        x, real = tests[source], tests[target]
        y = family.translate(x, direction, 16)
        d: dict = {}
        if inception is not None:
            d["inception"] = u.distances(
                extract_features(inception, y, 32), extract_features(inception, real, 32), seed
            )
        if judge is not None:
            d["judged_target"] = u.judged_as(judge, y, target)
            d["judged_target_untranslated"] = u.judged_as(judge, x, target)
            f_real = u.judge_features(judge, real)  # the reference of both distances
            d["judge_features"] = u.distances(u.judge_features(judge, y), f_real, seed)
            d["judge_features_untranslated"] = u.distances(u.judge_features(judge, x), f_real, seed)

        def draw(images, noise_seed, direction=direction):
            return family.translate(images, direction, 16, noise_seed, shared_noise=False)

        d["diversity"] = u.diversity(draw, x[:k_div], lpips, pairs=pairs, seed=seed + 7)
        d["structure"] = u.structure_kept(x, y, lpips, seed=seed)
        out[direction] = d
    return out
