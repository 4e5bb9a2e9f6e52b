"""The validation table: the built-in model against independent published figures.

Every row compares one figure the model produces with a figure published elsewhere: the
parameter sheet (``docs/sources.md``, rows J1, J3, J4, T10) and the published cases
(``docs/cases.md``, cases 1-3). For each it gives the source, the reference figure and the
range it is judged against, the model's value, the difference and a verdict.

How the model's value is made:

- **exact** rows use :func:`sibsim.engine.exact.expected_share` (the exact Markov chain over
  frailty and prior months, every per-draw distribution at its mean, no economy shock), on
  the built-in scenario or on a copy changed with :meth:`sibsim.Scenario.replace` (a state
  made absorbing to count first entries, the cohort started in work to follow job spells);
- the **flows** row sums the scenario's public flows per participant-month at their means;
- **simulation** rows run :func:`sibsim.simulate` on the published cases' scenario files
  (``examples/koto_sib.toml``, ``examples/dwp_rate_card.toml``) and give the mean over the
  draws with its Monte Carlo standard error.

The verdict rule (stated in the table's notes and in ``docs/validation.rst``): the model's
value is **within range** when it lies in the reference range; for a simulated value, when
the interval of two Monte Carlo standard errors around it meets the range. The range is the
source's own range where it gives one (or the range the parameter sheet suggests for that
very quantity); for a calibration target, the published figure's rounding; for a published
point figure without a range, the figure +-20%. Anything else is **outside**.

Nothing here is hard-coded from a run: the table is recomputed from the shipped scenario
files every time, so it follows any change to them. The documentation build writes the
table (``docs/_generated/validation.rst``, included by ``docs/validation.rst``) with this
script; ``tests/test_validation_table.py`` runs it.

Run::

    python scripts/validation_table.py                 # print the table
    python scripts/validation_table.py --rst FILE      # write the reStructuredText include
    python scripts/validation_table.py --csv FILE      # write the rows as CSV
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

import sibsim
from sibsim.engine.chain import central
from sibsim.engine.exact import expected_share
from sibsim.scenario.schema import currency as currency_of

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
BUILT_IN = "danish-pilot"

#: Seed and draws of the simulated rows (the published cases' scenario files).
SEED = 1
KOTO_DRAWS = 400
DWP_DRAWS = 200

#: Relative half-width of the range given to a published point figure without one.
POINT_TOLERANCE = 0.20
#: Monte Carlo standard errors allowed between a simulated value and the range.
MCSE_ALLOWED = 2.0

WITHIN, OUTSIDE = "within range", "outside"


@dataclass(frozen=True)
class Row:
    """One comparison: a model figure against a published one."""

    id: str
    quantity: str
    source: str          # reStructuredText, with a link to the docs page of the source
    reference: float     # the published (or central suggested) figure
    low: float           # the range the model's value is judged against
    high: float
    range_from: str      # where the range comes from
    model: float
    mcse: float          # 0 for exact rows
    method: str
    unit: str            # "share", or a currency and what the amount is per
    note: str

    @property
    def difference(self) -> float:
        return self.model - self.reference

    @property
    def verdict(self) -> str:
        slack = MCSE_ALLOWED * self.mcse
        return WITHIN if self.low - slack <= self.model <= self.high + slack else OUTSIDE

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(difference=self.difference, verdict=self.verdict)
        return out


def point_range(value: float) -> tuple[float, float]:
    """The range of a point figure without a published one: +-POINT_TOLERANCE."""
    a, b = value * (1 - POINT_TOLERANCE), value * (1 + POINT_TOLERANCE)
    return min(a, b), max(a, b)


# -- changed copies of a scenario --------------------------------------------------------------

def _indices(scenario: sibsim.Scenario, *, origin: str | None = None,
             destination: str | None = None) -> list[int]:
    """Indices of the transitions from ``origin`` and/or to ``destination``."""
    return [i for i, t in enumerate(scenario.data["transitions"])
            if origin in (None, t["from"]) and destination in (None, t["to"])]


def switched_off(scenario: sibsim.Scenario, indices: list[int]) -> sibsim.Scenario:
    """A copy with the probabilities of the given transitions set to 0."""
    for i in indices:
        scenario = scenario.replace(f"transitions[{i}].probability", 0.0)
    return scenario


def first_entry_scenario(scenario: sibsim.Scenario, state: str) -> sibsim.Scenario:
    """A copy in which ``state`` is absorbing: its share at month m is the share that has
    entered it by then (the first-passage distribution)."""
    return switched_off(scenario, _indices(scenario, origin=state))


def job_spell_scenario(scenario: sibsim.Scenario, state: str = "employed",
                       *, reentry: bool = False) -> sibsim.Scenario:
    """A copy whose cohort starts in ``state`` at the start of a spell; without ``reentry``
    nobody enters it again, so its share at month m is the spell's survival to m."""
    spell = scenario.replace("cohort.initial_state", state).replace("cohort.prior_months", 0)
    return spell if reentry else switched_off(spell, _indices(spell, destination=state))


