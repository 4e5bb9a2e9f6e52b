"""The ``sibsim`` command line (also ``python -m sibsim``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sibsim.errors import ScenarioError

DEFAULT_SCENARIO = "danish-pilot"


def _whole_number(minimum: int, expected: str):
    """An argparse type: an integer of at least ``minimum``, with a clear message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"got {text!r}, expected {expected}")
        return value

    return parse


_positive_int = _whole_number(1, "a positive integer")
_seed = _whole_number(0, "a non-negative integer")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sibsim",
        description="Monte Carlo risk simulation for social investment deals.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo",
                          help="run the embedded Danish pilot, print the summary, write plots")
    demo.add_argument("--out", default="sibsim-demo",
                      help="folder for the plots (default: sibsim-demo)")
    demo.add_argument("--draws", type=_positive_int, default=2000,
                      help="Monte Carlo draws (default 2000)")
    demo.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")

    run = sub.add_parser("run", help="simulate a scenario and write the results as netCDF")
    run.add_argument("file", help="scenario: a TOML file or a built-in name")
    run.add_argument("--draws", type=_positive_int, default=2000)
    run.add_argument("--seed", type=_seed, default=1)
    run.add_argument("--out", required=True, help="result file (.nc)")
    run.add_argument("--resolution", choices=("month", "year"), default="month")
    run.add_argument("--threads", type=_positive_int, default=None)

    validate = sub.add_parser("validate", help="check a scenario and list every problem found")
    validate.add_argument("file", help="scenario: a TOML file or a built-in name")

    tornado = sub.add_parser(
        "tornado",
        help="what drives the risk: each uncertain parameter at its low and high quantile",
        description="Move each uncertain parameter to its low and high quantile, every other "
                    "at its median, and print the mean npv of one party under one contract "
                    "(common random numbers); writes tornado.png and tornado.csv.",
    )
    tornado.add_argument("file", help="scenario: a TOML file or a built-in name")
    tornado.add_argument("--contract", default=None,
                         help="contract (default: the first outcome contract, else the first)")
    tornado.add_argument("--party", default=None,
                         help="party (default: the contract's payer, or its funder for a grant)")
    tornado.add_argument("--draws", type=_positive_int, default=1000,
                         help="Monte Carlo draws per run (default 1000)")
    tornado.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    tornado.add_argument("--quantiles", type=float, nargs=2, default=(0.1, 0.9),
                         metavar=("LOW", "HIGH"), help="quantiles (default 0.1 0.9)")
    tornado.add_argument("--out", default="sibsim-tornado",
                         help="folder for the plot and table (default: sibsim-tornado)")

    corridor = sub.add_parser(
        "corridor",
        help="price corridor: both sides' probability of loss at each value of a price",
        description="Simulate the scenario at each value of a price (same seed) and print "
                    "both sides' probability of loss; writes corridor.png and corridor.csv.",
    )
    corridor.add_argument("file", help="scenario: a TOML file or a built-in name")
    corridor.add_argument("--param", required=True,
                          help="key path of the price, e.g. 'contracts[1].outcomes[0].price'")
    corridor.add_argument("--values", type=float, nargs="+", required=True, metavar="V",
                          help="values to try")
    corridor.add_argument("--contract", default=None,
                          help="contract (default: the one the key path lies in)")
    corridor.add_argument("--payer", default=None,
                          help="paying party (default: the contract's payer)")
    corridor.add_argument("--counterparty", default="provider",
                          help="the other side (default: provider)")
    corridor.add_argument("--max-prob-loss", type=float, default=0.2,
                          help="largest probability of loss either side accepts (default 0.2)")
    corridor.add_argument("--draws", type=_positive_int, default=1000,
                          help="Monte Carlo draws per value (default 1000)")
    corridor.add_argument("--seed", type=_seed, default=1, help="random seed (default 1)")
    corridor.add_argument("--out", default="sibsim-corridor",
                          help="folder for the plot and table (default: sibsim-corridor)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sibsim`` console script. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        print(f"sibsim: invalid scenario: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"sibsim: {exc}", file=sys.stderr)
        return 2


