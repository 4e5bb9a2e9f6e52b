"""Benchmark of the trajectory engine.

Prints nanoseconds per participant-month (both arms of a participant counted once) for the
kernel alone and for the whole ``simulate()``, on 1 and 2 threads, against the plain-Python
reference of ``tests/reference.py``; numba compile time (cold cache and warm cache, in fresh
processes); and the peak memory (max RSS of fresh processes) for two cohort sizes.

Run from the repository root::

    python benchmarks/engine.py            # full run (a few minutes on 2 cores)
    python benchmarks/engine.py --quick    # smaller sizes, for a smoke test

The machine is shared and noisy: compare ratios measured in one run, not absolute times
across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def model(size: int, months: int = 120) -> dict:
    """A 4-state, 3-flow model: duration-dependent job finding with frailty, relapse, education."""
    return {
        "name": "benchmark",
        "months": months,
        "discount_rate": 0.035,
        "states": ["benefits", "employed", "education", "exited"],
        "cohort": {
            "initial_state": "benefits",
            "prior_months": {"uniform": {"low": 12, "high": 60}},
            "intake_months": 12,
            "frailty_variance": 0.3,
            "sites": {"A": {"size": size // 2, "multiplier": 0.8}, "B": {"size": size - size // 2}},
        },
        "programme": {"months": 12, "cost_per_participant": 45000, "fixed_cost": 500000},
        "transitions": [
            {"from": "benefits", "to": "employed",
             "probability": {"by_months_in_state": [[0, 0.025], [12, 0.015], [36, 0.008]]},
             "frailty": True,
             "effect": {"ratio": {"lognormal": {"median": 1.8, "sigma": 0.3}},
                        "from_month": 0, "to_month": 24}},
            {"from": "employed", "to": "benefits",
             "probability": {"by_months_in_state": [[0, 0.055], [12, 0.035]]}},
            {"from": "benefits", "to": "education", "probability": 0.01},
            {"from": "education", "to": "benefits", "probability": 0.05},
            {"from": "benefits", "to": "exited", "probability": 0.002},
        ],
        "flows": [
            {"name": "cash_benefit", "state": "benefits", "category": "benefits", "monthly": 12500,
             "split": {"municipality": {"by_months_in_state": [[0, 0.2], [1, 0.6], [6, 0.7], [12, 0.8]]},
                       "state": "rest"}},
            {"name": "income_tax", "state": "employed", "category": "tax", "monthly": -7800,
             "split": {"municipality": 0.25, "state": "rest"}},
            {"name": "student_grant", "state": "education", "category": "benefits", "monthly": 6955,
             "split": {"state": 1.0}},
        ],
        "contracts": [{"name": "donation", "type": "grant", "funder": "foundation"}],
    }


def participant_months(compiled, draws: int) -> int:
    return int((compiled.months - compiled.cohort.entry_month).sum()) * draws


def best_of(fn, repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls (the least disturbed by other processes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_pair(first, second, repeat: int) -> tuple[float, float]:
    """Smallest wall times of two functions called in turns ``repeat`` times each."""
    times = ([], [])
    for _ in range(repeat):
        for fn, out in zip((first, second), times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def kernel_and_simulate(size: int, draws: int, repeat: int) -> dict:
    import numba

    import sibsim
    from sibsim.engine import compile as comp
    from sibsim.engine import run_group
    from sibsim.engine.params import sample_parameters

    scenario = sibsim.load_scenario(model(size))
    compiled = comp.compile_scenario(scenario)
    values = sample_parameters(scenario, np.arange(draws), 1)
    arrays = comp.draw_arrays(scenario, compiled, values, 1)
    run_group(compiled.cohort, compiled, arrays)  # compile / load from cache
    sibsim.simulate(scenario, draws=2, seed=1)
    pm = participant_months(compiled, draws)
    out = {"participants": size, "draws": draws, "participant_months": pm}
    for threads in (1, 2):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        # Kernel and simulate() are timed in turns, so both see the same machine load.
        kernel, whole = best_of_pair(
            lambda: run_group(compiled.cohort, compiled, arrays),
            lambda: sibsim.simulate(scenario, draws=draws, seed=1, threads=threads),
            repeat,
        )
        out[f"kernel_ns_{threads}"] = kernel / pm * 1e9
        out[f"simulate_ns_{threads}"] = whole / pm * 1e9
    return out


def reference_ns(size: int, draws: int) -> float:
    import sibsim
    from sibsim.engine import compile as comp
    from reference import simulate_reference

    scenario = sibsim.load_scenario(model(size))
    compiled = comp.compile_scenario(scenario)
    start = time.perf_counter()
    simulate_reference(scenario, draws, 1)
    return (time.perf_counter() - start) / participant_months(compiled, draws) * 1e9


CHILD = """
import json, resource, sys, time
start = time.perf_counter()
sys.path.insert(0, {tests!r}); sys.path.insert(0, {bench!r})
import sibsim
from engine import model
scenario = sibsim.load_scenario(model({size}))
imported = time.perf_counter()
sibsim.simulate(scenario, draws={draws}, seed=1)
done = time.perf_counter()
print(json.dumps({{"import_s": imported - start, "first_call_s": done - imported,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def fresh_process(size: int, draws: int, cache_dir: str) -> dict:
    """Run one simulate() in a new Python process with the given numba cache folder."""
    code = CHILD.format(tests=str(ROOT / "tests"), bench=str(ROOT / "benchmarks"), size=size, draws=draws)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args()
    size, draws, repeat = (400, 50, 2) if args.quick else (2000, 200, 5)

    print(f"command: python benchmarks/engine.py{' --quick' if args.quick else ''}")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    cache_dir = tempfile.TemporaryDirectory()
    cold = fresh_process(50, 2, cache_dir.name)
    warm = fresh_process(50, 2, cache_dir.name)
    print(f"compile: cold cache {cold['first_call_s']:.1f} s, warm cache {warm['first_call_s']:.2f} s "
          f"(first simulate() in a fresh process; import {warm['import_s']:.2f} s)")

    timing = kernel_and_simulate(size, draws, repeat)
    ref = reference_ns(60, 1)
    print(f"model: 4 states, 5 transitions, 3 flows, 120 months, {size} participants, "
          f"{draws} draws = {timing['participant_months']:,} participant-months")
    print(f"{'':24}{'1 thread':>12}{'2 threads':>12}{'speed-up':>10}")
    for label, key in (("kernel alone", "kernel"), ("whole simulate()", "simulate")):
        one, two = timing[f"{key}_ns_1"], timing[f"{key}_ns_2"]
        print(f"{label + ' (ns/pm)':24}{one:12.2f}{two:12.2f}{one / two:10.2f}x")
    print(f"reference (plain Python): {ref:,.0f} ns/pm; simulate() on 1 thread is "
          f"{ref / timing['simulate_ns_1']:,.0f}x faster")

    small = fresh_process(size // 4, draws, cache_dir.name)
    large = fresh_process(size * 2, draws, cache_dir.name)
    cache_dir.cleanup()
    print(f"peak memory (max RSS of a fresh process, {draws} draws): {size // 4} participants "
          f"{small['max_rss_mb']:.0f} MB, {size * 2} participants {large['max_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
