"""The participant-level samplers against scipy (Kolmogorov-Smirnov) and edge cases."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from sibsim.kernels import sampling
from sibsim.rng import participant_key


@numba.njit
def _draws(code, par, n, stream):
    out = np.empty(n)
    for i in range(n):
        out[i] = sampling.sample(code, par, participant_key(np.uint64(7), 0, i), stream)
    return out


CASES = [
    ("normal", {"mean": 1.0, "sd": 2.0}, lambda p: stats.norm(1.0, 2.0)),
    ("lognormal", {"median": 2.0, "sigma": 0.5}, lambda p: stats.lognorm(0.5, scale=2.0)),
    ("gamma", {"mean": 1.0, "sd": 0.5}, lambda p: stats.gamma(4.0, scale=0.25)),
    ("gamma", {"mean": 1.0, "sd": 2.0}, lambda p: stats.gamma(0.25, scale=4.0)),
    ("beta", {"mean": 0.3, "sd": 0.1}, lambda p: stats.beta(p[0], p[1])),
    ("uniform", {"low": 1.0, "high": 3.0}, lambda p: stats.uniform(1.0, 2.0)),
    ("triangular", {"low": 1.0, "mode": 2.0, "high": 6.0}, lambda p: stats.triang(0.2, loc=1.0, scale=5.0)),
    ("pert", {"low": 1.0, "mode": 2.0, "high": 6.0}, lambda p: stats.beta(p[0], p[1], loc=1.0, scale=5.0)),
]


@pytest.mark.parametrize("family, params, reference", CASES)
def test_sampler_matches_scipy(family, params, reference):
    par = sampling.natural_parameters(family, params)
    x = _draws(sampling.FAMILY_CODES[family], par, 50_000, 3)
    assert stats.kstest(x, reference(par).cdf).pvalue > 1e-4


@pytest.mark.parametrize("variance", [5e-324, 1e-300, 1e-12, 1e-9])
def test_tiny_frailty_variance_gives_frailty_near_one(variance):
    par = np.array([1.0 / variance, variance, 1.0, np.sqrt(variance)])
    x = _draws(sampling.GAMMA, par, 2000, 3)
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(x, 1.0, atol=10 * np.sqrt(variance) + 1e-12)
