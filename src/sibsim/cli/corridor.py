"""``sibsim corridor FILE --param PATH --values V ...``: the price range both sides accept."""

from __future__ import annotations

from sibsim.cli.common import (
    add_scenario_argument,
    out_folder,
    positive_int,
    say,
    seed,
    write_table_and_plot,
)

NAME = "corridor"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="price corridor: both sides' probability of loss at each value of a price",
        description="Simulate the scenario at each value of a price (same seed) and print "
                    "both sides' probability of loss; writes corridor.png and corridor.csv.")
    add_scenario_argument(parser)
    parser.add_argument("--param", required=True,
                        help="key path of the price, e.g. 'contracts[1].outcomes[0].price'")
    parser.add_argument("--values", type=float, nargs="+", required=True, metavar="V",
                        help="values to try")
    parser.add_argument("--contract", default=None,
                        help="contract (default: the one the key path lies in)")
    parser.add_argument("--payer", default=None,
                        help="paying party (default: the contract's payer)")
    parser.add_argument("--counterparty", default="provider", help="the other side")
    parser.add_argument("--max-prob-loss", type=float, default=0.2,
                        help="largest probability of loss either side accepts")
    parser.add_argument("--draws", type=positive_int, default=1000,
                        help="Monte Carlo draws per value")
    parser.add_argument("--seed", type=seed, default=1, help="random seed")
    parser.add_argument("--out", default="sibsim-corridor",
                        help="folder for the plot and the table")


def contract_of_path(scenario, path: str) -> str:
    """The contract a key path lies in (``contracts[i]...``)."""
    from sibsim.scenario.keypath import parse_path

    parts = parse_path(path)
    if len(parts) >= 2 and parts[0] == "contracts" and isinstance(parts[1], int):
        names = scenario.contract_names()
        if parts[1] < len(names):
            return names[parts[1]]
    raise ValueError(f"--contract: --param {path!r} lies in no contract; name the contract "
                     f"(one of {scenario.contract_names()})")


def _check(args, scenario) -> str:
    """The contract, after checking the options against the scenario."""
    scenario.get(args.param)  # a ScenarioError names a key path that does not exist
    contract = args.contract if args.contract is not None else contract_of_path(scenario,
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
    return contract


def run(args) -> int:
    import sibsim
    from sibsim import analysis, plot

    scenario = sibsim.load_scenario(args.file)
    contract = _check(args, scenario)
    out = out_folder(args.out)
    table = analysis.price_corridor(
        scenario, args.param, args.values, contract, payer=args.payer,
        counterparty=args.counterparty, max_prob_loss=args.max_prob_loss, draws=args.draws,
        seed=args.seed,
    )
    # price_corridor has checked the contract's payer; name the default one in the output.
    payer = args.payer if args.payer is not None else analysis.contract_payer(scenario, contract)
    sides = {"payer": payer, "counterparty": args.counterparty,
             "max_prob_loss": args.max_prob_loss}
    say(f"{scenario.name}")
    say(analysis.format_corridor(table, contract=contract, param=args.param, **sides,
                                 draws=args.draws, seed=args.seed).rstrip("\n"))
    for note in table.attrs.get("notes", []):
        say(f"note: {note}")
    figure = plot.corridor(table, param=args.param, contract=contract, **sides)
    write_table_and_plot(out, "corridor", table, figure)
    return 0
