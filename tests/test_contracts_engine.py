"""Contracts end to end: scenarios run through ``sibsim.simulate``, payments checked exactly.

The scenarios here have certain transitions (probability 1 or 0, or step tables of 0 and 1),
so every participant's path, and with it every cost and every outcome, is known by hand; the
comments show the arithmetic behind each expected number. The rules are those of
``docs/contracts.rst``. The last part checks properties over random small
scenarios (conservation of money, caps never exceeded) and shows why a noisy baseline makes
a payer pay for nothing.
"""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import HealthCheck, example, given, settings
from strategies import (
    any_contracts,
    capped_contracts,
    rounding_allowance,
    small_scenario,
)

import sibsim

DRAWS = 2  # deterministic scenarios: every draw is the same; two show that they are


def simulate(doc: dict, draws: int = DRAWS, seed: int = 1):
    return sibsim.simulate(doc, draws=draws, seed=seed)


def payment(result, contract: str) -> np.ndarray:
    """The contract's payments per month, the same in every draw (asserted)."""
    paid = result["payment"].sel(contract=contract).values
    assert (paid == paid[0]).all()
    return paid[0]


def npv(result, contract: str, party: str) -> np.ndarray:
    return result["npv"].sel(contract=contract, party=party).values


def at(months: int, amounts: dict[int, float]) -> np.ndarray:
    """A monthly series of length ``months``: ``amounts`` at their months, 0 elsewhere."""
    series = np.zeros(months)
    for month, amount in amounts.items():
        series[month] = amount
    return series


# ------------------------------------------------------------------------------------------
# Rate card: a cohort that cycles 3 months on benefits, 5 months in work
# ------------------------------------------------------------------------------------------
#
# Four participants, intake over 4 months: participant j enters in month e = j (0, 1, 2, 3).
# benefits -> employed is certain at months_in_state 2 (table [[0, 0], [2, 1]]) and
# employed -> benefits at months_in_state 4, so every participant spends months since entry
# m = 0, 1, 2 on benefits, m = 3..7 in work, m = 8..10 on benefits, m = 11..15 in work, ...
# (both arms alike: there is no effect; a rate card pays on the treatment arm, gross).
#   sustained 3 in work:  the 3rd consecutive month of the first job, m = 5
#   sustained 6 in work:  never (jobs last 5 months)
#   cumulative 7 in work: months in work 3, 4, 5, 6, 7 (5), 11 (6), 12 (7): m = 12
# The outcome months in calendar time are e + m: 5, 6, 7, 8 and 12, 13, 14, 15.

RC_MONTHS = 18


def rate_card(name: str, outcomes: list[dict], **settings) -> dict:
    return {"name": name, "type": "rate_card", "payer": "municipality", "outcomes": outcomes,
            **settings}


S3 = {"name": "s3", "state": "employed", "sustained_months": 3, "price": 100.0}
S6 = {"name": "s6", "state": "employed", "sustained_months": 6, "price": 1000.0}
C7 = {"name": "c7", "state": "employed", "cumulative_months": 7, "price": 50.0}


def cycling_scenario(contracts: list[dict], months: int = RC_MONTHS) -> dict:
    return {
        "months": months,
        "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "intake_months": 4, "sites": {"A": {"size": 4}}},
        "programme": {"months": 2, "cost_per_participant": 300.0, "fixed_cost": 500.0},
        "transitions": [
            {"from": "benefits", "to": "employed",
             "probability": {"by_months_in_state": [[0, 0.0], [2, 1.0]]}},
            {"from": "employed", "to": "benefits",
             "probability": {"by_months_in_state": [[0, 0.0], [4, 1.0]]}},
        ],
        "flows": [{"name": "cash", "state": "benefits", "category": "benefits",
                   "monthly": 1000.0, "split": {"municipality": 1.0}}],
        "contracts": contracts,
    }


def test_the_cycling_cohort_is_as_described():
    result = simulate(cycling_scenario([]))
    employed = result["occupancy"].sel(arm="treatment", state="employed").values
    enrolled = result["enrolled"].values  # 1, 2, 3, 4, 4, ...
    counts = employed * enrolled
    # Participant e is in work in months e+3..e+7 and e+11..e+15 (within the horizon).
    expected = np.zeros(RC_MONTHS)
    for e in range(4):
        for m in [*range(3, 8), *range(11, 16)]:
            if e + m < RC_MONTHS:
                expected[e + m] += 1
    np.testing.assert_allclose(counts[0], expected, rtol=1e-15)
    np.testing.assert_allclose(counts[1], expected, rtol=1e-15)


def test_rate_card_sustained_and_cumulative_outcome_months():
    result = simulate(cycling_scenario([rate_card("plain", [C7, S3, S6])]))
    # s3 (100) at e + 5 = 5, 6, 7, 8; c7 (50) at e + 12 = 12, 13, 14, 15; s6 never.
    expected = at(RC_MONTHS, {5: 100, 6: 100, 7: 100, 8: 100, 12: 50, 13: 50, 14: 50, 15: 50})
    np.testing.assert_array_equal(payment(result, "plain"), expected)
    # No financing: the provider pays the programme and receives the payments; r = 0, so
    # npv are plain sums. Programme: 500 fixed in month 0 and 300 / 2 months = 150 per
    # participant-month for each participant's months e, e+1: 8 x 150 = 1200; K = 1700.
    assert result["programme_cost"].values[0].sum() == 1700.0
    np.testing.assert_array_equal(npv(result, "plain", "provider"), 600.0 - 1700.0)


