"""A per-month reference kernel of the engine's model, for the benchmarks.

The engine's kernel (``sibsim.engine.kernels.trajectories``) works per spell: it draws a
spell's exit threshold E ~ Exp(1) once and finds the month in which the cumulative hazard
reaches E in closed form within each stretch of constant hazard. This module walks the same
model month by month instead: each month it looks up the hazard of the participant's state,
adds it to the spell's cumulative hazard, compares with E, and counts the participant in its
(arm, month, state, months-in-state bucket) cell. It uses the same counter-based generator,
keyed the same way (``sibsim.engine.rng``: one exponential per spell at its first month, one
uniform per exit), so its trajectories are those of the engine except where the month-by-month
sum of hazards and the closed form round differently at the threshold (rare).

It is the "bare per-month kernel" the engine is measured against: a spell-based kernel does
work per spell, not per month, so it should not be slower than this one. It covers the
model of ``benchmarks/engine.py`` (frailty, sites, duration-dependent hazards, a treatment
effect window, payer-share tables); it raises on an economy shock or a fading effect and
ignores rate cards.
It runs on one thread.

:func:`run_lean` is a leaner twin, written as one would write a per-month kernel to be
fast rather than to mirror the engine: the treatment arm's summed hazards inside the
effect window are tabulated once per draw, each month's hazard is one multiply-add
(steady part + frailty multiplier x frailty part) from a small table, and counts are
32-bit. It covers the same model (each state's effects must share one window, and no
probability may be 1) and gives the same trajectories except at rounding ties.
"""

from __future__ import annotations

import math

import numpy as np

from sibsim.engine._numba import jit, jit_borrowing
from sibsim.engine.kernels.trajectories import TREATMENT
from sibsim.engine.rng import (
    STREAM_DESTINATION,
    STREAM_SPELL,
    exponential_at,
    participant_key,
    uniform_at,
)
from sibsim.engine.sampling import draw_members


@jit(inline="always")
def _hazards(state, d, bucket, treated, since_entry, multiplier, transitions, draws, hazard):
    """Each transition's hazard out of ``state`` into ``hazard``; returns their sum."""
    first = transitions.outgoing_start[state]
    total = 0.0
    for i in range(first, transitions.outgoing_start[state + 1]):
        k = transitions.outgoing[i]
        h = draws.base_hazard[d, k, bucket]
        m = 1.0
        if transitions.frailty[k]:
            m *= multiplier
        if (treated and transitions.effect_from_month[k] <= since_entry
                < transitions.effect_to_month[k]):
            m *= draws.effect_ratio[d, k]
        h = 0.0 if (h == 0.0 or m == 0.0) else h * m
        hazard[i - first] = h
        total += h
    return total


@jit(inline="always")
def _destination(u, state, transitions, hazard, total):
    """Transition taken on exit: P(k) = h_k / H (certain exits, h = inf, share equally)."""
    first = transitions.outgoing_start[state]
    last = transitions.outgoing_start[state + 1]
    if total == math.inf:
        n_certain = 0
        for i in range(first, last):
            if hazard[i - first] == math.inf:
                n_certain += 1
        pick = min(int(u * n_certain), n_certain - 1)
        for i in range(first, last):
            if hazard[i - first] == math.inf:
                if pick == 0:
                    return transitions.outgoing[i]
                pick -= 1
    target = u * total
    running = 0.0
    chosen = -1
    for i in range(first, last):
        if hazard[i - first] > 0.0:
            chosen = transitions.outgoing[i]
            running += hazard[i - first]
            if target < running:
                return chosen
    return chosen


@jit(inline="always")
def _walk(arm, treated, d, key, entry, prior, multiplier, offset, transitions, buckets,
          draws, window, hazard, counts):
    """One participant in one arm, month by month from entry to the horizon."""
    months = transitions.months
    state = transitions.initial_state
    months_in_state = prior
    t = entry
    threshold = exponential_at(key, t, STREAM_SPELL + offset)
    cumulative = 0.0
    while t < months:
        bucket = buckets.bucket_of[min(months_in_state, buckets.last_key)]
        counts[arm, t, state, bucket] += 1
        if treated and window[state, 0] <= t - entry < window[state, 1]:
            total = _hazards(state, d, bucket, treated, t - entry, multiplier, transitions,
                             draws, hazard)
        else:
            total = draws.state_hazard[d, state, bucket, 0]
            frail = draws.state_hazard[d, state, bucket, 1]
            if frail > 0.0 and multiplier > 0.0:
                total += frail * multiplier
        cumulative += total
        if cumulative >= threshold:
            total = _hazards(state, d, bucket, treated, t - entry, multiplier, transitions,
                             draws, hazard)
            u = uniform_at(key, t, STREAM_DESTINATION + offset)
            state = transitions.destination[_destination(u, state, transitions, hazard, total)]
            months_in_state = 0
            t += 1
            if t < months:
                threshold = exponential_at(key, t, STREAM_SPELL + offset)
            cumulative = 0.0
            continue
        t += 1
        months_in_state += 1


