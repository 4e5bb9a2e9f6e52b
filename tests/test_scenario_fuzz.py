"""Fuzzing: whatever is done to a valid scenario, loading it returns a Scenario or raises
ScenarioError (with well-formed messages), never any other exception."""

from __future__ import annotations

import copy
import math
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import odd_names

import sibsim
from sibsim.errors import ScenarioError
from sibsim.scenario import Scenario, builtin_scenarios, load_scenario

# The full example scenario, written as a dict (the TOML form is in test_scenario.py).
FULL_EXAMPLE = {
    "name": "Example",
    "months": 120,
    "discount_rate": 0.035,
    "states": ["benefits", "employed", "education", "exited"],
    "cohort": {
        "initial_state": "benefits",
        "prior_months": {"uniform": {"low": 12, "high": 60}},
        "intake_months": 12,
        "frailty_variance": 0.3,
        "sites": {"Herning": {"size": 60, "multiplier": 0.8}, "Viborg": {"size": 60}},
    },
    "programme": {"months": 12, "cost_per_participant": 45000, "fixed_cost": 500000},
    "economy": {"shock_sd": 0.15, "shock_persistence": 0.9,
                "transitions": [["benefits", "employed"]]},
    "transitions": [{
        "from": "benefits", "to": "employed",
        "probability": {"by_months_in_state": [[0, 0.025], [12, 0.015], [36, 0.008]]},
        "frailty": True,
        "effect": {"ratio": {"lognormal": {"median": 1.8, "sigma": 0.3}}, "from_month": 0,
                   "to_month": 24},
    }],
    "flows": [{
        "name": "cash_benefit", "state": "benefits", "category": "benefits", "monthly": 12500,
        "split": {"municipality": {"by_months_in_state": [[0, 0.2], [1, 0.6], [6, 0.7],
                                                          [12, 0.8]]},
                  "state": "rest"},
    }],
    "contracts": [
        {"name": "donation", "type": "grant", "funder": "foundation"},
        {"name": "narrow", "type": "rate_card", "payer": "municipality",
         "outcomes": [{"name": "job_6m", "state": "employed", "sustained_months": 6,
                       "price": 60000},
                      {"name": "job_12m", "state": "employed", "cumulative_months": 12,
                       "price": 40000}],
         "window_months": 36, "cap_per_participant": 100000, "cap_total": 5000000,
         "payment_lag_months": 0},
        {"name": "broad", "type": "gain_share", "payer": "municipality", "share": 0.5,
         "savings_of": ["municipality"], "categories": ["benefits"],
         "baseline": "comparison_group", "comparison_size": 200, "settle_every_months": 12,
         "threshold": 0.0, "cap_total": 6000000,
         "financing": {"tranches": [{"party": "investor", "amount": 6000000,
                                     "return_cap_multiple": 1.5}],
                       "guarantees": [{"party": "foundation", "covers": "investor",
                                       "amount": 2000000}]}},
        {"name": "tiers", "type": "effect_tiers", "payer": "state", "state": "benefits",
         "baseline": "comparison_group", "comparison_size": 300, "measure_at_month": 36,
         "tiers": [[0.05, 0], [0.10, 2000000], [0.25, 5000000]]},
    ],
}

BASES = [FULL_EXAMPLE] + [load_scenario(name).raw for name in builtin_scenarios()]

MESSAGE = re.compile(r"^\S.*: got .+, expected .+", re.S)

