"""The validation framework: kinds of values that check, normalise and list parameters.

The scenario format is a tree of *kinds* (:class:`Real`, :class:`Whole`, :class:`Table`,
:class:`List`, ...), declared in :mod:`sibsim.scenario.schema` and, for each contract type,
in its module of :mod:`sibsim.contracts.types`. One tree does three jobs, so they cannot
disagree:

- :meth:`Kind.check` checks an input value and returns it normalised (defaults filled), or
  :data:`INVALID` after reporting its problem to the :class:`Context`;
- :meth:`Kind.leaves` lists the per-draw real-valued parameters inside a normalised value, by
  key path (:meth:`Scenario.parameters <sibsim.scenario.Scenario.parameters>`);
- :attr:`Kind.expected` words what a valid value is, for the messages.

Validation never stops at the first problem: the :class:`Context` collects them all, each
worded by :func:`sibsim.scenario.keypath.problem` as ``<key path>: got <value>, expected
<what>``.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sibsim.errors import ScenarioError
from sibsim.rules import TABLE
from sibsim.scenario.distributions import FAMILIES, Distribution, as_real
from sibsim.scenario.keypath import Part, format_path, problem, show
from sibsim.scenario.limits import (
    KEY_MAX,
    MAGNITUDE,
    MAX_SUGGESTIONS,
    Problems,
    distribution_trouble,
)

#: Tolerance of the checks that shares sum to 1.
SHARE_TOLERANCE = 1e-9
#: The largest whole number accepted (months, sizes, lags): products of two fit in int64.
WHOLE_MAX = 2**31 - 1

#: A key path as its parts, outermost first.
Path = tuple[Part, ...]
#: A per-draw parameter: a fixed number or a distribution.
Leaf = float | Distribution


def as_int(value: Any) -> int | None:
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


def suggest(word: Any, options: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest option, or the empty string."""
    hint = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"; did you mean {hint[0]!r}?" if hint else ""


def quoted(options: Sequence[str], limit: int = 12) -> str:
    """The options as a list of reprs for a message, cut after ``limit``."""
    shown = ", ".join(repr(o) for o in options[:limit])
    return shown + (", ..." if len(options) > limit else "")


def fmt(number: float) -> str:
    """A number as messages write it (``%g``)."""
    return f"{number:g}"


class _Invalid:
    """Marks a value that failed validation (its problem is already reported)."""

    def __repr__(self) -> str:
        return "<invalid>"


INVALID: Any = _Invalid()


def valid(*values: Any) -> bool:
    """Whether none of the values failed validation."""
    return all(v is not INVALID for v in values)


