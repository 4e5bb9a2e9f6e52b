"""Tests of sibsim.engine.exact against closed forms, matrix powers, path enumeration and quadrature.

The reference implementations here are plain Python, written from the model of
docs/methodology.rst (hazards, competing risks, months in state) without reusing anything
from ``sibsim.engine.exact``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from strategies import known_probabilities

import sibsim
from sibsim.engine import exact
from sibsim.engine.exact import (
    Chain,
    expected_occupancy,
    expected_share,
    frailty_quadrature,
    historical_baseline,
    prior_months_weights,
    share_by_months_since_entry,
)

#: The settings of every property test here (each example solves a chain exactly).
EXACT = settings(deadline=None, max_examples=25)


# ----------------------------------------------------------------------------------------
# Scenario builder
# ----------------------------------------------------------------------------------------


def make_scenario(
    states,
    transitions,
    *,
    months=12,
    initial_state=None,
    prior_months=0.0,
    intake_months=0,
    frailty_variance=0.0,
    sites=None,
    flows=(),
    economy=None,
):
    """A scenario from the few keys these tests vary (the rest at harmless defaults)."""
    raw = {
        "name": "exact test",
        "months": months,
        "states": list(states),
        "cohort": {
            "initial_state": initial_state or states[0],
            "prior_months": prior_months,
            "intake_months": intake_months,
            "frailty_variance": frailty_variance,
            "sites": sites or {"A": {"size": 10, "multiplier": 1.0}},
        },
        "programme": {"months": 1, "cost_per_participant": 0.0, "fixed_cost": 0.0},
        "transitions": [dict(t) for t in transitions],
        "flows": [dict(f) for f in flows],
        "contracts": [],
    }
    if economy is not None:
        raw["economy"] = economy
    return sibsim.load_scenario(raw)


def transition(origin, destination, probability, *, frailty=False, effect=None):
    out = {"from": origin, "to": destination, "probability": probability, "frailty": frailty}
    if effect is not None:
        out["effect"] = effect
    return out


def table(*rows):
    return {"by_months_in_state": [[int(k), v] for k, v in rows]}


# ----------------------------------------------------------------------------------------
# Plain-Python reference model
# ----------------------------------------------------------------------------------------


def naive_value(value, months_in_state):
    """A number or step table at an (uncapped) months_in_state."""
    if isinstance(value, dict) and "by_months_in_state" in value:
        current = None
        for key, entry in value["by_months_in_state"]:
            if key <= months_in_state:
                current = entry
        return current
    return value


def naive_competing(probabilities, multipliers):
    """Competing risks out of one origin in one month: returns ([P(to k)], P(stay)).

    h_k = -ln(1 - p_k) m_k, P(leave) = 1 - exp(-H), P(to k) = P(leave) h_k / H; certain
    exits (p = 1 under a positive multiplier) share the exit equally.
    """
    certain = [p == 1.0 and m > 0 for p, m in zip(probabilities, multipliers)]
    if any(certain):
        n = sum(certain)
        return [1.0 / n if c else 0.0 for c in certain], 0.0
    hazards = [
        0.0 if m == 0 else -math.log(1.0 - p) * m for p, m in zip(probabilities, multipliers)
    ]
    total = sum(hazards)
    if total == 0:
        return [0.0] * len(hazards), 1.0
    leave = 1.0 - math.exp(-total)
    return [leave * h / total for h in hazards], math.exp(-total)


def naive_step(transitions, state, months_in_state, month, *, frailty, site_multiplier, treatment):
    """Probabilities of the next state after ``month`` months since entry (a dict)."""
    outgoing = [t for t in transitions if t["from"] == state]
    probabilities, multipliers = [], []
    for t in outgoing:
        probabilities.append(naive_value(t["probability"], months_in_state))
        multiplier = 1.0
        effect = t.get("effect")
        if treatment and effect and effect["from_month"] <= month < effect["to_month"]:
            multiplier *= effect["ratio"]
        if t.get("frailty"):
            multiplier *= frailty * site_multiplier
        multipliers.append(multiplier)
    moves, stay = naive_competing(probabilities, multipliers)
    return [(t["to"], p) for t, p in zip(outgoing, moves)], stay


def naive_paths(transitions, states, initial_state, prior_months, horizon, **kwargs):
    """Share in each state at months since entry 0..horizon-1 by enumerating every path."""
    share = [dict.fromkeys(states, 0.0) for _ in range(horizon)]

    def walk(state, months_in_state, month, probability):
        share[month][state] += probability
        if month == horizon - 1 or probability == 0:
            return
        moves, stay = naive_step(transitions, state, months_in_state, month, **kwargs)
        walk(state, months_in_state + 1, month + 1, probability * stay)
        for destination, p in moves:
            walk(destination, 0, month + 1, probability * p)

    walk(initial_state, prior_months, 0, 1.0)
    return np.array([[row[s] for s in states] for row in share])


def single_type(scenario_data, *, frailty, site_multiplier=1.0, prior_months=0, arm, months):
    """The module's recursion for one participant type (one frailty, one prior months)."""
    chain = Chain.from_data(scenario_data)
    cap = chain.max_months_in_state
    initial = np.zeros((len(chain.states), cap + 1))
    initial[chain.initial_state, min(prior_months, cap)] = 1.0
    return chain.forward(
        months=months,
        initial=initial,
        frailty=np.array([frailty]),
        weights=np.ones(1),
        site_multiplier=site_multiplier,
        treatment=arm == "treatment",
    )


