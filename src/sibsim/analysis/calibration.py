"""Setting a scenario up from published figures: calibration and survival curves.

:func:`calibrate` scales parameters (one factor per key path) until the exact expected
shares of participants in a state (:func:`sibsim.engine.exact.expected_share`, no
sampling) meet observed ones; :func:`hazards_from_survival` turns a survival curve into a
step table of monthly probabilities. The rules a factor follows are those of
:func:`scale_value`; see ``docs/analysis.rst``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from sibsim.analysis.options import is_whole_number, real_pair
from sibsim.errors import ScenarioError
from sibsim.rules import ARMS, TABLE, is_table
from sibsim.scenario import LOCATION_PARAMETERS, Scenario, load_scenario
from sibsim.scenario.distributions import as_real, is_distribution
from sibsim.scenario.keypath import format_path, join, parse_path, problem, show

__all__ = ["calibrate", "hazards_from_survival", "scale_value"]

_TARGET_KEYS = ("state", "arm", "months_since_entry", "share")
_LOCATION = LOCATION_PARAMETERS  # the parameters a calibration factor scales, by family


def _is_probability(path: str) -> bool:
    """Whether the key path is (inside) a transition probability."""
    parts = parse_path(path)
    return len(parts) >= 3 and parts[0] == "transitions" and parts[2] == "probability"


def _scale_number(value: Any, factor: float, *, probability: bool, where: str) -> Any:
    """One number or distribution scaled by a factor (hazard scale for a probability)."""
    if is_distribution(value):
        if probability:
            raise ScenarioError(problem(
                where, value, "a number or a table of numbers: a probability given as a "
                "distribution cannot be adjusted by calibrate (fix it, or adjust a ratio)"))
        (family, params), = value.items()
        scaled = dict(params)
        for key in _LOCATION[family]:
            scaled[key] = params[key] * factor
        return {family: scaled}
    if isinstance(value, bool) or isinstance(value, int) or as_real(value) is None:
        raise ScenarioError(problem(
            where, value, "a real number, a distribution or a by_months_in_state table"))
    if probability:
        # p' = 1 - (1 - p) ** factor, written through log1p/expm1 to keep small p exact.
        if value >= 1.0:
            return 1.0
        return float(-math.expm1(factor * math.log1p(-value)))
    return float(value) * factor


def scale_value(value: Any, factor: float, *, probability: bool, where: str) -> Any:
    """The value at a key path scaled by a calibration factor.

    A probability (``probability=True``) has its hazard multiplied, p' = 1 - (1 - p) ** f;
    any other number is multiplied, x' = f x; a distribution that is not a probability has
    its location multiplied; a ``by_months_in_state`` table has each entry scaled so.

    Parameters
    ----------
    value : number, distribution spec or step table
        What stands at the key path.
    factor : float
        The factor, > 0.
    probability : bool, keyword-only
        Whether the value is (a table of) transition probabilities.
    where : str, keyword-only
        The key path, for messages (a table entry is named by its own path).

    Returns
    -------
    number, dict
        The scaled value, of the same form.

    Raises
    ------
    ScenarioError
        For a probability given as a distribution, or a value that is not a real number, a
        distribution or a table.

    Examples
    --------
    >>> scale_value(0.1, 2.0, probability=True, where="transitions[0].probability")
    0.19
    >>> scale_value({"lognormal": {"median": 1.8, "sigma": 0.26}}, 0.5, probability=False,
    ...             where="transitions[0].effect.ratio")
    {'lognormal': {'median': 0.9, 'sigma': 0.26}}
    """
    if is_table(value):
        return {TABLE: [[key, _scale_number(entry, factor, probability=probability,
                                            where=join(join(join(where, TABLE), i), 1))]
                        for i, (key, entry) in enumerate(value[TABLE])]}
    return _scale_number(value, factor, probability=probability, where=where)


def _location(value: Any) -> float:
    """The number itself, or the location a factor multiplies; NaN for a table."""
    if is_distribution(value):
        (family, params), = value.items()
        if family == "uniform":
            return 0.5 * (params["low"] + params["high"])
        if family in ("triangular", "pert"):
            return float(params["mode"])
        return float(params[_LOCATION[family][0]])
    if is_table(value):
        return math.nan
    return float(value)


def _check_adjust(scenario: Scenario, adjust: Any) -> list[str]:
    if isinstance(adjust, str):
        adjust = [adjust]
    if not isinstance(adjust, Iterable):
        raise ValueError(f"adjust: got {show(adjust)}, expected a list of key paths")
    adjust = list(adjust)
    if not adjust:
        raise ValueError("adjust: got an empty list, expected at least one key path")
    for i, path in enumerate(adjust):
        if not isinstance(path, str):
            raise ValueError(problem(["adjust", i], path, "a key path (str)"))
        value = scenario.get(path)  # ScenarioError names a path that does not exist
        # Check now that it can be scaled (a distribution for a probability cannot).
        scale_value(value, 1.0, probability=_is_probability(path), where=path)
    parts = [parse_path(p) for p in adjust]
    for i, a in enumerate(parts):
        for j, b in enumerate(parts):
            if i != j and len(a) <= len(b) and b[: len(a)] == a:
                raise ValueError(f"adjust: {adjust[j]!r} lies inside {adjust[i]!r}; "
                                 "list each value once")
    return adjust


def _check_targets(scenario: Scenario, targets: Any) -> list[dict]:
    if isinstance(targets, Mapping):
        targets = [targets]
    if not isinstance(targets, Iterable) or isinstance(targets, (str, bytes)):
        raise ValueError(f"targets: got {show(targets)}, expected a list of dicts with keys "
                         f"{', '.join(_TARGET_KEYS)}")
    out = []
    states = scenario.states()
    months = scenario.months
    for i, target in enumerate(targets):
        where = format_path(["targets", i])
        if not isinstance(target, Mapping):
            raise ValueError(problem(where, target, f"a dict with keys {', '.join(_TARGET_KEYS)}"))
        unknown = [k for k in target if k not in _TARGET_KEYS]
        missing = [k for k in _TARGET_KEYS if k not in target]
        if unknown or missing:
            raise ValueError(problem(where, dict(target), f"a dict with exactly the keys "
                                     f"{', '.join(_TARGET_KEYS)} (unknown: {unknown}, "
                                     f"missing: {missing})"))
        state, arm, m, share = (target[k] for k in _TARGET_KEYS)
        if state not in states:
            raise ValueError(problem(join(where, "state"), state, f"one of {states}"))
        if arm not in ARMS:
            raise ValueError(problem(join(where, "arm"), arm, f"one of {list(ARMS)}"))
        if not is_whole_number(m) or not 0 <= m <= months - 1:
            raise ValueError(problem(join(where, "months_since_entry"), m,
                                     f"a whole number from 0 to {months - 1}"))
        number = as_real(share)
        if number is None or not 0 <= number <= 1:
            raise ValueError(problem(join(where, "share"), share, "a number in [0, 1]"))
        out.append({"state": state, "arm": arm, "months_since_entry": int(m), "share": number})
    if not out:
        raise ValueError("targets: got an empty list, expected at least one target")
    return out


def _with_factors(scenario: Scenario, adjust: list[str], originals: list[Any],
                  factors: np.ndarray) -> Scenario:
    for path, value, factor in zip(adjust, originals, factors):
        scaled = scale_value(value, float(factor), probability=_is_probability(path),
                             where=path)
        try:
            scenario = scenario.replace(path, scaled)
        except ScenarioError as error:
            raise ScenarioError(
                [f"calibrate: a factor of {float(factor):.6g} at {path} makes the scenario "
                 "invalid:", *error.problems]) from None
    return scenario


def _shares(scenario: Scenario, targets: list[dict]) -> np.ndarray:
    from sibsim.engine.exact import expected_share

    return np.array([
        expected_share(scenario, state=t["state"], arm=t["arm"],
                       months_since_entry=t["months_since_entry"])
        for t in targets
    ])


def calibrate(scenario: Any, targets: Sequence[Mapping[str, Any]], adjust: Sequence[str], *,
              factor_bounds: tuple[float, float] = (1e-3, 1e3)) -> tuple[Scenario, pd.DataFrame]:
    """Scale parameters so that exact expected shares in a state meet observed ones.

    One factor per key path in ``adjust`` is fitted by least squares on the log-factors
    (:func:`scipy.optimize.least_squares`, trust region reflective), so that the expected
    share in each target's state, among participants at ``months_since_entry`` months since
    entry, in the target's arm, matches the target's share. The shares are exact, without
    sampling (:func:`sibsim.engine.exact.expected_share`): over frailty and prior months, with
    every distribution at its mean and no economy shock, pooled over the sites among the
    participants whose entry month plus ``months_since_entry`` lies within the horizon.

    A factor f acts on the value at its key path:

    - a transition probability p (a number, or every entry of a ``by_months_in_state``
      table): its hazard is multiplied, p' = 1 - (1 - p) ** f;
    - any other number (or every entry of a table): x' = f x;
    - a distribution that is not a probability: its location is multiplied (the mean of
      normal, gamma and beta, the median of lognormal; low, mode and high of uniform,
      triangular and pert), its spread parameter is kept.

    A transition probability given as a distribution cannot be adjusted.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    targets : sequence of dict
        Each with keys ``state``, ``arm`` ("counterfactual" or "treatment"),
        ``months_since_entry`` (whole number) and ``share`` (in [0, 1]).
    adjust : sequence of str
        Key paths of the values to scale, e.g. ``"transitions[0].probability"``,
        ``"transitions[0].effect.ratio"``; no fewer targets than paths.
    factor_bounds : (float, float), keyword-only, default (0.001, 1000)
        The range searched for every factor.

    Returns
    -------
    scenario : Scenario
        The scenario with every factor applied.
    report : pandas.DataFrame
        Columns ``kind``, ``name``, ``target``, ``fitted``, ``factor``. One row of kind
        "target" per target (name ``"<state> <arm> month <m>"``, the target and the fitted
        share, factor NaN), then one of kind "factor" per key path (name the path, target
        NaN, fitted the value after scaling: the number, the multiplied location of a
        distribution (its median for lognormal, mode for triangular and pert, midpoint for
        uniform), NaN for a table; factor the fitted factor). ``attrs`` holds ``adjusted``
        (path -> the new value), ``success``, ``message`` and ``cost`` (half the sum of
        squared residuals).

    Raises
    ------
    ScenarioError
        When a key path does not exist or names a probability given as a distribution or
        something that is not a real number, a distribution or a table, or when a factor
        makes the scenario invalid.
    ValueError
        For invalid targets, fewer targets than factors, or invalid options.

    Warns
    -----
    RuntimeWarning
        When the optimiser does not converge, or a factor does not change any target.

    Examples
    --------
    >>> import sibsim
    >>> calibrated, report = sibsim.calibrate(
    ...     "danish-pilot",
    ...     targets=[{"state": "employed", "arm": "counterfactual",
    ...               "months_since_entry": 14, "share": 0.17},
    ...              {"state": "employed", "arm": "treatment",
    ...               "months_since_entry": 14, "share": 0.35}],
    ...     adjust=["transitions[0].probability", "transitions[0].effect.ratio"])
    >>> report[["kind", "name", "target", "fitted", "factor"]]           # doctest: +SKIP
    """
    base = load_scenario(scenario)
    adjust = _check_adjust(base, adjust)
    targets = _check_targets(base, targets)
    if len(targets) < len(adjust):
        raise ValueError(f"targets: got {len(targets)} target(s) for {len(adjust)} factor(s); "
                         "calibrate needs at least as many targets as key paths in adjust")
    lo, hi = real_pair(factor_bounds) or (math.nan, math.nan)
    if not 0 < lo < 1 < hi < math.inf:
        raise ValueError(f"factor_bounds: got {show(factor_bounds)}, expected (lo, hi) with "
                         "0 < lo < 1 < hi")
    originals = [base.get(path) for path in adjust]
    goal = np.array([t["share"] for t in targets])

    def residuals(log_factors: np.ndarray) -> np.ndarray:
        variant = _with_factors(base, adjust, originals, np.exp(log_factors))
        return _shares(variant, targets) - goal

    fit = optimize.least_squares(
        residuals, np.zeros(len(adjust)), bounds=(math.log(lo), math.log(hi)),
        method="trf", xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=200 * len(adjust),
    )
    factors = np.exp(fit.x)
    calibrated = _with_factors(base, adjust, originals, factors)
    fitted = _shares(calibrated, targets)
    if not fit.success:
        warnings.warn(f"calibrate: the least-squares fit did not converge ({fit.message})",
                      RuntimeWarning, stacklevel=2)
    inert = [path for path, column in zip(adjust, np.abs(fit.jac).T) if not np.any(column > 1e-12)]
    if inert:
        warnings.warn(f"calibrate: {inert} change no target (factor left where it was found); "
                      "the fit cannot identify it", RuntimeWarning, stacklevel=2)
    return calibrated, _report(calibrated, targets, fitted, adjust, factors, fit)


def _report(calibrated: Scenario, targets: list[dict], fitted: np.ndarray, adjust: list[str],
            factors: np.ndarray, fit: optimize.OptimizeResult) -> pd.DataFrame:
    """The fit report of :func:`calibrate` (its Returns section describes it)."""
    rows = [("target", f"{t['state']} {t['arm']} month {t['months_since_entry']}", t["share"],
             float(f), math.nan) for t, f in zip(targets, fitted)]
    adjusted = {path: calibrated.get(path) for path in adjust}
    rows += [("factor", path, math.nan, _location(adjusted[path]), float(f))
             for path, f in zip(adjust, factors)]
    report = pd.DataFrame(rows, columns=["kind", "name", "target", "fitted", "factor"])
    report.attrs = {"adjusted": adjusted, "success": bool(fit.success),
                    "message": str(fit.message), "cost": float(fit.cost)}
    return report


def hazards_from_survival(months: Sequence[int], surviving: Sequence[float]) -> dict:
    """A step table of monthly probabilities from an observed survival curve.

    From months m_0 = 0 < m_1 < ... < m_n and the share still in the state at each,
    S_0 >= S_1 >= ... >= S_n > 0 (a Kaplan-Meier curve), entry i of the table is
    ``[m_i, 1 - (S_{i+1} / S_i) ** (1 / (m_{i+1} - m_i))]``: the constant monthly
    probability of leaving that reproduces the observed drop over the interval. The last
    probability holds beyond the last month.

    Parameters
    ----------
    months : sequence of int
        Whole months since the start of the spell, strictly increasing from 0; at least two.
    surviving : sequence of float
        The share still in the state at each month, non-increasing, each in (0, 1].

    Returns
    -------
    dict
        ``{"by_months_in_state": [[m_0, p_0], ..., [m_{n-1}, p_{n-1}]]}``, ready to put at a
        transition's ``probability`` (e.g. with :meth:`Scenario.replace`).

    Raises
    ------
    ValueError
        Naming the argument and the value, when the inputs break the rules above.

    Examples
    --------
    >>> table = hazards_from_survival(months=[0, 12, 24], surviving=[1.0, 0.5, 0.33])
    >>> [[m, round(p, 4)] for m, p in table["by_months_in_state"]]
    [[0, 0.0561], [12, 0.034]]
    """
    whole, shares = _survival_curve(months, surviving)
    table = []
    for i in range(len(whole) - 1):
        ratio = shares[i + 1] / shares[i]
        probability = 1.0 - ratio ** (1.0 / (whole[i + 1] - whole[i]))
        table.append([whole[i], float(min(1.0, max(0.0, probability)))])
    return {TABLE: table}


def _as_list(value: Any, name: str) -> list:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValueError(f"{name}: got {show(value)}, expected a sequence of numbers")
    if isinstance(value, np.ndarray):
        return list(np.asarray(value, dtype=object).ravel())
    return list(value)


def _survival_curve(months: Any, surviving: Any) -> tuple[list[int], list[float]]:
    """The checked months (whole, strictly increasing from 0) and shares of a survival curve."""
    m_list = _as_list(months, "months")
    s_list = _as_list(surviving, "surviving")
    if len(m_list) != len(s_list):
        raise ValueError(f"surviving: got {len(s_list)} value(s) for {len(m_list)} month(s), "
                         "expected one per month")
    if len(m_list) < 2:
        raise ValueError(f"months: got {show(months)}, expected at least two months")
    whole = []
    for i, m in enumerate(m_list):
        number = as_real(m)
        if number is None or not math.isfinite(number) or number != int(number):
            raise ValueError(problem(["months", i], m, "a whole number of months"))
        whole.append(int(number))
    if whole[0] != 0:
        raise ValueError(problem(["months", 0], m_list[0], "0 (the table starts at month 0)"))
    for i in range(1, len(whole)):
        if not whole[i] > whole[i - 1]:
            raise ValueError(problem(["months", i], m_list[i],
                                     f"a month after {format_path(['months', i - 1])} = "
                                     f"{whole[i - 1]} (strictly increasing)"))
    shares: list[float] = []
    for i, s in enumerate(s_list):
        number = as_real(s)
        if number is None or not 0 < number <= 1:
            raise ValueError(problem(["surviving", i], s, "a share in (0, 1]"))
        if shares and number > shares[-1]:
            raise ValueError(problem(["surviving", i], s,
                                     f"at most {format_path(['surviving', i - 1])} = "
                                     f"{shares[-1]:g} (a survival curve never rises)"))
        shares.append(number)
    return whole, shares