@jit_borrowing
def _one_draw(d, group, members, transitions, buckets, draws, window, hazard, counts):
    """Every participant of the group, in each of its arms, in draw d (counts added to)."""
    n_arms = counts.shape[0]
    for j in range(group.site.shape[0]):
        key = participant_key(draws.seed, draws.first_draw + d, j)
        multiplier = members.frailty[d, j] * draws.site_multiplier[d, group.site[j]]
        for arm in range(n_arms):
            _walk(arm, group.both_arms and arm == TREATMENT, d, key, group.entry_month[j],
                  members.prior_months[d, j], multiplier, group.stream_offset, transitions,
                  buckets, draws, window, hazard, counts)


@jit
def _price_counts(d, counts, cost_rate, occupancy, cost):
    """Draw d's occupancy and cost from its counts by (arm, month, state, bucket)."""
    n_arms, months, n_states, n_buckets = counts.shape
    for a in range(n_arms):
        for t in range(months):
            for s in range(n_states):
                total = 0
                for b in range(n_buckets):
                    c = counts[a, t, s, b]
                    total += c
                    if c != 0:
                        for q in range(cost.shape[3]):
                            cost[d, a, t, q] += c * cost_rate[d, s, b, q]
                occupancy[d, a, t, s] = total


@jit
def per_month_group(group, members, transitions, buckets, draws, window, occupancy, cost):
    """Occupancy and cost of every draw of a chunk, month by month (one thread).

    ``members``: the participants' frailty and prior months, drawn before the kernel as
    for the engine's. ``window[s]``: the months since entry [first, end) in which some
    effect out of state s applies (the treatment arm's hazards are looked up per
    transition only there). ``occupancy`` (draws, arms, months, states) and ``cost``
    (draws, arms, months, pairs) are written, as by the engine's ``simulate_group``.
    """
    n_draws, n_arms, months, n_states = occupancy.shape
    n_buckets = buckets.keys.shape[0]
    hazard = np.empty(transitions.outgoing.shape[0])
    counts = np.zeros((n_arms, months, n_states, n_buckets), dtype=np.int64)
    for d in range(n_draws):
        counts[:] = 0
        _one_draw(d, group, members, transitions, buckets, draws, window, hazard, counts)
        _price_counts(d, counts, draws.cost_rate, occupancy, cost)


def effect_windows(transitions) -> np.ndarray:
    """Per state, the months since entry [first, end) covering its transitions' effects."""
    n_states = transitions.outgoing_start.shape[0] - 1
    window = np.zeros((n_states, 2), dtype=np.int64)
    for s in range(n_states):
        ks = transitions.outgoing[transitions.outgoing_start[s]:transitions.outgoing_start[s + 1]]
        ks = [k for k in ks if transitions.effect_to_month[k] > transitions.effect_from_month[k]]
        if ks:
            window[s] = (min(transitions.effect_from_month[k] for k in ks),
                         max(transitions.effect_to_month[k] for k in ks))
    return window


def run_per_month(compiled, arrays, group=None) -> tuple[np.ndarray, np.ndarray]:
    """Run the per-month kernel on a compiled scenario's chunk of draws.

    Parameters
    ----------
    compiled : CompiledScenario
        From ``sibsim.engine.compile.compile_scenario``.
    arrays : DrawArrays
        From ``sibsim.engine.compile.draw_arrays``.
    group : Group, optional
        Default: the cohort.

    Returns
    -------
    occupancy : ndarray (draws, arms, months, states)
    cost : ndarray (draws, arms, months, pairs)
    """
    return _run(per_month_group, compiled, arrays, group)


def _run(kernel, compiled, arrays, group) -> tuple[np.ndarray, np.ndarray]:
    """Check that the model is one the kernels cover, run ``kernel`` on the group."""
    if compiled.transitions.state_has_shock.any():
        raise ValueError("per_month_kernel: an economy shock is not supported")
    if compiled.transitions.effect_fades.any():
        raise ValueError("per_month_kernel: a fading effect is not supported")
    group = compiled.cohort if group is None else group
    n_draws = arrays.base_hazard.shape[0]
    n_arms = 2 if group.both_arms else 1
    occupancy = np.zeros((n_draws, n_arms, compiled.months, len(compiled.states)))
    cost = np.zeros((n_draws, n_arms, compiled.months, arrays.cost_rate.shape[3]))
    kernel(group, draw_members(group, compiled.prior_months, arrays), compiled.transitions,
           compiled.buckets, arrays, effect_windows(compiled.transitions), occupancy, cost)
    return occupancy, cost


