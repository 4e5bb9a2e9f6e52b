"""The pilot as a stepping stone: :func:`stepping_stone` and :func:`evsi_curve`.

A donation-funded trial comes first; the partners choose a repayable contract afterwards.
:func:`stepping_stone` asks what the trial's counts are worth to that choice (the expected
value of sample information, EVSI), against what perfect knowledge of the same parameters
would be worth (EVPPI), and how likely each contract is to be chosen once the results are
in. :func:`evsi_curve` repeats it over pilot sizes, on the same draws, with the pilot's cost.
The estimators are in :mod:`sibsim.analysis.preposterior`; ``docs/stepping_stone.rst``
states the method, the equations and the limits.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sibsim.analysis import preposterior as pp
from sibsim.analysis.stepping_nested import Nested, nested_estimate
from sibsim.analysis.options import check_name, is_whole_number
from sibsim.analysis.posterior import _check_params
from sibsim.engine.rng import check_seed
from sibsim.engine.shares import UnsupportedPath, expected_shares
from sibsim.scenario import load_scenario
from sibsim.scenario.distributions import Distribution, as_real
from sibsim.scenario.keypath import problem as problem_text
from sibsim.scenario.kinds import suggest

__all__ = ["METHODS", "SteppingStoneWarning", "evsi_curve", "stepping_stone"]

#: The estimators: "regression" (default) and "nested".
METHODS = ("regression", "nested")
#: The effective sample size of the reweighted prior draws below which a pilot's posterior
#: rests on too few draws (warned when a tenth of the outer draws fall below it).
MIN_ESS = 20
_PILOT_KEYS = ("size", "state", "months_since_entry")


class SteppingStoneWarning(RuntimeWarning):
    """The estimate rests on too few draws: the message names what to raise."""


# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------


def _whole(option: str, value: Any, least: int) -> int:
    if not is_whole_number(value) or int(value) < least:
        raise ValueError(problem_text(option, value, f"a whole number >= {least}"))
    return int(value)


def _check_size(value: Any, option: str = "pilot.size") -> int:
    size = _whole(option, value, 0)
    if size > pp.MAX_SIZE:
        raise ValueError(problem_text(option, value, f"at most {pp.MAX_SIZE:,} participants "
                                                     "per arm"))
    return size


def _check_pilot(scenario, pilot: Any, *, with_size: bool) -> tuple[str, int, int | None]:
    keys = _PILOT_KEYS if with_size else _PILOT_KEYS[1:]
    if not isinstance(pilot, Mapping):
        raise ValueError(problem_text("pilot", pilot, f"a dict with keys {', '.join(keys)}"))
    for key in pilot:
        if key not in keys:
            raise ValueError(problem_text(f"pilot.{key}", pilot[key], f"one of the keys "
                                          f"{', '.join(keys)}{suggest(key, keys)}"))
    for key in keys:
        if key not in pilot:
            raise ValueError(f"pilot.{key}: got nothing (the key is missing)")
    states = scenario.states()
    state = pilot["state"]
    if state not in states:
        raise ValueError(problem_text("pilot.state", state,
                                      f"one of the states {states}{suggest(state, states)}"))
    month, last = pilot["months_since_entry"], scenario.months - 1
    if not is_whole_number(month) or not 0 <= month <= last:
        raise ValueError(problem_text("pilot.months_since_entry", month,
                                      f"a whole number from 0 to {last} (within the horizon)"))
    size = _check_size(pilot["size"]) if with_size else None
    return state, int(month), size


def _check_contracts(scenario, contracts: Any) -> list[str]:
    known = scenario.contract_names()
    if pp.NO_CONTRACT not in known:
        known = [*known, pp.NO_CONTRACT]
    if isinstance(contracts, str) or not isinstance(contracts, Iterable):
        raise ValueError(problem_text("contracts", contracts,
                                      f"a list of two or more contract names from {known}"))
    chosen = [check_name("contracts", c, known) for c in contracts]
    if len(chosen) < 2 or len(set(chosen)) != len(chosen):
        raise ValueError(problem_text("contracts", chosen,
                                      f"two or more distinct contract names from {known}"))
    return chosen


def _setup(scenario, party, contracts, pilot, params, seed, *, with_size):
    """The checked problem, the priors and the pilot's size (None without one)."""
    scenario = load_scenario(scenario)
    party = check_name("party", party, scenario.parties())
    contracts = _check_contracts(scenario, contracts)
    state, month, size = _check_pilot(scenario, pilot, with_size=with_size)
    paths, priors = _check_params(scenario, params)
    seed = check_seed(seed)
    return pp.Problem(scenario, party, contracts, paths, state, month, seed), priors, size


