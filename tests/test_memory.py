"""Memory as a limit: estimated before allocating, refused with advice, bounded when streamed.

The estimate must hold what a run allocates (measured with tracemalloc, which sees every
numpy array), must not depend on the draws of a streamed run, and a run that does not fit
must be refused before anything large is allocated, with a message that names the estimate,
the memory available and what to change.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np
import pytest

import sibsim
from sibsim.cli import main
from sibsim.engine import memory

TINY = {
    "months": 24, "states": ["out", "in"],
    "cohort": {"initial_state": "out", "sites": {"A": {"size": 30}}},
    "programme": {"months": 6, "cost_per_participant": 1000.0},
    "transitions": [{"from": "out", "to": "in", "probability": 0.05}],
    "flows": [{"name": "b", "state": "out", "category": "benefits", "monthly": 100.0,
               "split": {"municipality": 1.0}}],
    "contracts": [{"name": "card", "type": "rate_card", "payer": "municipality",
                   "outcomes": [{"name": "o", "state": "in", "sustained_months": 2,
                                 "price": 10.0}]}],
}


def traced_peak(run) -> int:
    """Peak bytes allocated (numpy arrays included) while ``run()`` runs."""
    run()  # compile and import outside the measurement
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("draws, chunk", [(600, None), (600, 600), (600, 50)])
def test_the_estimate_holds_what_a_run_allocates(draws, chunk):
    scenario = sibsim.load_scenario("danish-pilot")
    used = chunk or memory.chunk_draws_for(scenario, draws)
    found = memory.estimate(scenario, draws, chunk_draws=min(used, draws), threads=1)
    peak = traced_peak(lambda: sibsim.simulate(scenario, draws=draws, seed=1, threads=1,
                                               chunk_draws=chunk))
    assert peak <= found.total
    assert found.total <= 4 * peak + 50 * 2**20  # an estimate, not a wild guess


def test_a_streamed_run_s_memory_depends_on_the_chunk_not_the_draws(tmp_path):
    pytest.importorskip("zarr")
    scenario = sibsim.load_scenario("danish-pilot")
    peaks = {}
    for draws in (100, 400):
        def run(draws=draws):
            store = tmp_path / f"run-{draws}-{time.monotonic_ns()}.zarr"
            sibsim.simulate_to_zarr(scenario, store, draws=draws, seed=1, chunk_draws=50)
        peaks[draws] = traced_peak(run)
    in_memory = traced_peak(lambda: sibsim.simulate(scenario, draws=400, seed=1,
                                                    chunk_draws=50))
    assert peaks[400] < 1.3 * peaks[100]
    assert peaks[400] < 0.5 * in_memory
    streamed = [memory.estimate(scenario, d, chunk_draws=50, streamed=True, in_flight=2).total
                for d in (200, 10**6)]
    assert streamed[0] == streamed[1]


def test_results_grow_with_the_draws_and_shrink_with_the_variables():
    scenario = sibsim.load_scenario("danish-pilot")
    small = memory.estimate(scenario, 1000, chunk_draws=100)
    large = memory.estimate(scenario, 10_000, chunk_draws=100)
    assert large.by_variable["cost"] == 10 * small.by_variable["cost"]
    assert large.results > 9 * small.results
    npv = memory.estimate(scenario, 10_000, chunk_draws=100, variables=["npv"])
    assert npv.results < large.results / 50
    assert large.by_variable["cost"] == max(large.by_variable.values())


def test_a_run_too_large_is_refused_before_allocating(monkeypatch):
    monkeypatch.setenv("SIBSIM_MEMORY_LIMIT", "50MiB")
    started = time.monotonic()
    with pytest.raises(sibsim.RunTooLarge) as error:
        sibsim.simulate("danish-pilot", draws=20_000, seed=1)
    assert time.monotonic() - started < 10  # refused up front, not after simulating
    message = str(error.value)
    for part in ("20000 draws", "needs about", "50 MiB available", "fewer draws",
                 "variables=", "zarr", "cost"):
        assert part in message, (part, message)


def test_a_horizon_of_a_million_months_is_refused_not_allocated(monkeypatch):
    doc = dict(TINY, months=1_000_000)
    monkeypatch.setenv("SIBSIM_MEMORY_LIMIT", "8GiB")
    with pytest.raises(sibsim.RunTooLarge, match="needs about"):
        sibsim.simulate(doc, draws=2000, seed=1)


def test_a_cohort_of_a_billion_is_refused_with_what_to_change(monkeypatch):
    doc = {**TINY, "cohort": {"initial_state": "out", "sites": {"A": {"size": 10**9}}}}
    monkeypatch.setenv("SIBSIM_MEMORY_LIMIT", "8GiB")
    with pytest.raises(sibsim.RunTooLarge, match="even one draw does not fit: make the cohort"):
        sibsim.simulate(doc, draws=10, seed=1)


def test_the_memory_limit_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("SIBSIM_MEMORY_LIMIT", "off")
    assert memory.available_memory() is None
    assert sibsim.simulate(TINY, draws=3, seed=1).sizes["draw"] == 3


def test_the_machine_s_memory_is_known_and_positive(monkeypatch):
    monkeypatch.delenv("SIBSIM_MEMORY_LIMIT", raising=False)
    available = memory.available_memory()
    assert available is None or available > 0


@pytest.mark.parametrize("text, expected", [("8GiB", 8 * 2**30), ("512 MB", 512 * 10**6),
                                            ("1e9", 10**9), ("none", None)])
def test_memory_limits_are_read_in_words(text, expected):
    assert memory.parse_bytes(text) == expected


def test_a_malformed_memory_limit_is_named(monkeypatch):
    monkeypatch.setenv("SIBSIM_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="SIBSIM_MEMORY_LIMIT: got 'lots'"):
        sibsim.simulate(TINY, draws=2, seed=1)


def test_the_default_chunk_depends_on_the_scenario_only():
    scenario = sibsim.load_scenario("danish-pilot")
    chunk = memory.chunk_draws_for(scenario, 100_000)
    assert 1 <= chunk < 100_000
    assert memory.estimate(scenario, 100_000, chunk_draws=chunk).chunk <= memory.CHUNK_BUDGET
    assert memory.chunk_draws_for(scenario, 10) == 10


def test_kernel_calls_stay_short_for_large_cohorts(monkeypatch):
    """Ctrl-C is acted on between kernel calls: a large cohort gets few draws per call."""
    engine = sys.modules["sibsim.engine.simulate"]

    big = {**TINY, "cohort": {"initial_state": "out", "sites": {"A": {"size": 300_000}}}}
    scenario = sibsim.load_scenario(big)
    assert memory.kernel_batch(scenario) == 1
    assert memory.kernel_batch(sibsim.load_scenario(TINY)) == engine.CHUNK_DRAWS
    calls = []
    original = engine.run_group

    def counting(group, compiled, arrays, due=None, **outputs):
        calls.append(arrays.base_hazard.shape[0])
        return original(group, compiled, arrays, due, **outputs)

    monkeypatch.setattr(engine, "run_group", counting)
    medium = {**TINY, "cohort": {"initial_state": "out", "sites": {"A": {"size": 50_000}}}}
    sibsim.simulate(medium, draws=9, seed=1)
    assert max(calls) <= memory.KERNEL_BUDGET // 100_000 and len(calls) >= 3


def test_validate_warns_about_runs_that_cannot_fit(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SIBSIM_MEMORY_LIMIT", "100MiB")
    assert main(["validate", "danish-pilot", "--draws", "20000"]) == 0
    captured = capsys.readouterr()
    assert "valid" in captured.out
    assert "warning: a run of 20000 draws" in captured.err and "zarr" in captured.err
    assert main(["validate", "danish-pilot", "--draws", "100"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_cli_refuses_a_run_too_large_with_exit_code_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SIBSIM_MEMORY_LIMIT", "50MiB")
    out = tmp_path / "big.nc"
    assert main(["run", "danish-pilot", "--draws", "50000", "--out", str(out)]) == 2
    assert "needs about" in capsys.readouterr().err
    assert not out.exists()


def test_estimates_are_words_a_person_reads():
    assert memory.format_bytes(3 * 2**30) == "3.0 GiB"
    assert memory.format_bytes(12 * 2**20) == "12 MiB"
    assert memory.format_bytes(100) == "100 B"
    assert np.isclose(memory.SAFETY, 1.5)


def test_small_pages_restores_numpys_setting():
    """Nested blocks keep the hint off until the last ends, then numpy's setting is back."""
    from sibsim.engine.memory import small_pages

    switch = getattr(np._core.multiarray, "_set_madvise_hugepage", None)
    if switch is None:
        pytest.skip("this numpy has no huge-page switch")
    before = switch(True)
    try:
        with small_pages():
            with small_pages():
                assert switch(False) is False
            assert switch(False) is False
        assert switch(True) is True
    finally:
        switch(before)
