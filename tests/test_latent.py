import numpy as np
import pytest

from gan_repro.viz.latent import interpolation_strip, slerp


def test_slerp_endpoints_norm_and_angle():
    z0, z1 = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    np.testing.assert_allclose(slerp(z0, z1, 0.0), z0, atol=1e-12)
    np.testing.assert_allclose(slerp(z0, z1, 1.0), z1, atol=1e-12)
    mid = slerp(z0, z1, 0.5)
    # halfway round the quarter circle, norm halfway between 1 and 2
    np.testing.assert_allclose(mid, 1.5 * np.array([np.sqrt(0.5), np.sqrt(0.5), 0.0]))
    assert slerp(z0, 3 * z0, 0.5) == pytest.approx(2 * z0)  # parallel: linear


def test_interpolation_strip_shows_both_generators_on_the_same_path():
    seen = []

    def generate(z):
        seen.append(z)
        img = np.tanh(z[:, :1, None, None] * np.ones((1, 4, 4, 3)))
        return img, -img

    strip = interpolation_strip(generate, np.ones(5), -np.ones(5) + 0.1, steps=6)
    assert strip.shape == (2 * (4 + 2) + 2, 6 * (4 + 2) + 2, 3)
    assert len(seen) == 1 and seen[0].shape == (6, 5)
    # top row (G1) follows z[0] from 1 to -0.9: it darkens left to right; G2 = -G1 brightens
    assert strip[3, 3, 0] > strip[3, 3 + 5 * 6, 0]
    assert strip[9, 3, 0] < strip[9, 3 + 5 * 6, 0]
