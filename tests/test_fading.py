"""hazard_scale, fading effects and per-draw cohort parameters, end to end.

Each key is held to a closed form through the exact module, the kernel's mean over many
draws to the exact module, and the kernel to the plain reference draw for draw (on random
scenarios of ``tests/strategies.py`` that carry the keys).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import simulate_reference
from strategies import any_contracts, small_scenario

import sibsim
from sibsim.engine import exact, run_model
from sibsim.engine.params import sample_parameters
from sibsim.errors import ScenarioError
from sibsim.rules import fading_weight, hazard_from_probability


def two_state(months: int = 40, *, size: int = 200, frailty_variance=0.0, **transition):
    """One-way chain out -> in; a flow so that the scenario has a payer."""
    return {
        "months": months, "states": ["out", "in"],
        "cohort": {"initial_state": "out", "frailty_variance": frailty_variance,
                   "sites": {"A": {"size": size}, "B": {"size": size // 2,
                                                         "multiplier": 0.7}}},
        "programme": {"months": 1},
        "transitions": [{"from": "out", "to": "in", "probability": 0.06, "frailty": True,
                         **transition}],
        "flows": [{"name": "b", "state": "out", "category": "benefits", "monthly": 100,
                   "split": {"municipality": 1.0}}],
    }


FADING = {"ratio": 2.5, "from_month": 2, "to_month": 30, "fade_from_month": 6,
          "half_life_months": 8.0}


# ---------------------------------------------------------------------------------------
# The rule and the exact module against closed forms
# ---------------------------------------------------------------------------------------

def test_fading_weight_halves_every_half_life():
    m = np.arange(0, 40)
    w = fading_weight(m, 6, 8.0)
    assert (w[:7] == 1.0).all()
    np.testing.assert_allclose(w[14], 0.5, rtol=1e-15)
    np.testing.assert_allclose(w[22], 0.25, rtol=1e-15)
    assert (np.diff(w) <= 0).all()
    assert (fading_weight(m, 6, np.inf) == 1.0).all()


def _closed_form(months: int, scale: float, effect: dict | None) -> np.ndarray:
    """P(in at m) = 1 - exp(-sum_{j < m} h s r^w(j)) in the treatment arm, no frailty."""
    h = float(hazard_from_probability(0.06)) * scale
    rates = np.full(months, h)
    if effect:
        j = np.arange(months)
        active = (effect["from_month"] <= j) & (j < effect["to_month"])
        w = fading_weight(j, effect.get("fade_from_month", effect["from_month"]),
                          effect.get("half_life_months", np.inf))
        rates = np.where(active, h * effect["ratio"] ** w, h)
    cumulative = np.concatenate([[0.0], np.cumsum(rates)[:-1]])
    return -np.expm1(-cumulative)


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("effect", [None, FADING, {**FADING, "fade_from_month": 2},
                                    {k: v for k, v in FADING.items()
                                     if k != "half_life_months"}])
def test_exact_share_matches_the_closed_form(scale, effect):
    doc = two_state(hazard_scale=scale, **({"effect": effect} if effect else {}))
    doc["cohort"]["sites"]["B"]["multiplier"] = 1.0
    share = exact.share_by_months_since_entry(sibsim.Scenario(doc), arm="treatment")
    expected = _closed_form(40, scale, effect)
    np.testing.assert_allclose(share.sel(site="A", state="in").values, expected,
                               rtol=0, atol=1e-14)


def test_a_distribution_enters_the_exact_module_at_its_mean():
    doc = two_state(hazard_scale={"uniform": {"low": 0.5, "high": 1.5}},
                    effect={**FADING, "half_life_months": {"uniform": {"low": 4, "high": 12}}})
    doc["cohort"]["sites"]["B"]["multiplier"] = 1.0
    share = exact.share_by_months_since_entry(sibsim.Scenario(doc), arm="treatment")
    expected = _closed_form(40, 1.0, FADING)
    np.testing.assert_allclose(share.sel(site="A", state="in").values, expected,
                               rtol=0, atol=1e-14)


def test_hazard_scale_zero_switches_a_certain_transition_off():
    doc = two_state(hazard_scale=0.0)
    doc["transitions"][0]["probability"] = 1.0
    share = exact.share_by_months_since_entry(sibsim.Scenario(doc), arm="treatment")
    assert (share.sel(state="in").values == 0.0).all()
    ledger, _, _ = run_model(sibsim.Scenario(doc), 2, 1)
    assert (ledger.occupancy[:, :, :, 1] == 0).all()


# ---------------------------------------------------------------------------------------
# The kernel's mean against the exact module
# ---------------------------------------------------------------------------------------

def _z_scores(counts: np.ndarray, expected: np.ndarray) -> np.ndarray:
    se = counts.std(0) / math.sqrt(len(counts)) + 1e-9
    return np.abs(counts.mean(0) - expected) / se


def _assert_close_to(counts, expected):
    z = _z_scores(counts, expected)
    assert np.mean(z < 3.5) > 0.97
    assert np.all(z < 6)


def test_kernel_mean_matches_exact_with_fading_and_hazard_scale():
    doc = two_state(frailty_variance=0.4, hazard_scale=1.4, effect=FADING)
    doc["transitions"].append({"from": "in", "to": "out", "probability": 0.04})
    scenario = sibsim.Scenario(doc)
    ledger, _, _ = run_model(scenario, 300, 7)
    for a, arm in enumerate(("treatment", "counterfactual")):
        _assert_close_to(ledger.occupancy[:, a], exact.expected_occupancy(scenario, arm=arm))


@pytest.mark.parametrize("path, spec", [
    ("cohort.frailty_variance", {"gamma": {"mean": 0.5, "sd": 0.3}}),
    ("transitions[0].hazard_scale", {"lognormal": {"median": 1.0, "sigma": 0.4}}),
    ("transitions[0].effect.half_life_months", {"uniform": {"low": 2, "high": 20}}),
    ("cohort.sites.B.multiplier", {"lognormal": {"median": 0.7, "sigma": 0.4}}),
])
def test_kernel_mean_over_a_per_draw_parameter_matches_exact_at_each_draw(path, spec):
    """The mean over draws equals the mean of the exact occupancy at each draw's value."""
    doc = two_state(frailty_variance=0.4, hazard_scale=1.0, effect=FADING, size=60)
    doc["transitions"].append({"from": "in", "to": "out", "probability": 0.04})
    scenario = sibsim.Scenario(doc).replace(path, spec)
    draws, seed = 300, 11
    ledger, _, _ = run_model(scenario, draws, seed)
    values = sample_parameters(scenario, np.arange(draws), seed).get(path)
    for a, arm in enumerate(("treatment", "counterfactual")):
        expected = np.mean([exact.expected_occupancy(scenario.replace(path, float(v)), arm=arm)
                            for v in values], axis=0)
        _assert_close_to(ledger.occupancy[:, a], expected)


