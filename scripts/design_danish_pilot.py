"""Price the built-in ``danish-pilot`` scenario's outcome contracts with :func:`sibsim.design`.

Every outcome contract is designed under the same stated constraints (``docs/design.rst``,
"The built-in case"):

- the party that carries the programme's cost (the provider; the investor of the social
  impact bond, and the provider for any overrun) loses money in at most 20% of the draws:
  ``P(loss) <= 0.2``;
- every public payer of the contract loses money in at most half the draws:
  ``P(loss) <= 0.5``;
- among the terms that meet both, the municipality's mean npv is as high as it can be.

Four contracts: ``narrow`` (a rate card paid by the municipality: the job_6m price and the
per-participant cap), ``broad`` (a gain share of the municipality's savings: the share and
``cap_total``), ``sib`` (the financed rate card: the job_6m price and the tranche) and
``shared`` (the rate card of ``narrow`` paid by the municipality and the state in proportion
to their savings, ``payer_shares = "savings"``: the job_6m price and the cap). The script
adds ``shared`` to the TOML when it is not there. The designs are made on the
evidence-based default (``danish-pilot``, the posterior) and written into it and into the
prior file it is fitted from (``danish-pilot-prior``, see ``scripts/fit_danish_pilot.py``),
so that ``fit_danish_pilot.py --write`` keeps the terms. The chosen values are rounded
(:data:`ROUND_TO`) to the feasible rounding with the best objective, and written into the
TOML with a generated comment per contract (lines starting ``# design:``), and the outcome
into ``src/sibsim/data/danish-pilot-design.json``, which ``sibsim demo`` reads. Where no
terms meet every constraint, the closest candidate (smallest violation) is written and the
comment and the demo say so.

The designs do not depend on the values they replace, so running the script again gives the
same terms: after the scenario changes (its model, its evidence), run it again.

Run::

    python scripts/design_danish_pilot.py           # print the designs
    python scripts/design_danish_pilot.py --check   # exit 1 if the shipped files differ
    python scripts/design_danish_pilot.py --write   # write the terms into the TOML and JSON
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import sys
import tomllib
from pathlib import Path

import sibsim
from sibsim.analysis.design import Design, _scales, parse_constraints, parse_target
from sibsim.analysis.design_notes import design_notes
from sibsim.analysis.design_search import Candidates, best_row, score
from sibsim.analysis.resimulate import Run

ROOT = Path(__file__).resolve().parents[1]
TOML = ROOT / "src" / "sibsim" / "data" / "danish-pilot.toml"
PRIOR = ROOT / "src" / "sibsim" / "data" / "danish-pilot-prior.toml"
JSON = ROOT / "src" / "sibsim" / "data" / "danish-pilot-design.json"
DOCS = ROOT / "docs" / "_static" / "design_pilot.txt"

#: Draws and seed of every candidate (moderate: the whole run takes a few minutes).
DRAWS, SEED = 1000, 1

#: The search: a 7 x 7 grid and two rounds of refinement for each pair of terms, then
#: bisection on the constraints' edges (about 100 candidates a contract).
GRID, REFINE = 7, 2

#: The largest P(loss) of the party that carries the programme's cost, and of each payer.
CARRIER_MAX, PAYER_MAX = 0.2, 0.5

#: Each contract's terms (key paths below the contract) and their bounds.
DESIGNS = {
    "narrow": {"outcomes[0].price": (0, 400000), "cap_per_participant": (50000, 400000)},
    "broad": {"share": (0.0, 1.0), "cap_total": (1e6, 2e7)},
    "sib": {"outcomes[0].price": (50000, 400000),
            "financing.tranches[0].amount": (6e6, 1.1e7)},
    "shared": {"outcomes[0].price": (0, 400000), "cap_per_participant": (50000, 400000)},
}

#: Who carries the programme's cost under each contract.
CARRIERS = {"narrow": ["provider"], "broad": ["provider"], "sib": ["investor", "provider"],
            "shared": ["provider"]}

#: The step each term is rounded to, by the last part of its key path.
ROUND_TO = {"price": 100.0, "cap_per_participant": 100.0, "cap_total": 10000.0,
            "share": 0.001, "amount": 10000.0}

#: The contract in which the state shares the bill, added when the scenario lacks it.
SHARED_BLOCK = '''
# contracts[4]: shared. The rate card of "narrow", paid by the municipality and the state
# in proportion to the savings each one makes in the draw (payer_shares = "savings",
# docs/contracts.rst): the state gains from a job too (its taxes on the wage, the equalised
# share of the municipal tax, its share of the benefit), so it pays its part of the bill.
# Prices and cap: scripts/design_danish_pilot.py.
[[contracts]]
name = "shared"
type = "rate_card"
payer = { municipality = 0.5, state = 0.5 }   # used only in a draw where neither saves
payer_shares = "savings"
outcomes = [ { name = "job_6m", state = "employed", sustained_months = 6, price = 50000 },
             { name = "job_12m", state = "employed", cumulative_months = 12, price = 30000 } ]
window_months = 36              # assumption, as contracts[1]
cap_per_participant = 70000     # assumption, as contracts[1]
payment_lag_months = 3          # assumption, as contracts[1]
'''


#: The first line of the correlations section in the prior file and in the posterior file:
#: the ``shared`` contract goes before it (``scripts/fit_danish_pilot.py`` rewrites that
#: section).
SECTION_MARKERS = ("# The two effects are measured in one study",
                   "# Posterior correlations of the normal scores")


def with_shared(text: str) -> str:
    """The TOML text with the ``shared`` contract added (before the correlations) if missing."""
    names = [c["name"] for c in tomllib.loads(text).get("contracts", [])]
    if "shared" in names:
        return text
    for marker in SECTION_MARKERS:
        at = text.find("\n" + marker)
        if at >= 0:
            return text[:at].rstrip("\n") + "\n" + SHARED_BLOCK + "\n" + text[at + 1:]
    return text.rstrip("\n") + "\n" + SHARED_BLOCK


def constraints_of(scenario: sibsim.Scenario, contract: str) -> list[dict]:
    """The stated constraints of one contract: carriers at most 20%, payers at most 50%."""
    entry = scenario.data["contracts"][scenario.contract_names().index(contract)]
    rules = [{"party": p, "statistic": "prob_loss", "max": CARRIER_MAX}
             for p in CARRIERS[contract]]
    rules += [{"party": p, "statistic": "prob_loss", "max": PAYER_MAX} for p in entry["payer"]]
    return rules


def _rounded(key: str, value: float) -> tuple[float, float]:
    step = ROUND_TO[key.rsplit(".", 1)[-1]]
    return math.floor(value / step) * step, math.ceil(value / step) * step


def design_one(scenario: sibsim.Scenario, contract: str) -> dict:
    """Design one contract and round its terms; the outcome as a JSON-ready dict."""
    index = scenario.contract_names().index(contract)
    params = {f"contracts[{index}].{k}": v for k, v in DESIGNS[contract].items()}
    rules = constraints_of(scenario, contract)
    maximize = {"party": "municipality", "statistic": "mean"}
    try:
        _, table = sibsim.design(scenario, contract=contract, params=params, maximize=maximize,
                                 constraints=rules, draws=DRAWS, seed=SEED, grid=GRID,
                                 refine=REFINE)
        feasible = True
    except sibsim.DesignInfeasible as error:
        table, feasible = error.table, False
    chosen = table.attrs["chosen"]
    # Round to the best feasible rounding (all 2^d of them, on the same random numbers).
    terms = Design(scenario, contract, params)
    run = Run(DRAWS, SEED)
    candidates = Candidates(scenario, contract, terms.apply, run, terms.keys)
    objective = parse_target(maximize, scenario.parties())
    checked = parse_constraints(rules, scenario.parties())
    scales = _scales(candidates, terms.box, checked)
    options = [sorted(set(_rounded(k, chosen[k]))) for k in terms.keys]
    for point in itertools.product(*options):
        clipped = [terms.box.clip(i, v) for i, v in enumerate(point)]
        candidates.evaluate(clipped, "rounded")
    rounded_rows = [r for r in candidates.rows if r["stage"] == "rounded"]
    row, ok = best_row(rounded_rows, terms.keys, objective, checked, scales)
    fails = [c.label for c in checked if c.violation(row[c.target.column]) > 0]
    parties = {p: {"mean": row[f"{p}_mean"], "mean_mcse": row[f"{p}_mean_mcse"],
                   "prob_loss": row[f"{p}_prob_loss"],
                   "prob_loss_mcse": row[f"{p}_prob_loss_mcse"]}
               for p in scenario.parties()
               if not (row[f"{p}_mean"] == 0 and row[f"{p}_prob_loss"] == 0)}
    notes = design_notes(table, terms, {k: row[k] for k in terms.keys})
    return {"contract": contract, "maximize": "municipality.mean",
            "constraints": [c.label for c in checked], "feasible": bool(feasible and ok),
            "fails": fails, "candidates": len(table),
            "terms": {k: _plain(row[k]) for k in terms.keys},
            "tolerance": table.attrs["tolerance"], "notes": notes,
            "parties": parties, "score": score(row, checked, scales)[1]}


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 6)


def _toml_number(value: float | int) -> str:
    return f"{value}" if isinstance(value, int) else f"{value:.6g}"


def _contract_blocks(text: str) -> dict[str, tuple[int, int]]:
    """(start, end) of each [[contracts]] block (with its sub-tables), by contract name."""
    starts = [m.start() for m in re.finditer(r"^\[\[contracts\]\]\s*$", text, re.M)]
    blocks = {}
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        name = re.search(r'^name = "([^"]+)"', text[start:end], re.M).group(1)
        blocks[name] = (start, end)
    return blocks


def _value_span(block: str, relative: str, outcome_names: list[str]) -> tuple[int, int]:
    """Where the number of a term stands in a contract's block."""
    found = None
    if relative.startswith("outcomes["):
        j = int(re.match(r"outcomes\[(\d+)\]", relative).group(1))
        found = re.search(r'\{\s*name = "' + re.escape(outcome_names[j])
                          + r'"[^}]*?price = ([-0-9._eE+]+)', block)
    elif relative.startswith("financing.tranches[0]."):
        sub = block.index("[[contracts.financing.tranches]]")
        found = re.compile(r"^amount = ([-0-9._eE+]+)", re.M).search(block, sub)
    else:
        found = re.search(r"^" + re.escape(relative) + r" = ([-0-9._eE+]+)", block, re.M)
    if found is None:
        raise RuntimeError(f"{TOML.name}: cannot find {relative} in its contract's table")
    return found.start(1), found.end(1)