def data_of(scenario):
    return scenario.data


# ----------------------------------------------------------------------------------------
# Closed forms and matrix powers
# ----------------------------------------------------------------------------------------


@EXACT
@given(
    p=st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 0.99)),
    months=st.integers(1, 40),
    prior=st.floats(0.0, 30.0),
    intake=st.integers(0, 10),
)
def test_two_state_constant_probability_closed_form(p, months, prior, intake):
    scenario = make_scenario(
        ["benefits", "employed"],
        [transition("benefits", "employed", p, frailty=True)],
        months=months,
        prior_months=prior,
        intake_months=min(intake, months),  # the programme must end within the horizon
        frailty_variance=0.0,
    )
    share = share_by_months_since_entry(scenario).sel(site="A", state="employed").values
    m = np.arange(months)
    # 1 - (1 - p)**m written without cancellation (-expm1(m log1p(-p))): for small p the
    # naive form loses ~1e-12 relative accuracy and would be the less exact side.
    with np.errstate(divide="ignore"):
        closed_form = -np.expm1(m * np.log1p(-p)) if p < 1.0 else (m > 0).astype(float)
    np.testing.assert_allclose(share, closed_form, rtol=1e-12, atol=1e-15)


def competing_matrix(states, transitions):
    """The monthly transition matrix of a chain with constant probabilities."""
    index = {s: i for i, s in enumerate(states)}
    matrix = np.zeros((len(states), len(states)))
    for origin in states:
        outgoing = [t for t in transitions if t["from"] == origin]
        hazards = np.array([-np.log1p(-t["probability"]) for t in outgoing])
        total = hazards.sum()
        matrix[index[origin], index[origin]] = np.exp(-total)
        for t, h in zip(outgoing, hazards):
            matrix[index[origin], index[t["to"]]] += -np.expm1(-total) * h / total
    return matrix


@EXACT
@given(probabilities=st.lists(st.floats(0.001, 0.9), min_size=5, max_size=5))
def test_three_state_competing_risks_matrix_power(probabilities):
    states = ["benefits", "employed", "education"]
    transitions = [
        transition("benefits", "employed", probabilities[0]),
        transition("benefits", "education", probabilities[1]),
        transition("employed", "benefits", probabilities[2]),
        transition("employed", "education", probabilities[3]),
        transition("education", "employed", probabilities[4]),
    ]
    months = 30
    scenario = make_scenario(states, transitions, months=months)
    share = share_by_months_since_entry(scenario).sel(site="A").values
    matrix = competing_matrix(states, transitions)
    expected = np.array([np.linalg.matrix_power(matrix, m)[0] for m in range(months)])
    np.testing.assert_allclose(share, expected, rtol=0, atol=1e-13)


# ----------------------------------------------------------------------------------------
# Duration dependence, effects, certain and switched-off transitions: path enumeration
# ----------------------------------------------------------------------------------------

@st.composite
def effect(draw):
    if draw(st.booleans()):
        return None
    start = draw(st.integers(0, 4))
    return {
        "ratio": draw(st.one_of(st.just(0.0), st.floats(0.2, 3.0))),
        "from_month": start,
        "to_month": start + draw(st.integers(1, 4)),
    }


