"""Tests of sibsim.calibrate and sibsim.hazards_from_survival (the built-in scenario's fit to
the pilot's counts is tested in tests/test_builtin_evidence.py)."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sibsim
from sibsim.analysis import scale_value
from sibsim.engine.exact import expected_share

JOB = "transitions[0].probability"
RATIO = "transitions[0].effect.ratio"
COURSE = "transitions[1].probability"

SMALL = {
    "name": "calibration test",
    "months": 48,
    "states": ["benefits", "employed", "education"],
    "cohort": {"initial_state": "benefits", "intake_months": 6, "frailty_variance": 0.3,
               "prior_months": {"uniform": {"low": 0, "high": 20}},
               "sites": {"A": {"size": 30, "multiplier": 0.8}, "B": {"size": 20}}},
    "programme": {"months": 12, "cost_per_participant": 1000},
    "transitions": [
        {"from": "benefits", "to": "employed", "frailty": True,
         "probability": {"by_months_in_state": [[0, 0.05], [12, 0.03]]},
         "effect": {"ratio": {"lognormal": {"median": 1.6, "sigma": 0.3}},
                    "from_month": 0, "to_month": 18}},
        {"from": "benefits", "to": "education", "probability": 0.02},
        {"from": "employed", "to": "benefits", "probability": 0.04},
        {"from": "education", "to": "benefits", "probability": 0.05},
    ],
    "flows": [{"name": "benefit", "state": "benefits", "category": "benefits",
               "monthly": {"normal": {"mean": 10000, "sd": 500}},
               "split": {"municipality": {"by_months_in_state": [[0, 0.6], [6, 0.8]]},
                         "state": "rest"}},
              {"name": "grant", "state": "education", "category": "benefits",
               "monthly": {"triangular": {"low": 0, "mode": 3000, "high": 6000}},
               "split": {"state": 1.0}}],
    "contracts": [{"name": "donation", "type": "grant", "funder": "foundation"}],
}


@pytest.fixture(scope="module")
def scenario() -> sibsim.Scenario:
    return sibsim.load_scenario(copy.deepcopy(SMALL))


def target(state, arm, m, share):
    return {"state": state, "arm": arm, "months_since_entry": m, "share": share}


def shares_of(scenario, specs):
    return [target(s, a, m, expected_share(scenario, state=s, arm=a, months_since_entry=m))
            for s, a, m in specs]


def hazard_scaled(p, factor):
    return 1.0 - (1.0 - p) ** factor


# ---------------------------------------------------------------------------------------------
# recovering known factors
# ---------------------------------------------------------------------------------------------


def test_calibrate_recovers_the_factors_that_made_the_targets(scenario):
    truth = {JOB: 1.3, RATIO: 0.8, COURSE: 1.5}
    shifted = (scenario
               .replace(JOB, {"by_months_in_state": [[0, hazard_scaled(0.05, 1.3)],
                                                     [12, hazard_scaled(0.03, 1.3)]]})
               .replace(RATIO, {"lognormal": {"median": 1.6 * 0.8, "sigma": 0.3}})
               .replace(COURSE, hazard_scaled(0.02, 1.5)))
    specs = [("employed", "counterfactual", 6), ("employed", "counterfactual", 20),
             ("employed", "treatment", 10), ("education", "counterfactual", 14),
             ("education", "treatment", 14)]
    targets = shares_of(shifted, specs)
    calibrated, report = sibsim.calibrate(scenario, targets=targets, adjust=list(truth))
    assert list(report.columns) == ["kind", "name", "target", "fitted", "factor"]
    factors = report[report.kind == "factor"].set_index("name")["factor"]
    for path, factor in truth.items():
        assert factors[path] == pytest.approx(factor, rel=1e-6)
    fits = report[report.kind == "target"]
    np.testing.assert_allclose(fits["fitted"], fits["target"], atol=1e-9)
    assert fits["name"].iloc[0] == "employed counterfactual month 6"
    assert report.attrs["success"]
    # The returned scenario is the one that gives the fitted shares.
    for t, fitted in zip(targets, fits["fitted"]):
        assert expected_share(calibrated, state=t["state"], arm=t["arm"],
                              months_since_entry=t["months_since_entry"]) == fitted
    np.testing.assert_allclose(
        [p for _, p in calibrated.get(JOB)["by_months_in_state"]],
        [hazard_scaled(0.05, 1.3), hazard_scaled(0.03, 1.3)], rtol=1e-6)


def test_calibrate_least_squares_with_more_targets_than_factors(scenario):
    # Targets no single factor can meet exactly: the fit lies between them.
    specs = [("employed", "counterfactual", 6), ("employed", "counterfactual", 24)]
    base = shares_of(scenario, specs)
    targets = [dict(base[0], share=base[0]["share"] * 1.2), dict(base[1], share=base[1]["share"])]
    _, report = sibsim.calibrate(scenario, targets, [JOB])
    fits = report[report.kind == "target"]
    assert fits["fitted"].iloc[0] < targets[0]["share"]
    assert fits["fitted"].iloc[1] > targets[1]["share"]
    assert report.attrs["cost"] > 0


# ---------------------------------------------------------------------------------------------
# what a factor does to each kind of value
# ---------------------------------------------------------------------------------------------


def calibrate_one(scenario, path, state="employed", arm="counterfactual", m=12, bump=1.1):
    share = expected_share(scenario, state=state, arm=arm, months_since_entry=m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        calibrated, report = sibsim.calibrate(scenario, [target(state, arm, m, share * bump)],
                                              [path])
    factor = float(report[report.kind == "factor"]["factor"].iloc[0])
    return calibrated, report, factor


def test_factor_scales_the_hazard_of_every_table_entry(scenario):
    calibrated, report, f = calibrate_one(scenario, JOB)
    assert f > 1
    entries = [p for _, p in calibrated.get(JOB)["by_months_in_state"]]
    assert entries == pytest.approx([hazard_scaled(0.05, f), hazard_scaled(0.03, f)], rel=1e-12)
    assert math.isnan(report[report.kind == "factor"]["fitted"].iloc[0])  # a table
    assert report.attrs["adjusted"][JOB] == calibrated.get(JOB)


def test_factor_scales_the_hazard_of_a_probability_number(scenario):
    calibrated, report, f = calibrate_one(scenario, COURSE, state="education")
    assert calibrated.get(COURSE) == pytest.approx(hazard_scaled(0.02, f), rel=1e-12)
    assert report[report.kind == "factor"]["fitted"].iloc[0] == calibrated.get(COURSE)


def test_factor_multiplies_the_location_of_a_distribution(scenario):
    calibrated, report, f = calibrate_one(scenario, RATIO, arm="treatment")
    assert calibrated.get(RATIO) == {"lognormal": {"median": pytest.approx(1.6 * f, rel=1e-12),
                                                   "sigma": 0.3}}
    assert report[report.kind == "factor"]["fitted"].iloc[0] == pytest.approx(1.6 * f)


def test_factor_multiplies_other_numbers_and_every_bound():
    data = copy.deepcopy(SMALL)
    data["cohort"]["sites"]["A"]["multiplier"] = {"triangular": {"low": 0.5, "mode": 0.8,
                                                                 "high": 1.0}}
    scenario = sibsim.load_scenario(data)
    calibrated, _, f = calibrate_one(scenario, "cohort.sites.A.multiplier")
    assert calibrated.get("cohort.sites.A.multiplier") == {"triangular": {
        "low": pytest.approx(0.5 * f), "mode": pytest.approx(0.8 * f),
        "high": pytest.approx(1.0 * f)}}
    calibrated, _, f = calibrate_one(scenario, "cohort.sites.B.multiplier")
    assert calibrated.get("cohort.sites.B.multiplier") == pytest.approx(1.0 * f, rel=1e-12)


def test_a_factor_that_moves_no_share_stays_at_1_with_a_warning(scenario):
    targets = [target("employed", "counterfactual", 12, 0.3),
               target("employed", "counterfactual", 24, 0.3)]
    with pytest.warns(RuntimeWarning, match="change no target"):
        calibrated, report = sibsim.calibrate(scenario, targets, ["flows[0].monthly", JOB])
    assert report.set_index("name").loc["flows[0].monthly", "factor"] == 1.0
    assert calibrated.get("flows[0].monthly") == {"normal": {"mean": 10000.0, "sd": 500.0}}


@pytest.mark.parametrize("value, factor, expected", [
    (0.2, 2.0, 0.4),
    (-1669.0, 1.5, -2503.5),
    ({"normal": {"mean": -4055.0, "sd": 450.0}}, 2.0, {"normal": {"mean": -8110.0, "sd": 450.0}}),
    ({"lognormal": {"median": 1.8, "sigma": 0.26}}, 0.5,
     {"lognormal": {"median": 0.9, "sigma": 0.26}}),
    ({"gamma": {"mean": 2.0, "sd": 1.0}}, 3.0, {"gamma": {"mean": 6.0, "sd": 1.0}}),
    ({"beta": {"mean": 0.2, "sd": 0.05}}, 2.0, {"beta": {"mean": 0.4, "sd": 0.05}}),
    ({"uniform": {"low": 12.0, "high": 60.0}}, 0.5, {"uniform": {"low": 6.0, "high": 30.0}}),
    ({"pert": {"low": 1.0, "mode": 2.0, "high": 4.0}}, 2.0,
     {"pert": {"low": 2.0, "mode": 4.0, "high": 8.0}}),
    ({"by_months_in_state": [[0, 0.2], [6, {"triangular": {"low": 0.1, "mode": 0.2,
                                                            "high": 0.3}}]]}, 2.0,
     {"by_months_in_state": [[0, 0.4], [6, {"triangular": {"low": 0.2, "mode": 0.4,
                                                            "high": 0.6}}]]}),
])
def test_factor_rules_for_values_that_are_not_probabilities(value, factor, expected):
    scaled = scale_value(value, factor, probability=False, where="x")
    if isinstance(expected, dict):
        assert scaled == expected
    else:
        assert scaled == pytest.approx(expected)


def test_factor_rule_for_probabilities():
    assert scale_value(0.1, 2.0, probability=True, where="p") == pytest.approx(0.19)
    assert scale_value(1.0, 0.5, probability=True, where="p") == 1.0
    assert scale_value(0.0, 5.0, probability=True, where="p") == 0.0
    assert scale_value({"by_months_in_state": [[0, 0.5], [3, 0.1]]}, 2.0, probability=True,
                       where="p") == {"by_months_in_state": [[0, pytest.approx(0.75)],
                                                             [3, pytest.approx(0.19)]]}


# ---------------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------------


def test_a_probability_given_as_a_distribution_cannot_be_adjusted(scenario):
    uncertain = scenario.replace(COURSE, {"beta": {"mean": 0.02, "sd": 0.005}})
    with pytest.raises(sibsim.ScenarioError, match=r"transitions\[1\]\.probability.*cannot be"):
        sibsim.calibrate(uncertain, [target("education", "counterfactual", 12, 0.2)], [COURSE])
    table = scenario.replace(JOB, {"by_months_in_state": [
        [0, {"beta": {"mean": 0.05, "sd": 0.01}}], [12, 0.03]]})
    with pytest.raises(sibsim.ScenarioError,
                       match=r"by_months_in_state\[0\]\[1\].*cannot be adjusted"):
        sibsim.calibrate(table, [target("employed", "counterfactual", 12, 0.2)], [JOB])


def test_fewer_targets_than_factors_is_an_error(scenario):
    with pytest.raises(ValueError, match="1 target.*2 factor"):
        sibsim.calibrate(scenario, [target("employed", "counterfactual", 12, 0.2)],
                         [JOB, RATIO])


@pytest.mark.parametrize("bad, message", [
    (target("working", "counterfactual", 12, 0.2), r"targets\[0\]\.state: got 'working'"),
    (target("employed", "comparison", 12, 0.2), r"targets\[0\]\.arm: got 'comparison'"),
    (target("employed", "treatment", 48, 0.2), r"targets\[0\]\.months_since_entry: got 48"),
    (target("employed", "treatment", 1.5, 0.2), r"months_since_entry: got 1.5"),
    (target("employed", "treatment", 12, 1.2), r"targets\[0\]\.share: got 1.2"),
    ({"state": "employed", "arm": "treatment", "share": 0.2}, "missing: \\['months_since_entry'\\]"),
    (dict(target("employed", "treatment", 12, 0.2), month=3), "unknown: \\['month'\\]"),
])
def test_invalid_targets_are_named(scenario, bad, message):
    with pytest.raises(ValueError, match=message):
        sibsim.calibrate(scenario, [bad], [JOB])


def test_invalid_adjust_is_named(scenario):
    one = [target("employed", "counterfactual", 12, 0.2)] * 2
    with pytest.raises(sibsim.ScenarioError, match="key path"):
        sibsim.calibrate(scenario, one, ["transitions[9].probability"])
    with pytest.raises(sibsim.ScenarioError, match="cohort.sites.A.size"):
        sibsim.calibrate(scenario, one, ["cohort.sites.A.size"])
    with pytest.raises(ValueError, match="lies inside"):
        sibsim.calibrate(scenario, one, [JOB, JOB + ".by_months_in_state[0][1]"])
    with pytest.raises(ValueError, match="adjust: got an empty"):
        sibsim.calibrate(scenario, one, [])
    with pytest.raises(ValueError, match="factor_bounds"):
        sibsim.calibrate(scenario, one, [JOB], factor_bounds=(2, 3))


# ---------------------------------------------------------------------------------------------
# hazards_from_survival
# ---------------------------------------------------------------------------------------------


def test_hazards_from_survival_formula():
    months = [0, 6, 12, 24]
    surviving = [1.0, 0.85, 0.75, 0.62]
    table = sibsim.hazards_from_survival(months=months, surviving=surviving)
    entries = table["by_months_in_state"]
    assert [m for m, _ in entries] == [0, 6, 12]
    expected = [1 - (0.85 / 1.0) ** (1 / 6), 1 - (0.75 / 0.85) ** (1 / 6),
                1 - (0.62 / 0.75) ** (1 / 12)]
    assert [p for _, p in entries] == pytest.approx(expected, rel=1e-14)
    assert all(isinstance(m, int) for m, _ in entries)
    # The table is valid in a scenario.
    scenario = sibsim.load_scenario(copy.deepcopy(SMALL)).replace(JOB, table)
    assert scenario.get(JOB) == table


@settings(deadline=None, max_examples=100)
@given(st.lists(st.tuples(st.integers(1, 24), st.floats(0.05, 1.0)), min_size=1, max_size=8),
       st.floats(0.2, 1.0))
def test_hazards_reproduce_the_survival_curve(steps, start):
    months, surviving = [0], [start]
    for gap, ratio in steps:
        months.append(months[-1] + gap)
        surviving.append(surviving[-1] * ratio)
    entries = sibsim.hazards_from_survival(np.array(months), np.array(surviving))
    entries = entries["by_months_in_state"]
    assert len(entries) == len(months) - 1
    for i, (m, p) in enumerate(entries):
        assert m == months[i] and 0.0 <= p <= 1.0
        gap = months[i + 1] - months[i]
        assert (1 - p) ** gap == pytest.approx(surviving[i + 1] / surviving[i], rel=1e-9)


@pytest.mark.parametrize("months, surviving, message", [
    ([0, 6], [1.0], "surviving: got 1 value"),
    ([0], [1.0], "at least two months"),
    ([1, 6], [1.0, 0.9], r"months\[0\]: got 1"),
    ([0, 6, 6], [1.0, 0.9, 0.8], r"months\[2\]: got 6.*strictly increasing"),
    ([0, 6.5], [1.0, 0.9], r"months\[1\]: got 6.5.*whole"),
    ([0, 6], [1.0, 1.1], r"surviving\[1\]: got 1.1"),
    ([0, 6, 12], [1.0, 0.8, 0.9], r"surviving\[2\]: got 0.9.*never rises"),
    ([0, 6], [1.0, 0.0], r"surviving\[1\]: got 0.0.*\(0, 1\]"),
    ([0, 6], [1.0, float("nan")], r"surviving\[1\]: got nan"),
    ([0, 6], [1.0, "half"], r"surviving\[1\]: got 'half'"),
    ("0 6", [1.0, 0.5], "months: got '0 6'"),
])
def test_hazards_from_survival_rejects_invalid_input(months, surviving, message):
    with pytest.raises(ValueError, match=message):
        sibsim.hazards_from_survival(months, surviving)
