"""The trajectory kernel: participants' monthly states, counted per draw.

How a spell is drawn (see ``docs/methodology.rst`` for the equations): when a participant
starts a spell in month t0, an exit threshold E ~ Exp(1) is drawn from the generator at
(participant, t0, STREAM_SPELL) by the ziggurat method (``rng.exponential_at``). The
participant leaves at the end of the first month t >= t0 in which the cumulative hazard
H(t0) + ... + H(t) of the spell reaches E. The total hazard only changes at a few known
months (a months-in-state key, an effect window boundary), so the exit month within a
stretch of constant hazard is found in closed form rather than month by month; under an
economy shock the shocked part of the hazard is added month by month, and a fading effect's
months are walked one by one with the draw's summed hazards (``walk_fading_months``).
This is the same law as drawing each month's exit with probability 1 - exp(-H(t)), since
P(no exit in t0..t) = P(E > H(t0) + ... + H(t)) = exp(-(H(t0) + ... + H(t))). The destination
is drawn from (participant, exit month, STREAM_DESTINATION), with P(to k) = h_k / H.

Why this form: one random number per spell instead of one per month, and no work at all
for the months between change points. Both arms of a participant use the same numbers for a
spell that starts in the same month (common random numbers), so a higher hazard in the
treatment arm can only bring an exit forward.

Nothing of size participants x months is stored: each participant's spells are turned at
once into +1/-1 entries of a per-draw difference array of counts over (arm, month, state,
months-in-state bucket), which is cumulated, and priced, at the end of the draw.
"""

from __future__ import annotations

import math

from sibsim.engine._numba import jit, jit_borrowing
from sibsim.engine.kernels.effects import (
    FILLED,
    SHOCKED,
    SHOCKED_FRAIL,
    STEADY,
    STEADY_FRAIL,
    UNFILLED,
    effect_table,
    fill_fading_hazards,
)
from sibsim.engine.records import Participant
from sibsim.engine.rng import (
    STREAM_DESTINATION,
    STREAM_SPELL,
    exponential_at,
    participant_key,
    uniform_at,
)
from sibsim.rules import ARMS

#: Arm index of the treatment arm in the outputs (a comparison group has only its
#: counterfactual arm, at index 0, and never this one).
TREATMENT = ARMS.index("treatment")


# ----------------------------------------------------------------------------------------
# Hazards
# ----------------------------------------------------------------------------------------


@jit(inline="always")
def transition_hazard(k, d, bucket, treated, months_since_entry, multiplier, transitions,
                      draws, effect):
    """Hazard of transition k before the economy multiplier.

    -ln(1 - p_k) x hazard_scale (in ``base_hazard``) x frailty x site (frailty
    transitions) x ratio ** w(m) (treated, in the effect's window; from ``effect``, the
    draw's :func:`effect_table`). A multiplier of 0 switches the transition off, also when
    p_k = 1 (whose hazard is infinite). The economy multiplier of listed transitions is
    applied by the caller.
    """
    h = draws.base_hazard[d, k, bucket]
    if h == 0.0:
        return 0.0
    m = 1.0
    if transitions.frailty[k]:
        m *= multiplier
    if (treated and transitions.effect_from_month[k] <= months_since_entry
            < transitions.effect_to_month[k]):
        m *= effect[k, months_since_entry]
    if m == 0.0:
        return 0.0
    return h * m


@jit(inline="always")
def shocked(h, multiplier):
    """A hazard times the economy multiplier (a multiplier of 0 switches it off)."""
    if multiplier == 0.0 or h == 0.0:
        return 0.0
    return h * multiplier


@jit(inline="always")
def split_hazards(state, d, bucket, treated, months_since_entry, multiplier, transitions,
                  draws, hazard, effect):
    """Each transition's hazard out of ``state`` into ``hazard``; returns the sums of
    those without and with the economy shock (the shock itself is applied by the caller).
    """
    first = transitions.outgoing_start[state]
    last = transitions.outgoing_start[state + 1]
    steady = 0.0
    shocked_part = 0.0
    for i in range(first, last):
        k = transitions.outgoing[i]
        h = transition_hazard(k, d, bucket, treated, months_since_entry, multiplier,
                              transitions, draws, effect)
        hazard[i - first] = h
        if transitions.economy_shock[k]:
            shocked_part += h
        else:
            steady += h
    return steady, shocked_part


