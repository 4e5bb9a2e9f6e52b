"""What contracts cost in run time: ``simulate`` with a grant alone vs four outcome contracts.

The model has four states, three flows and a cohort of 800 participants over ten years. It
is run twice with the same draws and seed:

- *grant*: a single grant (settlement is trivial, no comparison group);
- *contracts*: a rate card, a gain share against a comparison group (by default as large as
  the cohort: a 1:1 matched register group), effect tiers against the paired
  counterfactual, and a social impact bond (a rate card financed by two tranches with a
  guarantee).

Each variant is called once first, so that numba's compilation is not timed, and then the
two are timed in turns, ``--repeat`` times each (the best time of each is kept), so that
both see the same load on a shared machine. The ratio contracts / grant is the number to
watch (the target is at most 1.5). A breakdown splits each run into its stages as
``simulate`` runs them: the engine (trajectory kernel for the cohort and the comparison
group, ledger), the settlement of the contracts, and the assembly of the Dataset; a third
line runs the same four contracts with the gain share on the paired counterfactual, so
that the engine's difference is what simulating the comparison group costs.

Run it with::

    python benchmarks/contracts.py                       # defaults below
    python benchmarks/contracts.py --draws 400 --cohort 1000 --comparison 2000
"""

from __future__ import annotations

import argparse
import sys
import time

import sibsim
from sibsim.contracts import settle
from sibsim.engine import numba_threads, run_model
from sibsim.results import assemble
from sibsim.scenario import load_scenario


def scenario(contracts: list[dict], *, cohort: int, months: int) -> dict:
    """A four-state, three-flow model with ``cohort`` participants in two sites."""
    half = cohort // 2
    return {
        "name": "contracts benchmark",
        "months": months,
        "discount_rate": 0.035,
        "states": ["benefits", "employed", "education", "exited"],
        "cohort": {
            "initial_state": "benefits",
            "prior_months": {"uniform": {"low": 12, "high": 60}},
            "intake_months": 18,
            "frailty_variance": 0.3,
            "sites": {"north": {"size": half, "multiplier": 0.9},
                      "south": {"size": cohort - half}},
        },
        "programme": {"months": 12, "cost_per_participant": 100000.0, "fixed_cost": 500000.0},
        "transitions": [
            {"from": "benefits", "to": "employed", "frailty": True,
             "probability": {"by_months_in_state": [[0, 0.04], [12, 0.03], [24, 0.02]]},
             "effect": {"ratio": {"lognormal": {"median": 1.8, "sigma": 0.26}},
                        "from_month": 0, "to_month": 24}},
            {"from": "benefits", "to": "education", "probability": 0.017},
            {"from": "benefits", "to": "exited", "probability": 0.002},
            {"from": "employed", "to": "benefits",
             "probability": {"by_months_in_state": [[0, {"beta": {"mean": 0.055, "sd": 0.013}}],
                                                    [12, 0.035]]}},
            {"from": "education", "to": "employed", "probability": 0.02},
            {"from": "education", "to": "benefits", "probability": 0.04},
        ],
        "flows": [
            {"name": "cash_benefit", "state": "benefits", "category": "benefits",
             "monthly": {"triangular": {"low": 9511, "mode": 10871, "high": 12232}},
             "split": {"municipality": 0.8, "state": "rest"}},
            {"name": "tax_on_wage", "state": "employed", "category": "tax",
             "monthly": {"normal": {"mean": -7800, "sd": 700}},
             "split": {"municipality": 0.25, "state": "rest"}},
            {"name": "education_grant", "state": "education", "category": "benefits",
             "monthly": 3500.0, "split": {"state": 1.0}},
        ],
        "contracts": contracts,
    }


GRANT = [{"name": "donation", "type": "grant", "funder": "foundation"}]


