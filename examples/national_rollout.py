"""
A national roll-out: the Danish pilot in 24 municipalities, streamed to a zarr store
====================================================================================

The pilot ran in two municipalities with 65 participants. A national roll-out puts the same
programme into many municipalities at once, each with its own cohort, and a social impact
bond of national size. The numbers grow with it: thousands of participants per draw, and a
result whose per-month costs alone take gigabytes at a hundred thousand draws. This script
builds the roll-out from the built-in ``danish-pilot`` scenario, shows what a run would need
in memory, and runs it the way large runs are meant to run (``docs/scale.rst``): streamed
chunk by chunk to a zarr store, keeping only the variables the partners read, optionally on
a dask cluster, and resumable.

The 24 municipalities and their cohort sizes are illustrative (roughly in proportion to their
populations); each municipality's job-finding multiplier is uncertain around 1
(lognormal, sigma 0.15), standing for local differences nobody has measured yet.

Run::

    python examples/national_rollout.py
    SIBSIM_DRAWS=200 python examples/national_rollout.py
    SIBSIM_SCHEDULER=local python examples/national_rollout.py     # a local dask cluster

Environment: ``SIBSIM_DRAWS`` (number of draws, default 2000), ``SIBSIM_OUT`` (folder for
the store and the plot, default ``examples-out`` in the current folder),
``SIBSIM_SCHEDULER`` (optional: a dask scheduler's address, or ``local``). Needs
``pip install "sibsim[distributed]"``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

import xarray as xr

import sibsim
from sibsim.analysis import format_summary
from sibsim.engine import memory

DRAWS = int(os.environ.get("SIBSIM_DRAWS", "2000"))
OUT = Path(os.environ.get("SIBSIM_OUT", "examples-out"))
SCHEDULER = os.environ.get("SIBSIM_SCHEDULER")
SEED = 1

#: Illustrative cohort sizes of the roll-out's municipalities.
MUNICIPALITIES = {
    "København": 300, "Aarhus": 220, "Aalborg": 150, "Odense": 150, "Vejle": 90,
    "Esbjerg": 90, "Frederiksberg": 80, "Randers": 80, "Viborg": 75, "Kolding": 75,
    "Silkeborg": 75, "Herning": 70, "Horsens": 70, "Roskilde": 70, "Næstved": 65,
    "Slagelse": 65, "Gentofte": 60, "Sønderborg": 60, "Holbæk": 55, "Gladsaxe": 55,
    "Hjørring": 50, "Helsingør": 50, "Guldborgsund": 45, "Frederikshavn": 45,
}

#: The variables the partners read: no per-month costs or occupancy.
KEPT = ["npv", "payment", "investor_irr", "investor_multiple", "params", "tranche_party",
        "investor_irr_no_root"]


def national(pilot: sibsim.Scenario) -> sibsim.Scenario:
    """The pilot in every municipality, with contracts of national size."""
    raw = pilot.raw
    participants = sum(MUNICIPALITIES.values())
    raw["name"] = f"National roll-out: {len(MUNICIPALITIES)} municipalities"
    raw["cohort"]["sites"] = {
        name: {"size": size, "multiplier": {"lognormal": {"median": 1.0, "sigma": 0.15}}}
        for name, size in MUNICIPALITIES.items()}
    raw["cohort"]["intake_months"] = 18
    contracts = {contract["name"]: contract for contract in raw["contracts"]}
    sib = contracts["sib"]
    sib["financing"]["tranches"][0]["amount"] = round(participants * 108_000, -5)
    sib["financing"]["guarantees"][0]["amount"] = round(participants * 31_000, -5)
    sib["cap_total"] = round(1.5 * sib["financing"]["tranches"][0]["amount"], -5)
    # A register comparison group of three times a national cohort would triple the work of
    # every draw; the roll-out keeps the contracts paid on outcomes: the rate card and the bond.
    raw["contracts"] = [contracts["narrow"], sib]
    return sibsim.load_scenario(raw)


def memory_table(scenario: sibsim.Scenario) -> None:
    """What a run needs in memory: all results in memory, or streamed to zarr."""
    print(f"{'draws':>9}  {'in memory':>10}  {'in memory, kept':>15}  {'zarr, kept':>10}")
    for draws in (DRAWS, 100_000):
        chunk = memory.chunk_draws_for(scenario, draws)
        sizes = [memory.estimate(scenario, draws, chunk_draws=chunk),
                 memory.estimate(scenario, draws, chunk_draws=chunk, variables=KEPT),
                 memory.estimate(scenario, draws, chunk_draws=chunk, variables=KEPT,
                                 streamed=True, in_flight=2)]
        shown = [memory.format_bytes(size.total) for size in sizes]
        print(f"{draws:9,d}  {shown[0]:>10}  {shown[1]:>15}  {shown[2]:>10}")


@contextlib.contextmanager
def client_for(address: str | None):
    """A dask client for SIBSIM_SCHEDULER, or None to run in this process."""
    if not address:
        yield None
        return
    from distributed import Client, LocalCluster

    if address == "local":
        with LocalCluster(threads_per_worker=1, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            yield client
    else:
        with Client(address) as client:
            yield client


def main() -> None:
    scenario = national(sibsim.load_scenario("danish-pilot"))
    participants = sum(MUNICIPALITIES.values())
    print(f"{scenario.name}: {participants:,} participants, {DRAWS} draws, seed {SEED}")
    print(f"({len(scenario.uncertain())} uncertain parameters, one multiplier per "
          "municipality among them)\n")

    print("1. Memory a run needs (estimated before anything is allocated)")
    memory_table(scenario)

    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / "national_rollout.zarr"
    shutil.rmtree(store, ignore_errors=True)
    chunk = max(1, DRAWS // 4)
    print(f"\n2. Streamed to {store.name} in chunks of {chunk} draws"
          f"{' on ' + SCHEDULER if SCHEDULER else ''}")
    with client_for(SCHEDULER) as client:
        started = time.perf_counter()
        sibsim.simulate_to_zarr(scenario, store, draws=DRAWS, seed=SEED, client=client,
                                chunk_draws=chunk, variables=KEPT, progress=False)
        first = time.perf_counter() - started
        started = time.perf_counter()
        sibsim.simulate_to_zarr(scenario, store, draws=DRAWS, seed=SEED, client=client,
                                chunk_draws=chunk, variables=KEPT, progress=False)
        again = time.perf_counter() - started
    print(f"run: {first:.1f} s; the same call again: {again:.2f} s (every chunk is already "
          "written: an interrupted run resumes the same way, with only the missing chunks)")

    print("\n3. The risk table, read back from the store")
    with xr.open_zarr(store) as result:
        print(format_summary(sibsim.summarize(result)))
        figure = sibsim.plot.net_position(result, party="municipality")
        figure.savefig(OUT / "national_rollout_net_position.png", dpi=120)
    print(f"\nwrote {OUT / 'national_rollout_net_position.png'}")


if __name__ == "__main__":
    main()