def test_sustained_months_count_from_entry_only():
    # One participant who starts in work with 10 months of it behind them, and leaves work
    # at the end of months_in_state 12: in work in months 0, 1, 2 (months_in_state 10, 11,
    # 12), then on benefits for good. Months before entry never count, so "3 consecutive
    # months" and "3 months in all" are both reached in month 2, not in month 0.
    doc = cycling_scenario([
        rate_card("three", [{"name": "s3", "state": "employed", "sustained_months": 3,
                             "price": 100.0},
                            {"name": "c3", "state": "employed", "cumulative_months": 3,
                             "price": 10.0},
                            {"name": "s4", "state": "employed", "sustained_months": 4,
                             "price": 1000.0}]),
    ])
    doc["cohort"] = {"initial_state": "employed", "prior_months": 10.0,
                     "sites": {"A": {"size": 1}}}
    doc["transitions"] = [
        {"from": "benefits", "to": "employed", "probability": 0.0},
        {"from": "employed", "to": "benefits",
         "probability": {"by_months_in_state": [[0, 0.0], [12, 1.0]]}},
    ]
    result = simulate(doc)
    employed = result["occupancy"].sel(arm="treatment", state="employed").values[0]
    np.testing.assert_array_equal(employed[:4], [1, 1, 1, 0])
    # s3 + c3 = 110 in month 2; s4 never.
    np.testing.assert_array_equal(payment(result, "three"), at(RC_MONTHS, {2: 110}))


def test_rate_card_window_is_inclusive_in_months_since_entry():
    result = simulate(cycling_scenario([
        rate_card("w12", [S3, C7], window_months=12),   # c7 at m = 12 <= 12: paid
        rate_card("w11", [S3, C7], window_months=11),   # c7 at m = 12 > 11: not paid
        rate_card("w4", [S3, C7], window_months=4),     # s3 at m = 5 > 4: nothing at all
    ]))
    both = at(RC_MONTHS, {5: 100, 6: 100, 7: 100, 8: 100, 12: 50, 13: 50, 14: 50, 15: 50})
    np.testing.assert_array_equal(payment(result, "w12"), both)
    np.testing.assert_array_equal(payment(result, "w11"),
                                  at(RC_MONTHS, {5: 100, 6: 100, 7: 100, 8: 100}))
    np.testing.assert_array_equal(payment(result, "w4"), np.zeros(RC_MONTHS))


def test_per_participant_cap_applies_in_time_order_not_listing_order():
    # c7 is listed first but reached later (m = 12) than s3 (m = 5). Cap 120 per participant:
    # s3 pays 100 at m = 5, then c7 the room left, 120 - 100 = 20, at m = 12. (Listing order
    # would have paid c7 50 and s3 70.)
    result = simulate(cycling_scenario([rate_card("pp", [C7, S3], cap_per_participant=120.0)]))
    expected = at(RC_MONTHS, {5: 100, 6: 100, 7: 100, 8: 100, 12: 20, 13: 20, 14: 20, 15: 20})
    np.testing.assert_array_equal(payment(result, "pp"), expected)


def test_payment_lag_and_the_horizon():
    # Lag 3: s3 at 5..8 is paid at 8..11; c7 at 12..15 is paid at 15, 16, 17 and, for the
    # participant entering in month 3, at 18 = the horizon: never paid.
    result = simulate(cycling_scenario([rate_card("lag", [S3, C7], payment_lag_months=3)]))
    expected = at(RC_MONTHS, {8: 100, 9: 100, 10: 100, 11: 100, 15: 50, 16: 50, 17: 50})
    np.testing.assert_array_equal(payment(result, "lag"), expected)
    assert payment(result, "lag").sum() == 550.0  # 4 x 100 + 3 x 50


def test_cap_total_in_time_order_after_the_lag():
    result = simulate(cycling_scenario([
        # Due: 100 at 8, 9, 10, 11 and 20 (cap 120 per participant) at 15, 16, 17.
        # Running sum 100, 200, 300, 400 > 350: month 11 pays 350 - 300 = 50, then nothing.
        rate_card("capped", [S3, C7], payment_lag_months=3, cap_per_participant=120.0,
                  cap_total=350.0),
        # Due in the horizon: 4 x 100 + 3 x 50 = 550. The 50 dropped at the horizon does
        # not count towards the cap: a cap of 550 binds nowhere.
        rate_card("exact", [S3, C7], payment_lag_months=3, cap_total=550.0),
        # A cap of 500 is reached in month 16 (400 + 50 + 50), and month 17 pays nothing.
        rate_card("late", [S3, C7], payment_lag_months=3, cap_total=500.0),
    ]))
    np.testing.assert_array_equal(
        payment(result, "capped"), at(RC_MONTHS, {8: 100, 9: 100, 10: 100, 11: 50}))
    np.testing.assert_array_equal(
        payment(result, "exact"),
        at(RC_MONTHS, {8: 100, 9: 100, 10: 100, 11: 100, 15: 50, 16: 50, 17: 50}))
    np.testing.assert_array_equal(
        payment(result, "late"),
        at(RC_MONTHS, {8: 100, 9: 100, 10: 100, 11: 100, 15: 50, 16: 50}))