@st.composite
def small_chain(draw):
    states = ["a", "b", "c"]
    pairs = [(o, d) for o in states for d in states if o != d]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=5, unique=True))
    transitions = []
    for origin, destination in chosen:
        t = transition(
            origin, destination, draw(known_probabilities()), frailty=draw(st.booleans())
        )
        e = draw(effect())
        if e is not None:
            t["effect"] = e
        transitions.append(t)
    return states, transitions


@EXACT
@given(
    chain=small_chain(),
    prior=st.integers(0, 9),
    frailty=st.floats(0.0, 3.0),
    site_multiplier=st.floats(0.0, 2.0),
    arm=st.sampled_from(["treatment", "counterfactual"]),
)
def test_duration_dependence_matches_path_enumeration(chain, prior, frailty, site_multiplier, arm):
    states, transitions = chain
    horizon = 7
    scenario = make_scenario(states, transitions, months=horizon, prior_months=float(prior))
    got = single_type(
        data_of(scenario),
        frailty=frailty,
        site_multiplier=site_multiplier,
        prior_months=prior,
        arm=arm,
        months=horizon,
    ).sum(axis=-1)
    want = naive_paths(
        transitions,
        states,
        "a",
        prior,
        horizon,
        frailty=frailty,
        site_multiplier=site_multiplier,
        treatment=arm == "treatment",
    )
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13)


@EXACT
@given(chain=small_chain(), arm=st.sampled_from(["treatment", "counterfactual"]))
def test_public_share_matches_path_enumeration_without_frailty_variance(chain, arm):
    states, transitions = chain
    horizon = 6
    sites = {"A": {"size": 5, "multiplier": 0.5}, "B": {"size": 3, "multiplier": 1.5}}
    scenario = make_scenario(states, transitions, months=horizon, prior_months=4.0, sites=sites)
    share = share_by_months_since_entry(scenario, arm=arm)
    for site, spec in sites.items():
        want = naive_paths(
            transitions,
            states,
            "a",
            4,
            horizon,
            frailty=1.0,
            site_multiplier=spec["multiplier"],
            treatment=arm == "treatment",
        )
        np.testing.assert_allclose(share.sel(site=site).values, want, rtol=0, atol=1e-13)


def test_certain_transitions_share_equally():
    transitions = [
        transition("a", "b", 1.0),
        transition("a", "c", 1.0),
        transition("a", "d", 0.3),
    ]
    scenario = make_scenario(["a", "b", "c", "d"], transitions, months=3)
    share = share_by_months_since_entry(scenario).sel(site="A", months_since_entry=1).values
    np.testing.assert_array_equal(share, [0.0, 0.5, 0.5, 0.0])


