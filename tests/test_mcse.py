"""Monte Carlo standard errors (sibsim.analysis.statistics) and their columns in summarize.

The MCSE of the mean and of P(loss) are checked exactly against their formulas; those of the
quantiles and of the expected shortfall against the spread of the estimates over many
independent replicates, drawn here with plain numpy. A replicate spread from R replicates
is itself known to about 1 / sqrt(2 R) (1.6% for R = 2000), and the estimators are
asymptotic: at 1000 draws they are within a few percent of the truth, so the tolerance is
10%; at 200 draws, where the order-statistic interval and the tail sample of 10 draws are
coarser, 20%.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import sibsim
from sibsim.analysis import statistics as S
from sibsim.analysis.summary import MCSE_COLUMNS

finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(deadline=None, max_examples=100)
@given(st.lists(finite, min_size=2, max_size=300))
def test_mean_mcse_is_sd_over_sqrt_n(values):
    x = np.array(values)
    assert S.mean_mcse(x) == pytest.approx(x.std(ddof=1) / math.sqrt(x.size), rel=1e-12,
                                           abs=1e-300)


@settings(deadline=None, max_examples=100)
@given(st.lists(finite, min_size=1, max_size=300))
def test_prob_loss_mcse_is_the_binomial_standard_error(values):
    x = np.array(values)
    p = np.count_nonzero(x < 0) / x.size
    assert S.prob_loss_mcse(x) == pytest.approx(math.sqrt(p * (1 - p) / x.size), rel=1e-12,
                                                abs=1e-300)


def test_mcse_leaves_nan_out_and_works_along_any_axis():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 3, 4))
    x[::7, 1, 2] = np.nan
    kept = x[:, 1, 2][~np.isnan(x[:, 1, 2])]
    for name, function in [("mean", S.mean_mcse), ("prob_loss", S.prob_loss_mcse),
                           ("es", S.expected_shortfall_mcse)]:
        out = function(x, axis=0)
        assert out.shape == (3, 4), name
        assert out[1, 2] == pytest.approx(function(kept)), name
        np.testing.assert_allclose(function(np.moveaxis(x, 0, 2), axis=2), out, rtol=1e-12)
    q = S.quantile_mcse(x, [0.05, 0.95], axis=0)
    assert q.shape == (2, 3, 4)
    np.testing.assert_allclose(q[:, 1, 2], S.quantile_mcse(kept, [0.05, 0.95]))
    assert math.isnan(S.mean_mcse(np.array([np.nan, 1.0])))  # one value: no spread
    assert math.isnan(S.quantile_mcse(np.array([np.nan]), [0.5])[0])


def test_constant_draws_have_no_monte_carlo_error():
    x = np.full(100, 7.0)
    assert S.mean_mcse(x) == 0.0 and S.prob_loss_mcse(x) == 0.0
    assert (S.quantile_mcse(x, [0.05, 0.95]) == 0.0).all()
    assert S.expected_shortfall_mcse(x) == 0.0


def draws_of(kind: str, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    if kind == "normal":
        return rng.normal(10.0, 3.0, size=shape)
    if kind == "lognormal":  # skewed, as the payments of a rate card
        return rng.lognormal(0.0, 0.8, size=shape)
    # 40% of the draws exactly 0 (a guarantee returning the principal), the rest spread
    return np.where(rng.random(shape) < 0.4, 0.0, rng.normal(1.0, 1.0, size=shape))


REPLICATES = 2000


@pytest.mark.parametrize("kind", ["normal", "lognormal", "atom"])
@pytest.mark.parametrize("draws, tolerance", [(1000, 0.10), (200, 0.20)])
def test_quantile_and_shortfall_mcse_match_the_spread_over_replicates(kind, draws, tolerance):
    rng = np.random.default_rng(draws + len(kind))
    x = draws_of(kind, rng, (REPLICATES, draws))
    spread_q = np.quantile(x, [0.05, 0.95], axis=1).std(axis=1, ddof=1)
    k = math.ceil(0.05 * draws)
    spread_es = np.sort(x, axis=1)[:, :k].mean(axis=1).std(ddof=1)
    # The estimators, each from one replicate, averaged over 300 replicates.
    estimate_q = S.quantile_mcse(x[:300], [0.05, 0.95], axis=1).mean(axis=1)
    estimate_es = S.expected_shortfall_mcse(x[:300], axis=1).mean()
    np.testing.assert_allclose(estimate_q, spread_q, rtol=tolerance)
    assert estimate_es == pytest.approx(spread_es, rel=tolerance)


def test_quantile_mcse_of_a_normal_is_the_asymptotic_formula():
    # One run's MCSE is itself an estimate (about 15% noise at 5000 draws in the tails):
    # its mean over 200 runs is the formula sqrt(q (1 - q) / n) / f(x_q) to about 1.5%.
    rng = np.random.default_rng(11)
    n = 5000
    x = rng.normal(size=(200, n))
    for q in (0.05, 0.5, 0.95):
        asymptotic = math.sqrt(q * (1 - q) / n) / stats.norm.pdf(stats.norm.ppf(q))
        assert S.quantile_mcse(x, [q], axis=1)[0].mean() == pytest.approx(asymptotic, rel=0.05)


def test_summarize_reports_the_mcse_of_each_statistic():
    # The built-in scenario at a fixed rate (its own is drawn per draw).
    pilot = sibsim.load_scenario("danish-pilot").replace("discount_rate", 0.035)
    result = sibsim.simulate(pilot, draws=200, seed=2, progress=False)
    table = sibsim.summarize(result).set_index(["contract", "party"])
    npv = result["npv"].transpose("draw", "contract", "party").values
    c, p = list(result.contract.values).index("sib"), list(result.party.values).index("investor")
    row = table.loc[("sib", "investor")]
    column = npv[:, c, p]
    assert row.mean_mcse == pytest.approx(column.std(ddof=1) / math.sqrt(200), rel=1e-12)
    share = (column < 0).mean()
    assert row.prob_loss_mcse == pytest.approx(math.sqrt(share * (1 - share) / 200), rel=1e-12)
    assert row.p05_mcse == S.quantile_mcse(column, [0.05])[0]
    assert row.p95_mcse == S.quantile_mcse(column, [0.95])[0]
    assert row.expected_shortfall_05_mcse == S.expected_shortfall_mcse(column)
    net = result["net"].sel(contract="sib", party="investor").values
    assert row.prob_nominal_loss == (net < 0).mean()
    # A guarantee that returns the principal: no nominal loss in most draws that lose at 3.5%.
    assert row.prob_nominal_loss < row.prob_loss
    for error in MCSE_COLUMNS.values():
        assert (table[error] >= 0).all(), error
        assert table[error].notna().all(), error
    assert table.loc[("donation", "foundation"), "role"] == "donor"
    assert table.attrs["currency"] == "DKK" and table.attrs["draws"] == 200
    assert table.attrs["discount_rate"]["investor"] == 0.035
    assert table.attrs["discount_rate_varies"] is False


def test_summarize_without_the_new_variables_leaves_their_columns_empty():
    npv = np.random.default_rng(1).normal(size=(30, 1, 2))
    result = xr.Dataset({"npv": (("draw", "contract", "party"), npv)},
                        coords={"draw": np.arange(30), "contract": ["c"], "party": ["a", "b"]})
    table = sibsim.summarize(result)
    assert table["prob_nominal_loss"].isna().all()
    assert (table["role"] == "").all()
    assert table["mean_mcse"].notna().all()
