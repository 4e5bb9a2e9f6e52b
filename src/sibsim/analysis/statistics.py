"""The risk statistics of draws, as plain numpy functions with an ``axis`` argument.

This is the one home of the statistics that :func:`sibsim.summarize`, the analyses and the
plots report: the probability of loss, the expected shortfall, the mean, the standard
deviation, the median and quantiles. Each function takes an array and the axis of the draws
(default 0: results put ``draw`` first) and reduces over it, leaving the other axes; a
1-d input gives a float.

Two rules hold for every function:

- NaN values are left out (a draw in which a quantity does not exist, such as the IRR of a
  contract in which nothing was drawn); a slice with no value left gives NaN, without a
  warning.
- The result of each slice is bit for bit that of the same numpy function on the slice's
  values alone, whatever the layout of the array: the draws are moved to the last axis and
  made contiguous before summing, because numpy sums along a strided axis in a different
  order (and so with other last bits) than along a contiguous one.

Examples
--------
>>> npv = np.array([[-2.0, 5.0], [1.0, 5.0], [3.0, np.nan]])   # 3 draws, 2 parties
>>> prob_loss(npv)
array([0.33333333, 0.        ])
>>> mean(npv)
array([0.66666667, 5.        ])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["TAIL", "expected_shortfall", "mean", "median", "prob_loss", "quantiles",
           "standard_deviation"]

#: Tail share of the expected shortfall (the worst 5% of draws).
TAIL = 0.05


def _draws_last(values: Any, axis: int) -> np.ndarray:
    """The values as float64 with the draws on the last, contiguous axis."""
    data = np.asarray(values, dtype=np.float64)
    return np.ascontiguousarray(np.moveaxis(data, axis, -1))


def _scalar_or_array(out: np.ndarray) -> float | np.ndarray:
    return float(out) if out.ndim == 0 else out


def _each_slice(data: np.ndarray, statistic: Callable[[np.ndarray], Any],
                size: tuple[int, ...] = ()) -> np.ndarray:
    """``statistic`` of the non-NaN values of each slice along the last axis.

    The statistic's own result has shape ``size``; the slices' results are stacked in the
    order of the other axes, giving shape ``data.shape[:-1] + size``.
    """
    rows = data.reshape(-1, data.shape[-1])
    out = np.empty((rows.shape[0], *size))
    for i, row in enumerate(rows):
        present = row[~np.isnan(row)]
        out[i] = statistic(present) if present.size else np.nan
    return out.reshape(data.shape[:-1] + size)


def prob_loss(values: Any, *, axis: int = 0) -> float | np.ndarray:
    """Probability of loss: the share of draws with a value below 0.

    Parameters
    ----------
    values : array_like
        One value per draw along ``axis`` (an npv, in DKK).
    axis : int, keyword-only, default 0
        The axis of the draws.

    Returns
    -------
    float or numpy.ndarray
        Share in [0, 1] of the non-NaN values that are < 0 (a value of exactly 0 is not a
        loss), with ``axis`` removed; NaN where no value is left.

    Examples
    --------
    >>> prob_loss([-1.0, 0.0, 2.0, -3.0])
    0.5
    """
    data = _draws_last(values, axis)
    losses = np.count_nonzero(data < 0, axis=-1)
    counted = np.count_nonzero(~np.isnan(data), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.true_divide(losses, counted)
    return _scalar_or_array(np.where(counted > 0, share, np.nan))


def mean(values: Any, *, axis: int = 0) -> float | np.ndarray:
    """Mean over the draws.

    Parameters
    ----------
    values : array_like
        One value per draw along ``axis``.
    axis : int, keyword-only, default 0
        The axis of the draws.

    Returns
    -------
    float or numpy.ndarray
        The mean of the non-NaN values, with ``axis`` removed; NaN where none is left.

    Examples
    --------
    >>> mean([1.0, np.nan, 3.0])
    2.0
    """
    data = _draws_last(values, axis)
    if data.shape[-1] and not np.isnan(data).any():
        return _scalar_or_array(np.asarray(data.mean(axis=-1)))
    return _scalar_or_array(_each_slice(data, np.mean))


def standard_deviation(values: Any, *, axis: int = 0, ddof: int = 1) -> float | np.ndarray:
    """Standard deviation over the draws (the sample one by default).

    Parameters
    ----------
    values : array_like
        One value per draw along ``axis``.
    axis : int, keyword-only, default 0
        The axis of the draws.
    ddof : int, keyword-only, default 1
        Delta degrees of freedom: the sum of squares is divided by n - ddof.

    Returns
    -------
    float or numpy.ndarray
        The standard deviation of the non-NaN values, with ``axis`` removed; NaN where no
        more than ``ddof`` values are left.

    Examples
    --------
    >>> standard_deviation([1.0, 2.0, 3.0, np.nan])
    1.0
    """
    data = _draws_last(values, axis)
    if data.shape[-1] > ddof and not np.isnan(data).any():
        return _scalar_or_array(np.asarray(data.std(axis=-1, ddof=ddof)))

    def of_slice(present: np.ndarray) -> float:
        return present.std(ddof=ddof) if present.size > ddof else math.nan

    return _scalar_or_array(_each_slice(data, of_slice))


def median(values: Any, *, axis: int = 0) -> float | np.ndarray:
    """Median over the draws (the mean of the two middle values for an even count).

    Parameters
    ----------
    values : array_like
        One value per draw along ``axis``.
    axis : int, keyword-only, default 0
        The axis of the draws.

    Returns
    -------
    float or numpy.ndarray
        The median of the non-NaN values, with ``axis`` removed; NaN where none is left.

    Examples
    --------
    >>> median([4.0, 1.0, np.nan, 2.0, 3.0])
    2.5
    """
    data = _draws_last(values, axis)
    if data.shape[-1] and not np.isnan(data).any():
        return _scalar_or_array(np.asarray(np.median(data, axis=-1)))
    return _scalar_or_array(_each_slice(data, np.median))


def quantiles(values: Any, q: Sequence[float], *, axis: int = 0) -> np.ndarray:
    """Quantiles over the draws, by linear interpolation (numpy's default method).

    Parameters
    ----------
    values : array_like
        One value per draw along ``axis``.
    q : sequence of float
        The probabilities, each in [0, 1].
    axis : int, keyword-only, default 0
        The axis of the draws.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(q),)`` followed by the shape of ``values`` without ``axis``: quantile
        i of the non-NaN values in entry i; NaN where none is left.

    Examples
    --------
    >>> quantiles([[0.0, 10.0], [1.0, np.nan], [2.0, 30.0]], [0.5, 1.0])
    array([[ 1., 20.],
           [ 2., 30.]])
    """
    probabilities = np.asarray(q, dtype=np.float64).ravel()
    data = _draws_last(values, axis)
    if data.shape[-1] and not np.isnan(data).any():
        out = np.quantile(data, probabilities, axis=-1)
    else:
        out = np.moveaxis(_each_slice(data, lambda present: np.quantile(present, probabilities),
                                      (probabilities.size,)), -1, 0)
    return np.asarray(out)


def expected_shortfall(values: Any, tail: float = TAIL, *, axis: int = 0) -> float | np.ndarray:
    """Expected shortfall: the mean of the worst ``tail`` share of draws.

    Parameters
    ----------
    values : array_like
        One value per draw along ``axis``.
    tail : float, default 0.05
        Share of draws in the tail.
    axis : int, keyword-only, default 0
        The axis of the draws.

    Returns
    -------
    float or numpy.ndarray
        The mean of the k smallest values, k = max(1, ceil(tail x n)) with n the number of
        non-NaN values, with ``axis`` removed; NaN where none is left.

    Examples
    --------
    >>> expected_shortfall(np.arange(40.0))   # ceil(0.05 * 40) = 2 worst: 0 and 1
    0.5
    """
    def of_slice(present: np.ndarray) -> float:
        # The 1e-9 absorbs rounding in tail x n (0.07 x 100 is 7.000000000000001), so that
        # a whole number of tail draws is not rounded up to one more.
        k = max(1, math.ceil(tail * present.size - 1e-9))
        return np.sort(present)[:k].mean()

    return _scalar_or_array(_each_slice(_draws_last(values, axis), of_slice))
