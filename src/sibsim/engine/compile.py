"""From a validated scenario and its per-draw values to the kernels' records.

Two stages: :func:`compile_scenario` holds what does not change between draws (state and
transition indices, the months-in-state buckets, participants' sites and entry months, the
rate-card outcomes), and :func:`draw_arrays` turns a chunk of
:class:`~sibsim.engine.params.ParamValues` into per-draw hazards, cost rates, multipliers and
prices. The records are declared in :mod:`sibsim.engine.records`; every array is contiguous
float64 or int64, so each kernel compiles once.

Months-in-state buckets: every ``by_months_in_state`` table (transition probabilities and
payer shares) changes value only at its keys, so months_in_state matters only through the
bucket [k_b, k_b+1) of the union of all keys. Beyond the largest key nothing changes.

What the engine knows of contract types is gathered in three functions at the top:
:func:`outcome_contracts`, :func:`comparison_group_sizes` and
:func:`needs_historical_baseline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sibsim import contracts, rules
from sibsim.engine.records import (
    DrawArrays,
    Group,
    LedgerCells,
    MonthsInState,
    RateCards,
    TransitionLayout,
)
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
from sibsim.scenario import CONSTANT_CODE, FAMILY_CODES, natural_parameters

NO_CHANGE = 1 << 40  # "never" for a months_in_state change point


# ----------------------------------------------------------------------------------------
# What the engine asks of contract types
# ----------------------------------------------------------------------------------------


def outcome_contracts(data: Mapping) -> list[int]:
    """Contracts whose outcomes the kernel detects participant by participant.

    These are the rate cards: their payments are reached by single participants' spells,
    so the trajectory kernel finds them (``RateCards``, ``Ledger.rate_card_due``).

    Parameters
    ----------
    data : mapping
        The normalised scenario (``Scenario.data``).

    Returns
    -------
    list of int
        Indices in ``data["contracts"]``, in listing order.
    """
    return [i for i, contract in enumerate(data["contracts"])
            if contracts.needs_outcome_detection(contract)]


def comparison_group_sizes(data: Mapping) -> list[int]:
    """Sizes of the comparison groups that some contract measures against.

    Parameters
    ----------
    data : mapping
        The normalised scenario (``Scenario.data``).

    Returns
    -------
    list of int
        Each size once, in the order of first use.
    """
    sizes: list[int] = []
    for contract in data["contracts"]:
        size = contracts.comparison_size(contract)
        if size is not None and size not in sizes:
            sizes.append(size)
    return sizes


def needs_historical_baseline(data: Mapping) -> bool:
    """True when some contract measures against the historical (exact) baseline.

    Parameters
    ----------
    data : mapping
        The normalised scenario (``Scenario.data``).

    Returns
    -------
    bool
    """
    return any(contracts.needs_historical_baseline(contract) for contract in data["contracts"])


# ----------------------------------------------------------------------------------------
# The draw-independent layout
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledScenario:
    """The draw-independent form of a scenario: its names and the kernels' records.

    Attributes
    ----------
    months : int
        The horizon T.
    states, payers, categories, sites : list of str
        Names in the order of the kernels' indices (and of the results' coordinates).
    transitions : TransitionLayout
    buckets : MonthsInState
    cells : LedgerCells
    rate_cards : RateCards
    rate_card_contracts : list of int
        Index in ``data["contracts"]`` of rate card r of ``rate_cards``.
    cohort : Group
        The treated cohort (both arms).
    comparison : dict of int to Group
        The comparison groups, by size (counterfactual arm only).
    prior_months : tuple of (int, ndarray)
        Sampler code and natural parameters (length 4) of every participant's prior months
        (:func:`sibsim.engine.sampling.draw_members`; a constant: the value, then zeros).
    programme_enrolled : ndarray of int64, shape (months,)
        Treated participants in one of their programme months, in each month.
    """

    months: int
    states: list
    payers: list
    categories: list
    sites: list
    transitions: TransitionLayout
    buckets: MonthsInState
    cells: LedgerCells
    rate_cards: RateCards
    rate_card_contracts: list
    cohort: Group
    comparison: dict
    programme_enrolled: np.ndarray
    prior_months: tuple


def compile_scenario(scenario) -> CompiledScenario:
    """Compile the draw-independent layout of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.

    Returns
    -------
    CompiledScenario
    """
    data = scenario._document
    states = list(data["states"])
    state_index = {s: i for i, s in enumerate(states)}
    payers, categories = list(scenario.payers()), list(scenario.categories())
    buckets = months_in_state_buckets(data, state_index)
    cohort_data = data["cohort"]
    sites = list(cohort_data["sites"])
    sizes = [cohort_data["sites"][s]["size"] for s in sites]
    prior = _prior_months_law(cohort_data["prior_months"])
    intake = cohort_data["intake_months"]
    cohort = _group(sizes, intake, stream_offset=0, both_arms=True)
    comparison = {
        n: _group(apportion(n, sizes), intake, stream_offset=GROUP_STREAM_STRIDE * n,
                  both_arms=False)
        for n in comparison_group_sizes(data)
    }
    contracts = outcome_contracts(data)
    return CompiledScenario(
        months=data["months"], states=states, payers=payers, categories=categories,
        sites=sites, transitions=transition_layout(data, state_index), buckets=buckets,
        cells=ledger_cells(data, state_index, payers, categories, len(buckets.keys)),
        rate_cards=rate_card_layout(data, state_index, contracts),
        rate_card_contracts=contracts, cohort=cohort, comparison=comparison,
        programme_enrolled=_programme_enrolled(cohort.entry_month, data), prior_months=prior,
    )


def transition_layout(data: Mapping, state_index: dict) -> TransitionLayout:
    """The transitions grouped by origin, with their multipliers' switches."""
    transitions = data["transitions"]
    n_states, n_trans = len(state_index), len(transitions)
    economy = data.get("economy")
    economy_pairs = {tuple(p) for p in economy["transitions"]} if economy else set()
    origin = np.array([state_index[t["from"]] for t in transitions], dtype=np.int64)
    frailty = np.array([int(t["frailty"]) for t in transitions], dtype=np.int64)
    economy_shock = np.array(
        [int((t["from"], t["to"]) in economy_pairs) for t in transitions], dtype=np.int64
    )
    effect_from = np.zeros(n_trans, dtype=np.int64)
    effect_to = np.zeros(n_trans, dtype=np.int64)
    fade_from = np.zeros(n_trans, dtype=np.int64)
    fades = np.zeros(n_trans, dtype=np.int64)
    for k, t in enumerate(transitions):
        effect = t.get("effect")
        if effect:
            effect_from[k] = effect["from_month"]
            effect_to[k] = effect["to_month"]
            fade = effect.get("fade_from_month")
            fade_from[k] = effect["from_month"] if fade is None else fade
            fades[k] = int(effect.get("half_life_months") is not None)
    order = np.argsort(origin, kind="stable")
    has_effect = effect_to > effect_from
    state_has_shock = np.zeros(n_states, dtype=np.int64)
    state_has_effect = np.zeros(n_states, dtype=np.int64)
    for k in range(n_trans):
        state_has_shock[origin[k]] |= economy_shock[k]
        state_has_effect[origin[k]] |= int(has_effect[k])
    return TransitionLayout(
        months=int(data["months"]),
        initial_state=state_index[data["cohort"]["initial_state"]],
        destination=np.array([state_index[t["to"]] for t in transitions], dtype=np.int64),
        outgoing_start=np.searchsorted(origin[order], np.arange(n_states + 1)).astype(np.int64),
        outgoing=order.astype(np.int64), frailty=frailty, economy_shock=economy_shock,
        effect_from_month=effect_from, effect_to_month=effect_to,
        effect_fade_from_month=fade_from, effect_fades=fades,
        state_has_shock=state_has_shock, state_has_effect=state_has_effect,
    )


