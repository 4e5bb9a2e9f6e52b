"""The assumptions register's directions: which way each assumption moves each party.

For each assumption of the built-in scenario (``danish-pilot``) in :data:`ASSUMPTIONS`, the
scenario is simulated with the assumption at a low and at a high value, on the same seed
(common random numbers), and the change in every party's mean net present value from the
low to the high value is reported, under each contract in which the party has a part.

- An uncertain value (a distribution) goes from its 10% to its 90% quantile, as in
  :func:`sibsim.tornado`; a fixed one over the range given in :data:`ASSUMPTIONS` (from
  its source, or a plausible range where it is an assumption).
- A change smaller than two Monte Carlo standard errors of the paired difference is shown
  as ``~0``; a party that the assumption cannot reach shows ``0``.

The key paths are found by what they are (the transition from ``benefits`` to ``employed``,
the flow named ``cash_benefit``), not by position, so the register follows a rebuilt
scenario; an assumption the scenario no longer has is listed as such. The documentation
build writes the table (``docs/_generated/assumption_directions.rst``, included by
``docs/assumptions.rst``) with this script; ``tests/test_assumptions_register.py`` runs it.

Run::

    python scripts/assumptions_register.py                    # print the table
    python scripts/assumptions_register.py --rst FILE         # the docs include
    python scripts/assumptions_register.py --draws 100        # quicker, rougher
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import sibsim
from sibsim.analysis import scale_value
from sibsim.scenario.schema import currency as currency_of

BUILT_IN = "danish-pilot"
DRAWS, SEED = 300, 1
#: The parties of the register, in column order (the region is left out: it only saves).
PARTIES = ("municipality", "state", "investor", "provider", "foundation")
QUANTILES = (0.1, 0.9)
MCSE_ALLOWED = 2.0


@dataclass(frozen=True)
class Assumption:
    """One assumption: an id, its key path (found in the scenario), and how to vary it."""

    id: str
    what: str
    path: Callable[[sibsim.Scenario], str | None]
    values: tuple | None = None      # fixed low and high values; None: the 10%/90% quantiles
    scale: tuple | None = None       # factors on a probability (or table), on the hazard scale
    #: Where the evidence leans: -1 if the sources suggest the true value is lower than the
    #: scenario's, +1 if higher, 0 if they do not say. With a lean, each party's result is
    #: marked as overstated or understated by the scenario's value.
    lean: int = 0


def transition(origin: str, destination: str, tail: str = "probability"):
    """The key path of the transition from ``origin`` to ``destination`` (plus ``tail``)."""
    def find(scenario: sibsim.Scenario) -> str | None:
        for i, t in enumerate(scenario.data["transitions"]):
            if t["from"] == origin and t["to"] == destination:
                return f"transitions[{i}].{tail}"
        return None
    return find


def flow(name: str, tail: str = "monthly"):
    """The key path of the flow called ``name`` (plus ``tail``)."""
    def find(scenario: sibsim.Scenario) -> str | None:
        for i, f in enumerate(scenario.data["flows"]):
            if f["name"] == name:
                return f"flows[{i}].{tail}"
        return None
    return find


def contract(name: str, tail: str):
    """The key path of ``tail`` in the contract called ``name``."""
    def find(scenario: sibsim.Scenario) -> str | None:
        names = scenario.contract_names()
        return f"contracts[{names.index(name)}].{tail}" if name in names else None
    return find


def fixed(path: str):
    """A key path that does not depend on the scenario's order of things."""
    return lambda scenario: path


