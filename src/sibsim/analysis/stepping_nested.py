"""The nested estimator of :func:`sibsim.stepping_stone`, and terms set after the pilot.

For each outer draw i (truth theta_i, counts x_i): the posterior by :func:`sibsim.posterior`
on the counts; its fitted scenario simulated at ``inner`` draws gives the posterior mean npv
of each contract; the scenario with the listed parameters held at theta_i, simulated at
``inner`` draws, gives the score. No regression and no reweighting: each outer draw is two
simulations and a posterior, a task of its own on a dask cluster. The error of EVSI is the
sd of the paired gains over sqrt(outer), each outer draw with seeds of its own.

**Terms after the pilot.** With ``terms`` (a function of a scenario returning
``{key path: value}``), the decision after the pilot sets contract terms as well as
choosing the contract: the terms are set on each posterior's fitted scenario (for example
by ``sibsim.design``, the price the municipality would offer after seeing the pilot) and
applied both to the posterior means and to the score at the truth; without a pilot they are
set once on the prior scenario. The runs then carry each outer draw's terms, and the value
their distribution. EVPPI stays that of the contract choice at the prior's terms, so with
terms EVSI may exceed it (setting the terms after the pilot is worth something of its own).
:func:`design_terms` makes such a function from the settings of :func:`sibsim.design`:
the terms the design chooses on each fitted scenario (the closest terms where none meet
every constraint).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from sibsim.analysis.preposterior import (
    PriorSample,
    Problem,
    choose_contract,
    party_npv,
    seeds_of,
)

__all__ = ["DesignTerms", "Nested", "apply_terms", "design_terms", "nested_estimate",
           "nested_one"]


class Nested(NamedTuple):
    """The nested estimator's settings."""

    inner: int
    posterior_draws: int
    #: The terms set after the pilot: scenario -> {key path: value}; None for none.
    terms: Callable[[Any], Mapping[str, Any]] | None = None


def apply_terms(scenario: Any, terms: Mapping[str, Any]) -> Any:
    """The scenario with each key path of ``terms`` set to its value.

    Parameters
    ----------
    scenario : Scenario
    terms : mapping of str to object
        Key path -> value (a number, or whatever ``Scenario.replace`` accepts).

    Returns
    -------
    Scenario
    """
    for path, value in terms.items():
        scenario = scenario.replace(path, value)
    return scenario


@dataclass(frozen=True)
class DesignTerms:
    """The terms :func:`sibsim.design` chooses on a scenario: made by :func:`design_terms`.

    Called with a scenario, it returns ``{key path: value}`` for each key of ``params``:
    the chosen terms, or, where no candidate meets every constraint, the closest candidate
    (:attr:`sibsim.DesignInfeasible.closest`): the offer nearest to acceptable. A module
    level class, so that a dask ``client`` can send it to its workers.

    Attributes
    ----------
    contract : str
        The contract designed.
    params : dict
        Key path -> (low, high).
    maximize : dict
        The statistic maximised.
    constraints : tuple of dict
        The constraints.
    options : dict
        ``draws``, ``seed``, ``grid``, ``refine``, ``xtol`` of :func:`sibsim.design`.
    """

    contract: str
    params: dict
    maximize: dict
    constraints: tuple
    options: dict

    def __call__(self, scenario: Any) -> dict[str, float]:
        """The designed terms on ``scenario``: key path -> value."""
        from sibsim.analysis.design import design
        from sibsim.errors import DesignInfeasible

        try:
            _, table = design(scenario, contract=self.contract, params=self.params,
                              maximize=self.maximize, constraints=self.constraints,
                              **self.options)
        except DesignInfeasible as error:
            return {k: float(v) for k, v in error.closest.items()}
        return {k: float(v) for k, v in table.attrs["chosen"].items()}


