"""Exact expected occupancy and costs, without sampling.

The participant model (SPEC sections 2 and 3) is a Markov chain on the pair
(state, months_in_state) once the participant's frailty, site and arm are fixed, and the
months_in_state counter matters only up to ``K``, the largest key of any
``by_months_in_state`` table in the scenario (transition probabilities and payer shares):
beyond it no table changes value. This module runs that chain forward exactly, month by
month, on the capped counter ``min(months_in_state, K)``, and averages over

- frailty, by a double-exponential (exp-sinh) trapezoid rule for the gamma distribution
  (:func:`frailty_quadrature`); and
- prior months, by the exact distribution of the rounded, clipped ``prior_months`` with
  everything at or beyond ``K`` lumped into ``K`` (:func:`prior_months_weights`),

with every per-draw distribution at its mean and no economy shock. The equations, and the
accuracy of the frailty rule, are in ``docs/exact.rst``.

Public functions
----------------
:func:`share_by_months_since_entry`, :func:`expected_occupancy`, :func:`expected_share`
(the ``calibrate`` target) and :func:`historical_baseline` (the ``historical`` baseline of
gain-share and effect-tier contracts).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import optimize, stats
from scipy.special import gammaln

from sibsim.engine.ledger import HistoricalBaseline
from sibsim.rules import (
    ARMS,
    REST,
    TABLE,
    entrants_by_month,
    hazard_from_probability,
    is_table,
    rest_share,
    table_keys,
)
from sibsim.scenario import Scenario, load_scenario
from sibsim.scenario.distributions import Distribution, is_distribution

__all__ = [
    "FRAILTY_NODES",
    "expected_occupancy",
    "expected_share",
    "frailty_quadrature",
    "historical_baseline",
    "prior_months_weights",
    "share_by_months_since_entry",
]


#: Nodes of the frailty quadrature. With 128 nodes the rule integrates E[exp(-c Z)] to
#: 3e-16 (absolute) for frailty variance v <= 1 and 0 <= c <= 1e4, to 2e-14 for v <= 10
#: and c <= 200, and to 7e-9 at v = 10, c = 1e4 (see ``docs/exact.rst``).
FRAILTY_NODES = 128

# Probability mass of the gamma distribution left out of the quadrature range on each side.
_TAIL_MASS = 1e-17


# ----------------------------------------------------------------------------------------
# Numbers at their central values
# ----------------------------------------------------------------------------------------


def _central(number: Any) -> float:
    """A normalised number at its central value: the number itself or the distribution's mean."""
    if is_distribution(number):
        return Distribution.from_spec(number).mean()
    return float(number)


def _by_months_in_state(value: Any, max_months_in_state: int) -> np.ndarray:
    """Central value of a number or step table at months_in_state 0..K, shape (K+1,).

    A table's value at months_in_state c is its entry at the largest key not above c.
    """
    out = np.empty(max_months_in_state + 1)
    if not is_table(value):
        out[:] = _central(value)
        return out
    for key, entry in value[TABLE]:
        out[int(key) :] = _central(entry)
    return out


def _scenario_of(scenario: Any) -> Scenario:
    """The validated scenario (anything else is read by ``load_scenario``)."""
    if isinstance(scenario, Scenario):
        return scenario
    return load_scenario(scenario)


def _check_arm(arm: str) -> str:
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {', '.join(map(repr, ARMS))}, got {arm!r}")
    return arm


def max_months_in_state(data: Mapping) -> int:
    """K: the largest key of any ``by_months_in_state`` table (0 when there is none)."""
    keys = [0]
    for transition in data["transitions"]:
        keys += table_keys(transition["probability"])
    for flow in data["flows"]:
        for share in flow["split"].values():
            keys += table_keys(share)
    return max(keys)


# ----------------------------------------------------------------------------------------
# Frailty and prior months
# ----------------------------------------------------------------------------------------


