"""The kernel boundary: named, typed records of contiguous arrays and scalars.

:mod:`sibsim.engine.compile` turns a scenario and its sampled values into these records, and
the kernels of :mod:`sibsim.engine.kernels.trajectories` read them by field name (numba
accepts a ``typing.NamedTuple`` of arrays and scalars as an argument, and ``cache=True``
keeps working because the classes live at module level). Every field is declared once, in
its annotation: ``Annotated[type, Field(dtype, dims, meaning)]``. The declarations make each
record's docstring (the "Attributes" section is written from them) and the check
:func:`layout_problems`, which the tests run on compiled scenarios so that the records and
what the kernels expect cannot drift apart.

Dimensions are named: ``draws`` (D, the draws of one chunk), ``participants`` (N),
``transitions`` (K), ``states`` (S), ``buckets`` (B, months-in-state buckets), ``months``
(T), ``pairs`` (Q, payer-category pairs: payer * categories + category), ``sites``,
``outcomes`` (O, rate-card outcomes), ``rate_cards`` (R), ``arms`` (A), ``cell_pairs`` (the
entries of the sparse rows of :class:`LedgerCells`). A dimension may also be a number or an
expression over dimensions and integer scalar fields (``states + 1``, ``last_key + 1``).
"""

import inspect
import re
import textwrap
import typing
from typing import Annotated, Any, NamedTuple

import numpy as np


class Field(NamedTuple):
    """The declaration of one field of a record.

    Attributes
    ----------
    dtype : numpy dtype or type
        ``np.int64``, ``np.float64`` or ``np.uint64``, or ``bool`` for a flag.
    dims : tuple of str
        Named dimensions of an array; ``()`` for a scalar.
    meaning : str
        What the field holds, in the model's words.
    """

    dtype: Any
    dims: tuple[str, ...]
    meaning: str


def _array(dtype: Any, dims: str, meaning: str) -> Field:
    return Field(np.dtype(dtype), tuple(d.strip() for d in dims.split(",")), meaning)


def _scalar(dtype: Any, meaning: str) -> Field:
    return Field(dtype if dtype is bool else np.dtype(dtype), (), meaning)


Array = np.ndarray


def declaration(record: type) -> dict[str, Field]:
    """The declared fields of a record class, in field order.

    Parameters
    ----------
    record : type
        One of the record classes of this module.

    Returns
    -------
    dict of str to Field

    Examples
    --------
    >>> declaration(LedgerCells)["pair_start"].dims
    ('states * buckets + 1',)
    """
    hints = typing.get_type_hints(record, include_extras=True)
    out = {}
    for name in record._fields:
        (field,) = [m for m in hints[name].__metadata__ if isinstance(m, Field)]
        out[name] = field
    return out


def _describe(field: Field) -> str:
    kind = "bool" if field.dtype is bool else field.dtype.name
    if not field.dims:
        return kind
    comma = "," if len(field.dims) == 1 else ""
    return f"ndarray of {kind}, shape ({', '.join(field.dims)}{comma})"


def _record(cls: type) -> type:
    """Append the numpydoc "Attributes" section, written from the declarations."""
    lines = ["", "", "Attributes", "----------"]
    for name, field in declaration(cls).items():
        lines.append(f"{name} : {_describe(field)}")
        lines += textwrap.wrap(field.meaning, width=88, break_on_hyphens=False,
                               initial_indent="    ",
                               subsequent_indent="    ")
    cls.__doc__ = inspect.cleandoc(cls.__doc__ or "") + "\n".join(lines) + "\n"
    return cls


# ----------------------------------------------------------------------------------------
# Draw-independent records
# ----------------------------------------------------------------------------------------