def design_terms(*, contract: str, params: Mapping[str, tuple[float, float]],
                 maximize: Mapping[str, str], constraints: Sequence[Mapping[str, Any]] = (),
                 draws: int = 500, seed: int = 1, grid: int | None = None,
                 refine: int | None = None,
                 xtol: Mapping[str, float] | None = None) -> DesignTerms:
    """Terms set after the pilot by :func:`sibsim.design`, for ``estimator={"terms": ...}``.

    The function returned designs ``contract`` on the scenario it is given: in
    :func:`sibsim.stepping_stone` (nested estimator) on each posterior's fitted scenario,
    and once on the prior scenario, so that the terms (for example the price the
    municipality would offer after seeing the pilot) follow the pilot's counts and their
    distribution over the pilot's possible results is an output. Where no candidate meets
    every constraint, it returns the closest one.

    Parameters
    ----------
    contract : str, keyword-only
        The contract designed.
    params : mapping of str to (float, float), keyword-only
        Key path of each term -> (low, high), as for :func:`sibsim.design`.
    maximize : mapping, keyword-only
        ``{"party": ..., "statistic": ...}``.
    constraints : sequence of mapping, keyword-only
        Each ``{"party": ..., "statistic": ..., "max": x}`` (or ``"min": x``).
    draws : int, keyword-only, default 500
        Draws of each candidate (per design, so per outer draw of the pilot).
    seed : int, keyword-only, default 1
        Seed of every design (common random numbers across the pilot's results).
    grid, refine, xtol : keyword-only
        As for :func:`sibsim.design`.

    Returns
    -------
    DesignTerms
        A picklable function of a scenario returning ``{key path: value}``.

    Raises
    ------
    ValueError
        For a contract that is not a name, or params or maximize that are not mappings
        (the key paths and statistics are checked when it is first called, on the prior
        scenario).

    Examples
    --------
    >>> terms = design_terms(contract="card", params={"contracts[0].outcomes[0].price":
    ...                      (0, 100000)}, maximize={"party": "municipality",
    ...                      "statistic": "mean"}, draws=200)
    >>> terms.contract, terms.options["draws"]
    ('card', 200)
    """
    if not isinstance(contract, str) or not contract:
        raise ValueError(f"contract: got {contract!r}, expected a contract's name")
    if not isinstance(params, Mapping) or not params:
        raise ValueError(f"params: got {params!r}, expected a mapping of key paths to "
                         "(low, high)")
    if not isinstance(maximize, Mapping):
        raise ValueError(f"maximize: got {maximize!r}, expected {{'party': ..., "
                         "'statistic': ...}")
    options = {"draws": draws, "seed": seed, "grid": grid, "refine": refine,
               "xtol": None if xtol is None else dict(xtol)}
    return DesignTerms(contract=contract, params={k: tuple(v) for k, v in params.items()},
                       maximize=dict(maximize),
                       constraints=tuple(dict(c) for c in constraints), options=options)


def _terms_of(settings: Nested, scenario: Any) -> dict:
    if settings.terms is None:
        return {}
    found = settings.terms(scenario)
    if not isinstance(found, Mapping) or not all(isinstance(k, str) for k in found):
        raise ValueError(f"estimator.terms: returned {type(found).__name__}, expected a dict "
                         f"of key paths and values")
    return dict(found)


def _mean_npv(scenario: Any, problem: Problem, draws: int, seed: int) -> np.ndarray:
    from sibsim.engine import simulate

    result = simulate(scenario, draws=draws, seed=seed, progress=False, variables=["npv"])
    return party_npv(result, problem).mean(axis=0)


def _posterior_of(problem: Problem, i: int, counts: np.ndarray, size: int,
                  draws: int) -> tuple[Any, np.ndarray, bool]:
    """The fitted scenario, the posterior means of the parameters, whether it warned."""
    from sibsim.analysis.posterior import PosteriorWarning, posterior

    data = [{"state": problem.state, "arm": arm, "months_since_entry": problem.month,
             "count": int(c), "n": int(size)}
            for arm, c in zip(("treatment", "counterfactual"), counts)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PosteriorWarning)
        fitted, report = posterior(problem.scenario, data=data, params=problem.paths,
                                   draws=draws, seed=seeds_of(problem.seed, i, 3))
    rows = report[report["kind"] == "param"].set_index("param")
    theta = rows.loc[problem.paths, "posterior_mean"].to_numpy(dtype=np.float64)
    return fitted, theta, any(issubclass(w.category, PosteriorWarning) for w in caught)


