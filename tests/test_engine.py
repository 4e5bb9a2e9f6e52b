"""Tests of the trajectory engine: reference agreement, exact oracles, determinism, ledger."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import simulate_reference
from strategies import distinct_names

import sibsim
from sibsim.engine import exact, run_model
from sibsim.engine.rng import participant_key, uniform, uniform_at, uniform_np


def base_scenario(**changes) -> dict:
    """A small three-state scenario with tables, frailty, an effect and a rate card."""
    raw = {
        "name": "engine test",
        "months": 48,
        "discount_rate": 0.035,
        "states": ["benefits", "employed", "exited"],
        "cohort": {
            "initial_state": "benefits",
            "prior_months": {"uniform": {"low": 0, "high": 30}},
            "intake_months": 6,
            "frailty_variance": 0.4,
            "sites": {"A": {"size": 20, "multiplier": 0.7}, "B": {"size": 15}},
        },
        "programme": {"months": 6, "cost_per_participant": 30000, "fixed_cost": 1000},
        "transitions": [
            {"from": "benefits", "to": "employed",
             "probability": {"by_months_in_state": [[0, 0.08], [6, 0.05], [18, 0.02]]},
             "frailty": True,
             "effect": {"ratio": {"lognormal": {"median": 1.8, "sigma": 0.3}},
                        "from_month": 0, "to_month": 12}},
            {"from": "employed", "to": "benefits",
             "probability": {"by_months_in_state": [[0, 0.09], [12, 0.04]]}},
            {"from": "benefits", "to": "exited", "probability": 0.01},
            {"from": "employed", "to": "exited", "probability": {"beta": {"mean": 0.01, "sd": 0.005}}},
        ],
        "flows": [
            {"name": "benefit", "state": "benefits", "category": "benefits", "monthly": 12000,
             "split": {"municipality": {"by_months_in_state": [[0, 0.2], [1, 0.6], [12, 0.8]]},
                       "state": "rest"}},
            {"name": "tax", "state": "employed", "category": "tax",
             "monthly": {"normal": {"mean": -6000, "sd": 500}},
             "split": {"municipality": 0.3, "state": 0.7}},
        ],
        "contracts": [
            {"name": "card", "type": "rate_card", "payer": "municipality",
             "outcomes": [{"name": "s3", "state": "employed", "sustained_months": 3, "price": 20000},
                          {"name": "c6", "state": "employed", "cumulative_months": 6, "price": 15000}],
             "window_months": 24, "cap_per_participant": 30000},
        ],
    }
    raw.update(changes)
    return raw


@pytest.fixture(scope="module")
def scenario():
    return sibsim.load_scenario(base_scenario())


# ---------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------

def test_generator_numba_and_numpy_agree_bit_for_bit():
    draws = np.arange(50)[:, None]
    months = np.arange(40)[None, :]
    vec = uniform_np(12345, draws, 7, months, 3)
    loop = np.array([[uniform(12345, d, 7, m, 3) for m in range(40)] for d in range(50)])
    assert np.array_equal(vec, loop)
    assert np.all((vec > 0) & (vec < 1))
    key = participant_key(np.uint64(12345), 4, 7)
    assert uniform_at(np.uint64(key), 9, 3) == vec[4, 9]


def test_generator_is_uniform_and_streams_independent():
    from scipy import stats

    u = uniform_np(1, np.arange(100_000), 0, 0, 1)
    v = uniform_np(1, np.arange(100_000), 0, 0, 2)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.02


# ---------------------------------------------------------------------------------------
# Agreement with the plain-Python reference, draw for draw
# ---------------------------------------------------------------------------------------

def _compare_with_reference(scenario, draws=4, seed=3, group="cohort"):
    ledger, _, _ = run_model(scenario, draws, seed)
    ref = simulate_reference(scenario, draws, seed, group=group)
    if group == "cohort":
        occupancy, cost = ledger.occupancy, ledger.cost
        for r, due in enumerate(ledger.rate_card_due.values()):
            np.testing.assert_allclose(due, ref["due"][:, r], rtol=1e-12, atol=1e-6)
    else:
        occupancy = ledger.comparison[group].occupancy[:, None]
        cost = ledger.comparison[group].cost[:, None]
    assert np.array_equal(occupancy, ref["occupancy"])
    scale = np.abs(ref["cost"]).max() + 1.0
    np.testing.assert_allclose(cost, ref["cost"], rtol=0, atol=1e-9 * scale)


def test_kernel_equals_reference(scenario):
    _compare_with_reference(scenario)


def test_kernel_equals_reference_with_economy_shock():
    raw = base_scenario(economy={"shock_sd": 0.3, "shock_persistence": 0.8,
                                 "transitions": [["benefits", "employed"]]})
    _compare_with_reference(sibsim.load_scenario(raw), draws=3)


def test_kernel_equals_reference_for_comparison_group():
    raw = base_scenario()
    raw["contracts"] = [{"name": "gs", "type": "gain_share", "payer": "municipality",
                         "share": 0.5, "baseline": "comparison_group", "comparison_size": 23}]
    _compare_with_reference(sibsim.load_scenario(raw), draws=3, group=23)


def test_kernel_equals_reference_with_certain_and_switched_off_transitions():
    raw = base_scenario()
    raw["transitions"] = [
        {"from": "benefits", "to": "employed", "probability": 1.0, "frailty": True,
         "effect": {"ratio": 0.0, "from_month": 0, "to_month": 3}},
        {"from": "benefits", "to": "exited", "probability": 1.0},
        {"from": "employed", "to": "benefits", "probability": {"by_months_in_state": [[0, 0.0], [4, 1.0]]}},
    ]
    raw["cohort"]["frailty_variance"] = 0.0
    _compare_with_reference(sibsim.load_scenario(raw), draws=3)


@settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(
    p_job=st.floats(0.0, 1.0), p_loss=st.floats(0.0, 1.0), p_exit=st.floats(0.0, 0.2),
    ratio=st.floats(0.0, 5.0), variance=st.floats(0.0, 2.0), prior=st.integers(0, 40),
    intake=st.integers(0, 10), key=st.integers(0, 30), seed=st.integers(0, 2**40),
    shock=st.one_of(st.none(), st.tuples(st.floats(0.0, 1.0), st.floats(-0.99, 0.99))),
)
def test_kernel_equals_reference_property(p_job, p_loss, p_exit, ratio, variance, prior,
                                          intake, key, seed, shock):
    raw = base_scenario(months=30)
    raw["cohort"].update(prior_months=prior, intake_months=intake, frailty_variance=variance,
                         sites={"A": {"size": 6, "multiplier": 0.5}, "B": {"size": 5}})
    raw["programme"]["months"] = 6
    raw["transitions"] = [
        {"from": "benefits", "to": "employed",
         "probability": {"by_months_in_state": [[0, p_job], [key + 1, p_job / 2]]},
         "frailty": True, "effect": {"ratio": ratio, "from_month": 1, "to_month": 9}},
        {"from": "employed", "to": "benefits", "probability": p_loss},
        {"from": "benefits", "to": "exited", "probability": p_exit},
    ]
    if shock is not None:
        raw["economy"] = {"shock_sd": shock[0], "shock_persistence": shock[1],
                          "transitions": [["benefits", "employed"], ["employed", "benefits"]]}
    _compare_with_reference(sibsim.load_scenario(raw), draws=2, seed=seed)


# ---------------------------------------------------------------------------------------
# Exact oracles
# ---------------------------------------------------------------------------------------

def two_state(p: float, months: int, size: int) -> dict:
    return {
        "name": "two-state", "months": months, "states": ["out", "in"],
        "cohort": {"initial_state": "out", "sites": {"all": {"size": size}}},
        "programme": {"months": 1},
        "transitions": [{"from": "out", "to": "in", "probability": p}],
        "flows": [{"name": "b", "state": "out", "category": "benefits", "monthly": 100,
                   "split": {"municipality": 1.0}}],
    }


def test_two_state_chain_matches_closed_form():
    """P(in at month t) = 1 - (1 - p)**t: a one-way two-state Markov chain."""
    p, months, size, draws = 0.07, 36, 400, 200
    ledger, _, _ = run_model(sibsim.load_scenario(two_state(p, months, size)), draws, 11)
    share = ledger.occupancy[:, 0, :, 1].sum(0) / (size * draws)
    t = np.arange(months)
    expected = 1 - (1 - p) ** t
    se = np.sqrt(expected * (1 - expected) / (size * draws))
    assert np.all(np.abs(share - expected) <= 5 * se + 1e-12)


def test_duration_dependent_competing_risks_match_exact_occupancy(scenario):
    """Mean occupancy over many draws equals the exact expectation (no parameter uncertainty)."""
    raw = base_scenario()
    raw["transitions"][0]["effect"]["ratio"] = 1.6
    raw["transitions"][3]["probability"] = 0.01
    raw["flows"][1]["monthly"] = -6000
    sc = sibsim.load_scenario(raw)
    draws = 600
    ledger, _, _ = run_model(sc, draws, 5)
    n = ledger.enrolled[None, :, None]
    for arm_index, arm in enumerate(("treatment", "counterfactual")):
        expected = exact.expected_occupancy(sc, arm=arm)
        counts = ledger.occupancy[:, arm_index]
        mean = counts.mean(0)
        # Participants are exchangeable across draws; the sd of a draw's count bounds the error.
        se = counts.std(0) / math.sqrt(draws) + 1e-9
        z = np.abs(mean - expected) / se
        assert np.mean(z < 3.5) > 0.98, arm
        assert np.all(z < 6), arm
    assert n.shape[1] == sc.data["months"]


# ---------------------------------------------------------------------------------------
# Common random numbers, determinism
# ---------------------------------------------------------------------------------------

def test_effect_ratio_one_gives_identical_arms_and_zero_savings():
    raw = base_scenario()
    raw["transitions"][0]["effect"]["ratio"] = 1.0
    result = sibsim.simulate(sibsim.load_scenario(raw), draws=30, seed=2)
    occ = result["occupancy"]
    assert np.array_equal(occ.sel(arm="treatment").values, occ.sel(arm="counterfactual").values)
    assert np.all(result["savings_npv"].values == 0.0)


def test_results_do_not_depend_on_threads_or_chunks(scenario, monkeypatch):
    engine = sys.modules["sibsim.engine.simulate"]  # the module (the package's name is the function)

    one = sibsim.simulate(scenario, draws=40, seed=9, threads=1)
    two = sibsim.simulate(scenario, draws=40, seed=9, threads=2)
    monkeypatch.setattr(engine, "CHUNK_DRAWS", 7)
    chunked = sibsim.simulate(scenario, draws=40, seed=9, threads=2)
    for name in ("occupancy", "cost", "payment", "npv", "params", "savings_npv"):
        assert np.array_equal(one[name].values, two[name].values, equal_nan=True), name
        assert np.array_equal(one[name].values, chunked[name].values, equal_nan=True), name


def test_draw_prefix_and_repeat(scenario):
    ten = sibsim.simulate(scenario, draws=10, seed=4)
    five = sibsim.simulate(scenario, draws=5, seed=4)
    again = sibsim.simulate(scenario, draws=10, seed=4)
    other = sibsim.simulate(scenario, draws=10, seed=5)
    for name in ("occupancy", "cost", "npv", "params"):
        assert np.array_equal(ten[name].isel(draw=slice(0, 5)).values, five[name].values,
                              equal_nan=True), name
        assert np.array_equal(ten[name].values, again[name].values, equal_nan=True), name
    assert not np.array_equal(ten["occupancy"].values, other["occupancy"].values)


def test_higher_effect_never_delays_the_first_exit():
    """With common random numbers a larger hazard can only bring a first spell's exit forward."""
    raw = base_scenario()
    raw["transitions"] = raw["transitions"][:1]
    raw["transitions"][0]["effect"] = {"ratio": 3.0, "from_month": 0, "to_month": 48}
    ledger, _, _ = run_model(sibsim.load_scenario(raw), 20, 1)
    employed = ledger.occupancy[:, :, :, 1]  # one-way: employed is absorbing here
    assert np.all(employed[:, 0] >= employed[:, 1])