@_record
class Group(NamedTuple):
    """Participants simulated together: the treated cohort or one comparison group."""

    stream_offset: Annotated[int, _scalar(np.int64, (
        "added to every random stream of the group: 0 for the treated cohort, "
        "GROUP_STREAM_STRIDE * size for a comparison group"))]
    both_arms: Annotated[bool, _scalar(bool, (
        "True: treatment and counterfactual arms (the cohort); False: the counterfactual "
        "arm only (a comparison group)"))]
    site: Annotated[Array, _array(np.int64, "participants", "site index of each participant")]
    entry_month: Annotated[Array, _array(np.int64, "participants",
                                         "month in which each participant enters")]

    def enrolled(self, months: int) -> np.ndarray:
        """Participants enrolled by each month, shape (months,), int64."""
        return np.searchsorted(np.sort(self.entry_month), np.arange(months),
                               side="right").astype(np.int64)


@_record
class TransitionLayout(NamedTuple):
    """The horizon, the initial state and the transitions, grouped by origin state."""

    months: Annotated[int, _scalar(np.int64, "T: months simulated, 0 .. T-1")]
    initial_state: Annotated[int, _scalar(np.int64, "state index of every first spell")]
    destination: Annotated[Array, _array(np.int64, "transitions",
                                         "state index each transition leads to")]
    outgoing_start: Annotated[Array, _array(np.int64, "states + 1", (
        "outgoing[outgoing_start[s]:outgoing_start[s + 1]] are the transitions out of "
        "state s"))]
    outgoing: Annotated[Array, _array(np.int64, "transitions", (
        "transition indices grouped by origin state, in listing order within a state"))]
    frailty: Annotated[Array, _array(np.int64, "transitions", (
        "1 where frailty and the site multiplier multiply the transition's hazard"))]
    economy_shock: Annotated[Array, _array(np.int64, "transitions", (
        "1 where the economy multiplier exp(x_t) multiplies the transition's hazard"))]
    effect_from_month: Annotated[Array, _array(np.int64, "transitions", (
        "first month since entry of the effect window (0 without an effect)"))]
    effect_to_month: Annotated[Array, _array(np.int64, "transitions", (
        "month since entry at which the effect window ends, exclusive (0 without an "
        "effect)"))]
    effect_fade_from_month: Annotated[Array, _array(np.int64, "transitions", (
        "month since entry from which the effect fades (its from_month by default; it "
        "fades only where effect_fades is 1)"))]
    effect_fades: Annotated[Array, _array(np.int64, "transitions", (
        "1 where the effect has a half-life: its multiplier ratio ** w(m) then changes "
        "every month from effect_fade_from_month on"))]
    state_has_shock: Annotated[Array, _array(np.int64, "states", (
        "1 where some transition out of the state carries the economy shock"))]
    state_has_effect: Annotated[Array, _array(np.int64, "states", (
        "1 where some transition out of the state has a non-empty effect window"))]


@_record
class MonthsInState(NamedTuple):
    """The months-in-state buckets: the stretches of months_in_state between table keys.

    Every ``by_months_in_state`` table (transition probabilities and payer shares) changes
    value only at its keys, so months_in_state matters only through the bucket
    [keys[b], keys[b + 1]) of the union of all keys; beyond the last key nothing changes.
    """

    last_key: Annotated[int, _scalar(np.int64, (
        "K, the largest key of any table (0 without tables); months_in_state is capped "
        "at K"))]
    keys: Annotated[Array, _array(np.int64, "buckets", (
        "first months_in_state of each bucket: 0 and every table key, increasing"))]
    bucket_of: Annotated[Array, _array(np.int64, "last_key + 1",
                                       "bucket of each capped months_in_state 0 .. K")]
    next_hazard_change: Annotated[Array, _array(np.int64, "states, last_key + 1", (
        "the next months_in_state at which a hazard out of the state changes "
        "(NO_CHANGE, a very large number, where none does)"))]
    next_cost_change: Annotated[Array, _array(np.int64, "states, buckets", (
        "the next bucket at which the state's cost rates change (B where they never "
        "do)"))]


