"""
Narrow vs broad: a rate card on jobs against a share of the municipality's savings
==================================================================================

The partners' first question: should the municipality pay per job (narrow), or a
share of the savings it measures across its budgets (broad)? Both contracts are in the
built-in ``danish-pilot`` scenario; in both the provider (DRC) pays the programme and
receives the payments. This script compares, for the municipality and the provider: the
mean net position, the probability of a loss and the tail; then what each contract pays
for, in draws where the programme works well, badly, or not at all.

Run::

    python examples/narrow_vs_broad.py
    SIBSIM_DRAWS=200 python examples/narrow_vs_broad.py

Environment: ``SIBSIM_DRAWS`` (number of draws, default 2000), ``SIBSIM_OUT`` (folder for
the plot, default ``examples-out`` in the current folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import sibsim

DRAWS = int(os.environ.get("SIBSIM_DRAWS", "2000"))
OUT = Path(os.environ.get("SIBSIM_OUT", "examples-out"))
SEED = 1

CONTRACTS = ("narrow", "broad")
PARTIES = ("municipality", "provider")
EFFECT = "transitions[0].effect.ratio"      # the programme's effect on finding a job


def m(x: float) -> str:
    """Millions of DKK with a sign."""
    return f"{x / 1e6:+.2f}m"


def main() -> None:
    scenario = sibsim.load_scenario("danish-pilot")
    result = sibsim.simulate(scenario, draws=DRAWS, seed=SEED)
    table = sibsim.summarize(result).set_index(["contract", "party"])
    paid = result["payment"].sum("month")                          # (draw, contract)
    cost = float(result["programme_cost"].sum("month").mean())
    own_savings = float(result["savings_npv"].sel(payer="municipality").sum("category").mean())

    print(f"{scenario.name}: {DRAWS} draws, seed {SEED}")
    print("narrow: the municipality pays 50,000 DKK per participant 6 months in a job and "
          "30,000 at 12 months\n        in work (gross).")
    print("broad:  the municipality pays half of its measured yearly savings against a "
          "comparison group of 200.\n")

    # -- 1. Who carries the risk --------------------------------------------------------------
    print("1. Net position (npv, DKK, discounted), mean / P(loss) / mean of the worst 5%:")
    print(f"   {'':10s}{'':14s}{'mean':>9s}{'P(loss)':>9s}{'worst 5%':>10s}{'paid to provider':>18s}")
    for contract in CONTRACTS:
        for party in PARTIES:
            row = table.loc[(contract, party)]
            pay = float(paid.sel(contract=contract).mean()) if party == "provider" else None
            print(f"   {contract:10s}{party:14s}{m(row['mean']):>9s}{row['prob_loss']:>9.0%}"
                  f"{m(row['expected_shortfall_05']):>10s}"
                  f"{(m(pay) if pay is not None else ''):>18s}")
    all_savings = float(result["savings_npv"].sum(["payer", "category"]).mean())
    print(f"   The programme costs about {cost / 1e6:.1f}m. The municipality's own savings are "
          f"{own_savings / 1e6:.1f}m on average,\n   all public savings {all_savings / 1e6:.1f}m.")
    for contract in CONTRACTS:
        municipality = table.loc[(contract, "municipality"), "mean"]
        provider = table.loc[(contract, "provider"), "mean"]
        print(f"   {contract}: on average the municipality "
              f"{'gains' if municipality >= 0 else 'loses'} {abs(municipality) / 1e6:.1f}m and "
              f"the provider {'gains' if provider >= 0 else 'loses'} {abs(provider) / 1e6:.1f}m.")
    if own_savings < cost:
        print(f"   The municipality's own savings ({own_savings / 1e6:.1f}m) are less than the "
              f"programme's cost ({cost / 1e6:.1f}m): no price paid out of them")
        print("   makes both sides whole on average; the state's savings would have to come "
              "in too,\n   or a donation for the rest.\n")
    else:
        print("   The municipality's own savings exceed the programme's cost on average: a "
              "price both sides accept")
        print("   exists in expectation (sibsim.price_corridor finds it for a given risk "
              "of loss).\n")

    # -- 2. What each contract pays for ------------------------------------------------------
    ratio = result["params"].sel(param=EFFECT).values
    weak = ratio <= np.quantile(ratio, 0.25)
    strong = ratio >= np.quantile(ratio, 0.75)
    print("2. Payment (mean, undiscounted) in the draws where the job effect is weak\n"
          f"   (ratio <= {np.quantile(ratio, 0.25):.2f}) or strong (>= {np.quantile(ratio, 0.75):.2f}):")
    for contract in CONTRACTS:
        p = paid.sel(contract=contract).values
        print(f"   {contract:8s} weak {p[weak].mean() / 1e6:.2f}m, strong "
              f"{p[strong].mean() / 1e6:.2f}m  (correlation with the effect "
              f"{np.corrcoef(p, ratio)[0, 1]:.2f})")

    # -- 3. With no effect at all ------------------------------------------------------------
    none = (scenario.replace("transitions[0].effect.ratio", 1.0)
                    .replace("transitions[1].effect.ratio", 1.0))
    zero = sibsim.simulate(none, draws=DRAWS, seed=SEED)
    zero_paid = zero["payment"].sum("month").mean("draw")
    zero_table = sibsim.summarize(zero).set_index(["contract", "party"])
    print("\n3. If the programme did nothing (every effect ratio 1, same random numbers):")
    for contract in CONTRACTS:
        with_effect = float(paid.sel(contract=contract).mean())
        print(f"   {contract:8s} still pays {float(zero_paid.sel(contract=contract)) / 1e6:.2f}m "
              f"({float(zero_paid.sel(contract=contract)) / with_effect:.0%} of what it pays "
              f"with the effect); municipality "
              f"{m(zero_table.loc[(contract, 'municipality'), 'mean'])}")
    print("   narrow pays for jobs that would have come anyway (it counts outcomes, not "
          "the difference);")
    print("   broad pays for chance: 65 participants against 200, settled year by year, "
          "positive years paid and")
    print("   nothing clawed back in negative ones.")
    threshold = 0.1
    strict = sibsim.simulate(none.replace("contracts[2].threshold", threshold),
                             draws=DRAWS, seed=SEED)
    strict_paid = float(strict["payment"].sel(contract="broad").sum("month").mean())
    print(f"   A threshold (pay a year only when it saves at least {threshold:.0%}) lowers "
          f"that to {strict_paid / 1e6:.2f}m.\n")

    # -- plot ----------------------------------------------------------------------------------
    OUT.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    for contract, colour in zip(CONTRACTS, ("tab:blue", "tab:orange")):
        ax.scatter(ratio, paid.sel(contract=contract).values / 1e6, s=6, alpha=0.4,
                   color=colour, label=contract)
        ax.axhline(float(zero_paid.sel(contract=contract)) / 1e6, color=colour,
                   linestyle="--", linewidth=1, label=f"{contract}, no effect (mean)")
    ax.set_xlabel("effect on job finding (hazard ratio, per draw)")
    ax.set_ylabel("paid by the municipality (million DKK)")
    ax.set_title("What each contract pays as the programme works better")
    ax.legend(fontsize=8)
    path = OUT / "narrow_vs_broad_payments.png"
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
