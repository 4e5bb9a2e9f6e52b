"""A slow, plain-Python reference implementation of the trajectory model.

It walks every participant month by month, reads probabilities and payer shares straight
from the scenario's tables (not from the compiled arrays), and uses the same random numbers
as the kernel, so the two must agree draw for draw: occupancy counts and rate-card outcome
months exactly, costs up to summation order.

The model, month by month (docs/methodology.rst): in month t a participant in state s with
months_in_state m has, for each transition k out of s, h_k = -ln(1 - p_k(m)) x hazard_scale x
multipliers (frailty and site, and in the treatment arm the effect ratio ** w(months since
entry), w the fading weight of :func:`sibsim.rules.fading_weight`);
the spell's cumulative hazard grows by H = sum_k h_k, and the participant leaves at the end
of the first month in which it reaches the spell's threshold E ~ Exp(1) (drawn by the same
``rng.exponential_at`` as the kernel, which tests/test_engine.py checks against Exp(1)).

It shares with the engine only the one-line model rules of :mod:`sibsim.rules` (the step
table's row, the hazard of a probability, the "rest" share, the entry month, the
apportioning of a comparison group), the key-path writer, the generator and the samplers.
"""

from __future__ import annotations

import math

import numpy as np

from sibsim.engine import compile as comp
from sibsim.engine.kernels import sampling
from sibsim.engine.params import sample_parameters
from sibsim.engine.rng import (
    GROUP_STREAM_STRIDE,
    STREAM_DESTINATION,
    STREAM_FRAILTY,
    STREAM_PRIOR,
    STREAM_SPELL,
    exponential_at,
    participant_key,
    uniform_np,
)
from sibsim.rules import (
    REST,
    TABLE,
    apportion,
    entry_month,
    fading_weight,
    hazard_from_probability,
    is_table,
    rest_share,
    table_keys,
    table_row,
)
from sibsim.scenario.keypath import format_path


def table_value(value, parts, values, d, months_in_state):
    """Per-draw value of a number or step table at ``months_in_state``."""
    if is_table(value):
        row = int(table_row(table_keys(value), months_in_state))
        return values.get(format_path((*parts, TABLE, row, 1)))[d]
    return values.get(format_path(parts))[d]


def uniform(seed, draw, participant, month, stream):
    return float(uniform_np(seed, draw, participant, month, stream))


def hazards(data, values, d, state, months_in_state, treated, months_since_entry, month,
            multiplier, economy):
    """List of (transition index, hazard) out of ``state`` in listing order."""
    out = []
    for k, transition in enumerate(data["transitions"]):
        if transition["from"] != state:
            continue
        p = table_value(transition["probability"], ("transitions", k, "probability"), values, d, months_in_state)
        h = float(hazard_from_probability(p))
        if transition.get("hazard_scale") is not None:
            scale = values.get(format_path(("transitions", k, "hazard_scale")))[d]
            h = 0.0 if scale == 0.0 else h * scale
        if h == 0.0:
            out.append((k, 0.0))
            continue
        m = 1.0
        if transition["frailty"]:
            m *= multiplier
        effect = transition.get("effect")
        if treated and effect and effect["from_month"] <= months_since_entry < effect["to_month"]:
            m *= effect_multiplier(effect, ("transitions", k, "effect"), values, d,
                                   months_since_entry)
        if economy is not None and [transition["from"], transition["to"]] in [list(p) for p in data["economy"]["transitions"]]:
            m *= economy[d, month]
        out.append((k, 0.0 if m == 0.0 else h * m))
    return out


def effect_multiplier(effect, parts, values, d, months_since_entry):
    """ratio ** w(m): the effect ratio, fading after fade_from_month where it has a half-life."""
    ratio = values.get(format_path((*parts, "ratio")))[d]
    if effect.get("half_life_months") is None:
        return ratio
    fade = effect["from_month"] if effect.get("fade_from_month") is None \
        else effect["fade_from_month"]
    half_life = values.get(format_path((*parts, "half_life_months")))[d]
    return ratio ** float(fading_weight(months_since_entry, fade, half_life))


def flow_costs(data, values, d, state, months_in_state, payers, categories):
    """Public cost of one participant-month, shape (payers, categories)."""
    out = np.zeros((len(payers), len(categories)))
    for f, flow in enumerate(data["flows"]):
        if flow["state"] != state:
            continue
        amount = values.get(format_path(("flows", f, "monthly")))[d]
        c = categories.index(flow["category"])
        assigned = 0.0
        rest = None
        for payer, share in flow["split"].items():
            if share == REST:
                rest = payer
                continue
            portion = table_value(share, ("flows", f, "split", payer), values, d, months_in_state)
            assigned += portion
            out[payers.index(payer), c] += amount * portion
        if rest is not None:
            out[payers.index(rest), c] += amount * rest_share(assigned)
    return out


def economy_multipliers(scenario, values, seed):
    """Same AR(1) as the engine (its arithmetic is not what this reference checks)."""
    if not scenario.data.get("economy"):
        return None
    return comp.economy_multipliers(scenario.data, values, seed, scenario.data["months"])


def participants(data, group):
    """(site name, entry month) of each participant of the cohort or a comparison group.

    Participants are numbered site by site; a comparison group of size n is spread over the
    sites in proportion to their sizes, and enters on the same intake schedule.
    """
    sites = data["cohort"]["sites"]
    sizes = [site["size"] for site in sites.values()]
    if group != "cohort":
        sizes = apportion(group, sizes)
    intake = data["cohort"]["intake_months"]
    return [(name, int(entry_month(j, n, intake)))
            for name, n in zip(sites, sizes) for j in range(n)]


