"""Fit the built-in ``danish-pilot`` scenario: its priors updated by the pilot's counts.

Two built-in scenarios come out of one definition:

- ``danish-pilot-prior`` (``src/sibsim/data/danish-pilot-prior.toml``, written by hand, with
  a comment naming the source of every number): the priors. Their definition is
  :data:`PRIOR` below; ``--check`` verifies that the file holds exactly these.
- ``danish-pilot`` (``src/sibsim/data/danish-pilot.toml``, written by this script from the
  prior file): the baseline levels and the effects replaced by the distributions that
  :func:`sibsim.posterior` fits to their posterior given the pilot's counts (:data:`DATA`),
  with the posterior correlations of their normal scores.

The evidence (the parameter sheet and the published cases, ``docs/sources.md`` and
``docs/cases.md``):

- baseline job finding at the register level for cash-benefit recipients (J1: job entry
  within 12 months about 10%, range 5-18%), with a ``hazard_scale`` for its uncertainty;
  :func:`register_checks` reports the job entry within 12 months and the share still on
  benefit or in education after six years (J3: about 70%, 60-80%) of the counterfactual arm;
- the effects: E1's suggested prior (hazard ratio lognormal, median 1.8, 90% interval
  1.2-2.8) rests on the same small non-randomised comparison that gives the counts, so it is
  adjusted for the design before the counts update it, in the spirit of the research-design
  adjustments of the Washington State Institute for Public Policy: the log ratio is
  multiplied by :data:`DESIGN_SHRINK` and its sd by :data:`DESIGN_WIDEN`
  (:func:`design_adjusted`);
- the counts: COWI's register comparison (case 1; J2, E1), two months after the 12-month
  programme (``months_since_entry = 14``), about 65 per arm: 35% vs 17% in ordinary work is
  23/65 vs 11/65, 27% vs 13% in education or self-support is 18/65 vs 8/65.

The likelihood uses exact expected shares (every other distribution at its mean), so the
half-life, the frailty variance, the Herning multiplier and the discount rate keep their
priors in both files.

Run::

    python scripts/fit_danish_pilot.py           # print the fit, the checks and the diagnostics
    python scripts/fit_danish_pilot.py --check   # exit 1 if either file differs from the script
    python scripts/fit_danish_pilot.py --write   # write danish-pilot.toml from the prior file
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import sibsim
from sibsim.engine.exact import expected_share, share_by_months_since_entry

DATA_DIR = Path(__file__).resolve().parents[1] / "src" / "sibsim" / "data"
PRIOR_FILE = DATA_DIR / "danish-pilot-prior.toml"
POSTERIOR_FILE = DATA_DIR / "danish-pilot.toml"

#: Months since entry of the counts: 12 programme months + 2.
MONTHS_SINCE_ENTRY = 14
#: Participants per arm (P2: about 60-69, default 65).
N = 65
#: Case 1 (J2, E1): (state, arm, count of N).
COUNTS = [("employed", "counterfactual", 11), ("employed", "treatment", 23),
          ("education", "counterfactual", 8), ("education", "treatment", 18)]

#: E1's suggested prior of each effect: a hazard ratio lognormal with median 1.8 and 90%
#: interval 1.2-2.8 (sigma = ln(2.8 / 1.2) / (2 x 1.645) = 0.26).
E1_MEDIAN, E1_SIGMA = 1.8, 0.26
#: E1's 90% interval: the range the posterior median of each effect must lie in.
E1_INTERVAL = (1.2, 2.8)
#: The design adjustment: the log ratio is multiplied by DESIGN_SHRINK, its sd by DESIGN_WIDEN.
DESIGN_SHRINK, DESIGN_WIDEN = 0.5, 1.5

#: The parameters the counts update.
PARAMS = ["transitions[0].hazard_scale", "transitions[1].hazard_scale",
          "transitions[0].effect.ratio", "transitions[1].effect.ratio"]
#: Draws and seed of the posterior sample.
DRAWS, SEED = 4000, 1
#: Significant digits of a fitted distribution's parameters, decimals of a correlation.
DIGITS, RHO_DECIMALS = 3, 2


def design_adjusted(median: float = E1_MEDIAN, sigma: float = E1_SIGMA) -> dict:
    """E1's lognormal prior adjusted for the non-randomised design (rounded to 2 decimals).

    Examples
    --------
    >>> design_adjusted()
    {'lognormal': {'median': 1.34, 'sigma': 0.39}}
    """
    return {"lognormal": {"median": round(math.exp(DESIGN_SHRINK * math.log(median)), 2),
                          "sigma": round(DESIGN_WIDEN * sigma, 2)}}


#: The priors of danish-pilot-prior.toml, by key path (the sources are in its comments).
PRIOR = {
    "discount_rate": {"triangular": {"low": 0.025, "mode": 0.035, "high": 0.04}},   # D1
    "cohort.frailty_variance": {"uniform": {"low": 0.1, "high": 0.6}},             # assumption
    "cohort.sites.Herning.multiplier": {"triangular": {"low": 0.6, "mode": 0.8,
                                                       "high": 1.0}},              # P6
    "transitions[0].probability": {"by_months_in_state": [[0, 0.022], [12, 0.013],
                                                          [24, 0.010], [48, 0.008]]},  # J1
    "transitions[0].hazard_scale": {"lognormal": {"median": 1.0, "sigma": 0.4}},   # J1
    "transitions[0].effect.ratio": design_adjusted(),                              # E1
    "transitions[0].effect.fade_from_month": 12,                                   # P5
    "transitions[0].effect.half_life_months": {"uniform": {"low": 12, "high": 36}},
    "transitions[1].probability": 0.010,                                           # assumption
    "transitions[1].hazard_scale": {"lognormal": {"median": 1.0, "sigma": 0.5}},   # assumption
    "transitions[1].effect.ratio": design_adjusted(),                              # E1
    "transitions[1].effect.fade_from_month": 12,
    "transitions[1].effect.half_life_months": {"uniform": {"low": 12, "high": 36}},
    "correlations": [{"params": ["transitions[0].effect.ratio",
                                 "transitions[1].effect.ratio"], "rho": 0.6}],     # assumption
}


def data() -> list[dict]:
    """The counts in the form :func:`sibsim.posterior` takes."""
    return [{"state": state, "arm": arm, "months_since_entry": MONTHS_SINCE_ENTRY,
             "count": count, "n": N} for state, arm, count in COUNTS]


def prior_scenario() -> sibsim.Scenario:
    """The built-in ``danish-pilot-prior``."""
    return sibsim.load_scenario("danish-pilot-prior")


def prior_differences(scenario: sibsim.Scenario) -> list[str]:
    """The key paths at which ``scenario`` differs from :data:`PRIOR`."""
    return [path for path, value in PRIOR.items() if scenario.get(path) != value]


def run_fit(draws: int = DRAWS, seed: int = SEED):
    """The posterior of :data:`PARAMS` given :func:`data`: the fitted scenario and report."""
    return sibsim.posterior(prior_scenario(), data=data(), params=PARAMS, draws=draws,
                            seed=seed)


def _significant(x: float, digits: int = DIGITS) -> float:
    return float(f"{x:.{digits}g}")


def rounded_values(fitted: sibsim.Scenario) -> dict:
    """The fitted distributions as written to the TOML, by key path."""
    out = {}
    for path in PARAMS:
        (family, params), = fitted.get(path).items()
        out[path] = {family: {k: _significant(v) for k, v in params.items()}}
    return out


def rounded_correlations(fitted: sibsim.Scenario) -> list[dict]:
    """The fitted scenario's ``[[correlations]]``, rho rounded."""
    return [{"params": list(entry["params"]), "rho": round(entry["rho"], RHO_DECIMALS)}
            for entry in fitted.get("correlations") or []]


