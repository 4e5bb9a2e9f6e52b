"""Exact expected shares for many parameter values at once, against the exact module.

:func:`sibsim.engine.shares.expected_shares` runs the chain in one kernel over many value
sets; each set must give what :func:`sibsim.engine.exact.expected_share` gives for the
scenario with those values put in by :meth:`Scenario.replace`.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import hazard_scales

from sibsim.engine.exact import expected_share
from sibsim.engine.shares import UnsupportedPath, expected_shares, share_target
from sibsim.errors import ScenarioError
from sibsim.rules import ARMS
from sibsim.scenario import Distribution, Scenario, load_scenario

TOLERANCE = 1e-12


def exact_shares(scenario: Scenario, points, values: dict, b: int) -> list[float]:
    variant = scenario
    for path, column in values.items():
        variant = variant.replace(path, float(column[b]))
    return [expected_share(variant, state=s, arm=a, months_since_entry=m) for s, a, m in points]


def assert_matches_exact(scenario, points, values, *, nodes=128):
    fast = expected_shares(scenario, points, values, nodes=nodes)
    size = len(next(iter(values.values()))) if values else 1
    assert fast.shape == (size, len(points))
    for b in range(size):
        np.testing.assert_allclose(fast[b], exact_shares(scenario, points, values, b),
                                   rtol=0, atol=TOLERANCE)


# ---------------------------------------------------------------------------------------
# Random scenarios
# ---------------------------------------------------------------------------------------

BETA = st.builds(lambda m, r: {"beta": {"mean": m, "sd": r * (m * (1 - m)) ** 0.5}},
                 st.floats(0.01, 0.5), st.floats(0.05, 0.5))
PROBABILITY = st.one_of(st.floats(0.0, 0.3), st.just(1.0), BETA)


@st.composite
def probability(draw):
    if draw(st.booleans()):
        return draw(PROBABILITY)
    keys = sorted(draw(st.sets(st.integers(1, 14), min_size=1, max_size=3)))
    return {"by_months_in_state": [[k, draw(PROBABILITY)] for k in [0, *keys]]}


@st.composite
def scenarios(draw):
    n_states = draw(st.integers(2, 4))
    states = [f"s{i}" for i in range(n_states)]
    pairs = [(a, b) for a in states for b in states if a != b]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=5, unique=True))
    transitions = []
    for origin, destination in chosen:
        transition = {"from": origin, "to": destination, "probability": draw(probability()),
                      "frailty": draw(st.booleans())}
        if draw(st.booleans()):
            start = draw(st.integers(0, 6))
            ratio = draw(st.one_of(st.floats(0.0, 4.0), st.just(
                {"lognormal": {"median": 1.5, "sigma": 0.3}})))
            transition["effect"] = {"ratio": ratio, "from_month": start,
                                    "to_month": draw(st.integers(start + 1, 20))}
            if draw(st.booleans()):
                transition["effect"]["half_life_months"] = draw(st.one_of(
                    st.floats(1.0, 24.0), st.just({"uniform": {"low": 3.0, "high": 12.0}})))
                transition["effect"]["fade_from_month"] = draw(st.integers(start, 20))
        if draw(st.booleans()):
            transition["hazard_scale"] = draw(hazard_scales)
        transitions.append(transition)
    sites = {f"site {i}": {"size": draw(st.integers(1, 6)),
                           "multiplier": draw(st.one_of(st.floats(0.2, 2.0), st.just(
                               {"gamma": {"mean": 1.0, "sd": 0.2}})))}
             for i in range(draw(st.integers(1, 3)))}
    document = {
        "months": 20, "states": states,
        "cohort": {"initial_state": states[0], "sites": sites,
                   "intake_months": draw(st.integers(0, 8)),
                   "prior_months": draw(st.one_of(st.floats(0, 20), st.just(
                       {"uniform": {"low": 0, "high": 18}}))),
                   "frailty_variance": draw(st.one_of(st.floats(0.0, 1.5), st.just(
                       {"gamma": {"mean": 0.4, "sd": 0.2}})))},
        "programme": {"months": 1},
        "transitions": transitions,
    }
    return Scenario(document)


def _value(draw, leaf, path):
    """A value the parameter can take: inside its distribution's support, or near it."""
    if isinstance(leaf, Distribution):
        return float(leaf.quantile(draw(st.floats(0.02, 0.98))))
    if "probability" in path:
        return draw(st.floats(0.0, 0.5))
    return float(leaf) * draw(st.floats(0.5, 1.5))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_shares_match_the_exact_module_on_random_scenarios(data):
    scenario = data.draw(scenarios())
    candidates = [p for p in scenario.parameters()
                  if share_target(p)[0] != "inert" and p != "discount_rate"]
    chosen = data.draw(st.lists(st.sampled_from(candidates), min_size=0, max_size=3,
                                unique=True)) if candidates else []
    size = data.draw(st.integers(1, 3))
    leaves = scenario.parameters()
    values = {p: np.array([_value(data.draw, leaves[p], p) for _ in range(size)])
              for p in chosen}
    points = data.draw(st.lists(st.tuples(st.sampled_from(scenario.states()),
                                          st.sampled_from(ARMS), st.integers(0, 12)),
                                min_size=1, max_size=4))
    try:
        exact_shares(scenario, points, values, 0)
    except (ValueError, ScenarioError):
        return  # no participant reaches that month, or a value the scenario rejects
    assert_matches_exact(scenario, points, values)