# ---------------------------------------------------------------------------------------
# The kernel against the reference, draw for draw
# ---------------------------------------------------------------------------------------

def _compare_with_reference(scenario, draws=3, seed=5):
    ledger, _, _ = run_model(scenario, draws, seed)
    ref = simulate_reference(scenario, draws, seed)
    assert np.array_equal(ledger.occupancy, ref["occupancy"])
    for r, due in enumerate(ledger.rate_card_due.values()):
        np.testing.assert_allclose(due, ref["due"][:, r], rtol=1e-12, atol=1e-6)
    scale = np.abs(ref["cost"]).max() + 1.0
    np.testing.assert_allclose(ledger.cost, ref["cost"], rtol=0, atol=1e-9 * scale)


def test_kernel_equals_reference_with_a_fading_effect_and_hazard_scale():
    doc = two_state(months=36, size=30, frailty_variance={"gamma": {"mean": 0.4, "sd": 0.2}},
                    hazard_scale={"lognormal": {"median": 1.0, "sigma": 0.3}},
                    effect={**FADING, "half_life_months": {"uniform": {"low": 2, "high": 9}}})
    doc["transitions"].append({"from": "in", "to": "out",
                               "probability": {"by_months_in_state": [[0, 0.1], [5, 0.03]]},
                               "effect": {"ratio": 0.5, "from_month": 0,
                                          "half_life_months": 3.0}})
    doc["discount_rate"] = {"uniform": {"low": 0.02, "high": 0.05}}
    _compare_with_reference(sibsim.Scenario(doc), draws=4)


