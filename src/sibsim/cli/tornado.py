"""``sibsim tornado FILE``: what drives the risk, one uncertain parameter at a time."""

from __future__ import annotations

from sibsim.cli.common import (
    add_scenario_argument,
    out_folder,
    positive_int,
    say,
    seed,
    write_table_and_plot,
)

NAME = "tornado"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="what drives the risk: each uncertain parameter at its low and high quantile",
        description="Move each uncertain parameter to its low and high quantile, every other "
                    "at its median, and print the mean npv of one party under one contract "
                    "(common random numbers); writes tornado.png and tornado.csv.")
    add_scenario_argument(parser)
    parser.add_argument("--contract", default=None,
                        help="contract (default: the first outcome contract, else the first)")
    parser.add_argument("--party", default=None,
                        help="party (default: the contract's payer, or its funder for a grant)")
    parser.add_argument("--draws", type=positive_int, default=1000,
                        help="Monte Carlo draws per run")
    parser.add_argument("--seed", type=seed, default=1, help="random seed")
    parser.add_argument("--quantiles", type=float, nargs=2, default=(0.1, 0.9),
                        metavar=("LOW", "HIGH"), help="the low and high quantile")
    parser.add_argument("--out", default="sibsim-tornado",
                        help="folder for the plot and the table")


def default_contract(scenario) -> str:
    """The first outcome contract of a scenario, else its first contract."""
    from sibsim.contracts import is_outcome_contract

    contracts = scenario.data["contracts"]
    if not contracts:
        raise ValueError("--contract: the scenario has no contract")
    for contract in contracts:
        if is_outcome_contract(contract):
            return contract["name"]
    return contracts[0]["name"]


def run(args) -> int:
    import sibsim
    from sibsim import analysis, plot

    scenario = sibsim.load_scenario(args.file)
    contract = args.contract if args.contract is not None else default_contract(scenario)
    if contract not in scenario.contract_names():
        raise ValueError(f"--contract: got {contract!r}, expected one of "
                         f"{scenario.contract_names()}")
    party = args.party if args.party is not None else analysis.contract_payer(scenario, contract)
    if party not in scenario.parties():
        raise ValueError(f"--party: got {party!r}, expected one of {scenario.parties()}")
    low, high = args.quantiles
    if not 0 < low < high < 1:
        raise ValueError(f"--quantiles: got {low:g} {high:g}, expected 0 < LOW < HIGH < 1")
    out = out_folder(args.out)
    table = analysis.tornado(scenario, contract, party, draws=args.draws, seed=args.seed,
                             quantiles=(low, high))
    npv_base = table.attrs["npv_base"]
    say(f"{scenario.name}")
    say(analysis.format_tornado(table, contract=contract, party=party, quantiles=(low, high),
                                npv_base=npv_base, draws=args.draws, seed=args.seed).rstrip("\n"))
    figure = plot.tornado(table, contract=contract, party=party, quantiles=(low, high),
                          npv_base=npv_base)
    write_table_and_plot(out, "tornado", table, figure)
    return 0
