"""Tests of contract settlement (sibsim.contracts) on synthetic, hand-computable ledgers.

No engine is involved: each test builds a small :class:`~sibsim.engine.ledger.Ledger` whose costs,
occupancy and programme cost are chosen so that the expected payments and positions can be
worked out by hand, and a ``value(path)`` that reads contract numbers from the contract
dicts (a number, or an array with one value per draw).
"""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import distinct_names, rounding_allowance

from sibsim.contracts import (
    ROUNDING_TOLERANCE,
    apply_cap_total,
    finance_programme,
    gain_share_due,
    settle,
    settlement_periods,
)
from sibsim.engine.ledger import ComparisonGroup, HistoricalBaseline, Ledger
from sibsim.scenario.keypath import format_path, parse_path

PAYERS = ["municipality", "state"]
CATEGORIES = ["benefits", "health"]
STATES = ["benefits", "employed"]
PARTIES = ["municipality", "state", "foundation", "investor", "bank", "provider"]


# ------------------------------------------------------------------------------------
# Builders
# ------------------------------------------------------------------------------------


def make_ledger(
    *,
    draws: int = 1,
    months: int = 12,
    saving: float | np.ndarray = 0.0,
    treatment: float | np.ndarray = 100.0,
    programme_cost: np.ndarray | None = None,
    enrolled: np.ndarray | None = None,
    rate: float = 0.0,
    occupancy: np.ndarray | None = None,
    comparison: dict | None = None,
    historical: HistoricalBaseline | None = None,
    rate_card_due: dict | None = None,
) -> Ledger:
    """A ledger whose only non-zero cost is the municipality's benefits cost.

    ``treatment`` is the treatment-arm cost per month and ``saving`` the counterfactual
    cost minus it (both broadcast to (draws, months)). Discounting is monthly at the
    annual ``rate`` (0 by default, so that npv = plain sums).
    """
    cost = np.zeros((draws, 2, months, len(PAYERS), len(CATEGORIES)))
    treatment = np.broadcast_to(treatment, (draws, months))
    cost[:, 0, :, 0, 0] = treatment
    cost[:, 1, :, 0, 0] = treatment + np.broadcast_to(saving, (draws, months))
    if programme_cost is None:
        programme_cost = np.zeros((draws, months))
    if enrolled is None:
        enrolled = np.full(months, 10, dtype=np.int64)
    if occupancy is None:
        occupancy = np.zeros((draws, 2, months, len(STATES)))
    discount = np.broadcast_to((1.0 + rate) ** (-np.arange(months) / 12.0), (draws, months))
    return Ledger(
        months=months,
        states=list(STATES),
        payers=list(PAYERS),
        categories=list(CATEGORIES),
        discount=np.array(discount, dtype=np.float64),
        enrolled=np.asarray(enrolled, dtype=np.int64),
        occupancy=np.asarray(occupancy, dtype=np.float64),
        cost=cost,
        programme_cost=np.broadcast_to(programme_cost, (draws, months)).astype(np.float64),
        comparison=comparison or {},
        historical=historical,
        rate_card_due=rate_card_due or {},
    )


def value_of(contracts: list[dict], draws: int, asked: list[str] | None = None):
    """``value(path)`` reading the number at a key path of the contracts.

    The path is parsed as the scenario's parameter table reads it (quoted keys and all), so
    a path built without quoting a key that needs it fails here. Every path asked for is
    appended to ``asked`` when given.
    """

    def value(path: str) -> np.ndarray:
        if asked is not None:
            asked.append(path)
        node = {"contracts": contracts}
        for part in parse_path(path):
            node = node[part]
        return np.broadcast_to(np.asarray(node, dtype=np.float64), (draws,))

    return value


def outcome_contract(kind: str, **settings) -> dict:
    common = {
        "name": kind,
        "type": kind,
        "payer": {"municipality": 1.0},
        "cap_total": None,
        "payment_lag_months": 0,
        "financing": None,
    }
    specific = {
        "rate_card": {
            "outcomes": [],
            "window_months": None,
            "cap_per_participant": None,
        },
        "gain_share": {
            "share": 0.5,
            "savings_of": ["municipality"],
            "categories": ["benefits"],
            "baseline": "counterfactual",
            "comparison_size": None,
            "settle_every_months": 12,
            "threshold": 0.0,
        },
        "effect_tiers": {
            "state": "benefits",
            "baseline": "counterfactual",
            "comparison_size": None,
            "measure_at_month": 6,
            "tiers": [[0.05, 0.0], [0.10, 2000.0], [0.25, 5000.0]],
        },
    }[kind]
    return {**common, **specific, **settings}


def financing(tranches, guarantees=()) -> dict:
    return {
        "tranches": [
            {"party": p, "amount": a, "return_cap_multiple": m} for p, a, m in tranches
        ],
        "guarantees": [{"party": p, "covers": c, "amount": a} for p, c, a in guarantees],
    }


def run(contracts, ledger, parties=PARTIES):
    return settle(contracts, ledger, value_of(contracts, ledger.draws), parties)


def col(name: str) -> int:
    return PARTIES.index(name)


def conservation_gap(settlement, ledger) -> np.ndarray:
    total = ledger.savings_npv().sum(axis=(1, 2)) - ledger.programme_cost_npv()
    return settlement.npv.sum(axis=2) - total[:, None]


# ------------------------------------------------------------------------------------
# Grant and fee for service
# ------------------------------------------------------------------------------------


def test_grant_funder_pays_the_programme_and_payers_keep_their_savings():
    programme = np.zeros(12)
    programme[0], programme[5] = 1000.0, 500.0
    ledger = make_ledger(saving=10.0, programme_cost=programme, rate=0.12)
    contract = {"name": "donation", "type": "grant", "funder": "foundation"}
    result = run([contract], ledger)
    discount = ledger.discount[0]
    np.testing.assert_allclose(
        result.npv[0, 0, col("foundation")], -(1000.0 + 500.0 * discount[5])
    )
    np.testing.assert_allclose(result.npv[0, 0, col("municipality")], 10.0 * discount.sum())
    assert result.npv[0, 0, col("provider")] == 0.0
    assert not result.payment.any()
    assert np.isnan(result.investor_irr).all() and np.isnan(result.investor_multiple).all()
    np.testing.assert_allclose(conservation_gap(result, ledger), 0.0, atol=1e-9)