# ------------------------------------------------------------------------------------------
# Gain share, effect tiers, financing: a cohort whose treatment keeps people in work
# ------------------------------------------------------------------------------------------
#
# Ten participants, all entering in month 0, horizon T = 31 months. benefits -> employed and
# employed -> benefits are both certain, so without the programme (counterfactual arm) a
# participant alternates: benefits in even months, in work in odd months. The programme
# switches employed -> benefits off (effect ratio 0) for transitions drawn at the end of
# months since entry 0..9, so a treated participant is on benefits in month 0, in work in
# months 1..10, and then alternates again, on benefits in odd months 11, 13, ..., 29.
#
#   month t:            0  1  2  3 ... 9 10 | 11 12 13 ... 29 30
#   counterfactual B:   1  0  1  0 ... 0  1 |  0  1  0 ...  0  1
#   treatment B:        1  0  0  0 ... 0  0 |  1  0  1 ...  1  0
#   cf B - tr B:        0  0  1  0 ... 0  1 | -1  1 -1 ... -1  1
#
# Flows: cash benefit 1000 per month on benefits (municipality 0.6, state 0.4), health 100
# per month on benefits (municipality), tax -200 per month in work (state).
# The programme costs 300 per participant over 2 months (150 a month each, 10 participants:
# 1500 in months 0 and 1) and 500 fixed in month 0: K = 2000, 1500.

GS_MONTHS = 31
CF_MINUS_TR = np.array([0, 0] + [1, 0] * 4 + [1] + [-1, 1] * 10, dtype=float)


def alternating_scenario(contracts: list[dict], discount_rate: float = 0.0) -> dict:
    return {
        "months": GS_MONTHS,
        "discount_rate": discount_rate,
        "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "sites": {"A": {"size": 10}}},
        "programme": {"months": 2, "cost_per_participant": 300.0, "fixed_cost": 500.0},
        "transitions": [
            {"from": "benefits", "to": "employed", "probability": 1.0},
            {"from": "employed", "to": "benefits", "probability": 1.0,
             "effect": {"ratio": 0.0, "from_month": 0, "to_month": 10}},
        ],
        "flows": [
            {"name": "cash", "state": "benefits", "category": "benefits", "monthly": 1000.0,
             "split": {"municipality": 0.6, "state": "rest"}},
            {"name": "health", "state": "benefits", "category": "health", "monthly": 100.0,
             "split": {"municipality": 1.0}},
            {"name": "tax", "state": "employed", "category": "tax", "monthly": -200.0,
             "split": {"state": 1.0}},
        ],
        "contracts": contracts,
    }


def gain_share(name: str, **settings) -> dict:
    contract = {"name": name, "type": "gain_share", "payer": {"municipality": 0.7, "state": 0.3},
                "share": 0.5, "savings_of": ["municipality"], "categories": ["benefits"],
                "threshold": 0.0, "settle_every_months": 12}
    return {**contract, **settings}


def test_the_alternating_cohort_and_its_savings():
    result = simulate(alternating_scenario([]))
    benefits = result["occupancy"].sel(state="benefits").values  # share: all alike, 0 or 1
    cf = np.arange(GS_MONTHS) % 2 == 0
    tr = np.r_[1, np.zeros(10), (np.arange(11, GS_MONTHS) % 2 == 1)]
    np.testing.assert_array_equal(benefits[:, 1], np.broadcast_to(cf, (DRAWS, GS_MONTHS)))
    np.testing.assert_array_equal(benefits[:, 0], np.broadcast_to(tr, (DRAWS, GS_MONTHS)))
    np.testing.assert_array_equal(cf - tr, CF_MINUS_TR)
    # cf B - tr B sums to 5 (months 2, 4, 6, 8, 10; after that +1 and -1 cancel, ten each).
    # Municipality: 10 x (600 + 100) x 5 = 35000 (30000 benefits, 5000 health).
    # State: benefits 10 x 400 x 5 = 20000; tax: a month out of benefits is a month in work,
    # 10 x 200 x 5 = 10000 more tax in the treatment arm, a saving.
    savings = result["savings_npv"].sel(draw=0)
    assert savings.sel(payer="municipality", category="benefits") == 30000.0
    assert savings.sel(payer="municipality", category="health") == 5000.0
    assert savings.sel(payer="state", category="benefits") == 20000.0
    assert savings.sel(payer="state", category="tax") == 10000.0


