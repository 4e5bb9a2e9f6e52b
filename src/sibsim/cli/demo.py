"""``sibsim demo``: the built-in Danish pilot, its risk table and its plots."""

from __future__ import annotations

from sibsim.cli.common import DEFAULT_SCENARIO, out_folder, positive_int, say, seed

NAME = "demo"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="run the embedded Danish pilot, print the summary, write plots",
        description="Simulate the built-in Danish pilot, print the risk table of every "
                    "party under every contract and write the plots into a folder.")
    parser.add_argument("--scenario", default=None, metavar="NAME|FILE",
                        help="the scenario: a built-in name or a TOML file (default "
                             "danish-pilot; danish-pilot-prior for its priors alone)")
    parser.add_argument("--out", default="sibsim-demo", help="folder for the plots")
    parser.add_argument("--draws", type=positive_int, default=2000, help="Monte Carlo draws")
    parser.add_argument("--seed", type=seed, default=1, help="random seed")


def run(args) -> int:
    import sibsim
    from sibsim import plot
    from sibsim.analysis import format_summary

    out = out_folder(args.out)
    name = DEFAULT_SCENARIO if args.scenario is None else args.scenario
    scenario = sibsim.load_scenario(name)
    result = sibsim.simulate(scenario, draws=args.draws, seed=args.seed, progress=None)
    say(f"{scenario.name}: {args.draws} draws, seed {args.seed}")
    say(format_summary(sibsim.summarize(result)))
    out.mkdir(parents=True, exist_ok=True)
    saved = plot.save_all(result, out)
    for path in saved:
        say(f"wrote {path}")
    for name, why in saved.skipped:
        say(f"skipped {name}: {why}")
    return 0
