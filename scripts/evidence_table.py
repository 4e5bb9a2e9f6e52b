"""The built-in scenario under its priors and under its posterior, side by side.

Writes ``docs/evidence_table.inc`` (included by ``docs/evidence.rst``): for the fitted
parameters, each distribution's median and 90% interval in ``danish-pilot-prior`` and in
``danish-pilot``; the register checks of ``scripts/fit_danish_pilot.py``; and, for every
contract and every party with a part in it, the mean npv and P(loss) with their Monte Carlo
standard errors, from ``sibsim.simulate(name, draws=2000, seed=1)`` of each scenario.

Run::

    python scripts/evidence_table.py           # print the tables
    python scripts/evidence_table.py --write   # write docs/evidence_table.inc
    python scripts/evidence_table.py --check   # exit 1 if the file differs from a fresh run
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import sibsim

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "evidence_table.inc"
SCENARIOS = ("danish-pilot-prior", "danish-pilot")
DRAWS, SEED = 2000, 1


def _fit_script():
    path = ROOT / "scripts" / "fit_danish_pilot.py"
    spec = importlib.util.spec_from_file_location("fit_danish_pilot", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([rule, line(header), rule, *map(line, rows), rule])


def parameter_table(fit) -> str:
    """Median and 90% interval of each fitted parameter, prior and posterior."""
    scenarios = [sibsim.load_scenario(name) for name in SCENARIOS]
    rows = []
    for path in fit.PARAMS:
        cells = [f"``{path}``"]
        for scenario in scenarios:
            d = scenario.uncertain()[path]
            cells.append(f"{d.median():.2f} ({d.quantile(0.05):.2f}-{d.quantile(0.95):.2f})")
        rows.append(cells)
    return _table(["parameter", "prior: median (90%)", "posterior: median (90%)"], rows)


def check_table(fit) -> str:
    """The register checks of the counterfactual arm, prior and posterior."""
    rows = []
    for name in SCENARIOS:
        checks = fit.register_checks(sibsim.load_scenario(name))
        rows.append([name, f"{checks['job_entry_12']:.1%}", f"{checks['support_72']:.1%}"])
    return _table(["scenario", "job entry within 12 months (J1: 10%, 5-18%)",
                   "on benefit or in education at 6 years (J3: 60-80%)"], rows)


def risk_table() -> str:
    """Mean npv and P(loss) with MCSE per contract and party, prior and posterior."""
    tables = [sibsim.summarize(sibsim.simulate(name, draws=DRAWS, seed=SEED, progress=None))
              for name in SCENARIOS]
    prior, posterior = (t.set_index(["contract", "party"]) for t in tables)
    rows = []
    for key, row in posterior.iterrows():
        if row["role"] in ("", "none"):
            continue
        cells = [key[0], key[1]]
        for table in (prior, posterior):
            r = table.loc[key]
            cells += [f"{r['mean'] / 1e3:,.0f} ± {r['mean_mcse'] / 1e3:,.0f}",
                      f"{r['prob_loss']:.1%} ± {100 * r['prob_loss_mcse']:.1f}"]
        rows.append(cells)
    return _table(["contract", "party", "prior: mean npv", "prior: P(loss)",
                   "posterior: mean npv", "posterior: P(loss)"], rows)


def render() -> str:
    """The text of ``docs/evidence_table.inc``."""
    fit = _fit_script()
    return "\n".join([
        ".. Written by scripts/evidence_table.py (--write); --check compares. Do not edit.",
        "",
        "The fitted parameters (each distribution's median and 90% interval):",
        "",
        parameter_table(fit),
        "",
        "The counterfactual arm against the register (exact, every distribution at its mean):",
        "",
        check_table(fit),
        "",
        f"Each party's npv (thousand DKK; ``sibsim.simulate(name, draws={DRAWS}, "
        f"seed={SEED})`` and ``sibsim.summarize``; ± one Monte Carlo standard error, of "
        "P(loss) in percentage points; a donor's P(loss) is 100% by design):",
        "",
        risk_table(),
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write {OUTPUT.name}")
    action.add_argument("--check", action="store_true",
                        help=f"exit 1 when {OUTPUT.name} differs from a fresh run")
    args = parser.parse_args(argv)
    text = render()
    print(text)
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT}: differs from a fresh run (run --write)", file=sys.stderr)
            return 1
        print(f"{OUTPUT.name}: matches a fresh run")
    if args.write:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