# ---------------------------------------------------------------------------------------
# Ledger
# ---------------------------------------------------------------------------------------

def test_costs_equal_occupancy_times_amounts_without_tables():
    raw = base_scenario()
    raw["flows"][0]["split"] = {"municipality": 0.8, "state": "rest"}
    sc = sibsim.load_scenario(raw)
    result = sibsim.simulate(sc, draws=8, seed=1)
    occ = result["occupancy"] * result["enrolled"]
    benefit = result["cost"].sel(category="benefits").sum("payer")
    np.testing.assert_allclose(benefit, occ.sel(state="benefits") * 12000, rtol=1e-12, atol=1e-6)
    municipality = result["cost"].sel(category="benefits", payer="municipality")
    np.testing.assert_allclose(municipality, 0.8 * benefit, rtol=1e-12, atol=1e-6)
    tax = result["cost"].sel(category="tax").sum("payer")
    monthly = result["params"].sel(param="flows[1].monthly")
    np.testing.assert_allclose(tax, occ.sel(state="employed") * monthly, rtol=1e-12, atol=1e-6)


def test_split_shares_sum_to_the_flow(scenario):
    result = sibsim.simulate(scenario, draws=5, seed=1)
    by_payer = result["cost"].sel(category="benefits").sum("payer")
    occ = (result["occupancy"] * result["enrolled"]).sel(state="benefits")
    np.testing.assert_allclose(by_payer, occ * 12000, rtol=1e-12, atol=1e-6)