#: The comment a designed value's line ends with.
DESIGNED = "# designed: see the design lines of this contract"


def _designed_comments(block: str, relatives: list[str]) -> str:
    """The comment of each designed ``key = value`` line (and its continuation) replaced."""
    lines = block.split("\n")
    out: list[str] = []
    skipping = False
    section, counts = "", {}
    for line in lines:
        header = re.match(r"^\[\[contracts\.financing\.(tranches|guarantees)\]\]", line)
        if header:
            name = header.group(1)
            counts[name] = counts.get(name, -1) + 1
            section = f"financing.{name}[{counts[name]}]."
        if skipping and re.match(r"^\s+#", line):
            continue  # a continuation of the comment replaced
        skipping = False
        key = re.match(r"^([A-Za-z_]+) = [-0-9._eE+]+", line)
        if key and section + key.group(1) in relatives and "#" in line:
            head = line[:line.index("#")].rstrip()
            line = f"{head:31} {DESIGNED}"
            skipping = True
        out.append(line)
    return "\n".join(out)


def comment_lines(outcome: dict) -> list[str]:
    """The generated comment of one contract (lines starting ``# design:``)."""
    verdict = (["these terms meet every constraint. At these terms:"] if outcome["feasible"]
               else ["NO terms meet every constraint; these are the closest, missing",
                     f"  {', '.join(outcome['fails'])}. At these terms:"])
    lines = [f"# design: terms from scripts/design_danish_pilot.py ({DRAWS} draws, seed "
             f"{SEED}):",
             f"# design:   maximise {outcome['maximize']} subject to",
             f"# design:   {', '.join(outcome['constraints'])};",
             *[f"# design: {line}" for line in verdict]]
    for party, stats in outcome["parties"].items():
        lines.append(f"# design:   {party}: mean {stats['mean'] / 1e3:,.0f}k +- "
                     f"{stats['mean_mcse'] / 1e3:,.0f}k DKK, P(loss) {stats['prob_loss']:.1%} "
                     f"+- {100 * stats['prob_loss_mcse']:.1f} points")
    return lines