def test_gain_share_settlement_periods_threshold_share_and_trailing_period():
    result = simulate(alternating_scenario([
        gain_share("t0"),
        gain_share("t05", threshold=0.5),
        gain_share("t05_lag1", threshold=0.5, payment_lag_months=1),
        gain_share("lag1", payment_lag_months=1),
        gain_share("every10", settle_every_months=10),
    ]))
    # Measured: municipality's benefits cost, 600 per participant-month on benefits, so the
    # monthly saving is s_t = 10 x 600 x (cf B - tr B) = 6000 x CF_MINUS_TR.
    # S = 12: periods 0..11, 12..23, 24..30 (trailing, settles at T - 1 = 30).
    #   period 1: +6000 x 5 (months 2..10) - 6000 (month 11) = 24000; its baseline cost is
    #             6000 x 6 (cf on benefits in months 0, 2, .., 10) = 36000: relative 0.667
    #   period 2: six +6000 and six -6000: 0, pays nothing
    #   period 3: months 24, 26, 28, 30 (+) and 25, 27, 29 (-): 6000; baseline 4 x 6000 =
    #             24000: relative 0.25
    # share 0.5: 12000 at month 11 and 3000 at month 30.
    np.testing.assert_array_equal(payment(result, "t0"), at(GS_MONTHS, {11: 12000, 30: 3000}))
    # threshold 0.5: period 3 (0.25) does not pay.
    np.testing.assert_array_equal(payment(result, "t05"), at(GS_MONTHS, {11: 12000}))
    np.testing.assert_array_equal(payment(result, "t05_lag1"), at(GS_MONTHS, {12: 12000}))
    # lag 1: the trailing period's 3000 falls in month 31 = T: not paid.
    np.testing.assert_array_equal(payment(result, "lag1"), at(GS_MONTHS, {12: 12000}))
    # S = 10: periods 0..9 (settles at 9), 10..19 (19), 20..29 (29), 30 (trailing, 30).
    #   0..9:   months 2, 4, 6, 8: 24000 -> 12000 at 9
    #   10..19: +6000 (10), then 12..18 even (4 x +6000) and 11..19 odd (5 x -6000): 0
    #   20..29: five + and five -: 0
    #   30:     +6000 -> 3000 at 30
    np.testing.assert_array_equal(payment(result, "every10"), at(GS_MONTHS, {9: 12000, 30: 3000}))


def test_gain_share_savings_of_and_categories_filters():
    result = simulate(alternating_scenario([
        gain_share("muni_benefits"),
        gain_share("muni_all", categories=["benefits", "health", "tax"]),
        gain_share("state_all", savings_of=["state"], categories=["benefits", "health", "tax"]),
        gain_share("everyone", savings_of=["municipality", "state"],
                   categories=["benefits", "health", "tax"]),
    ]))
    # Measured cost per participant-month on benefits minus in work, by filter:
    #   municipality, benefits:          600
    #   municipality, every category:    600 + 100 = 700
    #   state, every category:           400 on benefits, -200 in work: 600
    #   every payer and category:        1100 on benefits, -200 in work: 1300
    # Period 1 (months 0..11) measures 10 x c x 4 (five + and one -), period 3 10 x c x 1;
    # share 0.5: 20 c at month 11 and 5 c at month 30.
    for name, c in [("muni_benefits", 600), ("muni_all", 700), ("state_all", 600),
                    ("everyone", 1300)]:
        np.testing.assert_array_equal(payment(result, name),
                                      at(GS_MONTHS, {11: 20 * c, 30: 5 * c}), err_msg=name)


def test_gain_share_payer_shares_and_positions():
    result = simulate(alternating_scenario([gain_share("gs")]))
    # Paid: 12000 + 3000 = 15000, by municipality 0.7 and state 0.3 (r = 0).
    #   municipality: 35000 - 0.7 x 15000 = 24500
    #   state:        30000 - 0.3 x 15000 = 25500
    #   provider:     15000 - K (2000 + 1500) = 11500
    np.testing.assert_allclose(npv(result, "gs", "municipality"), 24500.0, rtol=1e-15)
    np.testing.assert_allclose(npv(result, "gs", "state"), 25500.0, rtol=1e-15)
    np.testing.assert_array_equal(npv(result, "gs", "provider"), 11500.0)


def test_gain_share_comparison_group_and_historical_baseline_without_chance():
    # Without chance, the comparison group (7 participants, per enrolled participant, at the
    # treated cohort's scale) and the historical baseline (the expected counterfactual) both
    # equal the paired counterfactual, and the payments are the same.
    result = simulate(alternating_scenario([
        gain_share("paired"),
        gain_share("group", baseline="comparison_group", comparison_size=7),
        gain_share("historical", baseline="historical"),
    ]))
    expected = at(GS_MONTHS, {11: 12000, 30: 3000})
    for name in ("paired", "group", "historical"):
        np.testing.assert_allclose(payment(result, name), expected, rtol=1e-12, err_msg=name)


def tiers(name: str, measure_at_month: int, **settings) -> dict:
    contract = {"name": name, "type": "effect_tiers", "payer": "state", "state": "benefits",
                "measure_at_month": measure_at_month,
                "tiers": [[0.5, 1000.0], [0.7, 3000.0], [0.9, 9000.0]]}
    return {**contract, **settings}


