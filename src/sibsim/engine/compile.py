"""From a validated scenario and its per-draw values to the kernels' flat arrays.

Two stages: :func:`structure` holds what does not change between draws (state and
transition indices, the months-in-state buckets, participants' sites and entry months), and
:func:`draw_arrays` turns a chunk of :class:`~sibsim.engine.params.ParamValues` into per-draw
hazards, cost rates, multipliers and prices. Everything is contiguous float64 or int64, so
each kernel compiles once.

Months-in-state buckets: every ``by_months_in_state`` table (transition probabilities and
payer shares) changes value only at its keys, so months_in_state matters only through the
bucket [k_b, k_b+1) of the union of all keys. Beyond the largest key nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sibsim.engine.kernels.sampling import CONSTANT, FAMILY_CODES, natural_parameters
from sibsim.engine.rng import GROUP_STREAM_STRIDE, STREAM_ECONOMY, uniform_np
from sibsim.rules import (
    REST,
    TABLE,
    apportion,
    entry_month,
    hazard_from_probability,
    is_table,
    rest_share,
    table_keys,
    table_row,
)

NO_CHANGE = 1 << 40  # "never" for a months_in_state change point


@dataclass(frozen=True)
class Group:
    """Participants simulated together: the treated cohort or one comparison group."""

    size: int
    stream_offset: int
    both_arms: bool
    site: np.ndarray  # int64 (N,)
    entry: np.ndarray  # int64 (N,)

    def enrolled(self, months: int) -> np.ndarray:
        """Participants enrolled by each month, shape (months,)."""
        return np.searchsorted(np.sort(self.entry), np.arange(months), side="right").astype(
            np.int64
        )


@dataclass(frozen=True)
class Structure:
    """The draw-independent layout of a scenario."""

    months: int
    states: list
    payers: list
    categories: list
    sites: list
    initial_state: int
    prior_code: int
    prior_par: np.ndarray
    trans_from: np.ndarray
    trans_to: np.ndarray
    trans_frailty: np.ndarray
    trans_economy: np.ndarray
    effect_from: np.ndarray
    effect_to: np.ndarray
    out_start: np.ndarray
    out_trans: np.ndarray
    state_economy: np.ndarray
    state_effect: np.ndarray
    bucket_keys: np.ndarray
    bucket_of: np.ndarray
    next_key: np.ndarray
    max_key: int
    cost_next: np.ndarray  # int64 (S, B) next bucket where the state's cost rates change
    cell_start: np.ndarray  # int64 (S * B + 1,) sparse rows of reachable payer-category pairs
    cell_pair: np.ndarray  # int64 (nnz,)
    cohort: Group
    comparison: dict  # size -> Group
    rate_cards: list  # indices of rate_card contracts
    rc_outcome_start: np.ndarray
    oc_state: np.ndarray
    oc_cumulative: np.ndarray
    oc_months: np.ndarray
    rc_window: np.ndarray
    programme_enrolled: np.ndarray  # (months,) participants in their programme months


def structure(scenario) -> Structure:
    """Compile the draw-independent layout of ``scenario``."""
    data = scenario.data
    months = data["months"]
    states = list(data["states"])
    state_index = {s: i for i, s in enumerate(states)}
    transitions = data["transitions"]
    n_trans = len(transitions)
    economy = data.get("economy")
    economy_pairs = {tuple(p) for p in economy["transitions"]} if economy else set()

    trans_from = np.array([state_index[t["from"]] for t in transitions], dtype=np.int64)
    trans_to = np.array([state_index[t["to"]] for t in transitions], dtype=np.int64)
    trans_frailty = np.array([int(t["frailty"]) for t in transitions], dtype=np.int64)
    trans_economy = np.array(
        [int((t["from"], t["to"]) in economy_pairs) for t in transitions], dtype=np.int64
    )
    effect_from = np.zeros(n_trans, dtype=np.int64)
    effect_to = np.zeros(n_trans, dtype=np.int64)
    for k, t in enumerate(transitions):
        if t.get("effect"):
            effect_from[k] = t["effect"]["from_month"]
            effect_to[k] = t["effect"]["to_month"]
    order = np.argsort(trans_from, kind="stable")
    out_trans = order.astype(np.int64)
    out_start = np.searchsorted(trans_from[order], np.arange(len(states) + 1)).astype(np.int64)
    has_effect = effect_to > effect_from
    state_economy = np.zeros(len(states), dtype=np.int64)
    state_effect = np.zeros(len(states), dtype=np.int64)
    for k in range(n_trans):
        state_economy[trans_from[k]] |= trans_economy[k]
        state_effect[trans_from[k]] |= int(has_effect[k])

    keys = {0}
    for t in transitions:
        keys.update(table_keys(t["probability"]))
    for flow in data["flows"]:
        for share in flow["split"].values():
            keys.update(table_keys(share))
    bucket_keys = np.array(sorted(keys), dtype=np.int64)
    max_key = int(bucket_keys[-1])
    mis = np.arange(max_key + 1)
    bucket_of = (np.searchsorted(bucket_keys, mis, side="right") - 1).astype(np.int64)
    # Per state: the next months_in_state at which one of its hazards changes. Keys of
    # other states' tables (or of payer shares) need no new hazard sum.
    next_key = np.full((len(states), max_key + 1), NO_CHANGE, dtype=np.int64)
    for t in transitions:
        s = state_index[t["from"]]
        for key in table_keys(t["probability"]):
            below = mis < key
            next_key[s, below] = np.minimum(next_key[s, below], key)

    cell_start, cell_pair = _reachable_pairs(scenario, states, len(bucket_keys))
    # Per state: the buckets where one of its payer-share tables changes value.
    n_buckets = len(bucket_keys)
    cost_next = np.full((len(states), n_buckets), n_buckets, dtype=np.int64)
    for flow in data["flows"]:
        s = state_index[flow["state"]]
        for share in flow["split"].values():
            for key in table_keys(share):
                b_key = int(np.searchsorted(bucket_keys, key))
                for b in range(b_key):
                    cost_next[s, b] = min(cost_next[s, b], b_key)

    cohort_data = data["cohort"]
    sites = list(cohort_data["sites"])
    sizes = [cohort_data["sites"][s]["size"] for s in sites]
    intake = cohort_data["intake_months"]
    cohort = _group(sizes, intake, stream_offset=0, both_arms=True)
    comparison = {}
    for contract in data["contracts"]:
        if contract.get("baseline") == "comparison_group":
            n = contract["comparison_size"]
            if n not in comparison:
                comparison[n] = _group(
                    apportion(n, sizes), intake,
                    stream_offset=GROUP_STREAM_STRIDE * n, both_arms=False,
                )

    prior = cohort_data["prior_months"]
    if isinstance(prior, dict):
        (family, params), = prior.items()
        prior_code, prior_par = FAMILY_CODES[family], natural_parameters(family, params)
    else:
        prior_code, prior_par = CONSTANT, np.array([float(prior), 0.0, 0.0, 0.0])

    rate_cards = [i for i, c in enumerate(data["contracts"]) if c["type"] == "rate_card"]
    oc_state, oc_cumulative, oc_months, starts, windows = [], [], [], [0], []
    for i in rate_cards:
        contract = data["contracts"][i]
        for outcome in contract["outcomes"]:
            oc_state.append(state_index[outcome["state"]])
            cumulative = outcome.get("cumulative_months") is not None
            oc_cumulative.append(int(cumulative))
            oc_months.append(
                outcome["cumulative_months"] if cumulative else outcome["sustained_months"]
            )
        starts.append(len(oc_state))
        window = contract.get("window_months")
        windows.append(-1 if window is None else int(window))

    programme_months = data["programme"]["months"]
    t = np.arange(months)
    entry = cohort.entry
    in_programme = (entry[None, :] <= t[:, None]) & (t[:, None] < entry[None, :] + programme_months)

    return Structure(
        months=months, states=states, payers=list(scenario.payers()),
        categories=list(scenario.categories()), sites=sites,
        initial_state=state_index[cohort_data["initial_state"]],
        prior_code=prior_code, prior_par=np.ascontiguousarray(prior_par, dtype=np.float64),
        trans_from=trans_from, trans_to=trans_to, trans_frailty=trans_frailty,
        trans_economy=trans_economy, effect_from=effect_from, effect_to=effect_to,
        out_start=out_start, out_trans=out_trans, state_economy=state_economy,
        state_effect=state_effect, bucket_keys=bucket_keys, bucket_of=bucket_of,
        next_key=next_key, max_key=max_key, cost_next=cost_next, cell_start=cell_start, cell_pair=cell_pair,
        cohort=cohort, comparison=comparison,
        rate_cards=rate_cards,
        rc_outcome_start=np.array(starts, dtype=np.int64),
        oc_state=np.array(oc_state, dtype=np.int64),
        oc_cumulative=np.array(oc_cumulative, dtype=np.int64),
        oc_months=np.array(oc_months, dtype=np.int64),
        rc_window=np.array(windows, dtype=np.int64),
        programme_enrolled=in_programme.sum(axis=1).astype(np.int64),
    )


def _reachable_pairs(scenario, states: list, n_buckets: int):
    """Sparse rows: for each (state, bucket) cell, the payer-category pairs a flow reaches."""
    payers = list(scenario.payers())
    categories = list(scenario.categories())
    cells = [set() for _ in range(len(states) * n_buckets)]
    for flow in scenario.data["flows"]:
        s = states.index(flow["state"])
        c = categories.index(flow["category"])
        for payer in flow["split"]:
            q = payers.index(payer) * len(categories) + c
            for b in range(n_buckets):
                cells[s * n_buckets + b].add(q)
    cell_start = np.zeros(len(cells) + 1, dtype=np.int64)
    cell_start[1:] = np.cumsum([len(c) for c in cells])
    cell_pair = np.array([q for c in cells for q in sorted(c)], dtype=np.int64)
    return cell_start, cell_pair


def _group(sizes: list[int], intake: int, *, stream_offset: int, both_arms: bool) -> Group:
    site = np.concatenate(
        [np.full(n, i, dtype=np.int64) for i, n in enumerate(sizes)] or [np.zeros(0, np.int64)]
    )
    entry = np.concatenate(
        [entry_month(np.arange(n, dtype=np.int64), n, intake) for n in sizes if n > 0]
        or [np.zeros(0, np.int64)]
    )
    return Group(
        size=int(sum(sizes)), stream_offset=stream_offset, both_arms=both_arms,
        site=site, entry=entry.astype(np.int64),
    )


@dataclass(frozen=True)
class DrawArrays:
    """Per-draw arrays of one chunk of draws (D draws)."""

    base_hazard: np.ndarray  # (D, K, B)
    state_hazard: np.ndarray  # (D, S, B, 2) hazard sums of a state: without / with frailty
    effect_ratio: np.ndarray  # (D, K)
    economy: np.ndarray  # (D, T)
    site_multiplier: np.ndarray  # (D, n_sites)
    frailty_variance: np.ndarray  # (D,)
    cost_rate: np.ndarray  # (D, S, B, P * C)
    oc_price: np.ndarray  # (D, O)
    rc_cap: np.ndarray  # (D, R)
    programme_cost: np.ndarray  # (D, T)
    discount: np.ndarray  # (D, T)


def value_by_bucket(value, path: str, values, bucket_keys: np.ndarray) -> np.ndarray:
    """Per-draw value of a number or step table in each bucket, shape (D, B).

    A table's value in bucket b is its entry at the largest key not above the bucket's
    first month.
    """
    n_draws = len(values.draws)
    if not is_table(value):
        return np.repeat(values.get(path)[:, None], len(bucket_keys), axis=1)
    rows = value[TABLE]
    row_of_bucket = table_row(table_keys(value), bucket_keys)
    columns = [values.get(f"{path}.{TABLE}[{i}][1]") for i in range(len(rows))]
    out = np.empty((n_draws, len(bucket_keys)))
    for b, i in enumerate(row_of_bucket):
        out[:, b] = columns[i]
    return out


def draw_arrays(scenario, st: Structure, values, seed: int) -> DrawArrays:
    """Per-draw arrays for the draws in ``values``."""
    data = scenario.data
    draws = values.draws
    n_draws = len(draws)
    months = st.months
    n_buckets = len(st.bucket_keys)

    transitions = data["transitions"]
    base_hazard = np.empty((n_draws, len(transitions), n_buckets))
    effect_ratio = np.ones((n_draws, len(transitions)))
    for k, t in enumerate(transitions):
        p = value_by_bucket(t["probability"], f"transitions[{k}].probability", values, st.bucket_keys)
        base_hazard[:, k, :] = hazard_from_probability(p)
        if t.get("effect"):
            effect_ratio[:, k] = values.get(f"transitions[{k}].effect.ratio")

    # The hazards out of each state summed once per draw and bucket, in listing order, for
    # the stretches where only frailty multiplies them (no effect, no economy shock).
    n_states = len(st.states)
    state_hazard = np.zeros((n_draws, n_states, n_buckets, 2))
    for s in range(n_states):
        for k in st.out_trans[st.out_start[s]:st.out_start[s + 1]]:
            state_hazard[:, s, :, int(st.trans_frailty[k])] += base_hazard[:, k, :]

    economy = np.ones((n_draws, months))
    if data.get("economy"):
        sd = values.get("economy.shock_sd")[:, None]
        rho = values.get("economy.shock_persistence")[:, None]
        z = ndtri(uniform_np(seed, draws[:, None], 0, np.arange(months)[None, :], STREAM_ECONOMY))
        x = np.empty((n_draws, months))
        x[:, 0] = sd[:, 0] * z[:, 0]
        innovation = sd[:, 0] * np.sqrt(1.0 - rho[:, 0] ** 2)
        for t in range(1, months):
            x[:, t] = rho[:, 0] * x[:, t - 1] + innovation * z[:, t]
        economy = np.exp(x)

    site_multiplier = np.stack(
        [values.get(f"cohort.sites.{name}.multiplier") for name in st.sites], axis=1
    )
    frailty_variance = values.get("cohort.frailty_variance").copy()

    state_index = {s: i for i, s in enumerate(st.states)}
    payer_index = {p: i for i, p in enumerate(st.payers)}
    category_index = {c: i for i, c in enumerate(st.categories)}
    n_cat = len(st.categories)
    cost_rate = np.zeros((n_draws, len(st.states), n_buckets, len(st.payers) * n_cat))
    for f, flow in enumerate(data["flows"]):
        amount = values.get(f"flows[{f}].monthly")[:, None]
        s, c = state_index[flow["state"]], category_index[flow["category"]]
        assigned = np.zeros((n_draws, n_buckets))
        rest_payer = None
        for payer, share in flow["split"].items():
            if share == REST:
                rest_payer = payer
                continue
            portion = value_by_bucket(share, f"flows[{f}].split.{payer}", values, st.bucket_keys)
            assigned += portion
            cost_rate[:, s, :, payer_index[payer] * n_cat + c] += amount * portion
        if rest_payer is not None:
            cost_rate[:, s, :, payer_index[rest_payer] * n_cat + c] += amount * rest_share(assigned)

    prices, caps = [], []
    for i in st.rate_cards:
        contract = data["contracts"][i]
        for o in range(len(contract["outcomes"])):
            prices.append(values.get(f"contracts[{i}].outcomes[{o}].price"))
        if contract.get("cap_per_participant") is None:
            caps.append(np.full(n_draws, np.inf))
        else:
            caps.append(values.get(f"contracts[{i}].cap_per_participant"))
    oc_price = np.stack(prices, axis=1) if prices else np.zeros((n_draws, 0))
    rc_cap = np.stack(caps, axis=1) if caps else np.zeros((n_draws, 0))

    programme = data["programme"]
    per_month = values.get("programme.cost_per_participant") / programme["months"]
    programme_cost = per_month[:, None] * st.programme_enrolled[None, :].astype(np.float64)
    programme_cost[:, 0] += values.get("programme.fixed_cost")

    rate = values.get("discount_rate")[:, None]
    discount = (1.0 + rate) ** (-np.arange(months)[None, :] / 12.0)

    return DrawArrays(
        base_hazard=np.ascontiguousarray(base_hazard),
        state_hazard=state_hazard,
        effect_ratio=np.ascontiguousarray(effect_ratio),
        economy=np.ascontiguousarray(economy),
        site_multiplier=np.ascontiguousarray(site_multiplier, dtype=np.float64),
        frailty_variance=np.ascontiguousarray(frailty_variance, dtype=np.float64),
        cost_rate=np.ascontiguousarray(cost_rate),
        oc_price=np.ascontiguousarray(oc_price, dtype=np.float64),
        rc_cap=np.ascontiguousarray(rc_cap, dtype=np.float64),
        programme_cost=programme_cost,
        discount=discount,
    )