def test_savings_npv_is_discounted_difference(scenario):
    result = sibsim.simulate(scenario, draws=5, seed=1)
    t = result["month"].values
    discount = 1.035 ** (-t / 12)
    diff = result["cost"].sel(arm="counterfactual") - result["cost"].sel(arm="treatment")
    expected = (diff * discount[None, :, None, None]).sum("month")
    np.testing.assert_allclose(result["savings_npv"], expected.transpose(*result["savings_npv"].dims),
                               rtol=1e-9, atol=1e-6)


def test_programme_cost_is_spread_over_programme_months(scenario):
    result = sibsim.simulate(scenario, draws=3, seed=1)
    total = result["programme_cost"].sum("month")
    np.testing.assert_allclose(total, 35 * 30000 + 1000)
    # The first month: fixed cost plus one programme month of those enrolled at month 0.
    entered = int(result["enrolled"].values[0])
    np.testing.assert_allclose(result["programme_cost"].isel(month=0), 1000 + entered * 5000)


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------

def test_result_layout_and_provenance(scenario):
    result = sibsim.simulate(scenario, draws=6, seed=8)
    assert list(result["occupancy"].dims) == ["draw", "arm", "month", "state"]
    assert list(result["npv"].dims) == ["draw", "contract", "party"]
    for name, var in result.data_vars.items():
        assert var.attrs.get("units") and var.attrs.get("long_name"), name
    assert sibsim.load_scenario(result.attrs["scenario"]) == scenario
    assert result.attrs["seed"] == 8 and result.attrs["draws"] == 6
    assert result.attrs["sibsim_version"] == sibsim.__version__
    assert "transitions[0].effect.ratio" in result["param"].values
    np.testing.assert_allclose(result["occupancy"].sum("state"), 1.0)