def register_checks(scenario: sibsim.Scenario) -> dict:
    """The counterfactual arm against the register (J1, J3), exact, at the means.

    ``job_entry_12`` is the share that has been in work at some time within 12 months of
    entry (the chain with no way out of work); ``support_72`` the share on benefit or in
    education six years after entry, pooled over the sites by size.
    """
    absorbing = scenario
    for k, transition in enumerate(scenario.data["transitions"]):
        if transition["from"] == "employed":
            absorbing = absorbing.replace(f"transitions[{k}].probability", 0.0)
    entry = expected_share(absorbing, state="employed", arm="counterfactual",
                           months_since_entry=12)
    share = share_by_months_since_entry(scenario, arm="counterfactual")
    sizes = np.array([site["size"] for site in scenario.data["cohort"]["sites"].values()])
    at = share.sel(months_since_entry=72)
    support = float((at.sel(state="benefits") + at.sel(state="education")).values @ sizes
                    / sizes.sum())
    return {"job_entry_12": entry, "support_72": support}


def _value_text(value) -> str:
    (family, params), = value.items()
    inner = ", ".join(f"{k} = {v:g}" for k, v in params.items())
    return f"{{ {family} = {{ {inner} }} }}"


def _line_of(lines: list[str], path: str) -> int:
    """The index of the line that sets ``path`` (``transitions[k].key`` or
    ``transitions[k].effect.key``) in the prior file."""
    match = re.fullmatch(r"transitions\[(\d+)\]\.(effect\.)?(\w+)", path)
    k, in_effect, key = int(match.group(1)), bool(match.group(2)), match.group(3)
    transition, table = -1, None
    for i, line in enumerate(lines):
        if line.startswith("["):
            if line.strip() == "[[transitions]]":
                transition, table = transition + 1, "transition"
            elif line.strip() == "[transitions.effect]":
                table = "effect"
            else:
                table = None
        elif (transition == k and table == ("effect" if in_effect else "transition")
              and line.startswith(f"{key} = ")):
            return i
    raise RuntimeError(f"{PRIOR_FILE.name}: no line sets {path}")


