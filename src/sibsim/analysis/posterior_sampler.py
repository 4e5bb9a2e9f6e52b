"""The sampler of :func:`sibsim.posterior`: importance sampling from a Student-t at the mode.

Every parameter is moved to an unbounded coordinate y (``Transform``: y = x on the real line,
y = ln(x - low) on (low, inf), y = logit((x - low) / (high - low)) on (low, high)), where
the log posterior density, Jacobian included, is

    log p(y | data) = log prior(x(y)) + log |dx/dy| + log likelihood(x(y)) + const.

1. The mode of log p(y | data) is found by BFGS (:func:`scipy.optimize.minimize`) with
   central-difference gradients, and the Hessian there by central differences with steps of
   a fifth of the posterior sd that BFGS suggests: the Laplace approximation N(mode, S),
   S = (-Hessian)^-1.
2. A pilot sample from the multivariate Student-t with ``NU`` degrees of freedom, location
   the mode and scale S, weighted by p / q and Pareto-smoothed (PSIS, Vehtari et al. 2024,
   as implemented by ``arviz_stats``), gives the weighted mean and covariance of the
   posterior; the final proposal is the Student-t with those (or, when the pilot's Pareto k
   is above 0.7, with S widened 1.5 times in sd).
3. The final sample of ``draws`` proposals, with PSIS weights, is the posterior sample. Its
   Pareto k says whether the importance sampling estimates can be trusted (k <= 0.7; above
   it they are not, and more draws will not help), and its effective sample size (for the
   weights, 1 / sum w_i^2; for the posterior mean of a quantity h, the posterior variance of
   h over the importance-sampling variance of its mean) says how many independent draws the
   sample is worth.

With informative data the posterior in y approaches a normal distribution (Bernstein-von
Mises), so the proposal fitted at the mode only gets better as the data grow; the Student-t's
heavier tails keep the weights bounded where the posterior is skewed. ``docs/evidence.rst``
explains the choice and the diagnostics.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from scipy.special import expit, logit

__all__ = ["K_TRUSTED", "NU", "Sample", "Transform", "ess_of", "find_mode", "run",
           "weighted_quantile"]

#: Degrees of freedom of the Student-t proposal.
NU = 5
#: Pareto k above which importance sampling estimates are not to be trusted.
K_TRUSTED = 0.7
#: Size of the pilot sample (at most; a quarter of the draws when fewer).
PILOT = 1000
#: Widening of the proposal's sd when the pilot cannot be trusted.
WIDEN = 1.5

#: A log density on the unbounded coordinates: (B, p) -> (B,).
LogDensity = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Transform:
    """The map from a parameter's support (low, high) to the real line, and back.

    Attributes
    ----------
    low, high : float
        The support; -inf and inf where unbounded.
    """

    low: float
    high: float

    @property
    def kind(self) -> str:
        """``"identity"``, ``"log"`` or ``"logit"``."""
        if math.isinf(self.low) and math.isinf(self.high):
            return "identity"
        if math.isinf(self.high):
            return "log"
        if math.isinf(self.low):
            return "log-reflected"
        return "logit"

    def to_unbounded(self, x: np.ndarray) -> np.ndarray:
        """y of x."""
        x = np.asarray(x, dtype=np.float64)
        kind = self.kind
        if kind == "identity":
            return x.copy()
        if kind == "log":
            return np.log(x - self.low)
        if kind == "log-reflected":
            return np.log(self.high - x)
        return logit((x - self.low) / (self.high - self.low))

    def to_bounded(self, y: np.ndarray) -> np.ndarray:
        """x of y."""
        kind = self.kind
        if kind == "identity":
            return np.asarray(y, dtype=np.float64).copy()
        if kind == "log":
            return self.low + np.exp(y)
        if kind == "log-reflected":
            return self.high - np.exp(y)
        return self.low + (self.high - self.low) * expit(y)

    def log_jacobian(self, y: np.ndarray) -> np.ndarray:
        """log |dx/dy|."""
        kind = self.kind
        if kind == "identity":
            return np.zeros_like(y)
        if kind in ("log", "log-reflected"):
            return np.asarray(y, dtype=np.float64)
        # log of (high - low) s (1 - s), s = expit(y), without overflow for large |y|.
        return math.log(self.high - self.low) - np.logaddexp(0, -y) - np.logaddexp(0, y)


@dataclass(frozen=True)
class Sample:
    """A weighted posterior sample on the unbounded coordinates.

    Attributes
    ----------
    y : ndarray, shape (N, p)
        The proposals.
    weights : ndarray, shape (N,)
        Pareto-smoothed importance weights, summing to 1.
    pareto_k : float
        The Pareto k diagnostic of the weights.
    log_ratios : ndarray, shape (N,)
        log p(y | data) - log q(y), before smoothing (up to a constant of p).
    mode : ndarray, shape (p,)
        The posterior mode found.
    proposal : str
        The final proposal, in words.
    pilot_k : float
        The Pareto k of the pilot sample.
    """

    y: np.ndarray
    weights: np.ndarray
    pareto_k: float
    log_ratios: np.ndarray
    mode: np.ndarray
    proposal: str
    pilot_k: float

    @property
    def ess(self) -> float:
        """Effective sample size of the weights, 1 / sum w_i^2."""
        return float(1.0 / np.sum(self.weights**2))


def ess_of(values: np.ndarray, weights: np.ndarray) -> float:
    """Effective sample size for the posterior mean of ``values`` under normalised weights.

    The posterior variance of the values over the (delta-method) variance of the
    self-normalised importance-sampling mean: sum w (h - m)^2 / sum w^2 (h - m)^2.

    Parameters
    ----------
    values : ndarray, shape (N,)
    weights : ndarray, shape (N,)
        Summing to 1.

    Returns
    -------
    float
        The number of independent draws the sample is worth for that mean (N for equal
        weights; the weights' ESS for a constant ``values``).

    Examples
    --------
    >>> round(ess_of(np.arange(4.0), np.full(4, 0.25)), 6)
    4.0
    """
    centred = values - weights @ values
    spread = weights @ centred**2
    if spread == 0:
        return float(1.0 / np.sum(weights**2))
    return float(spread / np.sum(weights**2 * centred**2))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its step CDF, midpoints of the steps).

    Parameters
    ----------
    values : ndarray, shape (N,)
    weights : ndarray, shape (N,)
        Summing to 1.
    q : float or array_like
        Probabilities.

    Returns
    -------
    ndarray
        One quantile per probability.

    Examples
    --------
    >>> weighted_quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.full(4, 0.25), [0.5])
    array([2.5])
    """
    order = np.argsort(values, kind="stable")
    sorted_values, sorted_weights = values[order], weights[order]
    middle = np.cumsum(sorted_weights) - 0.5 * sorted_weights
    return np.interp(np.atleast_1d(q), middle, sorted_values)


def _safe(log_density: LogDensity) -> LogDensity:
    """The log density with NaN and -inf replaced by a very low finite value."""
    def safe(y: np.ndarray) -> np.ndarray:
        return np.nan_to_num(log_density(y), nan=-1e300, neginf=-1e300)
    return safe


def find_mode(log_density: LogDensity, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mode of a log density (BFGS, central-difference gradients).

    Parameters
    ----------
    log_density : callable
        (B, p) -> (B,), vectorised over rows.
    start : ndarray, shape (p,)
        Where the search starts.

    Returns
    -------
    mode : ndarray, shape (p,)
    inverse_hessian : ndarray, shape (p, p)
        BFGS's estimate of (-Hessian)^-1 there.
    """
    log_density = _safe(log_density)
    start = np.asarray(start, dtype=np.float64)
    p = len(start)
    step = 1e-5

    def objective(y: np.ndarray) -> tuple[float, np.ndarray]:
        points = np.vstack([y, y + step * np.eye(p), y - step * np.eye(p)])
        values = log_density(points)
        gradient = (values[1: p + 1] - values[p + 1:]) / (2 * step)
        return -float(values[0]), -gradient

    fit = optimize.minimize(objective, start, jac=True, method="BFGS",
                            options={"gtol": 1e-6, "maxiter": 200})
    return fit.x, np.atleast_2d(fit.hess_inv)


def _hessian(log_density: LogDensity, mode: np.ndarray, h: np.ndarray) -> np.ndarray:
    """The Hessian at the mode by central differences with steps h (one batch)."""
    p = len(mode)
    shifts = [np.zeros(p)]
    for i in range(p):
        for j in range(i, p):
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                shift = np.zeros(p)
                shift[i] += si * h[i]
                shift[j] += sj * h[j]
                shifts.append(shift)
    values = log_density(mode + np.array(shifts))
    hessian = np.empty((p, p))
    k = 1
    for i in range(p):
        for j in range(i, p):
            # On the diagonal the four points are +2h, 0, 0, -2h: a second difference.
            pp, pm, mp, mm = values[k: k + 4]
            hessian[i, j] = hessian[j, i] = (pp - pm - mp + mm) / (4 * h[i] * h[j])
            k += 4
    return hessian


def _positive_definite(matrix: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return bool(np.all(np.isfinite(matrix)))


def _laplace_covariance(log_density: LogDensity, mode: np.ndarray,
                        guess: np.ndarray) -> np.ndarray:
    """(-Hessian)^-1 at the mode, with steps of a fifth of the posterior sd (found twice)."""
    sd = np.sqrt(np.clip(np.diag(guess), 0, None))
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 0.1)
    covariance = None
    for _ in range(2):
        hessian = _hessian(log_density, mode, np.clip(0.2 * sd, 1e-8, 1.0))
        try:
            found = np.linalg.inv(-hessian)
        except np.linalg.LinAlgError:
            break
        if not _positive_definite(found):
            break
        covariance, previous = found, sd
        sd = np.sqrt(np.diag(found))
        if np.all(np.abs(np.log(sd / previous)) < np.log(2)):
            break
    if covariance is not None:
        return covariance
    return guess if _positive_definite(guess) else np.diag(sd**2)


def _importance(log_density: LogDensity, loc: np.ndarray, scale: np.ndarray, size: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Proposals from the Student-t, their raw log ratios, PSIS weights and Pareto k."""
    from arviz_stats.base import array_stats

    proposal = stats.multivariate_t(loc=loc, shape=scale, df=NU)
    y = np.asarray(proposal.rvs(size=size, random_state=rng)).reshape(size, len(loc))
    log_ratios = log_density(y) - proposal.logpdf(y).reshape(size)
    finite = np.isfinite(log_ratios)
    if not finite.any():
        return y, log_ratios, np.full(size, 1.0 / size), math.inf
    top, bottom = np.max(log_ratios[finite]), np.min(log_ratios[finite])
    shifted = np.where(finite, log_ratios, bottom - 1000.0) - top
    smoothed, k = array_stats.psislw(-shifted)
    weights = np.exp(smoothed - np.max(smoothed))
    weights = np.where(finite, weights, 0.0)
    return y, log_ratios, weights / weights.sum(), float(k)


def _weighted_moments(y: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = weights @ y
    centred = y - mean
    return mean, (centred * weights[:, None]).T @ centred


def run(log_density: LogDensity, start: np.ndarray, draws: int, rng: np.random.Generator,
        *, mode: tuple[np.ndarray, np.ndarray] | None = None) -> Sample:
    """Sample the posterior on the unbounded coordinates (the module docstring's steps).

    Parameters
    ----------
    log_density : callable
        log p(y | data) up to a constant, (B, p) -> (B,), vectorised over rows.
    start : ndarray, shape (p,)
        Where the search for the mode starts (the prior medians, transformed).
    draws : int
        Size of the final sample.
    rng : numpy.random.Generator
        The source of the proposals.
    mode : (ndarray, ndarray), keyword-only, optional
        The mode and inverse Hessian of :func:`find_mode`, if already found.

    Returns
    -------
    Sample
    """
    safe = _safe(log_density)
    mode, guess = find_mode(log_density, start) if mode is None else mode
    laplace = _laplace_covariance(safe, mode, guess)
    pilot_size = min(PILOT, max(100, draws // 4))
    y, _, weights, pilot_k = _importance(log_density, mode, laplace, pilot_size, rng)
    loc, scale = mode, laplace
    proposal = "Student-t at the mode with the Laplace covariance"
    if pilot_k <= K_TRUSTED:
        moments = _weighted_moments(y, weights)
        # Moments of a pilot worth few draws are too noisy to improve on the Laplace fit.
        if 1.0 / np.sum(weights**2) >= max(30, 10 * len(mode)) and _positive_definite(
                moments[1]):
            loc, scale = moments
            proposal = "Student-t at the pilot's weighted mean and covariance"
    else:
        loc, scale = mode, laplace * WIDEN**2
        proposal = f"Student-t at the mode with the Laplace covariance, sd x {WIDEN}"
    y, log_ratios, weights, k = _importance(log_density, loc, scale, draws, rng)
    return Sample(y=y, weights=weights, pareto_k=k, log_ratios=log_ratios, mode=mode,
                  proposal=f"{proposal} ({NU} degrees of freedom)", pilot_k=pilot_k)
