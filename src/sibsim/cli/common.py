"""What the commands share: argument types, the help layout, output folders and files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["HelpFormatter", "add_scenario_argument", "out_folder", "positive_int", "say",
           "seed", "write_table_and_plot", "write_text"]

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


positive_int = _whole_number(1, "a positive integer")
seed = _whole_number(0, "a non-negative integer")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help that states every option's default (unless the help already does)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("default" in text or default in (None, False, argparse.SUPPRESS)
                or action.required or not action.option_strings):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else default
        return f"{text} (default: {shown})"


def add_scenario_argument(parser: argparse.ArgumentParser) -> None:
    """The FILE argument of the commands that read a scenario."""
    parser.add_argument("file", metavar="FILE",
                        help="scenario: a TOML file or a built-in name (sibsim list)")


def say(text: str = "", *, err: bool = False) -> None:
    """Print a line for the person at the terminal (stdout, or stderr with ``err``)."""
    print(text, file=sys.stderr if err else sys.stdout)


def out_folder(text: str, option: str = "--out") -> Path:
    """A folder to write into: it may not exist yet, but must not be a file."""
    if not text.strip():
        raise ValueError(f"{option}: got {text!r}, expected a folder")
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option}: got {text!r}, expected a folder (a file of that name exists)")
    parent = out.resolve().parent
    if not out.exists() and not parent.is_dir():
        raise ValueError(f"{option}: got {text!r}, expected a folder in an existing folder")
    return out


def write_text(path: Path, text: str) -> None:
    """Write a text file atomically, with the umask's permissions (results.io.write_text)."""
    from sibsim.results.io import write_text as write  # imported when first used

    write(path, text)


def write_table_and_plot(out: Path, name: str, table, figure) -> None:
    """Write ``name``.csv and ``name``.png into ``out`` and say so."""
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / f"{name}.csv", table.to_csv(index=False))
    figure.savefig(out / f"{name}.png", dpi=120)
    say(f"wrote {out / f'{name}.csv'}")
    say(f"wrote {out / f'{name}.png'}")
