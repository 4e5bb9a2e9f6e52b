"""``[[correlations]]``: a Gaussian copula over per-draw parameters.

Oracles: the distributions' own CDFs (Kolmogorov-Smirnov, at the 0.1% critical value of the
sample size), the sampling error of a correlation coefficient, and the draws of the same
scenario without the table (bit for bit).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import sibsim
from sibsim.engine.params import correlated_uniforms, sample_parameters
from sibsim.errors import ScenarioError
from sibsim.scenario import Scenario, load_scenario
from sibsim.scenario.correlations import blocks, cholesky

DRAWS = 20_000
#: Two-sided Kolmogorov-Smirnov critical value at level 0.001 (asymptotic, n large).
KS_CRITICAL = 1.949 / math.sqrt(DRAWS)

# Per-draw parameters of seven families, and a fixed one.
FAMILIES = {
    "discount_rate": {"lognormal": {"median": 0.03, "sigma": 0.3}},
    "cohort.frailty_variance": {"gamma": {"mean": 0.3, "sd": 0.1}},
    "programme.cost_per_participant": {"triangular": {"low": 6e4, "mode": 1e5, "high": 1.5e5}},
    "programme.fixed_cost": {"pert": {"low": 0.0, "mode": 1e5, "high": 5e5}},
    "transitions[0].probability": {"beta": {"mean": 0.05, "sd": 0.01}},
    "transitions[0].effect.ratio": {"lognormal": {"median": 1.8, "sigma": 0.26}},
    "transitions[1].probability": {"uniform": {"low": 0.02, "high": 0.06}},
    "flows[0].monthly": {"normal": {"mean": 1e4, "sd": 1e3}},
}
FIXED = "transitions[2].probability"


def base_document() -> dict:
    """A small scenario whose per-draw parameters are the distributions of FAMILIES."""
    return {
        "months": 24,
        "discount_rate": FAMILIES["discount_rate"],
        "states": ["benefits", "employed", "education"],
        "cohort": {"initial_state": "benefits",
                   "frailty_variance": FAMILIES["cohort.frailty_variance"],
                   "sites": {"Herning": {"size": 10}, "Nørre Snede": {"size": 5}}},
        "programme": {"months": 6,
                      "cost_per_participant": FAMILIES["programme.cost_per_participant"],
                      "fixed_cost": FAMILIES["programme.fixed_cost"]},
        "transitions": [
            {"from": "benefits", "to": "employed", "frailty": True,
             "probability": FAMILIES["transitions[0].probability"],
             "effect": {"ratio": FAMILIES["transitions[0].effect.ratio"]}},
            {"from": "employed", "to": "benefits",
             "probability": FAMILIES["transitions[1].probability"]},
            {"from": "benefits", "to": "education", "probability": 0.01},
        ],
        "flows": [{"name": "benefit", "state": "benefits", "category": "benefits",
                   "monthly": FAMILIES["flows[0].monthly"], "split": {"municipality": 1.0}}],
    }


def with_correlations(*entries) -> Scenario:
    document = base_document()
    document["correlations"] = [{"params": list(names), "rho": rho} for names, rho in entries]
    return Scenario(document)


def scores(scenario: Scenario, values, path: str) -> np.ndarray:
    """The normal scores Phi^-1(F(x)) of a parameter's draws."""
    return stats.norm.ppf(scenario.uncertain()[path].scipy().cdf(values.get(path)))


def problems_of(document: dict) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        Scenario(document)
    return caught.value.problems


# ---------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------

BLOCK = ("transitions[0].effect.ratio", "programme.cost_per_participant",
         "transitions[0].probability")
PAIR = ("discount_rate", "flows[0].monthly")


@pytest.fixture(scope="module")
def correlated():
    scenario = with_correlations((BLOCK, 0.6), (PAIR, -0.8))
    return scenario, sample_parameters(scenario, np.arange(DRAWS), seed=7)


@pytest.fixture(scope="module")
def independent():
    scenario = Scenario(base_document())
    return scenario, sample_parameters(scenario, np.arange(DRAWS), seed=7)


@pytest.mark.parametrize("path", list(FAMILIES))
def test_marginals_are_those_of_the_distributions(correlated, path):
    scenario, values = correlated
    distribution = scenario.uncertain()[path].scipy()
    result = stats.kstest(values.get(path), distribution.cdf)
    assert result.statistic < KS_CRITICAL, (path, result)


