"""``sibsim stepping-stone FILE``: what a pilot's results are worth to the choice after it."""

from __future__ import annotations

import argparse
from pathlib import Path

from sibsim.cli.common import add_scenario_argument, positive_int, say, seed, write_text

NAME = "stepping-stone"


def _whole_number_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected pilot sizes >= 0 separated "
                                         "by commas, e.g. 0,20,65,130")
    return values


def _names(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if len(names) < 2:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected two or more contract names "
                                         "separated by commas, e.g. narrow,sib")
    return names


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a whole number >= 0")
    return value


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="the pilot as a stepping stone: the value of its results (EVSI)",
        description="Preposterior analysis of a pilot: for outer draws of the listed "
                    "parameters from their prior, draw the pilot's counts in STATE at MONTH "
                    "months since entry for SIZE participants per arm, let PARTY choose the "
                    "contract of best posterior mean npv, and score that choice at the true "
                    "parameters. Prints EVSI with its Monte Carlo error, EVPPI of the same "
                    "parameters and how often each contract is chosen; writes one row per "
                    "outer draw as CSV. With --sizes also the EVSI curve against the size.")
    add_scenario_argument(parser)
    parser.add_argument("--party", required=True, help="the party who chooses")
    parser.add_argument("--contracts", type=_names, required=True, metavar="A,B",
                        help="contracts to choose between, separated by commas ('none': do "
                             "not contract, npv 0)")
    parser.add_argument("--size", type=_non_negative, required=True,
                        help="pilot participants per arm (treatment and counterfactual)")
    parser.add_argument("--state", required=True, help="the state counted in the pilot")
    parser.add_argument("--month", type=_non_negative, required=True,
                        help="months since entry at which the pilot counts")
    parser.add_argument("--param", action="append", required=True, metavar="KEY",
                        help="key path of a parameter the pilot informs (repeat for more)")
    parser.add_argument("--outer", type=positive_int, default=200,
                        help="outer draws (truths)")
    parser.add_argument("--draws", type=positive_int, default=500,
                        help="simulated prior draws")
    parser.add_argument("--seed", type=seed, default=1, help="random seed")
    parser.add_argument("--estimator", choices=("regression", "nested"), default="regression",
                        help="regression on the prior draws reweighted by the likelihood, or "
                             "nested simulation (slow)")
    parser.add_argument("--inner", type=positive_int, default=200,
                        help="draws of each re-simulation (nested)")
    parser.add_argument("--sizes", type=_whole_number_list, default=None, metavar="N,N,...",
                        help="also print the EVSI curve at these pilot sizes (default: no curve)")
    parser.add_argument("--cost-per-participant", type=float, default=None,
                        help="pilot cost per treated participant for the curve (default: the "
                             "mean of programme.cost_per_participant)")
    parser.add_argument("--out", default="stepping_stone_runs.csv",
                        help="CSV file for the per-draw table (the curve, with --sizes, goes "
                             "next to it as *_curve.csv)")


def _out_file(text: str) -> Path:
    out = Path(text)
    if not text.strip() or out.is_dir():
        raise ValueError(f"--out: got {text!r}, expected a file name (not a folder)")
    if not out.resolve().parent.is_dir():
        raise ValueError(f"--out: got {text!r}, expected a file in an existing folder")
    return out


def _amount(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}"


def format_value(value, *, currency: str) -> str:
    """The value Series as lines for the terminal.

    Parameters
    ----------
    value : pandas.Series
        The first result of :func:`sibsim.stepping_stone`.
    currency : str
        Its currency.

    Returns
    -------
    str
    """
    lines = [
        f"EVSI (value of the pilot's results): {_amount(value['evsi'], currency)}"
        f" (Monte Carlo error {_amount(value['evsi_mcse'], currency)})",
        f"EVPPI (perfect knowledge of the same parameters): "
        f"{_amount(value['evppi'], currency)} (error {_amount(value['evppi_mcse'], currency)})",
        f"best contract without the pilot: {value['prior_choice']}",
        "chosen after the pilot:",
    ]
    for key in value.index:
        if key.startswith("prob_choose["):
            lines.append(f"  {key[len('prob_choose['):-1]:<20} {value[key]:6.1%} of outer draws")
    if value["method"] == "nested":
        detail = f"posteriors with a sampler warning: {value['posterior_warnings']}"
    else:
        detail = f"effective sample size median {value['ess_median']:.0f}"
    lines.append(f"estimator {value['method']}: {value['outer']} outer draws, {value['draws']} "
                 f"prior draws; {detail}")
    return "\n".join(lines)


def run(args) -> int:
    import sibsim

    scenario = sibsim.load_scenario(args.file)
    out = _out_file(args.out)
    pilot = {"size": args.size, "state": args.state, "months_since_entry": args.month}
    common = {"party": args.party, "contracts": args.contracts, "params": args.param,
              "outer": args.outer, "draws": args.draws, "seed": args.seed,
              "estimator": {"method": args.estimator, "inner": args.inner}}
    value, runs = sibsim.stepping_stone(scenario, pilot=pilot, **common)
    currency = value.attrs["currency"]
    say(f"{scenario.name}")
    from sibsim.labels import parameter_label

    say(f"pilot: {args.size} per arm, share in {args.state!r} at {args.month} months since "
        f"entry; {args.party} chooses between {', '.join(args.contracts)}")
    say("the pilot informs: " + "; ".join(f"{parameter_label(scenario, p)} ({p})"
                                          for p in value.attrs["params"]))
    say(format_value(value, currency=currency))
    write_text(out, runs.to_csv(index=False))
    say(f"wrote {out}")
    if args.sizes is not None:
        table = sibsim.evsi_curve(scenario, pilot={"state": args.state,
                                                   "months_since_entry": args.month},
                                  sizes=args.sizes,
                                  cost_per_participant=args.cost_per_participant, **common)
        say(f"EVSI curve ({currency}; pilot cost "
            f"{table.attrs['cost_per_participant']:,.0f} {currency} per treated participant):")
        columns = ["size", "evsi", "evsi_mcse", "pilot_cost", "net_value", "evppi"]
        say(table[columns].to_string(index=False, float_format=lambda x: f"{x:,.0f}"))
        curve = out.with_name(f"{out.stem}_curve.csv")
        write_text(curve, table.to_csv(index=False))
        say(f"wrote {curve}")
    return 0