def _check_method(method: Any, problem: pp.Problem) -> str:
    method = check_name("estimator.method", method, METHODS)
    if method == "nested":
        listed = set(problem.paths)
        for k, entry in enumerate(problem.scenario.get("correlations") or []):
            if listed & set(entry["params"]):
                raise ValueError(f"estimator: 'nested' holds the listed parameters at their true "
                                 f"values, which correlations[{k}] links to other parameters "
                                 f"(their conditional prior is not simulated); use "
                                 f"estimator='regression'")
    return method


def _check_degree(degree: Any, d: int, draws: int) -> int:
    degree = (3 if d <= 2 else 2) if degree is None else degree
    if not is_whole_number(degree) or not 1 <= degree <= 6:
        raise ValueError(problem_text("estimator.degree", degree, "a whole number from 1 to 6"))
    terms = pp.basis_size(d, int(degree))
    if draws < 5 * terms:
        raise ValueError(f"draws: got {draws}, expected at least {5 * terms} for a regression "
                         f"of degree {degree} on {d} parameter(s) ({terms} terms); raise draws "
                         f"or lower degree")
    return int(degree)


# ---------------------------------------------------------------------------------------------
# The prior sample
# ---------------------------------------------------------------------------------------------


def _shares(problem: pp.Problem, theta: np.ndarray) -> np.ndarray:
    """Exact expected share in the pilot's state, treatment and counterfactual, shape (B, 2)."""
    points = [(problem.state, arm, problem.month) for arm in ("treatment", "counterfactual")]
    try:
        return expected_shares(problem.scenario, points,
                               {p: theta[:, k] for k, p in enumerate(problem.paths)})
    except UnsupportedPath:
        from sibsim.engine.exact import expected_share

        out = np.empty((len(theta), 2))
        for b, row in enumerate(theta):
            variant = problem.scenario
            for path, value in zip(problem.paths, row):
                variant = variant.replace(path, float(value))
            out[b] = [expected_share(variant, state=s, arm=a, months_since_entry=m)
                      for s, a, m in points]
        return out


def prior_sample(problem: pp.Problem, *, outer: int, draws: int,
                 client: Any = None) -> pp.PriorSample:
    """Simulate the scenario once and draw the truths (shared by every pilot size).

    Parameters
    ----------
    problem : Problem
    outer, draws : int, keyword-only
        Truths, and simulated prior draws.
    client : dask.distributed.Client, optional, keyword-only
        Spreads the simulation's chunks.

    Returns
    -------
    PriorSample
    """
    from sibsim.engine import simulate
    from sibsim.engine.params import sample_parameters
    from sibsim.results import currency

    result = simulate(problem.scenario, draws=draws, seed=problem.seed, progress=False,
                      client=client, variables=["npv", "params"])
    npv = pp.party_npv(result, problem)
    theta = np.asarray(result["params"].sel(param=problem.paths).transpose("draw", "param")
                       .values, dtype=np.float64)
    values = sample_parameters(problem.scenario, np.arange(draws, draws + outer), problem.seed)
    truths = np.column_stack([values.values[p] for p in problem.paths])
    return pp.PriorSample(theta, npv, _shares(problem, theta), truths,
                          _shares(problem, truths), currency(result))


# ---------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------