@pytest.mark.parametrize(("names", "rho"), [(BLOCK, 0.6), (PAIR, -0.8)])
def test_normal_scores_have_the_correlation_asked_for(correlated, names, rho):
    scenario, values = correlated
    z = np.column_stack([scores(scenario, values, path) for path in names])
    r = np.corrcoef(z, rowvar=False)
    standard_error = (1 - rho**2) / math.sqrt(DRAWS)
    for i in range(len(names)):
        for j in range(i):
            assert abs(r[i, j] - rho) < 4 * standard_error, (names[i], names[j], r[i, j])


def test_pairs_named_in_no_entry_stay_uncorrelated(correlated):
    scenario, values = correlated
    a = scores(scenario, values, BLOCK[0])
    b = scores(scenario, values, PAIR[0])
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(DRAWS)


def test_parameters_in_no_correlation_keep_their_draws_bit_for_bit(correlated, independent):
    _, with_table = correlated
    _, without = independent
    named = set(BLOCK) | set(PAIR)
    for path in without.values:
        if path not in named:
            assert np.array_equal(with_table.get(path), without.get(path)), path
    # The first name of each block (document order) keeps its own uniform too.
    assert np.array_equal(with_table.get("discount_rate"), without.get("discount_rate"))
    assert np.array_equal(with_table.get("programme.cost_per_participant"),
                          without.get("programme.cost_per_participant"))
    assert not np.array_equal(with_table.get("transitions[0].effect.ratio"),
                              without.get("transitions[0].effect.ratio"))
    assert with_table.uncertain == without.uncertain


def test_blocks_are_in_document_order():
    scenario = with_correlations((BLOCK, 0.6), (PAIR, -0.8))
    found = blocks(scenario.get("correlations"), list(scenario.parameters()))
    assert [b.names for b in found] == [
        ("discount_rate", "flows[0].monthly"),
        ("programme.cost_per_participant", "transitions[0].probability",
         "transitions[0].effect.ratio"),
    ]
    assert [b.entries for b in found] == [(1,), (0,)]


@settings(max_examples=25, deadline=None)
@given(split=st.integers(1, 199), start=st.integers(0, 10_000), seed=st.integers(0, 2**40),
       rho=st.floats(-0.95, 0.95))
def test_draws_do_not_depend_on_chunking(split, start, seed, rho):
    scenario = with_correlations((BLOCK, rho / 2), (PAIR, rho))
    draws = np.arange(start, start + 200)
    whole = sample_parameters(scenario, draws, seed)
    first = sample_parameters(scenario, draws[:split], seed)
    rest = sample_parameters(scenario, draws[split:][::-1], seed)
    for path in whole.values:
        assert np.array_equal(whole.get(path)[:split], first.get(path)), path
        assert np.array_equal(whole.get(path)[split:][::-1], rest.get(path)), path


def test_simulated_draws_are_those_of_a_shorter_run():
    scenario = with_correlations((BLOCK, 0.7))
    long = sibsim.simulate(scenario, draws=8, seed=3)
    short = sibsim.simulate(scenario, draws=3, seed=3)
    assert np.array_equal(long["params"].values[:3], short["params"].values)
    assert np.array_equal(long["npv"].values[:3], short["npv"].values)


def test_correlated_uniforms_stay_inside_the_open_unit_interval():
    extreme = np.array([2.0**-54, 1 - 2.0**-53, 0.5])
    factor = cholesky(np.array([[1.0, 0.99], [0.99, 1.0]]))
    first, second = correlated_uniforms([extreme, extreme[::-1].copy()], factor)
    assert np.array_equal(first, extreme)
    assert np.all((second > 0) & (second < 1))
    lognormal = sibsim.Distribution("lognormal", {"median": 1.0, "sigma": 1.0})
    assert np.all(np.isfinite(lognormal.ppf(second)))


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


def test_a_valid_table_round_trips_through_toml():
    scenario = with_correlations((BLOCK, 0.6), (PAIR, -0.8))
    text = scenario.to_toml()
    assert text.count("[[correlations]]") == 2
    assert load_scenario(text) == scenario
    assert scenario.get("correlations[1].rho") == -0.8


def test_without_the_table_the_normalised_document_is_unchanged():
    scenario = Scenario(base_document())
    assert scenario.data["correlations"] is None
    assert "correlations" not in scenario.to_toml()