ASSUMPTIONS = (
    Assumption("A1", "job finding without the programme (the whole table, hazard scale)",
               transition("benefits", "employed", "hazard_scale"), lean=-1),
    Assumption("A2", "programme effect on job finding (hazard ratio)",
               transition("benefits", "employed", "effect.ratio"), lean=-1),
    Assumption("A3", "half-life of the job effect after the programme year (months)",
               transition("benefits", "employed", "effect.half_life_months"),
               values=(12, 36)),
    Assumption("A4", "programme effect on starting education (hazard ratio)",
               transition("benefits", "education", "effect.ratio"), lean=-1),
    Assumption("A5", "relapse from work, first year of a job",
               transition("employed", "benefits",
                          "probability.by_months_in_state[0][1]")),
    Assumption("A6", "relapse from work, second year of a job",
               transition("employed", "benefits",
                          "probability.by_months_in_state[1][1]")),
    Assumption("A7", "relapse from work after two years",
               transition("employed", "benefits", "probability.by_months_in_state[2][1]"),
               values=(0.01, 0.03)),
    Assumption("A8", "leaving the system from benefit (moving away, retiring)",
               transition("benefits", "exited"), values=(0.001, 0.004)),
    Assumption("A9", "unobserved differences between participants (frailty variance)",
               fixed("cohort.frailty_variance"), values=(0.1, 0.6)),
    Assumption("A10", "Herning's referrals harder to lift (site multiplier)",
               fixed("cohort.sites.Herning.multiplier"), values=(0.6, 1.0)),
    Assumption("A11", "months on benefit before entry (upper end of the uniform)",
               fixed("cohort.prior_months.uniform.high"), values=(24, 60)),
    Assumption("A12", "business-cycle shock on job finding (sd)",
               fixed("economy.shock_sd"), values=(0.0, 0.4)),
    Assumption("A13", "cash benefit per month (mix of benefit levels)", flow("cash_benefit")),
    Assumption("A14", "municipality's kept share of its income tax (equalisation)",
               flow("municipal_tax_on_wage", "split.municipality"), values=(0.15, 0.40)),
    Assumption("A15", "income tax on the wage, municipal (a higher wage: more negative)",
               flow("municipal_tax_on_wage")),
    Assumption("A16", "education grant per month (share on SU)", flow("education_grant")),
    Assumption("A17", "extra health cost on benefit", flow("health_extra_on_benefit"),
               lean=-1),
    Assumption("A18", "extra children-and-family cost on benefit",
               flow("children_family_extra_on_benefit"), lean=-1),
    Assumption("A19", "programme cost per participant",
               fixed("programme.cost_per_participant")),
    Assumption("A20", "real discount rate", fixed("discount_rate"), values=(0.025, 0.04)),
    Assumption("A21", "horizon in months", fixed("months"), values=(60, 120)),
    Assumption("A22", "SIB rate card price of a six-month job",
               contract("sib", "outcomes[0].price"), values=(80000, 120000)),
    Assumption("A23", "foundation's first-loss guarantee",
               contract("sib", "financing.guarantees[0].amount"), values=(1000000, 3000000)),
)


def variants(scenario: sibsim.Scenario, assumption: Assumption):
    """The key path, the low and high values (text) and the two scenarios of an assumption;
    None if the scenario does not have it."""
    path = assumption.path(scenario)
    if path is None:
        return None
    try:
        value = scenario.get(path)
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if assumption.scale is not None:
        label = " to ".join(f"x{f:g}" for f in assumption.scale)
        return path, label, [scenario.replace(path, scale_value(value, f, probability=True,
                                                               where=path))
                             for f in assumption.scale]
    if assumption.values is not None:
        low, high = assumption.values
    else:
        distribution = scenario.uncertain().get(path)
        if distribution is None:
            return None
        low, high = (float(distribution.quantile(q)) for q in QUANTILES)
    return path, f"{number(low)} to {number(high)}", [scenario.replace(path, low),
                                                       scenario.replace(path, high)]


def number(value: float) -> str:
    """A value for the table: whole numbers with thousands separators, else 3 digits."""
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def columns(result) -> list[tuple[str, str]]:
    """(contract, party) pairs with a part in the deal, parties in :data:`PARTIES` order; the
    state once (its npv does not depend on the contract)."""
    table = sibsim.summarize(result)
    pairs = [(c, p) for c, p, role in zip(table["contract"], table["party"], table["role"])
             if p in PARTIES and role != "none"]
    out, seen_state = [], False
    for party in PARTIES:
        for c, p in pairs:
            if p == party and not (party == "state" and seen_state):
                out.append((c, p))
                seen_state = seen_state or party == "state"
    return out