# Values of every type, and some that look almost right.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 400),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2, 2),
    st.text(max_size=12),
    st.sampled_from(["rest", "benefits", "employed", "municipality", "state", "investor",
                     "comparison_group", "historical", "rate_card", "grant", "gain_share",
                     "by_months_in_state", "normal"]),
    st.builds(np.float64, st.floats(-1, 2)),
    st.builds(np.int64, st.integers(-3, 200)),
    st.builds(np.array, st.floats(0, 1)),
)
distribution_specs = st.builds(
    lambda family, params: {family: params},
    st.sampled_from(["normal", "lognormal", "gamma", "beta", "uniform", "triangular", "pert",
                     "cauchy"]),
    st.dictionaries(st.sampled_from(["mean", "sd", "median", "sigma", "low", "mode", "high"]),
                    st.one_of(st.floats(-1, 2), scalars), max_size=4),
)
valid_distribution_specs = st.sampled_from([
    {"uniform": {"low": 0.1, "high": 0.2}}, {"beta": {"mean": 0.3, "sd": 0.1}},
    {"normal": {"mean": 1, "sd": 1}}, {"lognormal": {"median": 1, "sigma": 0.5}},
    {"pert": {"low": 0, "mode": 1, "high": 3}}, {"gamma": {"mean": 2, "sd": 1}},
])
tables = st.lists(st.lists(st.one_of(st.integers(-1, 40), st.floats(-0.5, 1.5)), max_size=3),
                  max_size=4).map(lambda rows: {"by_months_in_state": rows})
values = st.recursive(
    st.one_of(scalars, distribution_specs, valid_distribution_specs, tables),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def containers(document, path=()):
    """Every dict and list in the document, with its path."""
    yield path, document
    items = document.items() if isinstance(document, dict) else enumerate(document)
    for key, value in items:
        if isinstance(value, (dict, list)):
            yield from containers(value, (*path, key))


@st.composite
def mutated(draw):
    document = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 4))):
        places = list(containers(document))
        _, container = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["delete", "set", "junk", "append", "empty"]))
        if action == "junk" and isinstance(container, dict):
            container[draw(st.text(min_size=1, max_size=10))] = copy.deepcopy(draw(values))
        elif action == "append" and isinstance(container, list):
            container.append(copy.deepcopy(draw(values)))
        elif action == "empty":
            container.clear()
        elif container:
            keys = list(container) if isinstance(container, dict) else list(range(len(container)))
            key = draw(st.sampled_from(keys))
            if action == "delete":
                del container[key]
            else:
                container[key] = copy.deepcopy(draw(values))
    return document


def check_loaded(scenario: Scenario) -> None:
    """A scenario that loads also serialises, round trips and lists its names."""
    assert load_scenario(scenario.to_toml()) == scenario
    for path, value in scenario.parameters().items():
        assert isinstance(value, float) or value.family
        scenario.get(path)
    scenario.parties()
    scenario.uncertain()


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_scenarios_load_or_raise_scenario_error(document):
    try:
        scenario = load_scenario(document)
    except ScenarioError as error:
        assert error.problems
        for problem in error.problems:
            assert MESSAGE.match(problem), problem
        return
    check_loaded(scenario)


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(BASES), st.data())
def test_replace_never_raises_anything_else(base, data):
    scenario = load_scenario(base)
    paths = list(scenario.parameters()) + ["months", "cohort.sites", "contracts[0].name",
                                           "transitions[0]", "flows[0].split", "nowhere"]
    path = data.draw(st.sampled_from(paths))
    try:
        changed = scenario.replace(path, copy.deepcopy(data.draw(values)))
    except ScenarioError as error:
        assert all(MESSAGE.match(p) for p in error.problems), error.problems
        return
    check_loaded(changed)


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_toml_text_loads_or_raises_scenario_error(data):
    text = load_scenario(FULL_EXAMPLE).to_toml()
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 6))
        insert = data.draw(st.sampled_from(["", "=", "[", "]", "\n", '"', "0", "-1", "{", "x",
                                            "1.5", "nan", "inf", ",", "[[a]]\n", "true"]))
        text = text[:at] + insert + text[at + cut:]
    try:
        scenario = load_scenario(text)
    except ScenarioError as error:
        if "invalid TOML" in str(error):
            assert re.search(r"invalid TOML at line \d+", str(error))
        else:
            assert all(MESSAGE.match(p) for p in error.problems), error.problems
        return
    check_loaded(scenario)


