"""Calibrate the built-in ``danish-pilot`` scenario to case 1 of the published cases.

The published cases are ``docs/cases.md``; the parameter sheet with rows J2 and E1 is
``docs/sources.md``. COWI's register comparison of DRC's Business Training in Herning and
Viborg (case 1; J2 and E1) found, two months after the programme ended:

==========================================  ============  ==========
share of the group                          comparison    programme
==========================================  ============  ==========
in ordinary work (any hours)                17%           35%
self-supporting or in education             13%           27%
==========================================  ============  ==========

The programme lasts 12 months in the scenario, so "two months after the programme" is
``months_since_entry = 14``. The comparison group is the counterfactual arm, the programme
group the treatment arm. Four targets, four factors (an exact fit):

- ``transitions[0].probability``: job finding from benefit (every entry of the table, on the
  hazard scale), fixed mostly by the 17% of the counterfactual arm;
- ``transitions[1].probability``: start of education or self-support, by the 13%;
- ``transitions[0].effect.ratio``: the median of the job-finding effect, by the 35%;
- ``transitions[1].effect.ratio``: the median of the education effect, by the 27%.

The shares are exact expected shares (:func:`sibsim.engine.exact.expected_share`): over frailty
and prior months, every distribution at its mean, no economy shock. The effects' spread
(sigma 0.26, E1's prior) is kept: the calibration moves their medians only.

The calibration always starts from the values in :data:`START` (the scenario's values before
calibration, each with its source in the TOML comments), so running it again gives the same
numbers. The values written to the TOML are rounded (:func:`rounded_values`).

Run::

    python scripts/calibrate_danish_pilot.py           # print the fit report
    python scripts/calibrate_danish_pilot.py --check   # exit 1 if the TOML differs from the fit
    python scripts/calibrate_danish_pilot.py --write   # write the fitted values into the TOML
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import pandas as pd

import sibsim
from sibsim.engine.exact import expected_share

TOML = Path(__file__).resolve().parents[1] / "src" / "sibsim" / "data" / "danish-pilot.toml"

#: Months since entry at which the targets were measured: 12 programme months + 2.
MONTHS_SINCE_ENTRY = 14

#: Case 1 (J2, E1): (state, arm, share).
TARGETS = [
    ("employed", "counterfactual", 0.17),
    ("employed", "treatment", 0.35),
    ("education", "counterfactual", 0.13),
    ("education", "treatment", 0.27),
]

#: The values before calibration (J1's decline with duration, E1's prior): the fit starts
#: here every time.
START = {
    "transitions[0].probability": {"by_months_in_state": [[0, 0.040], [12, 0.030], [24, 0.024],
                                                          [48, 0.019]]},
    "transitions[1].probability": 0.017,
    "transitions[0].effect.ratio": {"lognormal": {"median": 1.8, "sigma": 0.26}},
    "transitions[1].effect.ratio": {"lognormal": {"median": 1.8, "sigma": 0.26}},
}

#: Decimals kept in the TOML: probabilities to 4, effect medians to 2.
PROBABILITY_DECIMALS = 4
MEDIAN_DECIMALS = 2


def targets() -> list[dict]:
    """The calibration targets in the form :func:`sibsim.calibrate` takes."""
    return [{"state": state, "arm": arm, "months_since_entry": MONTHS_SINCE_ENTRY,
             "share": share} for state, arm, share in TARGETS]


def starting_scenario() -> sibsim.Scenario:
    """The shipped scenario with the values of :data:`START` put back."""
    scenario = sibsim.load_scenario("danish-pilot")
    for path, value in START.items():
        scenario = scenario.replace(path, value)
    return scenario


def run_calibration() -> tuple[sibsim.Scenario, pd.DataFrame]:
    """Calibrate from :data:`START`; the calibrated scenario and the fit report."""
    return sibsim.calibrate(starting_scenario(), targets=targets(), adjust=list(START))


def rounded_values(calibrated: sibsim.Scenario) -> dict:
    """The calibrated values as written to the TOML (rounded), by key path."""
    out = {}
    for path in START:
        value = calibrated.get(path)
        if isinstance(value, dict) and "by_months_in_state" in value:
            value = {"by_months_in_state": [[m, round(p, PROBABILITY_DECIMALS)]
                                            for m, p in value["by_months_in_state"]]}
        elif isinstance(value, dict) and "lognormal" in value:
            params = value["lognormal"]
            value = {"lognormal": {"median": round(params["median"], MEDIAN_DECIMALS),
                                   "sigma": params["sigma"]}}
        else:
            value = round(value, PROBABILITY_DECIMALS)
        out[path] = value
    return out


def _toml_probability(value) -> str:
    if isinstance(value, dict):
        rows = ", ".join(f"[{m}, {p:.{PROBABILITY_DECIMALS}f}]"
                         for m, p in value["by_months_in_state"])
        return f"{{ by_months_in_state = [{rows}] }}"
    return f"{value:.{PROBABILITY_DECIMALS}f}"


def _transition_blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each [[transitions]] table in the TOML text."""
    starts = [m.start() for m in re.finditer(r"^\[\[transitions\]\]\s*$", text, re.M)]
    blocks = []
    for start in starts:
        following = re.compile(r"^\[", re.M).search(text, start + 1)
        blocks.append((start, following.start() if following else len(text)))
    return blocks


