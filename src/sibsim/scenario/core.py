"""Scenarios: loading, validation, defaults, key paths (SPEC sections 1, 5 and 6).

:func:`load_scenario` reads a scenario from a dict, a TOML file or text, or a built-in name,
checks it against the format of SPEC section 6 and returns an immutable :class:`Scenario`.
Validation never stops at the first problem: every problem found is listed in one
:class:`~sibsim.errors.ScenarioError`, each worded ``<key path>: got <value>, expected <what>``.

The format is declared once, below, as a tree of *kinds* (``_Real``, ``_Whole``, ``_Table``,
...). The same tree checks the input, fills the defaults (giving the normalised document of
``docs/internals.rst``, :attr:`Scenario.data`) and lists the per-draw parameters
(:meth:`Scenario.parameters`), so the three can never disagree. ``docs/scenario.rst`` is the
reference page for the format.
"""

from __future__ import annotations

import copy
import difflib
import importlib.resources
import math
import os
import pathlib
import re
import tomllib
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import tomli_w

from sibsim.errors import ScenarioError
from sibsim.rules import PROVIDER, REST, apportion, entry_month
from sibsim.scenario.distributions import FAMILIES, Distribution, as_real
from sibsim.scenario.keypath import Part, format_path, get_in, parse_path, problem, show

__all__ = [
    "Scenario",
    "load_scenario",
    "validate",
    "builtin_scenarios",
    "apportion",
    "entry_month",
    "CONTRACT_TYPES",
    "BASELINES",
]

#: The contract types, in the order of SPEC section 6.
CONTRACT_TYPES = ("grant", "fee_for_service", "rate_card", "gain_share", "effect_tiers")
#: What a gain-share or effect-tiers contract measures against.
BASELINES = ("counterfactual", "comparison_group", "historical")
#: Tolerance of the checks that shares sum to 1.
SHARE_TOLERANCE = 1e-9
#: The largest whole number accepted (months, sizes, lags): products of two fit in int64.
WHOLE_MAX = 2**31 - 1

Path = tuple[Part, ...]
Leaf = float | Distribution


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _as_int(value: Any) -> int | None:
    """The value as a Python int if it is a whole number (not a bool), else None."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = as_real(value)
    if number is not None and math.isfinite(number) and number == int(number):
        return int(number)
    return None


def _suggest(word: Any, options: Sequence[str]) -> str:
    hint = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def _quoted(options: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(repr(o) for o in options[:limit])
    return shown + (", ..." if len(options) > limit else "")


def _fmt(number: float) -> str:
    return f"{number:g}"


def _plain(value: Any) -> Any:
    """Convert an input document to plain Python: dicts, lists, str, int, float, bool.

    numpy scalars and arrays become Python numbers and lists, tuples become lists and a
    :class:`Distribution` becomes its written form. Anything else is kept as it is (and
    reported by validation).
    """
    if isinstance(value, Distribution):
        return value.to_spec()
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist()) if value.ndim else _plain(value[()])
    if isinstance(value, np.generic):
        return value.item()
    return value


def _without_none(value: Any) -> Any:
    """The document without its None entries (TOML has no null)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
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
        next(iter(value)) in FAMILIES or next(iter(value)) == _Stepped.KEY)


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


def _toml_text(document: dict) -> str:
    """TOML text of a plain document, keeping the order of every table's keys.

    (``tomli_w.dumps`` writes a table's scalar keys before its sub-tables, which would change
    the order of the payers of a split that mixes ``"rest"`` and step tables.) Sub-tables of
    one table keep their relative order; distributions, step tables, splits, effects, payer
    shares and sites are written inline.
    """
    lines: list[str] = []
    _emit_table(document, "", lines)
    return "\n".join(lines) + "\n"