def cmd_validate(args) -> int:
    from sibsim.scenario import validate

    problems = validate(args.file)
    if problems:
        print(f"{args.file}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print(f"{args.file}: valid")
    return 0


def cmd_run(args) -> int:
    import sibsim
    from sibsim.results import write_netcdf

    scenario = sibsim.load_scenario(args.file)
    out = Path(args.out)
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise ValueError(f"--out: got {args.out!r}, expected a file in an existing folder")
    result = sibsim.simulate(scenario, draws=args.draws, seed=args.seed,
                             threads=args.threads, resolution=args.resolution)
    write_netcdf(result, out)
    print(f"wrote {out} ({args.draws} draws, seed {args.seed})")
    return 0


def cmd_demo(args) -> int:
    import sibsim
    from sibsim import plot
    from sibsim.analysis import format_summary

    scenario = sibsim.load_scenario(DEFAULT_SCENARIO)
    result = sibsim.simulate(scenario, draws=args.draws, seed=args.seed, progress=None)
    print(f"{scenario.name}: {args.draws} draws, seed {args.seed}")
    print(format_summary(sibsim.summarize(result)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved = plot.save_all(result, out)
    for path in saved:
        print(f"wrote {path}")
    for name, why in saved.skipped:
        print(f"skipped {name}: {why}")
    return 0


def _default_contract(scenario) -> str:
    """The first outcome contract of a scenario, else its first contract."""
    from sibsim.contracts import is_outcome_contract

    contracts = scenario.data["contracts"]
    if not contracts:
        raise ValueError("--contract: the scenario has no contract")
    for contract in contracts:
        if is_outcome_contract(contract):
            return contract["name"]
    return contracts[0]["name"]


def _contract_of_path(scenario, path: str) -> str:
    """The contract a key path lies in (``contracts[i]...``)."""
    from sibsim.scenario.keypath import parse_path

    parts = parse_path(path)
    if len(parts) >= 2 and parts[0] == "contracts" and isinstance(parts[1], int):
        names = scenario.contract_names()
        if parts[1] < len(names):
            return names[parts[1]]
    raise ValueError(f"--contract: --param {path!r} lies in no contract; name the contract "
                     f"(one of {scenario.contract_names()})")


def _out_folder(text: str) -> Path:
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out: got {text!r}, expected a folder (a file of that name exists)")
    return out


def cmd_tornado(args) -> int:
    import sibsim
    from sibsim import analysis, plot

    scenario = sibsim.load_scenario(args.file)
    contract = args.contract if args.contract is not None else _default_contract(scenario)
    if contract not in scenario.contract_names():
        raise ValueError(f"--contract: got {contract!r}, expected one of "
                         f"{scenario.contract_names()}")
    party = args.party if args.party is not None else analysis.contract_payer(scenario, contract)
    if party not in scenario.parties():
        raise ValueError(f"--party: got {party!r}, expected one of {scenario.parties()}")
    low, high = args.quantiles
    if not 0 < low < high < 1:
        raise ValueError(f"--quantiles: got {low:g} {high:g}, expected 0 < LOW < HIGH < 1")
    out = _out_folder(args.out)
    table = analysis.tornado(scenario, contract, party, draws=args.draws, seed=args.seed,
                             quantiles=(low, high))
    npv_base = table.attrs["npv_base"]
    print(f"{scenario.name}")
    print(analysis.format_tornado(table, contract=contract, party=party, quantiles=(low, high),
                                  npv_base=npv_base, draws=args.draws, seed=args.seed), end="")
    figure = plot.tornado(table, contract=contract, party=party, quantiles=(low, high),
                          npv_base=npv_base)
    _write_table_and_plot(out, "tornado", table, figure)
    return 0


def cmd_corridor(args) -> int:
    import sibsim
    from sibsim import analysis, plot

    scenario = sibsim.load_scenario(args.file)
    scenario.get(args.param)  # a ScenarioError names a key path that does not exist
    contract = args.contract if args.contract is not None else _contract_of_path(scenario,
                                                                                 args.param)
    if contract not in scenario.contract_names():
        raise ValueError(f"--contract: got {contract!r}, expected one of "
                         f"{scenario.contract_names()}")
    for option, party in (("--payer", args.payer), ("--counterparty", args.counterparty)):
        if party is not None and party not in scenario.parties():
            raise ValueError(f"{option}: got {party!r}, expected one of {scenario.parties()}")
    if not 0 <= args.max_prob_loss <= 1:
        raise ValueError(f"--max-prob-loss: got {args.max_prob_loss:g}, expected a number in "
                         "[0, 1]")
    if len(set(args.values)) != len(args.values):
        raise ValueError(f"--values: got {args.values}, expected distinct values")
    out = _out_folder(args.out)
    table = analysis.price_corridor(
        scenario, args.param, args.values, contract, payer=args.payer,
        counterparty=args.counterparty, max_prob_loss=args.max_prob_loss, draws=args.draws,
        seed=args.seed,
    )
    # price_corridor has checked the contract's payer; name the default one in the output.
    payer = args.payer if args.payer is not None else analysis.contract_payer(scenario, contract)
    sides = {"payer": payer, "counterparty": args.counterparty,
             "max_prob_loss": args.max_prob_loss}
    print(f"{scenario.name}")
    print(analysis.format_corridor(table, contract=contract, param=args.param, **sides,
                                   draws=args.draws, seed=args.seed), end="")
    figure = plot.corridor(table, param=args.param, contract=contract, **sides)
    _write_table_and_plot(out, "corridor", table, figure)
    return 0


def _write_table_and_plot(out: Path, name: str, table, figure) -> None:
    """Write ``name``.csv and ``name``.png into ``out`` and say so."""
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / f"{name}.csv", index=False)
    figure.savefig(out / f"{name}.png", dpi=120)
    print(f"wrote {out / f'{name}.csv'}")
    print(f"wrote {out / f'{name}.png'}")


COMMANDS = {"demo": cmd_demo, "run": cmd_run, "validate": cmd_validate,
            "tornado": cmd_tornado, "corridor": cmd_corridor}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