def test_built_in_scenario_with_its_effects_and_relapse_varied():
    scenario = load_scenario("danish-pilot")
    points = [("employed", "counterfactual", 14), ("employed", "treatment", 14),
              ("education", "treatment", 14), ("benefits", "treatment", 30)]
    values = {"transitions[0].effect.ratio": np.array([1.0, 2.5, 3.5]),
              "transitions[1].effect.ratio": np.array([3.0, 1.2, 1.0]),
              "transitions[3].probability.by_months_in_state[1][1]": np.array([0.02, 0.05,
                                                                                0.035]),
              "cohort.frailty_variance": np.array([0.3, 0.1, 0.8]),
              "cohort.sites.Herning.multiplier": np.array([0.8, 0.5, 1.2]),
              "flows[0].monthly": np.array([1.0, 2.0, 3.0])}
    assert_matches_exact(scenario, points, values)


def test_without_values_the_shares_are_those_of_the_scenario():
    scenario = load_scenario("danish-pilot")
    points = [("employed", arm, 14) for arm in ARMS]
    fast = expected_shares(scenario, points, {})
    exact = [expected_share(scenario, state=s, arm=a, months_since_entry=m) for s, a, m in points]
    np.testing.assert_allclose(fast[0], exact, rtol=0, atol=TOLERANCE)


def _document_with(**transition_keys):
    return {"months": 30, "states": ["out", "in"],
            "cohort": {"initial_state": "out", "frailty_variance": 0.4,
                       "sites": {"A": {"size": 4}, "B": {"size": 3, "multiplier": 0.7}}},
            "programme": {"months": 1},
            "transitions": [{"from": "out", "to": "in", "probability": 0.05, "frailty": True,
                             **transition_keys},
                            {"from": "in", "to": "out", "probability": 0.03}]}


def test_hazard_scale_and_fading_match_the_exact_module():
    effect = {"ratio": 2.0, "from_month": 2, "to_month": 26, "fade_from_month": 6,
              "half_life_months": {"uniform": {"low": 6, "high": 18}}}
    scenario = Scenario(_document_with(
        hazard_scale={"lognormal": {"median": 1.0, "sigma": 0.3}}, effect=effect))
    points = [("in", arm, m) for arm in ARMS for m in (1, 5, 9, 20, 29)]
    values = {"transitions[0].hazard_scale": np.array([0.7, 1.0, 1.4]),
              "transitions[0].effect.half_life_months": np.array([6.0, 12.0, 17.5]),
              "transitions[0].effect.ratio": np.array([1.5, 2.0, 3.0])}
    assert_matches_exact(scenario, points, values)


def test_a_certain_transition_and_a_zero_ratio():
    scenario = Scenario(_document_with(effect={"ratio": 0.0, "from_month": 0, "to_month": 3}))
    scenario = scenario.replace("transitions[1].probability",
                                {"by_months_in_state": [[0, 0.0], [2, 1.0]]})
    points = [("in", arm, m) for arm in ARMS for m in (0, 1, 2, 3, 4, 6, 10)]
    assert_matches_exact(scenario, points, {"transitions[0].probability": np.array([1.0, 0.2])})


def test_fewer_frailty_nodes_are_close_for_short_horizons():
    scenario = load_scenario("danish-pilot")
    points = [("employed", arm, 14) for arm in ARMS]
    values = {"transitions[0].effect.ratio": np.array([1.5, 3.0])}
    full = expected_shares(scenario, points, values)
    few = expected_shares(scenario, points, values, nodes=32)
    np.testing.assert_allclose(few, full, rtol=0, atol=1e-12)


def test_paths_outside_the_chain_are_refused_or_inert():
    assert share_target("contracts[1].outcomes[0].price") == ("inert",)
    assert share_target('cohort.sites."St. Heddinge".multiplier') == ("site", "St. Heddinge")
    with pytest.raises(UnsupportedPath):
        share_target("cohort.prior_months")
    with pytest.raises(UnsupportedPath):
        share_target("transitions[0].effect.from_month")


@pytest.mark.parametrize(("point", "words"), [
    (("nowhere", "treatment", 1), "state must be one of"),
    (("employed", "both", 1), "arm must be one of"),
    (("employed", "treatment", 120), "months_since_entry must lie in 0..119"),
])
def test_bad_points_are_refused(point, words):
    with pytest.raises(ValueError, match=words):
        expected_shares(load_scenario("danish-pilot"), [point], {})


def test_value_arrays_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="same number of values"):
        expected_shares(load_scenario("danish-pilot"), [("employed", "treatment", 1)],
                        {"transitions[0].effect.ratio": [1.0, 2.0],
                         "transitions[1].effect.ratio": [1.0]})
