"""The treatment effect in the kernel: per-draw tables looked up by the trajectory kernel.

The effect of a transition depends on the draw and the months since entry only, never on the
participant, so its multiplier ratio ** w(m) and the months at which it changes are computed
once per draw (:func:`effect_table`, :func:`effect_changes`) rather than in every month of
every treated participant (see :mod:`sibsim.engine.kernels.trajectories`).
"""

from __future__ import annotations

from sibsim.engine._numba import jit
from sibsim.rules import fading_weight

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


@jit(inline="always")
def effect_changes(transitions, change, active):
    """For a treated participant in state s at m months since entry: ``change[s, m]``, the
    months since entry of the next effect window boundary (or next month while an effect
    fades; ``transitions.months`` when none), and ``active[s, m]``, whether an effect applies.
    The same for every participant and draw; looked up by :func:`next_change_point`."""
    for state in range(change.shape[0]):
        for m in range(change.shape[1]):
            nearest = transitions.months
            on = False
            if transitions.state_has_effect[state]:
                for i in range(transitions.outgoing_start[state],
                               transitions.outgoing_start[state + 1]):
                    k = transitions.outgoing[i]
                    start = transitions.effect_from_month[k]
                    end = transitions.effect_to_month[k]
                    fades = transitions.effect_fades[k]
                    fade_from = transitions.effect_fade_from_month[k]
                    if start <= m < end:
                        on = True
                        if fades and m >= fade_from:
                            nearest = min(nearest, m + 1)
                    if start > m:
                        nearest = min(nearest, start)
                    if fades and fade_from > m:
                        nearest = min(nearest, fade_from)
                    if end > m:
                        nearest = min(nearest, end)
            change[state, m] = nearest
            active[state, m] = on