def test_effect_tiers_reduction_tier_and_payment_month():
    result = simulate(alternating_scenario([
        # M = 10: months 0..9 on benefits per participant: cf 5 (0, 2, 4, 6, 8), tr 1 (0).
        # Reduction 1 - 1/5 = 0.8: tiers 0.5 and 0.7 reached, the highest (3000) pays, in
        # month M - 1 + lag = 9 + 2 = 11.
        tiers("m10", 10, payment_lag_months=2),
        # M = 12: cf 6 (0, 2, .., 10), tr 2 (0, 11): 1 - 2/6 = 0.667: tier 0.5 pays 1000 in
        # month 11.
        tiers("m12", 12),
        # M = 3: cf 2 (0, 2), tr 1 (0): exactly 0.5, which reaches the 0.5 tier: 1000 at 2.
        tiers("m3", 3),
        # M = 2: cf 1, tr 1: reduction 0, no tier: nothing.
        tiers("m2", 2),
        # M = 31, lag 1: paid in month 31 = T: not paid.
        tiers("late", 31, payment_lag_months=1),
        # The comparison group and the historical baseline equal the counterfactual here.
        tiers("group", 10, baseline="comparison_group", comparison_size=7),
        tiers("historical", 10, baseline="historical"),
        # cap_total below the tier: pays the cap.
        tiers("capped", 10, cap_total=2500.0),
    ]))
    np.testing.assert_array_equal(payment(result, "m10"), at(GS_MONTHS, {11: 3000}))
    np.testing.assert_array_equal(payment(result, "m12"), at(GS_MONTHS, {11: 1000}))
    np.testing.assert_array_equal(payment(result, "m3"), at(GS_MONTHS, {2: 1000}))
    np.testing.assert_array_equal(payment(result, "m2"), np.zeros(GS_MONTHS))
    np.testing.assert_array_equal(payment(result, "late"), np.zeros(GS_MONTHS))
    np.testing.assert_array_equal(payment(result, "group"), at(GS_MONTHS, {9: 3000}))
    np.testing.assert_array_equal(payment(result, "historical"), at(GS_MONTHS, {9: 3000}))
    np.testing.assert_array_equal(payment(result, "capped"), at(GS_MONTHS, {9: 2500}))
    # The state pays and keeps its own savings (30000); the provider gets 3000 - 3500.
    np.testing.assert_allclose(npv(result, "m10", "state"), 30000.0 - 3000.0, rtol=1e-15)
    np.testing.assert_array_equal(npv(result, "m10", "provider"), 3000.0 - 3500.0)


RATE = 0.1


def delta(month: int) -> float:
    """Discount factor of a month at the annual rate RATE."""
    return (1.0 + RATE) ** (-month / 12.0)


def test_financing_pro_rata_drawing_tranche_order_return_caps_and_guarantee():
    financed = gain_share(
        "sib", share=0.125,
        financing={
            "tranches": [
                {"party": "investor", "amount": 2000.0, "return_cap_multiple": 1.5},
                {"party": "bank", "amount": 1000.0},
            ],
            "guarantees": [
                {"party": "foundation", "covers": "bank", "amount": 200.0},
                {"party": "state", "covers": "investor", "amount": 100.0},
            ],
        },
    )
    result = simulate(alternating_scenario([financed], discount_rate=RATE))
    # Due (share 0.125): 24000 / 8 = 3000 at month 11, 6000 / 8 = 750 at month 30.
    # Drawing: K = 2000, 1500 against A = 2000 + 1000 = 3000: the tranches draw 2000 in
    # month 0 and the 1000 left in month 1, pro rata 2/3 (investor) and 1/3 (bank):
    #   investor 1333.33 + 666.67 = 2000, bank 666.67 + 333.33 = 1000; the provider pays
    #   1500 - 1000 = 500 in month 1.
    # Waterfall: the investor may receive 1.5 x 2000 = 3000: all of month 11's 3000; the
    # bank (no cap) month 30's 750. Every payment is made.
    np.testing.assert_allclose(payment(result, "sib"), at(GS_MONTHS, {11: 3000, 30: 750}),
                               rtol=1e-15)
    # Guarantees at T - 1 = 30: the bank's unrepaid principal 1000 - 750 = 250, up to 200:
    # the foundation pays 200. The investor is repaid: the state's guarantee pays 0.
    expected = {
        "investor": 3000 * delta(11) - 2 / 3 * (2000 + 1000 * delta(1)),
        "bank": 750 * delta(30) + 200 * delta(30) - 1 / 3 * (2000 + 1000 * delta(1)),
        "foundation": -200 * delta(30),
        "provider": -500 * delta(1),
    }
    for party, value in expected.items():
        np.testing.assert_allclose(npv(result, "sib", party), value, rtol=1e-12, err_msg=party)
    # Payers: own savings less their share (0.7, 0.3) of the payments; the state's
    # guarantee paid nothing, so nothing else.
    paid_pv = 3000 * delta(11) + 750 * delta(30)
    savings = result["savings_npv"].sum("category")
    for party, share in [("municipality", 0.7), ("state", 0.3)]:
        np.testing.assert_allclose(
            npv(result, "sib", party), savings.sel(payer=party).values - share * paid_pv,
            rtol=1e-12)
    # Investors together: -2000, -1000, +3000 (month 11), +750 + 200 (month 30).
    flows = at(GS_MONTHS, {0: -2000, 1: -1000, 11: 3000, 30: 950})
    np.testing.assert_allclose(result["investor_multiple"].sel(contract="sib"),
                               (3000 + 750 + 200) / 3000, rtol=1e-12)
    np.testing.assert_allclose(result["investor_irr"].sel(contract="sib"),
                               (1 + npf.irr(flows)) ** 12 - 1, rtol=1e-9)