@jit(inline="always")
def choose_destination(u, state, transitions, hazard):
    """Transition taken on exit: P(k) = h_k / H; certain exits (h = inf) share equally.

    ``hazard[i - first]`` holds h_k of the i-th transition out of the state, as summed
    for the stretch in which the exit fell.
    """
    first = transitions.outgoing_start[state]
    last = transitions.outgoing_start[state + 1]
    total = 0.0
    n_certain = 0
    for i in range(first, last):
        h = hazard[i - first]
        if h == math.inf:
            n_certain += 1
        total += h
    if n_certain > 0:
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
        h = hazard[i - first]
        if h > 0.0:
            chosen = transitions.outgoing[i]
            running += h
            if target < running:
                return chosen
    return chosen  # rounding: the last transition with a positive hazard


# ----------------------------------------------------------------------------------------
# One spell
# ----------------------------------------------------------------------------------------


@jit(inline="always")
def next_change_point(treated, t, months_in_state, state, participant, transitions,
                      buckets, work):
    """The month at which the hazards out of ``state`` next change, from month t on.

    A change point is a months-in-state key of one of the state's tables, or (treatment
    arm) an effect window boundary; the horizon when there is none. A fading effect
    changes every month after its ``fade_from_month`` until its window ends, so such a
    stretch lasts one month (see :func:`~sibsim.engine.kernels.effects.effect_change_points`).
    Also returns whether an effect applies in month t.
    """
    entry = participant.entry_month
    change = transitions.months
    capped = min(months_in_state, buckets.last_key)
    if capped < buckets.last_key:
        change = min(change, t + buckets.next_hazard_change[state, capped] - months_in_state)
    effect_active = False
    if treated and transitions.state_has_effect[state]:
        effect_active = work.effect_active[state, t - entry]
        change = min(change, entry + work.effect_change[state, t - entry])
    return change, effect_active


@jit(inline="always")
def stretch_hazard(summed, treated, d, t, bucket, state, participant, transitions, draws,
                   work):
    """Total hazard of a stretch: (steady part, part under the economy shock).

    ``summed``: no multiplier but frailty applies, so the state's hazards summed once per
    draw serve. Otherwise each transition's hazard goes into ``work.hazard``.
    """
    if summed:
        hazard = draws.state_hazard[d, state, bucket, 0]
        frail = draws.state_hazard[d, state, bucket, 1]
        if frail > 0.0 and participant.multiplier > 0.0:
            hazard += frail * participant.multiplier
        return hazard, 0.0
    return split_hazards(state, d, bucket, treated, t - participant.entry_month,
                         participant.multiplier, transitions, draws, work.hazard,
                         work.effect)


@jit(inline="always")
def walk_shocked_stretch(d, t, months_in_state, change, cumulative, threshold, hazard,
                         hazard_shocked, draws):
    """Month by month through a stretch under the economy shock.

    H(t) = steady part + shocked part x exp(x_t). Returns (t, months_in_state, cumulative,
    exited), with t the exit month when exited.
    """
    while t < change:
        cumulative += hazard + shocked(hazard_shocked, draws.economy_multiplier[d, t])
        if cumulative >= threshold:
            return t, months_in_state, cumulative, True
        t += 1
        months_in_state += 1
    return t, months_in_state, cumulative, False


#: What :func:`walk_fading_months` did: nothing (the bucket has an infinite hazard), walked
#: to the end of the fading run, or found the month of the exit.
NOT_WALKED, WALKED, EXIT_FOUND = range(3)