def test_fee_for_service_is_paid_by_payer_shares():
    ledger = make_ledger(programme_cost=np.full(12, 100.0))
    contract = {
        "name": "fee",
        "type": "fee_for_service",
        "payer": {"municipality": 0.7, "state": 0.3},
    }
    result = run([contract], ledger)
    np.testing.assert_allclose(result.npv[0, 0, col("municipality")], -840.0)
    np.testing.assert_allclose(result.npv[0, 0, col("state")], -360.0)
    assert result.npv[0, 0, col("provider")] == 0.0
    assert not result.payment.any()


def test_payer_shares_must_add_up_to_one():
    ledger = make_ledger()
    contract = outcome_contract("gain_share", payer={"municipality": 0.7, "state": 0.2})
    with pytest.raises(ValueError, match=r"contracts\[0\]\.payer"):
        run([contract], ledger)


def test_unknown_party_is_an_error_naming_the_key_path():
    ledger = make_ledger()
    contract = {"name": "donation", "type": "grant", "funder": "charity"}
    with pytest.raises(ValueError, match=r"contracts\[0\]\.funder.*'charity'"):
        run([contract], ledger)


# ------------------------------------------------------------------------------------
# Rate card: lag, horizon, cap_total, payer shares, provider
# ------------------------------------------------------------------------------------


def test_rate_card_lag_moves_payments_and_drops_those_beyond_the_horizon():
    due = np.zeros((1, 8))
    due[0, 2], due[0, 5] = 100.0, 40.0
    ledger = make_ledger(months=8, rate_card_due={0: due})
    result = run([outcome_contract("rate_card", payment_lag_months=3)], ledger)
    expected = np.zeros(8)
    expected[5] = 100.0  # month 5 + 3 = 8 is beyond the horizon (months 0..7)
    np.testing.assert_array_equal(result.payment[0, 0], expected)


def test_rate_card_lag_zero_pays_in_the_outcome_month():
    due = np.zeros((1, 8))
    due[0, 7] = 30.0
    ledger = make_ledger(months=8, rate_card_due={0: due})
    result = run([outcome_contract("rate_card")], ledger)
    assert result.payment[0, 0, 7] == 30.0


def test_cap_total_applies_in_time_order_after_the_lag():
    due = np.zeros((1, 10))
    due[0, [1, 3, 4, 6]] = [30.0, 50.0, 40.0, 10.0]
    ledger = make_ledger(months=10, rate_card_due={0: due})
    contract = outcome_contract("rate_card", cap_total=100.0, payment_lag_months=2)
    result = run([contract], ledger)
    expected = np.zeros(10)
    expected[[3, 5, 6, 8]] = [30.0, 50.0, 20.0, 0.0]
    np.testing.assert_array_equal(result.payment[0, 0], expected)


def test_cap_total_counts_only_payments_within_the_horizon():
    due = np.zeros((1, 6))
    due[0, [1, 5]] = [80.0, 80.0]
    ledger = make_ledger(months=6, rate_card_due={0: due})
    contract = outcome_contract("rate_card", cap_total=100.0, payment_lag_months=1)
    result = run([contract], ledger)
    assert result.payment[0, 0].sum() == 80.0  # the second payment falls beyond month 5


def test_payer_shares_and_provider_position_without_financing():
    due = np.zeros((1, 12))
    due[0, 3] = 1000.0
    ledger = make_ledger(saving=50.0, programme_cost=np.full(12, 60.0), rate_card_due={0: due})
    contract = outcome_contract("rate_card", payer={"municipality": 0.7, "state": 0.3})
    result = run([contract], ledger)
    npv = result.npv[0, 0]
    np.testing.assert_allclose(npv[col("municipality")], 600.0 - 700.0)
    np.testing.assert_allclose(npv[col("state")], -300.0)
    np.testing.assert_allclose(npv[col("provider")], 1000.0 - 720.0)
    assert npv[col("investor")] == 0.0 and npv[col("foundation")] == 0.0
    assert np.isnan(result.investor_irr[0, 0]) and np.isnan(result.irr_no_root_share[0])


def test_discounting_uses_the_payment_month():
    due = np.zeros((1, 24))
    due[0, 0] = 100.0
    ledger = make_ledger(months=24, rate=0.21, rate_card_due={0: due})
    result = run([outcome_contract("rate_card", payment_lag_months=12)], ledger)
    np.testing.assert_allclose(result.npv[0, 0, col("provider")], 100.0 / 1.21)
    np.testing.assert_allclose(result.npv[0, 0, col("municipality")], -100.0 / 1.21)


def test_cap_total_per_draw_distribution():
    due = np.full((3, 4), 10.0)
    ledger = make_ledger(draws=3, months=4, rate_card_due={0: due})
    contract = outcome_contract("rate_card", cap_total=np.array([5.0, 25.0, 100.0]))
    result = run([contract], ledger)
    np.testing.assert_array_equal(result.payment[:, 0].sum(axis=1), [5.0, 25.0, 40.0])


# ------------------------------------------------------------------------------------
# Gain share
# ------------------------------------------------------------------------------------


def test_settlement_periods_with_a_trailing_partial_period():
    assert settlement_periods(12, 12) == [(0, 11)]
    assert settlement_periods(10, 4) == [(0, 3), (4, 7), (8, 9)]
    assert settlement_periods(3, 12) == [(0, 2)]