def months_in_state_keys(data: Mapping) -> list[int]:
    """0 and every key of every ``by_months_in_state`` table (probabilities and shares).

    Parameters
    ----------
    data : mapping
        The normalised scenario (``Scenario.data``).

    Returns
    -------
    list of int
        Increasing, without repeats; its last entry is K, beyond which no table changes.
    """
    keys = {0}
    for transition in data["transitions"]:
        keys.update(table_keys(transition["probability"]))
    for flow in data["flows"]:
        for share in flow["split"].values():
            keys.update(table_keys(share))
    return sorted(keys)


def months_in_state_buckets(data: Mapping, state_index: dict) -> MonthsInState:
    """The buckets of months_in_state and, per state, where its hazards and costs change."""
    keys = np.array(months_in_state_keys(data), dtype=np.int64)
    last_key = int(keys[-1])
    months_in_state = np.arange(last_key + 1)
    # Per state: the next months_in_state at which one of its hazards changes. Keys of
    # other states' tables (or of payer shares) need no new hazard sum.
    next_hazard_change = np.full((len(state_index), last_key + 1), NO_CHANGE, dtype=np.int64)
    for t in data["transitions"]:
        s = state_index[t["from"]]
        for key in table_keys(t["probability"]):
            below = months_in_state < key
            next_hazard_change[s, below] = np.minimum(next_hazard_change[s, below], key)
    # Per state: the buckets where one of its payer-share tables changes value.
    n_buckets = len(keys)
    next_cost_change = np.full((len(state_index), n_buckets), n_buckets, dtype=np.int64)
    for flow in data["flows"]:
        s = state_index[flow["state"]]
        for share in flow["split"].values():
            for key in table_keys(share):
                bucket_of_key = int(np.searchsorted(keys, key))
                for b in range(bucket_of_key):
                    next_cost_change[s, b] = min(next_cost_change[s, b], bucket_of_key)
    return MonthsInState(
        last_key=last_key, keys=keys,
        bucket_of=np.asarray(table_row(keys, months_in_state), dtype=np.int64),
        next_hazard_change=next_hazard_change, next_cost_change=next_cost_change,
    )