@jit(inline="always")
def walk_fading_months(d, t, months_in_state, bucket, cumulative, threshold, state,
                       participant, transitions, buckets, draws, work):
    """Month by month through the fading months of a treated participant's stretch.

    A fading effect changes the hazards every month; until months_in_state reaches a key
    of the state's tables or a window boundary comes, H(t) = A(m) + mu A'(m) + shocked(S(m)
    + mu S'(m), exp(x_t)) (``docs/methodology.rst``), with m the months since entry, mu the
    participant's multiplier and A, A', S, S' the draw's summed hazards
    (``work.fading_hazard``, filled on the bucket's first use in the draw by
    :func:`~sibsim.engine.kernels.effects.fill_fading_hazards`, compiled on its own).

    Returns (t, months_in_state, cumulative, status), with status :data:`EXIT_FOUND` when
    t is the month in which the cumulative hazard reaches the threshold (cumulative is
    then the sum before that month: the caller evaluates that month transition by
    transition, for the destination), :data:`NOT_WALKED` when the bucket has an infinite
    hazard (walked transition by transition instead).
    """
    if work.fading_filled[state, bucket] == UNFILLED:
        work.fading_filled[state, bucket] = fill_fading_hazards(
            transitions.outgoing_start[state], transitions.outgoing_start[state + 1],
            transitions.outgoing, draws.base_hazard[d, :, bucket],
            transitions.effect_from_month, transitions.effect_to_month,
            transitions.economy_shock, transitions.frailty, work.effect,
            work.effect_fading[state], work.fading_hazard[state, bucket])
    if work.fading_filled[state, bucket] != FILLED:
        return t, months_in_state, cumulative, NOT_WALKED
    entry = participant.entry_month
    mu = participant.multiplier
    end = min(transitions.months, entry + work.steady_change[state, t - entry])
    capped = min(months_in_state, buckets.last_key)
    if capped < buckets.last_key:
        end = min(end, t + buckets.next_hazard_change[state, capped] - months_in_state)
    table = work.fading_hazard
    while t < end:
        m = t - entry
        h = table[state, bucket, m, STEADY] + mu * table[state, bucket, m, STEADY_FRAIL]
        if transitions.state_has_shock[state]:
            h += shocked(table[state, bucket, m, SHOCKED]
                         + mu * table[state, bucket, m, SHOCKED_FRAIL],
                         draws.economy_multiplier[d, t])
        if cumulative + h >= threshold:
            return t, months_in_state, cumulative, EXIT_FOUND
        cumulative += h
        t += 1
        months_in_state += 1
    return t, months_in_state, cumulative, WALKED


@jit(inline="always")
def spell_exit(treated, d, t, months_in_state, state, threshold, participant, transitions,
               buckets, draws, work):
    """Walk one spell from month t until its cumulative hazard reaches ``threshold``.

    Returns (t, months_in_state, exited): the exit month (or the horizon) and the
    months_in_state then. On exit, ``work.hazard`` holds each transition's hazard in the
    exit month, for the destination.
    """
    months = transitions.months
    first = transitions.outgoing_start[state]
    last = transitions.outgoing_start[state + 1]
    cumulative = 0.0
    exit_month = False  # t is the month a fading walk found the exit in
    while t < months:
        bucket = buckets.bucket_of[min(months_in_state, buckets.last_key)]
        # The hazards are constant until the next change point; those under an economy
        # shock also change every month.
        change, effect_active = next_change_point(treated, t, months_in_state, state,
                                                  participant, transitions, buckets, work)
        if (effect_active and not exit_month
                and work.effect_fading[state, t - participant.entry_month]):
            # A fading effect changes the hazards every month: its months are walked with
            # the draw's summed hazards.
            t, months_in_state, cumulative, status = walk_fading_months(
                d, t, months_in_state, bucket, cumulative, threshold, state, participant,
                transitions, buckets, draws, work,
            )
            if status != NOT_WALKED:
                exit_month = status == EXIT_FOUND
                continue
        exit_month = False
        summed = not effect_active and not transitions.state_has_shock[state]
        hazard, hazard_shocked = stretch_hazard(summed, treated, d, t, bucket, state,
                                                participant, transitions, draws, work)
        if transitions.state_has_shock[state] and hazard_shocked > 0.0:
            t, months_in_state, cumulative, exited = walk_shocked_stretch(
                d, t, months_in_state, change, cumulative, threshold, hazard,
                hazard_shocked, draws,
            )
            if exited:
                for i in range(first, last):
                    if transitions.economy_shock[transitions.outgoing[i]]:
                        work.hazard[i - first] = shocked(
                            work.hazard[i - first], draws.economy_multiplier[d, t]
                        )
                return t, months_in_state, True
            continue
        # Months t .. change-1 all add `hazard`: the exit, if it falls in this stretch,
        # is in the n-th month, the smallest n with cumulative + n * hazard >= threshold.
        span = change - t
        remaining = threshold - cumulative
        if hazard == 0.0 or remaining > span * hazard:
            cumulative += span * hazard
            months_in_state += span
            t = change
            continue
        n = min(max(math.ceil(remaining / hazard), 1), span)
        t += n - 1
        months_in_state += n - 1
        if summed and last - first > 1:
            # The destination needs each transition's hazard in the exit month (no
            # effect or shock applies in this stretch); a single way out needs none.
            for i in range(first, last):
                work.hazard[i - first] = transition_hazard(
                    transitions.outgoing[i], d, bucket, treated, t - participant.entry_month,
                    participant.multiplier, transitions, draws, work.effect,
                )
        return t, months_in_state, True
    return t, months_in_state, False


