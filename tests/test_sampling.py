"""The participant-level samplers against scipy (Kolmogorov-Smirnov), edge cases, and the
numpy twins the engine draws with against the numba samplers."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sibsim.engine.kernels import sampling
from sibsim.engine.rng import (
    STREAM_FRAILTY,
    STREAM_PRIOR,
    ZIG_R,
    exponential_at,
    participant_key,
    participant_key_np,
    uniform_at_np,
)
from sibsim.engine.sampling import draw_members, sample_np
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


# ---------------------------------------------------------------------------------------
# The numpy twins (what the engine draws frailty and prior months with)
# ---------------------------------------------------------------------------------------


def _keys(n, seed=7, draw=0):
    return participant_key_np(seed, draw, np.arange(n))


def test_numpy_keys_and_uniforms_are_the_numba_ones():
    from sibsim.engine.rng import uniform_at

    keys = participant_key_np(np.uint64(2**63 - 1), np.arange(3)[:, None], np.arange(50)[None])
    expected = np.array([[participant_key(np.uint64(2**63 - 1), d, j) for j in range(50)]
                         for d in range(3)], dtype=np.uint64)
    assert np.array_equal(keys, expected)
    months = np.arange(50) * 977
    u = uniform_at_np(keys[1], months, 13)
    assert np.array_equal(u, [uniform_at(keys[1, j], months[j], 13) for j in range(50)])


def _agree(x, y):
    """The twins do the same operations in the same order: the same bits where numpy uses
    the C library's log and cos, within a few units in the last place where it has its own
    (AVX-512 builds). Those units are the sample's scale, not each value's: a normal's
    mean + sd z near 0 keeps the error of sd z, many units of its own last place."""
    assert x.shape == y.shape
    if not np.array_equal(x, y):
        scale = np.maximum(np.abs(y), np.abs(y).max())
        assert (np.abs(x - y) <= 8 * np.finfo(np.float64).eps * scale).all()


@pytest.mark.parametrize("family, params, reference", CASES)
def test_numpy_sampler_is_the_numba_sampler(family, params, reference):
    par = natural_parameters(family, params)
    code = FAMILY_CODES[family]
    _agree(sample_np(code, par, _keys(20_000), 3), _draws(code, par, 20_000, 3))


@pytest.mark.parametrize("variance", [5e-324, 1e-300, 1e-12, 1e-9, 0.05, 0.35, 1.5, 4.0])
def test_numpy_gamma_frailty_is_the_numba_one(variance):
    with np.errstate(over="ignore"):
        par = np.array([1.0 / variance, variance, 1.0, np.sqrt(variance)])
    _agree(sample_np(sampling.GAMMA, par, _keys(5000), 3), _draws(sampling.GAMMA, par, 5000, 3))


@settings(max_examples=30, deadline=None)
@given(variances=st.lists(st.floats(1e-6, 20.0), min_size=1, max_size=6),
       participants=st.integers(0, 40), draw=st.integers(0, 2**40))
def test_numpy_frailty_with_one_variance_per_draw(variances, participants, draw):
    """A variance per row (a draw), as the engine draws a chunk: each row is the sampler's
    output for that variance alone (the rejection loop keeps every participant's attempts
    apart)."""
    v = np.array(variances)[:, None]
    keys = participant_key_np(7, draw + np.arange(len(variances))[:, None],
                              np.arange(participants)[None])
    together = sample_np(sampling.GAMMA, (1.0 / v, v, 1.0, np.sqrt(v)), keys, 3)
    assert together.shape == keys.shape
    for row, variance in enumerate(variances):
        alone = sample_np(sampling.GAMMA, np.array([1.0 / variance, variance, 1.0,
                                                    np.sqrt(variance)]), keys[row], 3)
        assert np.array_equal(together[row], alone)


def test_engine_members_follow_the_numba_samplers():
    """The frailty and prior months the kernel reads are those the numba samplers give for
    each participant's key (and frailty 1 in a draw without frailty)."""
    import sibsim
    from sibsim.engine import compile as comp
    from sibsim.engine.params import sample_parameters

    scenario = sibsim.load_scenario("danish-pilot")
    compiled = comp.compile_scenario(scenario)
    values = sample_parameters(scenario, np.arange(5, 9), 3)
    values.values["cohort.frailty_variance"][1] = 0.0
    arrays = comp.draw_arrays(scenario, compiled, values, 3)
    group = list(compiled.comparison.values())[0]
    members = draw_members(group, compiled.prior_months, arrays)
    code, par = compiled.prior_months
    for d in range(4):
        keys = participant_key_np(3, 5 + d, np.arange(group.site.shape[0]))
        variance = arrays.frailty_variance[d]
        for j in (0, 17, group.site.shape[0] - 1):
            prior = _one(code, par, keys[j], STREAM_PRIOR + group.stream_offset)
            assert members.prior_months[d, j] == (int(np.rint(prior)) if prior > 0 else 0)
            frailty = 1.0 if variance == 0 else _one(
                sampling.GAMMA, np.array([1 / variance, variance, 1.0, np.sqrt(variance)]),
                keys[j], STREAM_FRAILTY + group.stream_offset)
            _agree(members.frailty[d, j:j + 1], np.array([frailty]))
    assert np.all(members.frailty[1] == 1.0) and np.all(members.frailty[0] != 1.0)


@numba.njit
def _one(code, par, key, stream):
    return sampling.sample(code, par, key, stream)

