"""Tests of the risk summary (sibsim.analysis.summary) and its text table
(sibsim.analysis.tables) on hand-made result Datasets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sibsim.analysis import COLUMNS, format_summary, summarize
from sibsim.analysis.statistics import expected_shortfall

PARTIES = ["municipality", "investor", "provider"]


def make_result(npv: np.ndarray, irr: np.ndarray, tranche_party: np.ndarray | None,
                contracts=("narrow", "broad")) -> xr.Dataset:
    data = {
        "npv": (("draw", "contract", "party"), npv),
        "investor_irr": (("draw", "contract"), irr),
    }
    if tranche_party is not None:
        data["tranche_party"] = (("contract", "party"), tranche_party)
    return xr.Dataset(
        data,
        coords={
            "draw": np.arange(npv.shape[0]),
            "contract": list(contracts),
            "party": PARTIES,
        },
    )


@pytest.fixture
def result() -> xr.Dataset:
    draws = 40
    npv = np.zeros((draws, 2, 3))
    npv[:, 0, 0] = np.arange(draws) - 10.0  # -10 .. 29
    npv[:, 0, 1] = 5.0
    npv[:, 1, 0] = -np.arange(draws, dtype=float)
    npv[:, 1, 1] = np.linspace(-1000.0, 1000.0, draws)
    irr = np.full((draws, 2), np.nan)
    irr[:, 1] = np.linspace(-0.2, 0.2, draws)
    irr[:5, 1] = np.nan  # draws without a root are left out
    irr[5, 1] = -1.0  # nothing returned counts
    tranche = np.array([[False, False, False], [False, True, False]])
    return make_result(npv, irr, tranche)


def test_one_row_per_contract_and_party_with_the_spec_columns(result):
    table = summarize(result)
    assert list(table.columns) == list(COLUMNS)
    assert list(zip(table.contract, table.party)) == [
        (c, p) for c in ("narrow", "broad") for p in PARTIES
    ]


def test_moments_quantiles_and_loss(result):
    table = summarize(result).set_index(["contract", "party"])
    values = np.arange(40) - 10.0
    row = table.loc[("narrow", "municipality")]
    assert row["mean"] == pytest.approx(values.mean())
    assert row["sd"] == pytest.approx(values.std(ddof=1))
    assert row["p05"] == pytest.approx(np.quantile(values, 0.05))
    assert row["p50"] == pytest.approx(9.5)
    assert row["p95"] == pytest.approx(np.quantile(values, 0.95))
    assert row["prob_loss"] == pytest.approx(10 / 40)  # npv < 0 strictly
    # ceil(0.05 * 40) = 2 worst draws: -10 and -9.
    assert row["expected_shortfall_05"] == pytest.approx(-9.5)
    constant = table.loc[("narrow", "investor")]
    assert constant["sd"] == 0.0 and constant["prob_loss"] == 0.0
    zero = table.loc[("narrow", "provider")]
    assert zero["prob_loss"] == 0.0  # an npv of exactly 0 is not a loss


def test_irr_quantiles_only_on_tranche_rows(result):
    table = summarize(result).set_index(["contract", "party"])
    finite = result["investor_irr"].values[5:, 1]
    row = table.loc[("broad", "investor")]
    np.testing.assert_allclose(
        [row.irr_p05, row.irr_p50, row.irr_p95], np.quantile(finite, [0.05, 0.5, 0.95])
    )
    others = table.drop(index=("broad", "investor"))
    assert others[["irr_p05", "irr_p50", "irr_p95"]].isna().all().all()


def test_result_without_tranche_party_has_no_irr_columns_filled(result):
    table = summarize(result.drop_vars("tranche_party"))
    assert table[["irr_p05", "irr_p50", "irr_p95"]].isna().all().all()


def test_tranche_row_without_any_finite_irr_is_nan():
    npv = np.zeros((10, 2, 3))
    irr = np.full((10, 2), np.nan)
    tranche = np.array([[False, True, False], [False, False, False]])
    table = summarize(make_result(npv, irr, tranche))
    assert table[["irr_p05", "irr_p50", "irr_p95"]].isna().all().all()


def test_dimension_order_of_the_dataset_does_not_matter(result):
    transposed = result.transpose("party", "contract", "draw")
    pd.testing.assert_frame_equal(summarize(transposed), summarize(result))


@pytest.mark.parametrize("draws, k", [(1, 1), (19, 1), (20, 1), (21, 2), (40, 2), (100, 5),
                                      (101, 6)])
def test_expected_shortfall_takes_ceil_of_five_percent_of_draws(draws, k):
    values = np.random.default_rng(draws).permutation(np.arange(draws, dtype=float))
    assert expected_shortfall(values) == pytest.approx(np.arange(k).mean())


def test_expected_shortfall_of_nothing_is_nan():
    assert math.isnan(expected_shortfall(np.array([np.nan])))


@settings(deadline=None, max_examples=100)
@given(st.lists(st.floats(-1e9, 1e9), min_size=1, max_size=200))
def test_risk_measures_are_ordered(values):
    npv = np.zeros((len(values), 2, 3))
    npv[:, 0, 0] = values
    row = summarize(make_result(npv, np.full((len(values), 2), np.nan), None)).iloc[0]
    tolerance = 1e-6 * (1.0 + max(abs(v) for v in values))
    # The worst ceil(5 %) draws lie at or below the interpolated 5 % quantile.
    assert row.expected_shortfall_05 <= row.p05 + tolerance
    assert row.expected_shortfall_05 <= row["mean"] + tolerance
    assert row.p05 <= row.p50 + tolerance and row.p50 <= row.p95 + tolerance
    assert 0.0 <= row.prob_loss <= 1.0


def test_format_summary_is_a_readable_fixed_width_table(result):
    text = format_summary(summarize(result))
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    header = next(line for line in lines if line.startswith("contract"))
    for word in ("party", "mean", "P(loss)", "ES 5%", "nominal"):
        assert word in header
    # Amounts below 100,000 are shown as they are, and the header says in what.
    assert "in DKK," in text
    rows = [line for line in lines if line.startswith(("narrow", "broad"))]
    risk_rows, irr_rows = rows[:6], rows[6:]
    assert len(risk_rows) == 6  # a table without roles keeps every row
    # Columns line up: every row has the width of its header or less.
    assert all(len(row) <= len(header) for row in risk_rows)
    assert "25.0%" in next(r for r in risk_rows if r.startswith("narrow") and "municipality" in r)
    # The IRR is shown on the rows of the parties that fund a tranche only, in percent.
    irr_header = next(line for line in lines if line.startswith("contract") and "IRR" in line)
    assert "IRR p50" in irr_header
    assert len(irr_rows) == 1 and irr_rows[0].split()[:2] == ["broad", "investor"]
    assert irr_rows[0].split()[-1].endswith("%")


def test_format_summary_scales_amounts_with_thousands_separators():
    npv = np.zeros((20, 2, 3))
    npv[:, 0, 0] = 12_345_678.0
    table = summarize(make_result(npv, np.full((20, 2), np.nan), None))
    assert "12,346" in format_summary(table)
    assert "12,345,678" in format_summary(table, scale=1.0, unit="DKK")


def test_share_of_draws_without_an_irr_root_is_reported():
    draws = 10
    npv = np.zeros((draws, 2, 3))
    irr = np.full((draws, 2), np.nan)
    irr[:8, 1] = 0.05  # draws 8 and 9: money drawn, no root
    multiple = np.full((draws, 2), np.nan)
    multiple[:, 1] = 1.0
    result = make_result(npv, irr, np.array([[False] * 3, [False, True, False]]))
    result["investor_multiple"] = (("draw", "contract"), multiple)
    table = summarize(result)
    assert table.attrs["irr_no_root_share"] == {"broad": pytest.approx(0.2)}
    assert "broad: the investor IRR has no root in 20.0% of the draws" in format_summary(table)
    result["investor_irr"][:, 1] = 0.05
    table = summarize(result)
    assert "no root" not in format_summary(table)