def _estimate(problem, priors, sample, counts, size, settings: dict, client) -> dict:
    if settings["method"] == "regression":
        return pp.regression_estimate(sample, priors, counts, size, degree=settings["degree"],
                                      seed=problem.seed)
    nested = Nested(settings["inner"], settings["posterior_draws"], settings["terms"])
    return nested_estimate(problem, sample, counts, size, nested, client=client)


def _warn_ess(found: dict, draws: int, size: int, method: str) -> None:
    if method != "regression" or size == 0:
        return
    low = float(np.quantile(found["ess"], 0.1))
    if low < MIN_ESS:
        needed = int(math.ceil(draws * MIN_ESS / max(low, 1.0) / 100.0) * 100)
        warnings.warn(SteppingStoneWarning(
            f"stepping_stone: a pilot of {size} per arm leaves a tenth of the outer draws with "
            f"an effective sample size below {MIN_ESS} (10% quantile {low:.1f} of {draws} "
            f"prior draws): the posterior means rest on few draws; raise draws to about "
            f"{needed}, or use estimator='nested'"), stacklevel=3)


def _runs(problem: pp.Problem, sample: pp.PriorSample, counts: np.ndarray,
          found: dict) -> pd.DataFrame:
    columns: dict[str, Any] = {"draw": np.arange(len(counts))}
    for k, path in enumerate(problem.paths):
        columns[f"true[{path}]"] = sample.truths[:, k]
    columns["count[treatment]"] = counts[:, 0]
    columns["count[counterfactual]"] = counts[:, 1]
    for k, path in enumerate(problem.paths):
        columns[f"posterior_mean[{path}]"] = found["posterior_theta"][:, k]
    for c, name in enumerate(problem.contracts):
        columns[f"expected_npv[{name}]"] = found["means"][:, c]
    for c, name in enumerate(problem.contracts):
        columns[f"true_npv[{name}]"] = found["truth_npv"][:, c]
    columns["choice"] = [problem.contracts[c] for c in np.asarray(found["choice"])]
    columns["gain"] = found["gain"]
    columns["ess"] = found["ess"]
    for path in _term_paths(found):
        columns[f"terms[{path}]"] = [t.get(path, np.nan) for t in found["terms"]]
    return pd.DataFrame(columns)


def _term_paths(found: dict) -> list[str]:
    """The key paths of the terms set after the pilot, in first-seen order."""
    paths: dict[str, None] = dict.fromkeys(found.get("prior_terms") or {})
    for terms in found.get("terms") or []:
        paths.update(dict.fromkeys(terms))
    return list(paths)


def _value(problem: pp.Problem, found: dict, size: int, *, outer: int, draws: int,
           method: str) -> pd.Series:
    choice = np.asarray(found["choice"])
    entries: dict[str, Any] = {
        "evsi": found["evsi"], "evsi_mcse": found["evsi_mcse"],
        "evppi": found["evppi"], "evppi_mcse": found["evppi_mcse"],
        "prior_choice": problem.contracts[found["prior_choice"]],
    }
    for c, name in enumerate(problem.contracts):
        entries[f"prob_choose[{name}]"] = float(np.mean(choice == c))
    entries.update({"size": size, "outer": outer, "draws": draws, "method": method,
                    "ess_p10": float(np.quantile(found["ess"], 0.1)),
                    "ess_median": float(np.median(found["ess"]))})
    if "posterior_warnings" in found:
        entries["posterior_warnings"] = found["posterior_warnings"]
    for path in _term_paths(found):
        entries[f"prior_terms[{path}]"] = found["prior_terms"].get(path)
        values = [t[path] for t in found["terms"] if isinstance(t.get(path), (int, float))]
        if values:
            low, mid, high = np.quantile(values, [0.05, 0.5, 0.95])
            entries.update({f"terms_p05[{path}]": float(low), f"terms_p50[{path}]": float(mid),
                            f"terms_p95[{path}]": float(high)})
    return pd.Series(entries, dtype=object, name="stepping_stone")


def _attrs(problem: pp.Problem, sample: pp.PriorSample, method: str, **more) -> dict:
    return {"party": problem.party, "contracts": list(problem.contracts),
            "params": list(problem.paths), "state": problem.state,
            "months_since_entry": problem.month, "seed": problem.seed, "method": method,
            "currency": sample.currency, **more}


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


