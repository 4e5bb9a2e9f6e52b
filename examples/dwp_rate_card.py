"""
DWP Innovation Fund: a gross rate card pays for outcomes that would have happened anyway
========================================================================================

A published case (case 3 of the published cases, ``docs/cases.md``). One project was paid
GBP 4.50m for 4,222 young people while the fund's matched evaluation found no net benefit. With
``examples/dwp_rate_card.toml`` (no effect, as the evaluation found) this script compares
what the DWP pays and gets under the rate card and under a contract measured against a
comparison group; then it gives the programme an effect and shows how much of the rate card
would still have been paid anyway.

Run::

    python examples/dwp_rate_card.py
    SIBSIM_DRAWS=200 python examples/dwp_rate_card.py

Environment: ``SIBSIM_DRAWS`` (number of draws, default 2000), ``SIBSIM_OUT`` (folder for
the plot, default ``examples-out`` in the current folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import sibsim
from sibsim import plot

DRAWS = int(os.environ.get("SIBSIM_DRAWS", "2000"))
OUT = Path(os.environ.get("SIBSIM_OUT", "examples-out"))
SEED = 1
SCENARIO = Path(__file__).with_name("dwp_rate_card.toml")

PAYER = "dwp"
REPORTED_PAID = 4.50e6          # cases.md: New Horizons was paid GBP 4.50m
HOPED_FOR_EFFECT = 1.3          # assumption: a programme that raises the monthly chance of
                                # starting education or work by 30% for two years


def gbp(x: float) -> str:
    """A money amount in pounds, millions from 1m up."""
    return f"GBP {x / 1e6:,.2f}m" if abs(x) >= 1e6 else f"GBP {x:,.0f}"


def paid(result, contract: str) -> float:
    """Mean total outcome payment of a contract (undiscounted)."""
    return float(result["payment"].sel(contract=contract).sum("month").mean("draw"))


def with_effect(scenario, ratio: float):
    """The scenario with the same effect ratio on starting education and starting work."""
    return (scenario.replace("transitions[0].effect.ratio", ratio)
                    .replace("transitions[1].effect.ratio", ratio))


def positions(result) -> dict:
    """Payments and the DWP's and the provider's npv, per contract."""
    table = sibsim.summarize(result).set_index(["contract", "party"])
    return {
        contract: {
            "paid": paid(result, contract),
            "payer_mean": table.loc[(contract, PAYER), "mean"],
            "payer_prob_loss": table.loc[(contract, PAYER), "prob_loss"],
            "provider_mean": table.loc[(contract, "provider"), "mean"],
        }
        for contract in ("rate_card", "gain_share")
    }


def main() -> None:
    scenario = sibsim.load_scenario(SCENARIO)
    people = scenario.get("cohort.sites.NewHorizons.size")
    cost = scenario.get("programme.cost_per_participant") * people
    print(f"{scenario.name}: {DRAWS} draws, seed {SEED}")
    print(f"{people:,} participants; the programme costs the provider {gbp(cost)}.\n")

    # -- 1. No effect, as the evaluation found ---------------------------------------------
    none = sibsim.simulate(scenario, draws=DRAWS, seed=SEED)
    saved = float(none["savings_npv"].sel(payer=PAYER).sum("category").mean())
    p0 = positions(none)
    rc, gs = p0["rate_card"], p0["gain_share"]
    print("1. No effect (the evaluation's finding): both arms are identical, the DWP saves "
          f"{gbp(saved)}.")
    print(f"   rate card pays   {gbp(rc['paid']):>12s}  ({gbp(rc['paid'] / people)} per "
          f"participant;")
    print(f"   {'':31s}New Horizons was paid {gbp(REPORTED_PAID)}, GBP 1,067 each)")
    print(f"   gain share pays  {gbp(gs['paid']):>12s}  (only chance differences against "
          "the comparison group)")
    print(f"   DWP net position (npv): rate card {gbp(rc['payer_mean'])} "
          f"(a loss in {rc['payer_prob_loss']:.0%} of draws),")
    print(f"   {'':24s}gain share {gbp(gs['payer_mean'])}")
    print(f"   provider (pays the programme, receives the payments): rate card "
          f"{gbp(rc['provider_mean'])},")
    print(f"   {'':54s}gain share {gbp(gs['provider_mean'])}")
    print("   The rate card pays for jobs and courses that the same young people reach "
          "without the programme:")
    if rc["provider_mean"] > 0:
        print("   it even covers the provider's cost when nothing changes. A contract measured "
              "against a comparison")
        print("   group pays almost nothing for no change.\n")
    else:
        print("   a contract measured against a comparison group pays almost nothing for "
              "no change.\n")

    # -- 2. With an effect: how much of the rate card is still deadweight -----------------
    effect = sibsim.simulate(with_effect(scenario, HOPED_FOR_EFFECT), draws=DRAWS, seed=SEED)
    saved1 = float(effect["savings_npv"].sel(payer=PAYER).sum("category").mean())
    p1 = positions(effect)
    rc1, gs1 = p1["rate_card"], p1["gain_share"]
    print(f"2. With an effect (ratio {HOPED_FOR_EFFECT} on starting education or work, an "
          "assumption):")
    print(f"   the DWP saves {gbp(saved1)} in benefits (npv).")
    print(f"   rate card pays   {gbp(rc1['paid']):>12s}, of which "
          f"{rc['paid'] / rc1['paid']:.0%} would have been paid with no effect at all")
    print(f"   gain share pays  {gbp(gs1['paid']):>12s}")
    print(f"   DWP net position (npv): rate card {gbp(rc1['payer_mean'])}, gain share "
          f"{gbp(gs1['payer_mean'])}")
    print("   The rate card's prices buy outcomes, not the change in them: only "
          f"{gbp(rc1['paid'] - rc['paid'])} of its payment")
    print("   is for outcomes the programme added.\n")

    # -- plot ------------------------------------------------------------------------------
    OUT.mkdir(parents=True, exist_ok=True)
    fig = plot.net_position(none, party=PAYER)
    fig.axes[0].set_title("DWP's net position with no effect: rate card vs gain share")
    path = OUT / "dwp_net_position.png"
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