@jit(inline="always")
def next_state(state, t, participant, group, transitions, work):
    """The state entered after an exit from ``state`` in month t (its destination, drawn
    from the uniform at (participant, t, STREAM_DESTINATION)). A state with a single
    transition out needs no uniform: its exits all take it."""
    first = transitions.outgoing_start[state]
    if transitions.outgoing_start[state + 1] - first == 1:
        return transitions.destination[transitions.outgoing[first]]
    u = uniform_at(participant.key, t, STREAM_DESTINATION + group.stream_offset)
    return transitions.destination[choose_destination(u, state, transitions, work.hazard)]


# ----------------------------------------------------------------------------------------
# From spells to counts and outcome payments
# ----------------------------------------------------------------------------------------


@jit(inline="always")
def spells_to_ledger(arm, n_spells, buckets, work):
    """Add a participant's spells to the per-draw difference array of counts.

    A spell's cost changes only where months_in_state crosses a key of a payer-share table
    of its state (``buckets.next_cost_change``), so the spell is cut into stretches of
    constant cost; each stretch adds +1 to ``work.count_change[arm, first month, state,
    bucket]`` and -1 after its last month. Counts are integers, so the order in which
    participants are added never matters.

    The loop follows the state's chain of cost changes from the spell's first bucket to
    its last (a number of steps fixed by the state and that bucket), not the spell's
    length: a change the spell never reaches has a piece from its end to its end, whose +1
    and -1 cancel. A loop that stopped at the spell's end would turn on the spell's
    length, a branch the processor cannot predict, and cost about a tenth of the kernel.
    """
    n_buckets = buckets.keys.shape[0]
    for s in range(n_spells):
        state = work.spell_state[s]
        first = work.spell_start[s]
        end = work.spell_end[s]
        start_months_in_state = work.spell_months_in_state[s]
        b = buckets.bucket_of[min(start_months_in_state, buckets.last_key)]
        piece_start = first
        while True:
            following = buckets.next_cost_change[state, b]
            piece_end = end
            if following < n_buckets:
                piece_end = min(end, first + buckets.keys[following] - start_months_in_state)
            work.count_change[arm, piece_start, state, b] += 1
            work.count_change[arm, piece_end, state, b] -= 1
            if following == n_buckets:
                break
            piece_start = piece_end
            b = following