def _freeze(value: Any) -> Hashable:
    """A hashable, order-preserving image of a plain document."""
    if isinstance(value, dict):
        return ("{", tuple((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[", tuple(_freeze(v) for v in value))
    return value


class _Invalid:
    """Marks a value that failed validation (its problem is already reported)."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID: Any = _Invalid()


def _ok(*values: Any) -> bool:
    return all(v is not INVALID for v in values)


# ---------------------------------------------------------------------------------------------
# Validation context
# ---------------------------------------------------------------------------------------------


class _Context:
    """Collects problems and gives kinds a view of the document validated so far."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.doc: dict[str, Any] = {}

    def report(self, path: Path, value: Any, expected: str) -> Any:
        self.problems.append(problem(path, value, expected))
        return INVALID

    def missing(self, path: Path, expected: str) -> Any:
        self.problems.append(
            f"{format_path(path)}: got nothing (the key is missing), expected {expected}"
        )
        return INVALID

    def unknown(self, path: Path, key: Any, known: Sequence[str]) -> None:
        where = format_path((*path, str(key)))
        self.problems.append(
            f"{where}: got unknown key {show(key)}, expected one of the keys "
            f"{', '.join(known)}{_suggest(key, known)}"
        )

    # Views of the document validated so far (None where unknown or invalid).

    def months(self) -> int | None:
        months = self.doc.get("months")
        return months if isinstance(months, int) else None

    def states(self) -> list[str] | None:
        states = self.doc.get("states")
        if not isinstance(states, list):
            return None
        return list(dict.fromkeys(s for s in states if isinstance(s, str)))

    def _flow_names(self, key: str) -> list[str] | None:
        flows = self.doc.get("flows")
        if not isinstance(flows, list):
            return None
        names: list[str] = []
        for flow in flows:
            if not isinstance(flow, dict):
                return None
            if key == "split":
                if not isinstance(flow.get("split"), dict):
                    return None
                found = list(flow["split"])
            else:
                if not isinstance(flow.get(key), str):
                    return None
                found = [flow[key]]
            names += [name for name in found if name not in names]
        return names

    def payers(self) -> list[str] | None:
        return self._flow_names("split")

    def categories(self) -> list[str] | None:
        return self._flow_names("category")


# ---------------------------------------------------------------------------------------------
# Kinds of values
# ---------------------------------------------------------------------------------------------


class _Kind:
    """A kind of value: checks and normalises input, and lists per-draw parameters."""

    expected = "a value"

    def check(self, value: Any, path: Path, ctx: _Context) -> Any:
        raise NotImplementedError

    def leaves(self, value: Any, path: Path) -> Iterator[tuple[Path, Leaf]]:
        """The per-draw real-valued parameters inside a normalised value."""
        return iter(())


class _Text(_Kind):
    def __init__(self, expected: str = "a non-empty string"):
        self.expected = expected

    def check(self, value, path, ctx):
        if not isinstance(value, str) or not value.strip():
            return ctx.report(path, value, self.expected)
        return value


class _Choice(_Kind):
    def __init__(self, options: Sequence[str]):
        self.options = tuple(options)
        self.expected = "one of " + ", ".join(repr(o) for o in self.options)

    def check(self, value, path, ctx):
        if not isinstance(value, str) or value not in self.options:
            return ctx.report(path, value, self.expected + _suggest(value, self.options))
        return value


class _Flag(_Kind):
    expected = "true or false"

    def check(self, value, path, ctx):
        if not isinstance(value, bool):
            return ctx.report(path, value, self.expected)
        return value


class _Whole(_Kind):
    """A whole number (months, sizes, lags). Never a distribution."""

    def __init__(self, low: int, high: Callable[[_Context], int | None] | None = None,
                 *, high_text: str = ""):
        self.low = low
        self.high = high
        self.expected = f"a whole number >= {low}" + (f" and <= {high_text}" if high else "")

    def check(self, value, path, ctx):
        number = _as_int(value)
        high = self.high(ctx) if self.high else None
        if number is None:
            note = " (whole-month counts and sizes cannot be uncertain)" if isinstance(
                value, Mapping) else ""
            return ctx.report(path, value, self._expected(high) + note)
        if number < self.low or (high is not None and number > high):
            return ctx.report(path, value, self._expected(high))
        if number > WHOLE_MAX:
            return ctx.report(path, value, f"a whole number in [{self.low}, {WHOLE_MAX}]")
        return number

    def _expected(self, high: int | None) -> str:
        if high is None:
            return f"a whole number >= {self.low}"
        return f"a whole number in [{self.low}, {high}]"


def _range_text(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if low == -math.inf and high == math.inf:
        return "a finite number"
    if high == math.inf:
        return f"a number {'>' if low_open else '>='} {_fmt(low)}"
    if low == -math.inf:
        return f"a number {'<' if high_open else '<='} {_fmt(high)}"
    return (f"a number in {'(' if low_open else '['}{_fmt(low)}, "
            f"{_fmt(high)}{')' if high_open else ']'}")


class _Real(_Kind):
    """A real number or, where allowed, a distribution of one (a ``Num``).

    A distribution is valid when its support lies within the closure of the valid range (its
    end points have probability 0).
    """

    def __init__(self, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
                 high_open: bool = False, uncertain: bool = True, any_family: bool = False,
                 per_draw: bool = True):
        self.low, self.high = low, high
        self.low_open, self.high_open = low_open, high_open
        self.uncertain = uncertain
        self.any_family = any_family
        self.per_draw = per_draw
        self.range = _range_text(low, high, low_open, high_open)
        bounded = math.isfinite(low) or math.isfinite(high)
        if not uncertain:
            self.expected = self.range
        elif any_family or not bounded:
            self.expected = f"{self.range} or a distribution"
        else:
            self.expected = f"{self.range} or a distribution whose support lies within it"

    def in_range(self, number: float) -> bool:
        above = number > self.low if self.low_open else number >= self.low
        below = number < self.high if self.high_open else number <= self.high
        return above and below

    def check(self, value, path, ctx, *, alternatives: Sequence[str] = (), also: str = ""):
        if isinstance(value, Mapping):
            if not self.uncertain:
                return ctx.report(path, value, self.expected + also + " (it cannot be uncertain)")
            if len(value) != 1 or next(iter(value)) not in FAMILIES:
                keys = list(FAMILIES) + list(alternatives)
                hint = _suggest(next(iter(value)), keys) if len(value) == 1 else ""
                return ctx.report(
                    path, value,
                    f"{self.expected}{also}; a distribution is a table with one key, the family "
                    f"({', '.join(FAMILIES)}){hint}",
                )
            try:
                distribution = Distribution.from_spec(value, format_path(path))
            except ScenarioError as error:
                ctx.problems.extend(error.problems)
                return INVALID
            low, high = distribution.support()
            if not self.any_family and (low < self.low or high > self.high):
                return ctx.report(
                    path, value,
                    f"{self.expected}{also} (this {distribution.family} lies on "
                    f"[{_fmt(low)}, {_fmt(high)}])",
                )
            return distribution.to_spec()
        number = as_real(value)
        if number is None or not math.isfinite(number) or not self.in_range(number):
            return ctx.report(path, value, self.expected + also)
        return number

    def leaves(self, value, path):
        if not self.per_draw:
            return
        if isinstance(value, dict):
            (family, params), = value.items()
            yield path, Distribution(family, params)
        else:
            yield path, value

    def bounds(self, value: Any) -> tuple[float, float]:
        """The smallest and largest value a normalised ``Num`` can take."""
        if isinstance(value, dict):
            (family, params), = value.items()
            return Distribution(family, params).support()
        return value, value


class _Row(_Kind):
    """A pair ``[a, b]`` written as a list of two."""

    def __init__(self, first: _Kind, second: _Kind, what: str):
        self.first, self.second = first, second
        self.expected = f"a pair [{what}]"

    def check(self, value, path, ctx):
        if not isinstance(value, list) or len(value) != 2:
            return ctx.report(path, value, self.expected)
        return [self.first.check(value[0], (*path, 0), ctx),
                self.second.check(value[1], (*path, 1), ctx)]

    def leaves(self, value, path):
        yield from self.first.leaves(value[0], (*path, 0))
        yield from self.second.leaves(value[1], (*path, 1))


class _List(_Kind):
    """A list of items of one kind, optionally non-empty and with unique keys."""

    def __init__(self, item: _Kind, *, what: str, nonempty: bool = False,
                 unique: Callable[[Any], Hashable | None] | None = None,
                 unique_at: Path = (), unique_what: str = "", post=None):
        self.item = item
        self.nonempty = nonempty
        self.unique, self.unique_at, self.unique_what = unique, unique_at, unique_what
        self.post = post
        self.expected = f"{'a non-empty' if nonempty else 'a'} list of {what}"

    def check(self, value, path, ctx):
        if not isinstance(value, list):
            return ctx.report(path, value, self.expected)
        if self.nonempty and not value:
            return ctx.report(path, value, self.expected)
        items = [self.item.check(item, (*path, i), ctx) for i, item in enumerate(value)]
        if self.unique is not None:
            seen: dict[Hashable, int] = {}
            for i, item in enumerate(items):
                key = self.unique(item) if item is not INVALID else None
                if key is None:
                    continue
                if key in seen:
                    where = (*path, i, *self.unique_at)
                    ctx.report(where, key if self.unique_at else value[i],
                               f"{self.unique_what} not used before "
                               f"(already used at {format_path((*path, seen[key]))})")
                else:
                    seen[key] = i
        if self.post is not None:
            self.post(items, path, ctx)
        return items

    def leaves(self, value, path):
        for i, item in enumerate(value):
            yield from self.item.leaves(item, (*path, i))


class _Map(_Kind):
    """A table of named entries of one kind (``[cohort.sites.<name>]``)."""

    def __init__(self, item: _Kind, *, what: str):
        self.item = item
        self.expected = f"a non-empty table of {what}"

    def check(self, value, path, ctx):
        if not isinstance(value, Mapping) or not value:
            return ctx.report(path, value, self.expected)
        result = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key.strip():
                ctx.report(path, key, "non-empty names as keys")
                continue
            result[key] = self.item.check(item, (*path, key), ctx)
        return result

    def leaves(self, value, path):
        for key, item in value.items():
            yield from self.item.leaves(item, (*path, key))


@dataclass(frozen=True)
class _Field:
    """One key of a table: its kind, whether it is required, and its default."""

    name: str
    kind: _Kind
    required: bool = False
    default: Any = None  # a value, or a callable(ctx) giving it

    def default_value(self, ctx: _Context) -> Any:
        if callable(self.default):
            return self.default(ctx)
        return copy.deepcopy(self.default)


class _Table(_Kind):
    """A table with fixed keys. Missing optional keys (and keys given as None) get defaults."""

    def __init__(self, fields: Sequence[_Field], *, what: str, post=None):
        self.fields = {f.name: f for f in fields}
        self.what = what
        self.post = post
        self.expected = f"a table ({what}) with keys {', '.join(self.fields)}"

    def check(self, value, path, ctx, out: dict | None = None):
        if not isinstance(value, Mapping):
            return ctx.report(path, value, self.expected)
        for key in value:
            if key not in self.fields:
                ctx.unknown(path, key, list(self.fields))
        out = {} if out is None else out
        for name, spec in self.fields.items():
            given = value.get(name)
            if given is not None:
                out[name] = spec.kind.check(given, (*path, name), ctx)
            elif spec.required:
                out[name] = ctx.missing((*path, name), spec.kind.expected)
            else:
                out[name] = spec.default_value(ctx)
        if self.post is not None:
            self.post(out, path, ctx)
        return out

    def leaves(self, value, path):
        for name, spec in self.fields.items():
            if value[name] is not None:
                yield from spec.kind.leaves(value[name], (*path, name))


class _StateName(_Kind):
    expected = "the name of a state"

    def check(self, value, path, ctx):
        states = ctx.states()
        if not isinstance(value, str) or (states is not None and value not in states):
            if states is None:
                return ctx.report(path, value, self.expected)
            return ctx.report(path, value, f"one of the states {_quoted(states)}"
                              + _suggest(value, states))
        return value


class _FlowNames(_Kind):
    """A non-empty list of payers (or categories) that appear in the flows."""

    def __init__(self, source: str):
        self.source = source  # "payers" or "categories"
        self.singular = "payer" if source == "payers" else "category"
        self.expected = f"a non-empty list of {source} named in the flows"

    def check(self, value, path, ctx):
        known = ctx.payers() if self.source == "payers" else ctx.categories()
        if not isinstance(value, list) or (not value and known != []):
            # (Empty only where the flows name none: the default then is the empty list.)
            return ctx.report(path, value, self.expected)
        result: list[Any] = []
        for i, name in enumerate(value):
            if not isinstance(name, str) or (known is not None and name not in known):
                what = (f"a {self.singular} named in the flows ({_quoted(known)})"
                        if known is not None else f"a {self.singular} name")
                result.append(ctx.report((*path, i), name, what + _suggest(name, known or [])))
            elif name in result:
                result.append(ctx.report((*path, i), name, f"a {self.singular} not listed before"))
            else:
                result.append(name)
        return result


class _Stepped(_Kind):
    """A ``Num``, or a step table ``{by_months_in_state = [[0, Num], [k, Num], ...]}``."""

    KEY = "by_months_in_state"

    def __init__(self, real: _Real):
        self.real = real
        self.rows = _List(_Row(_Whole(0), real, "months_in_state, value"),
                          what="[months_in_state, value] rows", nonempty=True)
        self.expected = (f"{real.expected}, or a step table "
                         f"{{ {self.KEY} = [[0, value], [months, value], ...] }}")

    def check(self, value, path, ctx):
        also = f", or a step table {{ {self.KEY} = [[0, value], ...] }}"
        if not (isinstance(value, Mapping) and self.KEY in value):
            return self.real.check(value, path, ctx, alternatives=[self.KEY], also=also)
        for key in value:
            if key != self.KEY:
                ctx.unknown(path, key, [self.KEY])
        rows = self.rows.check(value[self.KEY], (*path, self.KEY), ctx)
        if rows is INVALID:
            return INVALID
        previous: int | None = None
        for i, row in enumerate(rows):
            if row is INVALID or row[0] is INVALID:
                return {self.KEY: rows}
            where = (*path, self.KEY, i, 0)
            if previous is None and row[0] != 0:
                ctx.report(where, row[0], "0 (a step table starts at months_in_state 0)")
            elif previous is not None and row[0] <= previous:
                ctx.report(where, row[0], f"a whole number > {previous} "
                           "(months_in_state keys strictly increasing)")
            previous = row[0]
        return {self.KEY: rows}

    def leaves(self, value, path):
        if isinstance(value, dict) and self.KEY in value:
            for i, (_, entry) in enumerate(value[self.KEY]):
                yield from self.real.leaves(entry, (*path, self.KEY, i, 1))
        else:
            yield from self.real.leaves(value, path)

    def entries_at(self, value: Any) -> Callable[[int], Any]:
        """A function: months_in_state -> the ``Num`` that applies there."""
        if isinstance(value, dict) and self.KEY in value:
            rows = value[self.KEY]
            return lambda k: [entry for key, entry in rows if key <= k][-1]
        return lambda k: value

    @classmethod
    def keys(cls, value: Any) -> list[int]:
        if isinstance(value, dict) and cls.KEY in value:
            return [key for key, _ in value[cls.KEY]]
        return [0]


_SHARE = _Real(0.0, 1.0)


class _Split(_Kind):
    """How a flow's cost is split between payers: ``{payer: share | "rest"}``."""

    expected = ('a non-empty table {payer = share}, shares in [0, 1] summing to 1, or to at '
                'most 1 beside one payer given "rest"')

    def __init__(self) -> None:
        self.share = _Stepped(_SHARE)

    def check(self, value, path, ctx):
        if not isinstance(value, Mapping) or not value:
            return ctx.report(path, value, self.expected)
        result: dict[str, Any] = {}
        rest: str | None = None
        known_problems = len(ctx.problems)
        for payer, share in value.items():
            where = (*path, str(payer))
            if not isinstance(payer, str) or not payer.strip():
                ctx.report(path, payer, "payer names as keys")
            elif share == REST:
                if rest is not None:
                    ctx.report(where, share, f'at most one "rest" payer per flow '
                               f'({rest!r} is already "rest")')
                else:
                    rest = payer
                result[payer] = REST
            elif isinstance(share, str):
                result[payer] = ctx.report(where, share, f'{self.share.expected}, or "rest"')
            else:
                result[payer] = self.share.check(share, where, ctx)
        if len(ctx.problems) == known_problems:
            self._check_sum(result, rest, value, path, ctx)
        return result

    def _check_sum(self, split, rest, value, path, ctx) -> None:
        shares = {payer: share for payer, share in split.items() if share != REST}
        breakpoints = sorted({k for share in shares.values() for k in _Stepped.keys(share)})
        at = {payer: self.share.entries_at(share) for payer, share in shares.items()}
        if rest is None:
            uncertain = [p for p, s in shares.items()
                         if any(isinstance(at[p](k), dict) for k in breakpoints)]
            for payer in uncertain:
                ctx.report((*path, payer), split[payer],
                           'a fixed number: without a "rest" payer the shares must be numbers '
                           'summing to 1 (give one payer "rest" to take what is left)')
            if uncertain:
                return
        for k in breakpoints:
            if rest is None:
                total = math.fsum(at[p](k) for p in shares)
                ok = abs(total - 1.0) <= SHARE_TOLERANCE
                wanted = 'shares summing to 1 (or give one payer "rest")'
            else:
                total = math.fsum(_SHARE.bounds(at[p](k))[1] for p in shares)
                ok = total <= 1.0 + SHARE_TOLERANCE
                wanted = (f'shares whose largest values sum to at most 1 beside the "rest" '
                          f'payer {rest!r}')
            if not ok:
                where = f" at months_in_state {k}" if len(breakpoints) > 1 else ""
                ctx.report(path, value, f"{wanted}; they sum to {total:.10g}{where}")
                return

    def leaves(self, value, path):
        for payer, share in value.items():
            if share != REST:
                yield from self.share.leaves(share, (*path, payer))


class _PayerShares(_Kind):
    """A contract's payer: a party name, or fixed shares ``{party = share}`` summing to 1."""

    expected = "a party name, or a table {party = share} of fixed numbers summing to 1"

    def check(self, value, path, ctx):
        if isinstance(value, str) and value.strip():
            return {value: 1.0}
        if not isinstance(value, Mapping) or not value:
            return ctx.report(path, value, self.expected)
        result: dict[str, Any] = {}
        for party, share in value.items():
            number = as_real(share)
            if not isinstance(party, str) or not party.strip():
                ctx.report(path, party, "party names as keys")
                continue
            if number is None or not 0.0 <= number <= 1.0:
                note = " (payer shares cannot be uncertain)" if isinstance(share, Mapping) else ""
                result[party] = ctx.report((*path, party), share, "a number in [0, 1]" + note)
            else:
                result[party] = number
        if len(result) == len(value) and _ok(*result.values()):
            total = math.fsum(result.values())
            if abs(total - 1.0) > SHARE_TOLERANCE:
                ctx.report(path, value, f"shares summing to 1; they sum to {total:.10g}")
        return result


class _Contract(_Kind):
    """One contract: a table whose keys depend on its ``type``."""

    def __init__(self, tables: dict[str, _Table]):
        self.tables = tables
        self.expected = f"a table with a name and a type ({', '.join(tables)})"

    def check(self, value, path, ctx):
        if not isinstance(value, Mapping):
            return ctx.report(path, value, self.expected)
        kind = value.get("type")
        if kind is None:
            ctx.missing((*path, "type"), f"one of {_quoted(list(self.tables))}")
        elif not isinstance(kind, str) or kind not in self.tables:
            ctx.report((*path, "type"), kind,
                       f"one of {_quoted(list(self.tables))}{_suggest(kind, list(self.tables))}")
        else:
            return self.tables[kind].check(value, path, ctx)
        if value.get("name") is not None:
            _Text().check(value["name"], (*path, "name"), ctx)
        return INVALID

    def leaves(self, value, path):
        yield from self.tables[value["type"]].leaves(value, path)


# ---------------------------------------------------------------------------------------------
# Cross-field checks
# ---------------------------------------------------------------------------------------------


def _last_entry(size: int, intake_months: int) -> int:
    return entry_month(size - 1, size, intake_months)


def _timing(ctx: _Context, programme: Any = None) -> tuple[dict[str, int], int, int, int] | None:
    """Site sizes, intake months, programme months and horizon, when all are valid."""
    cohort, months = ctx.doc.get("cohort"), ctx.months()
    programme = ctx.doc.get("programme") if programme is None else programme
    if not isinstance(cohort, dict) or not isinstance(programme, dict) or months is None:
        return None
    sites, intake = cohort.get("sites"), cohort.get("intake_months")
    if not isinstance(sites, dict) or not sites or not isinstance(intake, int):
        return None
    sizes = {name: site.get("size") for name, site in sites.items() if isinstance(site, dict)}
    if len(sizes) != len(sites) or not all(isinstance(n, int) for n in sizes.values()):
        return None
    if not isinstance(programme.get("months"), int):
        return None
    return sizes, intake, programme["months"], months


def _check_horizon(sizes: dict[str, int], intake: int, programme_months: int,
                   months: int) -> tuple[str, int] | None:
    """The site whose last entrant ends the programme latest, if that is beyond the horizon."""
    last = {name: _last_entry(n, intake) for name, n in sizes.items() if n >= 1}
    if not last:
        return None
    site = max(last, key=last.get)
    return (site, last[site]) if last[site] + programme_months > months else None


def _post_programme(programme: dict, path: Path, ctx: _Context) -> None:
    # The programme must end within the horizon for every treated participant.
    timing = _timing(ctx, programme)
    late = None if timing is None else _check_horizon(*timing)
    if late is None:
        return
    sizes, intake, programme_months, months = timing
    site, last = late
    if last < months:
        ctx.report((*path, "months"), programme_months,
                   f"a whole number <= {months - last} so that the programme ends within "
                   f"the horizon: the last participant of site {site!r} enters in month "
                   f"{last} (intake_months = {intake}, months = {months})")
    else:
        ctx.report(("cohort", "intake_months"), intake,
                   f"an intake that lets every participant finish the {programme_months}-"
                   f"month programme within the horizon (months = {months}): the last "
                   f"participant of site {site!r} would enter in month {last}")


def _post_scenario(doc: dict, path: Path, ctx: _Context) -> None:
    # The economy shock names existing transitions.
    economy, transitions = doc.get("economy"), doc.get("transitions")
    if isinstance(economy, dict) and isinstance(economy.get("transitions"), list) \
            and isinstance(transitions, list) and all(isinstance(t, dict) for t in transitions):
        defined = [(t.get("from"), t.get("to")) for t in transitions]
        for i, pair in enumerate(economy["transitions"]):
            if isinstance(pair, list) and _ok(*pair) and tuple(pair) not in defined:
                choices = [list(p) for p in defined if _ok(*p)]
                ctx.report(("economy", "transitions", i), pair,
                           f"a [from, to] pair of a transition in [[transitions]] "
                           f"({show(choices)})")


def _post_transition(transition: dict, path: Path, ctx: _Context) -> None:
    if _ok(transition["from"], transition["to"]) and transition["from"] == transition["to"]:
        ctx.report((*path, "to"), transition["to"], "a state other than `from`")


def _post_effect(effect: dict, path: Path, ctx: _Context) -> None:
    start, end = effect["from_month"], effect["to_month"]
    if _ok(start, end) and not start < end:
        ctx.report((*path, "to_month"), end, f"a whole number > from_month ({start})")


def _post_outcome(outcome: dict, path: Path, ctx: _Context) -> None:
    given = [key for key in ("sustained_months", "cumulative_months") if outcome[key] is not None]
    if len(given) != 1:
        ctx.report(path, {k: outcome[k] for k in ("sustained_months", "cumulative_months")},
                   "exactly one of sustained_months or cumulative_months "
                   "(a whole number >= 1)")


def _post_baseline(contract: dict, path: Path, ctx: _Context) -> None:
    baseline, size = contract["baseline"], contract["comparison_size"]
    if baseline is INVALID or size is INVALID:
        return
    if baseline == "comparison_group" and size is None:
        ctx.missing((*path, "comparison_size"),
                    'a whole number >= 1 (required with baseline = "comparison_group")')
    elif baseline != "comparison_group" and size is not None:
        ctx.report((*path, "comparison_size"), size,
                   f'no comparison_size unless baseline = "comparison_group" '
                   f"(baseline is {baseline!r})")
    elif size is not None:
        timing = _timing(ctx)
        if timing is None:
            return
        sites, intake, programme_months, months = timing
        if _check_horizon(sites, intake, programme_months, months) is not None:
            return  # reported at programme.months
        group = dict(zip(sites, apportion(size, list(sites.values())), strict=True))
        late = _check_horizon(group, intake, programme_months, months)
        if late is not None:
            site, last = late
            ctx.report((*path, "comparison_size"), size,
                       f"a size whose comparison group ends the programme's months within the "
                       f"horizon: {group[site]} of its participants go to site {site!r}, the "
                       f"last entering in month {last}, and {last} + {programme_months} > "
                       f"months = {months}")


def _post_tiers(tiers: list, path: Path, ctx: _Context) -> None:
    previous: tuple[int, float] | None = None
    for i, tier in enumerate(tiers):
        if tier is INVALID or tier[0] is INVALID:
            return
        low, high = _TIER_REDUCTION.bounds(tier[0])
        if previous is not None and not low > previous[1]:
            ctx.report((*path, i, 0), tier[0],
                       f"a reduction above that of tiers[{previous[0]}] "
                       f"({_fmt(previous[1])}): reductions strictly increasing")
        previous = (i, high)


def _post_financing(financing: dict, path: Path, ctx: _Context) -> None:
    tranches, guarantees = financing["tranches"], financing["guarantees"]
    if not isinstance(tranches, list) or not isinstance(guarantees, list):
        return
    parties = [t["party"] for t in tranches if t is not INVALID and t["party"] is not INVALID]
    if len(parties) != len(tranches):
        return
    for i, guarantee in enumerate(guarantees):
        if guarantee is INVALID or guarantee["covers"] is INVALID:
            continue
        if guarantee["covers"] not in parties:
            ctx.report((*path, "guarantees", i, "covers"), guarantee["covers"],
                       f"the party of a tranche of this contract ({_quoted(parties)})"
                       + _suggest(guarantee["covers"], parties))


# ---------------------------------------------------------------------------------------------
# The format (SPEC section 6), declared once
# ---------------------------------------------------------------------------------------------

_NAME = _Text()
_PARTY = _Text("a party name (a non-empty string)")
_NONNEG = _Real(0.0)
_MONTHS = _Whole(1)
_LAG = _Whole(0)


def _months_default(ctx: _Context) -> Any:
    months = ctx.months()
    return INVALID if months is None else months


def _horizon(ctx: _Context) -> int | None:
    return ctx.months()


def _every(source: str) -> Callable[[_Context], Any]:
    def default(ctx: _Context) -> Any:
        names = ctx.payers() if source == "payers" else ctx.categories()
        return INVALID if names is None else names

    return default


_SITE = _Table([
    _Field("size", _Whole(1), required=True),
    _Field("multiplier", _NONNEG, default=1.0),
], what="a site")

_COHORT = _Table([
    _Field("initial_state", _StateName(), required=True),
    _Field("prior_months", _Real(0.0, any_family=True, per_draw=False), default=0.0),
    _Field("intake_months", _Whole(0), default=0),
    _Field("frailty_variance", _NONNEG, default=0.0),
    _Field("sites", _Map(_SITE, what="sites [cohort.sites.<name>] with a size"), required=True),
], what="the cohort")

_PROGRAMME = _Table([
    _Field("months", _MONTHS, required=True),
    _Field("cost_per_participant", _NONNEG, default=0.0),
    _Field("fixed_cost", _NONNEG, default=0.0),
], what="the programme", post=_post_programme)

_STATE_PAIR = _Row(_StateName(), _StateName(), "from, to")

_ECONOMY = _Table([
    _Field("shock_sd", _NONNEG, required=True),
    _Field("shock_persistence", _Real(-1.0, 1.0), default=0.0),
    _Field("transitions", _List(_STATE_PAIR, what="[from, to] pairs of transitions",
                                unique=lambda p: tuple(p) if _ok(*p) else None,
                                unique_what="a pair"), required=True),
], what="the economy shock")

_EFFECT = _Table([
    _Field("ratio", _NONNEG, required=True),
    _Field("from_month", _Whole(0), default=0),
    _Field("to_month", _Whole(1), default=_months_default),
], what="a programme effect", post=_post_effect)

_TRANSITION = _Table([
    _Field("from", _StateName(), required=True),
    _Field("to", _StateName(), required=True),
    _Field("probability", _Stepped(_Real(0.0, 1.0)), required=True),
    _Field("frailty", _Flag(), default=False),
    _Field("effect", _EFFECT),
], what="a transition", post=_post_transition)

_FLOW = _Table([
    _Field("name", _NAME, required=True),
    _Field("state", _StateName(), required=True),
    _Field("category", _NAME, required=True),
    _Field("monthly", _Real(), required=True),
    _Field("split", _Split(), required=True),
], what="a flow")

_TRANCHE = _Table([
    _Field("party", _PARTY, required=True),
    _Field("amount", _Real(0.0, low_open=True), required=True),
    _Field("return_cap_multiple", _Real(0.0, low_open=True)),
], what="a tranche")

_GUARANTEE = _Table([
    _Field("party", _PARTY, required=True),
    _Field("covers", _PARTY, required=True),
    _Field("amount", _NONNEG, required=True),
], what="a guarantee")

_FINANCING = _Table([
    _Field("tranches", _List(_TRANCHE, what="tranches", nonempty=True,
                             unique=lambda t: t["party"] if _ok(t["party"]) else None,
                             unique_at=("party",), unique_what="a party"), required=True),
    _Field("guarantees", _List(_GUARANTEE, what="guarantees"), default=[]),
], what="financing", post=_post_financing)

_OUTCOME = _Table([
    _Field("name", _NAME, required=True),
    _Field("state", _StateName(), required=True),
    _Field("sustained_months", _MONTHS),
    _Field("cumulative_months", _MONTHS),
    _Field("price", _NONNEG, required=True),
], what="an outcome", post=_post_outcome)

_TIER_REDUCTION = _Real(0.0, 1.0)
_TIERS = _List(_Row(_TIER_REDUCTION, _NONNEG, "minimum reduction, payment"),
               what="[minimum reduction, payment] tiers", nonempty=True, post=_post_tiers)


def _contract(kind: str, fields: list[_Field], *, outcome: bool, post=None) -> _Table:
    head = [_Field("name", _NAME, required=True), _Field("type", _Choice([kind]), required=True)]
    tail = [
        _Field("cap_total", _NONNEG),
        _Field("payment_lag_months", _LAG, default=0),
        _Field("financing", _FINANCING),
    ] if outcome else []
    return _Table(head + fields + tail, what=f"a {kind} contract", post=post)


_BASELINE = [
    _Field("baseline", _Choice(BASELINES), default="counterfactual"),
    _Field("comparison_size", _Whole(1)),
]

_CONTRACT = _Contract({
    "grant": _contract("grant", [_Field("funder", _PARTY, required=True)], outcome=False),
    "fee_for_service": _contract("fee_for_service", [
        _Field("payer", _PayerShares(), required=True),
    ], outcome=False),
    "rate_card": _contract("rate_card", [
        _Field("payer", _PayerShares(), required=True),
        _Field("outcomes", _List(_OUTCOME, what="outcomes", nonempty=True,
                                 unique=lambda o: o["name"] if _ok(o["name"]) else None,
                                 unique_at=("name",), unique_what="an outcome name"),
               required=True),
        _Field("window_months", _MONTHS),
        _Field("cap_per_participant", _NONNEG),
    ], outcome=True),
    "gain_share": _contract("gain_share", [
        _Field("payer", _PayerShares(), required=True),
        _Field("share", _SHARE, required=True),
        _Field("savings_of", _FlowNames("payers"), default=_every("payers")),
        _Field("categories", _FlowNames("categories"), default=_every("categories")),
        *_BASELINE,
        _Field("settle_every_months", _MONTHS, default=12),
        _Field("threshold", _NONNEG, default=0.0),
    ], outcome=True, post=_post_baseline),
    "effect_tiers": _contract("effect_tiers", [
        _Field("payer", _PayerShares(), required=True),
        _Field("state", _StateName(), required=True),
        *_BASELINE,
        _Field("measure_at_month", _Whole(1, _horizon, high_text="months"), required=True),
        _Field("tiers", _TIERS, required=True),
    ], outcome=True, post=_post_baseline),
})

_SCENARIO = _Table([
    _Field("name", _NAME, default="unnamed"),
    _Field("months", _MONTHS, required=True),
    _Field("discount_rate", _Real(-1.0, low_open=True), default=0.0),
    _Field("states", _List(_NAME, what="state names", nonempty=True,
                           unique=lambda s: s, unique_what="a state name"), required=True),
    _Field("cohort", _COHORT, required=True),
    _Field("programme", _PROGRAMME, required=True),
    _Field("economy", _ECONOMY),
    _Field("transitions", _List(
        _TRANSITION, what="transitions",
        unique=lambda t: (t["from"], t["to"]) if _ok(t["from"], t["to"]) else None,
        unique_what="a (from, to) pair"), default=[]),
    _Field("flows", _List(_FLOW, what="flows", unique=lambda f: f["name"] if _ok(f["name"])
                          else None, unique_at=("name",), unique_what="a flow name"),
           default=[]),
    _Field("contracts", _List(_CONTRACT, what="contracts",
                              unique=lambda c: c["name"] if _ok(c["name"]) else None,
                              unique_at=("name",), unique_what="a contract name"),
           default=[]),
], what="a scenario", post=_post_scenario)


def _normalise(raw: Any) -> dict[str, Any]:
    """Validate a plain input document and return the normalised one (raises ScenarioError)."""
    ctx = _Context()
    if not isinstance(raw, Mapping):
        raise ScenarioError(problem("", raw, "a table (dict) of scenario keys"))
    _SCENARIO.check(raw, (), ctx, out=ctx.doc)
    if ctx.problems:
        raise ScenarioError(ctx.problems)
    return ctx.doc


# ---------------------------------------------------------------------------------------------
# The Scenario
# ---------------------------------------------------------------------------------------------


class Scenario:
    """A validated, immutable scenario.

    Build one with :func:`load_scenario`; ``Scenario(document)`` validates a plain dict.

    Parameters
    ----------
    document : mapping
        The scenario as a dict with the keys of SPEC section 6 (numpy numbers, tuples and
        :class:`~sibsim.scenario.distributions.Distribution` objects are accepted and converted).

    Raises
    ------
    ScenarioError
        Listing every problem found.

    Notes
    -----
    :attr:`data` is the normalised document (``docs/internals.rst``), every default filled,
    and :attr:`raw` the document as given; both return fresh deep copies, so the scenario
    cannot be changed through them. Equality and hashing follow :attr:`data`.

    Examples
    --------
    >>> s = load_scenario({"months": 24, "states": ["out", "in"],
    ...                    "cohort": {"initial_state": "out", "sites": {"A": {"size": 10}}},
    ...                    "programme": {"months": 6}})
    >>> s.get("cohort.sites.A.multiplier")
    1.0
    >>> s.replace("discount_rate", 0.03).get("discount_rate")
    0.03
    """

    def __init__(self, document: Mapping[str, Any]):
        raw = _plain(document)
        data = _normalise(raw)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_key", _freeze(data))
        object.__setattr__(self, "_parameters", None)

    # -- immutability, equality, pickling ---------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Scenario is immutable; use replace() for a changed copy")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a Scenario is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Scenario):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __reduce__(self) -> tuple:
        return (Scenario, (self._raw,))

    def __copy__(self) -> Scenario:
        return self

    def __deepcopy__(self, memo: dict) -> Scenario:
        return self

    def __repr__(self) -> str:
        d = self._data
        return (f"Scenario(name={d['name']!r}, months={d['months']}, states={len(d['states'])}, "
                f"sites={len(d['cohort']['sites'])}, transitions={len(d['transitions'])}, "
                f"flows={len(d['flows'])}, contracts={len(d['contracts'])})")

    # -- views ------------------------------------------------------------------------------

    @property
    def data(self) -> dict[str, Any]:
        """The normalised document, every default filled (a fresh deep copy)."""
        return copy.deepcopy(self._data)

    @property
    def raw(self) -> dict[str, Any]:
        """The document as given, as plain dicts and lists (a fresh deep copy)."""
        return copy.deepcopy(self._raw)

    @property
    def name(self) -> str:
        """The scenario's name (``"unnamed"`` when none was given)."""
        return self._data["name"]

    @property
    def months(self) -> int:
        """The horizon in months."""
        return self._data["months"]

    def to_dict(self) -> dict[str, Any]:
        """The normalised document as a plain dict (same as :attr:`data`).

        Returns
        -------
        dict
            Accepted by :func:`load_scenario` (None stands for an absent optional key).
        """
        return self.data

    def to_toml(self) -> str:
        """The normalised document as TOML text.

        Returns
        -------
        str
            Every default written out, so the text does not depend on this version's
            defaults; ``load_scenario(s.to_toml()) == s``.
        """
        return _toml_text(_without_none(self._data))

    def get(self, path: str) -> Any:
        """The value at a key path of the normalised document.

        Parameters
        ----------
        path : str
            E.g. ``"transitions[0].effect.ratio"`` or ``"cohort.sites.Herning.size"``.

        Returns
        -------
        object
            A copy of the value: a float, int, str, bool, None, a distribution written as
            ``{family: {param: value}}``, or a dict or list.

        Raises
        ------
        ScenarioError
            When the path is malformed or names nothing in this scenario.
        """
        return copy.deepcopy(self._lookup(path))

    def _lookup(self, path: str) -> Any:
        parts = parse_path(path)
        try:
            return get_in(self._data, parts)
        except LookupError:
            known = [format_path(p) for p in _all_paths(self._data, ())]
            raise ScenarioError(problem(
                "key path", path,
                f"a key path of this scenario{_suggest(path, known)}")) from None

    def replace(self, path: str, value: Any) -> Scenario:
        """A new scenario with the value at a key path replaced, validated again.

        Parameters
        ----------
        path : str
            A key path that exists in :attr:`data` (e.g. ``"contracts[1].outcomes[0].price"``,
            ``"transitions[0].probability.by_months_in_state[1][1]"``).
        value : object
            The new value: a number (Python or numpy scalar, 0-d array), a distribution
            (``{"normal": {"mean": 1, "sd": 0.1}}`` or a ``Distribution``), a string, a table
            or a list, as the key path requires.

        Returns
        -------
        Scenario

        Raises
        ------
        ScenarioError
            When the path does not exist, or the changed scenario is not valid.
        """
        parts = parse_path(path)
        self._lookup(path)  # raises if the path does not exist
        new_value = _plain(value)
        document = copy.deepcopy(self._raw)
        if not _set_in(document, parts, new_value):
            # The path runs through a default or a shorthand (a payer given as a name): edit
            # the normalised document instead, which holds every key.
            document = _without_none(copy.deepcopy(self._data))
            _set_in(document, parts, new_value)
        return Scenario(document)

    # -- parameters -------------------------------------------------------------------------

    def parameters(self) -> dict[str, Leaf]:
        """Every real-valued per-draw parameter, by key path, in document order.

        Returns
        -------
        dict of str to float or Distribution
            Numbers and distributions: discount rate, frailty variance, site multipliers,
            programme costs, economy shock, transition probabilities (each entry of a step
            table as ``...by_months_in_state[i][1]``), effect ratios, flow amounts and split
            shares, and the contracts' prices, caps, shares, thresholds, tiers
            (``tiers[i][0]`` and ``tiers[i][1]``) and financing amounts. Excludes
            ``cohort.prior_months`` (drawn per participant), whole numbers and contract payer
            shares (fixed).
        """
        if self._parameters is None:
            found = {format_path(path): leaf for path, leaf in _SCENARIO.leaves(self._data, ())}
            object.__setattr__(self, "_parameters", found)
        return dict(self._parameters)

    def uncertain(self) -> dict[str, Distribution]:
        """The per-draw parameters that are distributions, by key path, in document order.

        Returns
        -------
        dict of str to Distribution
        """
        return {path: leaf for path, leaf in self.parameters().items()
                if isinstance(leaf, Distribution)}

    # -- names ------------------------------------------------------------------------------

    def states(self) -> list[str]:
        """The states, in the order given."""
        return list(self._data["states"])

    def sites(self) -> list[str]:
        """The site names, in the order given."""
        return list(self._data["cohort"]["sites"])

    def payers(self) -> list[str]:
        """The payers of the flows, in order of first appearance in the flows' splits."""
        payers: list[str] = []
        for flow in self._data["flows"]:
            payers += [p for p in flow["split"] if p not in payers]
        return payers

    def categories(self) -> list[str]:
        """The flow categories, in order of first appearance."""
        return list(dict.fromkeys(flow["category"] for flow in self._data["flows"]))

    def contract_names(self) -> list[str]:
        """The contract names, in the order given."""
        return [c["name"] for c in self._data["contracts"]]

    def parties(self) -> list[str]:
        """Every party, without duplicates.

        Returns
        -------
        list of str
            The payers of the flows, then the parties named in the contracts (funder, payer,
            tranche and guarantee parties, in order of appearance), then ``"provider"``.
        """
        names = self.payers()
        for contract in self._data["contracts"]:
            if contract["type"] == "grant":
                names.append(contract["funder"])
            else:
                names += list(contract["payer"])
            financing = contract.get("financing")
            if financing:
                names += [t["party"] for t in financing["tranches"]]
                names += [g["party"] for g in financing["guarantees"]]
        parties = [p for p in dict.fromkeys(names) if p != PROVIDER]
        return [*parties, PROVIDER]

    def comparison_sizes(self) -> list[int]:
        """The distinct comparison-group sizes that contracts measure against, ascending."""
        return sorted({c["comparison_size"] for c in self._data["contracts"]
                       if c.get("baseline") == "comparison_group"})

    def comparison_site_sizes(self, size: int) -> dict[str, int]:
        """How a comparison group of ``size`` participants is spread over the sites.

        Parameters
        ----------
        size : int
            The group's size.

        Returns
        -------
        dict of str to int
            Participants per site, in proportion to the site sizes (largest remainder, ties
            to the earlier site); they sum to ``size``.
        """
        sites = self._data["cohort"]["sites"]
        return dict(zip(sites, apportion(int(size), [s["size"] for s in sites.values()]),
                        strict=True))


def _all_paths(value: Any, path: Path) -> Iterator[Path]:
    """Every key path inside a document (for suggestions)."""
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _all_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _all_paths(item, (*path, i))


def _set_in(document: Any, parts: Path, value: Any) -> bool:
    """Set a value at a key path if every container on the way exists; report success."""
    try:
        parent = get_in(document, parts[:-1])
    except LookupError:
        return False
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(parent, list) or not 0 <= last < len(parent):
            return False
    elif not isinstance(parent, dict):
        return False
    parent[last] = value
    return True


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

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


def _parse_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = re.search(r"line (\d+)", str(error))
        if found:
            line = f" at line {found.group(1)}"
        else:  # "(at end of document)"
            line = f" at line {max(1, len(text.splitlines()))} (the end)"
        raise ScenarioError(f"{origin}: invalid TOML{line}: {error}") from None


def _read_file(path: pathlib.Path) -> dict[str, Any]:
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(problem(str(path), str(path), "an existing scenario file")) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot read the file ({error})") from None
    return _parse_toml(text, str(path))


def _is_file(text: str) -> bool:
    try:
        return os.path.isfile(text)
    except (OSError, ValueError):
        return False


def load_scenario(source: Scenario | Mapping[str, Any] | str | os.PathLike) -> Scenario:
    """Read and validate a scenario.

    Parameters
    ----------
    source : Scenario, dict, str or path
        A :class:`Scenario` (returned as it is); a dict with the keys of SPEC section 6; a
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
        return Scenario(_read_file(pathlib.Path(source)))
    if isinstance(source, str):
        if _BUILTIN_NAME.fullmatch(source) and source in builtin_scenarios():
            resource = importlib.resources.files("sibsim") / "data" / f"{source}.toml"
            return Scenario(_parse_toml(resource.read_text(encoding="utf-8"), source))
        if _is_file(source):
            return Scenario(_read_file(pathlib.Path(source)))
        looks_like_toml = "\n" in source or "=" in source or "[" in source or not source.strip()
        if not looks_like_toml:
            raise ScenarioError(problem(
                "source", source,
                f"a built-in scenario name ({_quoted(builtin_scenarios()) or 'none'}), the "
                f"path of an existing file, or TOML text{_suggest(source, builtin_scenarios())}"))
        return Scenario(_parse_toml(source, "<string>"))
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