def test_financing_that_covers_the_programme_leaves_the_provider_exactly_zero():
    # A tranche of exactly K = 3500 and one larger: the provider pays nothing, bit for bit,
    # whatever the discounting. A return cap of 1.0 that binds repays the principal exactly,
    # so a guarantee on it pays exactly 0.
    def contract(name, amount):
        return gain_share(name, share=1.0, financing={
            "tranches": [{"party": "investor", "amount": amount, "return_cap_multiple": 1.0}],
            "guarantees": [{"party": "foundation", "covers": "investor", "amount": 1e6}]})

    result = simulate(alternating_scenario([contract("exact", 3500.0),
                                            contract("ample", 1e6)], discount_rate=RATE))
    for name in ("exact", "ample"):
        assert (npv(result, name, "provider") == 0.0).all()
        assert (npv(result, name, "foundation") == 0.0).all()
        # Paid 24000 due at 11 up to the cap 3500: the investor gets its money back.
        np.testing.assert_array_equal(payment(result, name), at(GS_MONTHS, {11: 3500}))


def test_grant_and_fee_for_service():
    result = simulate(alternating_scenario([
        {"name": "grant", "type": "grant", "funder": "foundation"},
        {"name": "fee", "type": "fee_for_service",
         "payer": {"municipality": 0.7, "state": 0.3}},
    ], discount_rate=RATE))
    programme_pv = 2000 + 1500 * delta(1)
    savings = result["savings_npv"].sum("category")
    np.testing.assert_allclose(npv(result, "grant", "foundation"), -programme_pv, rtol=1e-14)
    for party, share in [("municipality", 0.7), ("state", 0.3)]:
        own = savings.sel(payer=party).values
        np.testing.assert_array_equal(npv(result, "grant", party), own)
        np.testing.assert_allclose(npv(result, "fee", party), own - share * programme_pv,
                                   rtol=1e-14)
    # Nobody else pays or receives anything: exactly 0.
    assert (npv(result, "grant", "provider") == 0.0).all()
    assert (npv(result, "fee", "provider") == 0.0).all()
    assert (npv(result, "fee", "foundation") == 0.0).all()
    assert not result["payment"].values.any()


def test_party_names_with_spaces_dots_and_danish_letters_settle_through_simulate():
    # Contract parties as partners write them; each is named in results and messages.
    region, bank, fund = "Region Midtjylland", "Nørre Snede Sparekasse", 'Fonden "St. Heddinge"'
    contracts = [
        {"name": "donation", "type": "grant", "funder": "Ærø Fonden"},
        rate_card("sib", [S3], payer={region: 0.6, "municipality": 0.4},
                  financing={"tranches": [{"party": bank, "amount": 5000.0,
                                           "return_cap_multiple": 1.1}],
                             "guarantees": [{"party": fund, "covers": bank,
                                             "amount": 2000.0}]}),
    ]
    result = simulate(cycling_scenario(contracts))
    parties = list(result["party"].values)
    assert {region, bank, fund, "Ærø Fonden"} <= set(parties)
    # s3 pays 100 at months 5..8: 400 in all; the tranche drew the programme (1700) and
    # the guarantee pays its unrepaid principal, 1300.
    np.testing.assert_array_equal(npv(result, "sib", region), -0.6 * 400.0)
    np.testing.assert_array_equal(npv(result, "sib", bank), 0.0)
    np.testing.assert_array_equal(npv(result, "sib", fund), -1300.0)
    np.testing.assert_array_equal(npv(result, "donation", "Ærø Fonden"), -1700.0)
    assert result["tranche_party"].sel(contract="sib", party=bank).item()
    unknown = cycling_scenario([dict(contracts[1], financing={
        "tranches": [{"party": bank, "amount": 5000.0}],
        "guarantees": [{"party": fund, "covers": "Nørre Snede", "amount": 1.0}]})])
    with pytest.raises(sibsim.ScenarioError, match="contracts\\[0\\].financing.guarantees"
                       "\\[0\\].covers: got 'Nørre Snede'"):
        sibsim.load_scenario(unknown)


# ------------------------------------------------------------------------------------------
# The built-in scenario: nobody carries a loss made of rounding
# ------------------------------------------------------------------------------------------


def named_parties(contract: dict) -> set[str]:
    """Parties a contract names: funder or payers, tranche and guarantee parties."""
    names = {contract["funder"]} if contract["type"] == "grant" else set(contract["payer"])
    financing = contract.get("financing") or {"tranches": [], "guarantees": []}
    names |= {t["party"] for t in financing["tranches"]}
    names |= {g["party"] for g in financing["guarantees"]}
    return names