@jit(inline="always")
def outcome_month(o, n_spells, rate_cards, work):
    """Month in which a participant reaches outcome o (-1: never).

    An outcome ``sustained N`` is reached in the N-th consecutive month in its state since
    entry; ``cumulative N`` in the month the count of months in the state reaches N.
    """
    needed = rate_cards.outcome_months[o]
    count = 0
    for s in range(n_spells):
        if work.spell_state[s] != rate_cards.outcome_state[o]:
            continue
        length = work.spell_end[s] - work.spell_start[s]
        if rate_cards.outcome_cumulative[o]:
            if count + length >= needed:
                return work.spell_start[s] + needed - count - 1
            count += length
        elif length >= needed:
            return work.spell_start[s] + needed - 1
    return -1


@jit(inline="always")
def rate_card_outcomes(d, entry, n_spells, rate_cards, draws, work, due):
    """Outcome payments of one treated participant under every rate-card contract.

    An outcome is paid (once) if months since entry at the month it is reached is at most
    the window. Payments are capped per participant in time order (ties in listing order),
    and added to ``due[d, contract, month]`` (the lag and ``cap_total`` are applied later).
    """
    reached = work.reached
    for c in range(rate_cards.window_months.shape[0]):
        o_first, o_last = rate_cards.outcome_start[c], rate_cards.outcome_start[c + 1]
        window = rate_cards.window_months[c]
        for o in range(o_first, o_last):
            reached[o] = outcome_month(o, n_spells, rate_cards, work)
            if reached[o] >= 0 and window >= 0 and reached[o] - entry > window:
                reached[o] = -1
        remaining = draws.cap_per_participant[d, c]
        # Pay in time order: repeatedly take the earliest unpaid outcome.
        while True:
            best = -1
            for o in range(o_first, o_last):
                if reached[o] >= 0 and (best < 0 or reached[o] < reached[best]):
                    best = o
            if best < 0:
                break
            amount = min(draws.outcome_price[d, best], remaining)
            if amount > 0.0:
                due[d, c, reached[best]] += amount
                remaining -= amount
            reached[best] = -1


@jit(inline="always")
def cumulate(d, cells, cost_rate, out, work):
    """Occupancy and cost of draw d from its difference array of counts.

    Month by month, the running count of each (state, bucket) cell changes only where some
    participant entered or left it; the running cost changes by that change times the
    cell's cost rates, for the payer-category pairs a flow of the state reaches. The order
    of the sums is fixed, so the result does not depend on threads.
    """
    count_change = work.count_change
    n_arms, n_rows, n_states, n_buckets = count_change.shape
    n_pairs = out.cost.shape[3]
    count = work.count
    running = work.running
    for a in range(n_arms):
        count[:] = 0
        running[:] = 0.0
        for t in range(n_rows - 1):
            for s in range(n_states):
                for b in range(n_buckets):
                    change = count_change[a, t, s, b]
                    if change == 0:
                        continue
                    count[s] += change
                    cell = s * n_buckets + b
                    for i in range(cells.pair_start[cell], cells.pair_start[cell + 1]):
                        q = cells.pair[i]
                        running[q] += change * cost_rate[d, s, b, q]
            for s in range(n_states):
                out.occupancy[d, a, t, s] = count[s]
            for q in range(n_pairs):
                out.cost[d, a, t, q] = running[q]


# ----------------------------------------------------------------------------------------
# One draw, and the group over a chunk of draws
# ----------------------------------------------------------------------------------------


@jit(inline="always")
def start_draw(d, group, transitions, draws, work):
    """Make the workspace ready for draw d: no counts, the draw's effects.

    The effect tables are filled only for a group with a treatment arm: a comparison group
    never reads them (and a fading weight costs a power per transition and month). Outside
    the effects' windows ``work.effect`` keeps its ones (never read there).
    """
    work.count_change[...] = 0
    if group.both_arms:
        effect_table(d, transitions, draws, work.effect)
        work.fading_filled[...] = UNFILLED


@jit(inline="always")
def new_participant(d, j, group, members, draws):
    """Participant j of the group in draw d: key, entry month, prior months, multiplier."""
    return Participant(participant_key(draws.seed, draws.first_draw + d, j),
                       group.entry_month[j], members.prior_months[d, j],
                       members.frailty[d, j] * draws.site_multiplier[d, group.site[j]])


