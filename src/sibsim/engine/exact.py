"""Exact expected occupancy and costs of the treated cohort, without sampling.

The participant model is run as an exact Markov chain (:mod:`sibsim.engine.chain`) and
averaged over

- frailty, by a double-exponential (exp-sinh) trapezoid rule for the gamma distribution
  (:func:`frailty_quadrature`); and
- prior months, by the exact distribution of the rounded, clipped ``prior_months`` with
  everything at or beyond ``K`` lumped into ``K`` (:func:`prior_months_weights`),

with every per-draw distribution at its mean and no economy shock. The equations, and the
accuracy of the frailty rule, are in ``docs/exact.rst``.

The public functions are :func:`share_by_months_since_entry`, :func:`expected_occupancy`,
:func:`expected_share` (the ``calibrate`` target) and :func:`historical_baseline` (the
``historical`` baseline of gain-share and effect-tier contracts); the chain and its
quadratures are re-exported from :mod:`sibsim.engine.chain`.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from sibsim.engine.chain import (
    FRAILTY_NODES,
    Chain,
    central,
    frailty_quadrature,
    max_months_in_state,
    prior_months_weights,
    value_by_months_in_state,
)
from sibsim.engine.ledger import HistoricalBaseline
from sibsim.rules import ARMS, REST, entrants_by_month, rest_share
from sibsim.scenario import Scenario, load_scenario

__all__ = [
    "FRAILTY_NODES",
    "Chain",
    "expected_occupancy",
    "expected_share",
    "frailty_quadrature",
    "historical_baseline",
    "max_months_in_state",
    "prior_months_weights",
    "share_by_months_since_entry",
]


def _scenario_of(scenario: Any) -> Scenario:
    """The validated scenario (anything else is read by ``load_scenario``)."""
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def _check_arm(arm: str) -> str:
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {', '.join(map(repr, ARMS))}, got {arm!r}")
    return arm


# ----------------------------------------------------------------------------------------
# Expectations over the cohort
# ----------------------------------------------------------------------------------------


def _sites(data: Mapping) -> list[tuple[str, int, float]]:
    """(name, size, central multiplier) of each site, in scenario order."""
    return [
        (name, int(site["size"]), central(site["multiplier"]))
        for name, site in data["cohort"]["sites"].items()
    ]


def _distribution_by_site(data: Mapping, arm: str, months: int) -> np.ndarray:
    """Expected (state, capped months_in_state) distribution per site.

    Returns
    -------
    ndarray, shape (sites, months, states, K + 1)
        Averaged over frailty and prior months, at months since entry 0..months-1.
    """
    treatment = _check_arm(arm) == "treatment"
    chain = Chain.from_data(data)
    cohort = data["cohort"]
    cap = chain.max_months_in_state
    initial = np.zeros((len(chain.states), cap + 1))
    initial[chain.initial_state] = prior_months_weights(cohort["prior_months"], cap)
    if chain.uses_frailty:
        frailty, weights = frailty_quadrature(central(cohort["frailty_variance"]))
    else:
        frailty, weights = np.ones(1), np.ones(1)
    by_multiplier: dict[float, np.ndarray] = {}
    out = []
    for _, _, multiplier in _sites(data):
        if not chain.uses_frailty:
            multiplier = 1.0  # the site multiplier acts on frailty transitions only
        if multiplier not in by_multiplier:
            by_multiplier[multiplier] = chain.forward(
                months=months,
                initial=initial,
                frailty=frailty,
                weights=weights,
                site_multiplier=multiplier,
                treatment=treatment,
            )
        out.append(by_multiplier[multiplier])
    return np.stack(out)


def _occupancy_by_months_in_state(data: Mapping, arm: str) -> np.ndarray:
    """Expected enrolled count in each (state, capped months_in_state), per calendar month.

    Returns
    -------
    ndarray, shape (months, states, K + 1)
    """
    months = data["months"]
    by_site = _distribution_by_site(data, arm, months)
    occupancy = np.zeros(by_site.shape[1:])
    intake = data["cohort"]["intake_months"]
    for (_, size, _), distribution in zip(_sites(data), by_site):
        for entry, count in enumerate(entrants_by_month(size, intake)):
            if count and entry < months:
                occupancy[entry:] += count * distribution[: months - entry]
    return occupancy


def share_by_months_since_entry(scenario: Any, *, arm: str = "counterfactual") -> xr.DataArray:
    """Expected share of a site's participants in each state, by months since entry.

    Exact (no sampling): averaged over frailty and prior months, with every per-draw
    distribution at its mean and no economy shock. The share does not depend on the entry
    month, so it is the same for every participant of a site.

    Parameters
    ----------
    scenario : sibsim.Scenario or anything sibsim.load_scenario accepts
        The scenario (a built-in name, a path, a dict or TOML text is loaded first).
    arm : {"counterfactual", "treatment"}, optional
        With or without the effects.

    Returns
    -------
    xarray.DataArray
        Dims (site, months_since_entry, state), months_since_entry = 0..months-1; shares
        over the states sum to 1.

    Examples
    --------
    >>> import sibsim
    >>> from sibsim.engine.exact import share_by_months_since_entry
    >>> share = share_by_months_since_entry(sibsim.load_scenario("danish-pilot"))
    >>> round(float(share.sel(site="Viborg", months_since_entry=0, state="benefits")), 12)
    1.0
    """
    data = _scenario_of(scenario).data
    months = data["months"]
    shares = _distribution_by_site(data, arm, months).sum(axis=-1)
    return xr.DataArray(
        shares,
        dims=("site", "months_since_entry", "state"),
        coords={
            "site": [name for name, _, _ in _sites(data)],
            "months_since_entry": np.arange(months),
            "state": list(data["states"]),
        },
        name="share",
        attrs={
            "units": "1",
            "long_name": "expected share of a site's participants in each state",
            "arm": arm,
        },
    )


def expected_occupancy(scenario: Any, *, arm: str) -> np.ndarray:
    """Expected number of enrolled treated-cohort participants in each state and month.

    Sum over participants j of the share of their site at months since entry t - e_j, for
    t >= e_j (e_j the entry month); participants not yet enrolled count nowhere.

    Parameters
    ----------
    scenario : sibsim.Scenario or anything sibsim.load_scenario accepts
        The scenario (a built-in name, a path, a dict or TOML text is loaded first).
    arm : {"counterfactual", "treatment"}
        With or without the effects.

    Returns
    -------
    ndarray, shape (months, states)
        Expected counts; each row sums to the number of participants enrolled by then.

    Examples
    --------
    >>> import sibsim
    >>> from sibsim.engine.exact import expected_occupancy
    >>> occupancy = expected_occupancy(sibsim.load_scenario("danish-pilot"), arm="treatment")
    """
    return _occupancy_by_months_in_state(_scenario_of(scenario).data, arm).sum(axis=-1)


def expected_share(scenario: Any, *, state: str, arm: str, months_since_entry: int) -> float:
    """Expected share in ``state`` among participants at ``months_since_entry`` (calibrate).

    Pooled over sites, counting only participants whose entry month plus
    ``months_since_entry`` lies within the horizon (at most ``months - 1``). Exact: over
    frailty and prior months, every distribution at its mean, no economy shock.

    Parameters
    ----------
    scenario : sibsim.Scenario or anything sibsim.load_scenario accepts
        The scenario (a built-in name, a path, a dict or TOML text is loaded first).
    state : str
        One of the scenario's states.
    arm : {"counterfactual", "treatment"}
        With or without the effects.
    months_since_entry : int
        Months since entry, 0 <= months_since_entry <= months - 1.

    Returns
    -------
    float
        The expected share, in [0, 1].

    Raises
    ------
    ValueError
        For an unknown state or arm, or ``months_since_entry`` outside 0..months-1.

    Examples
    --------
    >>> import sibsim
    >>> from sibsim.engine.exact import expected_share
    >>> scenario = sibsim.load_scenario("danish-pilot")
    >>> share = expected_share(
    ...     scenario, state="employed", arm="counterfactual", months_since_entry=14
    ... )
    """
    data = _scenario_of(scenario).data
    states = list(data["states"])
    if state not in states:
        raise ValueError(f"state must be one of {states}, got {state!r}")
    m = operator.index(months_since_entry)
    months = data["months"]
    if not 0 <= m <= months - 1:
        raise ValueError(f"months_since_entry must lie in 0..{months - 1}, got {m}")
    by_site = _distribution_by_site(data, arm, m + 1)[:, m].sum(axis=-1)  # (sites, states)
    intake = data["cohort"]["intake_months"]
    eligible = np.array(
        [entrants_by_month(size, intake)[: months - m].sum() for _, size, _ in _sites(data)]
    )
    if eligible.sum() == 0:
        raise ValueError(
            f"no participant reaches months_since_entry={m} within the horizon of {months} months"
        )
    return float(eligible @ by_site[:, states.index(state)] / eligible.sum())


def _payer_shares(split: Mapping, cap: int) -> dict[str, np.ndarray]:
    """Central share of each payer at months_in_state 0..K; ``"rest"`` is 1 - the others."""
    shares = {payer: value_by_months_in_state(s, cap) for payer, s in split.items() if s != REST}
    for payer, share in split.items():
        if share == REST:
            shares[payer] = rest_share(sum(shares.values(), np.zeros(cap + 1)))
    return shares


def historical_baseline(scenario: Any) -> HistoricalBaseline:
    """The historical baseline: the expected counterfactual at central values.

    Exact (no sampling): over frailty and prior months, every per-draw distribution at its
    mean, no economy shock. Each flow costs its ``monthly`` amount per participant-month in
    its state, split over payers by its shares at the participant's months in state.

    Parameters
    ----------
    scenario : sibsim.Scenario or anything sibsim.load_scenario accepts
        The scenario (a built-in name, a path, a dict or TOML text is loaded first).

    Returns
    -------
    sibsim.engine.ledger.HistoricalBaseline
        ``occupancy`` (months, states): expected enrolled treated-cohort participants in each
        state; ``cost`` (months, payers, categories): their expected undiscounted public
        cost, payers in ``scenario.payers()`` order and categories in
        ``scenario.categories()`` order.

    Examples
    --------
    >>> import sibsim
    >>> from sibsim.engine.exact import historical_baseline
    >>> baseline = historical_baseline(sibsim.load_scenario("danish-pilot"))
    >>> baseline.cost.shape  # (months, payers, categories)
    (120, 3, 6)
    """
    scenario = _scenario_of(scenario)
    data = scenario.data
    payers, categories = scenario.payers(), scenario.categories()
    cap = max_months_in_state(data)
    occupancy = _occupancy_by_months_in_state(data, "counterfactual")  # (months, states, K+1)
    states = list(data["states"])
    cost = np.zeros((data["months"], len(payers), len(categories)))
    for flow in data["flows"]:
        in_state = occupancy[:, states.index(flow["state"]), :]  # (months, K+1)
        monthly = central(flow["monthly"])
        category = categories.index(flow["category"])
        for payer, share in _payer_shares(flow["split"], cap).items():
            cost[:, payers.index(payer), category] += monthly * (in_state @ share)
    return HistoricalBaseline(occupancy=occupancy.sum(axis=-1), cost=cost)