def test_default_scenario_has_no_rounding_noise_in_any_position():
    scenario = sibsim.load_scenario("danish-pilot")
    result = sibsim.simulate(scenario, draws=200, seed=1)
    values = result["npv"].values  # (draw, contract, party)
    table = sibsim.summarize(result).set_index(["contract", "party"])
    # Every position is either exactly 0 or a real amount (more than 1 DKK).
    tiny = (values != 0.0) & (np.abs(values) < 1.0)
    assert not tiny.any(), np.argwhere(tiny)[:5]
    # A party that neither pays nor receives anything under a contract (not a payer of
    # the flows, not named in the contract; the provider under a grant or a fee) is
    # exactly 0 in every draw, and summarize counts no loss for it.
    payers = set(scenario.payers())
    untouched = 0
    for c, contract in enumerate(scenario.data["contracts"]):
        for p, party in enumerate(result["party"].values):
            if party in payers or party in named_parties(contract):
                continue
            if party == "provider" and contract["type"] not in ("grant", "fee_for_service"):
                continue
            untouched += 1
            assert (values[:, c, p] == 0.0).all(), (contract["name"], party)
            row = table.loc[(contract["name"], str(party))]
            assert row["prob_loss"] == 0.0 and row["sd"] == 0.0
    assert untouched >= 6
    # A financed contract's provider pays only programme cost beyond the tranches' total:
    # in the draws without such an overrun its position is exactly 0 (it used to be
    # +-1.9e-9, which summarize counted as a loss in about 60% of the draws).
    cost = result["programme_cost"].sum("month").values
    financed = [c for c in scenario.data["contracts"] if c.get("financing")]
    assert financed
    for contract in financed:
        amount = sum(t["amount"] for t in contract["financing"]["tranches"])
        provider = npv(result, contract["name"], "provider")
        np.testing.assert_array_equal(provider == 0.0, cost <= amount)
        assert table.loc[(contract["name"], "provider"), "prob_loss"] == np.mean(cost > amount)
    # Conservation (to 1e-6 relative).
    # The run's rate is drawn per draw: each draw discounts at its own.
    rate = result["params"].sel(param="discount_rate").values[:, None]
    discount = (1.0 + rate) ** (-result["month"].values[None, :] / 12.0)
    total = (result["savings_npv"].sum(("payer", "category")).values
             - (result["programme_cost"].values * discount).sum(axis=1))
    positions = result["npv"].sum("party").values
    np.testing.assert_allclose(positions, np.broadcast_to(total[:, None], positions.shape),
                               rtol=1e-6, atol=1e-6 * np.abs(total).max())


# ------------------------------------------------------------------------------------------
# No effect: what a noisy baseline pays for nothing
# ------------------------------------------------------------------------------------------


def test_no_effect_pays_nothing_on_the_paired_baseline_but_noisy_baselines_pay():
    doc = {
        "months": 36,
        "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "prior_months": {"uniform": {"low": 0, "high": 24}},
                   "frailty_variance": 0.3, "intake_months": 6,
                   "sites": {"A": {"size": 30}}},
        "programme": {"months": 6, "cost_per_participant": 1000.0},
        "transitions": [
            {"from": "benefits", "to": "employed", "probability": 0.06, "frailty": True,
             "effect": {"ratio": 1.0, "from_month": 0, "to_month": 24}},
            {"from": "employed", "to": "benefits", "probability": 0.04},
        ],
        "flows": [{"name": "cash", "state": "benefits", "category": "benefits",
                   "monthly": 1000.0, "split": {"municipality": 1.0}}],
        "contracts": [
            gain_share("paired", payer="municipality", savings_of=["municipality"]),
            gain_share("group", payer="municipality", savings_of=["municipality"],
                       baseline="comparison_group", comparison_size=30),
            gain_share("historical", payer="municipality", savings_of=["municipality"],
                       baseline="historical"),
            tiers("tiers_paired", 24, payer="municipality", tiers=[[0.05, 1000.0]]),
            tiers("tiers_group", 24, payer="municipality", tiers=[[0.05, 1000.0]],
                  baseline="comparison_group", comparison_size=30),
        ],
    }
    result = sibsim.simulate(doc, draws=20, seed=3)
    # With every effect ratio 1 the arms are identical: no saving, exactly.
    assert not result["savings_npv"].values.any()
    paid = result["payment"].sum("month")
    assert not paid.sel(contract="paired").values.any()
    assert not paid.sel(contract="tiers_paired").values.any()
    # Against an independent comparison group or a fixed historical baseline, chance
    # differences are measured as savings: the positive periods pay, the negative ones do
    # not, so the payer pays for nothing in some draws (and never gets anything back).
    for name in ("group", "historical", "tiers_group"):
        assert (paid.sel(contract=name).values > 0).any(), name
        assert (paid.sel(contract=name).values >= 0).all(), name
    assert (npv(result, "group", "municipality") <= 0).all()
    assert (npv(result, "group", "municipality") < 0).any()


# ------------------------------------------------------------------------------------------
# Properties over random small scenarios
# ------------------------------------------------------------------------------------------
#
# The scenarios and contracts come from tests/strategies.py (small_scenario, any_contracts,
# capped_contracts), whose docstrings say what they draw.


def programme_pv(result) -> np.ndarray:
    rate = float(sibsim.load_scenario(result.attrs["scenario"]).data["discount_rate"])
    discount = (1.0 + rate) ** (-result["month"].values / 12.0)
    return result["programme_cost"].values @ discount


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenario(contracts=any_contracts))
def test_conservation_of_money_through_simulate(doc):
    result = sibsim.simulate(doc, draws=20, seed=7)
    total = result["savings_npv"].sum(("payer", "category")).values - programme_pv(result)
    positions = result["npv"].sum("party").values  # (draw, contract)
    scale = 1.0 + np.abs(result["npv"].values).max() + np.abs(total).max()
    np.testing.assert_allclose(positions, np.broadcast_to(total[:, None], positions.shape),
                               rtol=0.0, atol=1e-9 * scale)
    assert (result["payment"].values >= 0.0).all()
    multiple = result["investor_multiple"].values
    assert np.all(np.isnan(multiple) | (multiple >= 0.0))


