"""``sibsim report FILE|NAME --out report.html``: a self-contained HTML report for partners."""

from __future__ import annotations

import os
from pathlib import Path

from sibsim.cli.common import positive_int, say, seed

NAME = "report"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="write a self-contained HTML report (English or Danish) for the partners",
        description="Simulate a scenario (or read a saved result) and write one HTML file "
                    "that opens offline: what each party puts in and gets back, the risk "
                    "table with its Monte Carlo errors, the plots, the price range both sides "
                    "accept, what drives the risk, the assumptions and the provenance. It "
                    "prints to A4.")
    parser.add_argument("file", metavar="FILE|NAME",
                        help="scenario: a TOML file or a built-in name (sibsim list); or a "
                             "saved result (.nc or .zarr from sibsim run)")
    parser.add_argument("--draws", type=positive_int, default=2000,
                        help="Monte Carlo draws (ignored for a saved result)")
    parser.add_argument("--seed", type=seed, default=1,
                        help="random seed (ignored for a saved result)")
    parser.add_argument("--out", default="report.html", metavar="REPORT.html",
                        help="the report to write")
    parser.add_argument("--lang", choices=("en", "da"), default="en",
                        help="language: English (en) or Danish (da)")
    parser.add_argument("--analysis-draws", type=positive_int, default=200, metavar="N",
                        help="draws per run of the price range and the tornado")
    parser.add_argument("--no-corridor", action="store_true",
                        help="leave out the price range, which re-simulates each price "
                             "(default: included)")
    parser.add_argument("--no-tornado", action="store_true",
                        help="leave out the tornado, which re-simulates each parameter "
                             "(default: included)")


def _scenario_text(text: str) -> str | None:
    """The scenario file's text when FILE is a file (its comments become the notes)."""
    try:
        if os.path.isfile(text):
            return Path(text).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return None


def run(args) -> int:
    import contextlib

    import sibsim
    from sibsim.report import check_report_path, write_report

    out = check_report_path(args.out, option="--out")
    options = {"lang": args.lang, "corridor": not args.no_corridor,
               "tornado": not args.no_tornado, "analysis_draws": args.analysis_draws}
    if Path(args.file).suffix.lower() in (".nc", ".zarr"):
        from sibsim.cli.summarize import open_result

        opened = open_result(args.file)
        text = None
    else:
        scenario = sibsim.load_scenario(args.file)
        text = _scenario_text(args.file)
        opened = contextlib.nullcontext(
            sibsim.simulate(scenario, draws=args.draws, seed=args.seed, progress=None))
        say(f"{scenario.name}: {args.draws} draws, seed {args.seed}")
    with opened as result:
        write_report(result.load(), out, scenario_text=text, **options)
    say(f"wrote {out}")
    return 0
