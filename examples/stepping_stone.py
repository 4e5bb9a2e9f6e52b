"""
The pilot as a stepping stone: what the 65-person trial's results are worth
===========================================================================

The partners ran a donation-funded trial first, as "a stepping stone to real investment
projects", and decide on a repayable contract afterwards. This script asks, on the built-in
``danish-pilot`` scenario, what the trial's evidence (the share of each arm in ordinary work
14 months after entry) is worth to that later decision: the expected value of sample
information (EVSI) of a 65-person pilot per arm, against the value of knowing the
programme's effect exactly (EVPPI); which contract each party is likely to choose once the
results are in; and what size of pilot would have been worth its cost (the EVSI curve).

The built-in priors are calibrated to this trial's own results (the 17% and 35% in work of
E1 and J2), so what is computed is the worth of a *further* pilot of that size run before
the repayable contract, with today's knowledge: the question the partners face now. For the
worth of the first trial before it was run, replace the priors by what was known then
(``Scenario.replace``) and run the same calls.

Two decisions are asked about: the municipality choosing among the repayable contracts
(narrow, broad, sib), and the investor choosing whether to fund the social impact bond at
all ("none" is not contracting, npv 0). Every number printed is computed by the run, so the
wording follows the scenario's numbers.

Run::

    python examples/stepping_stone.py
    SIBSIM_DRAWS=200 python examples/stepping_stone.py

Environment: ``SIBSIM_DRAWS`` (simulated prior draws, default 2000; a quarter as many outer
draws, at least 50), ``SIBSIM_OUT`` (folder for the plot, default ``examples-out``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import sibsim
from sibsim.analysis.stepping_stone import SteppingStoneWarning
from sibsim.labels import parameter_label

DRAWS = int(os.environ.get("SIBSIM_DRAWS", "2000"))
OUTER = max(50, DRAWS // 4)
OUT = Path(os.environ.get("SIBSIM_OUT", "examples-out"))
SEED = 1

PILOT = {"state": "employed", "months_since_entry": 14}   # J2/E1: in work two months after
SIZE = 65                                                  # P2: the trial's participants
SIZES = [0, 20, 65, 130, 260, 520]
#: The parameters the trial informs, where the scenario gives them a prior.
CANDIDATES = ("transitions[0].effect.ratio", "transitions[0].hazard_scale")
DECISIONS = (("municipality", ["narrow", "broad", "sib"]), ("investor", ["sib", "none"]))


def k(x: float, currency: str) -> str:
    """Thousands of the currency, with a sign."""
    return f"{x / 1e3:+,.0f}k {currency}"


def report(party: str, contracts: list[str], value, currency: str) -> None:
    print(f"   {party} choosing between {', '.join(contracts)}:")
    print(f"     best without the pilot: {value['prior_choice']}")
    print(f"     EVSI of the {SIZE}-person pilot: {k(value['evsi'], currency)} "
          f"(Monte Carlo error {value['evsi_mcse'] / 1e3:,.0f}k)")
    print(f"     EVPPI (knowing those parameters exactly): {k(value['evppi'], currency)} "
          f"(error {value['evppi_mcse'] / 1e3:,.0f}k)")
    chosen = ", ".join(f"{c} {value[f'prob_choose[{c}]']:.0%}" for c in contracts)
    print(f"     chosen after the pilot: {chosen}")


def main() -> None:
    scenario = sibsim.load_scenario("danish-pilot")
    params = [p for p in CANDIDATES if p in scenario.uncertain()]
    print(f"{scenario.name}: {DRAWS} draws ({OUTER} outer draws), seed {SEED}")
    named = "; ".join(f"{parameter_label(scenario, p)} ({p})" for p in params)
    print(f"The pilot counts who is in work {PILOT['months_since_entry']} months after entry "
          f"in each arm; it informs:\n   {named}.\n")

    print("The priors already carry the trial's own result, so this is the worth of a further "
          "pilot\nbefore the repayable contract, with what is known today.\n")
    print(f"1. What a {SIZE}-person pilot is worth, and what is chosen after it")
    found = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SteppingStoneWarning)
        for party, contracts in DECISIONS:
            value, runs = sibsim.stepping_stone(
                scenario, party=party, contracts=contracts, pilot={**PILOT, "size": SIZE},
                params=params, outer=OUTER, draws=DRAWS, seed=SEED)
            currency = value.attrs["currency"]
            report(party, contracts, value, currency)
            found.append((value["evppi"], party, contracts))
    for w in caught:
        print(f"   note: {w.message}")
    print("   EVSI is what the evidence adds to the later choice on average; where one "
          "contract is best\n   whatever the trial shows, it is 0.\n")

    evppi, party, contracts = max(found, key=lambda f: f[0])
    print(f"2. What size would have been worth its cost ({party}'s choice, the one with the "
          f"most at stake)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SteppingStoneWarning)
        table = sibsim.evsi_curve(scenario, party=party, contracts=contracts, pilot=PILOT,
                                  params=params, sizes=SIZES, outer=OUTER, draws=DRAWS,
                                  seed=SEED)
    cost = table.attrs["cost_per_participant"]
    print(f"   pilot cost {cost:,.0f} {currency} per treated participant (the programme's "
          f"mean cost; the pilot's own\n   outcomes for its participants are not credited)")
    print(f"   {'size':>6s}{'EVSI':>14s}{'error':>10s}{'cost':>14s}{'net value':>14s}")
    for _, row in table.iterrows():
        print(f"   {row['size']:>6.0f}{row['evsi'] / 1e3:>13,.0f}k{row['evsi_mcse'] / 1e3:>9,.0f}k"
              f"{row['pilot_cost'] / 1e3:>13,.0f}k{row['net_value'] / 1e3:>13,.0f}k")
    best = table.loc[table["net_value"].idxmax()]
    if best["size"] == 0:
        print(f"   No pilot size pays for itself through this decision alone: the most any "
              f"evidence on these\n   parameters could be worth here is the EVPPI, "
              f"{k(evppi, currency)}, for one cohort.")
    else:
        print(f"   The best net value is at {best['size']:.0f} per arm: "
              f"{k(best['net_value'], currency)}.")
    figure = sibsim.plot.evsi_curve(table)
    OUT.mkdir(parents=True, exist_ok=True)
    figure.savefig(OUT / "stepping_stone_evsi.png", dpi=120)
    print(f"\nPlot: {OUT / 'stepping_stone_evsi.png'}")


if __name__ == "__main__":
    main()