# ----------------------------------------------------------------------------------------
# The lean per-month kernel
# ----------------------------------------------------------------------------------------


@jit
def _effect_sums(d, transitions, draws, table):
    """``table[1, s, b]``: the state's hazards with the effect ratios applied (the window's
    sums: [0] without frailty, [1] with); ``table[0]``: the draw's ``state_hazard``."""
    n_states, n_buckets = table.shape[1], table.shape[2]
    for s in range(n_states):
        for b in range(n_buckets):
            table[0, s, b, 0] = draws.state_hazard[d, s, b, 0]
            table[0, s, b, 1] = draws.state_hazard[d, s, b, 1]
            steady = 0.0
            frail = 0.0
            for i in range(transitions.outgoing_start[s], transitions.outgoing_start[s + 1]):
                k = transitions.outgoing[i]
                h = draws.base_hazard[d, k, b]
                if transitions.effect_to_month[k] > transitions.effect_from_month[k]:
                    h *= draws.effect_ratio[d, k]
                if transitions.frailty[k]:
                    frail += h
                else:
                    steady += h
            table[1, s, b, 0] = steady
            table[1, s, b, 1] = frail


@jit
def lean_per_month_group(group, members, transitions, buckets, draws, window, occupancy, cost):
    """:func:`per_month_group`, lean: the same arguments and outputs.

    Flat arrays and running offsets replace multi-dimensional indexing in the month loop
    (numba computes each index of a 4-d array with its strides and a wrap-around test).
    """
    n_draws, n_arms, months, n_states = occupancy.shape
    n_buckets = buckets.keys.shape[0]
    last_key = buckets.last_key
    hazard = np.empty(transitions.outgoing.shape[0])
    table = np.empty((2, n_states, n_buckets, 2))
    flat = table.reshape(-1)
    counts = np.zeros((n_arms, months, n_states, n_buckets), dtype=np.int32)
    tally = counts.reshape(-1)
    bucket_of = buckets.bucket_of
    row = n_states * n_buckets  # counts of one month
    for d in range(n_draws):
        counts[:] = 0
        _effect_sums(d, transitions, draws, table)
        for j in range(group.site.shape[0]):
            key = participant_key(draws.seed, draws.first_draw + d, j)
            multiplier = members.frailty[d, j] * draws.site_multiplier[d, group.site[j]]
            entry = group.entry_month[j]
            for arm in range(n_arms):
                treated = group.both_arms and arm == TREATMENT
                state = transitions.initial_state
                months_in_state = members.prior_months[d, j]
                threshold = exponential_at(key, entry, STREAM_SPELL + group.stream_offset)
                cumulative = 0.0
                base = (arm * months + entry) * row
                w0 = window[state, 0] if treated else 0
                w1 = window[state, 1] if treated else 0
                for t in range(entry, months):
                    bucket = bucket_of[min(months_in_state, last_key)]
                    cell = state * n_buckets + bucket
                    tally[base + cell] += 1
                    base += row
                    w = 1 if w0 <= t - entry < w1 else 0
                    at = 2 * (w * row + cell)
                    cumulative += flat[at] + multiplier * flat[at + 1]
                    months_in_state += 1
                    if cumulative >= threshold:
                        total = _hazards(state, d, bucket, treated, t - entry, multiplier,
                                         transitions, draws, hazard)
                        u = uniform_at(key, t, STREAM_DESTINATION + group.stream_offset)
                        state = transitions.destination[
                            _destination(u, state, transitions, hazard, total)]
                        months_in_state = 0
                        threshold = exponential_at(key, t + 1,
                                                   STREAM_SPELL + group.stream_offset)
                        cumulative = 0.0
                        w0 = window[state, 0] if treated else 0
                        w1 = window[state, 1] if treated else 0
        _price_counts(d, counts, draws.cost_rate, occupancy, cost)


def run_lean(compiled, arrays, group=None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`run_per_month` with the lean kernel (same arguments and returns)."""
    if not np.isfinite(arrays.base_hazard).all():
        raise ValueError("per_month_kernel: the lean kernel needs every probability below 1")
    t = compiled.transitions
    for s in range(t.outgoing_start.shape[0] - 1):
        ks = [k for k in t.outgoing[t.outgoing_start[s]:t.outgoing_start[s + 1]]
              if t.effect_to_month[k] > t.effect_from_month[k]]
        if len({(t.effect_from_month[k], t.effect_to_month[k]) for k in ks}) > 1:
            raise ValueError("per_month_kernel: a state's effects must share one window")
    return _run(lean_per_month_group, compiled, arrays, group)
