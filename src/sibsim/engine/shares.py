"""Exact expected shares for many parameter values at once: the likelihood of ``posterior``.

:func:`expected_shares` gives, for each of B sets of parameter values, the exact expected
share of :func:`sibsim.engine.exact.expected_share` (the ``calibrate`` target: over frailty
and prior months, every other distribution at its mean, no economy shock, pooled over the
sites among participants whose entry month plus the months since entry lies within the
horizon) at several (state, arm, months since entry) points. It runs the same Markov chain
on (state, capped months_in_state) as :class:`sibsim.engine.chain.Chain`, but in one numba
kernel over all B values, and only for the arms and months the points need.

The model is read from the normalised scenario as ``docs/methodology.rst`` states it, so that
this module does not depend on the chain's internals: hazards h = -ln(1 - p) of every table
entry, times ``hazard_scale`` (where a transition has one), times the effect multiplier
``ratio ** w(m)`` in the treatment arm within the effect's months (w(m) = 1 before
``fade_from_month`` and 2 ** (-(m - fade_from_month) / half_life_months) after, where an
effect has a half-life), times the site multiplier and frailty on frailty transitions;
competing risks within a month. The values may be given at the key paths that enter the
chain (frailty variance, site multipliers, probabilities or their table entries, hazard
scales, effect ratios and half-lives); any other per-draw parameter (flows, costs, the
discount rate, the economy, contracts) does not change a share. The tests hold this module
to :func:`~sibsim.engine.exact.expected_share` on random scenarios, and ``posterior`` checks
it again on a few of its own values before it uses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sibsim.engine._numba import jit, jit_parallel, prange
from sibsim.engine.chain import (
    FRAILTY_NODES,
    central,
    frailty_quadrature,
    max_months_in_state,
    prior_months_weights,
)
from sibsim.rules import (
    ARMS,
    TABLE,
    entrants_by_month,
    fading_weight,
    hazard_from_probability,
    is_table,
    table_keys,
    table_row,
)
from sibsim.scenario.keypath import parse_path

__all__ = ["UnsupportedPath", "expected_shares", "share_target"]

#: Top-level keys whose parameters never change an expected share.
_INERT = ("discount_rate", "programme", "economy", "flows", "contracts")


class UnsupportedPath(ValueError):
    """A key path this module cannot vary (the caller falls back to the exact module)."""


def share_target(path: str) -> tuple:
    """Where the value at a key path enters the chain.

    Parameters
    ----------
    path : str
        The key path of a per-draw parameter.

    Returns
    -------
    tuple
        ``("variance",)``, ``("site", name)``, ``("probability", k, row)`` (row None for a
        plain number), ``("scale", k)``, ``("ratio", k)``, ``("half_life", k)``, or
        ``("inert",)`` for a parameter that changes no share.

    Raises
    ------
    UnsupportedPath
        For any other key path.

    Examples
    --------
    >>> share_target("transitions[3].probability.by_months_in_state[1][1]")
    ('probability', 3, 1)
    >>> share_target("flows[0].monthly")
    ('inert',)
    """
    parts = parse_path(path)
    head = parts[0]
    if head in _INERT:
        return ("inert",)
    if parts == ("cohort", "frailty_variance"):
        return ("variance",)
    if len(parts) == 4 and parts[:2] == ("cohort", "sites") and parts[3] == "multiplier":
        return ("site", parts[2])
    if head == "transitions" and len(parts) >= 3 and isinstance(parts[1], int):
        k, rest = parts[1], parts[2:]
        if rest == ("probability",):
            return ("probability", k, None)
        if len(rest) == 4 and rest[:2] == ("probability", TABLE) and rest[3] == 1:
            return ("probability", k, rest[2])
        if rest == ("hazard_scale",):
            return ("scale", k)
        if rest == ("effect", "ratio"):
            return ("ratio", k)
        if rest == ("effect", "half_life_months"):
            return ("half_life", k)
    raise UnsupportedPath(f"{path}: not a parameter that expected_shares can vary")


@dataclass(frozen=True)
class _Layout:
    """The chain of a scenario at central values, as arrays (one row per transition)."""

    states: tuple
    months: int
    origin: np.ndarray
    destination: np.ndarray
    frailty: np.ndarray
    hazard: np.ndarray  # (T, K + 1), -ln(1 - p), inf where p = 1
    rows: tuple  # per transition: the table row of each capped months_in_state, or None
    scale: np.ndarray
    ratio: np.ndarray
    effect_from: np.ndarray
    effect_to: np.ndarray
    fade_from: np.ndarray
    half_life: np.ndarray  # inf without fading
    variance: float
    sites: tuple
    site_multiplier: np.ndarray
    eligible: np.ndarray  # (sites, months): participants who reach m within the horizon
    initial: np.ndarray  # (states, K + 1)

    @classmethod
    def of(cls, data: Mapping) -> _Layout:
        states = tuple(data["states"])
        index = {state: i for i, state in enumerate(states)}
        cap = max_months_in_state(data)
        capped = np.arange(cap + 1)
        transitions = data["transitions"]
        n = len(transitions)
        hazard = np.empty((n, cap + 1))
        rows, scale, ratio = [], np.ones(n), np.ones(n)
        window = np.zeros((3, n), dtype=np.int64)
        half_life = np.full(n, np.inf)
        for k, transition in enumerate(transitions):
            probability = transition["probability"]
            if is_table(probability):
                row = table_row(table_keys(probability), capped)
                entries = np.array([central(e) for _, e in probability[TABLE]])
                hazard[k] = hazard_from_probability(entries[row])
                rows.append(row)
            else:
                hazard[k] = hazard_from_probability(central(probability))
                rows.append(None)
            if transition.get("hazard_scale") is not None:
                scale[k] = central(transition["hazard_scale"])
            effect = transition.get("effect")
            if effect:
                ratio[k] = central(effect["ratio"])
                fade = effect.get("fade_from_month")
                start = effect["from_month"]
                end = effect.get("to_month")
                window[:, k] = (start, data["months"] if end is None else end,
                                start if fade is None else fade)
                if effect.get("half_life_months") is not None:
                    half_life[k] = central(effect["half_life_months"])
        cohort = data["cohort"]
        initial = np.zeros((len(states), cap + 1))
        initial[index[cohort["initial_state"]]] = prior_months_weights(cohort["prior_months"],
                                                                       cap)
        sites = cohort["sites"]
        entrants = [entrants_by_month(s["size"], cohort["intake_months"]) for s in sites.values()]
        eligible = np.array([[e[: data["months"] - m].sum() for m in range(data["months"])]
                             for e in entrants])
        return cls(
            states=states, months=data["months"],
            origin=np.array([index[t["from"]] for t in transitions], dtype=np.int64),
            destination=np.array([index[t["to"]] for t in transitions], dtype=np.int64),
            frailty=np.array([bool(t["frailty"]) for t in transitions]),
            hazard=hazard, rows=tuple(rows), scale=scale, ratio=ratio,
            effect_from=window[0], effect_to=window[1], fade_from=window[2],
            half_life=half_life, variance=central(cohort["frailty_variance"]),
            sites=tuple(sites), site_multiplier=np.array([central(s["multiplier"])
                                                          for s in sites.values()]),
            eligible=eligible, initial=initial,
        )


def _batch(layout: _Layout, values: Mapping[str, np.ndarray], size: int) -> dict:
    """The layout's arrays with the given values put in, one copy per value set."""
    arrays = {
        "hazard": np.repeat(layout.hazard[None], size, axis=0),
        "scale": np.repeat(layout.scale[None], size, axis=0),
        "ratio": np.repeat(layout.ratio[None], size, axis=0),
        "half_life": np.repeat(layout.half_life[None], size, axis=0),
        "variance": np.full(size, layout.variance),
        "site": np.repeat(layout.site_multiplier[None], size, axis=0),
    }
    for path, value in values.items():
        target = share_target(path)
        kind = target[0]
        if kind == "inert":
            continue
        if kind == "variance":
            arrays["variance"] = value.copy()
        elif kind == "site":
            arrays["site"][:, layout.sites.index(target[1])] = value
        elif kind == "probability":
            _, k, row = target
            columns = slice(None) if row is None else layout.rows[k] == row
            arrays["hazard"][:, k, columns] = hazard_from_probability(value)[:, None]
        else:
            arrays[kind][:, target[1]] = value
    return arrays