def test_the_bases_are_valid():
    for base in BASES:
        scenario = load_scenario(base)
        assert not math.isnan(scenario.parameters()["discount_rate"] if isinstance(
            scenario.parameters()["discount_rate"], float) else 0.0)


# ---------------------------------------------------------------------------------------------
# Valid scenarios with random names and values: they load and round-trip through TOML
# ---------------------------------------------------------------------------------------------

#: Names of states, sites, payers, categories, contracts and parties (tests/strategies.py).
names = odd_names()


def unit(draw, *, low=0.0, high=1.0):
    """A number or a distribution within [low, high]."""
    a, b = sorted(draw(st.floats(low, high)) for _ in range(2))
    kind = draw(st.sampled_from(["number", "uniform", "pert", "beta"]))
    if kind == "uniform" and a < b:
        return {"uniform": {"low": a, "high": b}}
    if kind == "pert" and a < b:
        return {"pert": {"low": a, "mode": (a + b) / 2, "high": b}}
    if kind == "beta" and (low, high) == (0.0, 1.0):
        return {"beta": {"mean": 0.5, "sd": draw(st.floats(0.01, 0.4))}}
    return a


def positive(draw):
    """A number >= 0 or a distribution on (0, inf)."""
    if draw(st.booleans()):
        return draw(st.floats(0, 1e7))
    family = draw(st.sampled_from(["lognormal", "gamma"]))
    first, second = draw(st.floats(0.01, 1e6)), draw(st.floats(0.01, 2))
    return ({"lognormal": {"median": first, "sigma": second}} if family == "lognormal"
            else {"gamma": {"mean": first, "sd": first * second}})


def stepped(draw, share_high=1.0):
    if draw(st.booleans()):
        return unit(draw, high=share_high)
    keys = sorted(set(draw(st.lists(st.integers(1, 40), max_size=3))))
    return {"by_months_in_state": [[k, unit(draw, high=share_high)] for k in [0, *keys]]}


