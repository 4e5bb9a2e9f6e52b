"""The ``sibsim`` command line (also ``python -m sibsim``), one module per command.

Each command module declares ``add_parser(sub)`` (its options, each described with its
default) and ``run(args) -> int`` (the exit code); :data:`COMMANDS` lists them. :func:`main`
turns what can go wrong into one line on stderr and an exit code: 2 for bad input (an invalid
scenario, an option, an output path, a run too large for memory), 130 for Ctrl-C and 143 for
SIGTERM (temporary files removed, existing outputs untouched). A reader of stdout that goes
away (``sibsim demo | head``) silences the rest of the output; the command still finishes.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

from sibsim.cli import (
    corridor,
    demo,
    design,
    report,
    run,
    scenarios,
    stepping_stone,
    summarize,
    tornado,
    validate,
)
from sibsim.cli.common import HelpFormatter
from sibsim.errors import ScenarioError

__all__ = ["COMMANDS", "build_parser", "main"]

#: The command modules, in the order ``sibsim --help`` lists them.
MODULES = (demo, run, validate, scenarios, summarize, tornado, corridor, stepping_stone,
           report, design)

#: Command name -> its module.
COMMANDS = {name: module for module in MODULES
            for name in getattr(module, "NAMES", (getattr(module, "NAME", None),))}


class _Subcommands:
    """``add_parser`` of the sub-parsers, with the help layout of every command."""

    def __init__(self, sub):
        self.sub = sub

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        return self.sub.add_parser(name, formatter_class=HelpFormatter, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command.

    Returns
    -------
    argparse.ArgumentParser
    """
    import sibsim

    parser = argparse.ArgumentParser(
        prog="sibsim", formatter_class=HelpFormatter,
        description="Monte Carlo risk simulation for social investment deals.",
        epilog="Run 'sibsim COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"sibsim {sibsim.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    subcommands = _Subcommands(sub)
    for module in MODULES:
        module.add_parser(subcommands)
    return parser


class _QuietStdout:
    """stdout that falls silent once its reader has gone (a closed pipe)."""

    def __init__(self, stream):
        self.stream = stream
        self.closed_pipe = False

    def _silence(self) -> None:
        self.closed_pipe = True
        try:  # the interpreter's last flush must not fail either
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._silence()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._silence()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def _failure(exc: BaseException) -> tuple[str, int] | None:
    """The message and exit code of an error that ends a command, or None to re-raise."""
    from sibsim._optional import MissingExtra
    from sibsim._signals import Terminated

    if isinstance(exc, ScenarioError):
        return f"invalid scenario: {exc}", 2
    if isinstance(exc, (ValueError, MemoryError, MissingExtra)):
        return str(exc) or type(exc).__name__, 2
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (no result written; a zarr run resumes when run again)", 130
    if isinstance(exc, Terminated):
        return f"{exc} (no result written; a zarr run resumes when run again)", 143
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"{exc} (no result written)", 1
    return None


#: The commands that simulate.
SIMULATING = ("demo", "run", "corridor", "tornado", "report", "stepping-stone")


def _note_first_compile(command: str) -> None:
    """Say on stderr that the engine compiles first, when it is not in numba's cache."""
    if command not in SIMULATING:
        return
    from sibsim.engine.simulate import COMPILING, engine_compiled

    if not engine_compiled():
        print(COMPILING, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sibsim`` console script.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code.
    """
    import signal

    from sibsim._signals import terminate_as_exception

    args = build_parser().parse_args(argv)
    quiet = not isinstance(sys.stdout, _QuietStdout)
    saved = sys.stdout
    if quiet:
        sys.stdout = _QuietStdout(sys.stdout)
    previous = signal.getsignal(signal.SIGTERM)
    terminate_as_exception()
    try:
        _note_first_compile(args.command)
        return COMMANDS[args.command].run(args)
    except BaseException as exc:  # noqa: BLE001 - every failure gets one line and a code
        found = _failure(exc)
        if found is None:
            raise
        message, code = found
        print(f"sibsim: {message}", file=sys.stderr)
        return code
    finally:
        if previous is not None and signal.getsignal(signal.SIGTERM) is not previous:
            signal.signal(signal.SIGTERM, previous)
        try:
            sys.stdout.flush()
        finally:
            if quiet:
                sys.stdout = saved


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