def monthly_flows(scenario: sibsim.Scenario, state: str) -> float:
    """Public cost per participant-month in ``state``, every flow at its mean (revenue < 0)."""
    return float(sum(central(flow["monthly"]) for flow in scenario.data["flows"]
                     if flow["state"] == state))


# -- the rows of the built-in scenario ---------------------------------------------------------

def _share(scenario, state: str, months: int, arm: str = "counterfactual") -> float:
    return expected_share(scenario, state=state, arm=arm, months_since_entry=months)


def labour_market_rows(scenario: sibsim.Scenario) -> list[Row]:
    """Job entry, persistence on benefit and job retention, against J1, J3 and J4."""
    benefit = scenario.data["cohort"]["initial_state"]
    entered = _share(first_entry_scenario(scenario, "employed"), "employed", 12)
    on_benefit_72 = _share(scenario, benefit, 72)
    states = scenario.data["states"]
    education_72 = _share(scenario, "education", 72) if "education" in states else 0.0
    spell = job_spell_scenario(scenario)
    rows = [
        Row("J1a", "entered work within 12 months of entry (no programme)",
            ":ref:`J1 <sources-transitions>` (the sheet's figure for the target group)",
            0.10, 0.05, 0.18, "the sheet's range for the target group", entered, 0.0,
            "exact, work made absorbing", "share",
            "First entries into work by month 12 of the counterfactual arm, from a cohort "
            "already 12-60 months on benefit."),
        Row("J1b", "in work 19 months after entry (no programme)",
            ":ref:`J1 <sources-transitions>` (all cash-benefit recipients, April 2016 to "
            "November 2017)",
            0.125, *point_range(0.125), "published point +-20%",
            _share(scenario, "employed", 19), 0.0, "exact", "share",
            "J1 counts all recipients of the cash-benefit system; the target group is "
            "expected to do worse, not better."),
        Row("J1c", "still on cash benefit 19 months after entry (no programme)",
            ":ref:`J1 <sources-transitions>` (60% still in the cash-benefit system)",
            0.60, *point_range(0.60), "published point +-20%",
            _share(scenario, benefit, 19), 0.0, "exact", "share", ""),
        Row("J3", "still on public support six years after entry (no programme)",
            ":ref:`J3 <sources-transitions>` (an advocacy group citing register analyses)",
            0.70, 0.60, 0.80, "the sheet's range", on_benefit_72, 0.0, "exact", "share",
            f"The model's value counts the benefit state; with the education state (partly "
            f"on a student grant) added it is {on_benefit_72 + education_72:.1%}."),
        Row("J4a", "still in the first job 12 months after starting it",
            ":ref:`J4 <sources-transitions>` (former long-term recipients, 2015)",
            0.50, *point_range(0.50), "published point +-20%",
            _share(spell, "employed", 12), 0.0, "exact, no re-entry", "share",
            "Counted with re-entries (a new job after a relapse) it is "
            f"{_share(job_spell_scenario(scenario, reentry=True), 'employed', 12):.1%}."),
        Row("J4b", "still in the first job 24 months after starting it",
            ":ref:`J4 <sources-transitions>` (former long-term recipients, 2015)",
            0.33, *point_range(0.33), "published point +-20%",
            _share(spell, "employed", 24), 0.0, "exact, no re-entry", "share", ""),
    ]
    return rows


def public_gain_row(scenario: sibsim.Scenario) -> Row:
    """The net public gain of a year in work instead of on benefit, against T10 and T11."""
    benefit = scenario.data["cohort"]["initial_state"]
    gain = 12 * (monthly_flows(scenario, benefit) - monthly_flows(scenario, "employed"))
    currency = currency_of(scenario.data)
    return Row(
        "T10", "net public gain of a year in work instead of on benefit, all budgets",
        ":ref:`T10 <sources-tax>`, :ref:`T11 <sources-tax>` (Ministry of Employment 2021; "
        "DA 2023)",
        260_000.0, 180_000.0, 330_000.0,
        "the sheet's prior for this group (2025 prices)", gain, 0.0,
        "flows at their means", f"{currency} a year per person",
        "The sheet's prior is triangular 180k / 260k / 330k; T10's national average is about "
        "300k and T11's about 235k. The scenario leaves out indirect taxes and saved "
        "activation costs, which would raise the gain a little.")