def ledger_cells(data: Mapping, state_index: dict, payers: list, categories: list,
                 n_buckets: int) -> LedgerCells:
    """Sparse rows: for each (state, bucket) cell, the payer-category pairs a flow reaches."""
    cells = [set() for _ in range(len(state_index) * n_buckets)]
    for flow in data["flows"]:
        s = state_index[flow["state"]]
        c = categories.index(flow["category"])
        for payer in flow["split"]:
            q = payers.index(payer) * len(categories) + c
            for b in range(n_buckets):
                cells[s * n_buckets + b].add(q)
    pair_start = np.zeros(len(cells) + 1, dtype=np.int64)
    pair_start[1:] = np.cumsum([len(c) for c in cells])
    pair = np.array([q for c in cells for q in sorted(c)], dtype=np.int64)
    return LedgerCells(pair_start=pair_start, pair=pair)


def rate_card_layout(data: Mapping, state_index: dict, contracts: list[int]) -> RateCards:
    """The outcomes of the rate-card contracts ``contracts``, in listing order."""
    states, cumulative, months, starts, windows = [], [], [], [0], []
    for i in contracts:
        contract = data["contracts"][i]
        for outcome in contract["outcomes"]:
            states.append(state_index[outcome["state"]])
            counts_all = outcome.get("cumulative_months") is not None
            cumulative.append(int(counts_all))
            months.append(outcome["cumulative_months" if counts_all else "sustained_months"])
        starts.append(len(states))
        window = contract.get("window_months")
        windows.append(-1 if window is None else int(window))
    return RateCards(
        outcome_start=np.array(starts, dtype=np.int64),
        outcome_state=np.array(states, dtype=np.int64),
        outcome_cumulative=np.array(cumulative, dtype=np.int64),
        outcome_months=np.array(months, dtype=np.int64),
        window_months=np.array(windows, dtype=np.int64),
    )