def capped_case(*, cost_per_participant: float, sizes: tuple[int, int], price: float,
                return_cap_multiple: float) -> dict:
    """One case of :func:`test_caps_are_never_exceeded`, written out: every participant
    stays on benefits and reaches the one outcome (a month on benefits) in its entry month;
    every cap but the tranche's return cap is 0."""
    outcomes = [{"name": "o0", "state": "benefits", "sustained_months": 1, "price": price}]

    def card(name, **settings):
        return {"name": name, "type": "rate_card", "payer": "municipality",
                "outcomes": outcomes, **settings}

    gain = {"type": "gain_share", "payer": "municipality", "share": 0.5,
            "settle_every_months": 1}
    return {
        "months": 6, "discount_rate": 0.0, "states": ["benefits", "employed"],
        "cohort": {"initial_state": "benefits", "intake_months": 0, "prior_months": 0.0,
                   "frailty_variance": 0.0,
                   "sites": {"A": {"size": sizes[0]}, "B": {"size": sizes[1], "multiplier": 1.0}}},
        "programme": {"months": 1, "cost_per_participant": cost_per_participant,
                      "fixed_cost": 0.0},
        "transitions": [{"from": "benefits", "to": "employed", "probability": 0.0,
                         "frailty": False}],
        "flows": [{"name": "flow0", "state": "benefits", "category": "benefits",
                   "monthly": 0.0, "split": {"municipality": 1.0}}],
        "contracts": [
            card("free"), card("per_participant", cap_per_participant=0.0),
            card("total", cap_total=0.0), card("both", cap_per_participant=0.0, cap_total=0.0),
            card("financed", financing={"tranches": [
                {"party": "investor", "amount": 1.0,
                 "return_cap_multiple": return_cap_multiple}]}),
            {"name": "gain_free", **gain}, {"name": "gain_total", "cap_total": 0.0, **gain}],
    }


#: The case that once failed in a fresh clone: a subnormal programme cost (5e-324 for each
#: of six participants) and a return cap of 0.25. The tranche draws 6 units of the smallest
#: float, its cap of 1.5 units rounds to 2, and it receives 2: a multiple of 0.333 against
#: a cap of 0.25, though the excess is half a unit of 5e-324. The strategies no longer draw
#: such amounts (see ``money`` in tests/strategies.py); the case stays to show that the
#: invariant, stated on amounts with an allowance for rounding, holds at any scale.
SUBNORMAL_PROGRAMME_COST = capped_case(cost_per_participant=5e-324, sizes=(5, 1), price=1.0,
                                       return_cap_multiple=0.25)


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenario(contracts=capped_contracts))
@example(SUBNORMAL_PROGRAMME_COST)
def test_caps_are_never_exceeded(doc):
    result = sibsim.simulate(doc, draws=20, seed=11)
    paid = result["payment"]
    cumulative = paid.cumsum("month")
    contracts = {c["name"]: c for c in doc["contracts"]}
    total_cap = contracts["total"]["cap_total"]
    per_participant = contracts["per_participant"]["cap_per_participant"]
    size = sum(site["size"] for site in doc["cohort"]["sites"].values())
    # cap_total: the running sum of payments is the uncapped running sum, limited.
    for capped, free in [("total", "free"), ("gain_total", "gain_free")]:
        uncapped = cumulative.sel(contract=free).values
        allowance = rounding_allowance(total_cap, uncapped[:, -1:])
        limited = cumulative.sel(contract=capped).values
        assert (np.abs(limited - np.minimum(uncapped, total_cap)) <= allowance).all()
        assert (limited <= total_cap + allowance).all()
    both = cumulative.sel(contract="both").values
    assert (both <= total_cap + rounding_allowance(total_cap, both[:, -1:])).all()
    # cap_per_participant: no participant gets more, so the cohort gets at most size x cap,
    # and never more than without the cap.
    sums = paid.sum("month")
    free_sum = sums.sel(contract="free").values
    for name in ("per_participant", "both"):
        received = sums.sel(contract=name).values
        cohort_cap = size * per_participant
        assert (received <= cohort_cap + rounding_allowance(cohort_cap, free_sum)).all()
        assert (received <= free_sum + rounding_allowance(free_sum, free_sum)).all()
    # Return cap: the tranche (no guarantee) receives at most multiple x money drawn, the
    # money drawn being the programme cost up to the tranche's amount. Both are cumulative
    # limits with their own rounding allowance.
    tranche = contracts["financed"]["financing"]["tranches"][0]
    drawn = np.minimum(result["programme_cost"].sum("month").values, tranche["amount"])
    return_cap = tranche["return_cap_multiple"] * drawn
    received = sums.sel(contract="financed").values
    allowance = rounding_allowance(return_cap, free_sum + drawn, limits=2)
    assert (received <= return_cap + allowance).all()
    # The multiple reported is what the tranche received per unit drawn.
    multiple = result["investor_multiple"].sel(contract="financed").values
    funded = drawn > 0
    assert np.isnan(multiple[~funded]).all()
    np.testing.assert_allclose(multiple[funded] * drawn[funded], received[funded], rtol=1e-11,
                               atol=rounding_allowance(received, free_sum + drawn)[funded].max(
                                   initial=0.0))
