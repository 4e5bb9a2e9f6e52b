"""The headline numbers of the README, recomputed: check them, or write them back.

Every number the README quotes from a run stands between markers, so that this script can
find it, recompute it with the command that makes it, and compare or rewrite it:

- a block: ``<!-- headline:NAME -->`` on a line of its own, the text, and
  ``<!-- /headline:NAME -->`` (the demo's table);
- inline: ``<!-- headline:NAME -->VALUE<!-- /headline -->`` (a figure in a sentence).

:data:`FIGURES` lists each one: where it is quoted, the command that makes it (with its
draws and seed) and the function that recomputes it. A result depends only on the
scenario, the draws and the seed, so the recomputed text must equal the README's exactly:
there is no tolerance. When a scenario changes (the built-in one is rebuilt, an example
file is recalibrated), the numbers change and ``--check`` fails until ``--write`` is run.

Run from the repository root::

    python scripts/headline_numbers.py             # print every figure with its command
    python scripts/headline_numbers.py --check     # exit 1 if the README differs
    python scripts/headline_numbers.py --write     # rewrite the README's marked figures
    python scripts/headline_numbers.py --rst FILE  # the reviewer's guide's table (docs build)
    python scripts/headline_numbers.py --check --only demo-table   # one figure
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sibsim
from sibsim.analysis import format_summary

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"

#: ``sibsim demo``'s defaults (sibsim/cli/demo.py) and the examples' (SIBSIM_DRAWS, SEED).
DEMO_DRAWS, DEMO_SEED = 2000, 1
EXAMPLE_DRAWS = 2000

#: The rows of the demo's table that the README shows, by (contract, party); "..." stands
#: for the rows left out between them.
DEMO_ROWS = (("donation", "municipality"), ("donation", "state"), ("donation", "region"),
             ("donation", "foundation"), ("sib", "foundation"), ("sib", "investor"))


@dataclass(frozen=True)
class Figure:
    """One figure the README quotes from a run."""

    name: str                       # the marker's name
    what: str                       # what it is, for the reviewer's guide
    command: str                    # the command a reader runs to see it
    compute: Callable[[], str]      # the text between the markers
    block: bool = False             # a block of lines (else inline)


# -- the runs ------------------------------------------------------------------------------------

@cache
def demo_result():
    """The demo's run: the built-in scenario at the demo's draws and seed."""
    scenario = sibsim.load_scenario("danish-pilot")
    return sibsim.simulate(scenario, draws=DEMO_DRAWS, seed=DEMO_SEED, progress=None)


def demo_table() -> str:
    """The README's excerpt of the table ``sibsim demo`` prints (the code block)."""
    summary = sibsim.summarize(demo_result())
    contracts = set(summary["contract"])
    lines = format_summary(summary).splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("contract  party"))
    rows = {}
    for line in lines[header + 2:]:      # the table's rows, blank lines between contracts
        if line.strip() and line.split()[0] not in contracts:
            break                        # the notes and the IRR block that follow it
        if line.strip():
            rows[tuple(line.split()[:2])] = line
    missing = [key for key in DEMO_ROWS if key not in rows]
    if missing:
        raise SystemExit(f"the demo's table has no row {missing} (DEMO_ROWS in {__file__})")
    order = list(rows)
    out = ["```text", lines[header], lines[header + 1]]
    previous = None
    for key in sorted(DEMO_ROWS, key=order.index):
        if previous is not None and order.index(key) != order.index(previous) + 1:
            out.append("...")
        out.append(rows[key])
        previous = key
    if order.index(previous) != len(order) - 1:
        out.append("...")
    out.append("```")
    return "\n".join(out)


def _example(name: str):
    """An example script as a module (its ``main`` is not run)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def koto_multiple() -> str:
    """The investors' mean money multiple in ``examples/koto_sib.py``."""
    koto = _example("koto_sib")
    scenario = sibsim.load_scenario(koto.SCENARIO)
    result = sibsim.simulate(scenario, draws=EXAMPLE_DRAWS, seed=koto.SEED, progress=None)
    return f"{koto.investor_view(result)['multiple']:.2f}"


def dwp_paid() -> str:
    """What the gross rate card pays per participant with no effect (examples/dwp_rate_card.py)."""
    dwp = _example("dwp_rate_card")
    scenario = sibsim.load_scenario(EXAMPLES / "dwp_rate_card.toml")
    result = sibsim.simulate(scenario, draws=EXAMPLE_DRAWS, seed=dwp.SEED, progress=None)
    people = scenario.get("cohort.sites.NewHorizons.size")
    return dwp.gbp(dwp.paid(result, "rate_card") / people)