def updated_toml(text: str, outcomes: list[dict]) -> str:
    """The TOML text with the designed terms and the generated comments in place."""
    text = with_shared(text)
    data = tomllib.loads(text)
    for outcome in outcomes:
        contract = outcome["contract"]
        start, end = _contract_blocks(text)[contract]
        block = text[start:end]
        entry = next(c for c in data["contracts"] if c["name"] == contract)
        names = [o["name"] for o in entry.get("outcomes", [])]
        edits = []
        for key, value in outcome["terms"].items():
            relative = key.split("].", 1)[1]
            begin, stop = _value_span(block, relative, names)
            edits.append((begin, stop, _toml_number(value)))
        for begin, stop, replacement in sorted(edits, reverse=True):
            block = block[:begin] + replacement + block[stop:]
        block = _designed_comments(block, [k.split("].", 1)[1] for k in outcome["terms"]])
        lines = [line for line in block.split("\n") if not line.startswith("# design:")]
        lines[1:1] = comment_lines(outcome)  # after the [[contracts]] line
        text = text[:start] + "\n".join(lines) + text[end:]
    return text


def digest(text: str) -> str:
    """SHA-256 of the scenario the designs were written into (its numbers, not comments).

    The same digest as :func:`sibsim.analysis.design_tables.scenario_digest`.
    """
    from sibsim.analysis.design_tables import scenario_digest

    return scenario_digest(sibsim.load_scenario(tomllib.loads(text)))