def updated_toml(text: str, values: dict) -> str:
    """The TOML text with the calibrated values in place; comments are kept."""
    blocks = _transition_blocks(text)
    edits = []  # (start, end, replacement), applied from the end
    for path, value in values.items():
        index = int(re.match(r"transitions\[(\d+)\]", path).group(1))
        start, end = blocks[index]
        block = text[start:end]
        if path.endswith(".probability"):
            found = re.search(r"^probability = (\{[^\n#]*\}|[0-9.eE+-]+)", block, re.M)
            replacement = _toml_probability(value)
        else:
            found = re.search(r"^effect = \{ ratio = \{ lognormal = \{ median = ([0-9.]+)",
                              block, re.M)
            replacement = f"{value['lognormal']['median']:.{MEDIAN_DECIMALS}f}"
        if found is None:
            raise RuntimeError(f"{TOML}: cannot find the value of {path} to update")
        edits.append((start + found.start(1), start + found.end(1), replacement))
    for begin, stop, replacement in sorted(edits, reverse=True):
        text = text[:begin] + replacement + text[stop:]
    return text


def shipped_values() -> dict:
    """The values of the calibrated key paths in the shipped TOML."""
    scenario = sibsim.load_scenario(tomllib.loads(TOML.read_text(encoding="utf-8")))
    return {path: scenario.get(path) for path in START}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="write the values into the TOML")
    action.add_argument("--check", action="store_true",
                        help="exit 1 when the TOML differs from a fresh fit")
    args = parser.parse_args(argv)

    calibrated, report = run_calibration()
    values = rounded_values(calibrated)
    with pd.option_context("display.width", 120, "display.float_format", "{:.4f}".format):
        print(report.to_string(index=False))
    print(f"success: {report.attrs['success']} ({report.attrs['message']})")
    print("\nrounded values for the TOML:")
    for path, value in values.items():
        print(f"  {path} = {value}")

    # The shares of the rounded values (what the shipped scenario gives).
    rounded = starting_scenario()
    for path, value in values.items():
        rounded = rounded.replace(path, value)
    print(f"\nexact expected shares at months_since_entry = {MONTHS_SINCE_ENTRY}, rounded values:")
    for state, arm, share in TARGETS:
        fitted = expected_share(rounded, state=state, arm=arm,
                                months_since_entry=MONTHS_SINCE_ENTRY)
        print(f"  {state:9s} {arm:14s} target {share:.1%}  fitted {fitted:.2%}")

    if args.check:
        shipped = shipped_values()
        differ = [path for path in values if shipped[path] != values[path]]
        if differ:
            print(f"\n{TOML.name}: differs from the fit at {differ}", file=sys.stderr)
            return 1
        print(f"\n{TOML.name}: matches the fit")
    if args.write:
        text = TOML.read_text(encoding="utf-8")
        new_text = updated_toml(text, values)
        check = sibsim.load_scenario(tomllib.loads(new_text))
        assert all(check.get(path) == value for path, value in values.items())
        TOML.write_text(new_text, encoding="utf-8")
        print(f"\nwrote {TOML}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