def nested_one(problem: Problem, i: int, truth: np.ndarray, counts: np.ndarray, size: int,
               settings: Nested, prior_terms: Mapping[str, Any]) -> dict:
    """One outer draw of the nested estimator.

    Parameters
    ----------
    problem : Problem
    i : int
        The outer draw (for its seeds).
    truth : ndarray, shape (d,)
    counts : ndarray, shape (2,)
        Treatment and counterfactual counts.
    size : int
    settings : Nested
    prior_terms : mapping
        The terms set without a pilot.

    Returns
    -------
    dict
        ``prior_score`` (C,): mean npv at the truth under the prior's terms; ``score``
        (C,): under the terms set after the pilot; ``means`` (C,) or None: posterior mean
        npv; ``theta`` (d,) or None: posterior means; ``terms``; ``warned``.
    """
    held = problem.scenario
    for path, value in zip(problem.paths, truth):
        held = held.replace(path, float(value))
    seed = seeds_of(problem.seed, i, 2)
    prior_score = _mean_npv(apply_terms(held, prior_terms), problem, settings.inner, seed)
    if size == 0:
        return {"prior_score": prior_score, "score": prior_score, "means": None,
                "theta": None, "terms": dict(prior_terms), "warned": False}
    fitted, theta, warned = _posterior_of(problem, i, counts, size, settings.posterior_draws)
    terms = _terms_of(settings, fitted)
    means = _mean_npv(apply_terms(fitted, terms), problem, settings.inner,
                      seeds_of(problem.seed, i, 4))
    score = prior_score if not terms and not prior_terms else \
        _mean_npv(apply_terms(held, terms), problem, settings.inner, seed)
    return {"prior_score": prior_score, "score": score, "means": means, "theta": theta,
            "terms": terms, "warned": warned}


def _prior_means(problem: Problem, sample: PriorSample, prior_terms: Mapping) -> np.ndarray:
    if not prior_terms:
        return sample.npv.mean(axis=0)
    return _mean_npv(apply_terms(problem.scenario, prior_terms), problem,
                     sample.npv.shape[0], problem.seed)


def nested_estimate(problem: Problem, sample: PriorSample, counts: np.ndarray, size: int,
                    settings: Nested, *, client: Any = None) -> dict:
    """EVSI and EVPPI of one pilot size by nested simulation (see the module docstring).

    Parameters
    ----------
    problem : Problem
    sample : PriorSample
        Its npv gives the prior choice (with terms: a simulation at the prior's terms).
    counts : ndarray, shape (I, 2)
    size : int
    settings : Nested
    client : dask.distributed.Client, optional, keyword-only
        Runs each outer draw as a task.

    Returns
    -------
    dict
        As :func:`sibsim.analysis.preposterior.regression_estimate` (``ess`` NaN), plus
        ``posterior_warnings`` (outer draws whose posterior warned), ``terms`` (one dict per
        outer draw) and ``prior_terms``.
    """
    prior_terms = _terms_of(settings, problem.scenario)
    n_outer = sample.truths.shape[0]
    jobs = [(problem, i, sample.truths[i], counts[i], size, settings, prior_terms)
            for i in range(n_outer)]
    if client is not None:
        found = client.gather(client.map(nested_one, *zip(*jobs), pure=False))
    else:
        found = [nested_one(*job) for job in jobs]
    prior_mean = _prior_means(problem, sample, prior_terms)
    prior_choice = int(choose_contract(prior_mean))
    prior_score = np.array([f["prior_score"] for f in found])
    score = np.array([f["score"] for f in found])
    means = np.array([prior_mean if f["means"] is None else f["means"] for f in found])
    choice = np.full(n_outer, prior_choice) if size == 0 else choose_contract(means)
    rows = np.arange(n_outer)
    gain = score[rows, choice] - prior_score[:, prior_choice]
    perfect = prior_score.max(axis=1) - prior_score[:, prior_choice]
    theta = np.array([sample.theta.mean(axis=0) if f["theta"] is None else f["theta"]
                      for f in found])
    root = math.sqrt(n_outer)
    return {"evsi": float(gain.mean()), "evsi_mcse": float(gain.std(ddof=1) / root),
            "evppi": float(perfect.mean()), "evppi_mcse": float(perfect.std(ddof=1) / root),
            "prior_choice": prior_choice, "choice": choice, "means": means,
            "truth_npv": score, "gain": gain, "ess": np.full(n_outer, np.nan),
            "posterior_theta": theta,
            "posterior_warnings": int(sum(f["warned"] for f in found)),
            "terms": [f["terms"] for f in found], "prior_terms": prior_terms}