_ESTIMATOR_KEYS = ("method", "degree", "inner", "posterior_draws", "terms")


def _check_estimator(estimator: Any, problem: pp.Problem, draws: int) -> dict:
    """The estimator's method and settings, checked."""
    settings = {"method": estimator} if isinstance(estimator, str) else estimator
    if not isinstance(settings, Mapping):
        raise ValueError(problem_text("estimator", estimator, f"one of {list(METHODS)} or a "
                                      f"dict with keys {', '.join(_ESTIMATOR_KEYS)}"))
    for key in settings:
        if key not in _ESTIMATOR_KEYS:
            raise ValueError(problem_text(f"estimator.{key}", settings[key], f"one of the keys "
                                          f"{', '.join(_ESTIMATOR_KEYS)}"
                                          f"{suggest(key, _ESTIMATOR_KEYS)}"))
    method = _check_method(settings.get("method", "regression"), problem)
    degree = settings.get("degree")
    terms = settings.get("terms")
    if terms is not None and (not callable(terms) or method != "nested"):
        raise ValueError(problem_text("estimator.terms", terms, "a function of a scenario "
                                      "returning {key path: value}, with method 'nested'"))
    return {"method": method, "terms": terms,
            "degree": _check_degree(degree, len(problem.paths), draws)
            if method == "regression" else None,
            "inner": _whole("estimator.inner", settings.get("inner", 200), 2),
            "posterior_draws": _whole("estimator.posterior_draws",
                                      settings.get("posterior_draws", 1000), 100)}