def test_kernel_equals_reference_in_fading_months_with_shock_buckets_and_edge_cases():
    """The fading months are walked with the draw's summed hazards: frailty, a site whose
    multiplier is 0, an economy shock on a fading transition, months-in-state buckets, and
    a bucket with a certain exit (p = 1, walked transition by transition)."""
    doc = two_state(months=48, size=40, frailty_variance=0.5,
                    effect={**FADING, "from_month": 0, "to_month": 40, "fade_from_month": 3})
    doc["states"] = ["out", "in", "gone"]
    doc["cohort"]["sites"]["C"] = {"size": 10, "multiplier": 0.0}
    doc["cohort"]["prior_months"] = {"uniform": {"low": 0, "high": 20}}
    doc["transitions"][0]["probability"] = {"by_months_in_state": [[0, 0.08], [6, 0.04],
                                                                   [30, 1.0]]}
    doc["transitions"] += [
        {"from": "out", "to": "gone", "probability": {"by_months_in_state": [[0, 0.05],
                                                                             [10, 0.08]]},
         "frailty": True, "effect": {"ratio": 0.5, "from_month": 1, "to_month": 20,
                                     "fade_from_month": 5, "half_life_months": 4.0}},
        {"from": "in", "to": "out", "probability": 0.05},
    ]
    doc["economy"] = {"shock_sd": 0.3, "shock_persistence": 0.7,
                      "transitions": [["out", "in"]]}
    _compare_with_reference(sibsim.Scenario(doc), draws=4)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenario(contracts=any_contracts, per_draw=True))
def test_kernel_equals_reference_on_random_scenarios(doc):
    _compare_with_reference(sibsim.load_scenario(doc), draws=2)


# ---------------------------------------------------------------------------------------
# Per-draw discount rate and validation
# ---------------------------------------------------------------------------------------

def test_a_per_draw_discount_rate_discounts_each_draw_at_its_rate():
    doc = two_state(months=24, size=10, effect={"ratio": 2.0})
    doc["discount_rate"] = {"uniform": {"low": 0.0, "high": 0.2}}
    scenario = sibsim.Scenario(doc)
    result = sibsim.simulate(scenario, draws=5, seed=2)
    rate = result["params"].sel(param="discount_rate").values
    factor = (1.0 + rate[:, None]) ** (-result["month"].values[None, :] / 12.0)
    difference = (result["cost"].sel(arm="counterfactual") - result["cost"].sel(arm="treatment"))
    expected = (difference.sum(("category",)).values[:, :, 0] * factor).sum(1)
    np.testing.assert_allclose(result["savings_npv"].sum("category").values[:, 0], expected,
                               rtol=1e-12)


@pytest.mark.parametrize("change, key, words", [
    ({"half_life_months": 0}, "half_life_months", "a number > 0"),
    ({"half_life_months": -3.0}, "half_life_months", "a number > 0"),
    ({"half_life_months": {"normal": {"mean": 12, "sd": 4}}}, "half_life_months",
     "support lies within"),
    ({"from_month": 4, "fade_from_month": 2}, "fade_from_month", ">= from_month (4)"),
    ({"from_month": 5, "to_month": 5}, "to_month", "> from_month (5)"),
    ({"fade_from_month": 2.5}, "fade_from_month", "a whole number"),
    ({"fade_from_month": {"uniform": {"low": 1, "high": 3}}}, "fade_from_month",
     "cannot be uncertain"),
])
def test_bad_fading_keys_name_the_key_and_value(change, key, words):
    doc = two_state(effect={"ratio": 2.0, **change})
    with pytest.raises(ScenarioError) as error:
        sibsim.Scenario(doc)
    message = str(error.value)
    assert f"transitions[0].effect.{key}" in message
    assert words in message


@pytest.mark.parametrize("value, words", [
    (-0.5, "a number >= 0"), ("high", "a number >= 0"),
    ({"normal": {"mean": 1, "sd": 0.3}}, "support lies within"),
])
def test_bad_hazard_scale_names_the_key_and_value(value, words):
    with pytest.raises(ScenarioError) as error:
        sibsim.Scenario(two_state(hazard_scale=value))
    assert "transitions[0].hazard_scale" in str(error.value)
    assert words in str(error.value)


def test_new_keys_are_per_draw_parameters():
    doc = two_state(hazard_scale={"lognormal": {"median": 1.0, "sigma": 0.3}},
                    effect={**FADING, "half_life_months": {"uniform": {"low": 12, "high": 36}}})
    doc["cohort"]["frailty_variance"] = {"uniform": {"low": 0.1, "high": 0.6}}
    doc["correlations"] = [{"params": ["transitions[0].hazard_scale",
                                       "transitions[0].effect.half_life_months"], "rho": 0.5}]
    scenario = sibsim.Scenario(doc)
    assert {"transitions[0].hazard_scale", "transitions[0].effect.half_life_months",
            "cohort.frailty_variance"} <= set(scenario.uncertain())
    plain = sibsim.Scenario(two_state(effect={"ratio": 2.0}))
    assert "transitions[0].hazard_scale" not in plain.parameters()
    assert plain.data["transitions"][0]["effect"]["to_month"] == 40