def prior_months_sampler(scenario):
    """The prior months' sampler code and parameters (the numba samplers draw them here; the
    engine draws them with their numpy twins)."""
    return comp.compile_scenario(scenario).prior_months


def simulate_reference(scenario, draws, seed, *, group="cohort"):
    """Reference occupancy counts, costs and rate-card payments due.

    Parameters
    ----------
    group : "cohort" or int
        The treated cohort (both arms) or the comparison group of that size.

    Returns
    -------
    dict with ``occupancy`` (D, arms, T, S) counts, ``cost`` (D, arms, T, P, C) and
    ``due`` (D, R, T) for the cohort.
    """
    data = scenario.data
    values = sample_parameters(scenario, np.arange(draws), seed)
    economy = economy_multipliers(scenario, values, seed)
    T = data["months"]
    states = list(data["states"])
    payers, categories = list(scenario.payers()), list(scenario.categories())
    both_arms = group == "cohort"
    offset = 0 if both_arms else GROUP_STREAM_STRIDE * group
    who = participants(data, group)
    n_arms = 2 if both_arms else 1
    occupancy = np.zeros((draws, n_arms, T, len(states)))
    cost = np.zeros((draws, n_arms, T, len(payers), len(categories)))
    rate_cards = [c for c in data["contracts"] if c["type"] == "rate_card"]
    due = np.zeros((draws, len(rate_cards), T))
    prior_code, prior_par = prior_months_sampler(scenario)
    for d in range(draws):
        frailty_variance = values.get("cohort.frailty_variance")[d]
        for j, (site, entry) in enumerate(who):
            key = np.uint64(participant_key(np.uint64(seed), d, j))
            frailty = 1.0
            if frailty_variance > 0:
                # A subnormal variance has shape 1/v = inf, as in the kernel (where numba
                # does not warn); the gamma sampler then gives frailty 1.
                with np.errstate(over="ignore"):
                    shape = 1.0 / frailty_variance
                par = np.array([shape, frailty_variance, 1.0, np.sqrt(frailty_variance)])
                frailty = sampling.sample(sampling.GAMMA, par, key, STREAM_FRAILTY + offset)
            x = sampling.sample(prior_code, prior_par, key, STREAM_PRIOR + offset)
            prior_months = int(np.rint(x)) if x > 0 else 0
            site_path = format_path(("cohort", "sites", site, "multiplier"))
            multiplier = frailty * values.get(site_path)[d]
            for arm in range(n_arms):
                treated = both_arms and arm == 0
                path = walk(data, values, d, seed, j, offset, entry, prior_months,
                            multiplier, treated, economy, T)
                for t, (state, months_in_state) in path.items():
                    occupancy[d, arm, t, states.index(state)] += 1
                    cost[d, arm, t] += flow_costs(data, values, d, state, months_in_state, payers, categories)
                if treated:
                    for r, contract in enumerate(rate_cards):
                        index = data["contracts"].index(contract)
                        pay_outcomes(contract, index, values, d, entry, path, due[d, r])
    return {"occupancy": occupancy, "cost": cost, "due": due}


def walk(data, values, d, seed, j, offset, entry, prior_months, multiplier, treated, economy, T):
    """The participant's {month: (state, months_in_state)} from entry to the horizon."""
    state = data["cohort"]["initial_state"]
    months_in_state = prior_months
    path = {}
    key = np.uint64(participant_key(np.uint64(seed), d, j))
    threshold = exponential_at(key, entry, STREAM_SPELL + offset)
    cumulative = 0.0
    for t in range(entry, T):
        path[t] = (state, months_in_state)
        hazards_out = hazards(data, values, d, state, months_in_state, treated, t - entry, t,
                              multiplier, economy)
        total = sum_in_order(h for _, h in hazards_out)
        if total > 0.0:
            cumulative += total
        if total > 0.0 and cumulative >= threshold:
            u = uniform(seed, d, j, t, STREAM_DESTINATION + offset)
            k = destination(hazards_out, u)
            state = data["transitions"][k]["to"]
            months_in_state = 0
            if t + 1 < T:
                threshold = exponential_at(key, t + 1, STREAM_SPELL + offset)
            cumulative = 0.0
        else:
            months_in_state += 1
    return path


def sum_in_order(hazards_out):
    total = 0.0
    for h in hazards_out:
        total += h
    return total


def destination(hazards_out, u):
    certain = [k for k, h in hazards_out if h == math.inf]
    if certain:
        return certain[min(int(u * len(certain)), len(certain) - 1)]
    total = sum_in_order(h for _, h in hazards_out)
    running = 0.0
    chosen = None
    for k, h in hazards_out:
        if h > 0.0:
            chosen = k
            running += h
            if u * total < running:
                return k
    return chosen


def pay_outcomes(contract, index, values, d, entry, path, due_row):
    """Rate-card payments due for one participant, straight from the monthly states."""
    reached = []
    for o, outcome in enumerate(contract["outcomes"]):
        run = 0
        count = 0
        month = None
        for t in sorted(path):
            in_state = path[t][0] == outcome["state"]
            run = run + 1 if in_state else 0
            count += in_state
            if outcome.get("sustained_months") is not None and run == outcome["sustained_months"]:
                month = t
                break
            if outcome.get("cumulative_months") is not None and count == outcome["cumulative_months"]:
                month = t
                break
        window = contract.get("window_months")
        if month is not None and (window is None or month - entry <= window):
            reached.append((month, o))
    cap = contract.get("cap_per_participant")
    remaining = (math.inf if cap is None
                 else values.get(format_path(("contracts", index, "cap_per_participant")))[d])
    for month, o in sorted(reached):
        price = values.get(format_path(("contracts", index, "outcomes", o, "price")))[d]
        amount = min(price, remaining)
        if amount > 0:
            due_row[month] += amount
            remaining -= amount