@_record
class LedgerCells(NamedTuple):
    """For each (state, bucket) cell, the payer-category pairs some flow reaches (sparse rows).

    Cell c = state * B + bucket reaches pairs ``pair[pair_start[c]:pair_start[c + 1]]``.
    """

    pair_start: Annotated[Array, _array(np.int64, "states * buckets + 1",
                                        "start of each cell's row in ``pair``")]
    pair: Annotated[Array, _array(np.int64, "cell_pairs", (
        "payer-category pair index, payer * categories + category, increasing in a row"))]


@_record
class RateCards(NamedTuple):
    """The outcomes of the contracts whose outcomes the kernel detects (rate cards).

    Contract r owns outcomes ``outcome_start[r]`` .. ``outcome_start[r + 1] - 1``, in
    listing order.
    """

    outcome_start: Annotated[Array, _array(np.int64, "rate_cards + 1",
                                           "first outcome of each contract")]
    outcome_state: Annotated[Array, _array(np.int64, "outcomes",
                                           "state index the outcome counts months in")]
    outcome_cumulative: Annotated[Array, _array(np.int64, "outcomes", (
        "1: reached when the months in the state add up to N (cumulative_months); 0: "
        "when N of them are consecutive (sustained_months)"))]
    outcome_months: Annotated[Array, _array(np.int64, "outcomes", "N, in months")]
    window_months: Annotated[Array, _array(np.int64, "rate_cards", (
        "largest months since entry at which an outcome still pays (-1: no window)"))]


# ----------------------------------------------------------------------------------------
# Per-draw records
# ----------------------------------------------------------------------------------------


@_record
class DrawArrays(NamedTuple):
    """The per-draw numbers of one chunk of draws, in the kernels' layout."""

    seed: Annotated[np.uint64, _scalar(np.uint64, "the run's seed")]
    first_draw: Annotated[int, _scalar(np.int64, (
        "row d holds draw first_draw + d of the run (its random numbers)"))]
    base_hazard: Annotated[Array, _array(np.float64, "draws, transitions, buckets", (
        "-ln(1 - p) of each transition in each bucket times its hazard_scale, before "
        "the other multipliers; inf where p = 1 (0 where the hazard_scale is 0)"))]
    state_hazard: Annotated[Array, _array(np.float64, "draws, states, buckets, 2", (
        "the sums of base_hazard over the transitions out of a state, in listing order: "
        "[..., 0] those without frailty, [..., 1] those with (used where no effect or "
        "shock applies)"))]
    effect_ratio: Annotated[Array, _array(np.float64, "draws, transitions",
                                          "effect ratio of each transition (1 without one)")]
    effect_half_life: Annotated[Array, _array(np.float64, "draws, transitions", (
        "half-life in months of each transition's effect (inf where it does not fade)"))]
    economy_multiplier: Annotated[Array, _array(np.float64, "draws, months", (
        "exp(x_t) of the economy shock in each month (1 without a shock)"))]
    site_multiplier: Annotated[Array, _array(np.float64, "draws, sites",
                                             "multiplier of each site")]
    frailty_variance: Annotated[Array, _array(np.float64, "draws",
                                              "variance v of the gamma frailty (0: none)")]
    cost_rate: Annotated[Array, _array(np.float64, "draws, states, buckets, pairs", (
        "public cost of one participant-month in each (state, bucket) cell, per "
        "payer-category pair"))]
    outcome_price: Annotated[Array, _array(np.float64, "draws, outcomes",
                                           "price of each rate-card outcome")]
    cap_per_participant: Annotated[Array, _array(np.float64, "draws, rate_cards", (
        "most a rate card pays for one participant (inf without a cap)"))]