def test_gain_share_settles_each_period_at_its_last_month():
    # Savings 10 per month, months 0..9, periods of 4: (0-3), (4-7), trailing (8-9).
    ledger = make_ledger(months=10, saving=10.0)
    result = run([outcome_contract("gain_share", settle_every_months=4)], ledger)
    expected = np.zeros(10)
    expected[[3, 7, 9]] = [20.0, 20.0, 10.0]  # 0.5 x 40, 0.5 x 40, 0.5 x 20
    np.testing.assert_array_equal(result.payment[0, 0], expected)


def test_gain_share_lag_and_trailing_period_beyond_the_horizon():
    ledger = make_ledger(months=10, saving=10.0)
    contract = outcome_contract("gain_share", settle_every_months=4, payment_lag_months=2)
    result = run([contract], ledger)
    expected = np.zeros(10)
    expected[[5, 9]] = [20.0, 20.0]  # the trailing period would pay at 9 + 2: not made
    np.testing.assert_array_equal(result.payment[0, 0], expected)


def test_gain_share_nothing_carried_forward_or_clawed_back():
    saving = np.array([5.0, 5.0, -30.0, -30.0, 20.0, 0.0, 1.0, 1.0])
    ledger = make_ledger(months=8, saving=saving)
    result = run([outcome_contract("gain_share", settle_every_months=2)], ledger)
    expected = np.zeros(8)
    expected[[1, 5, 7]] = [5.0, 10.0, 1.0]  # the loss of months 2-3 is neither netted nor repaid
    np.testing.assert_array_equal(result.payment[0, 0], expected)


def test_gain_share_threshold_on_the_relative_saving_of_the_period():
    # Treatment cost 100 per month; period savings 4 x 5 = 20 against baseline 420 (4.8 %)
    # and 4 x 15 = 60 against 460 (13 %).
    saving = np.array([5.0] * 4 + [15.0] * 4)
    ledger = make_ledger(months=8, saving=saving)
    contract = outcome_contract("gain_share", settle_every_months=4, threshold=0.05)
    result = run([contract], ledger)
    expected = np.zeros(8)
    expected[7] = 30.0
    np.testing.assert_array_equal(result.payment[0, 0], expected)
    # At exactly the threshold the period pays.
    contract = outcome_contract("gain_share", settle_every_months=4, threshold=20.0 / 420.0)
    assert run([contract], ledger).payment[0, 0, 3] == 10.0


def test_gain_share_positive_saving_against_zero_baseline_pays():
    due = gain_share_due(
        np.array([[0.0, 4.0]]),
        np.zeros((1, 2)),
        share=np.array([0.5]),
        threshold=np.array([0.2]),
        settle_every_months=2,
        lag=0,
    )
    np.testing.assert_array_equal(due, [[0.0, 2.0]])


def test_gain_share_measures_only_its_payers_and_categories():
    ledger = make_ledger(months=4, saving=10.0)
    # Add savings for the state and for the municipality's health category.
    ledger.cost[:, 1, :, 1, 0] += 1000.0
    ledger.cost[:, 1, :, 0, 1] += 100.0
    contracts = [
        outcome_contract("gain_share", settle_every_months=4),
        outcome_contract("gain_share", settle_every_months=4, savings_of=["state"]),
        outcome_contract(
            "gain_share", settle_every_months=4, categories=["benefits", "health"]
        ),
        outcome_contract(
            "gain_share",
            settle_every_months=4,
            savings_of=["municipality", "state"],
            categories=["benefits", "health"],
        ),
    ]
    result = run(contracts, ledger)
    np.testing.assert_array_equal(result.payment[0, :, 3], [20.0, 2000.0, 220.0, 2220.0])


def test_gain_share_comparison_group_baseline_scales_per_enrolled_participant():
    months = 4
    enrolled = np.array([10, 20, 20, 20])
    group = ComparisonGroup(
        size=5,
        enrolled=np.array([5, 5, 5, 5]),
        occupancy=np.zeros((1, months, len(STATES))),
        cost=np.zeros((1, months, len(PAYERS), len(CATEGORIES))),
    )
    group.cost[0, :, 0, 0] = 60.0  # 12 per enrolled group participant
    ledger = make_ledger(
        months=months, treatment=150.0, enrolled=enrolled, comparison={5: group}
    )
    contract = outcome_contract(
        "gain_share", baseline="comparison_group", comparison_size=5, settle_every_months=4,
        share=1.0,
    )
    result = run([contract], ledger)
    # Baseline at treated scale: 12 x [10, 20, 20, 20] = [120, 240, 240, 240], 840 in all,
    # against a treatment cost of 4 x 150 = 600.
    assert result.payment[0, 0, 3] == pytest.approx(240.0)


def test_gain_share_historical_baseline():
    months = 4
    historical = HistoricalBaseline(
        occupancy=np.zeros((months, len(STATES))),
        cost=np.zeros((months, len(PAYERS), len(CATEGORIES))),
    )
    historical.cost[:, 0, 0] = [150.0, 150.0, 90.0, 90.0]
    ledger = make_ledger(draws=2, months=months, treatment=100.0, historical=historical)
    contract = outcome_contract(
        "gain_share", baseline="historical", settle_every_months=2, share=1.0
    )
    result = run([contract], ledger)
    np.testing.assert_array_equal(result.payment[:, 0, 1], [100.0, 100.0])
    np.testing.assert_array_equal(result.payment[:, 0, 3], [0.0, 0.0])


def test_zero_effect_counterfactual_pays_nothing_but_a_noisy_comparison_group_can():
    rng = np.random.default_rng(7)
    draws, months = 200, 24
    treatment = rng.gamma(5.0, 20.0, size=(draws, months))
    ledger = make_ledger(draws=draws, months=months, treatment=treatment, saving=0.0)
    group_cost = np.zeros((draws, months, len(PAYERS), len(CATEGORIES)))
    group_cost[:, :, 0, 0] = rng.gamma(5.0, 20.0, size=(draws, months))  # same mean, noise
    ledger.comparison = {
        10: ComparisonGroup(
            size=10,
            enrolled=np.full(months, 10),
            occupancy=np.zeros((draws, months, len(STATES))),
            cost=group_cost,
        )
    }
    contracts = [
        outcome_contract("gain_share"),
        outcome_contract("gain_share", baseline="comparison_group", comparison_size=10),
    ]
    result = run(contracts, ledger)
    assert not result.payment[:, 0].any()
    assert (result.payment[:, 1].sum(axis=1) > 0).mean() > 0.2
    # The payer's expected position is a loss: it pays for chance.
    assert result.npv[:, 1, col("municipality")].mean() < 0


