"""
Quickstart: load the default scenario, simulate, summarize, plot
================================================================

The built-in scenario ``danish-pilot`` is DRC's Business Training in Herning and Viborg: 65
long-term unemployed men, a programme of about 100,000 DKK per participant, and four ways to
pay for it (a donation, a narrow rate card on jobs, a broad share of the municipality's
savings, and a social impact bond). This script runs it and says, per structure, what the
municipality can expect and how likely it is to lose money.

Run::

    python examples/quickstart.py
    SIBSIM_DRAWS=200 python examples/quickstart.py

Environment: ``SIBSIM_DRAWS`` (number of draws, default 2000), ``SIBSIM_OUT`` (folder for
the plot, default ``examples-out`` in the current folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import sibsim
from sibsim import plot
from sibsim.analysis import format_summary

DRAWS = int(os.environ.get("SIBSIM_DRAWS", "2000"))
OUT = Path(os.environ.get("SIBSIM_OUT", "examples-out"))
SEED = 1


def main() -> None:
    # 1. The scenario: a built-in name, a TOML file, TOML text or a dict.
    scenario = sibsim.load_scenario("danish-pilot")
    print(f"{scenario.name}: {DRAWS} draws, seed {SEED}")
    print(f"  {sum(scenario.get(f'cohort.sites.{s}.size') for s in scenario.sites())} "
          f"participants at {', '.join(scenario.sites())}; {scenario.months} months; "
          f"contracts: {', '.join(scenario.contract_names())}\n")

    # 2. Simulate: every draw samples the uncertain parameters once and runs every
    #    participant in both arms (with and without the programme) on the same random numbers.
    result = sibsim.simulate(scenario, draws=DRAWS, seed=SEED)

    # 3. Summarize: one row per contract and party.
    table = sibsim.summarize(result)
    print(format_summary(table))
    print()

    # What a partner reads from it.
    savings = result["savings_npv"].sum("category").mean("draw")
    cost = float(result["programme_cost"].sum("month").mean())
    print("What the table says:")
    print(f"  The programme costs about {cost / 1e6:.1f}m DKK. Without any repayment it saves "
          f"the municipality\n  {float(savings.sel(payer='municipality')) / 1e6:.1f}m, the state "
          f"{float(savings.sel(payer='state')) / 1e6:.1f}m and the regions "
          f"{float(savings.sel(payer='region')) / 1e6:.1f}m (means, discounted).")
    rows = table[table["party"] == "municipality"].set_index("contract")
    for contract, row in rows.iterrows():
        print(f"  {contract:9s} the municipality ends {row['mean'] / 1e6:+.1f}m DKK on "
              f"average and loses money in {row['prob_loss']:.0%} of draws "
              f"(worst 5%: {row['expected_shortfall_05'] / 1e6:+.1f}m).")
    investor = table[(table["contract"] == "sib") & (table["party"] == "investor")].iloc[0]
    print(f"  In the SIB the investor's npv (at the scenario's discount rate) is negative in "
          f"{investor['prob_loss']:.0%} of draws;\n  its median IRR is "
          f"{round(investor['irr_p50'], 3) + 0.0:.1%} a year.\n")

    # 4. One plot: the municipality's net position under each contract.
    OUT.mkdir(parents=True, exist_ok=True)
    fig = plot.net_position(result, party="municipality")
    path = OUT / "quickstart_net_position.png"
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
