"""``sibsim list`` and ``sibsim init NAME FILE``: the built-in scenarios, and starting from one."""

from __future__ import annotations

from pathlib import Path

from sibsim.cli.common import say, write_text

NAMES = ("list", "init")


def add_parser(sub) -> None:
    sub.add_parser("list", help="list the built-in scenarios",
                   description="List the built-in scenarios: their names (for any FILE "
                               "argument, and for sibsim init) and titles.")
    init = sub.add_parser(
        "init", help="write a built-in scenario to a file, as a starting point",
        description="Write a built-in scenario, with its comments and sources, to a TOML "
                    "file to edit. An existing file is kept unless --force is given.")
    init.add_argument("name", metavar="NAME", help="a built-in scenario (sibsim list)")
    init.add_argument("target", metavar="FILE", help="the TOML file to write (.toml)")
    init.add_argument("--force", action="store_true",
                      help="replace FILE if it exists (default: refuse)")


def _text(name: str) -> str:
    import importlib.resources

    return (importlib.resources.files("sibsim") / "data" / f"{name}.toml").read_text(
        encoding="utf-8")


def run(args) -> int:
    return list_scenarios() if args.command == "list" else init(args)


def list_scenarios() -> int:
    from sibsim.scenario import builtin_scenarios, load_scenario

    names = builtin_scenarios()
    width = max(map(len, names), default=0)
    for name in names:
        say(f"{name:<{width}}  {load_scenario(name).name}")
    return 0


def init(args) -> int:
    from sibsim.scenario import builtin_scenarios
    from sibsim.scenario.kinds import quoted, suggest

    names = builtin_scenarios()
    if args.name not in names:
        raise ValueError(f"NAME: got {args.name!r}, expected a built-in scenario "
                         f"({quoted(names)}){suggest(args.name, names)}")
    target = Path(args.target)
    if target.suffix.lower() != ".toml":
        raise ValueError(f"FILE: got {args.target!r}, expected a path ending in .toml")
    if target.is_dir():
        raise ValueError(f"FILE: got {args.target!r}, expected a file name; that is a folder")
    if not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise ValueError(f"FILE: got {args.target!r}, expected a file in an existing folder")
    if target.exists() and not args.force:
        raise ValueError(f"FILE: {args.target!r} exists; give --force to replace it")
    write_text(target, _text(args.name))
    say(f"wrote {target} (the built-in scenario {args.name!r}); edit it, then: "
        f"sibsim validate {target}")
    return 0