def _effect_multipliers(layout: _Layout, arrays: dict, months: int) -> np.ndarray:
    """hazard_scale times ratio ** w(m) within the effect's months, shape (B, months, T)."""
    m = np.arange(months)[None, :, None]
    start, end = layout.effect_from[None, None, :], layout.effect_to[None, None, :]
    fade = layout.fade_from[None, None, :]
    half_life = arrays["half_life"][:, None, :]
    ratio = arrays["ratio"][:, None, :]
    fades = (m > fade) & np.isfinite(half_life)
    ratio = np.where(fades, ratio ** fading_weight(m, fade, half_life), ratio)
    active = (start <= m) & (m < end)
    effect = np.where(active, ratio, 1.0)
    return arrays["scale"][:, None, :] * effect


def _frailty_nodes(layout: _Layout, variances: np.ndarray, nodes: int):
    """Frailty values and weights per value set, shape (B, nodes) (weight 0 pads a node)."""
    if not layout.frailty.any():
        return np.ones((len(variances), 1)), np.ones((len(variances), 1))
    values = np.ones((len(variances), nodes))
    weights = np.zeros((len(variances), nodes))
    known: dict[float, tuple] = {}
    for b, variance in enumerate(variances):
        if variance not in known:
            known[variance] = frailty_quadrature(float(variance), nodes)
        z, w = known[variance]
        values[b, : len(z)], weights[b, : len(w)] = z, w
    return values, weights


