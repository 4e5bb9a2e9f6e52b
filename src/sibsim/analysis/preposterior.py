"""The estimators behind :func:`sibsim.stepping_stone`: what a pilot's counts are worth.

Preposterior analysis of a pilot of ``size`` participants per arm, observed in one state at
one month since entry (the expected value of sample information, EVSI). Two estimators:

``regression`` (the default; Menzies 2016 importance sampling with the conditional mean of
Strong, Oakley and Brennan 2014):

1. One simulation of the scenario at ``draws`` prior draws (common random numbers): the
   listed parameters theta_j and the party's npv under each contract, npv_jc.
2. g_c(theta) = E[npv_c | theta] by least squares on Hermite polynomials (total degree
   ``degree``) of the normal scores Phi^-1(F(theta)) of the listed parameters: chance and
   the unlisted parameters averaged out.
3. ``outer`` truths theta_i, drawn from the prior (draws ``draws .. draws + outer - 1`` of
   the same seed, so independent of step 1); the pilot's counts x_i ~ Bin(size, s(theta_i))
   in each arm, s the exact expected share (:func:`sibsim.engine.shares.expected_shares`).
4. The posterior as the prior draws reweighted by the binomial likelihood,
   w_ij = p(x_i | theta_j); posterior mean npv m_ic = sum_j w_ij g_c(theta_j) / sum_j w_ij.
5. The choice c_i = argmax_c m_ic (:func:`choose_contract`), scored by g_{c_i}(theta_i);
   EVSI = mean_i [g_{c_i}(theta_i) - g_{c*}(theta_i)], with c* the contract best on the
   prior mean. EVPPI of the same parameters, paired: mean_i [max_c g_c(theta_i) -
   g_{c*}(theta_i)], so EVSI <= EVPPI holds draw by draw.

Its Monte Carlo error adds the outer draws' (sd / sqrt(outer)) and that of the prior sample
(a bootstrap of steps 2 and 4 over the ``draws`` draws, the truths held).

``nested``: for each truth, the posterior by :func:`sibsim.posterior` (its fitted scenario
simulated at ``inner`` draws gives m_ic), and the score by re-simulation with the listed
parameters held at theta_i (``inner`` draws, the other parameters and chance drawn): no
regression and no reweighting, at the cost of 2 x outer simulations and outer posteriors.
Its error is sd / sqrt(outer) of the paired differences (each truth has its own seeds). It
lives in :mod:`sibsim.analysis.stepping_nested`, with the option to set contract terms after
the pilot.

The pilot's counts follow the likelihood's model (section "The likelihood" of
``docs/evidence.rst``): binomial at the exact expected share, with every unlisted
distribution at its mean, so the pilot informs the listed parameters only; the pilot's
participants are others than the contract's cohort. ``docs/stepping_stone.rst`` states
the method and its limits.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, NamedTuple

import numpy as np
from scipy.special import ndtri

__all__ = ["BOOTSTRAP", "MAX_SIZE", "NO_CONTRACT", "PriorSample", "Problem", "basis_size",
           "choose_contract", "counts_at", "ess", "log_likelihood", "normal_scores",
           "party_npv", "regression_estimate", "seeds_of"]

#: Bootstrap replicates of the prior sample in the regression estimator's error.
BOOTSTRAP = 100
#: The name of the option not to contract at all (the programme is not run): npv 0 for every
#: party in every draw. It may be listed among the contracts unless a contract has the name.
NO_CONTRACT = "none"
#: Largest pilot per arm (the counts are drawn participant by participant).
MAX_SIZE = 1_000_000
_TINY = 1e-300


class Problem(NamedTuple):
    """What is decided, by whom, after which pilot (checked by the caller)."""

    scenario: Any
    party: str
    contracts: list[str]
    paths: list[str]
    state: str
    month: int
    seed: int


class PriorSample(NamedTuple):
    """The simulated prior draws and the truths, shared by every pilot size."""

    theta: np.ndarray          # (J, d): the listed parameters of the simulated draws
    npv: np.ndarray            # (J, C): the party's npv under each contract
    shares: np.ndarray         # (J, 2): expected share, treatment and counterfactual arm
    truths: np.ndarray         # (I, d): the true parameters of the outer draws
    truth_shares: np.ndarray   # (I, 2)
    currency: str


# ---------------------------------------------------------------------------------------------
# Pieces shared by both estimators
# ---------------------------------------------------------------------------------------------


def seeds_of(seed: int, i: int, kind: int) -> int:
    """A seed for outer draw ``i`` and purpose ``kind``, independent of every other.

    Parameters
    ----------
    seed : int
        The run's seed.
    i, kind : int
        The outer draw and what the seed is for.

    Returns
    -------
    int
        In [0, 2**32).

    Examples
    --------
    >>> seeds_of(1, 0, 0) == seeds_of(1, 0, 0) != seeds_of(1, 1, 0)
    True
    """
    return int(np.random.SeedSequence([seed, 15, kind, i]).generate_state(1)[0])


def counts_at(seed: int, shares: np.ndarray, sizes: list[int]) -> np.ndarray:
    """The pilot's counts in each arm of each outer draw, for each size.

    Participant k of arm a in outer draw i is in the state when its uniform u_iak (its own
    stream) is below the share: so the counts of a larger pilot extend those of a smaller one
    (common random numbers along the EVSI curve), and each is Bin(size, share).

    Parameters
    ----------
    seed : int
        The run's seed.
    shares : ndarray, shape (I, 2)
        The true expected share in each arm.
    sizes : list of int
        Participants per arm.

    Returns
    -------
    ndarray of int64, shape (len(sizes), I, 2)
    """
    largest = max(sizes)
    out = np.zeros((len(sizes), len(shares), 2), dtype=np.int64)
    if largest == 0:
        return out
    for i, share in enumerate(shares):
        u = np.random.default_rng(seeds_of(seed, i, 0)).random((2, largest))
        hits = np.concatenate([np.zeros((2, 1), np.int64),
                               np.cumsum(u < share[:, None], axis=1)], axis=1)
        out[:, i, :] = hits[:, sizes].T
    return out


def log_likelihood(counts: np.ndarray, size: int, shares: np.ndarray) -> np.ndarray:
    """log p(counts_i | theta_j) up to a constant in j, shape (I, J).

    Parameters
    ----------
    counts : ndarray, shape (I, 2)
    size : int
    shares : ndarray, shape (J, 2)

    Returns
    -------
    ndarray, shape (I, J)
    """
    p = np.clip(shares, _TINY, 1.0)
    q = np.clip(1.0 - shares, _TINY, 1.0)
    x = counts.astype(np.float64)
    return x @ np.log(p).T + (size - x) @ np.log(q).T


def ess(weights: np.ndarray) -> np.ndarray:
    """Effective sample size of each row of normalised weights, 1 / sum w^2."""
    return 1.0 / np.sum(weights**2, axis=1)


def choose_contract(expected_npv: np.ndarray) -> np.ndarray:
    """The decision after the pilot: the contract of best posterior mean npv.

    This is the one step a richer decision replaces: choosing terms with ``sibsim.design``
    on the posterior (the price the municipality would offer after seeing the pilot) would
    take the posterior in place of its means and return the terms as well as the contract.

    Parameters
    ----------
    expected_npv : ndarray, shape (..., C)
        Posterior (or prior) mean npv of each contract.

    Returns
    -------
    ndarray of int
        The index of the chosen contract (the first of equals).
    """
    return np.argmax(expected_npv, axis=-1)


def party_npv(result: Any, problem: Problem) -> np.ndarray:
    """The party's npv under each listed contract in each draw, shape (draws, C).

    :data:`NO_CONTRACT` (when listed and not a contract's name) is 0 in every draw.

    Parameters
    ----------
    result : xarray.Dataset
        A result with ``npv``.
    problem : Problem

    Returns
    -------
    ndarray, shape (draws, C)
    """
    names = list(result["contract"].values)
    npv = result["npv"].sel(party=problem.party).transpose("draw", "contract")
    values = np.asarray(npv.values, dtype=np.float64)
    out = np.zeros((values.shape[0], len(problem.contracts)))
    for c, name in enumerate(problem.contracts):
        if name in names:
            out[:, c] = values[:, names.index(name)]
    if not np.isfinite(out).all():
        raise ValueError(f"stepping_stone: npv of {problem.party!r} is not finite in every draw")
    return out


# ---------------------------------------------------------------------------------------------
# The regression estimator
# ---------------------------------------------------------------------------------------------


def _exponents(d: int, degree: int) -> list[tuple[int, ...]]:
    return [e for e in itertools.product(range(degree + 1), repeat=d) if sum(e) <= degree]


def basis_size(d: int, degree: int) -> int:
    """Terms of the total-degree polynomial basis in d variables."""
    return math.comb(d + degree, degree)


def _basis(z: np.ndarray, degree: int) -> np.ndarray:
    """Products of probabilists' Hermite polynomials He_k(z), total degree <= degree."""
    each = [np.polynomial.hermite_e.hermevander(z[:, k], degree) for k in range(z.shape[1])]
    columns = [np.prod([each[k][:, e[k]] for k in range(z.shape[1])], axis=0)
               for e in _exponents(z.shape[1], degree)]
    return np.column_stack(columns)


def normal_scores(theta: np.ndarray, priors: list) -> np.ndarray:
    """Phi^-1(F_k(theta_k)) of each listed parameter under its prior, clipped to |z| <= 8."""
    u = np.column_stack([p.scipy().cdf(theta[:, k]) for k, p in enumerate(priors)])
    return np.clip(ndtri(np.clip(u, 1e-300, 1.0)), -8.0, 8.0)


class _Fit(NamedTuple):
    inner: np.ndarray   # (J, C): g_c(theta_j)
    truth: np.ndarray   # (I, C): g_c(theta_i)


def _fit(basis_inner: np.ndarray, basis_truth: np.ndarray, npv: np.ndarray,
         multiplicity: np.ndarray | None = None) -> _Fit:
    """Least squares of npv on the basis (each draw counted ``multiplicity`` times)."""
    if multiplicity is None:
        coef, *_ = np.linalg.lstsq(basis_inner, npv, rcond=None)
    else:
        root = np.sqrt(multiplicity)[:, None]
        coef, *_ = np.linalg.lstsq(basis_inner * root, npv * root, rcond=None)
    return _Fit(basis_inner @ coef, basis_truth @ coef)


def _thin(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for a b of few columns, one matrix-vector product per column (a general matrix
    product of this shape is many times slower in common BLAS libraries)."""
    return np.column_stack([a @ b[:, c] for c in range(b.shape[1])])


def _posterior_means(likelihood: np.ndarray, log_lik: np.ndarray, inner: np.ndarray,
                     multiplicity: np.ndarray) -> np.ndarray:
    """sum_j m_j L_ij g(theta_j) / sum_j m_j L_ij, each row (a bootstrap replicate)."""
    numerator = _thin(likelihood, multiplicity[:, None] * inner)
    denominator = likelihood @ multiplicity
    means = np.empty_like(numerator)
    ok = denominator > 0
    means[ok] = numerator[ok] / denominator[ok, None]
    kept = multiplicity > 0
    for i in np.flatnonzero(~ok):  # the draws kept lie far below the row's best: log space
        w = np.exp(log_lik[i, kept] - log_lik[i, kept].max()) * multiplicity[kept]
        means[i] = w @ inner[kept] / w.sum()
    return means


def _evsi_from(fit: _Fit, likelihood: np.ndarray | None, log_lik: np.ndarray | None,
               multiplicity: np.ndarray | None = None) -> dict:
    """Choices, posterior means and the paired scores of one pilot size.

    ``likelihood`` is exp(log_lik - its row maximum), None for a pilot of size 0 (a
    constant likelihood: nothing is learnt, the choice is the prior's).
    """
    if multiplicity is None:
        prior_mean = fit.inner.mean(axis=0)
    else:
        prior_mean = multiplicity @ fit.inner / multiplicity.sum()
    prior_choice = int(choose_contract(prior_mean))
    n_outer = fit.truth.shape[0]
    weights = None
    if likelihood is None:
        means = np.broadcast_to(prior_mean, (n_outer, len(prior_mean))).copy()
    elif multiplicity is None:
        weights = likelihood / likelihood.sum(axis=1, keepdims=True)
        means = _thin(weights, fit.inner)
    else:
        means = _posterior_means(likelihood, log_lik, fit.inner, multiplicity)
    choice = choose_contract(means)
    rows = np.arange(n_outer)
    gain = fit.truth[rows, choice] - fit.truth[:, prior_choice]
    perfect = fit.truth.max(axis=1) - fit.truth[:, prior_choice]
    return {"prior_choice": prior_choice, "weights": weights, "means": means,
            "choice": choice, "gain": gain, "perfect": perfect}


def regression_estimate(sample: PriorSample, priors: list, counts: np.ndarray, size: int, *,
                        degree: int, seed: int, bootstrap: int = BOOTSTRAP) -> dict:
    """EVSI and EVPPI of one pilot size by the regression estimator.

    Parameters
    ----------
    sample : PriorSample
    priors : list of Distribution
        The listed parameters' priors (for the normal scores).
    counts : ndarray, shape (I, 2)
        The pilot's counts (treatment, counterfactual) in each outer draw.
    size : int
        Participants per arm.
    degree : int, keyword-only
        Total degree of the regression.
    seed : int, keyword-only
        Seed of the bootstrap.
    bootstrap : int, keyword-only
        Bootstrap replicates of the prior sample (each draw counted as often as a
        resample with replacement picks it).

    Returns
    -------
    dict
        ``evsi``, ``evsi_mcse``, ``evppi``, ``evppi_mcse``, ``prior_choice``, ``choice``
        (I,), ``means`` (I, C), ``truth_npv`` (I, C), ``gain`` (I,), ``ess`` (I,),
        ``posterior_theta`` (I, d).
    """
    basis_inner = _basis(normal_scores(sample.theta, priors), degree)
    basis_truth = _basis(normal_scores(sample.truths, priors), degree)
    fit = _fit(basis_inner, basis_truth, sample.npv)
    log_lik = likelihood = None
    if size > 0:
        log_lik = log_likelihood(counts, size, sample.shares)
        likelihood = np.exp(log_lik - log_lik.max(axis=1, keepdims=True))
        # Below 1e-200 of a row's best a draw adds nothing; as 0 it keeps the products
        # clear of subnormal numbers, which are slow on most processors.
        likelihood[likelihood < 1e-200] = 0.0
    found = _evsi_from(fit, likelihood, log_lik)
    n_outer, n_inner = sample.truths.shape[0], sample.theta.shape[0]
    rng = np.random.default_rng(seeds_of(seed, 0, 1))
    replicates = np.empty((bootstrap, 2))
    for b in range(bootstrap):
        multiplicity = np.bincount(rng.integers(0, n_inner, n_inner),
                                   minlength=n_inner).astype(np.float64)
        again = _evsi_from(_fit(basis_inner, basis_truth, sample.npv, multiplicity),
                           likelihood, log_lik, multiplicity)
        replicates[b] = again["gain"].mean(), again["perfect"].mean()
    spread = replicates.var(axis=0, ddof=1) if bootstrap > 1 else np.zeros(2)
    outer_var = np.array([found["gain"].var(ddof=1), found["perfect"].var(ddof=1)]) / n_outer
    mcse = np.sqrt(outer_var + spread)
    weights = found["weights"]
    if weights is None:
        posterior_theta = np.broadcast_to(sample.theta.mean(axis=0), sample.truths.shape)
        sizes = np.full(n_outer, float(n_inner))
    else:
        posterior_theta = _thin(weights, sample.theta)
        sizes = ess(weights)
    return {"evsi": float(found["gain"].mean()), "evsi_mcse": float(mcse[0]),
            "evppi": float(found["perfect"].mean()), "evppi_mcse": float(mcse[1]),
            "prior_choice": found["prior_choice"], "choice": found["choice"],
            "means": found["means"], "truth_npv": fit.truth, "gain": found["gain"],
            "ess": sizes, "posterior_theta": np.asarray(posterior_theta)}
