"""Key paths: the names of values inside a scenario, and the messages that quote them.

A key path names one value in the (normalised) scenario document. Table keys are joined with
dots and list indices are written in brackets::

    discount_rate
    cohort.sites.Herning.multiplier
    transitions[0].probability.by_months_in_state[1][1]
    flows[0].split.municipality
    contracts[1].outcomes[0].price

A key made of letters (any alphabet: ``Ærø`` is bare), digits, ``_`` and ``-`` is written
bare; any other key (with a space, a dot, a quote, ...) is written in double quotes with JSON
escapes: ``cohort.sites."Nørre Snede".size``, ``cohort.sites."St. Heddinge".size``.

This module is the one place where key paths are parsed and formatted, and where problem
messages (``path: got <value>, expected <what>``) are worded. Build a path with
:func:`format_path` or :func:`join`, never by pasting names into an f-string: a name with a
space or a dot would then name another path, or none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sibsim.errors import ScenarioError

__all__ = [
    "Part",
    "format_path",
    "get_in",
    "join",
    "parse_path",
    "problem",
    "show",
]

#: One step of a key path: a table key (str) or a list index (int).
Part = str | int

_BARE_KEY = re.compile(r"[\w\-]+")
_TOKEN = re.compile(
    r"""
    (?P<index>\[(?P<number>\d+)\])          # [12]
    | (?P<dot>\.)?                          # a dot, required before a key except at the start
      (?:
          (?P<bare>[\w\-]+)                 # a bare key
        | (?P<quoted>"(?:[^"\\]|\\.)*")     # a quoted key, JSON escapes
      )
    """,
    re.VERBOSE,
)


def _format_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def format_path(parts: Iterable[Part]) -> str:
    """Write a key path from its parts.

    Parameters
    ----------
    parts : iterable of str or int
        Table keys (str) and list indices (int), outermost first.

    Returns
    -------
    str
        The key path; the empty string for no parts.

    Examples
    --------
    >>> format_path(["transitions", 0, "probability", "by_months_in_state", 1, 1])
    'transitions[0].probability.by_months_in_state[1][1]'
    >>> format_path(["cohort", "sites", "St. Heddinge", "size"])
    'cohort.sites."St. Heddinge".size'
    """
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = _format_key(str(part))
            text = f"{text}.{key}" if text else key
    return text


def parse_path(path: str) -> tuple[Part, ...]:
    """Split a key path into its parts.

    Parameters
    ----------
    path : str
        A key path such as ``"contracts[1].outcomes[0].price"``.

    Returns
    -------
    tuple of str or int
        Table keys (str) and list indices (int), outermost first.

    Raises
    ------
    ScenarioError
        When ``path`` is not a well-formed key path.

    Examples
    --------
    >>> parse_path('flows[0].split.municipality')
    ('flows', 0, 'split', 'municipality')
    """
    if not isinstance(path, str) or not path:
        raise ScenarioError(
            f"key path: got {show(path)}, expected a key path such as 'transitions[0].probability'"
        )
    parts: list[Part] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        at_start = position == 0
        if (
            match is None
            or match.end() == position
            or (match["index"] is None and bool(match["dot"]) == at_start)
        ):
            raise ScenarioError(
                f"key path: got {path!r}, expected a key path such as "
                f"'transitions[0].probability' (cannot read it from character {position + 1})"
            )
        if match["index"] is not None:
            parts.append(int(match["number"]))
        elif match["bare"] is not None:
            parts.append(match["bare"])
        else:
            parts.append(json.loads(match["quoted"]))
        position = match.end()
    return tuple(parts)


def join(path: str, key: Part) -> str:
    """Extend a formatted key path by one table key or list index.

    Parameters
    ----------
    path : str
        A formatted key path (may be empty).
    key : str or int
        The key or index to append.

    Returns
    -------
    str

    Examples
    --------
    >>> join("cohort.sites", "Nørre Snede")
    'cohort.sites."Nørre Snede"'
    >>> join(join("flows", 0), "split")
    'flows[0].split'
    """
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = _format_key(key)
    return f"{path}.{key}" if path else key


def show(value: Any, *, limit: int = 80) -> str:
    """A short ``repr`` of a value, for messages.

    Parameters
    ----------
    value : object
        Anything.
    limit : int, optional
        Longest text returned; longer ones are cut with ``...``.

    Returns
    -------
    str
    """
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real problem
        text = f"<{type(value).__name__} object>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def problem(path: str | Iterable[Part], value: Any, expected: str) -> str:
    """Word one problem: ``"<path>: got <value>, expected <what>"``.

    Parameters
    ----------
    path : str or iterable of str or int
        Where the value stands, formatted or as parts.
    value : object
        The value found (shown with :func:`show`).
    expected : str
        What would have been valid.

    Returns
    -------
    str

    Examples
    --------
    >>> problem(["transitions", 1, "probability"], 1.5, "a number in [0, 1]")
    'transitions[1].probability: got 1.5, expected a number in [0, 1]'
    """
    where = path if isinstance(path, str) else format_path(path)
    return f"{where or '<scenario>'}: got {show(value)}, expected {expected}"


def get_in(document: Any, parts: Iterable[Part]) -> Any:
    """The value at a key path inside nested dicts and lists.

    Parameters
    ----------
    document : dict or list
        The nested document.
    parts : iterable of str or int
        The key path, as from :func:`parse_path`.

    Returns
    -------
    object
        The value itself (not a copy).

    Raises
    ------
    LookupError
        When some part of the path does not exist (``KeyError`` or ``IndexError``).
    """
    node = document
    for part in parts:
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                raise IndexError(part)
        elif not isinstance(node, Mapping) or part not in node:
            raise KeyError(part)
        node = node[part]
    return node
