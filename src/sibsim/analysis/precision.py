"""How precise are the figures: how they settle as draws grow, and how many draws a target needs.

Draw d of a run depends only on the scenario, the seed and d, so the first k draws of a
result are a k-draw run. :func:`convergence` recomputes each headline statistic and its
Monte Carlo standard error (:mod:`sibsim.analysis.statistics`) on the first k draws for k
growing to all of them; :func:`draws_needed` says how many draws bring a statistic's MCSE
down to a target, from the spread observed. See ``docs/analysis.rst``, "Monte Carlo error".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from sibsim.analysis import statistics
from sibsim.analysis.options import check_name, is_whole_number
from sibsim.results import currency, labels, require, require_label, to_numpy
from sibsim.scenario.keypath import show

__all__ = ["CONVERGENCE_COLUMNS", "HEADLINE", "PRECISION_STATISTICS", "convergence",
           "draw_counts", "draws_needed"]


class _Statistic(NamedTuple):
    """A statistic of the draws of a variable, and its Monte Carlo standard error."""

    variable: str
    estimate: Callable[[np.ndarray], np.ndarray]
    mcse: Callable[[np.ndarray], np.ndarray]
    meaning: str


def _quantile(q: float) -> tuple[Callable, Callable]:
    return (lambda x: statistics.quantiles(x, [q], axis=0)[0],
            lambda x: statistics.quantile_mcse(x, [q], axis=0)[0])


#: The statistics whose precision can be followed, as in :func:`sibsim.summarize`.
PRECISION_STATISTICS: dict[str, _Statistic] = {
    "mean": _Statistic("npv", lambda x: statistics.mean(x, axis=0),
                       lambda x: statistics.mean_mcse(x, axis=0), "mean npv"),
    "prob_loss": _Statistic("npv", lambda x: statistics.prob_loss(x, axis=0),
                            lambda x: statistics.prob_loss_mcse(x, axis=0),
                            "share of draws with npv < 0"),
    "prob_nominal_loss": _Statistic("net", lambda x: statistics.prob_loss(x, axis=0),
                                    lambda x: statistics.prob_loss_mcse(x, axis=0),
                                    "share of draws with net < 0"),
    "p05": _Statistic("npv", *_quantile(0.05), "5% quantile of the npv"),
    "p50": _Statistic("npv", *_quantile(0.5), "median npv"),
    "p95": _Statistic("npv", *_quantile(0.95), "95% quantile of the npv"),
    "expected_shortfall_05": _Statistic(
        "npv", lambda x: statistics.expected_shortfall(x, axis=0),
        lambda x: statistics.expected_shortfall_mcse(x, axis=0),
        "mean npv of the worst 5% of draws"),
}

#: The headline statistics :func:`convergence` follows by default.
HEADLINE = ("mean", "prob_loss", "p05", "p95")

#: Columns of :func:`convergence`, in order.
CONVERGENCE_COLUMNS = ("contract", "party", "statistic", "draws", "value", "mcse")


def draw_counts(draws: int, steps: int = 12, first: int = 50) -> list[int]:
    """Growing draw counts from ``first`` to ``draws``, about evenly spaced on a log scale.

    Parameters
    ----------
    draws : int
        The number of draws of the result (the last count).
    steps : int, default 12
        At most this many counts.
    first : int, default 50
        The first count (fewer when the result has fewer draws).

    Returns
    -------
    list of int
        Strictly increasing, ending at ``draws``.

    Examples
    --------
    >>> draw_counts(2000, steps=6)
    [50, 105, 219, 457, 956, 2000]
    """
    first = min(first, draws)
    counts = np.geomspace(first, draws, max(steps, 1)).round().astype(int)
    return sorted({int(c) for c in counts} | {draws})


def _statistic_names(names: Any) -> list[str]:
    chosen = [names] if isinstance(names, str) else list(names)
    for name in chosen:
        check_name("statistics", name, list(PRECISION_STATISTICS))
    if not chosen:
        raise ValueError(f"statistics: got {show(names)}, expected one or more of "
                         f"{list(PRECISION_STATISTICS)}")
    return chosen


def _selection(result: xr.Dataset, dim: str, value: Any, function: str) -> list[str]:
    if value is None:
        return labels(result, dim)
    return [require_label(result, dim, value, function=function)]


def convergence(result: xr.Dataset, *, contract: str | None = None, party: str | None = None,
                statistics: Sequence[str] = HEADLINE, steps: int = 12) -> pd.DataFrame:
    """How each statistic and its Monte Carlo standard error settle as the draws grow.

    Each statistic is computed on the first k draws of the result, for growing k
    (:func:`draw_counts`, ending at all draws): the first k draws of a run are exactly a
    k-draw run with the same seed. A statistic has settled when later values stay within
    about two of its standard errors, and the standard error falls as 1 / sqrt(k).

    Parameters
    ----------
    result : xarray.Dataset
        A result of :func:`sibsim.simulate`; uses ``npv`` (and ``net`` for
        ``prob_nominal_loss``).
    contract, party : str, optional, keyword-only
        Only this contract or party (default: every one).
    statistics : sequence of str, keyword-only, default ("mean", "prob_loss", "p05", "p95")
        Names of :data:`PRECISION_STATISTICS`: ``mean``, ``prob_loss``,
        ``prob_nominal_loss``, ``p05``, ``p50``, ``p95``, ``expected_shortfall_05``.
    steps : int, keyword-only, default 12
        At most this many draw counts.

    Returns
    -------
    pandas.DataFrame
        Columns ``contract``, ``party``, ``statistic``, ``draws`` (k), ``value`` (the
        statistic of the first k draws) and ``mcse`` (its Monte Carlo standard error); one
        row per contract, party, statistic and k, k increasing. ``attrs`` holds
        ``draws`` and ``currency``. Plot it with :func:`sibsim.plot.convergence`.

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=400, seed=1, progress=False)
    >>> table = convergence(result, contract="sib", party="investor", steps=4)
    >>> table[table.statistic == "prob_loss"].draws.tolist()
    [50, 100, 200, 400]
    """
    names = _statistic_names(statistics)
    variables = sorted({PRECISION_STATISTICS[name].variable for name in names})
    result = require(result, variables, function="convergence")
    if not is_whole_number(steps) or steps < 1:
        raise ValueError(f"steps: got {show(steps)}, expected a positive whole number")
    contracts = _selection(result, "contract", contract, "convergence")
    parties = _selection(result, "party", party, "convergence")
    arrays = {name: to_numpy(result.sel(contract=contracts, party=parties), name)
              for name in variables}  # (draw, contract, party)
    draws = next(iter(arrays.values())).shape[0]
    counts = draw_counts(draws, int(steps))
    computed = {}  # (statistic, k) -> (estimate, mcse), each (contract, party)
    for name in names:
        spec = PRECISION_STATISTICS[name]
        for k in counts:
            prefix = arrays[spec.variable][:k]
            computed[name, k] = (spec.estimate(prefix), spec.mcse(prefix))
    rows = [(contract_, party_, name, k, float(computed[name, k][0][c, p]),
             float(computed[name, k][1][c, p]))
            for c, contract_ in enumerate(contracts)
            for p, party_ in enumerate(parties)
            for name in names
            for k in counts]
    table = pd.DataFrame(rows, columns=list(CONVERGENCE_COLUMNS))
    table.attrs = {"draws": draws, "currency": currency(result)}
    return table


def draws_needed(result: xr.Dataset, *, contract: str, party: str,
                 statistic: str = "prob_loss", mcse: float = 0.01) -> int:
    """The draws that bring a statistic's Monte Carlo standard error down to ``mcse``.

    The MCSE of every statistic here falls as 1 / sqrt(draws), so from the MCSE observed
    with n draws, n (observed / mcse)^2 draws reach the target. For ``prob_loss`` and
    ``prob_nominal_loss`` the observed share is first moved towards 1/2 as
    (losses + 2) / (n + 4) (Agresti and Coull), so that a share observed as 0 or 1 (no
    spread to measure) still asks for the draws that would show a rare loss. A statistic
    without any spread in the draws (every draw equal) needs 1 draw.

    Parameters
    ----------
    result : xarray.Dataset
        A result of :func:`sibsim.simulate`.
    contract, party : str, keyword-only
        The row of :func:`sibsim.summarize` the statistic belongs to.
    statistic : str, keyword-only, default "prob_loss"
        One of :data:`PRECISION_STATISTICS`.
    mcse : float, keyword-only, default 0.01
        The target standard error, in the statistic's unit (a share for ``prob_loss``:
        0.01 is one percentage point; the currency for amounts).

    Returns
    -------
    int
        The number of draws (at least 1).

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=400, seed=1, progress=False)
    >>> coarse = draws_needed(result, contract="sib", party="investor", mcse=0.01)
    >>> fine = draws_needed(result, contract="sib", party="investor", mcse=0.005)
    >>> round(fine / coarse)  # half the error takes four times the draws
    4
    """
    name = check_name("statistic", statistic, list(PRECISION_STATISTICS))
    spec = PRECISION_STATISTICS[name]
    result = require(result, [spec.variable], function="draws_needed")
    require_label(result, "contract", contract, function="draws_needed")
    require_label(result, "party", party, function="draws_needed")
    target = float(mcse) if isinstance(mcse, (int, float, np.number)) and \
        not isinstance(mcse, (bool, np.bool_)) else math.nan
    if not math.isfinite(target) or target <= 0:
        raise ValueError(f"mcse: got {show(mcse)}, expected a positive number")
    values = to_numpy(result.sel(contract=contract, party=party), spec.variable,
                      dims=["draw"])
    values = values[~np.isnan(values)]
    n = values.size
    if n == 0:
        raise ValueError(f"draws_needed: {spec.variable} of {party!r} under {contract!r} "
                         "has no value in any draw")
    if spec.variable in ("npv", "net") and name.startswith("prob_"):
        shrunk = (np.count_nonzero(values < 0) + 2.0) / (n + 4.0)
        return max(1, math.ceil(shrunk * (1.0 - shrunk) / target**2))
    observed = float(spec.mcse(values))
    return max(1, math.ceil(n * (observed / target) ** 2))