def test_year_resolution_aggregates_months(scenario):
    monthly = sibsim.simulate(scenario, draws=4, seed=2)
    yearly = sibsim.simulate(scenario, draws=4, seed=2, resolution="year")
    assert yearly.sizes["year"] == 4
    np.testing.assert_allclose(yearly["cost"].sum("year"), monthly["cost"].sum("month"))
    np.testing.assert_allclose(
        yearly["occupancy"].isel(year=1), monthly["occupancy"].isel(month=slice(12, 24)).mean("month")
    )
    np.testing.assert_allclose(yearly["npv"], monthly["npv"])


def test_partial_last_year_is_kept():
    raw = base_scenario(months=30)
    yearly = sibsim.simulate(sibsim.load_scenario(raw), draws=2, seed=2, resolution="year")
    assert yearly.sizes["year"] == 3


@pytest.mark.parametrize("kwargs, key", [
    ({"draws": 0}, "draws"), ({"draws": 2.5}, "draws"), ({"seed": -1}, "seed"),
    ({"seed": "x"}, "seed"), ({"threads": 0}, "threads"), ({"resolution": "week"}, "resolution"),
])
def test_bad_options_name_the_option(scenario, kwargs, key):
    with pytest.raises(ValueError, match=key):
        sibsim.simulate(scenario, **{"draws": 2, **kwargs})


