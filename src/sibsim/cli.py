"""The ``sibsim`` command line (also ``python -m sibsim``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sibsim.errors import ScenarioError

DEFAULT_SCENARIO = "danish-pilot"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a positive integer")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a non-negative integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"got {text!r}, expected a non-negative integer")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sibsim",
        description="Monte Carlo risk simulation for social investment deals.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the embedded Danish pilot, print the summary, write plots")
    demo.add_argument("--out", default="sibsim-demo", help="folder for the plots (default: sibsim-demo)")
    demo.add_argument("--draws", type=_positive_int, default=2000, help="Monte Carlo draws (default 2000)")
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
    from sibsim.report import format_summary

    scenario = sibsim.load_scenario(DEFAULT_SCENARIO)
    result = sibsim.simulate(scenario, draws=args.draws, seed=args.seed, progress=None)
    print(f"{scenario.name}: {args.draws} draws, seed {args.seed}")
    print(format_summary(sibsim.summarize(result)))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in plot.save_all(result, out):
        print(f"wrote {path}")
    return 0


COMMANDS = {"demo": cmd_demo, "run": cmd_run, "validate": cmd_validate}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
