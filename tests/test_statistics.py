"""Tests of sibsim.analysis.statistics: the statistics of draws, with an ``axis`` argument.

Each statistic must equal, bit for bit, the plain numpy function on the non-NaN values of
each slice, whatever the axis and the memory layout of the array: the summaries, analyses
and plots that call these functions must not change a last bit of what they reported when
each computed its statistics on its own.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sibsim.analysis import statistics

Q = (0.05, 0.5, 0.95)


def per_slice(values: np.ndarray, axis: int, function) -> np.ndarray:
    """``function`` of the non-NaN values of each 1-d slice along ``axis`` (the definition)."""
    moved = np.moveaxis(values, axis, -1)
    out = [function(row[~np.isnan(row)]) for row in moved.reshape(-1, moved.shape[-1])]
    return np.asarray(out, dtype=np.float64).reshape(moved.shape[:-1] + np.shape(out[0]))


DEFINITIONS = {
    "mean": (statistics.mean, lambda v: v.mean() if v.size else math.nan),
    "standard_deviation": (statistics.standard_deviation,
                           lambda v: v.std(ddof=1) if v.size > 1 else math.nan),
    "median": (statistics.median, lambda v: np.median(v) if v.size else math.nan),
    "prob_loss": (statistics.prob_loss, lambda v: np.mean(v < 0) if v.size else math.nan),
    "expected_shortfall": (statistics.expected_shortfall,
                           lambda v: np.sort(v)[:max(1, math.ceil(0.05 * v.size - 1e-9))].mean()
                           if v.size else math.nan),
}


@st.composite
def draws_arrays(draw):
    """A (draws, a, b) array of large and small values, sometimes with NaN draws."""
    shape = (draw(st.integers(1, 70)), draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    values = rng.normal(0, 10 ** draw(st.integers(0, 7)), size=shape)
    if draw(st.booleans()):
        values[rng.uniform(size=shape) < draw(st.floats(0.0, 1.0))] = np.nan
    return values


@settings(deadline=None, max_examples=60)
@given(draws_arrays(), st.integers(0, 2), st.sampled_from(sorted(DEFINITIONS)))
def test_each_statistic_is_numpy_on_the_non_nan_values_of_each_slice(values, axis, name):
    function, definition = DEFINITIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = function(values, axis=axis)
    np.testing.assert_array_equal(got, per_slice(values, axis, definition))


@settings(deadline=None, max_examples=40)
@given(draws_arrays(), st.integers(0, 2))
def test_quantiles_are_numpy_on_the_non_nan_values_of_each_slice(values, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = statistics.quantiles(values, Q, axis=axis)
    expected = per_slice(values, axis,
                         lambda v: np.quantile(v, Q) if v.size else np.full(len(Q), np.nan))
    np.testing.assert_array_equal(got, np.moveaxis(expected, -1, 0))


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_layout_does_not_change_a_bit(name):
    function, _ = DEFINITIONS[name]
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1e6, size=(3001, 4))  # long enough for numpy's blocked sums
    expected = function(values, axis=0)
    np.testing.assert_array_equal(function(np.asfortranarray(values), axis=0), expected)
    np.testing.assert_array_equal(function(values.T, axis=1), expected)
    np.testing.assert_array_equal(function(values.T.copy(), axis=-1), expected)
    for j in range(values.shape[1]):
        assert function(values[:, j]) == expected[j]  # a column alone: a float, same bits


def test_one_dimensional_input_gives_a_float():
    for name, (function, _) in DEFINITIONS.items():
        assert type(function([1.0, -2.0, 3.0])) is float, name
    assert statistics.quantiles([1.0, 2.0], [0.5]).shape == (1,)


def test_prob_loss_counts_only_values_below_zero():
    assert statistics.prob_loss([0.0, 0.0, -1e-300, 5.0]) == 0.25
    assert statistics.prob_loss([np.nan, -1.0, 1.0]) == 0.5  # NaN draws are left out
    assert math.isnan(statistics.prob_loss([np.nan, np.nan]))


def test_empty_slices_give_nan_without_warnings():
    values = np.full((5, 2), np.nan)
    values[:, 1] = [1.0, 2.0, 3.0, 4.0, -5.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for function, _ in DEFINITIONS.values():
            out = function(values)
            assert math.isnan(out[0]) and math.isfinite(out[1])
        q = statistics.quantiles(values, Q)
        assert np.isnan(q[:, 0]).all() and np.isfinite(q[:, 1]).all()
        assert math.isnan(statistics.standard_deviation([7.0]))  # one draw: no spread


def test_expected_shortfall_tail_and_axis():
    values = np.column_stack([np.arange(100.0), -np.arange(100.0)])
    # ceil(0.1 x 100) = 10 worst draws of each column.
    np.testing.assert_array_equal(statistics.expected_shortfall(values, 0.1, axis=0),
                                  [4.5, -94.5])
    # 0.07 x 100 is 7.000000000000001 in floating point: still 7 draws, not 8.
    assert statistics.expected_shortfall(np.arange(100.0), 0.07) == 3.0