def _check_points(layout: _Layout, points: Sequence[tuple]) -> list[tuple[int, str, int]]:
    out = []
    for state, arm, m in points:
        if state not in layout.states:
            raise ValueError(f"state must be one of {list(layout.states)}, got {state!r}")
        if arm not in ARMS:
            raise ValueError(f"arm must be one of {', '.join(map(repr, ARMS))}, got {arm!r}")
        if not 0 <= int(m) <= layout.months - 1:
            raise ValueError(f"months_since_entry must lie in 0..{layout.months - 1}, got {m}")
        if layout.eligible[:, int(m)].sum() == 0:
            raise ValueError(f"no participant reaches months_since_entry={m} within the "
                             f"horizon of {layout.months} months")
        out.append((layout.states.index(state), arm, int(m)))
    return out


def expected_shares(scenario: Any, points: Sequence[tuple[str, str, int]],
                    values: Mapping[str, Any], *, nodes: int = FRAILTY_NODES) -> np.ndarray:
    """Exact expected shares at several points, for many sets of parameter values.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    points : sequence of (state, arm, months_since_entry)
        Where to take the share, as :func:`~sibsim.engine.exact.expected_share` does.
    values : mapping of str to array_like, shape (B,)
        Key path -> its value in each of the B sets (the other parameters stay at their
        means). Every array has the same length B >= 1.
    nodes : int, keyword-only, default FRAILTY_NODES
        Nodes of the frailty quadrature (:func:`~sibsim.engine.chain.frailty_quadrature`).

    Returns
    -------
    ndarray, shape (B, len(points))
        The expected share at each point for each set of values.

    Raises
    ------
    UnsupportedPath
        For a key path that does not enter the chain and is not known to leave the shares
        alone.
    ValueError
        For an unknown state or arm, or months since entry outside the horizon.

    Examples
    --------
    >>> import numpy as np, sibsim
    >>> scenario = sibsim.load_scenario("danish-pilot")
    >>> shares = expected_shares(scenario, [("employed", "treatment", 14)],
    ...                          {"transitions[0].effect.ratio": np.array([1.0, 2.92])})
    >>> shares.shape
    (2, 1)
    """
    layout = _Layout.of(scenario.data)
    columns = {path: np.atleast_1d(np.asarray(v, dtype=np.float64)) for path, v in values.items()}
    size = len(next(iter(columns.values()))) if columns else 1
    if any(len(v) != size for v in columns.values()):
        raise ValueError("values: every key path needs the same number of values")
    checked = _check_points(layout, points)
    arrays = _batch(layout, columns, size)
    months = max(m for _, _, m in checked) + 1
    arms = [arm for arm in ARMS if any(a == arm for _, a, _ in checked)]
    effect = _effect_multipliers(layout, arrays, months)
    multiplier = np.stack([effect if arm == "treatment"
                           else np.repeat(arrays["scale"][:, None, :], months, axis=1)
                           for arm in arms], axis=1)
    frailty, weights = _frailty_nodes(layout, arrays["variance"], nodes)
    uses_frailty = bool(layout.frailty.any())
    site = arrays["site"] if uses_frailty else np.ones((size, 1))
    out = np.zeros((size, len(arms), site.shape[1], months, len(layout.states)))
    record = np.zeros(months, dtype=np.bool_)
    record[[m for _, _, m in checked]] = True
    _occupancy(np.ascontiguousarray(arrays["hazard"]), np.ascontiguousarray(multiplier),
               layout.frailty, np.ascontiguousarray(site), frailty, weights, layout.initial,
               layout.origin, layout.destination, record, out)
    shares = np.empty((size, len(checked)))
    for p, (state, arm, m) in enumerate(checked):
        eligible = layout.eligible[:, m] if uses_frailty else np.ones(1)
        by_site = out[:, arms.index(arm), :, m, state]
        shares[:, p] = by_site @ eligible / eligible.sum()
    return shares