def test_memory_does_not_grow_with_participants():
    """Peak Python-side allocation for 2000 participants is that for 50, plus at most the
    frailty and prior months of a kernel call (two numbers per participant-draw) and the
    samplers' temporaries, bounded whatever the cohort (nothing participants x months)."""
    import tracemalloc

    from sibsim.engine.sampling import MEMBERS_BLOCK

    def peak(size):
        raw = base_scenario()
        raw["cohort"]["sites"] = {"A": {"size": size}}
        sc = sibsim.load_scenario(raw)
        run_model(sc, 20, 1)  # compile outside the measurement
        tracemalloc.start()
        run_model(sc, 20, 1)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(50), peak(2000)
    members = 2 * 8 * 20 * 2000
    scratch = 24 * 8 * MEMBERS_BLOCK
    assert large < small * 1.2 + 200_000 + members + scratch


# ---------------------------------------------------------------------------------------
# The kernel boundary: records against their declarations and the kernel's reads
# ---------------------------------------------------------------------------------------

def _boundary_scenarios():
    with_economy = base_scenario(economy={"shock_sd": 0.3, "shock_persistence": 0.8,
                                          "transitions": [["benefits", "employed"]]})
    with_groups = base_scenario()
    with_groups["contracts"] = with_groups["contracts"] + [
        {"name": "gs", "type": "gain_share", "payer": "municipality", "share": 0.5,
         "baseline": "comparison_group", "comparison_size": 23},
        {"name": "tiers", "type": "effect_tiers", "payer": "municipality", "state": "employed",
         "baseline": "historical", "measure_at_month": 24, "tiers": [[0.0, 0.0], [0.1, 1e5]]},
    ]
    no_tables = two_state(0.1, 12, 5)
    no_tables["contracts"] = [{"name": "grant", "type": "grant", "funder": "foundation"}]
    return {"base": base_scenario(), "economy": with_economy, "groups": with_groups,
            "no_tables": no_tables, "danish-pilot": "danish-pilot"}


@pytest.mark.parametrize("name", list(_boundary_scenarios()))
def test_records_match_their_declarations(name, monkeypatch):
    """What the kernel receives has every field's dtype, ndim, C order and shared sizes."""
    from sibsim.engine import records
    from sibsim.engine.kernels.trajectories import simulate_group

    module = sys.modules["sibsim.engine.simulate"]
    calls = []

    def checked(*args):
        calls.append(args)
        *record_args, first, stop = args
        assert [type(a) for a in record_args] == [records.Group, records.Members,
                                                  records.TransitionLayout,
                                                  records.MonthsInState, records.LedgerCells,
                                                  records.RateCards, records.DrawArrays,
                                                  records.Outputs, records.Workspace]
        assert records.layout_problems(*record_args) == []
        assert type(first) is type(stop) is np.int64
        return simulate_group(*args)

    monkeypatch.setattr(module, "simulate_group", checked)
    scenario = sibsim.load_scenario(_boundary_scenarios()[name])
    monkeypatch.setattr(module, "CHUNK_DRAWS", 3)
    run_model(scenario, 5, 1)
    groups = 1 + len({c["comparison_size"] for c in scenario.data["contracts"]
                      if c.get("baseline") == "comparison_group"})
    assert len(calls) == 2 * groups  # two chunks of draws, every group in each


def test_layout_check_finds_drift():
    from sibsim.engine import records
    from sibsim.engine.compile import compile_scenario

    compiled = compile_scenario(sibsim.load_scenario(base_scenario()))
    t, b = compiled.transitions, compiled.buckets
    assert records.layout_problems(t, b, compiled.cells) == []
    broken = {
        "dtype": t._replace(frailty=t.frailty.astype(np.float64)),
        "ndim": t._replace(destination=t.destination[:, None]),
        "order": t._replace(outgoing=np.repeat(t.outgoing, 2)[::2]),
        "size": t._replace(effect_to_month=t.effect_to_month[:-1]),
        "derived size": t._replace(outgoing_start=t.outgoing_start[:-1]),
        "scalar": t._replace(months=float(t.months)),
    }
    for what, record in broken.items():
        problems = records.layout_problems(record, b, compiled.cells)
        assert len(problems) >= 1 and all(p.startswith("TransitionLayout.") for p in problems), what
    assert records.layout_problems(t, b._replace(last_key=b.last_key + 1))  # bucket_of's size


