"""Tests of the IRR solver and the money multiple (sibsim.contracts.finance)."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sibsim.contracts.finance import irr, multiple


def test_single_period_root_exact():
    monthly = irr(np.array([[-100.0, 0.0, 121.0]]), annualise=False)
    np.testing.assert_allclose(monthly, [0.1], rtol=1e-13)


def test_annualised_is_monthly_compounded_twelve_times():
    flows = np.array([[-100.0, 0.0, 121.0], [-50.0, 20.0, 40.0]])
    monthly = irr(flows, annualise=False)
    np.testing.assert_allclose(irr(flows), (1.0 + monthly) ** 12 - 1.0, rtol=1e-12)


def test_zero_rate_is_found_exactly():
    assert irr(np.array([[-5.0, 0.0, 5.0]]), annualise=False)[0] == 0.0


def test_nothing_returned_is_minus_one():
    flows = np.array([[-100.0, 0.0, 0.0], [-1.0, -2.0, 0.0]])
    np.testing.assert_array_equal(irr(flows), [-1.0, -1.0])
    np.testing.assert_array_equal(irr(flows, annualise=False), [-1.0, -1.0])


def test_nothing_paid_in_and_all_zero_are_nan():
    flows = np.array([[100.0, 0.0, 5.0], [0.0, 0.0, 0.0]])
    assert np.isnan(irr(flows)).all()


def test_no_root_is_nan():
    # NPV(x) = -1 + 2x - 1.5x^2 < 0 for every x: flows of both signs, no root.
    assert np.isnan(irr(np.array([[-1.0, 2.0, -1.5]])))[0]


def test_several_roots_gives_root_closest_to_zero():
    # Roots at monthly rates 0.1 and 0.2 (1.32 x^2 - 2.3 x + 1 = 0).
    flows = np.array([[-1.0, 2.3, -1.32]])
    np.testing.assert_allclose(irr(flows, annualise=False), [0.1], rtol=1e-10)
    np.testing.assert_allclose(npf.irr(flows[0]), 0.1, rtol=1e-10)


def test_shapes_follow_the_leading_axes():
    flows = np.zeros((2, 3, 4))
    flows[..., 0] = -1.0
    flows[..., 3] = 2.0
    assert irr(flows).shape == (2, 3)
    assert irr(np.array([-1.0, 1.1])).shape == ()
    with pytest.raises(ValueError, match="cashflows"):
        irr(np.float64(1.0))


def test_long_horizon_and_rate_near_minus_one_do_not_overflow():
    flows = np.zeros((2, 600))
    flows[0, 0], flows[0, 599] = -1.0, 1e-6  # tiny return after 50 years
    flows[1, 0], flows[1, 1] = -1.0, 1e-20  # almost nothing after one month
    monthly = irr(flows, annualise=False)
    np.testing.assert_allclose(monthly[0], 1e-6 ** (1 / 599) - 1, rtol=1e-10)
    np.testing.assert_allclose(monthly[1], -1.0 + 1e-20, atol=1e-15)


def test_late_first_flow_is_not_mistaken_for_a_root():
    # The first non-zero flow is at month 200: a fixed scaling would underflow.
    flows = np.zeros((1, 260))
    flows[0, 200], flows[0, 259] = -100.0, 130.0
    np.testing.assert_allclose(
        irr(flows, annualise=False), [1.3 ** (1 / 59) - 1], rtol=1e-10
    )


@st.composite
def conventional_flows(draw):
    """Money paid in first, then returned: one sign change, so a unique root."""
    n_in = draw(st.integers(1, 8))
    n_gap = draw(st.integers(0, 6))
    n_out = draw(st.integers(1, 20))
    amount = st.floats(0.5, 1000.0)
    paid_in = [-draw(amount) for _ in range(n_in)]
    returned = [draw(st.one_of(st.just(0.0), amount)) for _ in range(n_out)]
    if not any(returned):
        returned[-1] = draw(amount)
    return np.array(paid_in + [0.0] * n_gap + returned)


@settings(deadline=None, max_examples=200)
@given(st.lists(conventional_flows(), min_size=1, max_size=5))
def test_matches_numpy_financial_on_flows_with_a_unique_root(streams):
    length = max(len(s) for s in streams)
    flows = np.zeros((len(streams), length))
    for i, stream in enumerate(streams):
        flows[i, : len(stream)] = stream
    monthly = irr(flows, annualise=False)
    expected = np.array([npf.irr(stream) for stream in flows])
    np.testing.assert_allclose(monthly, expected, rtol=1e-7, atol=1e-9)
    # It is a root.
    t = np.arange(length)
    npv = (flows * (1.0 + monthly[:, None]) ** -t).sum(axis=1)
    scale = np.abs(flows).sum(axis=1)
    assert np.all(np.abs(npv) <= 1e-8 * scale * np.maximum(1.0, (1.0 + monthly) ** -length))


def test_multiple():
    np.testing.assert_array_equal(
        multiple(np.array([100.0, 0.0, 50.0]), np.array([150.0, 10.0, 0.0])),
        [1.5, np.nan, 0.0],
    )


def test_a_stream_does_not_depend_on_the_other_streams():
    # Each draw's IRR is a function of its own cash flows only (bit for bit), so the first
    # draws of a long run equal a short run with the same seed.
    rng = np.random.default_rng(4)
    flows = rng.normal(size=(300, 120)) * (rng.random((300, 120)) < 0.5)
    flows[:, :12] = -np.abs(flows[:, :12]) - 0.1
    flows[:, 60:] = np.abs(flows[:, 60:])
    whole = irr(flows)
    for part in (slice(0, 1), slice(5, 17), slice(250, 300)):
        np.testing.assert_array_equal(irr(flows[part]), whole[part])
    # And every finite IRR is a root: the NPV is 0 to rounding at the monthly rate.
    monthly = irr(flows, annualise=False)
    t = np.arange(flows.shape[1])
    discount = (1.0 + monthly[:, None]) ** -t
    npv = (flows * discount).sum(axis=1)
    assert np.all(np.abs(npv) <= 1e-12 * (np.abs(flows) * discount).sum(axis=1))


def test_triple_root_is_found():
    # NPV(x) = -(1 - 1.01 x) ** 3 with x = 1 / (1 + m): a triple root at m = 0.01. The NPV
    # is so flat there that every rate within about (eps) ** (1/3) of it is a root to
    # rounding: the solver returns one of those.
    flows = np.array([[-1.0, 3.03, -3.0603, 1.030301]])
    monthly = irr(flows, annualise=False)
    np.testing.assert_allclose(monthly, [0.01], rtol=1e-2)
    x = 1.0 / (1.0 + monthly[0]) ** np.arange(4)
    assert abs((flows[0] * x).sum()) <= 1e-14 * (np.abs(flows[0]) * x).sum()