# ---------------------------------------------------------------------------------------
# The effect's change points (made once per kernel call, in numpy)
# ---------------------------------------------------------------------------------------


def _multiplier_regime(months_since_entry, start, end, fades, fade_from):
    """What decides a transition's effect multiplier at m months since entry: outside the
    window; inside and constant; or inside and fading (a new value every month)."""
    if not start <= months_since_entry < end:
        return ("outside",)
    if fades and months_since_entry >= fade_from:
        return ("fading", months_since_entry)
    return ("constant",)


def _two_state_layout(months, windows, split):
    """A transition layout with the effect windows (start, end, fades, fade_from) of
    ``windows``: the first ``split`` transitions leave state 0, the rest state 1."""
    from types import SimpleNamespace

    split = min(split, len(windows))
    starts, ends, fades, fade_froms = (np.array(column, dtype=np.int64)
                                       for column in zip(*windows))
    ranges = ((0, split), (split, len(windows)))
    has_effect = np.array([(ends[a:b] > starts[a:b]).any() for a, b in ranges],
                          dtype=np.int64)
    transitions = SimpleNamespace(
        months=np.int64(months), state_has_effect=has_effect,
        outgoing_start=np.array([0, split, len(windows)], dtype=np.int64),
        outgoing=np.arange(len(windows), dtype=np.int64), effect_from_month=starts,
        effect_to_month=ends, effect_fades=fades, effect_fade_from_month=fade_froms)
    return transitions, ranges, has_effect, (starts, ends, fades, fade_froms)


@settings(max_examples=60, deadline=None)
@given(months=st.integers(1, 40),
       windows=st.lists(st.tuples(st.integers(-3, 45), st.integers(0, 45), st.booleans(),
                                  st.integers(-3, 45)), min_size=1, max_size=4),
       split=st.integers(0, 4))
def test_effect_change_points_mark_every_change_of_the_multipliers(months, windows, split):
    """Between m and change[s, m] no transition out of s changes the regime of its effect
    multiplier (so the kernel may treat the stretch as constant), change[s, m] > m, and
    active[s, m] says whether an effect applies."""
    from sibsim.engine.kernels.effects import effect_change_points

    transitions, ranges, has_effect, (starts, ends, fades, fade_froms) = _two_state_layout(
        months, windows, split)
    change, active = effect_change_points(transitions)
    assert change.shape == active.shape == (2, months)
    for state, (a, b) in enumerate(ranges):
        def regimes(m):
            return [_multiplier_regime(m, starts[k], ends[k], fades[k], fade_froms[k])
                    for k in range(a, b)]
        for m in range(months):
            assert m < change[state, m] <= months
            if not has_effect[state]:
                assert change[state, m] == months and not active[state, m]
                continue
            assert all(regimes(later) == regimes(m) for later in range(m, change[state, m]))
            assert active[state, m] == any(r[0] != "outside" for r in regimes(m))


@settings(max_examples=60, deadline=None)
@given(months=st.integers(1, 40),
       windows=st.lists(st.tuples(st.integers(-3, 45), st.integers(0, 45), st.booleans(),
                                  st.integers(-3, 45)), min_size=1, max_size=4),
       split=st.integers(0, 4))
def test_fading_points_mark_the_runs_of_fading_months(months, windows, split):
    """fading[s, m] says whether some effect out of s fades at m; between m and
    steady_change[s, m] no transition changes its regime other than by fading, so the
    kernel may walk those months with the draw's fading table."""
    from sibsim.engine.kernels.effects import change_points, effect_change_points, fading_points

    transitions, ranges, has_effect, (starts, ends, fades, fade_froms) = _two_state_layout(
        months, windows, split)
    fading, steady_change = fading_points(transitions)
    # The workspace's change points come from one pass: the same arrays.
    for together, alone in zip(change_points(transitions),
                               effect_change_points(transitions) + (fading, steady_change)):
        assert np.array_equal(together, alone)
    assert fading.shape == steady_change.shape == (2, months)
    for state, (a, b) in enumerate(ranges):
        def kinds(m):
            return [_multiplier_regime(m, starts[k], ends[k], fades[k], fade_froms[k])[0]
                    for k in range(a, b)]
        for m in range(months):
            assert m < steady_change[state, m] <= months
            assert fading[state, m] == (has_effect[state] and "fading" in kinds(m))
            assert all(kinds(later) == kinds(m) for later in range(m, steady_change[state, m]))