def test_gain_share_share_per_draw():
    ledger = make_ledger(draws=2, months=12, saving=10.0)
    contract = outcome_contract("gain_share", share=np.array([0.25, 0.75]))
    result = run([contract], ledger)
    np.testing.assert_array_equal(result.payment[:, 0, 11], [30.0, 90.0])


# ------------------------------------------------------------------------------------
# Effect tiers
# ------------------------------------------------------------------------------------


def tiers_ledger(treated_months: float, baseline_months: float, **kwargs) -> Ledger:
    """10 participants enrolled throughout; months in `benefits` spread over months 0..5."""
    months = kwargs.pop("months", 12)
    occupancy = np.zeros((1, 2, months, len(STATES)))
    occupancy[0, 0, :6, 0] = treated_months / 6.0
    occupancy[0, 1, :6, 0] = baseline_months / 6.0
    occupancy[0, :, 6:, 0] = 10.0  # after the measurement: ignored
    return make_ledger(months=months, occupancy=occupancy, **kwargs)


@pytest.mark.parametrize(
    "treated, expected",
    [(60.0, 0.0), (56.0, 0.0), (54.0, 2000.0), (45.0, 5000.0), (30.0, 5000.0), (70.0, 0.0)],
)
def test_effect_tiers_highest_tier_reached_pays(treated, expected):
    # Baseline 60 months in benefits for 10 participants: 6 per participant.
    ledger = tiers_ledger(treated, 60.0)
    result = run([outcome_contract("effect_tiers")], ledger)
    payment = np.zeros(12)
    payment[5] = expected  # measure_at_month 6: paid in month 5
    np.testing.assert_allclose(result.payment[0, 0], payment)


def test_effect_tiers_counts_participants_enrolled_by_the_measurement_month():
    # Treated: 24 months in benefits over 8 enrolled by month 5 = 3 per participant.
    # Comparison group: 20 months over 4 enrolled by month 5 = 5 per participant.
    # Reduction 1 - 3/5 = 0.4 (dividing by the final enrolment, 12 and 10, would give 0).
    months = 12
    occupancy = np.zeros((1, 2, months, len(STATES)))
    occupancy[0, 0, :6, 0] = 4.0
    enrolled = np.array([4, 4, 4, 4, 8, 8] + [12] * 6)
    group_occupancy = np.zeros((1, months, len(STATES)))
    group_occupancy[0, :6, 0] = [2.0, 2.0, 2.0, 2.0, 6.0, 6.0]
    group = ComparisonGroup(
        size=10,
        enrolled=np.array([2, 2, 2, 2, 4, 4] + [10] * 6),
        occupancy=group_occupancy,
        cost=np.zeros((1, months, len(PAYERS), len(CATEGORIES))),
    )
    ledger = make_ledger(
        months=months, occupancy=occupancy, enrolled=enrolled, comparison={10: group}
    )
    contract = outcome_contract(
        "effect_tiers", baseline="comparison_group", comparison_size=10,
        tiers=[[0.35, 1.0], [0.45, 2.0]],
    )
    assert run([contract], ledger).payment[0, 0, 5] == 1.0


def test_effect_tiers_lag_and_horizon():
    ledger = tiers_ledger(30.0, 60.0)
    contract = outcome_contract("effect_tiers", payment_lag_months=4)
    assert run([contract], ledger).payment[0, 0, 9] == 5000.0
    contract = outcome_contract("effect_tiers", payment_lag_months=6)
    assert run([contract], ledger).payment[0, 0, 11] == 5000.0  # the horizon's last month
    contract = outcome_contract("effect_tiers", payment_lag_months=7)
    assert not run([contract], ledger).payment.any()  # month 5 + 7 lies beyond


def test_effect_tiers_cap_total():
    ledger = tiers_ledger(30.0, 60.0)
    contract = outcome_contract("effect_tiers", cap_total=3000.0)
    assert run([contract], ledger).payment[0, 0, 5] == 3000.0


def test_effect_tiers_comparison_group_baseline():
    months = 12
    ledger = tiers_ledger(45.0, 45.0, months=months)  # no effect against counterfactual
    group_occupancy = np.zeros((1, months, len(STATES)))
    group_occupancy[0, :6, 0] = 4.0  # 24 months over 4 enrolled: 6 per participant
    ledger.comparison = {
        4: ComparisonGroup(
            size=4,
            enrolled=np.full(months, 4),
            occupancy=group_occupancy,
            cost=np.zeros((1, months, len(PAYERS), len(CATEGORIES))),
        )
    }
    contract = outcome_contract("effect_tiers", baseline="comparison_group", comparison_size=4)
    # Treated 4.5 per participant against 6: a reduction of 25 %.
    assert run([contract], ledger).payment[0, 0, 5] == 5000.0


def test_effect_tiers_historical_baseline():
    historical = HistoricalBaseline(
        occupancy=np.zeros((12, len(STATES))), cost=np.zeros((12, len(PAYERS), len(CATEGORIES)))
    )
    historical.occupancy[:6, 0] = 10.0  # 60 months for 10 participants
    ledger = tiers_ledger(54.0, 0.0, historical=historical)
    contract = outcome_contract("effect_tiers", baseline="historical")
    assert run([contract], ledger).payment[0, 0, 5] == 2000.0


def test_effect_tiers_no_baseline_months_pays_nothing():
    ledger = tiers_ledger(0.0, 0.0)
    assert not run([outcome_contract("effect_tiers")], ledger).payment.any()