def herning_viborg_rows(scenario: sibsim.Scenario) -> list[Row]:
    """Case 1: the four shares two months after the programme (the counts of the fit)."""
    months = scenario.data["programme"]["months"] + 2
    cases = [("employed", "counterfactual", 0.17, "in ordinary work, comparison group"),
             ("employed", "treatment", 0.35, "in ordinary work, participants"),
             ("education", "counterfactual", 0.13, "self-supporting or in education, "
                                                   "comparison group"),
             ("education", "treatment", 0.27, "self-supporting or in education, "
                                              "participants")]
    return [Row(f"C1{'abcd'[k]}", f"{label}, two months after the programme",
                ":ref:`case 1 <case-herning-viborg>` (COWI 2022; :ref:`J2, E1 "
                "<sources-transitions>`)",
                share, share - 0.005, share + 0.005, "rounding of the published figure",
                _share(scenario, state, months, arm), 0.0, "exact", "share",
                "The pilot's counts update the scenario's priors (scripts/fit_danish_pilot.py, "
                "a posterior, not an exact fit): agreement shows the fit, not an independent "
                "check." if k == 0 else "Data of the posterior fit, as above.")
            for k, (state, arm, share, label) in enumerate(cases)]


# -- the rows of the published cases' scenario files (simulated) -------------------------------

def _mean(values: np.ndarray) -> tuple[float, float]:
    """Mean over draws and its Monte Carlo standard error."""
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))


def _per_person_difference(result, people: int, category: str | None = None) -> np.ndarray:
    """Counterfactual minus treatment public cost per person, per draw (undiscounted)."""
    cost = result["cost"]
    if category is not None:
        cost = cost.sel(category=category)
    cost = cost.sum([d for d in cost.dims if d not in ("draw", "arm")])
    return (cost.sel(arm="counterfactual") - cost.sel(arm="treatment")).values / people


def koto_rows() -> list[Row]:
    """Case 2 (Koto-SIB): public saving, taxes, transfers per person, investors' multiple."""
    scenario = sibsim.load_scenario(EXAMPLES / "koto_sib.toml")
    result = sibsim.simulate(scenario, draws=KOTO_DRAWS, seed=SEED, progress=None)
    people = sum(site["size"] for site in scenario.data["cohort"]["sites"].values())
    currency = currency_of(scenario.data)
    method = f"simulation, {KOTO_DRAWS} draws, seed {SEED}"
    source = ":ref:`case 2 <case-koto-sib>` (Koto-SIB, reported 2024)"
    unit = f"{currency} per person over three years"
    saving = _mean(_per_person_difference(result, people))
    taxes = _mean(_per_person_difference(result, people, "tax"))
    transfers = _mean(-_per_person_difference(result, people, "benefits"))
    contract = scenario.data["contracts"][0]["name"]
    multiple = _mean(result["investor_multiple"].sel(contract=contract).values)
    return [
        Row("C2a", "public saving per person (examples/koto_sib.toml)", source, 2670.0,
            *point_range(2670.0), "published point +-20%", *saving, method, unit,
            "Undiscounted, programme arm against the randomised control arm."),
        Row("C2b", "more taxes paid per person", source, 1330.0, *point_range(1330.0),
            "published point +-20%", *taxes, method, unit, ""),
        Row("C2c", "change in transfers received per person", source, -1340.0,
            *point_range(-1340.0), "published point +-20%", *transfers, method, unit, ""),
        Row("C2d", "investors' money multiple (mean)", source, 1.0, 0.0, 1.0,
            "the case: below 1", *multiple, method, "multiple",
            "The case reports that the variable payment stayed far below the capital."),
    ]


def dwp_rows() -> list[Row]:
    """Case 3 (DWP Innovation Fund): what a gross rate card pays with no effect."""
    scenario = sibsim.load_scenario(EXAMPLES / "dwp_rate_card.toml")
    result = sibsim.simulate(scenario, draws=DWP_DRAWS, seed=SEED, progress=None)
    people = sum(site["size"] for site in scenario.data["cohort"]["sites"].values())
    currency = currency_of(scenario.data)
    method = f"simulation, {DWP_DRAWS} draws, seed {SEED}"
    source = ":ref:`case 3 <case-dwp>` (DWP Innovation Fund, New Horizons)"
    paid = result["payment"].sum("month")
    per_person = _mean(paid.sel(contract="rate_card").values / people)
    ratio = float(paid.sel(contract="gain_share").mean() / paid.sel(contract="rate_card").mean())
    return [
        Row("C3a", "rate card paid per participant, no effect (examples/dwp_rate_card.toml)",
            source, 1067.0, *point_range(1067.0), "published point +-20%", *per_person,
            method, f"{currency} per participant",
            "GBP 4.50m for 4,222 participants; the scenario has no programme effect, as the "
            "fund's matched evaluation found for those over 16."),
        Row("C3b", "counterfactual-measured contract's payment, share of the rate card's",
            source, 0.0, 0.0, 0.05, "the case: pays little (taken as below 5%)", ratio, 0.0,
            method + " (ratio of means)", "share", ""),
    ]


