"""Loading scenarios: from a dict, a TOML file or text, or a built-in name; and validating them.

:func:`load_scenario` returns an immutable :class:`~sibsim.scenario.Scenario`, or raises one
:class:`~sibsim.errors.ScenarioError` that lists every problem found, each worded
``<key path>: got <value>, expected <what>``. :func:`validate` returns that list instead, and
:func:`builtin_scenarios` names the scenarios shipped in ``src/sibsim/data``.
"""

from __future__ import annotations

import importlib.resources
import os
import pathlib
import re
from collections.abc import Mapping
from typing import Any

from sibsim.errors import ScenarioError
from sibsim.scenario.keypath import problem
from sibsim.scenario.kinds import quoted, suggest
from sibsim.scenario.model import Scenario
from sibsim.scenario.toml import parse_toml, read_file

__all__ = ["builtin_scenarios", "load_scenario", "validate"]

_BUILTIN_NAME = re.compile(r"[A-Za-z0-9_\-]+")


def builtin_scenarios() -> list[str]:
    """The names of the scenarios shipped with sibsim (``src/sibsim/data/<name>.toml``).

    Returns
    -------
    list of str
        Sorted names, usable with :func:`load_scenario`.
    """
    try:
        folder = importlib.resources.files("sibsim") / "data"
        return sorted(entry.name[:-5] for entry in folder.iterdir()
                      if entry.name.endswith(".toml") and entry.is_file())
    except (FileNotFoundError, NotADirectoryError):  # pragma: no cover - data is packaged
        return []


def _is_file(text: str) -> bool:
    try:
        return os.path.isfile(text)
    except (OSError, ValueError):
        return False


def _exists(text: str) -> bool:
    """An existing path that is not a regular file (a folder, a pipe, a device)."""
    if "\n" in text or len(text) > 4096:
        return False
    try:
        return os.path.exists(text)
    except (OSError, ValueError):
        return False


def load_scenario(source: Scenario | Mapping[str, Any] | str | os.PathLike) -> Scenario:
    """Read and validate a scenario.

    Parameters
    ----------
    source : Scenario, dict, str or path
        A :class:`Scenario` (returned as it is); a dict with the keys of ``docs/scenario.rst``; a
        ``pathlib.Path`` (or other path-like) to a TOML file; or a str, tried first as the
        name of a built-in scenario (see :func:`builtin_scenarios`), then as the path of an
        existing file, then as TOML text.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Listing every problem found; a TOML syntax error names the file (``<string>`` for
        text) and the line.

    Examples
    --------
    >>> s = load_scenario('''
    ... months = 36
    ... states = ["benefits", "employed"]
    ... [cohort]
    ... initial_state = "benefits"
    ... sites.Herning.size = 40
    ... [programme]
    ... months = 12
    ... ''')
    >>> s.sites()
    ['Herning']
    """
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        return Scenario(source)
    if isinstance(source, os.PathLike):
        return Scenario(read_file(pathlib.Path(source)))
    if isinstance(source, str):
        if _BUILTIN_NAME.fullmatch(source) and source in builtin_scenarios():
            resource = importlib.resources.files("sibsim") / "data" / f"{source}.toml"
            return Scenario(parse_toml(resource.read_text(encoding="utf-8"), source))
        if _is_file(source) or _exists(source):  # read_file refuses pipes and devices
            return Scenario(read_file(pathlib.Path(source)))
        looks_like_toml = "\n" in source or "=" in source or "[" in source or not source.strip()
        if not looks_like_toml:
            raise ScenarioError(problem(
                "source", source,
                f"a built-in scenario name ({quoted(builtin_scenarios()) or 'none'}), the "
                f"path of an existing file, or TOML text{suggest(source, builtin_scenarios())}"))
        return Scenario(parse_toml(source, "<string>"))
    raise ScenarioError(problem(
        "source", source, "a Scenario, a dict, a file path, a built-in name or TOML text"))


def validate(source: Scenario | Mapping[str, Any] | str | os.PathLike) -> list[str]:
    """Every problem of a scenario, for ``sibsim validate``.

    Parameters
    ----------
    source : Scenario, dict, str or path
        As for :func:`load_scenario`.

    Returns
    -------
    list of str
        One message per problem; empty when the scenario is valid.

    Examples
    --------
    >>> validate({"months": 0})[:2]  # doctest: +NORMALIZE_WHITESPACE
    ['months: got 0, expected a whole number >= 1',
     'states: got nothing (the key is missing), expected a non-empty list of state names']
    """
    try:
        load_scenario(source)
    except ScenarioError as error:
        return list(error.problems)
    return []
