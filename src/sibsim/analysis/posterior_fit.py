"""What :func:`sibsim.posterior` hands back: distributions fitted to the posterior sample.

Each parameter's posterior draws (with their importance weights) are summarised by one
distribution of a scenario family (:func:`fit_distribution`): the prior's own family where
it is normal, lognormal, gamma or beta, matched on the weighted mean and sd (lognormal on the
mean and sd of the log); for a uniform, triangular or pert prior, the family is chosen by the
prior's support: beta on [0, 1] when the support lies within it, gamma when it lies within
[0, inf), normal otherwise. :func:`ks_distance` measures how well the fitted distribution
describes the draws, and :func:`score_correlations` gives the ``[[correlations]]`` entries
that carry the posterior correlation of the parameters' normal scores into the scenario.
``docs/evidence.rst`` explains the choices.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.special import ndtri

from sibsim.errors import ScenarioError
from sibsim.scenario import Distribution, Scenario
from sibsim.scenario.correlations import cholesky

__all__ = ["fit_distribution", "fitted_family", "fitted_scenario", "ks_distance",
           "score_correlations"]

#: The families a posterior keeps when its prior has them.
KEPT = ("normal", "lognormal", "gamma", "beta")


def fitted_family(prior: Distribution) -> str:
    """The family of the distribution fitted to a parameter's posterior.

    Parameters
    ----------
    prior : Distribution
        The parameter's prior.

    Returns
    -------
    str
        The prior's family if it is normal, lognormal, gamma or beta; otherwise beta for a
        support within [0, 1], gamma for one within [0, inf), normal for any other.

    Examples
    --------
    >>> fitted_family(Distribution("uniform", {"low": 12.0, "high": 36.0}))
    'gamma'
    >>> fitted_family(Distribution("pert", {"low": 0.01, "mode": 0.02, "high": 0.05}))
    'beta'
    """
    if prior.family in KEPT:
        return prior.family
    low, high = prior.support()
    if low >= 0 and high <= 1:
        return "beta"
    if low >= 0:
        return "gamma"
    return "normal"


def fit_distribution(prior: Distribution, x: np.ndarray, weights: np.ndarray) -> Distribution:
    """The distribution of :func:`fitted_family` matched on the weighted draws' moments.

    Parameters
    ----------
    prior : Distribution
        The parameter's prior (it chooses the family).
    x : ndarray, shape (N,)
        Posterior draws.
    weights : ndarray, shape (N,)
        Their weights, summing to 1.

    Returns
    -------
    Distribution
        Mean and sd of the draws (for lognormal: median exp(mean of ln x), sigma the sd of
        ln x).

    Raises
    ------
    ValueError
        When the weighted draws have no spread (the sample is degenerate).
    """
    family = fitted_family(prior)
    values = np.log(x) if family == "lognormal" else x
    mean = float(weights @ values)
    sd = float(math.sqrt(max(weights @ (values - mean) ** 2, 0.0)))
    if not sd > 0:
        raise ValueError("posterior: the weighted draws have no spread (one draw carries "
                         "all the weight); see the Pareto k and the effective sample size "
                         "in the warnings")
    if family == "lognormal":
        return Distribution("lognormal", {"median": math.exp(mean), "sigma": sd})
    return Distribution(family, {"mean": mean, "sd": sd})


def ks_distance(x: np.ndarray, weights: np.ndarray, distribution: Distribution) -> float:
    """Kolmogorov-Smirnov distance between a weighted sample and a distribution.

    Parameters
    ----------
    x : ndarray, shape (N,)
    weights : ndarray, shape (N,)
        Summing to 1.
    distribution : Distribution

    Returns
    -------
    float
        sup_t |F_w(t) - F(t)|, F_w the weighted empirical CDF.

    Examples
    --------
    >>> d = Distribution("uniform", {"low": 0.0, "high": 1.0})
    >>> round(ks_distance(np.array([0.25, 0.75]), np.array([0.5, 0.5]), d), 6)
    0.25
    """
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(weights[order])
    cdf = distribution.scipy().cdf(x[order])
    return float(max(np.max(cumulative - cdf), np.max(cdf - (cumulative - weights[order]))))


def normal_scores(x: np.ndarray, distribution: Distribution) -> np.ndarray:
    """Phi^-1(F(x)), kept finite."""
    u = np.clip(distribution.scipy().cdf(x), 1e-15, 1 - 1e-15)
    return ndtri(u)


def score_correlations(x: np.ndarray, weights: np.ndarray,
                       fitted: Sequence[Distribution], names: Sequence[str]) -> list[dict]:
    """``[[correlations]]`` entries for the weighted correlation of the normal scores.

    Parameters
    ----------
    x : ndarray, shape (N, p)
        Posterior draws of the parameters.
    weights : ndarray, shape (N,)
        Summing to 1.
    fitted : sequence of Distribution
        The fitted distribution of each column (its CDF gives the scores).
    names : sequence of str
        Key path of each column.

    Returns
    -------
    list of dict
        One ``{"params": [a, b], "rho": r}`` per pair, in column order; their matrix is
        positive definite (shrunk towards the identity when rounding makes it singular).
    """
    if len(names) < 2:
        return []
    z = np.column_stack([normal_scores(x[:, i], d) for i, d in enumerate(fitted)])
    z = z - weights @ z
    covariance = (z * weights[:, None]).T @ z
    sd = np.sqrt(np.diag(covariance))
    matrix = covariance / np.outer(sd, sd)
    np.fill_diagonal(matrix, 1.0)
    shrink = 1.0
    while cholesky(np.where(np.eye(len(names)) > 0, 1.0, matrix * shrink)) is None:
        shrink *= 0.99
    matrix = np.where(np.eye(len(names)) > 0, 1.0, matrix * shrink)
    return [{"params": [names[i], names[j]], "rho": float(matrix[i, j])}
            for i, j in itertools.combinations(range(len(names)), 2)]


def _other_correlations(entries: Any, listed: set[str]) -> list[dict]:
    """The scenario's entries without their pairs of two listed parameters."""
    kept = []
    for entry in entries or []:
        names = entry["params"]
        inside = [n for n in names if n in listed]
        if len(inside) < 2:
            kept.append(entry)
            continue
        kept += [{"params": [a, b], "rho": entry["rho"]}
                 for a, b in itertools.combinations(names, 2)
                 if not (a in listed and b in listed)]
    return kept


def fitted_scenario(base: Scenario, fitted: Mapping[str, Distribution],
                    correlations: list[dict]) -> Scenario:
    """The scenario with the fitted distributions and the posterior correlations put in.

    Parameters
    ----------
    base : Scenario
        The prior scenario.
    fitted : mapping of str to Distribution
        Key path -> its fitted posterior distribution.
    correlations : list of dict
        The posterior correlation entries (:func:`score_correlations`); they replace any
        correlation between two of the fitted parameters.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        When the result is not a valid scenario (a correlation of a fitted parameter with
        one that was not fitted no longer fits the posterior correlations).
    """
    scenario = base
    for path, distribution in fitted.items():
        scenario = scenario.replace(path, distribution.to_spec())
    entries = _other_correlations(base.get("correlations"), set(fitted)) + correlations
    if entries or base.get("correlations"):
        try:
            scenario = scenario.replace("correlations", entries or None)
        except ScenarioError as error:
            heading = ("posterior: the fitted scenario is not valid (the prior's correlations "
                       "of a fitted parameter with one that was not fitted do not fit the "
                       "posterior correlations; list both, or neither):")
            raise ScenarioError([heading, *error.problems]) from None
    return scenario