@jit_borrowing
def simulate_group(group, members, transitions, buckets, cells, rate_cards, draws, out, work,
                   first, stop):
    """Simulate a group of participants for draws ``first .. stop - 1`` of a chunk.

    Serial, and it releases the GIL (``nogil``): ``sibsim.engine.simulate.run_group`` runs
    blocks of draws on several Python threads, each with its own workspace. A ``prange``
    over draws would compile the kernel a second time for numba's parallel backend (a third
    of the cold start) and start its threads on every call.

    It allocates nothing and only reads and writes the arrays it is given, so it is
    compiled without reference counting (see ``jit_borrowing``): every inlined helper
    binds whole records, and counting each of their arrays in and out at every call would
    cost ten times the arithmetic. With no allocation, numba also compiles none of its
    array constructors: one function, compiled once.

    Parameters
    ----------
    group : Group
        The participants: their sites, entry months and random streams.
    members : Members
        Their frailty and prior months in each draw of the chunk (drawn before the kernel).
    transitions : TransitionLayout
        The horizon, the initial state and the transitions by origin state.
    buckets : MonthsInState
        The months-in-state buckets and the months at which hazards and costs change.
    cells : LedgerCells
        The payer-category pairs each (state, bucket) cell reaches.
    rate_cards : RateCards
        The rate-card outcomes (none: R = 0; a group without a treatment arm pays none).
    draws : DrawArrays
        The per-draw hazards, multipliers, cost rates and prices of the chunk.
    out : Outputs
        Written: occupancy and cost of the draws; added to: ``due``.
    work : Workspace
        Scratch arrays, one set per thread (``sibsim.engine.simulate.new_workspace``);
        reset for each draw.
    first, stop : int
        The draws (row indices of the chunk's arrays).

    Returns
    -------
    None
        Draw d writes only row d of the outputs, so the result does not depend on threads
        or on how the draws are split into blocks.

    The records and their fields are in :mod:`sibsim.engine.records`.
    """
    # The hot loop of the model: draws, participants, arms, spells. Its loops are written
    # out here rather than in inlined helpers: numba copies an inlined function's whole
    # code (with its own inlined helpers) at each call, and the copy grows with the
    # code's blocks times its variables, so a large helper inlined costs seconds of
    # compile time.
    n_arms = work.count_change.shape[0]
    for d in range(first, stop):
        start_draw(d, group, transitions, draws, work)
        for j in range(group.site.shape[0]):
            participant = new_participant(d, j, group, members, draws)
            for arm in range(n_arms):
                treated = group.both_arms and arm == TREATMENT
                # The participant's spells in this arm, from entry to the horizon, into
                # work.spell_* (state, first month, end month exclusive, months_in_state
                # in the first month).
                state = transitions.initial_state
                t = participant.entry_month
                months_in_state = participant.prior_months
                n_spells = 0
                while t < transitions.months:
                    work.spell_state[n_spells] = state
                    work.spell_start[n_spells] = t
                    work.spell_months_in_state[n_spells] = months_in_state
                    threshold = exponential_at(participant.key, t,
                                               STREAM_SPELL + group.stream_offset)
                    t, months_in_state, exited = spell_exit(
                        treated, d, t, months_in_state, state, threshold, participant,
                        transitions, buckets, draws, work,
                    )
                    work.spell_end[n_spells] = min(t + 1, transitions.months)
                    n_spells += 1
                    if not exited:
                        break
                    state = next_state(state, t, participant, group, transitions, work)
                    t += 1
                    months_in_state = 0
                spells_to_ledger(arm, n_spells, buckets, work)
                if treated and rate_cards.window_months.shape[0] > 0:
                    rate_card_outcomes(d, participant.entry_month, n_spells, rate_cards,
                                       draws, work, out.due)
        # The draw's counts become its occupancy and cost.
        cumulate(d, cells, draws.cost_rate, out, work)