def _prior_months_law(prior) -> tuple[int, np.ndarray]:
    """Sampler code and natural parameters of the prior months (a number or a distribution)."""
    if isinstance(prior, dict):
        (family, params), = prior.items()
        return FAMILY_CODES[family], np.ascontiguousarray(natural_parameters(family, params),
                                                          dtype=np.float64)
    return CONSTANT_CODE, np.array([float(prior), 0.0, 0.0, 0.0])


def _group(sizes: list[int], intake: int, *, stream_offset: int, both_arms: bool) -> Group:
    site = np.concatenate(
        [np.full(n, i, dtype=np.int64) for i, n in enumerate(sizes)] or [np.zeros(0, np.int64)]
    )
    entry = np.concatenate(
        [entry_month(np.arange(n, dtype=np.int64), n, intake) for n in sizes if n > 0]
        or [np.zeros(0, np.int64)]
    )
    return Group(
        stream_offset=int(stream_offset), both_arms=bool(both_arms), site=site,
        entry_month=np.ascontiguousarray(entry, dtype=np.int64),
    )


def _programme_enrolled(entry: np.ndarray, data: Mapping) -> np.ndarray:
    """Participants in one of their programme months, in each month (counted by entry month,
    never with an array of participants x months)."""
    programme_months, months = data["programme"]["months"], data["months"]
    starts = np.bincount(entry, minlength=months).astype(np.int64)
    change = np.zeros(len(starts) + programme_months + 1, dtype=np.int64)
    change[:len(starts)] += starts
    change[programme_months:programme_months + len(starts)] -= starts
    return np.cumsum(change)[:months].astype(np.int64)


# ----------------------------------------------------------------------------------------
# Per-draw arrays
# ----------------------------------------------------------------------------------------


def value_by_bucket(value, parts: tuple, values, bucket_keys: np.ndarray) -> np.ndarray:
    """Per-draw value of a number or step table in each bucket, shape (D, B).

    A table's value in bucket b is its entry at the largest key not above the bucket's
    first month.

    Parameters
    ----------
    value : number, distribution or step table
        The normalised value at the key path ``parts``.
    parts : tuple of str or int
        Its key path, as parts (quoted when formatted).
    values : ParamValues
    bucket_keys : ndarray of int64, shape (B,)

    Returns
    -------
    ndarray, shape (D, B)
    """
    n_draws = len(values.draws)
    if not is_table(value):
        return np.repeat(values.at(*parts)[:, None], len(bucket_keys), axis=1)
    rows = value[TABLE]
    row_of_bucket = table_row(table_keys(value), bucket_keys)
    columns = [values.at(*parts, TABLE, i, 1) for i in range(len(rows))]
    out = np.empty((n_draws, len(bucket_keys)))
    for b, i in enumerate(row_of_bucket):
        out[:, b] = columns[i]
    return out