def discount_rate() -> str:
    """The demo's discount rate as the table's caption gives it: the mean over the draws
    (the built-in scenario's rate is uncertain)."""
    return f"{float(demo_result()['discount_rate'].mean()):.1%}"


def herning_size() -> str:
    """The size of the Herning cohort in the built-in scenario."""
    return f"{sibsim.load_scenario('danish-pilot').get('cohort.sites.Herning.size'):d}"


FIGURES = (
    Figure("demo-table", "the demo's risk table (rows shown in the README)",
           f"sibsim demo --draws {DEMO_DRAWS} --seed {DEMO_SEED}", demo_table, block=True),
    Figure("discount-rate", "the discount rate of the demo's npv",
           "sibsim demo (the caption of the table)", discount_rate),
    Figure("koto-multiple", "Koto-SIB: the investors' mean money multiple",
           f"SIBSIM_DRAWS={EXAMPLE_DRAWS} python examples/koto_sib.py (seed 1)", koto_multiple),
    Figure("dwp-paid", "DWP: what the gross rate card pays per participant with no effect",
           f"SIBSIM_DRAWS={EXAMPLE_DRAWS} python examples/dwp_rate_card.py (seed 1)", dwp_paid),
    Figure("herning-size", "the size of the Herning cohort in the built-in scenario",
           "sibsim init danish-pilot pilot.toml (cohort.sites.Herning.size)", herning_size),
)


# -- the README's markers -----------------------------------------------------------------------

def _pattern(figure: Figure) -> re.Pattern:
    name = re.escape(figure.name)
    if figure.block:
        return re.compile(rf"(<!-- headline:{name} -->\n)(.*?)(\n<!-- /headline:{name} -->)",
                          re.S)
    return re.compile(rf"(<!-- headline:{name} -->)(.*?)(<!-- /headline -->)", re.S)


def quoted(text: str, figure: Figure) -> list[str]:
    """What the README says between the figure's markers (once per occurrence)."""
    return [found.group(2) for found in _pattern(figure).finditer(text)]


def replaced(text: str, figure: Figure, value: str) -> str:
    """The README text with the figure's marked text replaced by ``value``."""
    return _pattern(figure).sub(lambda m: m.group(1) + value + m.group(3), text)


def check(text: str, figures, values: dict[str, str]) -> list[str]:
    """The problems: a figure without markers, or quoted other than recomputed."""
    problems = []
    for figure in figures:
        found = quoted(text, figure)
        if not found:
            problems.append(f"{figure.name}: no markers in README.md")
        for said in found:
            if said != values[figure.name]:
                problems.append(f"{figure.name}: README.md says\n{said}\nbut `{figure.command}` "
                                f"gives\n{values[figure.name]}")
    return problems


def rst_table(figures, values: dict[str, str]) -> str:
    """The reviewer's guide's table: each figure, the command and its value now."""
    lines = [".. This file is generated by scripts/headline_numbers.py; do not edit.", "",
             ".. list-table:: The README's figures, recomputed by this build",
             "   :header-rows: 1", "   :widths: 30 40 30", "",
             "   * - figure", "     - command", "     - value"]
    for figure in figures:
        value = values[figure.name]
        if figure.block:
            body = [line for line in value.splitlines() if not line.startswith("```")]
            cell = ["     - .. code-block:: text", ""] + [f"          {line}" for line in body]
        else:
            cell = [f"     - ``{value}``"]
        lines += [f"   * - {figure.what} (``{figure.name}``)",
                  f"     - ``{figure.command}``", *cell]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if README.md differs")
    mode.add_argument("--write", action="store_true", help="rewrite README.md's figures")
    mode.add_argument("--rst", type=Path, help="write the reviewer's guide's table here")
    parser.add_argument("--only", nargs="+", choices=[f.name for f in FIGURES],
                        help="only these figures")
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    figures = [f for f in FIGURES if not args.only or f.name in args.only]
    values = {figure.name: figure.compute() for figure in figures}
    text = args.readme.read_text(encoding="utf-8")
    if args.check:
        problems = check(text, figures, values)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(figures) - len({p.split(':')[0] for p in problems})} of {len(figures)} "
              "figures in README.md match")
        return 1 if problems else 0
    if args.write:
        missing = [f.name for f in figures if not quoted(text, f)]
        if missing:
            raise SystemExit(f"README.md has no markers for {', '.join(missing)}")
        for figure in figures:
            text = replaced(text, figure, values[figure.name])
        args.readme.write_text(text, encoding="utf-8")
        print(f"wrote {len(figures)} figures into {args.readme}")
        return 0
    if args.rst is not None:
        args.rst.parent.mkdir(parents=True, exist_ok=True)
        args.rst.write_text(rst_table(figures, values), encoding="utf-8")
    for figure in figures:
        print(f"# {figure.what}: {figure.command}\n{values[figure.name]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
