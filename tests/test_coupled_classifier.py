"""The independent agreement judge (ours): a LeNet-5 style net trained by the same trainer as
Table B.1, chosen by registry name and seeded, learns real MNIST quickly."""

import numpy as np

from gan_repro.training.classifier import accuracy, train_digit_classifier


def test_lenet5_judge_learns_real_mnist_in_300_steps(shared_data):
    from gan_repro.data import load_mnist, mnist_to_rgb32

    mnist = load_mnist("test", data_dir=shared_data / "mnist", source="local")
    x, y = mnist_to_rgb32(mnist.images), mnist.labels
    model, metrics = train_digit_classifier(
        x[:8000],
        y[:8000],
        network="digit_classifier_lenet5",
        seed=7,
        epochs=3,
        steps_per_epoch=100,
        batch_size=64,
        validation=(x[8000:], y[8000:]),
        verbose=0,
    )
    assert model.name == "digit_classifier_lenet5"
    # held-out digits: chance is 0.1; a net that learned digits is far above 0.9
    assert metrics["val_accuracy"] > 0.93, metrics
    # another seed gives another net (different weights), still a good judge
    other, _ = train_digit_classifier(
        x[:2000],
        y[:2000],
        network="digit_classifier_lenet5",
        seed=8,
        epochs=1,
        steps_per_epoch=20,
        batch_size=64,
        verbose=0,
    )
    w1, w2 = np.asarray(model.weights[0]), np.asarray(other.weights[0])
    assert not np.allclose(w1, w2)
    assert accuracy(other, x[8000:8500], y[8000:8500]) > 0.3  # 20 steps: learning, not chance