@jit_parallel
def _occupancy(hazard, multiplier, frailty_flag, site, frailty, weights, initial, origin,
               destination, record, out):  # pragma: no cover - compiled
    """out[b, a, g, m, s] = sum_i weights[b, i] P(state s at month m | node i, site g, arm a).

    Only the months m with ``record[m]`` are filled in.
    """
    size, n_transitions, n_capped = hazard.shape
    n_arms, months = multiplier.shape[1], multiplier.shape[2]
    n_states = initial.shape[0]
    cap = n_capped - 1
    for b in prange(size):
        probability = np.empty((n_states, n_capped))
        following = np.empty((n_states, n_capped))
        move = np.zeros((n_transitions, n_capped))
        stay = np.zeros((n_states, n_capped))
        rates = np.empty(n_transitions)
        for a in range(n_arms):
            for g in range(site.shape[1]):
                for i in range(frailty.shape[1]):
                    w = weights[b, i]
                    if w == 0.0:
                        continue
                    individual = site[b, g] * frailty[b, i]
                    probability[:, :] = initial
                    for m in range(months):
                        if record[m]:
                            for s in range(n_states):
                                out[b, a, g, m, s] += w * probability[s].sum()
                        if m == months - 1:
                            break
                        changed = m == 0
                        for t in range(n_transitions):
                            rate = multiplier[b, a, m, t]
                            if frailty_flag[t]:
                                rate = rate * individual
                            changed = changed or rate != rates[t]
                            rates[t] = rate
                        if changed:
                            _month_probabilities(hazard[b], rates, origin, move, stay)
                        _advance(probability, following, move, stay, origin, destination, cap)
                        probability, following = following, probability


@jit
def _month_probabilities(hazard, rates, origin, move, stay):  # pragma: no cover - compiled
    """One month's competing-risk probabilities of leaving by each transition, and of staying."""
    n_transitions, n_capped = hazard.shape
    n_states = stay.shape[0]
    total = np.empty(n_states)
    certain = np.empty(n_states)
    leave = np.empty(n_states)
    for c in range(n_capped):
        total[:] = 0.0
        certain[:] = 0.0
        for t in range(n_transitions):
            if math.isinf(hazard[t, c]):
                if rates[t] > 0:
                    certain[origin[t]] += 1.0
            else:
                total[origin[t]] += hazard[t, c] * rates[t]
        for s in range(n_states):
            stay[s, c] = 0.0 if certain[s] > 0 else math.exp(-total[s])
            leave[s] = -math.expm1(-total[s])
        for t in range(n_transitions):
            s = origin[t]
            if certain[s] > 0:
                sure = math.isinf(hazard[t, c]) and rates[t] > 0
                move[t, c] = 1.0 / certain[s] if sure else 0.0
            elif total[s] > 0 and not math.isinf(hazard[t, c]):
                move[t, c] = leave[s] * ((hazard[t, c] * rates[t]) / total[s])
            else:
                move[t, c] = 0.0


@jit
def _advance(probability, following, move, stay, origin, destination,
             cap):  # pragma: no cover - compiled
    """The (state, capped months_in_state) distribution one month on."""
    n_states, n_capped = probability.shape
    for s in range(n_states):
        following[s, 0] = 0.0
        for c in range(cap):
            following[s, c + 1] = probability[s, c] * stay[s, c]
        following[s, cap] += probability[s, cap] * stay[s, cap]
    for t in range(len(origin)):
        leaving = 0.0
        for c in range(n_capped):
            leaving += probability[origin[t], c] * move[t, c]
        following[destination[t], 0] += leaving
