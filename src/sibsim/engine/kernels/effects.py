"""The treatment effect in the kernel: per-draw tables looked up by the trajectory kernel.

The effect of a transition depends on the draw and the months since entry only, never on the
participant, so its multiplier ratio ** w(m) is computed once per draw (:func:`effect_table`)
and the months at which it changes once per kernel call (:func:`effect_change_points`), rather
than in every month of every treated participant (see
:mod:`sibsim.engine.kernels.trajectories`).
"""

from __future__ import annotations

import numpy as np

from sibsim.engine._numba import jit, jit_borrowing
from sibsim.rules import fading_weight

#: Slots of ``Workspace.fading_hazard``: the summed hazards of a state's transitions
#: without the economy shock (without and with frailty), then those with it.
STEADY, STEADY_FRAIL, SHOCKED, SHOCKED_FRAIL = range(4)
#: ``Workspace.fading_filled``: not yet filled in this draw, filled, filled but with an
#: infinite hazard (a probability of 1: such a bucket is walked transition by transition).
UNFILLED, FILLED, INFINITE = range(3)

#: The fading weight w(m) of :func:`sibsim.rules.fading_weight`, compiled.
fading = jit(inline="always")(fading_weight)


@jit(inline="always")
def effect_multiplier(k, d, months_since_entry, transitions, draws):
    """ratio ** w(m) of transition k's effect within its window (the ratio where it does
    not fade, or before it fades)."""
    ratio = draws.effect_ratio[d, k]
    fade_from = transitions.effect_fade_from_month[k]
    if transitions.effect_fades[k] and months_since_entry > fade_from:
        return ratio ** fading(months_since_entry, fade_from, draws.effect_half_life[d, k])
    return ratio


@jit(inline="always")
def effect_table(d, transitions, draws, table):
    """``table[k, m]``: each transition's ratio ** w(m) in its effect's window, for draw d
    (the same for every participant of the draw, so computed once per draw)."""
    for k in range(table.shape[0]):
        for m in range(max(transitions.effect_from_month[k], 0),
                       min(transitions.effect_to_month[k], table.shape[1])):
            table[k, m] = effect_multiplier(k, d, m, transitions, draws)


def _effect_regimes(transitions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``active``, ``fading`` and ``steady_change`` of :func:`effect_change_points` and
    :func:`fading_points`, from one pass over the transitions with an effect."""
    months = int(transitions.months)
    n_states = transitions.state_has_effect.shape[0]
    m = np.arange(months)
    active = np.zeros((n_states, months), dtype=np.bool_)
    fading = np.zeros((n_states, months), dtype=np.bool_)
    steady_change = np.full((n_states, months), months, dtype=np.int64)
    for state in np.flatnonzero(transitions.state_has_effect):
        for i in range(transitions.outgoing_start[state], transitions.outgoing_start[state + 1]):
            k = transitions.outgoing[i]
            start = transitions.effect_from_month[k]
            end = transitions.effect_to_month[k]
            fade_from = transitions.effect_fade_from_month[k]
            inside = (start <= m) & (m < end)
            active[state] |= inside
            nearest = steady_change[state]
            if transitions.effect_fades[k]:
                fading[state] |= inside & (m >= fade_from)
                np.minimum(nearest, np.where(fade_from > m, fade_from, months), out=nearest)
            np.minimum(nearest, np.where(start > m, start, months), out=nearest)
            np.minimum(nearest, np.where(end > m, end, months), out=nearest)
    return active, fading, steady_change


def change_points(transitions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`effect_change_points` followed by :func:`fading_points`, from one pass: the
    workspace's ``effect_change``, ``effect_active``, ``effect_fading`` and
    ``steady_change``."""
    active, fading, steady_change = _effect_regimes(transitions)
    return _change(transitions, fading, steady_change), active, fading, steady_change


def _change(transitions, fading, steady_change) -> np.ndarray:
    """The next change: the steady one, or next month where an effect fades."""
    next_month = np.arange(1, int(transitions.months) + 1)
    return np.where(fading, np.minimum(steady_change, next_month), steady_change)


def effect_change_points(transitions) -> tuple[np.ndarray, np.ndarray]:
    """For a treated participant in state s at m months since entry: ``change[s, m]``, the
    months since entry of the next effect change (an effect window boundary, the start of
    a fading effect's fade, or next month while an effect fades; ``transitions.months`` when
    none), and ``active[s, m]``, whether an effect applies.

    The same for every participant and draw, so made once per kernel call (plain numpy) and
    looked up by :func:`sibsim.engine.kernels.trajectories.next_change_point`.

    Returns
    -------
    change : ndarray of int64, shape (states, months)
    active : ndarray of bool, shape (states, months)
    """
    active, fading, steady_change = _effect_regimes(transitions)
    return _change(transitions, fading, steady_change), active


def fading_points(transitions) -> tuple[np.ndarray, np.ndarray]:
    """For a treated participant in state s at m months since entry: ``fading[s, m]``,
    whether some effect out of s fades in month m (its multiplier changes every month),
    and ``steady_change[s, m]``, the months since entry of the next effect change other
    than a fading step (a window boundary or the start of a fade; ``transitions.months``
    when none).

    Within a run of fading months up to ``steady_change`` the hazards change every month
    only through the fading multipliers, which the per-draw table
    ``Workspace.fading_hazard`` holds (:func:`fill_fading_hazards`).

    Returns
    -------
    fading : ndarray of bool, shape (states, months)
    steady_change : ndarray of int64, shape (states, months)
    """
    _, fading, steady_change = _effect_regimes(transitions)
    return fading, steady_change


@jit_borrowing
def fill_fading_hazards(first, last, outgoing, base_hazard, effect_from_month,
                        effect_to_month, economy_shock, frailty, effect, fading, table):
    """``table[m]``: a state's summed hazards in one bucket for the fading months m of a
    draw; returns :data:`FILLED`, or :data:`INFINITE` if some hazard is infinite.

    The state's transitions are ``outgoing[first:last]``; ``base_hazard[k]`` is the draw's
    and the bucket's (``DrawArrays.base_hazard[d, :, bucket]``), ``effect`` the draw's
    :func:`effect_table`, ``fading[m]`` whether the state's effect fades at m, ``table``
    the state's and bucket's rows of ``Workspace.fading_hazard``. The four slots
    (:data:`STEADY` ...) sum the hazard of a treated participant with a multiplier of 1:
    -ln(1 - p_k) x hazard_scale x ratio ** w(m) within the effect's window; a frailty
    transition's hazard is the participant's multiplier times its slot. An infinite hazard
    (p = 1) makes the bucket :data:`INFINITE`: times a multiplier of 0 it has no value, so
    such a bucket is walked transition by transition.
    """
    finite = True
    for m in range(fading.shape[0]):
        if not fading[m]:
            continue
        for slot in range(4):
            table[m, slot] = 0.0
        for i in range(first, last):
            k = outgoing[i]
            h = base_hazard[k]
            if effect_from_month[k] <= m < effect_to_month[k]:
                ratio = effect[k, m]
                h = 0.0 if (h == 0.0 or ratio == 0.0) else h * ratio
            finite = finite and h < np.inf
            table[m, (SHOCKED if economy_shock[k] else STEADY) + frailty[k]] += h
    return FILLED if finite else INFINITE