@st.composite
def valid_scenarios(draw):
    states = draw(st.lists(names, min_size=2, max_size=4, unique=True))
    months = draw(st.integers(6, 60))
    programme_months = draw(st.integers(1, months))
    sites = draw(st.dictionaries(names, st.integers(1, 40), min_size=1, max_size=3))
    doc = {
        "name": draw(names),
        "months": months,
        "discount_rate": unit(draw, low=-0.5, high=0.5),
        "states": states,
        "cohort": {
            "initial_state": draw(st.sampled_from(states)),
            "prior_months": draw(st.sampled_from([0, 3.5, {"normal": {"mean": 5, "sd": 9}}])),
            "intake_months": draw(st.integers(0, months - programme_months)),
            "frailty_variance": positive(draw),
            "sites": {name: {"size": size, "multiplier": positive(draw)}
                      for name, size in sites.items()},
        },
        "programme": {"months": programme_months, "cost_per_participant": positive(draw)},
    }
    pairs = draw(st.lists(st.tuples(st.sampled_from(states), st.sampled_from(states)).filter(
        lambda p: p[0] != p[1]), max_size=4, unique=True))
    doc["transitions"] = [{"from": a, "to": b, "probability": stepped(draw),
                           "frailty": draw(st.booleans())} for a, b in pairs]
    if pairs and draw(st.booleans()):
        doc["transitions"][0]["effect"] = {"ratio": positive(draw), "from_month": 0,
                                           "to_month": draw(st.integers(1, 100))}
        doc["economy"] = {"shock_sd": positive(draw), "transitions": [list(pairs[-1])]}
    payer_pool = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    doc["flows"] = []
    for i in range(draw(st.integers(0, 3))):
        payers = draw(st.lists(st.sampled_from(payer_pool), min_size=1, unique=True))
        if draw(st.booleans()):  # a "rest" payer and shares that leave room for it
            split = {p: stepped(draw, share_high=1 / len(payers)) for p in payers[1:]}
            split = {payers[0]: "rest", **split} if draw(st.booleans()) else {**split,
                                                                             payers[0]: "rest"}
        else:
            weights = [draw(st.integers(1, 9)) for _ in payers]
            split = {p: w / sum(weights) for p, w in zip(payers, weights, strict=True)}
            if abs(sum(split.values()) - 1) > 1e-12:
                split[payers[0]] = "rest"
        doc["flows"].append({"name": f"flow {i}", "state": draw(st.sampled_from(states)),
                             "category": draw(names), "monthly": draw(st.floats(-1e5, 1e5)),
                             "split": split})
    contract_names = draw(st.lists(names, max_size=4, unique=True))
    doc["contracts"] = []
    for name in contract_names:
        kind = draw(st.sampled_from(["grant", "fee_for_service", "rate_card", "gain_share",
                                     "effect_tiers"]))
        contract = {"name": name, "type": kind}
        if kind == "grant":
            contract["funder"] = draw(names)
        else:
            contract["payer"] = draw(st.one_of(names, st.just({"a": 0.25, "b": 0.75})))
        if kind == "rate_card":
            contract["outcomes"] = [{"name": "o", "state": states[0],
                                     "cumulative_months": draw(st.integers(1, 12)),
                                     "price": positive(draw)}]
        elif kind == "gain_share":
            contract.update(share=unit(draw), baseline="historical")
        elif kind == "effect_tiers":
            contract.update(state=states[-1], measure_at_month=months,
                            baseline="comparison_group", comparison_size=draw(st.integers(1, 5)),
                            tiers=[[0.1, positive(draw)], [0.5, 1e6]])
        if kind in ("rate_card", "gain_share", "effect_tiers") and draw(st.booleans()):
            contract["financing"] = {"tranches": [{"party": "investor", "amount": 1e6}],
                                     "guarantees": [{"party": draw(names), "covers": "investor",
                                                     "amount": positive(draw)}]}
        doc["contracts"].append(contract)
    return doc


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(valid_scenarios())
def test_valid_scenarios_round_trip(document):
    scenario = load_scenario(document)
    check_loaded(scenario)
    assert scenario.sites() == list(document["cohort"]["sites"])
    assert load_scenario(scenario.to_toml()).payers() == scenario.payers()


# ---------------------------------------------------------------------------------------------
# Hostile input: each gets a ScenarioError naming the key, or runs to a finite result
# ---------------------------------------------------------------------------------------------

def _with(path: tuple, value):
    document = copy.deepcopy(FULL_EXAMPLE)
    container = document
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = value
    return document


def _nested(depth: int) -> dict:
    document: dict = {}
    inner = document
    for _ in range(depth):
        inner["x"] = {}
        inner = inner["x"]
    return document


