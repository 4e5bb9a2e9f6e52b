"""Scenario documents as TOML: the writer that keeps key order, and reading with file/line errors.

:func:`toml_text` writes a normalised document so that reading it back gives the same
document (and the same :class:`~sibsim.scenario.Scenario`): every table keeps the order of its
keys, and distributions, step tables and other small tables are written inline.
:func:`parse_toml` and :func:`read_file` turn TOML syntax errors and unreadable files into a
:class:`~sibsim.errors.ScenarioError` that names the file (``<string>`` for text) and the line.
"""

from __future__ import annotations

import os
import pathlib
import re
import stat
import tomllib
from typing import Any

import tomli_w

from sibsim.errors import ScenarioError
from sibsim.rules import TABLE
from sibsim.scenario.families import FAMILIES
from sibsim.scenario.keypath import problem

__all__ = ["MAX_TEXT", "parse_toml", "read_file", "toml_text", "without_none"]

#: The largest scenario text read, in characters (a file, in bytes): 16 MiB.
MAX_TEXT = 16 * 2**20


def without_none(value: Any) -> Any:
    """The document without its None entries (TOML has no null)."""
    if isinstance(value, dict):
        return {k: without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_none(v) for v in value]
    return value


def _toml_scalar(value: Any) -> str:
    """A TOML scalar (str, int, float, bool), formatted by tomli_w."""
    return tomli_w.dumps({"v": value})[4:-1]


def _toml_key(key: str) -> str:
    """A TOML key, bare or quoted, formatted by tomli_w."""
    return tomli_w.dumps({key: 0})[: -len(" = 0\n")]


def _toml_inline(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ", ".join(f"{_toml_key(k)} = {_toml_inline(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_inline(v) for v in value) + "]"
    return _toml_scalar(value)


def _is_array_of_tables(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_compact(value: Any) -> bool:
    """A distribution or a step table: always written inline."""
    return isinstance(value, dict) and len(value) == 1 and (
        next(iter(value)) in FAMILIES or next(iter(value)) == TABLE)


def _needs_section(value: dict) -> bool:
    """Whether a nested table is written as a [section] rather than inline."""
    return any(
        (isinstance(v, dict) and not _is_compact(v)) or _is_array_of_tables(v)
        for v in value.values()
    )


def _emit_table(table: dict, header: str, lines: list[str], *, array: bool = False) -> None:
    """Write one table: its inline keys first, then its sub-sections (order kept within each)."""
    inline, sections = [], []
    for key, value in table.items():
        as_section = isinstance(value, dict) and not _is_compact(value) and (
            not header or _needs_section(value))
        if as_section or _is_array_of_tables(value):
            sections.append((key, value))
        else:
            inline.append(f"{_toml_key(key)} = {_toml_inline(value)}")
    if header and (array or inline or not sections):  # else the sub-headers imply the table
        lines += ["", f"[[{header}]]" if array else f"[{header}]"]
    lines += inline
    for key, value in sections:
        name = f"{header}.{_toml_key(key)}" if header else _toml_key(key)
        if isinstance(value, list):
            for item in value:
                _emit_table(item, name, lines, array=True)
        else:
            _emit_table(value, name, lines)


def toml_text(document: dict) -> str:
    """TOML text of a plain document, keeping the order of every table's keys.

    (``tomli_w.dumps`` writes a table's scalar keys before its sub-tables, which would change
    the order of the payers of a split that mixes ``"rest"`` and step tables.) Sub-tables of
    one table keep their relative order; distributions, step tables, splits, effects, payer
    shares and sites are written inline.

    Parameters
    ----------
    document : dict
        Plain dicts, lists, str, int, float and bool, without None (see :func:`without_none`).

    Returns
    -------
    str
        TOML text that ``tomllib`` reads back to an equal document.

    Examples
    --------
    >>> flow = {"name": "cash", "split": {"state": "rest", "Region Midtjylland": 0.25}}
    >>> print(toml_text({"name": "x", "flows": [flow]}), end="")
    name = "x"
    <BLANKLINE>
    [[flows]]
    name = "cash"
    split = { state = "rest", "Region Midtjylland" = 0.25 }
    """
    lines: list[str] = []
    _emit_table(document, "", lines)
    return "\n".join(lines) + "\n"


def parse_toml(text: str, origin: str) -> dict[str, Any]:
    """Read TOML text; a syntax error becomes a ScenarioError naming the origin and the line.

    Parameters
    ----------
    text : str
        The TOML text.
    origin : str
        Where the text comes from, for the message: a file path, a built-in name or
        ``"<string>"``.

    Returns
    -------
    dict
        The document, as ``tomllib`` reads it.

    Raises
    ------
    ScenarioError
        ``"<origin>: invalid TOML at line <n>: ..."``.
    """
    if len(text) > MAX_TEXT:
        raise ScenarioError(f"{origin}: got {len(text):,} characters of TOML, expected a "
                            f"scenario of at most {MAX_TEXT:,}")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ScenarioError(f"{origin}: invalid TOML: tables or lists nested too deeply to "
                            "read (a scenario needs only a few levels)") from None
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"line (\d+)", str(error))
        if found:
            line = f" at line {found.group(1)}"
        else:  # "(at end of document)"
            line = f" at line {max(1, len(text.splitlines()))} (the end)"
        raise ScenarioError(f"{origin}: invalid TOML{line}: {error}") from None


def read_file(path: pathlib.Path) -> dict[str, Any]:
    """Read a TOML scenario file (UTF-8): a regular file of at most :data:`MAX_TEXT` bytes.

    Only regular files are opened: a named pipe would block and a device such as
    ``/dev/zero`` would never end.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    dict
        The document, as ``tomllib`` reads it.

    Raises
    ------
    ScenarioError
        When the file is missing, not a regular file, too large, unreadable, not UTF-8 or
        not valid TOML.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(problem(str(path), str(path), "an existing scenario file")) from None
    except (OSError, ValueError) as error:
        raise ScenarioError(f"{path}: cannot read the file ({error})") from None
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(problem(str(path), str(path), "a scenario file (this is not a "
                                    "regular file: a folder, a pipe or a device)"))
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_TEXT + 1)
        if len(data) > MAX_TEXT:
            raise ScenarioError(f"{path}: got a file of more than {MAX_TEXT:,} bytes, "
                                "expected a scenario file of a readable size")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read the file ({error})") from None
    return parse_toml(text, str(path))
