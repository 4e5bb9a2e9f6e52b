"""Is it worth learning more before choosing a contract? :func:`evpi` and :func:`evppi`.

Both work on the draws of a finished result, without re-simulating. The expected value of
perfect information (EVPI) is what a party would gain, on average, by choosing its contract
after seeing how the uncertainty turns out; the partial one (EVPPI) what it would gain by
learning one parameter first, estimated by regression (Strong, Oakley and Brennan 2014).
The estimators and their limits are described in ``docs/analysis.rst``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from sibsim.analysis import statistics
from sibsim.analysis.options import is_whole_number
from sibsim.analysis.variance_share import parameter_draws
from sibsim.labels import add_labels
from sibsim.results import labels, require, require_label, require_labels
from sibsim.scenario.keypath import show

__all__ = ["evpi", "evppi"]


def _npv_by_contract(result: xr.Dataset, party: str, contracts: Sequence[str] | None, *,
                     function: str) -> tuple[list[str], np.ndarray]:
    """The contracts to choose between and the party's npv under each, (draws, contracts)."""
    party = require_label(result, "party", party, function=function)
    if contracts is None:
        contracts = labels(result, "contract")
    else:
        contracts = require_labels(result, "contract", contracts, function=function,
                                   option="contracts", distinct=True)
    npv = result["npv"].sel(party=party, contract=list(contracts)).transpose("draw", "contract")
    values = np.asarray(npv.values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"{function}: result: npv of {party!r} has NaN draws")
    return list(contracts), values


def evpi(result: xr.Dataset, party: str, *, contracts: Sequence[str] | None = None) -> float:
    """Expected value of perfect information about the choice of contract, for one party.

    ``EVPI = mean over draws of max_c npv[d, c] - max_c (mean over draws of npv[d, c])``:
    what the party would gain, on average, if it could pick the contract after learning how
    the uncertainty turns out (each draw), rather than picking the one with the best mean
    now. It is computed as the mean over draws of ``max_c npv[d, c] - npv[d, c*]``, with
    c* the contract of best mean (the same number), so it is never negative and exactly 0
    when one contract is best in every draw.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate` (one result, not a sweep).
    party : str
        The party who chooses.
    contracts : sequence of str, optional, keyword-only
        The contracts to choose between (default: all of the result's).

    Returns
    -------
    float
        DKK, >= 0. It includes chance (participants, the economy) as well as parameter
        uncertainty: perfect information here means knowing the whole draw.

    Examples
    --------
    >>> sibsim.evpi(result, party="municipality")                        # doctest: +SKIP
    """
    result = require(result, ["npv"], function="evpi")
    _, npv = _npv_by_contract(result, party, contracts, function="evpi")
    best = int(np.argmax(statistics.mean(npv, axis=0)))
    regret = npv.max(axis=1) - npv[:, best]
    return float(np.mean(regret))


def evppi(result: xr.Dataset, party: str, *, contracts: Sequence[str] | None = None,
          degree: int = 3) -> pd.DataFrame:
    """Expected value of partial perfect information about each uncertain parameter.

    ``EVPPI(X) = E_X[max_c E[npv_c | X]] - max_c E[npv_c]``: what the party would gain by
    learning parameter X alone before choosing the contract. Estimated from the draws with
    the regression method of Strong, Oakley and Brennan (2014): E[npv_c | X] is fitted by
    least squares on Legendre polynomials of degree ``degree`` in the rank of X (scaled to
    [-1, 1]); then ``mean_d max_c fit_c(X_d) - max_c mean_d fit_c(X_d)``. The estimate is
    clipped to [0, EVPI]; 0 for a parameter that does not vary.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate` (one result, not a sweep).
    party : str
        The party who chooses.
    contracts : sequence of str, optional, keyword-only
        The contracts to choose between (default: all of the result's).
    degree : int, keyword-only, default 3
        Degree of the polynomial fit (1 to 10).

    Returns
    -------
    pandas.DataFrame
        Columns ``param``, ``label`` (the parameter in words:
        :func:`sibsim.labels.parameter_label`) and ``evppi`` (DKK), largest first. ``attrs["evpi"]`` is the
        EVPI of the same choice (:func:`evpi`), the bound of every EVPPI.

    Examples
    --------
    >>> sibsim.analysis.evppi(result, party="municipality")                # doctest: +SKIP
    """
    result = require(result, ["npv"], function="evppi", optional=["params"])
    names_c, npv = _npv_by_contract(result, party, contracts, function="evppi")
    if not is_whole_number(degree) or not 1 <= degree <= 10:
        raise ValueError(f"degree: got {show(degree)}, expected a whole number from 1 to 10")
    total = evpi(result, party, contracts=names_c)
    names, matrix = parameter_draws(result)
    # Means summed along axis 0, as this estimator always has: another summation order
    # would change the last bits of every EVPPI.
    best_mean = float(np.max(npv.mean(axis=0)))
    tiny = 1e-9 * max(1.0, float(np.max(np.abs(npv))))
    gains = [min(_partial_gain(matrix[:, j], npv, int(degree), best_mean, tiny), total)
             for j in range(len(names))]
    table = pd.DataFrame({"param": names, "evppi": np.asarray(gains, dtype=np.float64)})
    table = table.sort_values("evppi", ascending=False, kind="stable").reset_index(drop=True)
    table = add_labels(table, result)
    table.attrs = {"evpi": total}
    return table


def _partial_gain(x: np.ndarray, npv: np.ndarray, degree: int, best_mean: float,
                  tiny: float) -> float:
    """EVPPI of one parameter: the best fitted npv per draw, on average, minus the best mean.

    ``x``: the parameter in each draw; ``npv``: shape (draws, contracts). The fit is least
    squares on Legendre polynomials of ``degree`` in the rank of ``x`` scaled to [-1, 1].
    """
    n = npv.shape[0]
    if np.ptp(x) == 0 or n <= degree + 1:
        return 0.0
    ranks = np.empty(n)
    ranks[np.argsort(x, kind="stable")] = np.arange(n)
    basis = np.polynomial.legendre.legvander(2.0 * ranks / (n - 1) - 1.0, degree)
    coef, *_ = np.linalg.lstsq(basis, npv, rcond=None)
    fitted = basis @ coef
    gain = float(np.mean(fitted.max(axis=1))) - best_mean
    if gain <= tiny:  # rounding of the least-squares fit, not information
        return 0.0
    return gain
