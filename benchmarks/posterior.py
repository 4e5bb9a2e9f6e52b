"""Benchmark of ``sibsim.posterior`` on the built-in scenario.

Prints, for 2, 3 and 4 parameters of ``danish-pilot`` updated on the pilot's counts (case 1
of docs/cases.md: 17% vs 35% in work and 13% vs 27% in education or self-support, 14 months
after entry, about 65 per arm), the wall time of a 4000-draw posterior, the effective
sample size, the Pareto k and the frailty nodes chosen; and the time per value set of the
many-values share kernel (:func:`sibsim.engine.shares.expected_shares`) against the exact
module's :func:`~sibsim.engine.exact.expected_share`.

Run from the repository root::

    python benchmarks/posterior.py            # about a minute on 2 cores
    python benchmarks/posterior.py --quick    # 1000 draws

The machine is shared and noisy: compare figures measured in one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import sibsim
from sibsim.engine.exact import expected_share
from sibsim.engine.shares import expected_shares

DATA = [
    {"state": "employed", "arm": "counterfactual", "months_since_entry": 14, "count": 11, "n": 65},
    {"state": "employed", "arm": "treatment", "months_since_entry": 14, "count": 23, "n": 65},
    {"state": "education", "arm": "counterfactual", "months_since_entry": 14, "count": 8, "n": 65},
    {"state": "education", "arm": "treatment", "months_since_entry": 14, "count": 18, "n": 65},
]
PARAMS = ["transitions[0].effect.ratio", "transitions[1].effect.ratio",
          "transitions[3].probability.by_months_in_state[0][1]",
          "transitions[3].probability.by_months_in_state[1][1]"]


def kernel_timing(scenario, size: int = 2000) -> None:
    points = [(d["state"], d["arm"], d["months_since_entry"]) for d in DATA]
    values = {PARAMS[0]: np.linspace(1.0, 4.0, size)}
    expected_shares(scenario, points, {PARAMS[0]: values[PARAMS[0]][:2]})  # compile
    for nodes in (128, 24):
        start = time.perf_counter()
        expected_shares(scenario, points, values, nodes=nodes)
        per = (time.perf_counter() - start) / size
        print(f"expected_shares, {nodes:3d} frailty nodes: {per * 1e3:6.2f} ms per value set")
    start = time.perf_counter()
    for ratio in values[PARAMS[0]][:20]:
        variant = scenario.replace(PARAMS[0], float(ratio))
        for s, a, m in points:
            expected_share(variant, state=s, arm=a, months_since_entry=m)
    per = (time.perf_counter() - start) / 20
    print(f"exact.expected_share at 4 points:  {per * 1e3:6.2f} ms per value set")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1000 draws instead of 4000")
    args = parser.parse_args()
    draws = 1000 if args.quick else 4000
    scenario = sibsim.load_scenario("danish-pilot")
    kernel_timing(scenario)
    sibsim.posterior(scenario, data=DATA[:2], params=PARAMS[:1], draws=100)  # compile
    for count in (2, 3, 4):
        start = time.perf_counter()
        _, report = sibsim.posterior(scenario, data=DATA, params=PARAMS[:count], draws=draws,
                                     seed=1)
        seconds = time.perf_counter() - start
        attrs = report.attrs
        print(f"{count} parameters, {draws} draws: {seconds:5.1f} s, ess {attrs['ess']:.0f}, "
              f"Pareto k {attrs['pareto_k']:.2f}, {attrs['frailty_nodes']} frailty nodes")


if __name__ == "__main__":
    main()