def test_effect_tiers_thresholds_and_payments_per_draw():
    occupancy = np.zeros((2, 2, 12, len(STATES)))
    occupancy[:, 0, :6, 0] = 8.0
    occupancy[:, 1, :6, 0] = 10.0  # a 20 % reduction in both draws
    ledger = make_ledger(draws=2, occupancy=occupancy)
    tiers = [[np.array([0.1, 0.1]), np.array([1.0, 2.0])], [np.array([0.15, 0.25]), 7.0]]
    contract = outcome_contract("effect_tiers", tiers=tiers)
    np.testing.assert_array_equal(run([contract], ledger).payment[:, 0, 5], [7.0, 2.0])


# ------------------------------------------------------------------------------------
# Financing: drawing, waterfall, return caps, guarantees, IRR and multiple
# ------------------------------------------------------------------------------------


def financed_rate_card(due_months, due_amounts, *, programme, tranches, guarantees=(),
                       months=12, rate=0.0, **settings):
    due = np.zeros((1, months))
    due[0, due_months] = due_amounts
    ledger = make_ledger(
        months=months, programme_cost=programme, rate_card_due={0: due}, rate=rate
    )
    contract = outcome_contract(
        "rate_card", financing=financing(tranches, guarantees), **settings
    )
    return run([contract], ledger), ledger


def test_tranches_draw_pro_rata_up_to_their_total_and_the_provider_pays_the_rest():
    programme = np.full(12, 100.0)  # 1200 in all
    result, ledger = financed_rate_card(
        [11], [0.0], programme=programme,
        tranches=[("investor", 600.0, None), ("bank", 300.0, None)],
    )
    npv = result.npv[0, 0]
    np.testing.assert_allclose(npv[col("investor")], -600.0)
    np.testing.assert_allclose(npv[col("bank")], -300.0)
    np.testing.assert_allclose(npv[col("provider")], -300.0)
    np.testing.assert_array_equal(
        result.tranche_party[0], [p in ("investor", "bank") for p in PARTIES]
    )
    np.testing.assert_array_equal(result.investor_irr[0], [-1.0])
    np.testing.assert_array_equal(result.investor_multiple[0], [0.0])


def test_tranches_fund_the_programme_as_it_is_spent():
    # Funding of 150 covers months 0 and half of month 1: with a discount rate the
    # tranche's npv shows when it paid.
    programme = np.zeros(12)
    programme[[0, 1, 2]] = 100.0
    result, ledger = financed_rate_card(
        [11], [0.0], programme=programme, tranches=[("investor", 150.0, None)], rate=0.5
    )
    d = ledger.discount[0]
    np.testing.assert_allclose(result.npv[0, 0, col("investor")], -(100.0 + 50.0 * d[1]))
    np.testing.assert_allclose(result.npv[0, 0, col("provider")], -(50.0 * d[1] + 100.0 * d[2]))


def test_fully_funded_programme_leaves_the_provider_exactly_zero():
    # Monthly costs of 100000 / 12 do not add up exactly in floating point: the sum of 84
    # of them is not 700000 to the last bit. A tranche of exactly 700000 (or more) still
    # funds every month, and the provider's position is 0, not +-1e-10.
    rng = np.random.default_rng(5)
    programme = np.full((30, 84), 100000.0 / 12.0) * rng.integers(1, 4, size=(30, 84))
    for amount in (programme.sum(axis=1), np.full(30, 1e9)):
        flows = finance_programme(
            programme, np.zeros((30, 84)), amount=amount[None], return_cap_multiple=
            np.full((1, 30), np.inf), guarantee_amount=np.zeros((0, 30)), covered=[],
        )
        assert not flows.unfunded.any()
        np.testing.assert_array_equal(flows.drawn[0], programme)
    # Above the amount by more than rounding, the provider pays the overrun.
    amount = programme.sum(axis=1) * (1.0 - 10 * ROUNDING_TOLERANCE)
    flows = finance_programme(
        programme, np.zeros((30, 84)), amount=amount[None],
        return_cap_multiple=np.full((1, 30), np.inf), guarantee_amount=np.zeros((0, 30)),
        covered=[],
    )
    assert (flows.unfunded.sum(axis=1) > 0).all()
    np.testing.assert_allclose(flows.unfunded.sum(axis=1) + flows.drawn[0].sum(axis=1),
                               programme.sum(axis=1), rtol=1e-14)


def test_provider_position_is_exactly_zero_when_tranches_cover_the_programme():
    programme = np.full(12, 0.1) * np.arange(1, 13)  # 0.1, 0.2, ...: inexact sums
    due = np.zeros((1, 12))
    due[0, [4, 9]] = [0.3, 0.7]
    ledger = make_ledger(programme_cost=programme, rate_card_due={0: due}, rate=0.07)
    contract = outcome_contract(
        "rate_card",
        financing=financing([("investor", float(programme.sum()), 1.0),
                             ("bank", 5.0, None)], [("foundation", "investor", 100.0)]),
    )
    result = run([contract], ledger)
    assert result.npv[0, 0, col("provider")] == 0.0
    np.testing.assert_allclose(conservation_gap(result, ledger), 0.0, atol=1e-12)


def test_binding_return_cap_of_one_leaves_the_guarantee_exactly_unused():
    # The tranche is repaid exactly its principal (a cap of 1x binds): a guarantee of its
    # unrepaid principal pays exactly 0, not a rounding residue.
    programme = np.full(12, 1.0 / 3.0)
    due = np.zeros((1, 12))
    due[0, 2:] = 0.7
    result, _ = financed_rate_card(
        list(range(2, 12)), [0.7] * 10, programme=programme,
        tranches=[("investor", 10.0, 1.0)], guarantees=[("foundation", "investor", 10.0)],
    )
    assert result.npv[0, 0, col("foundation")] == 0.0
    assert result.npv[0, 0, col("provider")] == 0.0