@_record
class Members(NamedTuple):
    """A group's participants in each draw of a chunk: what is drawn once per participant
    (by :func:`sibsim.engine.compile.draw_members`, in numpy, before the kernel)."""

    frailty: Annotated[Array, _array(np.float64, "draws, participants", (
        "gamma frailty with mean 1 and the draw's variance (1 without frailty)"))]
    prior_months: Annotated[Array, _array(np.int64, "draws, participants", (
        "months already in the initial state at entry (whole months, >= 0)"))]


@_record
class Outputs(NamedTuple):
    """What the trajectory kernel writes for one group and one chunk of draws."""

    occupancy: Annotated[Array, _array(np.float64, "draws, arms, months, states", (
        "count of enrolled participants in each state (arm 0: treatment, 1: "
        "counterfactual; a comparison group has the counterfactual arm only)"))]
    cost: Annotated[Array, _array(np.float64, "draws, arms, months, pairs",
                                  "undiscounted public cost per payer-category pair")]
    due: Annotated[Array, _array(np.float64, "draws, rate_cards, months", (
        "rate-card payments reached in each month, after the window and the "
        "per-participant cap (added to; the treatment arm only)"))]


@_record
class Workspace(NamedTuple):
    """Scratch arrays of one thread's kernel calls (made by ``new_workspace`` in
    :mod:`sibsim.engine.simulate`; reset for each draw)."""

    spell_state: Annotated[Array, _array(np.int64, "months + 1", "state of each spell")]
    spell_start: Annotated[Array, _array(np.int64, "months + 1", "first month of each spell")]
    spell_end: Annotated[Array, _array(np.int64, "months + 1",
                                       "month after the last month of each spell")]
    spell_months_in_state: Annotated[Array, _array(np.int64, "months + 1",
                                                   "months_in_state in the spell's first month")]
    hazard: Annotated[Array, _array(np.float64, "transitions", (
        "hazard of each transition out of the current state (by position in "
        "``outgoing``), as summed for the stretch of the exit"))]
    reached: Annotated[Array, _array(np.int64, "outcomes",
                                     "month an outcome is reached (-1: not reached)")]
    count_change: Annotated[Array, _array(np.int64, "arms, months + 1, states, buckets", (
        "difference array of the counts of participants in each (state, bucket) cell"))]
    effect: Annotated[Array, _array(np.float64, "transitions, months", (
        "ratio ** w(m) of each transition's effect by months since entry m, in its window "
        "(1 elsewhere): the same for every participant of the draw"))]
    effect_change: Annotated[Array, _array(np.int64, "states, months", (
        "months since entry of the next effect change in a treated participant's state"))]
    effect_active: Annotated[Array, _array(np.bool_, "states, months", (
        "whether an effect applies to a treated participant in the state"))]
    effect_fading: Annotated[Array, _array(np.bool_, "states, months", (
        "whether an effect out of the state fades in that month since entry"))]
    steady_change: Annotated[Array, _array(np.int64, "states, months", (
        "months since entry of the next effect change other than a fading step"))]
    fading_hazard: Annotated[Array, _array(np.float64, "states, buckets, months, 4", (
        "a treated participant's summed hazards in the fading months (multiplier 1; by "
        "shock and frailty): see ``kernels.effects.fill_fading_hazards``"))]
    fading_filled: Annotated[Array, _array(np.int64, "states, buckets", (
        "whether fading_hazard holds the draw's values (kernels.effects.FILLED)"))]
    count: Annotated[Array, _array(np.int64, "states", (
        "running count of participants in each state, month by month"))]
    running: Annotated[Array, _array(np.float64, "pairs", (
        "running cost per payer-category pair, month by month"))]


@_record
class Participant(NamedTuple):
    """One participant in one draw (made inside the kernel, never passed in)."""

    key: Annotated[np.uint64, _scalar(np.uint64, (
        "the generator's key of (seed, draw, participant): every random number of the "
        "participant is hashed from it"))]
    entry_month: Annotated[int, _scalar(np.int64, "month in which the participant enters")]
    prior_months: Annotated[int, _scalar(np.int64, (
        "months_in_state in the entry month (whole months, >= 0)"))]
    multiplier: Annotated[float, _scalar(np.float64, (
        "frailty times the site multiplier: multiplies the hazards of frailty "
        "transitions"))]


