"""Which parameters drive a party's risk: first-order variance shares from a finished result.

:func:`sensitivity` estimates, for each uncertain parameter, the share of the variance of a
party's npv that would go away if that parameter alone were known, from the draws already
simulated (no re-simulation): the correlation ratio of equal-count bins of the parameter
(:func:`correlation_ratio`), with its small-sample bias removed. The estimator and its
limits are described in ``docs/analysis.rst``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sibsim.analysis.options import is_whole_number
from sibsim.labels import add_labels
from sibsim.results import labels, require, require_label, to_numpy
from sibsim.scenario.keypath import show

__all__ = ["correlation_ratio", "default_bins", "parameter_draws", "sensitivity"]


def default_bins(n: int) -> int:
    """The default number of equal-count bins for n draws: about sqrt(n), from 2 to 50.

    Parameters
    ----------
    n : int
        The number of draws.

    Returns
    -------
    int

    Examples
    --------
    >>> default_bins(300), default_bins(10_000)
    (17, 50)
    """
    return int(min(50, max(2, round(math.sqrt(n)))))


def _check_bins(bins: Any, n: int) -> int:
    if bins is None:
        return default_bins(n)
    if not is_whole_number(bins) or not 2 <= bins <= n // 2:
        raise ValueError(f"bins: got {show(bins)}, expected a whole number from 2 to draws / 2 "
                         f"= {n // 2}")
    return int(bins)


def parameter_draws(result: xr.Dataset) -> tuple[list[str], np.ndarray]:
    """The uncertain parameters of a result and their value in each draw.

    Parameters
    ----------
    result : xarray.Dataset
        A result checked with :func:`sibsim.results.require`.

    Returns
    -------
    names : list of str
        The key paths (the ``param`` coordinate); empty when the result has no ``params``.
    matrix : numpy.ndarray
        Shape (draws, parameters), float64.
    """
    if "params" not in result:
        return [], np.zeros((result.sizes["draw"], 0))
    return labels(result, "param"), to_numpy(result, "params")


def correlation_ratio(x: np.ndarray, y: np.ndarray, bins: int) -> float:
    """Bias-corrected correlation ratio of ``y`` on ``x`` from equal-count bins of ``x``.

    The draws are sorted by ``x`` and cut into ``bins`` groups of (nearly) equal size; with
    SS_b the between-group and SS_w the within-group sum of squares of ``y``, n draws and B
    groups, the estimate is Kelley's epsilon-squared,
    ``(SS_b - (B - 1) SS_w / (n - B)) / (SS_b + SS_w)``, clipped to [0, 1]. It removes the
    positive bias of the plain ratio SS_b / SS_t, which averages (B - 1) / (n - 1) when
    ``y`` does not depend on ``x`` at all.

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        The parameter and the output in each draw.
    bins : int
        Number of groups, 2 <= bins <= n / 2.

    Returns
    -------
    float
        In [0, 1]; 0 when ``x`` or ``y`` does not vary.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    total = float(np.sum((y - y.mean()) ** 2))
    within = 0.0
    for group in np.array_split(order, bins):
        in_group = y[group]
        within += float(np.sum((in_group - in_group.mean()) ** 2))
    between = max(total - within, 0.0)
    estimate = (between - (bins - 1) * within / (n - bins)) / total
    return float(min(1.0, max(0.0, estimate)))


def sensitivity(result: xr.Dataset, contract: str, party: str, *,
                bins: int | None = None) -> pd.DataFrame:
    """Share of the variance of a party's npv explained by each uncertain parameter.

    The first-order (main-effect) index of parameter X for the npv Y is
    ``Var(E[Y | X]) / Var(Y)``, estimated from the draws already simulated, without
    re-simulating: the draws are sorted by X and cut into ``bins`` groups of equal size;
    E[Y | X] is taken as constant within a group, and the correlation ratio of the groups
    is corrected for its small-sample bias (Kelley's epsilon-squared, see
    :func:`correlation_ratio`) and clipped to [0, 1]. Because every parameter is drawn
    independently of the others, each index is the share of variance that would go away if
    that parameter alone were known. The rest of the variance is chance (participants,
    frailty, the economy) and interactions. See ``docs/analysis.rst`` for the limits.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate` (one result, not a sweep).
    contract : str
        The contract.
    party : str
        The party whose npv is analysed.
    bins : int, optional, keyword-only
        Groups per parameter, from 2 to draws / 2; default :func:`default_bins` of the
        number of draws (about its square root, between 2 and 50).

    Returns
    -------
    pandas.DataFrame
        Columns ``param``, ``label`` (the parameter in words, from the result's scenario:
        :func:`sibsim.labels.parameter_label`) and ``index`` (in [0, 1]; 0 for a parameter
        that does not vary, and for every parameter when the npv does not vary), largest
        first (ties in the order of ``params``).

    Examples
    --------
    >>> result = sibsim.simulate("danish-pilot", draws=2000, seed=1)       # doctest: +SKIP
    >>> sibsim.sensitivity(result, contract="narrow", party="municipality").head()  # doctest: +SKIP
    """
    result = require(result, ["npv"], function="sensitivity", optional=["params"])
    contract = require_label(result, "contract", contract, function="sensitivity")
    party = require_label(result, "party", party, function="sensitivity")
    npv = np.asarray(result["npv"].sel(contract=contract, party=party).values, dtype=np.float64)
    names, matrix = parameter_draws(result)
    n = npv.size
    if n < 4:
        raise ValueError(f"sensitivity: result has {n} draws, sensitivity needs at least 4")
    bins = _check_bins(bins, n)
    index = [correlation_ratio(matrix[:, j], npv, bins) for j in range(len(names))]
    table = pd.DataFrame({"param": names, "index": np.asarray(index, dtype=np.float64)})
    table = table.sort_values("index", ascending=False, kind="stable").reset_index(drop=True)
    return add_labels(table, result)