def draw_arrays(scenario, compiled: CompiledScenario, values, seed: int) -> DrawArrays:
    """Per-draw arrays for the draws in ``values`` (consecutive draws of one run).

    Parameters
    ----------
    scenario : Scenario
    compiled : CompiledScenario
        ``compile_scenario(scenario)``.
    values : ParamValues
        The sampled values of draws ``first .. first + D - 1``.
    seed : int
        The run's seed (the economy shock's random numbers, and the kernels').

    Returns
    -------
    DrawArrays
    """
    data = scenario._document
    draws = values.draws
    first_draw = int(draws[0]) if len(draws) else 0
    if not np.array_equal(draws, first_draw + np.arange(len(draws))):
        raise ValueError("draw_arrays: the draws of a chunk must be consecutive")
    keys = compiled.buckets.keys
    base_hazard, effect_ratio, half_life = _hazards(data, values, keys)
    price, cap = _rate_card_values(data, compiled.rate_card_contracts, values)
    return DrawArrays(
        seed=np.uint64(seed), first_draw=first_draw,
        base_hazard=np.ascontiguousarray(base_hazard),
        state_hazard=_state_hazards(compiled.transitions, base_hazard),
        effect_ratio=np.ascontiguousarray(effect_ratio),
        effect_half_life=np.ascontiguousarray(half_life),
        economy_multiplier=np.ascontiguousarray(
            economy_multipliers(data, values, seed, compiled.months)),
        site_multiplier=np.ascontiguousarray(np.stack(
            [values.at("cohort", "sites", name, "multiplier") for name in compiled.sites],
            axis=1), dtype=np.float64),
        frailty_variance=np.ascontiguousarray(values.get("cohort.frailty_variance").copy(),
                                              dtype=np.float64),
        cost_rate=np.ascontiguousarray(_cost_rates(data, compiled, values)),
        outcome_price=np.ascontiguousarray(price, dtype=np.float64),
        cap_per_participant=np.ascontiguousarray(cap, dtype=np.float64),
    )


def _hazards(data: Mapping, values, bucket_keys: np.ndarray):
    """-ln(1 - p) x hazard_scale of each transition in each bucket (D, K, B), the effect
    ratios (D, K) and the effects' half-lives (D, K; inf where an effect does not fade).

    A hazard_scale of 0 switches the transition off, also where p = 1.
    """
    transitions = data["transitions"]
    n_draws = len(values.draws)
    base_hazard = np.empty((n_draws, len(transitions), len(bucket_keys)))
    effect_ratio = np.ones((n_draws, len(transitions)))
    half_life = np.full((n_draws, len(transitions)), np.inf)
    for k, t in enumerate(transitions):
        p = value_by_bucket(t["probability"], ("transitions", k, "probability"), values,
                            bucket_keys)
        base_hazard[:, k, :] = hazard_from_probability(p)
        if t.get("hazard_scale") is not None:
            scale = values.at("transitions", k, "hazard_scale")[:, None]
            with np.errstate(invalid="ignore"):  # inf x 0, replaced by 0
                base_hazard[:, k, :] = np.where(scale == 0.0, 0.0, base_hazard[:, k, :] * scale)
        effect = t.get("effect")
        if effect:
            effect_ratio[:, k] = values.at("transitions", k, "effect", "ratio")
            if effect.get("half_life_months") is not None:
                half_life[:, k] = values.at("transitions", k, "effect", "half_life_months")
    return base_hazard, effect_ratio, half_life


def _state_hazards(transitions: TransitionLayout, base_hazard: np.ndarray) -> np.ndarray:
    """The hazards out of each state summed once per draw and bucket, in listing order.

    For the stretches where only frailty multiplies them (no effect, no economy shock):
    [..., 0] the transitions without frailty, [..., 1] those with.
    """
    n_draws, _, n_buckets = base_hazard.shape
    n_states = len(transitions.outgoing_start) - 1
    state_hazard = np.zeros((n_draws, n_states, n_buckets, 2))
    for s in range(n_states):
        start, stop = transitions.outgoing_start[s], transitions.outgoing_start[s + 1]
        for k in transitions.outgoing[start:stop]:
            state_hazard[:, s, :, int(transitions.frailty[k])] += base_hazard[:, k, :]
    return state_hazard