def test_caps_pass_untouched_months_bit_for_bit():
    due = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    # cumsum then diff would give 0.20000000000000004 in month 1, and so on.
    np.testing.assert_array_equal(apply_cap_total(due, np.array([10.0])), due)
    np.testing.assert_array_equal(apply_cap_total(due, np.array([0.6])),
                                  [[0.1, 0.2, 0.3, 0.0, 0.0]])
    capped = apply_cap_total(due, np.array([0.65]))
    np.testing.assert_array_equal(capped[0, :3], [0.1, 0.2, 0.3])
    np.testing.assert_allclose(capped[0, 3], 0.05, rtol=1e-12)
    assert capped[0, 4] == 0.0
    # A financed contract with room under its return cap makes every payment as due.
    ledger = make_ledger(months=5, programme_cost=np.full(5, 1.0),
                         rate_card_due={0: due})
    contract = outcome_contract("rate_card", financing=financing([("investor", 5.0, 10.0)]))
    np.testing.assert_array_equal(run([contract], ledger).payment[:, 0], due)


def test_payments_go_to_tranches_in_order_up_to_their_return_caps():
    programme = np.zeros(12)
    programme[0] = 300.0
    result, _ = financed_rate_card(
        [3, 6, 9], [200.0, 200.0, 200.0], programme=programme,
        tranches=[("investor", 200.0, 1.5), ("bank", 100.0, 1.2)],
    )
    # Caps: investor 300, bank 120: 420 in all. Month 3 -> investor 200; month 6 ->
    # investor 100, bank 100; month 9 -> bank 20, the remaining 180 are not made.
    expected = np.zeros(12)
    expected[[3, 6, 9]] = [200.0, 200.0, 20.0]
    np.testing.assert_allclose(result.payment[0, 0], expected)
    npv = result.npv[0, 0]
    np.testing.assert_allclose(npv[col("investor")], 300.0 - 200.0)
    np.testing.assert_allclose(npv[col("bank")], 120.0 - 100.0)
    np.testing.assert_allclose(npv[col("municipality")], -420.0)
    assert npv[col("provider")] == 0.0  # receives no payments under financing
    np.testing.assert_allclose(result.investor_multiple[0, 0], 420.0 / 300.0)


def test_uncapped_tranche_takes_everything_and_later_tranches_nothing():
    programme = np.zeros(12)
    programme[0] = 200.0
    result, _ = financed_rate_card(
        [5], [1000.0], programme=programme,
        tranches=[("investor", 100.0, None), ("bank", 100.0, 2.0)],
    )
    npv = result.npv[0, 0]
    np.testing.assert_allclose(npv[col("investor")], 1000.0 - 100.0)
    np.testing.assert_allclose(npv[col("bank")], -100.0)
    assert result.payment[0, 0, 5] == 1000.0


def test_return_cap_uses_money_drawn_not_the_amount():
    programme = np.zeros(12)
    programme[0] = 50.0  # only 50 of the 100 is drawn
    result, _ = financed_rate_card(
        [4], [500.0], programme=programme, tranches=[("investor", 100.0, 2.0)]
    )
    assert result.payment[0, 0, 4] == 100.0
    np.testing.assert_allclose(result.investor_multiple[0, 0], 2.0)


def test_guarantee_pays_unrepaid_principal_in_the_last_month_up_to_its_amount():
    programme = np.zeros(12)
    programme[0] = 1000.0
    result, ledger = financed_rate_card(
        [6], [300.0], programme=programme,
        tranches=[("investor", 1000.0, 1.5)],
        guarantees=[("foundation", "investor", 500.0)], rate=0.1,
    )
    d = ledger.discount[0]
    npv = result.npv[0, 0]
    # Unrepaid principal 700, guarantee pays 500 in month 11.
    np.testing.assert_allclose(npv[col("foundation")], -500.0 * d[11])
    np.testing.assert_allclose(npv[col("investor")], -1000.0 + 300.0 * d[6] + 500.0 * d[11])
    np.testing.assert_allclose(result.investor_multiple[0, 0], 0.8)
    flows = np.zeros(12)
    flows[0], flows[6], flows[11] = -1000.0, 300.0, 500.0
    from sibsim.contracts.finance import irr

    np.testing.assert_allclose(result.investor_irr[0, 0], irr(flows))
    assert not result.payment[0, 0, 11]  # a guarantee payout is not an outcome payment
    np.testing.assert_allclose(conservation_gap(result, ledger), 0.0, atol=1e-9)


def test_guarantee_pays_nothing_when_principal_is_repaid():
    programme = np.zeros(12)
    programme[0] = 1000.0
    result, _ = financed_rate_card(
        [6], [1200.0], programme=programme,
        tranches=[("investor", 1000.0, None)],
        guarantees=[("foundation", "investor", 500.0)],
    )
    assert result.npv[0, 0, col("foundation")] == 0.0
    np.testing.assert_allclose(result.investor_multiple[0, 0], 1.2)


def test_two_guarantees_on_one_tranche_pay_in_listing_order():
    programme = np.zeros(12)
    programme[0] = 1000.0
    result, _ = financed_rate_card(
        [6], [100.0], programme=programme,
        tranches=[("investor", 600.0, None), ("bank", 400.0, None)],
        guarantees=[("foundation", "bank", 300.0), ("state", "bank", 300.0),
                    ("foundation", "investor", 1000.0)],
    )
    npv = result.npv[0, 0]
    # The investor (first) receives the 100; the bank's 400 is repaid 300 + 100.
    np.testing.assert_allclose(npv[col("bank")], 0.0, atol=1e-12)
    np.testing.assert_allclose(npv[col("investor")], 0.0, atol=1e-12)
    np.testing.assert_allclose(npv[col("foundation")], -300.0 - 500.0)
    np.testing.assert_allclose(npv[col("state")], -100.0)
    np.testing.assert_allclose(result.investor_multiple[0, 0], 1.0)
    np.testing.assert_allclose(result.investor_irr[0, 0], 0.0, atol=1e-12)