def four_contracts(comparison: int) -> list[dict]:
    jobs = [{"name": "job_6m", "state": "employed", "sustained_months": 6, "price": 50000.0},
            {"name": "job_12m", "state": "employed", "cumulative_months": 12, "price": 30000.0}]
    return [
        {"name": "narrow", "type": "rate_card", "payer": "municipality", "outcomes": jobs,
         "window_months": 36, "cap_per_participant": 70000.0, "payment_lag_months": 3},
        {"name": "broad", "type": "gain_share", "payer": "municipality", "share": 0.5,
         "savings_of": ["municipality"], "baseline": "comparison_group",
         "comparison_size": comparison, "settle_every_months": 12, "payment_lag_months": 3,
         "cap_total": 50e6},
        {"name": "tiers", "type": "effect_tiers", "payer": {"municipality": 0.7, "state": 0.3},
         "state": "benefits", "measure_at_month": 36,
         "tiers": [[0.05, 1e6], [0.10, 5e6], [0.25, 20e6]], "payment_lag_months": 3},
        {"name": "sib", "type": "rate_card", "payer": "municipality",
         "outcomes": [dict(jobs[0], price=100000.0), dict(jobs[1], price=60000.0)],
         "window_months": 36, "cap_total": 150e6, "payment_lag_months": 3,
         "financing": {
             "tranches": [{"party": "investor", "amount": 70e6, "return_cap_multiple": 1.5},
                          {"party": "bank", "amount": 20e6, "return_cap_multiple": 1.2}],
             "guarantees": [{"party": "foundation", "covers": "investor", "amount": 20e6}]}},
    ]


def stage_times(sc, draws: int, seed: int, threads: int | None) -> dict[str, float]:
    """Time the stages of one ``simulate`` call (as ``sibsim.engine.simulate`` runs them)."""
    start = time.perf_counter()
    with numba_threads(threads):
        ledger, values, compiled = run_model(sc, draws, seed)
    engine = time.perf_counter()
    parties = list(sc.parties())
    settlement = settle(sc.data["contracts"], ledger, values.get, parties)
    settled = time.perf_counter()
    assemble(sc, compiled, ledger, values, settlement, parties, seed=seed)
    done = time.perf_counter()
    return {"engine": engine - start, "settle": settled - engine, "assemble": done - settled}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--cohort", type=int, default=800)
    parser.add_argument("--comparison", type=int, default=800,
                        help="comparison_size of the gain share (default: as the cohort)")
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    docs = {
        "grant": scenario(GRANT, cohort=args.cohort, months=args.months),
        "contracts": scenario(four_contracts(args.comparison), cohort=args.cohort,
                              months=args.months),
    }
    # Warm up both (numba compiles, or loads its cache, here), then time them in turns so
    # that both see the same load on a shared machine; keep each one's best time.
    scenarios = {name: load_scenario(doc) for name, doc in docs.items()}
    for sc in scenarios.values():
        sibsim.simulate(sc, draws=args.draws, seed=args.seed, threads=args.threads)
    timings = {name: float("inf") for name in scenarios}
    for _ in range(args.repeat):
        for name, sc in scenarios.items():
            start = time.perf_counter()
            sibsim.simulate(sc, draws=args.draws, seed=args.seed, threads=args.threads)
            timings[name] = min(timings[name], time.perf_counter() - start)

    command = "python benchmarks/contracts.py " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"command: {command.strip()}")
    print(f"model: 4 states, 3 flows, cohort {args.cohort}, {args.months} months, "
          f"{args.draws} draws, seed {args.seed}, threads {args.threads or 'all'}; "
          f"best of {args.repeat}")
    four = f"rate card, gain share (comparison {args.comparison}), tiers, SIB:"
    width = len(four) + 1
    print(f"{'grant only:':<{width}}{timings['grant']:8.3f} s")
    print(f"{four:<{width}}{timings['contracts']:8.3f} s")
    ratio = timings["contracts"] / timings["grant"]
    print(f"ratio: {ratio:.2f} (target <= 1.5)")
    print()
    # The same four contracts with the gain share on the paired counterfactual: no
    # comparison group to simulate, so the difference is what the group costs.
    paired = four_contracts(args.comparison)
    paired[1] = {k: v for k, v in paired[1].items() if k != "comparison_size"}
    paired[1]["baseline"] = "counterfactual"
    docs["contracts, no comparison group"] = scenario(paired, cohort=args.cohort,
                                                      months=args.months)
    print(f"{f'stages, best of {args.repeat} (s)':<34}{'engine':>10}{'settle':>10}"
          f"{'assemble':>10}")
    scenarios = {name: load_scenario(doc) for name, doc in docs.items()}
    best = {name: {"engine": float("inf"), "settle": float("inf"), "assemble": float("inf")}
            for name in scenarios}
    for _ in range(args.repeat):  # in turns, as above
        for name, sc in scenarios.items():
            for stage, seconds in stage_times(sc, args.draws, args.seed, args.threads).items():
                best[name][stage] = min(best[name][stage], seconds)
    for name, split in best.items():
        print(f"  {name:<32}{split['engine']:10.3f}{split['settle']:10.3f}"
              f"{split['assemble']:10.3f}")


if __name__ == "__main__":
    main()