def economy_multipliers(data: Mapping, values, seed: int, months: int) -> np.ndarray:
    """exp(x_t) of the economy's AR(1) shock, shape (D, months); ones without a shock.

    Parameters
    ----------
    data : mapping
        The normalised scenario.
    values : ParamValues
    seed : int
    months : int

    Returns
    -------
    ndarray, shape (D, months)
    """
    draws = values.draws
    n_draws = len(draws)
    if not data.get("economy"):
        return np.ones((n_draws, months))
    sd = values.get("economy.shock_sd")[:, None]
    rho = values.get("economy.shock_persistence")[:, None]
    z = ndtri(uniform_np(seed, draws[:, None], 0, np.arange(months)[None, :], STREAM_ECONOMY))
    x = np.empty((n_draws, months))
    x[:, 0] = sd[:, 0] * z[:, 0]
    innovation = sd[:, 0] * np.sqrt(1.0 - rho[:, 0] ** 2)
    for t in range(1, months):
        x[:, t] = rho[:, 0] * x[:, t - 1] + innovation * z[:, t]
    return np.exp(x)


def _cost_rates(data: Mapping, compiled: CompiledScenario, values) -> np.ndarray:
    """Public cost of one participant-month per (state, bucket) cell and pair, (D, S, B, Q)."""
    keys = compiled.buckets.keys
    n_draws, n_buckets = len(values.draws), len(keys)
    state_index = {s: i for i, s in enumerate(compiled.states)}
    payer_index = {p: i for i, p in enumerate(compiled.payers)}
    category_index = {c: i for i, c in enumerate(compiled.categories)}
    n_cat = len(compiled.categories)
    cost_rate = np.zeros((n_draws, len(compiled.states), n_buckets, len(compiled.payers) * n_cat))
    for f, flow in enumerate(data["flows"]):
        amount = values.at("flows", f, "monthly")[:, None]
        s, c = state_index[flow["state"]], category_index[flow["category"]]
        assigned = np.zeros((n_draws, n_buckets))
        rest_payer = None
        for payer, share in flow["split"].items():
            if share == REST:
                rest_payer = payer
                continue
            portion = value_by_bucket(share, ("flows", f, "split", payer), values, keys)
            assigned += portion
            cost_rate[:, s, :, payer_index[payer] * n_cat + c] += amount * portion
        if rest_payer is not None:
            cost_rate[:, s, :, payer_index[rest_payer] * n_cat + c] += amount * rest_share(assigned)
    return cost_rate


def _rate_card_values(data: Mapping, contracts: list[int], values):
    """Per-draw outcome prices (D, O) and per-participant caps (D, R; inf without one)."""
    n_draws = len(values.draws)
    prices, caps = [], []
    for i in contracts:
        contract = data["contracts"][i]
        for o in range(len(contract["outcomes"])):
            prices.append(values.at("contracts", i, "outcomes", o, "price"))
        if contract.get("cap_per_participant") is None:
            caps.append(np.full(n_draws, np.inf))
        else:
            caps.append(values.at("contracts", i, "cap_per_participant"))
    price = np.stack(prices, axis=1) if prices else np.zeros((n_draws, 0))
    cap = np.stack(caps, axis=1) if caps else np.zeros((n_draws, 0))
    return price, cap


def programme_cost(data: Mapping, compiled: CompiledScenario, values) -> np.ndarray:
    """Undiscounted programme cost per draw and month, shape (D, months).

    ``fixed_cost`` in month 0 plus ``cost_per_participant / months`` in each programme month
    of a treated participant.

    Parameters
    ----------
    data : mapping
    compiled : CompiledScenario
    values : ParamValues

    Returns
    -------
    ndarray, shape (D, months)
    """
    per_month = values.get("programme.cost_per_participant") / data["programme"]["months"]
    cost = per_month[:, None] * compiled.programme_enrolled[None, :].astype(np.float64)
    cost[:, 0] += values.get("programme.fixed_cost")
    return cost


def discount_factors(values, months: int) -> np.ndarray:
    """(1 + r) ** (-t / 12) for months t, per draw, shape (D, months).

    Parameters
    ----------
    values : ParamValues
    months : int

    Returns
    -------
    ndarray, shape (D, months)
    """
    return rules.discount_factors(values.get("discount_rate"), months)
