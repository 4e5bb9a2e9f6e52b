"""Benchmark of the trajectory engine: every figure the README quotes, in one run.

Prints

1. nanoseconds per participant-month (both arms of a participant counted once) on the
   benchmark model below, for the kernel alone and for the whole ``simulate()`` on 1 and 2
   threads, against two per-month reference kernels of the same model
   (``benchmarks/per_month_kernel.py``, same generator, one thread: one that mirrors the
   engine's lookups, and a lean one written to be fast) and the plain-Python
   reference of ``tests/reference.py``; all timed in turns, best of several repetitions;
2. start-up: the first ``simulate()`` of the built-in scenario in a fresh process with an
   empty numba cache (cold: everything compiles) and with the cache it left (warm);
3. the built-in scenario at 10,000 draws (warm, in this process; best of several) on
   1 and 2 threads;
4. peak memory: the largest resident memory of fresh processes (``VmHWM``, or
   ``getrusage`` where there is no ``/proc``).

Run from the repository root::

    PYTHONPATH=src python benchmarks/engine.py            # full run (a few minutes)
    PYTHONPATH=src python benchmarks/engine.py --quick    # smaller sizes, smoke test

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
sys.path.insert(0, str(ROOT / "benchmarks"))
SCENARIO = "danish-pilot"
#: What a large run keeps when it needs no per-month variables.
KEPT = ["npv", "params"]


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


def best_of_turns(functions: dict, repeat: int) -> dict:
    """Smallest wall time of each function, all called in turns ``repeat`` times.

    Called in turns, the functions see the same load of a shared machine, so their ratios
    are more trustworthy than their absolute times.
    """
    times = {name: [] for name in functions}
    for _ in range(repeat):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def benchmark_model(size: int, draws: int, repeat: int) -> dict:
    """ns per participant-month: kernel, simulate() (1 and 2 threads), per-month reference."""
    import numba

    import sibsim
    from per_month_kernel import run_lean, run_per_month
    from sibsim.engine import compile as comp
    from sibsim.engine import run_group
    from sibsim.engine.params import sample_parameters

    scenario = sibsim.load_scenario(model(size))
    compiled = comp.compile_scenario(scenario)
    values = sample_parameters(scenario, np.arange(draws), 1)
    arrays = comp.draw_arrays(scenario, compiled, values, 1)
    run_group(compiled.cohort, compiled, arrays)  # compile / load from cache
    run_per_month(compiled, arrays)
    run_lean(compiled, arrays)
    sibsim.simulate(scenario, draws=2, seed=1)
    most = numba.config.NUMBA_NUM_THREADS

    def on(threads, fn):
        def call():
            numba.set_num_threads(min(threads, most))
            fn()
        return call

    functions = {"reference": on(1, lambda: run_per_month(compiled, arrays)),
                 "lean": on(1, lambda: run_lean(compiled, arrays))}
    for threads in (1, 2):
        functions[f"kernel_{threads}"] = on(threads, lambda: run_group(compiled.cohort,
                                                                       compiled, arrays))
        functions[f"simulate_{threads}"] = on(threads, lambda t=threads: sibsim.simulate(
            scenario, draws=draws, seed=1, threads=t, progress=False))
    best = best_of_turns(functions, repeat)
    numba.set_num_threads(most)
    pm = participant_months(compiled, draws)
    return {"participants": size, "draws": draws, "participant_months": pm,
            **{name: seconds / pm * 1e9 for name, seconds in best.items()}}


def builtin_draws(draws: int, repeat: int) -> dict:
    """Seconds of a warm run of the built-in scenario (best of repeat).

    Keyed by (threads, only the variables of :data:`KEPT`).
    """
    import numba

    import sibsim

    scenario = sibsim.load_scenario(SCENARIO)
    sibsim.simulate(scenario, draws=2, seed=1)
    runs = {}
    for threads in (1, 2):
        for kept in (None, KEPT):
            runs[threads, kept is not None] = lambda t=threads, v=kept: sibsim.simulate(
                scenario, draws=draws, seed=1, threads=t, progress=False, variables=v)
    best = best_of_turns(runs, repeat)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return best


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
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
def peak_mb():
    # VmHWM is this program's own peak; ru_maxrss keeps the parent's across fork and exec.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
sys.path.insert(0, {bench!r})
import sibsim
from engine import model
scenario = sibsim.load_scenario({scenario})
imported, cpu_imported = time.perf_counter(), cpu()
sibsim.simulate(scenario, draws={draws}, seed=1, progress=False)
done = time.perf_counter()
print(json.dumps({{"import_s": imported - start, "first_call_s": done - imported,
                  "first_call_cpu_s": cpu() - cpu_imported,
                  "max_rss_mb": peak_mb()}}))
"""