def rows(*, cases: bool = True) -> list[Row]:
    """Every row of the table: the built-in scenario's, then (with ``cases``) the
    simulated rows of the published cases' scenario files."""
    scenario = sibsim.load_scenario(BUILT_IN)
    out = labour_market_rows(scenario) + [public_gain_row(scenario)]
    out += herning_viborg_rows(scenario)
    if cases:
        out += koto_rows() + dwp_rows()
    return out


# -- output --------------------------------------------------------------------------------------

def fmt(value: float, unit: str, *, signed: bool = False) -> str:
    """A value in its unit: shares in percent, multiples to 2 decimals, money to whole units."""
    sign = "+" if signed else ""
    if unit == "share":
        return f"{value:{sign}.1%}"
    if unit == "multiple":
        return f"{value:{sign}.3f}"
    return f"{value:{sign},.0f}"


def fmt_difference(row: Row) -> str:
    if row.unit == "share":
        return f"{round(100 * row.difference, 1) + 0.0:+.1f} pt"  # + 0.0: no "-0.0"
    return fmt(row.difference, row.unit, signed=True)


def fmt_model(row: Row) -> str:
    text = fmt(row.model, row.unit)
    if row.mcse:
        text += f" +- {fmt(row.mcse, row.unit)}"
    return text


def fmt_reference(row: Row) -> str:
    return (f"{fmt(row.reference, row.unit)} ({fmt(row.low, row.unit)} to "
            f"{fmt(row.high, row.unit)}: {row.range_from})")


def unit_label(row: Row) -> str:
    return "" if row.unit in ("share", "multiple") else f" [{row.unit}]"


def text_table(table: list[Row]) -> str:
    """A plain-text table, one line per row."""
    lines = [f"{'id':4}  {'model':>14}  {'reference':>10}  {'difference':>10}  "
             f"{'verdict':12}  quantity", "-" * 100]
    for row in table:
        lines.append(f"{row.id:4}  {fmt_model(row):>14}  {fmt(row.reference, row.unit):>10}  "
                     f"{fmt_difference(row):>10}  {row.verdict:12}  {row.quantity}"
                     f"{unit_label(row)}")
    return "\n".join(lines)


def rst_table(table: list[Row]) -> str:
    """The reStructuredText include of docs/validation.rst: a list-table and its notes."""
    lines = [".. This file is generated by scripts/validation_table.py; do not edit.", "",
             ".. list-table:: The built-in model against independent figures",
             "   :header-rows: 1", "   :widths: 5 27 20 20 12 10 6", "",
             "   * - id", "     - quantity", "     - source", "     - reference (range)",
             "     - model", "     - difference", "     - verdict"]
    for row in table:
        lines += [f"   * - {row.id}", f"     - {row.quantity}{unit_label(row)}",
                  f"     - {row.source}", f"     - {fmt_reference(row)}",
                  f"     - {fmt_model(row)} ({row.method})",
                  f"     - {fmt_difference(row)}", f"     - **{row.verdict}**"]
    lines += ["", "Notes on the rows:", ""]
    lines += [f"- **{row.id}**: {row.note}" for row in table if row.note]
    within = sum(row.verdict == WITHIN for row in table)
    lines += ["", f"{within} of {len(table)} rows within range. Shares are of the cohort; "
              "differences of shares are in percentage points (pt); +- is one Monte Carlo "
              "standard error.", ""]
    return "\n".join(lines)


def write_csv(table: list[Row], path: Path) -> None:
    fields = list(table[0].as_dict())
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in table:
            writer.writerow(row.as_dict())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rst", type=Path, help="write the reStructuredText include here")
    parser.add_argument("--csv", type=Path, help="write the rows as CSV here")
    parser.add_argument("--no-cases", action="store_true",
                        help="leave out the simulated rows of the published cases")
    args = parser.parse_args(argv)
    table = rows(cases=not args.no_cases)
    if args.rst is not None:
        args.rst.parent.mkdir(parents=True, exist_ok=True)
        args.rst.write_text(rst_table(table), encoding="utf-8")
    if args.csv is not None:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        write_csv(table, args.csv)
    print(text_table(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
