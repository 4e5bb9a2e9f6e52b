"""The trajectory kernel: participants' monthly states, counted per draw.

How a spell is drawn (see ``docs/methodology.rst`` for the equations): when a participant
starts a spell in month t0, an exit threshold E ~ Exp(1) is drawn from the generator at
(participant, t0, STREAM_SPELL) by the ziggurat method (``rng.exponential_at``). The
participant leaves at the end of the first month t >= t0 in which the cumulative hazard
H(t0) + ... + H(t) of the spell reaches E. The total hazard only changes at a few known
months (a months-in-state key, an effect window boundary), so the exit month within a
stretch of constant hazard is found in closed form rather than month by month; under an
economy shock the shocked part of the hazard is added month by month.
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

import numpy as np

from sibsim.engine._numba import jit, jit_parallel, prange
from sibsim.engine.kernels.sampling import GAMMA, sample
from sibsim.engine.rng import (
    STREAM_DESTINATION,
    STREAM_FRAILTY,
    STREAM_PRIOR,
    STREAM_SPELL,
    exponential_at,
    participant_key,
    uniform_at,
)

TREATMENT = 0
COUNTERFACTUAL = 1


@jit(inline="always")
def transition_hazard(
    k, d, bucket, treated, months_since_entry, mult_frailty,
    base_hazard, trans_frailty, effect_ratio, effect_from, effect_to,
):
    """Hazard of transition k before the economy multiplier.

    -ln(1 - p_k) x frailty x site (frailty transitions) x effect ratio (treated, in the
    window). A multiplier of 0 switches the transition off, also when p_k = 1 (whose hazard
    is infinite). The economy multiplier of listed transitions is applied by the caller.
    """
    h = base_hazard[d, k, bucket]
    if h == 0.0:
        return 0.0
    m = 1.0
    if trans_frailty[k]:
        m *= mult_frailty
    if treated and effect_from[k] <= months_since_entry < effect_to[k]:
        m *= effect_ratio[d, k]
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
def split_hazards(
    first, last, d, bucket, treated, months_since_entry, mult_frailty, out_trans,
    base_hazard, trans_frailty, effect_ratio, effect_from, effect_to, trans_economy,
    hazard_of,
):
    """Each transition's hazard out of a state into ``hazard_of``; returns the sums of
    those without and with the economy shock (the shock itself is applied by the caller).
    """
    steady = 0.0
    shocked_part = 0.0
    for i in range(first, last):
        k = out_trans[i]
        h = transition_hazard(
            k, d, bucket, treated, months_since_entry, mult_frailty, base_hazard,
            trans_frailty, effect_ratio, effect_from, effect_to,
        )
        hazard_of[i - first] = h
        if trans_economy[k]:
            shocked_part += h
        else:
            steady += h
    return steady, shocked_part


@jit(inline="always")
def choose_destination(u, first, last, out_trans, hazard_of):
    """Transition taken on exit: P(k) = h_k / H; certain exits (h = inf) share equally.

    ``hazard_of[i - first]`` holds h_k of the i-th transition out of the state, as summed
    for the stretch in which the exit fell.
    """
    total = 0.0
    n_certain = 0
    for i in range(first, last):
        h = hazard_of[i - first]
        if h == math.inf:
            n_certain += 1
        total += h
    if n_certain > 0:
        pick = min(int(u * n_certain), n_certain - 1)
        for i in range(first, last):
            if hazard_of[i - first] == math.inf:
                if pick == 0:
                    return out_trans[i]
                pick -= 1
    target = u * total
    running = 0.0
    chosen = -1
    for i in range(first, last):
        h = hazard_of[i - first]
        if h > 0.0:
            chosen = out_trans[i]
            running += h
            if target < running:
                return chosen
    return chosen  # rounding: the last transition with a positive hazard


@jit(inline="always")
def walk_arm(
    treated, d, key, stream_offset, entry, prior, mult_frailty, initial_state,
    months, out_start, out_trans, trans_to, base_hazard, trans_frailty, effect_ratio,
    effect_from, effect_to, trans_economy, economy, state_economy, state_effect,
    state_hazard, bucket_of, next_key, max_key, spell_state, spell_start, spell_end,
    spell_mis, hazard_of,
):
    """Simulate one participant in one arm from entry to the horizon.

    (At most 30 arguments: beyond that Python passes them as ``*args``, which numba cannot
    inline.)

    Writes the spells (state, first month, end month exclusive, months_in_state in the
    first month) into ``spell_*`` and returns their number.
    """
    state = initial_state
    t = entry
    mis = prior
    n_spells = 0
    while t < months:
        spell_state[n_spells] = state
        spell_start[n_spells] = t
        spell_mis[n_spells] = mis
        threshold = exponential_at(key, t, STREAM_SPELL + stream_offset)
        cumulative = 0.0
        exited = False
        first, last = out_start[state], out_start[state + 1]
        while t < months:
            capped = min(mis, max_key)
            bucket = bucket_of[capped]
            mse = t - entry
            # The hazards are constant until the next change point: a bucket boundary or an
            # effect window boundary (treated arm); those under an economy shock also
            # change every month.
            change = months
            if capped < max_key:
                change = min(change, t + next_key[state, capped] - mis)
            effect_active = False
            if treated and state_effect[state]:
                for i in range(first, last):
                    k = out_trans[i]
                    if effect_from[k] <= mse < effect_to[k]:
                        effect_active = True
                    if entry + effect_from[k] > t:
                        change = min(change, entry + effect_from[k])
                    if entry + effect_to[k] > t:
                        change = min(change, entry + effect_to[k])
            summed = not effect_active and not state_economy[state]
            if summed:
                # No multiplier but frailty: the state's hazards, summed once per draw.
                hazard = state_hazard[d, state, bucket, 0]
                frail = state_hazard[d, state, bucket, 1]
                if frail > 0.0 and mult_frailty > 0.0:
                    hazard += frail * mult_frailty
                hazard_shocked = 0.0
            else:
                hazard, hazard_shocked = split_hazards(
                    first, last, d, bucket, treated, mse, mult_frailty, out_trans,
                    base_hazard, trans_frailty, effect_ratio, effect_from, effect_to,
                    trans_economy, hazard_of,
                )
            if state_economy[state] and hazard_shocked > 0.0:
                # Month by month: H(t) = steady part + shocked part x exp(x_t).
                while t < change:
                    cumulative += hazard + shocked(hazard_shocked, economy[d, t])
                    if cumulative >= threshold:
                        exited = True
                        break
                    t += 1
                    mis += 1
                if exited:
                    for i in range(first, last):
                        if trans_economy[out_trans[i]]:
                            hazard_of[i - first] = shocked(hazard_of[i - first], economy[d, t])
                    break
                continue
            # Months t .. change-1 all add `hazard`: the exit, if it falls in this stretch,
            # is in the n-th month, the smallest n with cumulative + n * hazard >= threshold.
            span = change - t
            remaining = threshold - cumulative
            if hazard == 0.0 or remaining > span * hazard:
                cumulative += span * hazard
                mis += span
                t = change
                continue
            n = min(max(math.ceil(remaining / hazard), 1), span)
            t += n - 1
            mis += n - 1
            exited = True
            if summed:
                # The destination needs each transition's hazard in the exit month (no
                # effect or shock applies in this stretch).
                for i in range(first, last):
                    hazard_of[i - first] = transition_hazard(
                        out_trans[i], d, bucket, treated, t - entry, mult_frailty,
                        base_hazard, trans_frailty, effect_ratio, effect_from, effect_to,
                    )
            break
        spell_end[n_spells] = min(t + 1, months)
        n_spells += 1
        if not exited:
            break
        u = uniform_at(key, t, STREAM_DESTINATION + stream_offset)
        k = choose_destination(u, first, last, out_trans, hazard_of)
        state = trans_to[k]
        t += 1
        mis = 0
    return n_spells


@jit(inline="always")
def spells_to_ledger(
    arm, n_spells, spell_state, spell_start, spell_end, spell_mis, bucket_of, max_key,
    bucket_keys, cost_next, count_diff,
):
    """Add a participant's spells to the per-draw difference array of counts.

    A spell's cost changes only where months_in_state crosses a key of a payer-share table
    of its state (``cost_next``), so the spell is cut into stretches of constant cost; each
    stretch adds +1 to ``count_diff[arm, first month, state, bucket]`` and -1 after its last
    month. Counts are integers, so the order in which participants are added never matters.
    """
    n_buckets = bucket_keys.shape[0]
    for s in range(n_spells):
        state = spell_state[s]
        first = spell_start[s]
        end = spell_end[s]
        mis0 = spell_mis[s]
        b = bucket_of[min(mis0, max_key)]
        piece_start = first
        while piece_start < end:
            following = cost_next[state, b]
            piece_end = end
            if following < n_buckets:
                piece_end = min(end, first + bucket_keys[following] - mis0)
            count_diff[arm, piece_start, state, b] += 1
            count_diff[arm, piece_end, state, b] -= 1
            piece_start = piece_end
            b = following


@jit(inline="always")
def rate_card_outcomes(
    d, entry, n_spells, spell_state, spell_start, spell_end, rc_outcome_start, oc_state,
    oc_cumulative, oc_months, oc_price, rc_window, rc_cap, reached, due,
):
    """Outcome payments of one treated participant under every rate-card contract.

    An outcome ``sustained N`` is reached in the N-th consecutive month in its state since
    entry; ``cumulative N`` in the month the count of months in the state reaches N. It is
    paid (once) if months since entry at that month is at most the window. Payments are
    capped per participant in time order (ties in listing order), and added to
    ``due[d, contract, month]`` (the lag and ``cap_total`` are applied later).
    """
    for c in range(rc_window.shape[0]):
        o_first, o_last = rc_outcome_start[c], rc_outcome_start[c + 1]
        for o in range(o_first, o_last):
            reached[o] = -1
            count = 0
            for s in range(n_spells):
                if spell_state[s] != oc_state[o]:
                    continue
                length = spell_end[s] - spell_start[s]
                if oc_cumulative[o]:
                    if count + length >= oc_months[o]:
                        reached[o] = spell_start[s] + oc_months[o] - count - 1
                        break
                    count += length
                elif length >= oc_months[o]:
                    reached[o] = spell_start[s] + oc_months[o] - 1
                    break
            if reached[o] >= 0 and rc_window[c] >= 0 and reached[o] - entry > rc_window[c]:
                reached[o] = -1
        remaining = rc_cap[d, c]
        # Pay in time order: repeatedly take the earliest unpaid outcome.
        while True:
            best = -1
            for o in range(o_first, o_last):
                if reached[o] >= 0 and (best < 0 or reached[o] < reached[best]):
                    best = o
            if best < 0:
                break
            amount = min(oc_price[d, best], remaining)
            if amount > 0.0:
                due[d, c, reached[best]] += amount
                remaining -= amount
            reached[best] = -1


@jit(inline="always")
def participant_attributes(key, stream_offset, frailty_par, prior_code, prior_par):
    """Frailty (Gamma with mean 1, variance v) and whole prior months (rounded, >= 0).

    ``frailty_par`` holds the gamma's parameters (shape 1/v, scale v, mean 1, sd sqrt(v)); a
    scale of 0 means no frailty (v = 0, every participant has frailty 1).
    """
    frailty = 1.0
    if frailty_par[1] > 0.0:
        frailty = sample(GAMMA, frailty_par, key, STREAM_FRAILTY + stream_offset)
    prior = sample(prior_code, prior_par, key, STREAM_PRIOR + stream_offset)
    prior_months = int(np.rint(prior)) if prior > 0.0 else 0
    return frailty, prior_months


@jit_parallel
def simulate_group(
    seed, draw_offset, stream_offset, both_arms, months,
    site, entry, site_multiplier, frailty_variance, prior_code, prior_par, initial_state,
    out_start, out_trans, trans_to, base_hazard, trans_frailty, effect_ratio, effect_from,
    effect_to, trans_economy, economy, state_economy, state_effect,
    state_hazard, bucket_of, next_key, max_key, bucket_keys, cost_next, cell_start, cell_pair, cost_rate,
    rc_outcome_start, oc_state, oc_cumulative, oc_months, oc_price, rc_window, rc_cap,
    occupancy, cost, due,
):
    """Simulate a group of participants for a chunk of draws, in parallel over draws.

    Parameters (shapes; D draws in the chunk, N participants, K transitions, S states,
    B months-in-state buckets, T months, Q payer-category pairs, O rate-card outcomes,
    R rate-card contracts)
    ----------
    seed, draw_offset : int
        Draw d of the chunk is draw ``draw_offset + d`` of the run (its random numbers).
    stream_offset : int
        0 for the treated cohort, ``GROUP_STREAM_STRIDE * size`` for a comparison group.
    both_arms : bool
        True: treatment and counterfactual arms (the cohort); False: counterfactual only.
    site, entry : int64 (N,)
    site_multiplier : float64 (D, n_sites); frailty_variance : float64 (D,)
    prior_code : int; prior_par : float64 (4,)
    out_start : int64 (S + 1,); out_trans : int64 (K,) transitions grouped by origin state
    trans_to, trans_frailty, effect_from, effect_to, trans_economy : int64 (K,)
    base_hazard : float64 (D, K, B) -ln(1 - p), inf where p = 1
    effect_ratio : float64 (D, K); economy : float64 (D, T) monthly multipliers
    state_economy, state_effect : int64 (S,) whether a state has such outgoing transitions
    state_hazard : float64 (D, S, B, 2) the sums of -ln(1 - p) over a state's transitions
        without [..., 0] and with [..., 1] frailty, in listing order (used when no effect or
        shock applies: H = plain + frailty x site x frail)
    bucket_of : int64 (max_key + 1,) bucket of each capped months_in_state
    next_key : int64 (S, max_key + 1) next months_in_state at which a hazard out of the
        state changes (a large number when none does)
    bucket_keys : int64 (B,) first months_in_state of each bucket
    cost_next : int64 (S, B) next bucket at which the state's cost rates change (B: never)
    cell_start : int64 (S * B + 1,); cell_pair : int64 (nnz,) the payer-category pairs a
        flow can reach from each (state, bucket) cell (sparse rows)
    cost_rate : float64 (D, S, B, Q) public cost of one participant-month
    rate-card arrays : see :func:`rate_card_outcomes` (empty when R = 0)
    occupancy : float64 (D, A, T, S) out; cost : float64 (D, A, T, Q) out;
    due : float64 (D, R, T) out (accumulated)
    """
    n_draws = occupancy.shape[0]
    n_arms = occupancy.shape[1]
    n_states = occupancy.shape[3]
    n_buckets = bucket_keys.shape[0]
    n_participants = site.shape[0]
    for d in prange(n_draws):
        count_diff = np.zeros((n_arms, months + 1, n_states, n_buckets), dtype=np.int64)
        spell_state = np.empty(months + 1, dtype=np.int64)
        spell_start = np.empty(months + 1, dtype=np.int64)
        spell_end = np.empty(months + 1, dtype=np.int64)
        spell_mis = np.empty(months + 1, dtype=np.int64)
        reached = np.empty(oc_state.shape[0], dtype=np.int64)
        hazard_of = np.empty(out_trans.shape[0])
        frailty_par = np.zeros(4)  # Gamma(1/v, v): shape, scale, mean 1, sd sqrt(v)
        if frailty_variance[d] > 0.0:
            frailty_par[0] = 1.0 / frailty_variance[d]
            frailty_par[1] = frailty_variance[d]
            frailty_par[2] = 1.0
            frailty_par[3] = math.sqrt(frailty_variance[d])
        for j in range(n_participants):
            key = participant_key(seed, draw_offset + d, j)
            frailty, prior = participant_attributes(
                key, stream_offset, frailty_par, prior_code, prior_par
            )
            mult_frailty = frailty * site_multiplier[d, site[j]]
            for arm in range(n_arms):
                treated = both_arms and arm == TREATMENT
                n_spells = walk_arm(
                    treated, d, key, stream_offset, entry[j], prior, mult_frailty,
                    initial_state, months, out_start, out_trans, trans_to, base_hazard,
                    trans_frailty, effect_ratio, effect_from, effect_to, trans_economy,
                    economy, state_economy, state_effect, state_hazard, bucket_of,
                    next_key, max_key, spell_state, spell_start, spell_end, spell_mis,
                    hazard_of,
                )
                spells_to_ledger(
                    arm, n_spells, spell_state, spell_start, spell_end, spell_mis,
                    bucket_of, max_key, bucket_keys, cost_next, count_diff,
                )
                if treated and rc_window.shape[0] > 0:
                    rate_card_outcomes(
                        d, entry[j], n_spells, spell_state, spell_start, spell_end,
                        rc_outcome_start, oc_state, oc_cumulative, oc_months, oc_price,
                        rc_window, rc_cap, reached, due,
                    )
        cumulate(d, count_diff, cell_start, cell_pair, cost_rate, occupancy, cost)


@jit(inline="always")
def cumulate(d, count_diff, cell_start, cell_pair, cost_rate, occupancy, cost):
    """Occupancy and cost of draw d from its difference array of counts.

    Month by month, the running count of each (state, bucket) cell changes only where some
    participant entered or left it; the running cost changes by that change times the
    cell's cost rates, for the payer-category pairs a flow of the state reaches. The order
    of the sums is fixed, so the result does not depend on threads.
    """
    n_arms, n_rows, n_states, n_buckets = count_diff.shape
    n_pairs = cost.shape[3]
    for a in range(n_arms):
        count = np.zeros(n_states, dtype=np.int64)
        running = np.zeros(n_pairs)
        for t in range(n_rows - 1):
            for s in range(n_states):
                for b in range(n_buckets):
                    change = count_diff[a, t, s, b]
                    if change == 0:
                        continue
                    count[s] += change
                    cell = s * n_buckets + b
                    for i in range(cell_start[cell], cell_start[cell + 1]):
                        q = cell_pair[i]
                        running[q] += change * cost_rate[d, s, b, q]
            for s in range(n_states):
                occupancy[d, a, t, s] = count[s]
            for q in range(n_pairs):
                cost[d, a, t, q] = running[q]