def _kernel_functions():
    import ast
    import inspect

    from sibsim.engine import sampling
    from sibsim.engine.kernels import effects, trajectories

    trees = [ast.parse(inspect.getsource(module)) for module in (trajectories, effects)]
    # The members' sampler reads the kernel's records too (before the kernel, in numpy).
    trees += [ast.parse(inspect.getsource(f))
              for f in (sampling.draw_members, sampling.draw_member_rows)]
    return [node for tree in trees for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef)]


def test_kernels_read_only_declared_fields():
    """Every ``record.field`` the kernel source reads is declared, and every field is read."""
    import ast

    from sibsim.engine import records

    read = {name: set() for name in records.KERNEL_PARAMETERS}
    for function in _kernel_functions():
        parameters = {a.arg for a in function.args.args}
        local_records = {n.targets[0].id: n.value.func.id for n in ast.walk(function)
                         if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                         and isinstance(n.value.func, ast.Name)
                         and n.value.func.id in ("Participant", "new_participant")}
        for node in ast.walk(function):
            if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
                continue
            owner = node.value.id
            if owner in records.KERNEL_PARAMETERS and (owner in parameters or owner in local_records):
                fields = records.declaration(records.KERNEL_PARAMETERS[owner])
                assert node.attr in fields, f"{function.name}: {owner}.{node.attr} is not declared"
                read[owner].add(node.attr)
            elif owner in parameters:
                # A plain array parameter: only its shape. A record under another name
                # would be read here unchecked, so it fails instead.
                assert node.attr == "shape", f"{function.name}: {owner}.{node.attr}"
    for name, record in records.KERNEL_PARAMETERS.items():
        unread = set(records.declaration(record)) - read[name]
        assert not unread, f"{record.__name__} declares fields no kernel reads: {sorted(unread)}"


def test_kernel_entry_takes_the_records_by_their_names():
    import inspect

    from sibsim.engine import records
    from sibsim.engine.kernels.trajectories import simulate_group

    names = list(inspect.signature(simulate_group.py_func).parameters)
    assert names == ["group", "members", "transitions", "buckets", "cells", "rate_cards",
                     "draws", "out", "work", "first", "stop"]
    assert all(n in records.KERNEL_PARAMETERS for n in names[:-2])
    for function in _kernel_functions():
        assert len(function.args.args) <= 12, function.name


def test_hot_loop_is_compiled_without_reference_counting():
    """Binding records in the hot loop must not count their arrays (a tenfold slowdown)."""
    from sibsim.engine.kernels.trajectories import simulate_group

    assert simulate_group.targetoptions.get("_nrt") is False


def test_records_document_every_field():
    from sibsim.engine import records

    for record in records.KERNEL_PARAMETERS.values():
        doc = record.__doc__
        assert "Attributes\n----------" in doc, record.__name__
        words = " ".join(doc.split())
        for name, field in records.declaration(record).items():
            assert f"\n{name} : " in doc and field.meaning in words, (record.__name__, name)
            if field.dims:
                assert f"shape ({', '.join(field.dims)}" in doc, (record.__name__, name)