HEADER = """# =============================================================================
# danish-pilot: sibsim's built-in default scenario (the posterior)
# =============================================================================
# WRITTEN BY scripts/fit_danish_pilot.py FROM danish-pilot-prior.toml: do not edit by hand
# (edit the prior file and run the script with --write).  The lines marked "posterior" hold
# the distributions sibsim.posterior fitted to the pilot's counts (J2/E1: 11/65 vs 23/65 in
# work, 8/65 vs 18/65 in education, months_since_entry = 14), starting from the prior named
# on the line; the [[correlations]] at the end are the posterior correlations of their
# normal scores.  Every other number is the prior file's, with its source.
#"""


def posterior_text(prior_text: str, values: dict, correlations: list[dict]) -> str:
    """The posterior TOML: the prior file with the fitted values and correlations in place."""
    lines = prior_text.split("\n")
    for path, value in values.items():
        i = _line_of(lines, path)
        key, prior = lines[i].split(" = ", 1)
        prior = prior.split("#")[0].strip()
        lines[i] = f"{key} = {_value_text(value)}   # posterior; prior {prior}"
    text = "\n".join(lines)
    rule = "# " + "=" * 77
    _, _, rest = text.partition(f"\n{rule}\n")
    text = HEADER + "\n" + rest
    text = text.replace('name = "Danish pilot (priors): ', 'name = "Danish pilot: ')
    head, marker, _ = text.partition("# The two effects are measured in one study")
    if not marker:
        raise RuntimeError(f"{PRIOR_FILE.name}: no correlations section to replace")
    blocks = ["# Posterior correlations of the normal scores of the fitted parameters (the prior's"
              "\n# rho 0.6 between the two effects, assumption, is replaced by the posterior's)."]
    for entry in correlations:
        names = ", ".join(f'"{n}"' for n in entry["params"])
        blocks.append(f"[[correlations]]\nparams = [{names}]\nrho = {entry['rho']:g}")
    return head + "\n\n".join(blocks) + "\n"


def effect_within_evidence(values: dict) -> dict:
    """Whether each effect's posterior median lies in E1's 90% interval, by key path."""
    low, high = E1_INTERVAL
    return {path: low <= values[path]["lognormal"]["median"] <= high
            for path in PARAMS if path.endswith("effect.ratio")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="write danish-pilot.toml")
    action.add_argument("--check", action="store_true",
                        help="exit 1 when a shipped file differs from the script")
    args = parser.parse_args(argv)

    prior = prior_scenario()
    fitted, report = run_fit()
    values, correlations = rounded_values(fitted), rounded_correlations(fitted)
    with pd.option_context("display.width", 160, "display.float_format", "{:.4f}".format):
        print(report.drop(columns=["observed"]).to_string(index=False))
    attrs = report.attrs
    print(f"\nsampler: {attrs['sampler']}; Pareto k {attrs['pareto_k']:.3f}, "
          f"ESS {attrs['ess']:.0f} of {attrs['draws']}, trusted: {attrs['trusted']}")
    print("\nfitted (rounded):")
    for path, value in values.items():
        print(f"  {path} = {value}")
    for entry in correlations:
        print(f"  rho{tuple(entry['params'])} = {entry['rho']}")
    text = posterior_text(PRIOR_FILE.read_text(encoding="utf-8"), values, correlations)
    shipped = sibsim.load_scenario(tomllib_loads(text))
    print("\nregister checks (counterfactual, exact at the means): J1 job entry within 12 "
          "months about 10% (5-18%), J3 on benefit or in education after 6 years 60-80%")
    for name, scenario in (("prior", prior), ("posterior", shipped)):
        checks = register_checks(scenario)
        print(f"  {name:9s} job entry within 12 months {checks['job_entry_12']:.1%}, "
              f"on benefit or in education at 6 years {checks['support_72']:.1%}")
    within = effect_within_evidence(values)
    print(f"\neffect medians within E1's 90% interval {E1_INTERVAL}: {within}")

    problems = []
    differ = prior_differences(prior)
    if differ:
        problems.append(f"{PRIOR_FILE.name}: differs from PRIOR at {differ}")
    if not all(within.values()):
        problems.append("an effect's posterior median lies outside E1's 90% interval")
    if args.check:
        if POSTERIOR_FILE.read_text(encoding="utf-8") != text:
            problems.append(f"{POSTERIOR_FILE.name}: differs from a fresh fit (run --write)")
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            return 1
        print(f"\n{PRIOR_FILE.name} and {POSTERIOR_FILE.name}: match the script")
    if args.write:
        POSTERIOR_FILE.write_text(text, encoding="utf-8")
        print(f"\nwrote {POSTERIOR_FILE}")
    return 0


def tomllib_loads(text: str) -> dict:
    """The TOML text as a dict."""
    import tomllib

    return tomllib.loads(text)


if __name__ == "__main__":
    sys.exit(main())
