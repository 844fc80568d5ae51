"""The numbers the face-aging thesis never measured (it judged by eye, L1070; spec section 6).

``evaluate(run, ...)`` (the ``face_aging`` evaluator of ``hooks.py``; the runner writes its
result to ``run_dir/metrics.json``) measures the run's newest checkpoint:

* conditional runs (CGAN, CDCGAN): ``eval_per_class`` faces per age class from fresh noise; the
  share the age-group classifier puts in the class they were asked for (the thesis: the category
  effect "works very well", L1172), and FID of each class's faces against that class's real faces;
* DCGAN: the age mix the classifier finds in its faces beside the data's mix, and FID;
* CycleGAN: ``eval_translate`` faces per direction; the share of 17-23 faces translated into
  47-53 that the classifier calls 47-53 (and back), beside its accuracy on the untranslated inputs
  (the thesis: "no age change was perceptible", L1114-1116); identity drift, LPIPS and SSIM of
  each face against its translation, beside the same numbers for two different real faces; FID of
  translated faces against the target domain;
* every run: losses from ``history.csv`` at the thesis's checkpoints of interest (e.g. the
  collapsed CycleGAN's discriminator loss at iteration 10,000, L1127).

Pretrained networks: Inception (FID) and LPIPS use the ImageNet / official weights at paper
scale; at smoke scale only if they are already on disk, else random weights, which the metrics
record says (and the report repeats) loudly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from gan_repro.viz.figures import read_history

#: Iterations at which the thesis quotes or shows losses, per run (scaled to shorter runs).
LOSS_CHECKPOINTS = {"cyclegan-collapsed": 10_000, "cyclegan": 10_000}
D_KEYS_CYCLE = ("dA_real", "dA_fake", "dB_real", "dB_fake")


def history_summary(run_dir: Path, config: dict) -> dict:
    """First/last logged losses (and D accuracy), and losses at the thesis's checkpoints."""
    h = read_history(run_dir / "history.csv")
    if not h:
        return {}
    keys = [k for k in h if k != "step"]
    summary = {
        "first_step": int(h["step"][0]),
        "last_step": int(h["step"][-1]),
        "first": {k: float(h[k][0]) for k in keys},
        "last": {k: float(h[k][-1]) for k in keys},
        "mean_last_10pct": {k: float(np.mean(h[k][-max(1, len(h[k]) // 10) :])) for k in keys},
    }
    at = LOSS_CHECKPOINTS.get(config["variant"])
    if at is not None:
        steps = config["trainer"]["steps"]
        target = max(1, round(at * steps / config["meta"]["thesis_steps"]))
        i = int(np.searchsorted(h["step"], target, side="right")) - 1
        i = max(i, 0)
        d = float(np.mean([h[k][i] for k in D_KEYS_CYCLE if k in h]))
        summary["d_loss_at_checkpoint"] = {
            "thesis_iteration": at,
            "step": int(h["step"][i]),
            "mean_d_loss": d,
        }
    return summary


_NETS: dict = {}  # pretrained networks, built once per process (every run shares them)


def _cached(key, build):
    if key not in _NETS:
        _NETS[key] = build()
    return _NETS[key]


def _pretrained(paper: bool, lpips_weights: str, inception_weights: str):
    from gan_repro.metrics.fid import INCEPTION_WEIGHTS, inception_features
    from gan_repro.metrics.lpips import LPIPS
    from gan_repro.metrics.weights import lpips_weights_path
    from gan_repro.pretrained import is_cached, weights_choice

    inc = weights_choice(inception_weights, is_cached(INCEPTION_WEIGHTS), paper, "imagenet")
    lp = weights_choice(lpips_weights, lpips_weights_path("alex").exists(), paper, "default")
    notes = {
        "inception_weights": "imagenet" if inc else "RANDOM (not comparable)",
        "lpips_weights": "official v0.1 (converted)" if lp else "RANDOM (not comparable)",
    }
    return (
        lambda: _cached(("inception", inc), lambda: inception_features(inc)),
        lambda: _cached(("lpips", lp), lambda: LPIPS("alex", weights=lp)),
        notes,
    )


def _fid_kwargs(n: int) -> dict:
    return {"subset_size": max(2, min(1000, n)), "fid_method": "eigh", "num_subsets": 20}


def _sample(reals: np.ndarray, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return reals[rng.choice(len(reals), size=min(n, len(reals)), replace=False)]


def evaluate_image_gan(run_dir, config, data, classifier, inception, n, seed) -> dict:
    """Age accuracy and per-class FID of a CGAN/CDCGAN run; age mix and FID of the DCGAN."""
    from gan_repro.metrics.face_aging import fid_per_group, group_distribution, pixel_noise
    from gan_repro.metrics.fid import fid_kid
    from gan_repro.training.image_gan import load_image_gan

    family, step = load_image_gan(run_dir)
    faces = data(config["meta"]["data_variant"])
    k = len(faces.group_names)
    latent = family.config.latent_dim
    fakes, targets = [], []
    for cls in range(k):
        z = tf.random.stateless_normal((n, latent), seed=[seed, 1000 + cls])
        classes = np.full(n, cls, np.int64)
        fakes.append(
            np.concatenate(
                [family.sample(z[i : i + 256], classes[i : i + 256]) for i in range(0, n, 256)]
            )
        )
        targets.append(classes)
    metrics = {"step": step}
    if family.config.conditional:
        from gan_repro.metrics.face_aging import (
            age_accuracy_raw_and_median,
            classifier_noise_check,
            matched_noise_std,
        )
        from gan_repro.training.age_classifier import split_indices

        all_fakes, all_targets = np.concatenate(fakes), np.concatenate(targets)
        both = age_accuracy_raw_and_median(
            classifier, all_fakes, all_targets, group_names=list(faces.group_names)
        )
        metrics["age_accuracy"] = both["raw"]  # as generated
        metrics["age_accuracy_median"] = both["median"]  # after Fig 5.7's 5x5 median
        # the classifier on its own held-out real faces (classifier_for's split: 0.1, seed),
        # clean and with the generated faces' pixel noise: the ceiling of the two numbers above
        _, val = split_indices(len(faces.images), 0.1, seed)
        real = faces.images[val]
        sigma = matched_noise_std(real, both["pixel_noise_raw"], seed=seed)
        metrics["classifier_on_real"] = {
            "pixel_noise_generated": both["pixel_noise_raw"],
            "pixel_noise_generated_median": both["pixel_noise_median"],
            "pixel_noise_real": pixel_noise(real),
            **classifier_noise_check(classifier, real, faces.labels[val], sigma, seed=seed),
        }
        metrics["fid_per_group"] = fid_per_group(
            {g: f for g, f in zip(faces.group_names, fakes, strict=True)},
            {g: _sample(faces.group(g).images, n, seed) for g in faces.group_names},
            inception,
            **_fid_kwargs(n),
        )
    else:  # unconditional: the classes above are only labels of the noise draws
        all_fakes = np.concatenate(fakes)
        metrics["age_mix_generated"] = group_distribution(
            classifier, all_fakes, list(faces.group_names), data_labels=faces.labels
        )
        counts = faces.counts()
        total = sum(counts.values())
        metrics["age_mix_data"] = {g: c / total for g, c in counts.items()}
        reals = _sample(faces.images, len(all_fakes), seed)
        scores = fid_kid(all_fakes, reals, inception, **_fid_kwargs(len(all_fakes)))
        metrics["fid"] = {"all": scores}
    return metrics


def evaluate_cyclegan(run_dir, data, classifier, inception, lpips, n, seed):
    """Age accuracy of translated faces, identity drift and FID of a CycleGAN run."""
    from gan_repro.metrics.face_aging import age_group_accuracy, identity_drift
    from gan_repro.metrics.fid import fid_kid
    from gan_repro.training.cyclegan import load_cyclegan

    faces = data("cyclegan")
    family, step = load_cyclegan(run_dir)
    metrics = {"step": step, "directions": {}}
    names = faces.group_names
    for direction, src, dst in (("AtoB", 0, 1), ("BtoA", 1, 0)):
        inputs = _sample(faces.group(src).images, n, seed + src)
        outputs = family.translate(inputs, direction)
        as_float = (inputs.astype(np.float32) - 127.5) / 127.5
        metrics["directions"][direction] = {
            "from": names[src],
            "to": names[dst],
            "n": len(inputs),
            "age_accuracy_translated": age_group_accuracy(
                classifier, outputs, np.full(len(outputs), dst)
            ),
            "age_accuracy_inputs_as_source": age_group_accuracy(
                classifier, inputs, np.full(len(inputs), src)
            ),
            "identity_drift": identity_drift(as_float, outputs, lpips, seed=seed),
            "fid_vs_target": fid_kid(
                outputs,
                _sample(faces.group(dst).images, n, seed + 7),
                inception,
                **_fid_kwargs(len(outputs)),
            ),
        }
    metrics["fid_real_a_vs_real_b"] = fid_kid(
        _sample(faces.group(0).images, n, seed),
        _sample(faces.group(1).images, n, seed),
        inception,
        **_fid_kwargs(n),
    )
    return metrics


def evaluate(run, data, classifier, classifier_key: str) -> dict:
    """The metrics of the runner's :class:`gan_repro.runner.EvalRun` ``run`` (see the module
    docstring): ``data(variant)`` gives a data variant's faces, ``classifier`` is the age-group
    classifier ``(model, its metrics)`` named ``classifier_key``. The ``eval`` options:
    ``per_class`` / ``translated`` faces, ``lpips_weights``, ``inception_weights``."""
    run_dir, config, options = Path(run.run_dir), run.config, run.options
    seed = config["trainer"]["seed"]
    model, classifier_metrics = classifier
    make_inception, make_lpips, notes = _pretrained(
        run.ctx.paper,
        options.get("lpips_weights", "auto"),
        options.get("inception_weights", "auto"),
    )
    inception = make_inception()
    if config["family"] == "cyclegan":
        n = int(options["translated"])
        metrics = evaluate_cyclegan(run_dir, data, model, inception, make_lpips(), n, seed)
    else:
        n = int(options["per_class"])
        metrics = evaluate_image_gan(run_dir, config, data, model, inception, n, seed)
        notes.pop("lpips_weights")
    metrics.update(notes)
    metrics["classifier"] = {
        "key": classifier_key,
        **{k: classifier_metrics.get(k) for k in ("val_accuracy", "val_balanced_accuracy")},
        "augmentation": {  # pixel noise / median of its training stream (None: saved before)
            k: classifier_metrics.get("settings", {}).get(k)
            for k in ("noise_std", "noise_prob", "median_prob")
        },
    }
    metrics["losses"] = history_summary(run_dir, config)
    return metrics