HOSTILE = {
    "dict nested 5,000 deep": (lambda: _nested(5000), "nested more than"),
    "TOML nested 400 deep": (lambda: "x = " + "[" * 400 + "]" * 400, "nested"),
    "TOML tables nested 400 deep": (lambda: "x = " + "{a = " * 400 + "1" + "}" * 400,
                                    "nested"),
    "beta with a vanishing sd": (lambda: _with(("transitions", 0, "effect", "ratio"),
                                               {"beta": {"mean": 0.5, "sd": 1e-300}}),
                                 "transitions[0].effect.ratio: got"),
    "gamma that overflows": (lambda: _with(("programme", "cost_per_participant"),
                                           {"gamma": {"mean": 1e-300, "sd": 1e300}}),
                             "programme.cost_per_participant: got"),
    "monthly of 1e308": (lambda: _with(("flows", 0, "monthly"), 1e308),
                         "flows[0].monthly: got 1e+308, expected a number of at most 1e+15"),
    "lognormal median of 1e300": (lambda: _with(("flows", 0, "monthly"),
                                                {"lognormal": {"median": 1e300, "sigma": 0.5}}),
                                  "flows[0].monthly: got"),
    "prior months of 1e19": (lambda: _with(("cohort", "prior_months"), 1e19),
                             "cohort.prior_months: got 1e+19"),
    "prior months drawn beyond int64": (
        lambda: _with(("cohort", "prior_months"), {"normal": {"mean": 1e18, "sd": 1.0}}),
        "cohort.prior_months: got"),
    "a step-table key of 2**31 - 1": (
        lambda: _with(("transitions", 0, "probability"),
                      {"by_months_in_state": [[0, 0.02], [2**31 - 1, 0.01]]}),
        "transitions[0].probability.by_months_in_state[1][0]: got 2147483647"),
    "2,000,000 unknown keys": (lambda: {**FULL_EXAMPLE, **{f"k{i}": 1 for i in range(2_000_000)}},
                               "more than 1,000,000 values"),
    "200,000 unknown keys": (lambda: {**FULL_EXAMPLE, **{f"k{i}": 1 for i in range(200_000)}},
                             "more problem(s), not listed"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_gets_a_scenario_error_naming_the_key(name):
    make, expected = HOSTILE[name]
    started = time.monotonic()
    with pytest.raises(ScenarioError) as error:
        load_scenario(make())
    assert time.monotonic() - started < 60
    assert expected in str(error.value), str(error.value)[:500]
    assert len(error.value.problems) <= 101
    for problem in error.value.problems:
        assert MESSAGE.match(problem) or "invalid TOML" in problem, problem


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "huge"])
def test_only_regular_files_of_a_readable_size_are_read(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "pipe.toml"
        os.mkfifo(path)
    elif kind == "device":
        path = Path("/dev/zero")
    elif kind == "folder":
        path = tmp_path
    else:
        path = tmp_path / "huge.toml"
        with open(path, "wb") as handle:
            handle.truncate(17 * 2**20)
    for source in (path, str(path)):
        with pytest.raises(ScenarioError, match="regular file|more than"):
            load_scenario(source)


def test_a_large_horizon_is_valid_and_refused_by_the_memory_check(monkeypatch):
    scenario = load_scenario(_with(("months",), 1_000_000))
    monkeypatch.setenv("SIBSIM_MEMORY_LIMIT", "16GiB")
    with pytest.raises(sibsim.RunTooLarge, match="2000 draws .* needs about"):
        sibsim.simulate(scenario, draws=2000, seed=1)


def _work(scenario) -> float:
    """Participant-months of one draw (both arms and the comparison groups)."""
    sizes = sum(site["size"] for site in scenario.data["cohort"]["sites"].values())
    return (2 * sizes + sum(scenario.comparison_sizes())) * scenario.months


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_accepted_mutants_simulate_to_finite_money_or_say_why(document):
    """A mutant that loads runs to finite money, or is refused with words (never a traceback,
    a hang or a silent inf/NaN). Mutants too large to run quickly are only sized."""
    try:
        scenario = load_scenario(document)
    except ScenarioError:
        return
    if _work(scenario) > 2e5:
        memory = sibsim.engine.memory
        assert memory.estimate(scenario, 2, chunk_draws=1).total > 0
        return
    try:
        result = sibsim.simulate(scenario, draws=2, seed=3)
    except (ScenarioError, sibsim.RunTooLarge) as error:
        assert str(error)
        return
    except ValueError as error:  # a run whose money overflowed says so
        assert "not finite" in str(error), error
        return
    for name in ("cost", "savings_npv", "programme_cost", "payment", "npv"):
        assert np.isfinite(result[name].values).all(), name
    irr = result["investor_irr"].values
    assert (np.isnan(irr) | (irr >= -1)).all()
