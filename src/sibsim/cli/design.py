"""``sibsim design FILE --contract NAME --param KEY=LOW:HIGH ...``: contract terms chosen by
optimisation under every party's constraints."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

from sibsim.cli.common import add_scenario_argument, positive_int, say, seed, write_text

NAME = "design"

_CONSTRAINT = re.compile(r"^\s*(?P<target>.+?)\s*(?P<sign><=|>=)\s*(?P<limit>\S+)\s*$")


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="contract design: the terms that maximise one party's statistic under "
                   "every constraint",
        description="Simulate candidate terms of one contract (same seed for every "
                    "candidate), choose the best one that meets every constraint, print the "
                    "chosen values and each party's mean npv and P(loss) with standard "
                    "errors, and write every candidate to a CSV file. Exit code 1 when no "
                    "candidate meets every constraint (the closest one is printed and the "
                    "table still written).",
        epilog="Statistics: mean, median, prob_loss, expected_shortfall_05 (of the npv) and "
               "prob_nominal_loss (of the undiscounted net). Example: sibsim design "
               "danish-pilot --contract sib --param 'contracts[3].outcomes[0].price="
               "50000:300000' --maximize municipality.mean --constraint "
               "'investor.prob_loss<=0.2'")
    add_scenario_argument(parser)
    parser.add_argument("--contract", required=True, help="the contract designed")
    parser.add_argument("--param", action="append", required=True, metavar="KEY=LOW:HIGH",
                        help="a term and its range, e.g. 'contracts[1].outcomes[0].price="
                             "0:200000' (repeat for several terms)")
    parser.add_argument("--maximize", default=None, metavar="PARTY.STAT",
                        help="the statistic maximised (default: the mean of the contract's "
                             "payer, its first payer where it has several, e.g. "
                             "municipality.mean)")
    parser.add_argument("--constraint", action="append", default=[],
                        metavar="PARTY.STAT<=X",
                        help="a constraint, PARTY.STAT<=X or PARTY.STAT>=X (repeat for "
                             "several; default: none)")
    parser.add_argument("--draws", type=positive_int, default=1000,
                        help="Monte Carlo draws per candidate")
    parser.add_argument("--seed", type=seed, default=1, help="random seed of every candidate")
    parser.add_argument("--grid", type=positive_int, default=None,
                        help="values per term of the first grid (default: 21 for one term, "
                             "9 for two, 5 for three, 3 for more)")
    parser.add_argument("--out", default="design.csv",
                        help="CSV file for the table of every candidate")


def _target(text: str, option: str) -> dict:
    party, dot, statistic = text.strip().rpartition(".")
    if not dot or not party or not statistic:
        raise ValueError(f"{option}: got {text!r}, expected PARTY.STAT, e.g. municipality.mean")
    return {"party": party, "statistic": statistic}


def parse_param(text: str) -> tuple[str, tuple[float, float]]:
    """``KEY=LOW:HIGH`` as a key path and its bounds."""
    key, eq, bounds = text.rpartition("=")
    low, colon, high = bounds.partition(":")
    try:
        pair = (float(low), float(high))
    except ValueError:
        pair = None
    if not eq or not key.strip() or not colon or pair is None or \
            not all(math.isfinite(v) for v in pair):
        raise ValueError(f"--param: got {text!r}, expected KEY=LOW:HIGH, e.g. "
                         "'contracts[1].outcomes[0].price=0:200000'")
    return key.strip(), pair


def parse_constraint(text: str) -> dict:
    """``PARTY.STAT<=X`` (or ``>=``) as a constraint of :func:`sibsim.design`."""
    match = _CONSTRAINT.match(text)
    limit = None
    if match:
        try:
            limit = float(match["limit"])
        except ValueError:
            limit = None
    if not match or limit is None or not math.isfinite(limit):
        raise ValueError(f"--constraint: got {text!r}, expected PARTY.STAT<=X or "
                         "PARTY.STAT>=X, e.g. 'provider.prob_loss<=0.2'")
    bound = "max" if match["sign"] == "<=" else "min"
    return {**_target(match["target"], "--constraint"), bound: limit}


def _out_file(text: str) -> Path:
    path = Path(text)
    if not text.strip() or path.is_dir():
        raise ValueError(f"--out: got {text!r}, expected a file name (a folder of that name "
                         "exists)" if path.is_dir() else f"--out: got {text!r}, expected a "
                         "file name")
    if not path.resolve().parent.is_dir():
        raise ValueError(f"--out: got {text!r}, expected a file in an existing folder")
    return path


def _first_payer(scenario, contract: str) -> str:
    """The contract's payer (its first payer where it has several; the funder of a grant)."""
    from sibsim.contracts import contract_type

    entry = scenario.data["contracts"][scenario.contract_names().index(contract)]
    who = entry[contract_type(entry["type"]).party_key]
    return who if isinstance(who, str) else next(iter(who))


def run(args: argparse.Namespace) -> int:
    import sibsim
    from sibsim.analysis.design_tables import format_design

    scenario = sibsim.load_scenario(args.file)
    params: dict[str, tuple[float, float]] = {}
    for text in args.param:
        key, pair = parse_param(text)
        if key in params:
            raise ValueError(f"--param: {key!r} is given twice")
        params[key] = pair
    if args.contract not in scenario.contract_names():
        raise ValueError(f"--contract: got {args.contract!r}, expected one of "
                         f"{scenario.contract_names()}")
    maximize = (_target(args.maximize, "--maximize") if args.maximize is not None else
                {"party": _first_payer(scenario, args.contract), "statistic": "mean"})
    constraints = [parse_constraint(text) for text in args.constraint]
    out = _out_file(args.out)
    say(scenario.name)
    try:
        _, table = sibsim.design(scenario, contract=args.contract, params=params,
                                 maximize=maximize, constraints=constraints, draws=args.draws,
                                 seed=args.seed, grid=args.grid)
        feasible = True
    except sibsim.DesignInfeasible as infeasible:
        table, feasible = infeasible.table, False
        say(f"No terms satisfy every constraint: {infeasible}")
    say(format_design(table, parties=scenario.parties(), feasible=feasible).rstrip("\n"))
    write_text(out, table.to_csv(index=False))
    say(f"wrote {out}")
    return 0 if feasible else 1