def test_investor_irr_of_a_simple_financed_deal():
    programme = np.zeros(24)
    programme[0] = 1000.0
    result, _ = financed_rate_card(
        [12], [1100.0], programme=programme, months=24,
        tranches=[("investor", 1000.0, None)],
    )
    np.testing.assert_allclose(result.investor_irr[0, 0], 0.1, rtol=1e-10)
    assert result.irr_no_root_share[0] == 0.0


def test_nothing_drawn_gives_nan_irr_and_multiple():
    result, _ = financed_rate_card(
        [3], [100.0], programme=np.zeros(12), tranches=[("investor", 1000.0, 2.0)]
    )
    assert np.isnan(result.investor_irr[0, 0]) and np.isnan(result.investor_multiple[0, 0])
    assert np.isnan(result.irr_no_root_share[0])
    assert not result.payment.any()  # a cap of 2 x 0 drawn: nothing can be received


def test_financed_gain_share_and_effect_tiers():
    ledger = make_ledger(months=12, saving=10.0, programme_cost=np.full(12, 10.0))
    tranche = financing([("investor", 60.0, 1.1)])
    contracts = [
        outcome_contract("gain_share", settle_every_months=6, share=1.0, financing=tranche),
    ]
    result = run(contracts, ledger)
    # Investor draws 60 over months 0..5 (cap 66): period 1 pays 60, period 2 would pay 60,
    # of which 6 is made.
    expected = np.zeros(12)
    expected[[5, 11]] = [60.0, 6.0]
    np.testing.assert_allclose(result.payment[0, 0], expected)
    np.testing.assert_allclose(result.npv[0, 0, col("provider")], -60.0)


# ------------------------------------------------------------------------------------
# Properties: conservation of money, caps never exceeded
# ------------------------------------------------------------------------------------


@st.composite
def random_case(draw):
    draws = draw(st.integers(1, 3))
    months = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = (draws, 2, months, len(PAYERS), len(CATEGORIES))
    cost = rng.gamma(2.0, 50.0, size=shape) * (rng.random(shape) < 0.8)
    programme = rng.gamma(1.0, 200.0, size=(draws, months)) * (rng.random((draws, months)) < 0.5)
    enrolled = np.maximum.accumulate(rng.integers(0, 20, size=months)).astype(np.int64)
    occupancy = rng.uniform(0, 10, size=(draws, 2, months, len(STATES)))
    group_enrolled = np.maximum.accumulate(rng.integers(0, 8, size=months)).astype(np.int64)
    group = ComparisonGroup(
        size=7,
        enrolled=group_enrolled,
        occupancy=rng.uniform(0, 5, size=(draws, months, len(STATES))),
        cost=rng.gamma(2.0, 20.0, size=(draws, months, len(PAYERS), len(CATEGORIES))),
    )
    historical = HistoricalBaseline(
        occupancy=rng.uniform(0, 10, size=(months, len(STATES))),
        cost=rng.gamma(2.0, 50.0, size=(months, len(PAYERS), len(CATEGORIES))),
    )
    rate_card = rng.gamma(1.0, 300.0, size=(draws, months)) * (rng.random((draws, months)) < 0.3)
    ledger = Ledger(
        months=months,
        states=list(STATES),
        payers=list(PAYERS),
        categories=list(CATEGORIES),
        discount=(1.0 + rng.uniform(0, 0.1, size=(draws, 1))) ** (-np.arange(months) / 12.0),
        enrolled=enrolled,
        occupancy=occupancy,
        cost=cost,
        programme_cost=programme,
        comparison={7: group},
        historical=historical,
        rate_card_due={0: rate_card},
    )

    def per_draw(low, high):
        return rng.uniform(low, high, size=draws)

    def maybe_cap():
        return draw(st.one_of(st.none(), st.just(1))) and per_draw(0.0, 3000.0)

    def maybe_financing():
        if not draw(st.booleans()):
            return None
        names = draw(st.lists(st.sampled_from(["investor", "bank", "foundation"]),
                              min_size=1, max_size=3, unique=True))
        tranches = [
            (name, per_draw(0.0, 3000.0), draw(st.one_of(st.none(), st.floats(0.5, 2.0))))
            for name in names
        ]
        guarantees = [
            (draw(st.sampled_from(["foundation", "state", "bank"])),
             draw(st.sampled_from(names)), per_draw(0.0, 1000.0))
            for _ in range(draw(st.integers(0, 2)))
        ]
        return financing(tranches, guarantees)

    payer = draw(st.sampled_from([{"municipality": 1.0}, {"municipality": 0.7, "state": 0.3},
                                  {"state": 1.0}]))
    lag = draw(st.integers(0, 6))
    baseline = draw(st.sampled_from(["counterfactual", "comparison_group", "historical"]))
    contracts = [
        outcome_contract("rate_card", payer=payer, payment_lag_months=lag,
                         cap_total=maybe_cap(), financing=maybe_financing()),
        outcome_contract(
            "gain_share", payer=payer, payment_lag_months=lag, cap_total=maybe_cap(),
            financing=maybe_financing(), baseline=baseline, comparison_size=7,
            share=per_draw(0.0, 1.0), threshold=per_draw(-0.1, 0.2),
            settle_every_months=draw(st.integers(1, 14)),
            savings_of=draw(st.sampled_from([["municipality"], ["state"], PAYERS])),
            categories=draw(st.sampled_from([["benefits"], CATEGORIES])),
        ),
        outcome_contract(
            "effect_tiers", payer=payer, payment_lag_months=lag, cap_total=maybe_cap(),
            financing=maybe_financing(), baseline=baseline, comparison_size=7,
            state=draw(st.sampled_from(STATES)),
            measure_at_month=draw(st.integers(1, months)),
            tiers=[[per_draw(-0.5, 0.0), per_draw(0.0, 500.0)],
                   [per_draw(0.0, 0.5), per_draw(0.0, 3000.0)]],
        ),
        {"name": "grant", "type": "grant", "funder": "foundation"},
        {"name": "fee", "type": "fee_for_service", "payer": payer},
    ]
    return contracts, ledger


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(random_case())
def test_conservation_and_caps(case):
    contracts, ledger = case
    result = run(contracts, ledger)
    scale = 1.0 + np.abs(ledger.cost).sum() + ledger.programme_cost.sum()
    # Money is only moved between parties.
    np.testing.assert_allclose(conservation_gap(result, ledger), 0.0, atol=1e-9 * scale)
    payment = result.payment
    assert (payment >= 0.0).all()
    assert not payment[:, 3:].any()  # grant and fee_for_service make no outcome payments
    programme = ledger.programme_cost.sum(axis=1)
    for c, contract in enumerate(contracts[:3]):
        # cap_total is never exceeded, at any point in time.
        cumulative = np.cumsum(payment[:, c], axis=1)
        if contract["cap_total"] is not None:
            cap = contract["cap_total"][:, None]
            assert (cumulative <= cap + rounding_allowance(cap, cumulative[:, -1:])).all()
        if contract["financing"] is None:
            assert np.isnan(result.investor_irr[:, c]).all()
            continue
        # Tranches never receive (from payments) more than their return caps allow.
        tranches = contract["financing"]["tranches"]
        drawn_total = np.minimum(programme, sum(t["amount"] for t in tranches))
        multiples = [t["return_cap_multiple"] for t in tranches]
        if all(m is not None for m in multiples):
            amounts = np.array([t["amount"] for t in tranches])
            share = np.divide(amounts, amounts.sum(axis=0), out=np.zeros_like(amounts),
                              where=amounts.sum(axis=0) > 0)
            cap = (share * drawn_total * np.array(multiples)[:, None]).sum(axis=0)
            received = payment[:, c].sum(axis=1)
            # The money drawn and each return cap are cumulative limits in a chain.
            allowance = rounding_allowance(cap, received + drawn_total, limits=2)
            assert (received <= cap + allowance).all()
        drawn = drawn_total > 0
        assert np.isnan(result.investor_multiple[~drawn, c]).all()
        assert (result.investor_multiple[drawn, c] >= 0).all()
        irr = result.investor_irr[:, c]
        assert np.all(np.isnan(irr) | (irr >= -1.0))
        assert np.isnan(irr[~drawn]).all()