def register(draws: int = DRAWS, seed: int = SEED,
             only: tuple[str, ...] | None = None) -> tuple[list, list, dict]:
    """The columns; per assumption (all, or those whose id is in ``only``): the assumption,
    its key path with the values, and the changes per column (None where it is missing);
    and the run's draws, seed and currency."""
    scenario = sibsim.load_scenario(BUILT_IN)
    base = sibsim.simulate(scenario, draws=draws, seed=seed, progress=None)
    cols = columns(base)
    rows = []
    for assumption in ASSUMPTIONS:
        if only is not None and assumption.id not in only:
            continue
        found = variants(scenario, assumption)
        if found is None:
            rows.append((assumption, None, None))
            continue
        path, label, (low, high) = found
        path = f"{path}: {label}"
        npv = [sibsim.simulate(v, draws=draws, seed=seed, progress=None)["npv"]
               for v in (low, high)]
        changes = []
        for c, p in cols:
            diff = (npv[1].sel(contract=c, party=p) - npv[0].sel(contract=c, party=p)).values
            mcse = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else 0.0
            changes.append((float(diff.mean()), float(mcse), bool(np.all(diff == 0))))
        rows.append((assumption, path, changes))
    return cols, rows, {"draws": draws, "seed": seed, "currency": currency_of(scenario.data)}


def cell(change: tuple[float, float, bool], lean: int = 0) -> str:
    """A change in thousands: ``0`` (cannot reach), ``~0`` (within 2 MCSE) or signed; with a
    lean, whether the scenario's value overstates or understates the party's result."""
    mean, mcse, none = change
    if none:
        return "0"
    if abs(mean) <= MCSE_ALLOWED * mcse:
        return "~0"
    text = f"{mean / 1e3:+,.0f}"
    if lean:
        # The truth lies in the lean's direction: the result moves by sign(lean * change).
        text += " (over)" if lean * mean < 0 else " (under)"
    return text


def rst_table(cols, rows, info) -> str:
    """The reStructuredText include of docs/assumptions.rst."""
    lines = [".. This file is generated by scripts/assumptions_register.py; do not edit.", "",
             f".. list-table:: Change in each party's mean npv from the low to the high value "
             f"(thousand {info['currency']}; {info['draws']} draws, seed {info['seed']})",
             "   :header-rows: 1", "", "   * - id", "     - key path (low to high)"]
    lines += [f"     - {p} ({c})" if p != "state" else "     - state" for c, p in cols]
    for assumption, path, changes in rows:
        lines.append(f"   * - {assumption.id}")
        if changes is None:
            lines.append(f"     - {assumption.what}: not in this scenario")
            lines += ["     -"] * len(cols)
            continue
        key, label = path.split(": ", 1)
        lines.append(f"     - ``{key}``: {label}")
        lines += [f"     - {cell(change, assumption.lean)}" for change in changes]
    return "\n".join(lines) + "\n"


def text_table(cols, rows) -> str:
    head = "  ".join(f"{(p[:4] + ' ' + c[:4]) if p != 'state' else 'state':>9}" for c, p in cols)
    lines = [f"{'id':4} {head}  key path (changes in thousands, low to high value)"]
    for assumption, path, changes in rows:
        if changes is None:
            lines.append(f"{assumption.id:4} (not in this scenario: {assumption.what})")
            continue
        lines.append(f"{assumption.id:4} " + "  ".join(f"{cell(c, assumption.lean):>9}"
                                                       for c in changes)
                     + f"  {path}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rst", type=Path, help="write the reStructuredText include here")
    parser.add_argument("--draws", type=int, default=DRAWS, help="draws per run")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of every run")
    args = parser.parse_args(argv)
    cols, rows, info = register(args.draws, args.seed)
    if args.rst is not None:
        args.rst.parent.mkdir(parents=True, exist_ok=True)
        args.rst.write_text(rst_table(cols, rows, info), encoding="utf-8")
    print(text_table(cols, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
