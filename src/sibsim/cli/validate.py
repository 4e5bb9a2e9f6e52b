"""``sibsim validate FILE``: check a scenario, list every problem, warn about sizes."""

from __future__ import annotations

from sibsim.cli.common import add_scenario_argument, positive_int, say

NAME = "validate"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        NAME, help="check a scenario and list every problem found",
        description="Check a scenario and list every problem found (exit code 2 when there "
                    "is one). A valid scenario is also sized: a warning says when a run of "
                    "--draws draws would not fit in this machine's memory, and what to change.")
    add_scenario_argument(parser)
    parser.add_argument("--draws", type=positive_int, default=2000,
                        help="draws of the run to size")


def run(args) -> int:
    from sibsim.scenario import load_scenario, validate

    problems = validate(args.file)
    if problems:
        say(f"{args.file}: {len(problems)} problem(s)", err=True)
        for problem in problems:
            say(f"  - {problem}", err=True)
        return 2
    say(f"{args.file}: valid")
    for warning in size_warnings(load_scenario(args.file), args.draws):
        say(f"warning: {warning}", err=True)
    return 0


def size_warnings(scenario, draws: int) -> list[str]:
    """Warnings about runs of ``scenario`` that cannot run on this machine."""
    from sibsim.engine import memory

    available = memory.available_memory()
    if available is None:
        return []
    chunk = memory.chunk_draws_for(scenario, draws)
    whole = memory.estimate(scenario, draws, chunk_draws=chunk)
    if memory.one_draw(whole) > available:
        return [f"even one draw needs about {memory.format_bytes(memory.one_draw(whole))} and "
                f"this machine has {memory.format_bytes(available)} available: "
                f"{memory.advice(whole, draws=draws, streamed=True, available=available)}"]
    if whole.total <= available:
        return []
    return [f"a run of {draws} draws (sibsim run --out RESULT.nc) needs about "
            f"{memory.format_bytes(whole.total)} and this machine has "
            f"{memory.format_bytes(available)} available: "
            f"{memory.advice(whole, draws=draws, streamed=False, available=available)}"]