# ------------------------------------------------------------------------------------
# Party names that key paths must quote
# ------------------------------------------------------------------------------------

@settings(deadline=None, max_examples=60)
@given(names=distinct_names(3, exclude=PARTIES),
       share=st.floats(0.05, 0.95))
def test_party_names_that_need_quoting_are_read_by_their_quoted_key_path(names, share):
    payer, tranche, guarantor = names
    draws = 3
    due = np.zeros((draws, 12))
    due[:, 4] = 300.0
    ledger = make_ledger(draws=draws, saving=5.0, programme_cost=np.full(12, 10.0),
                         rate_card_due={0: due})
    # Shares given per draw (arrays) are read through value(path) at the party's key path.
    shares = {payer: np.full(draws, share), "state": np.full(draws, 1.0 - share)}
    contracts = [
        outcome_contract("rate_card", payer=shares, financing=financing(
            [(tranche, 200.0, 1.2)], [(guarantor, tranche, 50.0)])),
        {"name": "fee", "type": "fee_for_service", "payer": shares},
        {"name": "donation", "type": "grant", "funder": guarantor},
    ]
    parties = [*PARTIES[:-1], *names, "provider"]
    asked: list[str] = []
    result = settle(contracts, ledger, value_of(contracts, draws, asked), parties)
    for c in (0, 1):
        assert format_path(["contracts", c, "payer", payer]) in asked
    for path in asked:
        assert format_path(parse_path(path)) == path
    assert result.tranche_party[0, parties.index(tranche)]
    np.testing.assert_allclose(conservation_gap(result, ledger), 0.0, atol=1e-9)
    # The payer pays its share of the 200 the tranche may receive (1.2 x 120 drawn: 144).
    np.testing.assert_allclose(result.npv[:, 0, parties.index(payer)], -share * 144.0)
    # An unknown party is named, with the key path that names it.
    unknown = copy.deepcopy(contracts[:1])
    unknown[0]["financing"]["guarantees"][0]["party"] = guarantor + " A/S"
    with pytest.raises(ValueError, match=re.escape(
            f"contracts[0].financing.guarantees[0].party: got {guarantor + ' A/S'!r}")):
        settle(unknown, ledger, value_of(unknown, draws), parties)


def test_no_effect_means_no_gain_share_or_tier_payment_on_the_paired_baseline():
    rng = np.random.default_rng(3)
    occupancy = np.repeat(rng.uniform(0, 10, size=(50, 1, 12, len(STATES))), 2, axis=1)
    ledger = make_ledger(draws=50, treatment=rng.gamma(5.0, 20.0, (50, 12)), occupancy=occupancy)
    contracts = [outcome_contract("gain_share", settle_every_months=3),
                 outcome_contract("effect_tiers", tiers=[[0.0, 0.0], [1e-9, 100.0]])]
    assert not run(contracts, ledger).payment.any()


def test_apply_cap_total_without_cap_is_a_copy():
    due = np.ones((1, 3))
    capped = apply_cap_total(due, None)
    assert capped is not due and (capped == due).all()


def test_settle_does_not_modify_its_inputs():
    due = np.zeros((1, 12))
    due[0, 3] = 100.0
    ledger = make_ledger(saving=5.0, programme_cost=np.full(12, 10.0), rate_card_due={0: due})
    contracts = [outcome_contract("rate_card", financing=financing([("investor", 50.0, 1.5)]))]
    before = copy.deepcopy(contracts), ledger.cost.copy(), due.copy()
    run(contracts, ledger)
    assert contracts == before[0]
    assert (ledger.cost == before[1]).all() and (due == before[2]).all()
