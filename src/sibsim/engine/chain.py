"""The exact participant chain: the model at central values as a Markov chain, and its quadratures.

Once the participant's frailty, site and arm are fixed, the participant model (see
``docs/methodology.rst``) is a Markov chain on the pair (state, months_in_state), and the
months_in_state counter matters only up to ``K``, the largest key of any
``by_months_in_state`` table in the scenario (transition probabilities and payer shares):
beyond it no table changes value. :class:`Chain` runs that chain forward exactly, month by
month, on the capped counter ``min(months_in_state, K)``. The expectations over frailty
use :func:`frailty_quadrature`, those over prior months :func:`prior_months_weights`. The
expectations over the cohort are in :mod:`sibsim.engine.exact`; the equations, and the
accuracy of the frailty rule, in ``docs/exact.rst``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats
from scipy.special import gammaln

from sibsim.engine.compile import months_in_state_keys
from sibsim.rules import (
    TABLE,
    fading_weight,
    hazard_from_probability,
    is_table,
    table_keys,
    table_row,
)
from sibsim.scenario.distributions import Distribution, is_distribution

__all__ = [
    "FRAILTY_NODES",
    "Chain",
    "central",
    "frailty_quadrature",
    "max_months_in_state",
    "prior_months_weights",
    "value_by_months_in_state",
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


def central(number: Any) -> float:
    """A normalised number at its central value: the number itself or the distribution's mean.

    Parameters
    ----------
    number : float or dict
        A normalised number: a float or a ``{family: {param: value}}`` distribution.

    Returns
    -------
    float

    Examples
    --------
    >>> central(0.25), central({"uniform": {"low": 1.0, "high": 3.0}})
    (0.25, 2.0)
    """
    if is_distribution(number):
        return Distribution.from_spec(number).mean()
    return float(number)


def value_by_months_in_state(value: Any, max_months_in_state: int) -> np.ndarray:
    """Central value of a number or step table at months_in_state 0..K, shape (K+1,).

    A table's value at months_in_state c is its entry at the largest key not above c.

    Parameters
    ----------
    value : float, dict or step table
        A normalised number or ``{"by_months_in_state": [[key, number], ...]}``.
    max_months_in_state : int
        K.

    Returns
    -------
    ndarray, shape (K + 1,)

    Examples
    --------
    >>> value_by_months_in_state({"by_months_in_state": [[0, 0.1], [2, 0.3]]}, 3)
    array([0.1, 0.1, 0.3, 0.3])
    """
    if not is_table(value):
        return np.full(max_months_in_state + 1, central(value))
    entries = np.array([central(entry) for _, entry in value[TABLE]], dtype=np.float64)
    return entries[table_row(table_keys(value), np.arange(max_months_in_state + 1))]


def max_months_in_state(data: Mapping) -> int:
    """K: the largest key of any ``by_months_in_state`` table (0 when there is none).

    Parameters
    ----------
    data : mapping
        The normalised scenario (``Scenario.data``).

    Returns
    -------
    int
    """
    return months_in_state_keys(data)[-1]


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
    effect_fade_from : ndarray of int, shape (transitions,)
        The month since entry from which the effect fades (its from_month by default).
    effect_half_life : ndarray, shape (transitions,)
        Central half-life of the effect in months (inf where it does not fade).

    ``base_hazard`` includes the central ``hazard_scale`` of each transition.
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
    effect_fade_from: np.ndarray
    effect_half_life: np.ndarray

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
        fade_from = np.zeros(n, dtype=np.int64)
        half_life = np.full(n, np.inf)
        for k, transition in enumerate(transitions):
            probability = value_by_months_in_state(transition["probability"], cap)
            base_hazard[k] = hazard_from_probability(probability)  # inf where p = 1
            if transition.get("hazard_scale") is not None:
                scale = central(transition["hazard_scale"])
                base_hazard[k] = 0.0 if scale == 0.0 else base_hazard[k] * scale
            effect = transition.get("effect")
            if effect:
                effect_ratio[k] = central(effect["ratio"])
                effect_from[k] = effect["from_month"]
                effect_to[k] = effect["to_month"]
                fade = effect.get("fade_from_month")
                fade_from[k] = effect["from_month"] if fade is None else fade
                if effect.get("half_life_months") is not None:
                    half_life[k] = central(effect["half_life_months"])
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
            effect_fade_from=fade_from,
            effect_half_life=half_life,
        )

    @property
    def uses_frailty(self) -> bool:
        """True when some transition carries frailty and the site multiplier."""
        return bool(self.frailty.any())

    def effects(self, months_since_entry: int, treatment: bool) -> np.ndarray:
        """Each transition's effect multiplier ratio ** w(m) at months since entry m.

        1 outside the effect's window and in the counterfactual arm; the plain ratio where
        the effect does not fade (w = 1).
        """
        m = months_since_entry
        active = treatment & (self.effect_from <= m) & (m < self.effect_to)
        fades = np.isfinite(self.effect_half_life) & (m > self.effect_fade_from)
        weight = fading_weight(m, self.effect_fade_from, self.effect_half_life)
        ratio = np.where(fades, self.effect_ratio ** weight, self.effect_ratio)
        return np.where(active, ratio, 1.0)

    def multipliers(
        self, frailty: np.ndarray, site_multiplier: float, effects: np.ndarray
    ) -> np.ndarray:
        """Hazard multipliers, shape (frailty values, transitions).

        ``effects`` (per transition) holds the effect multipliers of this month
        (:meth:`effects`).
        """
        individual = np.where(self.frailty, site_multiplier * frailty[:, None], 1.0)
        return effects * individual

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
            effects = self.effects(m, treatment)
            key = effects.tobytes()
            if key not in cached:
                multipliers = self.multipliers(frailty, site_multiplier, effects)
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