def stepping_stone(scenario: Any, *, party: str, contracts: Sequence[str],
                   pilot: Mapping[str, Any], params: Sequence[str], outer: int = 200,
                   draws: int = 500, seed: int = 1, client: Any = None,
                   estimator: str | Mapping[str, Any] = "regression"
                   ) -> tuple[pd.Series, pd.DataFrame]:
    """What a pilot's results are worth to the choice of contract that follows it (EVSI).

    For each of ``outer`` draws of the listed parameters from their prior (the truth), the
    pilot's counts in ``state`` at ``months_since_entry`` are drawn for ``size`` participants
    in each of the treatment and counterfactual arms, binomial at the exact expected share;
    the posterior follows from those counts (binomial likelihood, as :func:`sibsim.posterior`);
    the party picks the listed contract with the best posterior mean npv; that choice is
    scored by its expected npv at the true parameters. EVSI is the mean score of the choice
    after the pilot minus that of the contract best without it.

    Estimators (``estimator``): "regression" simulates the scenario once at ``draws`` prior
    draws, fits E[npv | parameters] by least squares on Hermite polynomials of the normal
    scores (Strong, Oakley and Brennan 2014) and reweights those draws by the likelihood of
    each pilot's counts for the posterior means (Menzies 2016); "nested" runs
    :func:`sibsim.posterior` for each pilot, simulates its fitted scenario for the posterior
    means and re-simulates the scenario with the parameters at the truth for the score
    (``inner`` draws each). See :mod:`sibsim.analysis.preposterior`.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    party : str, keyword-only
        The party who chooses.
    contracts : sequence of str, keyword-only
        Two or more contracts to choose between; ``"none"`` (unless a contract has that
        name) is the option not to contract at all, the programme not run: npv 0.
    pilot : dict, keyword-only
        ``size`` (participants per arm, >= 0), ``state`` and ``months_since_entry`` (the
        count observed).
    params : sequence of str, keyword-only
        Key paths of per-draw parameters given as distributions: what the pilot informs.
    outer : int, keyword-only, default 200
        Truths (outer draws), >= 10.
    draws : int, keyword-only, default 500
        Simulated prior draws (regression; also the prior choice of "nested"), >= 50.
    seed : int, keyword-only, default 1
        Seed of every simulation and of the pilots' counts.
    client : dask.distributed.Client, optional, keyword-only
        Spreads the simulation's chunks (regression) or the outer draws (nested).
    estimator : str or dict, keyword-only, default "regression"
        ``"regression"`` or ``"nested"``, or a dict with ``method`` (one of them) and its
        settings: ``degree`` (regression: total degree of the polynomial, default 3 for one
        or two parameters, else 2), ``inner`` (nested: draws of each re-simulation, default
        200), ``posterior_draws`` (nested: draws of each posterior, default 1000) and
        ``terms`` (nested: a function of a scenario returning ``{key path: value}``, the
        contract terms set after the pilot on each posterior's fitted scenario, and once on
        the prior scenario without a pilot; for example a price chosen by ``sibsim.design``).

    Returns
    -------
    value : pandas.Series
        ``evsi``, ``evsi_mcse``, ``evppi``, ``evppi_mcse`` (in the scenario's currency),
        ``prior_choice``, ``prob_choose[<contract>]`` for each contract, ``size``, ``outer``,
        ``draws``, ``method``, ``ess_p10`` and ``ess_median`` (effective sample size of the
        reweighted draws over the outer draws; NaN for "nested", which reports
        ``posterior_warnings`` instead). ``attrs`` names the settings and the currency.
    runs : pandas.DataFrame
        One row per outer draw: ``draw``, ``true[<param>]``, ``count[treatment]``,
        ``count[counterfactual]``, ``posterior_mean[<param>]``, ``expected_npv[<contract>]``
        (posterior mean), ``true_npv[<contract>]`` (the expected npv at the truth),
        ``choice``, ``gain`` (the choice's expected npv less the prior choice's), ``ess``
        and, with ``terms``, ``terms[<key path>]``. With ``terms`` ``value`` also has
        ``prior_terms[<key path>]`` and the 5%, 50% and 95% quantiles of each numeric term
        over the outer draws (``terms_p05[<key path>]``, ...).

    Raises
    ------
    ScenarioError
        For a key path of ``params`` that is not a per-draw parameter with a distribution.
    ValueError
        For an unknown party, contract or state, a size < 0 and other bad options.

    Warns
    -----
    SteppingStoneWarning
        When a tenth of the outer draws leave fewer than 20 effective draws (regression),
        naming the draws to ask for.

    Examples
    --------
    >>> value, runs = sibsim.stepping_stone(
    ...     "danish-pilot", party="municipality", contracts=["narrow", "sib"],
    ...     pilot={"size": 65, "state": "employed", "months_since_entry": 14},
    ...     params=["transitions[0].effect.ratio"])                    # doctest: +SKIP
    >>> value["evsi"], value["evsi_mcse"]                               # doctest: +SKIP
    """
    problem, priors, size = _setup(scenario, party, contracts, pilot, params, seed,
                                   with_size=True)
    outer, draws = _whole("outer", outer, 10), _whole("draws", draws, 50)
    settings = _check_estimator(estimator, problem, draws)
    method = settings["method"]
    sample = prior_sample(problem, outer=outer, draws=draws, client=client)
    counts = pp.counts_at(problem.seed, sample.truth_shares, [size])[0]
    found = _estimate(problem, priors, sample, counts, size, settings, client)
    _warn_ess(found, draws, size, method)
    value = _value(problem, found, size, outer=outer, draws=draws, method=method)
    runs = _runs(problem, sample, counts, found)
    value.attrs = runs.attrs = _attrs(problem, sample, method, size=size)
    return value, runs