#: The records the kernels receive, by the name of the kernels' parameter that holds them.
KERNEL_PARAMETERS = {
    "participant": Participant,
    "group": Group,
    "members": Members,
    "transitions": TransitionLayout,
    "buckets": MonthsInState,
    "cells": LedgerCells,
    "rate_cards": RateCards,
    "draws": DrawArrays,
    "out": Outputs,
    "work": Workspace,
}

_NAME = re.compile(r"[A-Za-z_]\w*")


def _size(dim: str, sizes: dict[str, int]) -> int | None:
    """The size a dimension stands for: a sum of products of numbers and names.

    None when a name in it is not known (no array or scalar of the records gives it).
    """
    total = 0
    for term in dim.split("+"):
        product = 1
        for factor in term.split("*"):
            factor = factor.strip()
            if factor.isdigit():
                product *= int(factor)
            elif factor in sizes:
                product *= sizes[factor]
            else:
                return None
        total += product
    return total


def _scalar_problem(name: str, field: Field, value: Any) -> str | None:
    if field.dtype is bool:
        ok = isinstance(value, (bool, np.bool_))
    elif field.dtype == np.uint64:
        ok = isinstance(value, np.uint64)
    elif field.dtype == np.float64:
        ok = isinstance(value, (float, np.floating))
    else:
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    return None if ok else f"{name}: got {type(value).__name__}, expected {_describe(field)}"


def layout_problems(*records: Any) -> list[str]:
    """Check records against their declarations: dtype, ndim, C order and shared sizes.

    A dimension name stands for one size across all the records given together; integer
    scalar fields count as dimensions of their name (``months``, ``last_key``).

    Parameters
    ----------
    *records : record instances
        Records of this module, e.g. all those of one kernel call.

    Returns
    -------
    list of str
        One line per problem (``Record.field: ...``); empty when all is well.

    Examples
    --------
    >>> cells = LedgerCells(pair_start=np.zeros(3, np.int64), pair=np.zeros(0, np.int64))
    >>> layout_problems(cells)
    []
    >>> layout_problems(cells._replace(pair=np.zeros(2)))
    ['LedgerCells.pair: dtype float64, expected int64']
    """
    problems: list[str] = []
    sizes: dict[str, int] = {}
    arrays = []
    for record in records:
        kind = type(record).__name__
        for name, field in declaration(type(record)).items():
            value = getattr(record, name)
            where = f"{kind}.{name}"
            if not field.dims:
                problem = _scalar_problem(where, field, value)
                if problem:
                    problems.append(problem)
                elif field.dtype == np.int64:
                    sizes[name] = int(value)
                continue
            if not isinstance(value, np.ndarray):
                problems.append(f"{where}: got {type(value).__name__}, expected an ndarray")
            elif value.dtype != field.dtype:
                problems.append(f"{where}: dtype {value.dtype}, expected {field.dtype}")
            elif value.ndim != len(field.dims):
                problems.append(f"{where}: {value.ndim} dimensions, expected {field.dims}")
            elif not value.flags.c_contiguous:
                problems.append(f"{where}: not C-contiguous")
            else:
                arrays.append((where, field.dims, value.shape))
    # Bind the plain names first, then check every dimension against them.
    for where, dims, shape in arrays:
        for dim, size in zip(dims, shape):
            if _NAME.fullmatch(dim) and dim not in sizes:
                sizes[dim] = size
    for where, dims, shape in arrays:
        for dim, size in zip(dims, shape):
            expected = _size(dim, sizes)
            if expected is not None and expected != size:
                problems.append(f"{where}: size {size} along {dim!r}, expected {expected}")
    return problems