def test_multiplier_zero_switches_a_certain_transition_off():
    transitions = [
        transition("a", "b", 1.0, frailty=True),  # off: site multiplier 0
        transition(
            "a", "c", 1.0, effect={"ratio": 0.0, "from_month": 0, "to_month": 1}
        ),  # off in the treatment arm's first month
        transition("a", "d", 0.3),
    ]
    sites = {"A": {"size": 4, "multiplier": 0.0}}
    scenario = make_scenario(["a", "b", "c", "d"], transitions, months=3, sites=sites)
    counterfactual = share_by_months_since_entry(scenario).sel(site="A").values
    treatment = share_by_months_since_entry(scenario, arm="treatment").sel(site="A").values
    np.testing.assert_array_equal(counterfactual[1], [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(treatment[1], [0.7, 0.0, 0.0, 0.3], rtol=1e-15)
    # month 1 is outside the effect window: the rest of a goes to c for certain
    np.testing.assert_allclose(treatment[2], [0.0, 0.0, 0.7, 0.3], rtol=1e-15)


def test_months_in_state_at_or_beyond_the_largest_key_behave_alike():
    transitions = [transition("a", "b", table((0, 0.1), (3, 0.4), (5, 0.05)))]
    far = make_scenario(["a", "b"], transitions, months=10, prior_months=40.0)
    at_cap = make_scenario(["a", "b"], transitions, months=10, prior_months=5.0)
    np.testing.assert_array_equal(
        share_by_months_since_entry(far).values, share_by_months_since_entry(at_cap).values
    )
    want = 1 - 0.95 ** np.arange(10)
    np.testing.assert_allclose(
        share_by_months_since_entry(far).sel(site="A", state="b").values, want, rtol=1e-14
    )


# ----------------------------------------------------------------------------------------
# Frailty
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("variance", [1e-6, 1e-3, 0.05, 0.3, 1.0, 2.0])
def test_frailty_quadrature_closed_form_laplace_transform(variance):
    z, w = frailty_quadrature(variance)
    assert np.all(w >= 0) and np.all(z >= 0)
    np.testing.assert_allclose([w.sum(), w @ z, w @ z**2], [1.0, 1.0, 1.0 + variance], atol=1e-12)
    for c in [0.01, 0.3, 1.0, 5.0, 20.0, 50.0, 200.0, 1000.0]:
        exact_value = np.exp(-np.log1p(c * variance) / variance)  # E[exp(-cZ)]
        assert abs(w @ np.exp(-c * z) - exact_value) < 1e-12, c


@pytest.mark.parametrize("variance", [5.0, 10.0])
def test_frailty_quadrature_large_variance(variance):
    z, w = frailty_quadrature(variance)
    for c in [0.01, 1.0, 20.0, 100.0, 1000.0]:
        exact_value = np.exp(-np.log1p(c * variance) / variance)
        assert abs(w @ np.exp(-c * z) - exact_value) < 1e-8, c


def test_frailty_zero_variance_is_one_node():
    z, w = frailty_quadrature(0.0)
    assert z.tolist() == [1.0] and w.tolist() == [1.0]
    with pytest.raises(ValueError, match="frailty variance"):
        frailty_quadrature(-0.1)


@pytest.mark.parametrize("variance", [0.3, 1.0, 2.5])
def test_two_state_with_frailty_closed_form_long_horizon(variance):
    p, site_multiplier, months = 0.1, 1.3, 240
    scenario = make_scenario(
        ["benefits", "employed"],
        [transition("benefits", "employed", p, frailty=True)],
        months=months,
        frailty_variance=variance,
        sites={"A": {"size": 10, "multiplier": site_multiplier}},
    )
    share = share_by_months_since_entry(scenario).sel(site="A", state="benefits").values
    cumulative = -np.log1p(-p) * site_multiplier * np.arange(months)
    want = np.exp(-np.log1p(cumulative * variance) / variance)  # E[exp(-H m Z)]
    np.testing.assert_allclose(share, want, rtol=0, atol=1e-11)


@pytest.mark.parametrize("variance", [0.4, 1.5])
def test_frailty_quadrature_matches_adaptive_integral_of_the_chain(variance):
    """Competing frailty and non-frailty hazards, a duration table and an effect."""
    states = ["benefits", "employed", "education"]
    transitions = [
        transition("benefits", "employed", table((0, 0.08), (6, 0.04)), frailty=True),
        transition("benefits", "education", 0.03),
        transition(
            "employed",
            "benefits",
            0.05,
            frailty=True,
            effect={"ratio": 0.5, "from_month": 0, "to_month": 12},
        ),
        transition("education", "employed", 0.2, frailty=True),
    ]
    months = 48
    sites = {"A": {"size": 10, "multiplier": 0.8}}
    scenario = make_scenario(
        states, transitions, months=months, frailty_variance=variance, sites=sites, prior_months=3.0
    )
    got = share_by_months_since_entry(scenario, arm="treatment").sel(site="A").values

    shape = 1.0 / variance

    def integrand(log_x):  # over log X, X ~ Gamma(1/v): Z = v X
        x = math.exp(log_x)
        per_type = single_type(
            data_of(scenario),
            frailty=variance * x,
            site_multiplier=0.8,
            prior_months=3,
            arm="treatment",
            months=months,
        ).sum(axis=-1)
        return per_type * stats.gamma.pdf(x, shape) * x

    lower = max(np.log(stats.gamma.ppf(1e-20, shape)), -700.0)
    upper = np.log(stats.gamma.isf(1e-20, shape))
    want, error = integrate.quad_vec(integrand, lower, upper, epsabs=1e-14, epsrel=1e-12)
    assert error < 1e-11
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------------------
# Prior months
# ----------------------------------------------------------------------------------------

PRIOR_DISTRIBUTIONS = [
    {"uniform": {"low": 12.0, "high": 60.0}},
    {"normal": {"mean": 3.0, "sd": 2.5}},
    {"gamma": {"mean": 6.0, "sd": 4.0}},
    {"lognormal": {"median": 5.0, "sigma": 0.6}},
    {"triangular": {"low": 0.0, "mode": 2.0, "high": 14.0}},
    {"pert": {"low": 0.0, "mode": 4.0, "high": 20.0}},
    {"beta": {"mean": 0.4, "sd": 0.2}},
]
SCIPY_OF = {
    "uniform": lambda q: stats.uniform(q["low"], q["high"] - q["low"]),
    "normal": lambda q: stats.norm(q["mean"], q["sd"]),
    "gamma": lambda q: stats.gamma((q["mean"] / q["sd"]) ** 2, scale=q["sd"] ** 2 / q["mean"]),
    "lognormal": lambda q: stats.lognorm(q["sigma"], scale=q["median"]),
    "triangular": lambda q: stats.triang(
        (q["mode"] - q["low"]) / (q["high"] - q["low"]), q["low"], q["high"] - q["low"]
    ),
    "pert": lambda q: stats.beta(
        1 + 4 * (q["mode"] - q["low"]) / (q["high"] - q["low"]),
        1 + 4 * (q["high"] - q["mode"]) / (q["high"] - q["low"]),
        q["low"],
        q["high"] - q["low"],
    ),
    "beta": lambda q: stats.beta(
        q["mean"] * (q["mean"] * (1 - q["mean"]) / q["sd"] ** 2 - 1),
        (1 - q["mean"]) * (q["mean"] * (1 - q["mean"]) / q["sd"] ** 2 - 1),
    ),
}


@pytest.mark.parametrize("prior", PRIOR_DISTRIBUTIONS, ids=lambda d: next(iter(d)))
@pytest.mark.parametrize("cap", [0, 1, 7, 36])
def test_prior_months_weights_match_monte_carlo(prior, cap):
    ((family, parameters),) = prior.items()
    samples = SCIPY_OF[family](parameters).rvs(size=400_000, random_state=12345)
    months = np.minimum(np.clip(np.rint(samples), 0, None), cap).astype(int)
    frequency = np.bincount(months, minlength=cap + 1) / samples.size
    weights = prior_months_weights(prior, cap)
    assert weights.shape == (cap + 1,)
    assert abs(weights.sum() - 1.0) < 1e-12
    tolerance = 5 * np.sqrt(weights * (1 - weights) / samples.size) + 1e-12
    assert np.all(np.abs(frequency - weights) <= tolerance)


@pytest.mark.parametrize(
    "value, cap, index", [(2.4, 5, 2), (2.5, 5, 2), (3.5, 5, 4), (-3.0, 5, 0), (12.0, 5, 5)]
)
def test_prior_months_number_is_rounded_clipped_and_capped(value, cap, index):
    weights = prior_months_weights(value, cap)
    assert weights.tolist() == [1.0 if k == index else 0.0 for k in range(cap + 1)]


def test_prior_months_distribution_mixes_single_values():
    """The share with a prior-months distribution is the mixture over whole months."""
    transitions = [
        transition("benefits", "employed", table((0, 0.02), (4, 0.1), (9, 0.03)), frailty=True),
        transition("employed", "benefits", 0.04),
    ]
    prior = {"gamma": {"mean": 5.0, "sd": 3.0}}
    common = dict(months=20, frailty_variance=0.5)
    mixed = share_by_months_since_entry(
        make_scenario(["benefits", "employed"], transitions, prior_months=prior, **common)
    ).values
    weights = prior_months_weights(prior, 9)
    parts = [
        share_by_months_since_entry(
            make_scenario(["benefits", "employed"], transitions, prior_months=float(k), **common)
        ).values
        for k in range(10)
    ]
    np.testing.assert_allclose(mixed, np.tensordot(weights, parts, axes=1), rtol=0, atol=1e-13)


# ----------------------------------------------------------------------------------------
# Arms, normalisation, central values
# ----------------------------------------------------------------------------------------


def realistic_scenario(*, ratio=1.8, economy=None, **overrides):
    states = ["benefits", "employed", "education", "exited"]
    transitions = [
        transition(
            "benefits",
            "employed",
            table((0, 0.025), (12, 0.015), (36, 0.008)),
            frailty=True,
            effect={"ratio": ratio, "from_month": 0, "to_month": 24},
        ),
        transition("benefits", "education", 0.01),
        transition("employed", "benefits", table((0, 0.04), (6, 0.02)), frailty=False),
        transition("education", "employed", 0.06, frailty=True),
        transition("benefits", "exited", 0.002),
    ]
    flows = [
        {
            "name": "cash_benefit",
            "state": "benefits",
            "category": "benefits",
            "monthly": 12500.0,
            "split": {
                "municipality": table((0, 0.2), (1, 0.6), (6, 0.7), (12, 0.8)),
                "state": "rest",
            },
        },
        {
            "name": "tax",
            "state": "employed",
            "category": "tax",
            "monthly": -4000.0,
            "split": {"state": 1.0},
        },
    ]
    options = dict(
        months=60,
        prior_months={"uniform": {"low": 12.0, "high": 60.0}},
        intake_months=12,
        frailty_variance=0.3,
        sites={
            "Herning": {"size": 60, "multiplier": 0.8},
            "Viborg": {"size": 45, "multiplier": 1.0},
        },
        flows=flows,
        economy=economy,
    )
    options.update(overrides)
    return make_scenario(states, transitions, **options)


def test_treatment_with_ratio_one_equals_counterfactual():
    scenario = realistic_scenario(ratio=1.0)
    np.testing.assert_array_equal(
        share_by_months_since_entry(scenario, arm="treatment").values,
        share_by_months_since_entry(scenario, arm="counterfactual").values,
    )
    np.testing.assert_array_equal(
        expected_occupancy(scenario, arm="treatment"),
        expected_occupancy(scenario, arm="counterfactual"),
    )


def test_effect_raises_employment_in_the_treatment_arm():
    scenario = realistic_scenario(ratio=1.8)
    treated = share_by_months_since_entry(scenario, arm="treatment").sel(state="employed")
    control = share_by_months_since_entry(scenario, arm="counterfactual").sel(state="employed")
    assert np.all(treated.values[:, 1:25] > control.values[:, 1:25])


@st.composite
def random_scenario(draw):
    states, transitions = draw(small_chain())
    prior = draw(
        st.one_of(
            st.floats(0.0, 20.0),
            st.builds(
                lambda lo, w: {"uniform": {"low": lo, "high": lo + w}},
                st.floats(0, 10),
                st.floats(0.5, 20),
            ),
        )
    )
    months = draw(st.integers(1, 30))
    return make_scenario(
        states,
        transitions,
        months=months,
        prior_months=prior,
        intake_months=draw(st.integers(0, min(months, 12))),
        frailty_variance=draw(st.sampled_from([0.0, 0.1, 0.7, 2.0])),
        sites={"A": {"size": draw(st.integers(1, 20)), "multiplier": draw(st.floats(0.0, 2.0))}},
    )


@EXACT
@given(scenario=random_scenario(), arm=st.sampled_from(["treatment", "counterfactual"]))
def test_shares_are_probabilities_that_sum_to_one(scenario, arm):
    share = share_by_months_since_entry(scenario, arm=arm).values
    assert np.all(share >= -1e-15) and np.all(share <= 1 + 1e-12)
    np.testing.assert_allclose(share.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_economy_shock_is_ignored():
    economy = {"shock_sd": 0.3, "shock_persistence": 0.5, "transitions": [["benefits", "employed"]]}
    with_shock = realistic_scenario(economy=economy)
    without = realistic_scenario()
    np.testing.assert_array_equal(
        expected_occupancy(with_shock, arm="treatment"),
        expected_occupancy(without, arm="treatment"),
    )


def test_distributions_enter_at_their_mean():
    lognormal_ratio = {"lognormal": {"median": 1.5, "sigma": 0.4}}
    uncertain = make_scenario(
        ["a", "b", "c"],
        [
            transition(
                "a",
                "b",
                table((0, {"beta": {"mean": 0.1, "sd": 0.03}}), (3, 0.05)),
                frailty=True,
                effect={"ratio": lognormal_ratio, "from_month": 0, "to_month": 6},
            ),
            transition("b", "c", {"pert": {"low": 0.0, "mode": 0.1, "high": 0.4}}),
        ],
        months=15,
        frailty_variance={"gamma": {"mean": 0.5, "sd": 0.1}},
        sites={"A": {"size": 5, "multiplier": {"uniform": {"low": 0.5, "high": 1.5}}}},
    )
    central = make_scenario(
        ["a", "b", "c"],
        [
            transition(
                "a",
                "b",
                table((0, 0.1), (3, 0.05)),
                frailty=True,
                effect={"ratio": 1.5 * math.exp(0.08), "from_month": 0, "to_month": 6},
            ),
            transition("b", "c", (0.0 + 4 * 0.1 + 0.4) / 6.0),  # PERT mean
        ],
        months=15,
        frailty_variance=0.5,
        sites={"A": {"size": 5, "multiplier": 1.0}},
    )
    np.testing.assert_allclose(
        share_by_months_since_entry(uncertain, arm="treatment").values,
        share_by_months_since_entry(central, arm="treatment").values,
        rtol=0,
        atol=1e-13,
    )


# ----------------------------------------------------------------------------------------
# Cohort totals: occupancy, calibration target, historical baseline
# ----------------------------------------------------------------------------------------


def entry_months(size, intake):
    return [j * intake // size for j in range(size)]


def test_expected_occupancy_sums_shares_over_participants():
    scenario = realistic_scenario(months=30, intake_months=7)
    share = share_by_months_since_entry(scenario, arm="treatment")
    occupancy = expected_occupancy(scenario, arm="treatment")
    sites = data_of(scenario)["cohort"]["sites"]
    want = np.zeros_like(occupancy)
    for site, spec in sites.items():
        for entry in entry_months(spec["size"], 7):
            for t in range(entry, 30):
                want[t] += share.sel(site=site).values[t - entry]
    np.testing.assert_allclose(occupancy, want, rtol=1e-13, atol=1e-12)
    enrolled = [
        sum(e <= t for spec in sites.values() for e in entry_months(spec["size"], 7))
        for t in range(30)
    ]
    np.testing.assert_allclose(occupancy.sum(axis=1), enrolled, rtol=1e-13)


@pytest.mark.parametrize("months_since_entry", [0, 5, 14, 20, 23])
def test_expected_share_pools_sites_within_the_horizon(months_since_entry):
    months, intake = 24, 12
    scenario = realistic_scenario(months=months, intake_months=intake)
    share = share_by_months_since_entry(scenario, arm="treatment").sel(
        months_since_entry=months_since_entry, state="employed"
    )
    numerator = denominator = 0.0
    for site, spec in data_of(scenario)["cohort"]["sites"].items():
        entries = entry_months(spec["size"], intake)
        eligible = sum(e + months_since_entry <= months - 1 for e in entries)
        numerator += eligible * float(share.sel(site=site))
        denominator += eligible
    got = expected_share(
        scenario, state="employed", arm="treatment", months_since_entry=months_since_entry
    )
    assert got == pytest.approx(numerator / denominator, rel=1e-13)


def test_expected_share_rejects_bad_input():
    scenario = realistic_scenario(months=24, intake_months=24)
    with pytest.raises(ValueError, match="state"):
        expected_share(scenario, state="retired", arm="treatment", months_since_entry=3)
    with pytest.raises(ValueError, match="arm"):
        expected_share(scenario, state="employed", arm="placebo", months_since_entry=3)
    with pytest.raises(ValueError, match="months_since_entry"):
        expected_share(scenario, state="employed", arm="treatment", months_since_entry=24)
    # participant 0 of each site enters at month 0, so every months_since_entry in the
    # horizon has participants
    assert 0 <= expected_share(
        scenario, state="employed", arm="treatment", months_since_entry=23
    ) <= 1


def test_historical_baseline_cost_closed_form():
    """Benefits -> employed with constant p: the months in state of the benefit spell are
    prior + months since entry, so each participant's expected cost is a closed form."""
    p, prior, months, size, intake = 0.07, 2, 20, 8, 4
    municipality = table((0, 0.2), (3, 0.6), (6, 0.8))
    flows = [
        {
            "name": "cash_benefit",
            "state": "benefits",
            "category": "benefits",
            "monthly": 1000.0,
            "split": {"municipality": municipality, "state": "rest"},
        },
        {
            "name": "tax",
            "state": "employed",
            "category": "tax",
            "monthly": {"normal": {"mean": -500.0, "sd": 50.0}},
            "split": {"state": 1.0},
        },
    ]
    scenario = make_scenario(
        ["benefits", "employed"],
        [
            transition(
                "benefits",
                "employed",
                p,
                frailty=True,
                effect={"ratio": 3.0, "from_month": 0, "to_month": 12},
            )
        ],
        months=months,
        prior_months=float(prior),
        intake_months=intake,
        frailty_variance=0.0,
        sites={"A": {"size": size, "multiplier": 1.0}},
        flows=flows,
    )
    baseline = historical_baseline(scenario)
    want = np.zeros((months, 2, 2))  # payers (municipality, state) x categories (benefits, tax)
    for entry in entry_months(size, intake):
        for t in range(entry, months):
            on_benefits = (1 - p) ** (t - entry)
            share = naive_value(municipality, prior + t - entry)
            want[t, 0, 0] += 1000.0 * on_benefits * share
            want[t, 1, 0] += 1000.0 * on_benefits * (1 - share)
            want[t, 1, 1] += -500.0 * (1 - on_benefits)
    np.testing.assert_allclose(baseline.cost, want, rtol=1e-13, atol=1e-9)
    np.testing.assert_allclose(
        baseline.occupancy, expected_occupancy(scenario, arm="counterfactual"), rtol=0, atol=0
    )
    assert baseline.occupancy.shape == (months, 2)


def test_historical_baseline_cost_is_occupancy_times_amounts_without_tables():
    scenario = realistic_scenario(months=36)
    data = data_of(scenario)
    for flow in data["flows"]:
        flow_split = flow["split"]
        for payer, share in list(flow_split.items()):
            if isinstance(share, dict):
                flow_split[payer] = 0.7
    flat = make_scenario(
        data["states"],
        data["transitions"],
        months=36,
        prior_months=data["cohort"]["prior_months"],
        intake_months=data["cohort"]["intake_months"],
        frailty_variance=data["cohort"]["frailty_variance"],
        sites=data["cohort"]["sites"],
        flows=data["flows"],
    )
    baseline = historical_baseline(flat)
    occupancy = baseline.occupancy
    benefits, employed = 0, 1
    cost = baseline.cost
    np.testing.assert_allclose(cost[:, 0, 0], 12500 * 0.7 * occupancy[:, benefits], rtol=1e-13)
    np.testing.assert_allclose(cost[:, 1, 0], 12500 * 0.3 * occupancy[:, benefits], rtol=1e-12)
    np.testing.assert_allclose(cost[:, 1, 1], -4000 * occupancy[:, employed], rtol=1e-13)
    np.testing.assert_array_equal(baseline.cost[:, 0, 1], 0.0)


def test_public_functions_accept_a_scenario_object():
    scenario = realistic_scenario(months=12)
    share = share_by_months_since_entry(scenario)
    assert share.dims == ("site", "months_since_entry", "state")
    assert list(share.site.values) == ["Herning", "Viborg"]
    assert share.attrs["units"] == "1"
    assert exact.max_months_in_state(data_of(scenario)) == 36


def test_matches_a_plain_monte_carlo_of_participants():
    """End to end: sample frailty, prior months and every monthly transition for many
    participants, with the scenario's numbers (no distributions apart from prior months)."""
    scenario = realistic_scenario(
        months=30, sites={"A": {"size": 10, "multiplier": 0.8}}, frailty_variance=0.6
    )
    data = data_of(scenario)
    states = data["states"]
    rng = np.random.default_rng(2024)
    n, months, variance = 100_000, 30, 0.6
    frailty = rng.gamma(1 / variance, variance, size=n)
    months_in_state = np.rint(rng.uniform(12.0, 60.0, size=n))
    state = np.zeros(n, dtype=int)  # benefits
    counts = np.zeros((months, len(states)))
    for m in range(months):
        counts[m] = np.bincount(state, minlength=len(states))
        hazards = np.zeros((n, len(data["transitions"])))
        for k, t in enumerate(data["transitions"]):
            p = np.array([naive_value(t["probability"], c) for c in range(61)])[
                np.minimum(months_in_state, 60).astype(int)
            ]
            multiplier = 0.8 * frailty if t["frailty"] else np.ones(n)
            effect = t["effect"]
            if effect and effect["from_month"] <= m < effect["to_month"]:
                multiplier = multiplier * effect["ratio"]
            hazards[:, k] = np.where(
                state == states.index(t["from"]), -np.log1p(-p) * multiplier, 0.0
            )
        total = hazards.sum(axis=1)
        leaves = rng.random(n) < -np.expm1(-total)
        pick = (np.cumsum(hazards, axis=1) < (rng.random(n) * total)[:, None]).sum(axis=1)
        destination = np.array([states.index(t["to"]) for t in data["transitions"]])
        new_state = np.where(leaves, destination[np.minimum(pick, len(destination) - 1)], state)
        months_in_state = np.where(leaves, 0, months_in_state + 1)
        state = new_state
    share = share_by_months_since_entry(scenario, arm="treatment").sel(site="A").values
    frequency = counts / n
    tolerance = 5 * np.sqrt(np.clip(share * (1 - share), 0, None) / n) + 1e-9
    assert np.all(np.abs(frequency - share) <= tolerance)