def _cost_per_participant(scenario, cost: Any) -> float:
    if cost is None:
        standing = scenario.parameters()["programme.cost_per_participant"]
        return float(standing.mean() if isinstance(standing, Distribution) else standing)
    real = as_real(cost)
    if real is None or not math.isfinite(real) or real < 0:
        raise ValueError(problem_text("cost_per_participant", cost,
                                      "a finite amount >= 0 per participant"))
    return real


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
        raise ValueError(problem_text("sizes", sizes, "a list of pilot sizes >= 0"))
    checked = [_check_size(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    if not checked or len(set(checked)) != len(checked):
        raise ValueError(problem_text("sizes", list(sizes), "distinct pilot sizes >= 0"))
    return sorted(checked)


def evsi_curve(scenario: Any, *, party: str, contracts: Sequence[str],
               pilot: Mapping[str, Any], params: Sequence[str],
               sizes: Sequence[int] = (0, 20, 65, 130, 260, 520),
               cost_per_participant: float | None = None, outer: int = 200,
               draws: int = 500, seed: int = 1, client: Any = None,
               estimator: str | Mapping[str, Any] = "regression") -> pd.DataFrame:
    """EVSI against the pilot's size, with the pilot's cost and the net value.

    Every size is estimated as :func:`stepping_stone` does, on the same simulated draws,
    truths and participants (a larger pilot adds participants to a smaller one), so the
    curve is smooth in the size and the differences between sizes are precise.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    party : str, keyword-only
        The party who chooses.
    contracts : sequence of str, keyword-only
        Two or more contracts to choose between.
    pilot : dict, keyword-only
        ``state`` and ``months_since_entry`` of the count (a ``size`` is not given here).
    params : sequence of str, keyword-only
        Key paths of per-draw parameters given as distributions.
    sizes : sequence of int, keyword-only, default (0, 20, 65, 130, 260, 520)
        Pilot sizes, participants per arm.
    cost_per_participant : float, optional, keyword-only
        Cost of the pilot per participant in the treatment arm (the counterfactual arm is
        taken to come from registers at no cost); default the mean of the scenario's
        ``programme.cost_per_participant``.
    outer, draws, seed, client, estimator
        As for :func:`stepping_stone`.

    Returns
    -------
    pandas.DataFrame
        One row per size, smallest first: ``size``, ``evsi``, ``evsi_mcse``, ``evppi``,
        ``evppi_mcse``, ``pilot_cost`` (size x cost_per_participant), ``net_value`` (evsi
        less pilot_cost, whoever pays for the pilot), ``net_value_mcse``,
        ``prob_choose[<contract>]`` and ``ess_median``. ``attrs`` names the settings, the
        currency, ``cost_per_participant`` and ``prior_choice``.

    Examples
    --------
    >>> table = sibsim.evsi_curve(
    ...     "danish-pilot", party="municipality", contracts=["narrow", "sib"],
    ...     pilot={"state": "employed", "months_since_entry": 14},
    ...     params=["transitions[0].effect.ratio"], sizes=[0, 20, 65])  # doctest: +SKIP
    """
    problem, priors, _ = _setup(scenario, party, contracts, pilot, params, seed,
                                with_size=False)
    sizes = _check_sizes(sizes)
    cost = _cost_per_participant(problem.scenario, cost_per_participant)
    outer, draws = _whole("outer", outer, 10), _whole("draws", draws, 50)
    settings = _check_estimator(estimator, problem, draws)
    method = settings["method"]
    sample = prior_sample(problem, outer=outer, draws=draws, client=client)
    all_counts = pp.counts_at(problem.seed, sample.truth_shares, sizes)
    rows, prior_choice = [], None
    for size, counts in zip(sizes, all_counts):
        found = _estimate(problem, priors, sample, counts, size, settings, client)
        _warn_ess(found, draws, size, method)
        prior_choice = problem.contracts[found["prior_choice"]]
        row = {"size": size, "evsi": found["evsi"], "evsi_mcse": found["evsi_mcse"],
               "evppi": found["evppi"], "evppi_mcse": found["evppi_mcse"],
               "pilot_cost": size * cost, "net_value": found["evsi"] - size * cost,
               "net_value_mcse": found["evsi_mcse"]}
        choice = np.asarray(found["choice"])
        for c, name in enumerate(problem.contracts):
            row[f"prob_choose[{name}]"] = float(np.mean(choice == c))
        row["ess_median"] = float(np.median(found["ess"]))
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs = _attrs(problem, sample, method, cost_per_participant=cost,
                         prior_choice=prior_choice, outer=outer, draws=draws)
    return table
