"""The notes in a scenario file's comments, for the report's "assumptions and sources".

A scenario file explains itself in comments: a header at the top, a block of comment lines
before a table (``# transitions[0]: job finding ...`` above ``[[transitions]]``), and a
comment after a setting, continued on the indented comment lines under it. The validated
scenario keeps none of them (the result stores the normalised text), so the report reads
them from the file's own text. Each note is named by the key path of what it explains,
with the index of each array of tables (``transitions[3].probability``,
``contracts[3].financing.tranches[0].amount``).
"""

from __future__ import annotations

import re

__all__ = ["scenario_notes"]

_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*$")
_SETTING = re.compile(r"^\s*([A-Za-z0-9_.\-\"]+)\s*=")


def _code_and_comment(line: str) -> tuple[str, str]:
    """A TOML line split at its comment (a ``#`` outside quotes)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:i], line[i + 1:].strip()
    return line, ""


def _table_path(name: str, array: bool, counts: dict[str, int]) -> str:
    """The key path of a table header, counting the arrays of tables seen so far."""
    if array:
        counts[name] = counts.get(name, 0) + 1
        for key in [k for k in counts if k.startswith(name + ".")]:
            del counts[key]  # a new element starts its own nested arrays at 0
    parts, out = name.split("."), []
    for k, part in enumerate(parts):
        prefix = ".".join(parts[:k + 1])
        out.append(f"{part}[{counts[prefix] - 1}]" if prefix in counts else part)
    return ".".join(out)


def _header(lines: list[str]) -> list[str]:
    """Take the first block of comment lines off ``lines``: the file's header."""
    header = []
    while lines and lines[0].strip().startswith("#"):
        comment = lines.pop(0).strip()[1:]
        header.append("" if set(comment.strip()) <= set("=-") else comment[1:].rstrip())
    return header


def scenario_notes(text: str | None) -> dict:
    """The notes in a scenario file's comments: its header, and what each part says.

    Parameters
    ----------
    text : str or None
        The scenario file's text (None: no notes).

    Returns
    -------
    dict
        ``header`` (the first block of comment lines, as text) and ``rows`` (pairs of key
        path and note: a comment block above a table, a comment after a setting with the
        indented comment lines under it).

    Examples
    --------
    >>> text = ("# about\\n\\n[cohort]\\nsize = 3  # P2: sixty\\n    # or so\\n"
    ...         "# the job finding chance\\n[[transitions]]\\nprobability = 0.02  # J1\\n")
    >>> scenario_notes(text)["rows"]
    [['cohort.size', 'P2: sixty or so'], ['transitions[0]', 'the job finding chance'], \
['transitions[0].probability', 'J1']]
    """
    lines = (text or "").splitlines()
    header = _header(lines)
    rows, table, last, pending, counts = [], "", None, [], {}

    def add(note: list, comment: str) -> None:
        if not note[1]:
            rows.append(note)  # a setting's note is listed once it says something
        note[1] = f"{note[1]} {comment}".strip()

    for line in lines:
        code, comment = _code_and_comment(line)
        if not code.strip():
            if comment and last is not None and line[:1].isspace():
                add(last, comment)
            elif comment and not set(comment) <= set("=-"):
                last = None
                pending.append(comment)
            else:  # a blank line or a rule ends a block
                last, pending = None, []
            continue
        found = _TABLE.match(code)
        if found:
            table = _table_path(found.group(2), found.group(1) == "[[", counts)
            if pending:
                rows.append([table, " ".join(pending)])
            last, pending = None, []
            continue
        setting = _SETTING.match(code)
        if setting:
            last = [f"{table}.{setting.group(1)}" if table else setting.group(1), ""]
            for note in pending + ([comment] if comment else []):
                add(last, note)
        elif last is not None and comment:
            add(last, comment)
        pending = []
    return {"header": "\n".join(header).strip("\n"), "rows": rows}