class Context:
    """Collects problems and gives kinds a view of the document validated so far."""

    def __init__(self) -> None:
        self.problems: Problems = Problems()
        self.doc: dict[str, Any] = {}
        self.unknown_keys = 0

    def report(self, path: Path, value: Any, expected: str) -> Any:
        self.problems.append(problem(path, value, expected))
        return INVALID

    def missing(self, path: Path, expected: str) -> Any:
        self.problems.append(
            f"{format_path(path)}: got nothing (the key is missing), expected {expected}"
        )
        return INVALID

    def unknown(self, path: Path, key: Any, known: Sequence[str]) -> None:
        self.unknown_keys += 1
        where = format_path((*path, str(key)))
        if self.problems.full:
            self.problems.append(f"{where}: got unknown key")
            return
        hint = suggest(key, known) if self.unknown_keys <= MAX_SUGGESTIONS else ""
        self.problems.append(
            f"{where}: got unknown key {show(key)}, expected one of the keys "
            f"{', '.join(known)}{hint}"
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


class Kind:
    """A kind of value: checks and normalises input, and lists per-draw parameters."""

    expected = "a value"

    def check(self, value: Any, path: Path, ctx: Context) -> Any:
        raise NotImplementedError

    def leaves(self, value: Any, path: Path) -> Iterator[tuple[Path, Leaf]]:
        """The per-draw real-valued parameters inside a normalised value."""
        return iter(())


class Text(Kind):
    def __init__(self, expected: str = "a non-empty string"):
        self.expected = expected

    def check(self, value, path, ctx):
        if not isinstance(value, str) or not value.strip():
            return ctx.report(path, value, self.expected)
        return value


class Choice(Kind):
    def __init__(self, options: Sequence[str]):
        self.options = tuple(options)
        self.expected = "one of " + ", ".join(repr(o) for o in self.options)

    def check(self, value, path, ctx):
        if not isinstance(value, str) or value not in self.options:
            return ctx.report(path, value, self.expected + suggest(value, self.options))
        return value


class Flag(Kind):
    expected = "true or false"

    def check(self, value, path, ctx):
        if not isinstance(value, bool):
            return ctx.report(path, value, self.expected)
        return value


class Whole(Kind):
    """A whole number (months, sizes, lags). Never a distribution."""

    def __init__(self, low: int, high: Callable[[Context], int | None] | None = None,
                 *, high_text: str = ""):
        self.low = low
        self.high = high
        self.expected = f"a whole number >= {low}" + (f" and <= {high_text}" if high else "")

    def check(self, value, path, ctx):
        number = as_int(value)
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
        return f"a number {'>' if low_open else '>='} {fmt(low)}"
    if low == -math.inf:
        return f"a number {'<' if high_open else '<='} {fmt(high)}"
    return (f"a number in {'(' if low_open else '['}{fmt(low)}, "
            f"{fmt(high)}{')' if high_open else ']'}")


class Real(Kind):
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
                hint = suggest(next(iter(value)), keys) if len(value) == 1 else ""
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
                    f"[{fmt(low)}, {fmt(high)}])",
                )
            trouble = distribution_trouble(distribution)
            if trouble:
                return ctx.report(path, value, f"{self.expected}{also}, {trouble}")
            return distribution.to_spec()
        number = as_real(value)
        if number is None or not math.isfinite(number) or not self.in_range(number):
            return ctx.report(path, value, self.expected + also)
        if abs(number) > MAGNITUDE:
            return ctx.report(path, value, f"a number of at most {fmt(MAGNITUDE)} in size "
                              "(larger amounts overflow the sums over participants and months)")
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


class Row(Kind):
    """A pair ``[a, b]`` written as a list of two."""

    def __init__(self, first: Kind, second: Kind, what: str):
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


class List(Kind):
    """A list of items of one kind, optionally non-empty and with unique keys."""

    def __init__(self, item: Kind, *, what: str, nonempty: bool = False,
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


class Map(Kind):
    """A table of named entries of one kind (``[cohort.sites.<name>]``)."""

    def __init__(self, item: Kind, *, what: str):
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
class Field:
    """One key of a table: its kind, whether it is required, and its default."""

    name: str
    kind: Kind
    required: bool = False
    default: Any = None  # a value, or a callable(ctx) giving it

    def default_value(self, ctx: Context) -> Any:
        if callable(self.default):
            return self.default(ctx)
        return copy.deepcopy(self.default)


class Table(Kind):
    """A table with fixed keys. Missing optional keys (and keys given as None) get defaults."""

    def __init__(self, fields: Sequence[Field], *, what: str, post=None):
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


class StateName(Kind):
    expected = "the name of a state"

    def check(self, value, path, ctx):
        states = ctx.states()
        if not isinstance(value, str) or (states is not None and value not in states):
            if states is None:
                return ctx.report(path, value, self.expected)
            return ctx.report(path, value, f"one of the states {quoted(states)}"
                              + suggest(value, states))
        return value


class Stepped(Kind):
    """A ``Num``, or a step table ``{by_months_in_state = [[0, Num], [k, Num], ...]}``."""

    KEY = TABLE

    def __init__(self, real: Real):
        self.real = real
        self.rows = List(Row(Whole(0, lambda ctx: KEY_MAX, high_text=str(KEY_MAX)), real,
                             "months_in_state, value"),
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


# ---------------------------------------------------------------------------------------------
# Kinds used throughout the format
# ---------------------------------------------------------------------------------------------

#: A name (of a state, a flow, a category, a contract, ...).
NAME = Text()
#: The name of a party.
PARTY = Text("a party name (a non-empty string)")
#: A share in [0, 1].
SHARE = Real(0.0, 1.0)
#: A non-negative amount.
NONNEG = Real(0.0)
#: A number of months, at least 1.
MONTHS = Whole(1)
#: A lag in months, at least 0.
LAG = Whole(0)