def test_kernel_cache_is_reused_by_another_process(scenario):
    """The records' types pickle into numba's cache: a new process loads, never recompiles."""
    import subprocess

    from sibsim.engine.kernels import trajectories

    run_model(scenario, 2, 1)  # compiled here (or loaded), so the cache is written

    # One signature (a second, from an argument's type, doubles the compile time); the
    # helpers are inlined into simulate_group, never compiled on their own.
    assert len(trajectories.simulate_group.signatures) <= 1
    assert not trajectories.spell_exit.signatures and not trajectories.cumulate.signatures
    code = (
        "import sibsim\n"
        "from sibsim.engine.kernels.trajectories import simulate_group, spell_exit\n"
        f"sibsim.simulate(sibsim.load_scenario({base_scenario()!r}), draws=2, seed=1)\n"
        "print(sum(simulate_group.stats.cache_misses.values()),"
        " sum(spell_exit.stats.cache_misses.values()),"
        " sum(simulate_group.stats.cache_hits.values()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env=dict(os.environ))
    misses_group, misses_helper, hits = map(int, done.stdout.split())
    assert (misses_group, misses_helper, hits) == (0, 0, 1), done.stderr


# ---------------------------------------------------------------------------------------
# Names that key paths must quote: spaces, dots, Danish letters
# ---------------------------------------------------------------------------------------

PLAIN = {"sites": ("A", "B"), "payers": ("municipality", "state"),
         "categories": ("benefits", "tax"), "funder": "foundation"}
DANISH = {"sites": ("Nørre Snede", "St. Heddinge"), "payers": ("Region Midtjylland", "Kommune.Vest"),
          "categories": ("sygedagpenge ø", "skat.A-indkomst"), "funder": "Fonden Ø"}


def named_scenario(names) -> dict:
    """The base scenario with its sites, payers and categories named by ``names``.

    Every number at a path that contains a name is a constant (a table or a number), so that
    the renamed scenarios share their random numbers (a distribution's are keyed by its path).
    """
    (site_a, site_b), (payer_a, payer_b), (benefits, tax) = (
        names["sites"], names["payers"], names["categories"])
    raw = base_scenario()
    raw["cohort"]["sites"] = {site_a: {"size": 20, "multiplier": 0.7}, site_b: {"size": 15}}
    raw["flows"] = [
        {"name": "benefit", "state": "benefits", "category": benefits, "monthly": 12000,
         "split": {payer_a: {"by_months_in_state": [[0, 0.2], [1, 0.6], [12, 0.8]]},
                   payer_b: "rest"}},
        {"name": "tax", "state": "employed", "category": tax,
         "monthly": {"normal": {"mean": -6000, "sd": 500}},
         "split": {payer_a: 0.3, payer_b: 0.7}},
    ]
    raw["contracts"] = [
        {"name": "grant", "type": "grant", "funder": names["funder"]},
        {"name": "fees", "type": "fee_for_service", "payer": payer_a},
    ]
    return raw


def test_names_that_need_quoting_simulate_like_plain_names():
    danish = sibsim.load_scenario(named_scenario(DANISH))
    assert 'cohort.sites."St. Heddinge".multiplier' in danish.parameters()
    plain = sibsim.simulate(named_scenario(PLAIN), draws=6, seed=3)
    renamed = sibsim.simulate(danish, draws=6, seed=3)
    assert list(renamed["payer"].values) == list(DANISH["payers"])
    assert list(renamed["category"].values) == list(DANISH["categories"])
    assert set(plain.data_vars) == set(renamed.data_vars)
    for name in plain.data_vars:
        numeric = plain[name].dtype.kind in "fc"  # NaN only in numbers (role is text)
        assert np.array_equal(plain[name].values, renamed[name].values, equal_nan=numeric), name
    assert np.any(renamed["cost"].values != 0.0)
    _compare_with_reference(danish, draws=2)


# The fixed names of named_scenario ("foundation" funds the grant) are not drawn.
@settings(deadline=None, max_examples=10, suppress_health_check=[HealthCheck.too_slow])
@given(names=distinct_names(6, exclude=("foundation", "provider")))
def test_any_names_simulate_like_plain_names(names):
    generated = {"sites": tuple(names[0:2]), "payers": tuple(names[2:4]),
                 "categories": tuple(names[4:6]), "funder": "foundation"}
    plain, _, _ = run_model(sibsim.load_scenario(named_scenario(PLAIN)), 2, 4)
    other, _, _ = run_model(sibsim.load_scenario(named_scenario(generated)), 2, 4)
    assert np.array_equal(plain.occupancy, other.occupancy)
    assert np.array_equal(plain.cost, other.cost)
    assert np.array_equal(plain.programme_cost, other.programme_cost)