def test_names_are_kept_as_format_path_writes_them():
    document = base_document()
    document["correlations"] = [{"params": ['"transitions"[0].effect."ratio"',
                                            "discount_rate"], "rho": 0.5}]
    assert Scenario(document).get("correlations[0].params") == [
        "transitions[0].effect.ratio", "discount_rate"]


def test_the_same_pair_twice_with_the_same_rho_is_accepted():
    scenario = with_correlations((BLOCK[:2], 0.5), (BLOCK[1::-1], 0.5))
    assert len(scenario.get("correlations")) == 2


@pytest.mark.parametrize(("entries", "where", "words"), [
    ([{"params": ["discount_rate", "transitions[0].effect.ration"], "rho": 0.5}],
     "correlations[0].params[1]", "did you mean 'transitions[0].effect.ratio'"),
    ([{"params": ["discount_rate", FIXED], "rho": 0.5}],
     "correlations[0].params[1]", "is the number 0.01 here"),
    ([{"params": ["discount_rate", "cohort.prior_months"], "rho": 0.5}],
     "correlations[0].params[1]", "per-draw parameter given as a distribution"),
    ([{"params": ["discount_rate", "transitions[0].effect.ratio"], "rho": 1.0}],
     "correlations[0].rho", "a number in (-1, 1)"),
    ([{"params": ["discount_rate", "transitions[0].effect.ratio"], "rho": -1.5}],
     "correlations[0].rho", "a number in (-1, 1)"),
    ([{"params": ["discount_rate", "transitions[0].effect.ratio"], "rho": math.nan}],
     "correlations[0].rho", "a number in (-1, 1)"),
    ([{"params": ["discount_rate", "transitions[0].effect.ratio"],
       "rho": {"uniform": {"low": 0, "high": 0.5}}}],
     "correlations[0].rho", "cannot be uncertain"),
    ([{"params": ["discount_rate"], "rho": 0.5}],
     "correlations[0].params", "two or more key paths"),
    # an empty entry beside valid ones (found by the fuzz test on the built-in scenario)
    ([{"params": [], "rho": 0.16},
      {"params": ["discount_rate", "cohort.frailty_variance"], "rho": 0.5}],
     "correlations[0].params", "two or more key paths"),
    ([{"params": ["discount_rate", "discount_rate"], "rho": 0.5}],
     "correlations[0].params[1]", "not named before"),
    ([{"params": ["discount_rate", "transitions[0"], "rho": 0.5}],
     "correlations[0].params[1]", "a key path such as"),
    ([{"params": ["discount_rate", 3], "rho": 0.5}],
     "correlations[0].params[1]", "a key path (a string)"),
    ([{"params": "discount_rate", "rho": 0.5}], "correlations[0].params", "a list of key paths"),
    ([{"rho": 0.5}], "correlations[0].params", "the key is missing"),
    ([{"params": ["discount_rate", "cohort.frailty_variance"]}], "correlations[0].rho",
     "the key is missing"),
    ([{"params": ["discount_rate", "cohort.frailty_variance"], "rho": 0.5, "sd": 1}],
     "correlations[0].sd", "unknown key"),
    ({"params": ["discount_rate", "cohort.frailty_variance"], "rho": 0.5}, "correlations",
     "a list of correlations"),
    ([{"params": ["discount_rate", "cohort.frailty_variance"], "rho": 0.5},
      {"params": ["cohort.frailty_variance", "discount_rate"], "rho": 0.4}],
     "correlations[1].rho", "the rho already given for the pair"),
    ([{"params": ["discount_rate", "cohort.frailty_variance"], "rho": 0.9},
      {"params": ["cohort.frailty_variance", "programme.fixed_cost"], "rho": 0.9},
      {"params": ["discount_rate", "programme.fixed_cost"], "rho": -0.9}],
     "correlations[2]", "positive definite"),
    ([{"params": ["discount_rate", "cohort.frailty_variance", "programme.fixed_cost"],
       "rho": -0.6}], "correlations[0]", "smallest eigenvalue -0.2"),
])
def test_bad_correlations_are_reported_at_their_key_path(entries, where, words):
    document = base_document()
    document["correlations"] = entries
    found = [p for p in problems_of(document) if p.startswith(f"{where}:")]
    assert found and words in found[0], problems_of(document)