def report_text(outcomes: list[dict]) -> str:
    """The designs in words, for the docs (docs/_static/design_pilot.txt)."""
    lines = [f"Designs of the built-in scenario ({DRAWS} draws, seed {SEED}; "
             "scripts/design_danish_pilot.py)", ""]
    for outcome in outcomes:
        lines += [line.removeprefix("# design: ") for line in comment_lines(outcome)]
        for key, value in outcome["terms"].items():
            lines.append(f"  term {key} = {value:,}")
        lines += [f"  note: {note}" for note in outcome["notes"]]
        lines.append("")
    return "\n".join(lines)


def run_all() -> tuple[str, str, str, str]:
    """The designs: new posterior and prior TOML text, JSON text and the docs' report.

    The designs are made on the evidence-based default (``danish-pilot``, the posterior);
    the same edits go into the prior file (``danish-pilot-prior``), from which
    ``scripts/fit_danish_pilot.py`` writes the posterior, so that the two stay in step.
    """
    text = with_shared(TOML.read_text(encoding="utf-8"))
    prior_text = with_shared(PRIOR.read_text(encoding="utf-8"))
    scenario = sibsim.load_scenario(tomllib.loads(text))
    outcome_contracts = [c["name"] for c in scenario.data["contracts"]
                         if c["name"] in DESIGNS]
    outcomes = []
    for contract in outcome_contracts:
        outcome = design_one(scenario, contract)
        print("\n".join(comment_lines(outcome)), flush=True)
        outcomes.append(outcome)
    new_text = updated_toml(text, outcomes)
    new_prior = updated_toml(prior_text, outcomes)
    check = sibsim.load_scenario(tomllib.loads(new_text))
    for outcome in outcomes:
        for key, value in outcome["terms"].items():
            assert check.get(key) == value, (key, check.get(key), value)
    document = {"scenario": "danish-pilot", "scenario_sha256": digest(new_text), "draws": DRAWS,
                "seed": SEED, "designs": outcomes}
    return new_text, new_prior, json.dumps(document, indent=1) + "\n", report_text(outcomes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true",
                        help="write the terms into the TOML, the JSON and the docs' report")
    action.add_argument("--check", action="store_true",
                        help="exit 1 when the shipped files differ from fresh designs")
    args = parser.parse_args(argv)
    new_text, new_prior, new_json, report = run_all()
    files = [(TOML, new_text), (PRIOR, new_prior), (JSON, new_json), (DOCS, report)]
    if args.check:
        differ = [path.name for path, content in files
                  if not path.exists() or path.read_text(encoding="utf-8") != content]
        if differ:
            print(f"differs from fresh designs: {differ} (run with --write)", file=sys.stderr)
            return 1
        print("the shipped scenario, its design file and the docs' report match fresh designs")
    if args.write:
        for path, content in files:
            path.write_text(content, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