def fresh_process(scenario: str, draws: int, cache_dir: str) -> dict:
    """Run one simulate() in a new Python process with the given numba cache folder.

    ``scenario`` is Python source for the argument of ``load_scenario`` (a name or
    ``model(n)``).
    """
    code = CHILD.format(bench=str(ROOT / "benchmarks"), scenario=scenario, draws=draws)
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_up(repeat: int, draws: int) -> tuple[dict, dict]:
    """Best of ``repeat`` cold and warm first runs of the built-in scenario."""
    colds, warms = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache_dir:
            colds.append(fresh_process(repr(SCENARIO), draws, cache_dir))
            warms.append(fresh_process(repr(SCENARIO), draws, cache_dir))
    key = "first_call_s"
    return min(colds, key=lambda r: r[key]), min(warms, key=lambda r: r[key])


def load() -> str:
    """The machine's load: 1-minute load average and cores (figures are noisy when busy)."""
    try:
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return f"{os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    args = parser.parse_args()
    size, draws, repeat = (400, 50, 2) if args.quick else (2000, 200, 5)
    big_draws, starts = (1000, 1) if args.quick else (10_000, 3)

    print(f"command: PYTHONPATH=src python benchmarks/engine.py{' --quick' if args.quick else ''}")
    print(f"python {sys.version.split()[0]}, {load()}; best of {repeat} runs in turns "
          "(a shared machine: compare ratios within this run)")

    timing = benchmark_model(size, draws, repeat)
    print(f"\n1. Benchmark model: 4 states, 5 transitions, 3 flows, 120 months, {size} "
          f"participants, {draws} draws = {timing['participant_months']:,} participant-months")
    print(f"{'ns per participant-month':32}{'1 thread':>10}{'2 threads':>11}{'speed-up':>10}")
    for label, key in (("kernel alone", "kernel"), ("whole simulate()", "simulate")):
        one, two = timing[f"{key}_1"], timing[f"{key}_2"]
        print(f"{label:32}{one:10.2f}{two:11.2f}{one / two:9.2f}x")
    ref, lean = timing["reference"], timing["lean"]
    print(f"{'per-month reference kernel':32}{ref:10.2f}")
    print(f"{'lean per-month reference':32}{lean:10.2f}")
    print(f"simulate() on 1 thread / lean per-month reference: {timing['simulate_1'] / lean:.2f} "
          f"(kernel alone {timing['kernel_1'] / lean:.2f}; against the other reference "
          f"{timing['simulate_1'] / ref:.2f})")
    python = reference_ns(60, 1)
    print(f"plain-Python reference: {python:,.0f} ns per participant-month")

    cold, warm = start_up(starts, 200)
    print(f"\n2. Start-up, built-in scenario ({SCENARIO}, 200 draws), fresh process, best of "
          f"{starts}: first simulate() {cold['first_call_s']:.1f} s (CPU {cold['first_call_cpu_s']:.1f}"
          f" s) with an empty numba cache, {warm['first_call_s']:.2f} s with a warm cache "
          f"(import {warm['import_s']:.2f} s)")

    big = builtin_draws(big_draws, max(2, repeat - 2))
    print(f"\n3. Built-in scenario, {big_draws:,} draws, warm: all variables {big[1, False]:.2f} s "
          f"on 1 thread, {big[2, False]:.2f} s on 2 threads ({big[1, False] / big[2, False]:.2f}x); "
          f"variables={KEPT}: {big[1, True]:.2f} s, {big[2, True]:.2f} s "
          f"({big[1, True] / big[2, True]:.2f}x)")

    with tempfile.TemporaryDirectory() as cache_dir:
        fresh_process(repr(SCENARIO), 2, cache_dir)
        builtin = fresh_process(repr(SCENARIO), big_draws, cache_dir)
        small = fresh_process(f"model({size // 4})", draws, cache_dir)
        large = fresh_process(f"model({size * 2})", draws, cache_dir)
    print(f"({load()})")
    print(f"\n4. Peak memory (largest resident memory of a fresh process): built-in scenario {big_draws:,} draws "
          f"{builtin['max_rss_mb']:.0f} MB; benchmark model {draws} draws, {size // 4} "
          f"participants {small['max_rss_mb']:.0f} MB, {size * 2} participants "
          f"{large['max_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