def test_the_positive_definite_check_names_every_entry_of_the_block():
    document = base_document()
    document["correlations"] = [
        {"params": ["discount_rate", "cohort.frailty_variance"], "rho": 0.9},
        {"params": ["transitions[1].probability", "programme.fixed_cost"], "rho": 0.1},
        {"params": ["cohort.frailty_variance", "programme.cost_per_participant"], "rho": 0.9},
        {"params": ["discount_rate", "programme.cost_per_participant"], "rho": -0.9}]
    problem, = problems_of(document)
    assert problem.startswith("correlations[3]:")
    assert "correlations[0], correlations[2], correlations[3] together" in problem


def test_names_are_checked_after_the_rest_of_the_document():
    document = base_document()
    document["months"] = 0
    document["correlations"] = [{"params": ["discount_rate", "nothing"], "rho": 0.5}]
    assert problems_of(document) == ["months: got 0, expected a whole number >= 1"]


@settings(max_examples=40, deadline=None)
@given(a=st.floats(-0.99, 0.99), b=st.floats(-0.99, 0.99), c=st.floats(-0.99, 0.99))
def test_a_three_way_block_is_valid_exactly_when_its_matrix_is_positive_definite(a, b, c):
    matrix = np.array([[1, a, b], [a, 1, c], [b, c, 1]])
    names = ["discount_rate", "cohort.frailty_variance", "programme.fixed_cost"]
    document = base_document()
    document["correlations"] = [{"params": names[:2], "rho": a},
                                {"params": [names[0], names[2]], "rho": b},
                                {"params": names[1:], "rho": c}]
    smallest = np.linalg.eigvalsh(matrix)[0]
    if smallest > 1e-9:
        Scenario(document)
    elif smallest < 0:
        assert "positive definite" in problems_of(document)[0]


# ---------------------------------------------------------------------------------------
# Changed copies
# ---------------------------------------------------------------------------------------


def test_replacing_a_correlated_parameter_by_a_number_takes_it_out():
    scenario = with_correlations((BLOCK, 0.6), (PAIR, -0.8))
    fixed = scenario.replace(BLOCK[0], 2.0)
    assert fixed.get("correlations") == [{"params": list(BLOCK[1:]), "rho": 0.6},
                                         {"params": list(PAIR), "rho": -0.8}]
    both = fixed.replace(PAIR[1], 1e4)
    assert both.get("correlations") == [{"params": list(BLOCK[1:]), "rho": 0.6}]
    none_left = both.replace(BLOCK[1], 1e5).replace(BLOCK[2], 0.05)
    assert none_left.get("correlations") is None
    expected = Scenario(base_document())
    for path, value in [(BLOCK[0], 2.0), (PAIR[1], 1e4), (BLOCK[1], 1e5), (BLOCK[2], 0.05)]:
        expected = expected.replace(path, value)
    assert none_left == expected


def test_replacing_with_another_distribution_keeps_the_correlation():
    scenario = with_correlations((PAIR, -0.8))
    moved = scenario.replace("discount_rate", {"uniform": {"low": 0.0, "high": 0.05}})
    assert moved.get("correlations") == scenario.get("correlations")
    inside = scenario.replace("discount_rate.lognormal.sigma", 0.2)
    assert inside.get("correlations") == scenario.get("correlations")


def test_a_replacement_that_breaks_the_table_is_reported():
    scenario = with_correlations((PAIR, -0.8))
    with pytest.raises(ScenarioError, match=r"correlations\[0\]\.rho: got 1\.5"):
        scenario.replace("correlations[0].rho", 1.5)
    with pytest.raises(ScenarioError, match=r"correlations\[0\]\.params\[1\]"):
        scenario.replace("correlations[0].params[1]", "transitions[2].probability")


def test_tornado_runs_on_a_scenario_with_correlations():
    scenario = with_correlations((BLOCK, 0.6))
    document = scenario.raw
    document["contracts"] = [{"name": "grant", "type": "grant", "funder": "foundation"}]
    table = sibsim.tornado(Scenario(document), contract="grant", party="municipality",
                           draws=20, seed=1)
    assert set(table["param"]) == set(scenario.uncertain())


def test_rho_is_not_a_per_draw_parameter():
    scenario = with_correlations((PAIR, -0.8))
    assert set(scenario.parameters()) == set(Scenario(base_document()).parameters())