def frailty_quadrature(
    variance: float, nodes: int = FRAILTY_NODES
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for expectations over a gamma frailty with mean 1.

    Frailty Z = v X with X ~ Gamma(a = 1/v, scale 1). Write x = exp(t - exp(-t)) (a
    double-exponential map of the real line onto (0, inf)) and apply the trapezoid rule in
    t on ``nodes`` equally spaced points between the t of the 1e-17 and 1 - 1e-17 quantiles
    of X. The integrand x^a exp(-x) (1 + exp(-t)) decays double-exponentially at both ends,
    so the rule converges exponentially in ``nodes`` and, unlike Gauss-Laguerre, stays
    accurate for integrands that fall steeply near Z = 0 (long horizons, large hazards,
    large variance). Weights are normalised to sum to 1.

    Parameters
    ----------
    variance : float
        Frailty variance v >= 0. For v = 0 the frailty is 1.
    nodes : int, optional
        Number of quadrature nodes.

    Returns
    -------
    values : ndarray, shape (nodes,) (or (1,) when ``variance == 0``)
        Frailty values Z_i.
    weights : ndarray, same shape
        Weights w_i >= 0 with sum 1, so that E[f(Z)] ~ sum_i w_i f(Z_i).

    Examples
    --------
    >>> z, w = frailty_quadrature(0.5)
    >>> round(float(w @ z), 12), round(float(w @ z**2), 12)
    (1.0, 1.5)
    """
    if variance < 0 or not np.isfinite(variance):
        raise ValueError(f"frailty variance must be a finite number >= 0, got {variance!r}")
    if variance == 0:
        return np.ones(1), np.ones(1)
    shape = 1.0 / variance
    lower = stats.gamma.ppf(_TAIL_MASS, shape)
    if lower > 1e-250:
        log_lower = np.log(lower)
    else:  # P(X < x) ~ x^a / Gamma(a + 1) for small x
        log_lower = (np.log(_TAIL_MASS) + gammaln(shape + 1.0)) / shape
    log_upper = np.log(stats.gamma.isf(_TAIL_MASS, shape))

    def t_of(log_x: float) -> float:
        return optimize.brentq(lambda t: t - np.exp(-t) - log_x, -60.0, 60.0, xtol=1e-14)

    t = np.linspace(t_of(log_lower), t_of(log_upper), nodes)
    log_x = t - np.exp(-t)
    # log of x^a exp(-x) dx/dt up to a constant: a (log u - u + 1) + log(1 + exp(-t)),
    # u = x / a, written so that it stays accurate for large a.
    r = log_x - np.log(shape)
    log_weight = shape * (r - np.expm1(r)) + np.log1p(np.exp(-t))
    weights = np.exp(log_weight - log_weight.max())
    weights /= weights.sum()
    return variance * np.exp(log_x), weights


def prior_months_weights(prior_months: Any, max_months_in_state: int) -> np.ndarray:
    """Distribution of a participant's months_in_state in the entry month, capped at K.

    The months are ``max(rint(X), 0)``. For a distribution X with CDF F,
    P(k) = F(k + 1/2) - F(k - 1/2) for 0 < k < K, P(0) = F(1/2) and, since months in state
    at or beyond K behave identically, P(K) = 1 - F(K - 1/2) (all for K >= 1; for K = 0
    all the mass is at 0).

    Parameters
    ----------
    prior_months : float, dict or Distribution
        A normalised number: a float or a ``{family: {param: value}}`` distribution.
    max_months_in_state : int
        K, the cap.

    Returns
    -------
    ndarray, shape (K + 1,)
        Probabilities of months_in_state 0..K in the entry month.

    Examples
    --------
    >>> prior_months_weights(2.6, 5)
    array([0., 0., 0., 1., 0., 0.])
    """
    cap = max_months_in_state
    weights = np.zeros(cap + 1)
    if not is_distribution(prior_months):
        months = max(int(np.rint(float(prior_months))), 0)
        weights[min(months, cap)] = 1.0
        return weights
    if cap == 0:
        weights[0] = 1.0
        return weights
    distribution = Distribution.from_spec(prior_months).scipy()
    edges = np.arange(cap) + 0.5  # 0.5, 1.5, ..., K - 0.5
    cdf = distribution.cdf(edges)
    weights[0] = cdf[0]
    weights[1:cap] = np.diff(cdf)
    weights[cap] = distribution.sf(edges[-1])
    return weights


# ----------------------------------------------------------------------------------------
# The chain
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    """The transition model of a scenario at central values, as arrays.

    Attributes
    ----------
    states : tuple of str
    initial_state : int
    max_months_in_state : int
        K: months in state are tracked as min(months_in_state, K).
    origin, destination : ndarray of int, shape (transitions,)
    base_hazard : ndarray, shape (transitions, K + 1)
        -ln(1 - p) at each capped months_in_state; ``inf`` where p = 1.
    frailty : ndarray of bool, shape (transitions,)
        Whether frailty and the site multiplier apply.
    effect_ratio : ndarray, shape (transitions,)
        Central effect ratio (1 without an effect).
    effect_from, effect_to : ndarray of int, shape (transitions,)
        The effect window [from_month, to_month) in months since entry (empty without one).
    """

    states: tuple[str, ...]
    initial_state: int
    max_months_in_state: int
    origin: np.ndarray
    destination: np.ndarray
    base_hazard: np.ndarray
    frailty: np.ndarray
    effect_ratio: np.ndarray
    effect_from: np.ndarray
    effect_to: np.ndarray

    @classmethod
    def from_data(cls, data: Mapping) -> Chain:
        """Compile the chain of a normalised scenario dict."""
        states = tuple(data["states"])
        index = {state: i for i, state in enumerate(states)}
        cap = max_months_in_state(data)
        transitions = data["transitions"]
        n = len(transitions)
        base_hazard = np.empty((n, cap + 1))
        effect_ratio = np.ones(n)
        effect_from = np.zeros(n, dtype=np.int64)
        effect_to = np.zeros(n, dtype=np.int64)
        for k, transition in enumerate(transitions):
            probability = _by_months_in_state(transition["probability"], cap)
            base_hazard[k] = hazard_from_probability(probability)  # inf where p = 1
            effect = transition.get("effect")
            if effect:
                effect_ratio[k] = _central(effect["ratio"])
                effect_from[k] = effect["from_month"]
                effect_to[k] = effect["to_month"]
        return cls(
            states=states,
            initial_state=index[data["cohort"]["initial_state"]],
            max_months_in_state=cap,
            origin=np.array([index[t["from"]] for t in transitions], dtype=np.int64),
            destination=np.array([index[t["to"]] for t in transitions], dtype=np.int64),
            base_hazard=base_hazard,
            frailty=np.array([bool(t["frailty"]) for t in transitions], dtype=bool),
            effect_ratio=effect_ratio,
            effect_from=effect_from,
            effect_to=effect_to,
        )

    @property
    def uses_frailty(self) -> bool:
        """True when some transition carries frailty and the site multiplier."""
        return bool(self.frailty.any())

    def multipliers(
        self, frailty: np.ndarray, site_multiplier: float, active_effects: np.ndarray
    ) -> np.ndarray:
        """Hazard multipliers, shape (frailty values, transitions).

        ``active_effects`` (bool, per transition) marks the effects that apply this month.
        """
        ratio = np.where(active_effects, self.effect_ratio, 1.0)
        individual = np.where(self.frailty, site_multiplier * frailty[:, None], 1.0)
        return ratio * individual

    def transition_probabilities(self, multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One month's competing-risk probabilities.

        Parameters
        ----------
        multipliers : ndarray, shape (frailty values, transitions)

        Returns
        -------
        move : ndarray, shape (frailty values, transitions, K + 1)
            P(the transition is taken) from its origin at each capped months_in_state.
        stay : ndarray, shape (frailty values, states, K + 1)
            P(the spell continues).
        """
        n_states = len(self.states)
        base = self.base_hazard[None, :, :]
        multiplier = multipliers[:, :, None]
        certain_exit = np.isinf(base) & (multiplier > 0)  # p = 1 under a positive multiplier
        hazard = np.where(np.isinf(base), 0.0, base) * multiplier
        origin_of = np.zeros((len(self.origin), n_states))  # one-hot (transitions, states)
        origin_of[np.arange(len(self.origin)), self.origin] = 1.0
        total_hazard = np.einsum("ntc,ts->nsc", hazard, origin_of)
        n_certain = np.einsum("ntc,ts->nsc", certain_exit.astype(float), origin_of)

        leave = -np.expm1(-total_hazard)
        total_of_origin = total_hazard[:, self.origin, :]
        share = np.divide(
            hazard, total_of_origin, out=np.zeros_like(hazard), where=total_of_origin > 0
        )
        move = leave[:, self.origin, :] * share
        certain_of_origin = n_certain[:, self.origin, :]
        move = np.where(
            certain_of_origin > 0, certain_exit / np.maximum(certain_of_origin, 1.0), move
        )
        stay = np.where(n_certain > 0, 0.0, np.exp(-total_hazard))
        return move, stay

    def forward(
        self,
        *,
        months: int,
        initial: np.ndarray,
        frailty: np.ndarray,
        weights: np.ndarray,
        site_multiplier: float,
        treatment: bool,
    ) -> np.ndarray:
        """Run the chain forward and average over frailty.

        Parameters
        ----------
        months : int
            Number of months since entry to return (m = 0..months-1).
        initial : ndarray, shape (states, K + 1)
            Distribution of (state, capped months_in_state) in the entry month.
        frailty, weights : ndarray, shape (nodes,)
            Frailty values and their weights (one value with weight 1 for a single
            participant type).
        site_multiplier : float
            Multiplier of the participant's site (frailty transitions only).
        treatment : bool
            Apply the effects (treatment arm) or not (counterfactual).

        Returns
        -------
        ndarray, shape (months, states, K + 1)
            P[m, state, min(months_in_state, K)], averaged over frailty with ``weights``.
        """
        cap = self.max_months_in_state
        probability = np.broadcast_to(initial, (len(frailty),) + initial.shape).copy()
        out = np.empty((months,) + initial.shape)
        arrival = np.zeros((len(self.destination), len(self.states)))  # one-hot
        arrival[np.arange(len(self.destination)), self.destination] = 1.0
        cached: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        for m in range(months):
            out[m] = np.tensordot(weights, probability, axes=1)
            if m == months - 1:
                break
            active = treatment & (self.effect_from <= m) & (m < self.effect_to)
            key = active.tobytes()
            if key not in cached:
                multipliers = self.multipliers(frailty, site_multiplier, active)
                cached[key] = self.transition_probabilities(multipliers)
            move, stay = cached[key]
            # The transition drawn at the end of month m gives the state in month m + 1.
            staying = probability * stay
            leaving = (probability[:, self.origin, :] * move).sum(axis=2)  # (nodes, transitions)
            probability = np.zeros_like(probability)
            probability[:, :, 1:] = staying[:, :, :-1]
            probability[:, :, cap] += staying[:, :, cap]
            probability[:, :, 0] += leaving @ arrival
        return out


# ----------------------------------------------------------------------------------------
# Expectations over the cohort
# ----------------------------------------------------------------------------------------


def _sites(data: Mapping) -> list[tuple[str, int, float]]:
    """(name, size, central multiplier) of each site, in scenario order."""
    return [
        (name, int(site["size"]), _central(site["multiplier"]))
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
        frailty, weights = frailty_quadrature(_central(cohort["frailty_variance"]))
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
    shares = {payer: _by_months_in_state(s, cap) for payer, s in split.items() if s != REST}
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
        monthly = _central(flow["monthly"])
        category = categories.index(flow["category"])
        for payer, share in _payer_shares(flow["split"], cap).items():
            cost[:, payers.index(payer), category] += monthly * (in_state @ share)
    return HistoricalBaseline(occupancy=occupancy.sum(axis=-1), cost=cost)
