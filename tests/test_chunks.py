"""Runs in chunks of draws give the numbers of one run, bit for bit.

A run cut into chunks (any sizes, finished in any order, put together by the Assembler)
must equal ``simulate(scenario, draws, seed)``: every variable, coordinate and attribute,
including the variables that summarise over all draws (computed from the chunks' counts,
never per chunk). Checked on random small scenarios with every kind of contract, and on the
built-in and example scenarios.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sibsim
from sibsim.engine import chunks

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def same_result(got: xr.Dataset, expected: xr.Dataset) -> None:
    """Identical values, coordinates and attributes (the creation time aside)."""
    assert list(got.data_vars) == list(expected.data_vars)
    got = got.copy()
    got.attrs = dict(got.attrs, created=expected.attrs.get("created"))
    xr.testing.assert_identical(got, expected)
    for name in expected.variables:
        assert np.array_equal(got[name].values, expected[name].values,
                              equal_nan=got[name].dtype.kind == "f"), name


def chunked(scenario, draws, seed, sizes, order, *, resolution="month", variables=None):
    """The run assembled from chunks of the given sizes, added in the given order."""
    plan, start = [], 0
    for size in sizes:
        if start >= draws:
            break
        plan.append((start, min(draws, start + size)))
        start += size
    if start < draws:
        plan.append((start, draws))
    assembler = chunks.Assembler(draws)
    for i in sorted(range(len(plan)), key=lambda i: order[i % len(order)] + i / 100):
        first, stop = plan[i]
        assembler.add(chunks.simulate_chunk(scenario, first, stop, seed, resolution=resolution,
                                            variables=variables))
    return assembler.result()


@st.composite
def scenarios(draw):
    """Small scenarios with tables, frailty, an economy shock and every kind of contract."""
    months = draw(st.integers(8, 30))
    doc = {
        "months": months, "discount_rate": draw(st.sampled_from([0.0, 0.04])),
        "states": ["out", "in", "edu"],
        "cohort": {"initial_state": "out", "intake_months": draw(st.integers(0, 4)),
                   "prior_months": draw(st.sampled_from([0.0, {"uniform": {"low": 0,
                                                                          "high": 9}}])),
                   "frailty_variance": draw(st.sampled_from([0.0, 0.5])),
                   "sites": {"A": {"size": draw(st.integers(1, 12))},
                             "B": {"size": draw(st.integers(1, 6)), "multiplier": 0.7}}},
        "programme": {"months": 3, "cost_per_participant": 3000.0, "fixed_cost": 500.0},
        "transitions": [
            {"from": "out", "to": "in", "frailty": True,
             "probability": {"by_months_in_state": [[0, 0.2], [4, 0.08]]},
             "effect": {"ratio": {"lognormal": {"median": 1.6, "sigma": 0.3}}, "to_month": 12}},
            {"from": "in", "to": "out", "probability": {"beta": {"mean": 0.1, "sd": 0.03}}},
            {"from": "out", "to": "edu", "probability": 0.03},
        ],
        "flows": [
            {"name": "benefit", "state": "out", "category": "benefits",
             "monthly": {"normal": {"mean": 900.0, "sd": 80.0}},
             "split": {"municipality": {"by_months_in_state": [[0, 0.3], [3, 0.7]]},
                       "state": "rest"}},
            {"name": "tax", "state": "in", "category": "tax", "monthly": -300.0,
             "split": {"state": 1.0}},
        ],
    }
    if draw(st.booleans()):
        doc["economy"] = {"shock_sd": 0.2, "shock_persistence": 0.6,
                          "transitions": [["out", "in"]]}
    tranche = {"party": "investor", "amount": draw(st.floats(1000.0, 30000.0)),
               "return_cap_multiple": 1.4}
    financing = {"tranches": [tranche, {"party": "bank", "amount": 5000.0}],
                 "guarantees": [{"party": "foundation", "covers": "investor",
                                 "amount": 4000.0}]}
    measure = draw(st.integers(1, months))
    doc["contracts"] = [
        {"name": "grant", "type": "grant", "funder": "foundation"},
        {"name": "card", "type": "rate_card", "payer": "municipality",
         "outcomes": [{"name": "job", "state": "in", "sustained_months": 2,
                       "price": {"uniform": {"low": 500.0, "high": 3000.0}}}],
         "payment_lag_months": 1, "financing": financing},
        {"name": "share", "type": "gain_share", "payer": "municipality", "share": 0.5,
         "savings_of": ["municipality"], "settle_every_months": 6,
         "baseline": draw(st.sampled_from(["historical", "comparison_group"])),
         "comparison_size": 7},
        {"name": "tiers", "type": "effect_tiers", "payer": "state", "state": "in",
         "baseline": "comparison_group", "comparison_size": 5, "measure_at_month": measure,
         "tiers": [[0.05, 1000.0], [0.2, 3000.0]]},
    ]
    if doc["contracts"][2]["baseline"] == "historical":
        del doc["contracts"][2]["comparison_size"]
    return doc


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(doc=scenarios(), draws=st.integers(1, 12), seed=st.integers(0, 2**32),
       sizes=st.lists(st.integers(1, 5), min_size=1, max_size=6),
       order=st.lists(st.integers(0, 9), min_size=1, max_size=6),
       resolution=st.sampled_from(["month", "year"]))
def test_chunks_in_any_size_and_order_give_the_whole_run(doc, draws, seed, sizes, order,
                                                         resolution):
    scenario = sibsim.load_scenario(doc)
    whole = sibsim.simulate(scenario, draws=draws, seed=seed, resolution=resolution)
    same_result(chunked(scenario, draws, seed, sizes, order, resolution=resolution), whole)


@pytest.mark.parametrize("source", ["danish-pilot", EXAMPLES / "koto_sib.toml",
                                    EXAMPLES / "dwp_rate_card.toml"],
                         ids=["danish-pilot", "koto", "dwp"])
def test_chunked_built_in_and_example_scenarios(source):
    scenario = sibsim.load_scenario(source)
    whole = sibsim.simulate(scenario, draws=23, seed=5)
    same_result(sibsim.simulate(scenario, draws=23, seed=5, chunk_draws=4), whole)
    same_result(chunked(scenario, 23, 5, [1, 9, 2, 1], [3, 0, 2, 1, 4]), whole)


def test_a_lone_draw_is_the_draw_of_a_longer_run():
    whole = sibsim.simulate("danish-pilot", draws=6, seed=2)
    for d in (0, 5):
        alone = chunks.simulate_chunk(sibsim.load_scenario("danish-pilot"), d, d + 1, 2)
        for name in ("npv", "cost", "investor_multiple", "params"):
            assert np.array_equal(alone.dataset[name].values,
                                  whole[name].isel(draw=[d]).values, equal_nan=True), name
    one = sibsim.simulate("danish-pilot", draws=1, seed=2)
    assert np.array_equal(one["npv"].values, whole["npv"].isel(draw=[0]).values)


def test_the_summary_over_draws_is_not_a_chunk_s():
    """investor_irr_no_root of an assembled run counts over every draw of every chunk."""
    scenario = sibsim.load_scenario("danish-pilot")
    whole = sibsim.simulate(scenario, draws=40, seed=1)
    irr = whole["investor_irr"].values
    drawn = ~np.isnan(whole["investor_multiple"].values)
    share = np.array([np.isnan(irr[drawn[:, c], c]).mean() if drawn[:, c].any() else np.nan
                      for c in range(irr.shape[1])])
    parts = sibsim.simulate(scenario, draws=40, seed=1, chunk_draws=3)
    assert np.array_equal(parts["investor_irr_no_root"].values, share, equal_nan=True)


def test_variables_keep_only_the_named_ones():
    result = sibsim.simulate("danish-pilot", draws=9, seed=1, chunk_draws=4,
                             variables=["params", "npv", "npv"])
    assert list(result.data_vars) == ["npv", "params"]
    assert "month" not in result.dims
    whole = sibsim.simulate("danish-pilot", draws=9, seed=1)
    assert np.array_equal(result["npv"].values, whole["npv"].values)


@pytest.mark.parametrize("variables, message", [
    (["nvp"], "did you mean 'npv'"),
    ([], "expected at least one"),
    (["npv", 3], "got 3"),
])
def test_unknown_variables_are_named(variables, message):
    with pytest.raises(ValueError, match=message):
        sibsim.simulate("danish-pilot", draws=2, variables=variables)


@pytest.mark.parametrize("chunk_draws", [0, -1, 2.5, True, "4"])
def test_chunk_draws_must_be_a_positive_integer(chunk_draws):
    with pytest.raises(ValueError, match="chunk_draws"):
        sibsim.simulate("danish-pilot", draws=2, chunk_draws=chunk_draws)


def test_chunks_that_disagree_on_a_fixed_variable_are_refused():
    scenario = sibsim.load_scenario("danish-pilot")
    first = chunks.simulate_chunk(scenario, 0, 2, 1)
    second = chunks.simulate_chunk(scenario, 2, 4, 1)
    second.dataset["enrolled"] = second.dataset["enrolled"] + 1
    assembler = chunks.Assembler(4)
    assembler.add(first)
    with pytest.raises(RuntimeError, match="enrolled"):
        assembler.add(second)
    with pytest.raises(RuntimeError, match="incomplete"):
        chunks.Assembler(4).result()


def test_chunks_in_flight_on_two_threads_give_the_same_run():
    """Two chunks in flight at once (threads=2) give the same numbers as one at a time."""
    one = sibsim.simulate("danish-pilot", draws=13, seed=5, threads=1, chunk_draws=3)
    two = sibsim.simulate("danish-pilot", draws=13, seed=5, threads=2, chunk_draws=3)
    for name in one.data_vars:
        np.testing.assert_array_equal(one[name].values, two[name].values)


@pytest.mark.parametrize("variables", [["occupancy"], ["cost", "npv"], None])
def test_chunks_written_into_the_run_s_arrays_give_the_whole_run(variables):
    """Chunks write occupancy and cost straight into the run's arrays (Assembler.rows), a
    lone last draw among two (it has no rows of its own): the same numbers as one chunk."""
    whole = sibsim.simulate("danish-pilot", draws=13, seed=4, variables=variables)
    for threads in (1, 2):
        parts = sibsim.simulate("danish-pilot", draws=13, seed=4, chunk_draws=4,
                                threads=threads, variables=variables)
        assert list(parts.data_vars) == list(whole.data_vars)
        for name in whole.data_vars:
            np.testing.assert_array_equal(parts[name].values, whole[name].values)
    if variables is None:  # the shares and the comparison arm are where they belong
        occupancy = whole["occupancy"].sum("state").values
        assert np.allclose(occupancy[:, :, whole["enrolled"].values > 0], 1.0)


def test_the_assembler_copies_nothing_written_in_place():
    assembler = chunks.Assembler(4)
    rows = assembler.rows(0, 2)("cost", (3,), np.dtype(np.float64))
    rows[...] = 1.0
    assert np.shares_memory(rows, assembler.arrays["cost"])
    with pytest.raises(ValueError, match="disagree on the shape of 'cost'"):
        assembler.rows(2, 4)("cost", (5,), np.dtype(np.float64))
