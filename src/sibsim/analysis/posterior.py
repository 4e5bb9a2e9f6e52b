"""Evidence in the scenario: the posterior of parameters given observed counts.

:func:`posterior` updates the distributions at some key paths of a scenario (the prior) with
observed counts: among ``n`` participants at some months since entry, ``count`` were in a
state. The likelihood is binomial, count ~ Bin(n, share(theta)), with share(theta) the exact
expected share of ``calibrate`` (:mod:`sibsim.engine.shares`, held to
:func:`sibsim.engine.exact.expected_share`). The sampler is in
:mod:`~sibsim.analysis.posterior_sampler`, the fitted distributions and correlations in
:mod:`~sibsim.analysis.posterior_fit`; ``docs/evidence.rst`` explains the method and how to
read the report.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln, ndtri, xlog1py, xlogy

from sibsim.analysis import posterior_fit as fit
from sibsim.analysis import posterior_sampler as sampler
from sibsim.analysis.options import is_whole_number
from sibsim.engine.chain import FRAILTY_NODES
from sibsim.engine.rng import check_seed
from sibsim.engine.shares import UnsupportedPath, expected_shares, share_target
from sibsim.errors import ScenarioError
from sibsim.rules import ARMS
from sibsim.scenario import Distribution, Scenario, load_scenario
from sibsim.scenario.correlations import blocks, canonical_name
from sibsim.scenario.keypath import format_path, join, problem
from sibsim.scenario.kinds import quoted, suggest

__all__ = ["COLUMNS", "PosteriorWarning", "posterior"]

#: The columns of the report.
COLUMNS = ("kind", "param", "prior_mean", "prior_sd", "posterior_mean", "posterior_sd",
           "posterior_p05", "posterior_p95", "fit_ks", "ess", "observed")
_DATUM_KEYS = ("state", "arm", "months_since_entry", "count", "n")
#: The least draws the Pareto-smoothed weights are estimated from.
MIN_DRAWS = 100
#: The effective sample size below which the draws are too few, as a share of the draws.
ESS_SHARE = 0.25
#: The frailty-quadrature node counts tried, and the bound on the log-likelihood error.
_NODES = (16, 24, 32, 48, 64, 96)
_LOG_LIKELIHOOD_ERROR = 1e-6
#: The Kolmogorov-Smirnov distance above which a fitted distribution is a rough description.
ROUGH_FIT = 0.05
#: Draws of the prior predictive check.
PRIOR_DRAWS = 1000


class PosteriorWarning(RuntimeWarning):
    """The posterior sample cannot be trusted, or is worth fewer draws than asked for."""


# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------


def _check_params(scenario: Scenario, params: Any) -> tuple[list[str], list[Distribution]]:
    if isinstance(params, str):
        params = [params]
    if not isinstance(params, Iterable) or isinstance(params, Mapping):
        raise ScenarioError(problem("params", params, "a list of key paths of per-draw "
                                    "parameters given as distributions"))
    params = list(params)
    if not params:
        raise ScenarioError("params: got an empty list, expected at least one key path")
    uncertain, numbers = scenario.uncertain(), scenario.parameters()
    paths: list[str] = []
    for i, path in enumerate(params):
        where = format_path(["params", i])
        canonical = canonical_name(path)
        if canonical is None:
            raise ScenarioError(problem(where, path, "a key path such as "
                                        "'transitions[0].effect.ratio'"))
        if canonical not in numbers:
            raise ScenarioError(problem(where, path, f"the key path of a per-draw parameter "
                                        f"given as a distribution (this scenario has "
                                        f"{quoted(list(uncertain), 6) or 'none'})"
                                        f"{suggest(path, list(uncertain))}"))
        if canonical not in uncertain:
            raise ScenarioError(problem(where, path, f"the key path of a per-draw parameter "
                                        f"given as a distribution: it is the number "
                                        f"{numbers[canonical]!r} here (give it a prior)"))
        if canonical in paths:
            raise ScenarioError(problem(where, path, "a key path not listed before"))
        paths.append(canonical)
    return paths, [uncertain[p] for p in paths]


def _check_data(scenario: Scenario, data: Any) -> list[dict]:
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, Iterable) or isinstance(data, (str, bytes)):
        raise ValueError(problem("data", data, f"a list of dicts with keys "
                                 f"{', '.join(_DATUM_KEYS)}"))
    states, last = scenario.states(), scenario.months - 1
    out = []
    for i, datum in enumerate(data):
        where = format_path(["data", i])
        if not isinstance(datum, Mapping):
            raise ValueError(problem(where, datum, f"a dict with keys {', '.join(_DATUM_KEYS)}"))
        unknown = [k for k in datum if k not in _DATUM_KEYS]
        if unknown:
            raise ValueError(problem(join(where, str(unknown[0])), datum[unknown[0]],
                                     f"one of the keys {', '.join(_DATUM_KEYS)}"
                                     f"{suggest(unknown[0], _DATUM_KEYS)}"))
        for key in _DATUM_KEYS:
            if key not in datum:
                raise ValueError(f"{join(where, key)}: got nothing (the key is missing)")
        state, arm, m, count, n = (datum[k] for k in _DATUM_KEYS)
        if state not in states:
            raise ValueError(problem(join(where, "state"), state,
                                     f"one of the states {states}{suggest(state, states)}"))
        if arm not in ARMS:
            raise ValueError(problem(join(where, "arm"), arm, f"one of {list(ARMS)}"))
        if not is_whole_number(m) or not 0 <= m <= last:
            raise ValueError(problem(join(where, "months_since_entry"), m,
                                     f"a whole number from 0 to {last} (within the horizon)"))
        if not is_whole_number(n) or n < 1:
            raise ValueError(problem(join(where, "n"), n, "a whole number >= 1"))
        if not is_whole_number(count) or not 0 <= count <= n:
            raise ValueError(problem(join(where, "count"), count,
                                     f"a whole number from 0 to n = {int(n)}"))
        out.append({"state": state, "arm": arm, "months_since_entry": int(m),
                    "count": int(count), "n": int(n)})
    if not out:
        raise ValueError("data: got an empty list, expected at least one observed count")
    return out


def _check_draws(draws: Any) -> int:
    if not is_whole_number(draws) or draws < MIN_DRAWS:
        raise ValueError(problem("draws", draws, f"a whole number >= {MIN_DRAWS}"))
    return int(draws)


# ---------------------------------------------------------------------------------------------
# The model: prior, likelihood, shares
# ---------------------------------------------------------------------------------------------


class _Model:
    """The prior and the binomial likelihood of the listed parameters."""

    def __init__(self, scenario: Scenario, paths: list[str], priors: list[Distribution],
                 data: list[dict]):
        self.scenario, self.paths, self.priors, self.data = scenario, paths, priors, data
        self.points = [(d["state"], d["arm"], d["months_since_entry"]) for d in data]
        self.count = np.array([d["count"] for d in data], dtype=np.float64)
        self.n = np.array([d["n"] for d in data], dtype=np.float64)
        self.transforms = [sampler.Transform(*prior.support()) for prior in priors]
        self.targets = []
        for path in paths:
            try:
                self.targets.append(share_target(path)[0])
            except UnsupportedPath:
                self.targets.append("unsupported")
        self.fast = "unsupported" not in self.targets
        self.nodes = 32
        self.copula = self._prior_correlation()
        self.last: tuple[np.ndarray, np.ndarray] | None = None

    def _prior_correlation(self) -> np.ndarray | None:
        """The prior correlation matrix of the listed parameters' normal scores, if any."""
        matrix = np.eye(len(self.paths))
        for block in blocks(self.scenario.get("correlations"), list(self.scenario.parameters())):
            inside = [(i, block.names.index(p)) for i, p in enumerate(self.paths)
                      if p in block.names]
            for i, a in inside:
                for j, b in inside:
                    matrix[i, j] = block.matrix[a, b]
        return None if np.array_equal(matrix, np.eye(len(self.paths))) else matrix

    def shares(self, x: np.ndarray, nodes: int | None = None, exact: bool = False) -> np.ndarray:
        """Expected share at every datum, shape (B, data)."""
        if self.fast and not exact:
            values = {p: x[:, i] for i, p in enumerate(self.paths)}
            return expected_shares(self.scenario, self.points, values,
                                   nodes=self.nodes if nodes is None else nodes)
        from sibsim.engine.exact import expected_share

        out = np.empty((len(x), len(self.points)))
        for b, row in enumerate(x):
            variant = self.scenario
            for path, value in zip(self.paths, row):
                variant = variant.replace(path, float(value))
            out[b] = [expected_share(variant, state=s, arm=a, months_since_entry=m)
                      for s, a, m in self.points]
        return out

    def log_prior(self, x: np.ndarray) -> np.ndarray:
        total = np.zeros(len(x))
        for i, prior in enumerate(self.priors):
            total += prior.scipy().logpdf(x[:, i])
        if self.copula is not None:
            u = np.column_stack([np.clip(p.scipy().cdf(x[:, i]), 1e-300, 1 - 1e-16)
                                 for i, p in enumerate(self.priors)])
            z = ndtri(u)
            inverse = np.linalg.inv(self.copula) - np.eye(len(self.paths))
            total += (-0.5 * np.einsum("bi,ij,bj->b", z, inverse, z)
                      - 0.5 * np.linalg.slogdet(self.copula)[1])
        return total

    def log_likelihood(self, shares: np.ndarray) -> np.ndarray:
        """Binomial log likelihood of the data at each row of shares, shape (B,)."""
        constant = gammaln(self.n + 1) - gammaln(self.count + 1) - gammaln(self.n - self.count + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = xlogy(self.count, shares) + xlog1py(self.n - self.count, -shares)
        return np.sum(terms + constant, axis=1)

    def to_bounded(self, y: np.ndarray) -> np.ndarray:
        return np.column_stack([t.to_bounded(y[:, i]) for i, t in enumerate(self.transforms)])

    def log_density(self, y: np.ndarray) -> np.ndarray:
        """log p(y | data) up to a constant, on the unbounded coordinates, shape (B,)."""
        y = np.atleast_2d(y)
        x = self.to_bounded(y)
        jacobian = sum(t.log_jacobian(y[:, i]) for i, t in enumerate(self.transforms))
        shares = self.shares(x)
        self.last = (x, shares)  # the final sample's shares serve the report
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.log_prior(x) + jacobian + self.log_likelihood(shares)


def _choose_nodes(model: _Model, x: np.ndarray) -> int:
    """The fewest frailty nodes whose log likelihood is within 1e-6 of the full rule's."""
    full = model.shares(x, nodes=FRAILTY_NODES)
    margin = np.maximum(np.minimum(full, 1 - full), 1e-300)
    for nodes in _NODES:
        error = np.abs(model.shares(x, nodes=nodes) - full)
        if np.max(np.sum(model.n * error / margin, axis=1)) <= _LOG_LIKELIHOOD_ERROR:
            return nodes
    return FRAILTY_NODES


def _check_fast_path(model: _Model, x: np.ndarray) -> None:
    """Hold the many-values kernel to the exact module at a few values; else use the latter."""
    fast = model.shares(x, nodes=FRAILTY_NODES)
    exact = model.shares(x, exact=True)
    if not np.allclose(fast, exact, rtol=0, atol=1e-10):
        warnings.warn("posterior: the fast expected shares disagree with "
                      f"sibsim.engine.exact.expected_share by up to "
                      f"{np.max(np.abs(fast - exact)):.3g} (a bug: please report it); using the "
                      "exact module instead, which is slower", PosteriorWarning, stacklevel=3)
        model.fast = False


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


def _predictive(shares: np.ndarray, weights: np.ndarray, n: int) -> tuple[float, float, float,
                                                                          float]:
    """Mean, sd and 90% interval of count / n under the mixture of Bin(n, share) by weight."""
    mean = float(weights @ shares)
    sd = math.sqrt(max(weights @ (shares * (1 - shares)) / n + weights @ (shares - mean) ** 2,
                       0.0))
    spread = 8 * math.sqrt(n / 4) + 1
    low = max(0, math.floor(n * shares.min() - spread))
    high = min(n, math.ceil(n * shares.max() + spread))
    k = np.arange(low, high + 1)
    cdf = np.zeros(len(k))
    for start in range(0, len(shares), 500):
        part = slice(start, start + 500)
        cdf += weights[part] @ stats.binom.cdf(k[None, :], n, shares[part, None])
    p05, p95 = (k[min(np.searchsorted(cdf, q - 1e-12), len(k) - 1)] / n for q in (0.05, 0.95))
    return mean, sd, float(p05), float(p95)


def _parameter_rows(model: _Model, x: np.ndarray, weights: np.ndarray,
                    fitted: list[Distribution]) -> list[tuple]:
    rows = []
    for i, (path, prior) in enumerate(zip(model.paths, model.priors)):
        mean = float(weights @ x[:, i])
        sd = math.sqrt(max(weights @ (x[:, i] - mean) ** 2, 0.0))
        p05, p95 = sampler.weighted_quantile(x[:, i], weights, [0.05, 0.95])
        rows.append(("param", path, prior.mean(), float(prior.scipy().std()), mean, sd,
                     float(p05), float(p95), fit.ks_distance(x[:, i], weights, fitted[i]),
                     sampler.ess_of(x[:, i], weights), math.nan))
    return rows


def _datum_rows(model: _Model, shares: np.ndarray, weights: np.ndarray,
                prior_shares: np.ndarray) -> list[tuple]:
    rows = []
    flat = np.full(len(prior_shares), 1.0 / len(prior_shares))
    for j, datum in enumerate(model.data):
        n = datum["n"]
        prior_mean, prior_sd, _, _ = _predictive(prior_shares[:, j], flat, n)
        mean, sd, p05, p95 = _predictive(shares[:, j], weights, n)
        name = f"{datum['state']} {datum['arm']} month {datum['months_since_entry']}"
        rows.append(("datum", name, prior_mean, prior_sd, mean, sd, p05, p95, math.nan,
                     sampler.ess_of(shares[:, j], weights), datum["count"] / n))
    return rows


def _prior_draws(model: _Model, draws: int, seed: int) -> np.ndarray:
    """Draws of the listed parameters from the scenario's own prior (copula included)."""
    from sibsim.engine.params import sample_parameters

    values = sample_parameters(model.scenario, np.arange(draws), seed)
    return np.column_stack([values.get(p) for p in model.paths])


def _warn(report: pd.DataFrame, sample: sampler.Sample, draws: int, inert: list[str]) -> None:
    if inert:
        warnings.warn(f"posterior: {inert} change no expected share of the data: their "
                      "posterior is their prior (left as it is in the fitted scenario)",
                      PosteriorWarning, stacklevel=3)
    if not sample.pareto_k <= sampler.K_TRUSTED:
        warnings.warn(
            f"posterior: the sample cannot be trusted (Pareto k = {sample.pareto_k:.2f} > "
            f"{sampler.K_TRUSTED}): the posterior is too far from the Student-t fitted at its "
            "mode (several modes, a ridge along which the data cannot tell the parameters "
            "apart, or data in conflict with the prior). More draws will not help: list fewer "
            "parameters, or ones the data inform, and check the data against the prior "
            "predictive columns of the datum rows", PosteriorWarning, stacklevel=3)
        return
    params = report[report["kind"] == "param"]
    # Beyond the 1% point of the distance that the draws' own noise would give.
    noise = 1.63 / math.sqrt(max(sample.ess, 1.0))
    rough = params[(params["fit_ks"] > max(ROUGH_FIT, noise)) & ~params["param"].isin(inert)]
    for _, row in rough.iterrows():
        warnings.warn(
            f"posterior: the distribution fitted to {row['param']} describes its posterior "
            f"only roughly (Kolmogorov-Smirnov distance {row['fit_ks']:.3f}): the fitted "
            "scenario draws it differently from the posterior (a parameter the data hardly "
            "inform keeps the shape of its prior better when it is left out of params)",
            PosteriorWarning, stacklevel=3)
    ess = report["ess"].min()
    if ess < ESS_SHARE * draws:
        wanted = math.ceil(draws * draws / max(ess, 1.0) / 100) * 100
        warnings.warn(
            f"posterior: the {draws} draws are worth only {ess:.0f} independent ones "
            f"(effective sample size, {report.loc[report['ess'].idxmin(), 'param']}); ask for "
            f"draws={wanted} for about {draws} effective draws, or read the posterior "
            f"summaries with their Monte Carlo error (sd / sqrt(ess))",
            PosteriorWarning, stacklevel=3)


def posterior(scenario: Any, *, data: Sequence[Mapping[str, Any]], params: Sequence[str],
              draws: int = 4000, seed: int = 1) -> tuple[Scenario, pd.DataFrame]:
    """The posterior of some parameters given observed counts, and the scenario fitted to it.

    Prior: the distributions standing at the key paths in ``params`` (with the correlation
    of their normal scores where ``[[correlations]]`` links them). Likelihood: independent
    binomials, ``count ~ Bin(n, share(theta))``, with share(theta) the exact expected share
    in the datum's state among participants at its months since entry, in its arm, as
    :func:`sibsim.calibrate` computes it (over frailty and prior months, every other
    distribution at its mean, no economy shock), with the listed parameters at theta.

    Sampler: importance sampling from a multivariate Student-t (5 degrees of freedom) fitted
    at the posterior mode and refined on a pilot sample, on unbounded coordinates (log for a
    positive parameter, logit for a bounded one, with the Jacobian), Pareto-smoothed (PSIS);
    see :mod:`sibsim.analysis.posterior_sampler` and ``docs/evidence.rst``.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    data : sequence of dict, keyword-only
        Each with keys ``state``, ``arm`` ("treatment" or "counterfactual"),
        ``months_since_entry``, ``count`` and ``n``: ``count`` of ``n`` participants were
        in ``state`` at that many months since entry.
    params : sequence of str, keyword-only
        Key paths of per-draw parameters given as distributions.
    draws : int, keyword-only, default 4000
        Size of the posterior sample (>= 100).
    seed : int, keyword-only, default 1
        Seed of the sampler and of the prior predictive draws.

    Returns
    -------
    fitted : Scenario
        The scenario with each listed parameter replaced by a distribution fitted to its
        posterior (the prior's family where it is normal, lognormal, gamma or beta, matched
        on mean and sd, lognormal on the mean and sd of ln x; for uniform, triangular and
        pert priors beta on a support within [0, 1], gamma within [0, inf), else normal),
        and one ``[[correlations]]`` entry per pair of them for the posterior correlation of
        their normal scores (replacing any correlation between two of them).
    report : pandas.DataFrame
        Columns ``kind``, ``param``, ``prior_mean``, ``prior_sd``, ``posterior_mean``,
        ``posterior_sd``, ``posterior_p05``, ``posterior_p95``, ``fit_ks``, ``ess``,
        ``observed``. One row of kind "param" per parameter (``fit_ks`` the
        Kolmogorov-Smirnov distance between the weighted draws and the fitted distribution,
        ``ess`` the effective sample size of its posterior mean), then one of kind "datum"
        per datum (``param`` names it, ``observed`` is count / n, the prior and posterior
        columns describe the predictive distribution of count / n). ``attrs`` holds
        ``sampler``, ``pareto_k``, ``pilot_pareto_k``, ``trusted``, ``ess``, ``draws``,
        ``frailty_nodes`` (of the frailty quadrature, 1 without frailty),
        ``log_marginal_likelihood``, ``mode`` (path -> value), ``posterior_draws`` (draws,
        params) and ``weights`` (draws,).

    Raises
    ------
    ScenarioError
        When a key path of ``params`` is not a per-draw parameter given as a distribution.
    ValueError
        For invalid data, draws or seed.

    Warns
    -----
    PosteriorWarning
        When the sample cannot be trusted (Pareto k > 0.7), when its effective sample size
        is below a quarter of ``draws`` (naming the draws to ask for), for a fitted
        distribution more than 0.05 from its posterior draws (Kolmogorov-Smirnov; and more
        than the draws' own noise, 1.63 / sqrt(ess)), and for a listed parameter that
        changes no share.

    Examples
    --------
    >>> import sibsim
    >>> fitted, report = sibsim.posterior(
    ...     "danish-pilot",
    ...     data=[{"state": "employed", "arm": "treatment", "months_since_entry": 14,
    ...            "count": 23, "n": 65}],
    ...     params=["transitions[0].effect.ratio"], draws=400)
    >>> list(report["kind"]), report.attrs["trusted"]
    (['param', 'datum'], True)
    >>> fitted.uncertain()["transitions[0].effect.ratio"].family
    'lognormal'
    """
    base = load_scenario(scenario)
    paths, priors = _check_params(base, params)
    observed = _check_data(base, data)
    draws, seed = _check_draws(draws), check_seed(seed)
    model = _Model(base, paths, priors, observed)
    inert = [p for p, target in zip(paths, model.targets) if target == "inert"]
    start = np.array([t.to_unbounded(p.median()) for t, p in zip(model.transforms, priors)])
    if model.fast:
        _check_fast_path(model, model.to_bounded(np.vstack([start, start + 0.5])))
    start = _starting_point(model, start)
    rng = np.random.default_rng(seed)
    sample = _sample(model, start, draws, rng)
    x = model.to_bounded(sample.y)
    fitted = [prior if path in inert else fit.fit_distribution(prior, x[:, i], sample.weights)
              for i, (path, prior) in enumerate(zip(paths, priors))]
    informed = [i for i, p in enumerate(paths) if p not in inert]
    correlations = fit.score_correlations(x[:, informed], sample.weights,
                                          [fitted[i] for i in informed],
                                          [paths[i] for i in informed])
    scenario_out = fit.fitted_scenario(base, {paths[i]: fitted[i] for i in informed},
                                       correlations)
    shares = model.last[1] if np.array_equal(model.last[0], x) else model.shares(x)
    prior_shares = model.shares(_prior_draws(model, min(draws, PRIOR_DRAWS), seed))
    rows = (_parameter_rows(model, x, sample.weights, fitted)
            + _datum_rows(model, shares, sample.weights, prior_shares))
    report = pd.DataFrame(rows, columns=list(COLUMNS))
    report.attrs = _attrs(model, sample, x, draws)
    _warn(report, sample, draws, inert)
    return scenario_out, report


def _starting_point(model: _Model, start: np.ndarray) -> np.ndarray:
    """The prior medians or, where the data are impossible there, the best of a few quantiles."""
    candidates = [start]
    for q in (0.05, 0.25, 0.75, 0.95):
        moved = [t.to_unbounded(p.quantile(q)) for t, p in zip(model.transforms, model.priors)]
        candidates.append(np.array(moved))
        for i, value in enumerate(moved):
            candidates.append(np.where(np.arange(len(start)) == i, value, start))
    candidates = np.array(candidates)
    values = model.log_density(candidates)
    if np.isfinite(values).any():
        return start if np.isfinite(values[0]) else candidates[np.argmax(values)]
    shares = model.shares(model.to_bounded(candidates))
    for i, datum in enumerate(model.data):
        never = np.all(shares[:, i] == 0) and datum["count"] > 0
        always = np.all(shares[:, i] == 1) and datum["count"] < datum["n"]
        if never or always:
            raise ValueError(problem(join(format_path(["data", i]), "count"), datum["count"],
                                     f"{'0' if never else 'n'}: the scenario's expected share "
                                     f"in {datum['state']!r} is {0 if never else 1} there at "
                                     f"every value of the parameters tried"))
    raise ValueError("posterior: the data are impossible under the prior at every value of "
                     "the parameters tried (log likelihood -inf)")


def _sample(model: _Model, start: np.ndarray, draws: int,
            rng: np.random.Generator) -> sampler.Sample:
    """Run the sampler, with the fewest frailty nodes that keep the likelihood exact."""
    if not model.fast:
        return sampler.run(model.log_density, start, draws, rng)
    model.nodes = 32
    mode, guess = sampler.find_mode(model.log_density, start)
    sd = np.sqrt(np.clip(np.diag(guess), 0, 1e4))
    probes = mode + np.vstack([np.zeros(len(mode)), 3 * np.diag(sd), -3 * np.diag(sd)])
    model.nodes = _choose_nodes(model, model.to_bounded(probes))
    return sampler.run(model.log_density, start, draws, rng, mode=(mode, guess))


def _attrs(model: _Model, sample: sampler.Sample, x: np.ndarray, draws: int) -> dict:
    log_ratios = sample.log_ratios[np.isfinite(sample.log_ratios)]
    top = np.max(log_ratios) if len(log_ratios) else -math.inf
    evidence = top + math.log(np.sum(np.exp(log_ratios - top)) / len(sample.log_ratios))
    mode = model.to_bounded(sample.mode[None])[0]
    return {
        "sampler": ("importance sampling, Pareto-smoothed (PSIS), from a " + sample.proposal
                    + " on unbounded coordinates (log for a positive parameter, logit for a "
                    "bounded one)"),
        "pareto_k": sample.pareto_k,
        "pilot_pareto_k": sample.pilot_k,
        "trusted": bool(sample.pareto_k <= sampler.K_TRUSTED),
        "ess": sample.ess,
        "draws": draws,
        "frailty_nodes": (model.nodes if model.fast else FRAILTY_NODES) if any(
            t["frailty"] for t in model.scenario.data["transitions"]) else 1,
        "log_marginal_likelihood": float(evidence),
        "mode": dict(zip(model.paths, map(float, mode))),
        "posterior_draws": x,
        "weights": sample.weights,
    }
