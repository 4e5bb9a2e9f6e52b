"""The participant-level samplers against scipy (Kolmogorov-Smirnov) and edge cases."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy import stats

from sibsim.engine.kernels import sampling
from sibsim.engine.rng import ZIG_R, exponential_at, participant_key
from sibsim.scenario import FAMILY_CODES, natural_parameters


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
    par = natural_parameters(family, params)
    x = _draws(FAMILY_CODES[family], par, 50_000, 3)
    assert stats.kstest(x, reference(par).cdf).pvalue > 1e-4


@pytest.mark.parametrize("variance", [5e-324, 1e-300, 1e-12, 1e-9])
def test_tiny_frailty_variance_gives_frailty_near_one(variance):
    par = np.array([1.0 / variance, variance, 1.0, np.sqrt(variance)])
    x = _draws(sampling.GAMMA, par, 2000, 3)
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(x, 1.0, atol=10 * np.sqrt(variance) + 1e-12)


@numba.njit
def _exponentials(n, month):
    out = np.empty(n)
    for i in range(n):
        out[i] = exponential_at(participant_key(np.uint64(11), 0, i), month, 1)
    return out


def test_ziggurat_exponential_is_exp1():
    """KS test, and the tail beyond the base layer (the rarely taken path) at its rate."""
    x = _exponentials(1_000_000, 3)
    assert stats.kstest(x, "expon").pvalue > 1e-4
    n = x.size
    for c in (0.5, 2.0, 7.0, ZIG_R, 9.0):
        expected = np.exp(-c)
        sd = np.sqrt(expected * (1 - expected) / n)
        assert abs((x > c).mean() - expected) < 5 * sd, c
    # Beyond the tail start, X - r is again Exp(1) (memorylessness).
    tail = x[x > ZIG_R] - ZIG_R
    assert stats.kstest(tail, "expon").pvalue > 1e-4


def test_ziggurat_is_a_pure_function_of_its_key():
    assert np.array_equal(_exponentials(1000, 3), _exponentials(1000, 3))
    assert not np.array_equal(_exponentials(1000, 3), _exponentials(1000, 4))
