"""The risk statistics of draws, as plain numpy functions with an ``axis`` argument.

This is the one home of the statistics that :func:`sibsim.summarize`, the analyses and the
plots report: the probability of loss, the expected shortfall, the mean, the standard
deviation, the median and quantiles, and the Monte Carlo standard error (MCSE) of each
estimate (``mean_mcse``, ``prob_loss_mcse``, ``quantile_mcse``,
``expected_shortfall_mcse``): how far the estimate from these draws may lie from the value
that infinitely many draws would give. The draws of a result are independent, so each MCSE
treats them as an independent sample (the estimators are stated in ``docs/analysis.rst``,
"Monte Carlo error"). Each function takes an array and the axis of the draws
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
from scipy.special import betaincinv

__all__ = ["ONE_SIGMA", "TAIL", "expected_shortfall", "expected_shortfall_mcse", "mean",
           "mean_mcse", "median", "prob_loss", "prob_loss_mcse", "quantile_mcse", "quantiles",
           "standard_deviation"]

#: Tail share of the expected shortfall (the worst 5% of draws).
TAIL = 0.05

#: The normal distribution's probability below -1 and above +1 standard deviation:
#: the ends of the central 68.3% interval whose half width is the quantiles' MCSE.
ONE_SIGMA = (0.15865525393145707, 0.8413447460685429)


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
        return np.sort(present)[:_tail_size(tail, present.size)].mean()

    return _scalar_or_array(_each_slice(_draws_last(values, axis), of_slice))


def _tail_size(tail: float, n: int) -> int:
    """k = max(1, ceil(tail x n)): the number of draws in the tail of the expected shortfall.

    The 1e-9 absorbs rounding in tail x n (0.07 x 100 is 7.000000000000001), so that a
    whole number of tail draws is not rounded up to one more.
    """
    return max(1, math.ceil(tail * n - 1e-9))


def mean_mcse(values: Any, *, axis: int = 0) -> float | np.ndarray:
    """Monte Carlo standard error of the mean: sd / sqrt(n).

    Parameters
    ----------
    values : array_like
        One value per draw along ``axis``.
    axis : int, keyword-only, default 0
        The axis of the draws.

    Returns
    -------
    float or numpy.ndarray
        The sample standard deviation (ddof=1) of the non-NaN values divided by the square
        root of their number n, with ``axis`` removed; NaN where fewer than 2 are left.

    Examples
    --------
    >>> mean_mcse([1.0, 2.0, 3.0, 4.0])    # sd = 1.291, n = 4
    0.6454972243679028
    """
    data = _draws_last(values, axis)
    counted = np.count_nonzero(~np.isnan(data), axis=-1)
    sd = np.asarray(standard_deviation(data, axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _scalar_or_array(np.asarray(sd / np.sqrt(counted)))


def prob_loss_mcse(values: Any, *, axis: int = 0) -> float | np.ndarray:
    """Monte Carlo standard error of the probability of loss: sqrt(p (1 - p) / n).

    Parameters
    ----------
    values : array_like
        One value per draw along ``axis``.
    axis : int, keyword-only, default 0
        The axis of the draws.

    Returns
    -------
    float or numpy.ndarray
        With p the share of the n non-NaN values below 0 (:func:`prob_loss`), the binomial
        standard error; 0 where p is 0 or 1 (no draw, or every draw, is a loss: the draws
        give no spread to measure it by), NaN where no value is left.

    Examples
    --------
    >>> prob_loss_mcse([-1.0, 1.0, 2.0, 3.0])    # p = 0.25, n = 4
    0.21650635094610965
    """
    data = _draws_last(values, axis)
    p = np.asarray(prob_loss(data, axis=-1))
    counted = np.count_nonzero(~np.isnan(data), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _scalar_or_array(np.asarray(np.sqrt(p * (1.0 - p) / counted)))


def _quantile_interval(q: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities at the ends of the 68.3% interval of the sample q-quantile.

    The sample q-quantile of n draws lies near the order statistic of rank n q, and the
    probability F(X) at an order statistic of rank k is Beta(k, n + 1 - k): with k = n q + 1
    (which keeps both parameters positive at q = 0 and 1), its 15.9% and 84.1% quantiles.
    """
    a, b = n * q + 1.0, n * (1.0 - q) + 1.0
    return betaincinv(a, b, ONE_SIGMA[0]), betaincinv(a, b, ONE_SIGMA[1])


def quantile_mcse(values: Any, q: Sequence[float], *, axis: int = 0) -> np.ndarray:
    """Monte Carlo standard errors of quantiles, from the spread of the order statistics.

    The sample q-quantile of n independent draws is (close to) an order statistic, whose
    probability F(x) is Beta-distributed around q with a standard deviation of about
    sqrt(q (1 - q) / n). The MCSE is half the width of the interval between the sample
    quantiles at the 15.9% and 84.1% points of that Beta distribution (a one-standard-
    deviation interval): for a smooth distribution it equals the asymptotic
    sqrt(q (1 - q) / n) / f(x_q), without estimating the density f, and it stays right
    where the draws pile up at one value (a guarantee returning exactly the principal
    gives many draws of 0: both ends fall on 0 and the MCSE is 0).

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
        Shape ``(len(q),)`` followed by the shape of ``values`` without ``axis``: the MCSE
        of :func:`quantiles` at each q; NaN where no value is left.

    Examples
    --------
    >>> draws = np.random.default_rng(1).normal(size=10_000)
    >>> float(quantile_mcse(draws, [0.5])[0].round(3))   # sqrt(0.25 / 1e4) / 0.399 = 0.0125
    0.012
    """
    probabilities = np.asarray(q, dtype=np.float64).ravel()
    data = _draws_last(values, axis)

    def of_slice(present: np.ndarray) -> np.ndarray:
        low, high = _quantile_interval(probabilities, present.size)
        ends = np.quantile(present, np.concatenate([low, high]))
        return 0.5 * (ends[probabilities.size:] - ends[:probabilities.size])

    out = _each_slice(data, of_slice, (probabilities.size,))
    return np.moveaxis(out, -1, 0)


def expected_shortfall_mcse(values: Any, tail: float = TAIL, *,
                            axis: int = 0) -> float | np.ndarray:
    """Monte Carlo standard error of the expected shortfall, from its influence function.

    With the k worst of n draws as the tail sample (as :func:`expected_shortfall`),
    a = k / n, ES their mean, VaR the largest of them and s^2 their variance (ddof=1; 0 for
    one draw), the standard error is

        sqrt((s^2 + (1 - a) (ES - VaR)^2) / (n a)),

    the variance of the estimator's influence function, (x - VaR) 1{x <= VaR} / a + VaR - ES,
    over n: the first term is the spread of the draws inside the tail, the second the
    chance of how many draws fall into it.

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
        The MCSE of :func:`expected_shortfall`, with ``axis`` removed; NaN where no value
        is left.

    Examples
    --------
    >>> # the worst 2 of 40: 0 and 1, s^2 = 0.5, ES - VaR = -0.5, a = 0.05
    >>> float(expected_shortfall_mcse(np.arange(40.0)))   # sqrt((0.5 + 0.95 x 0.25) / 2)
    0.6072478900745559
    """
    def of_slice(present: np.ndarray) -> float:
        n = present.size
        k = _tail_size(tail, n)
        worst = np.sort(present)[:k]
        share = k / n
        spread = worst.var(ddof=1) if k > 1 else 0.0
        gap = worst.mean() - worst[-1]
        return math.sqrt(max(spread + (1.0 - share) * gap * gap, 0.0) / (n * share))

    return _scalar_or_array(_each_slice(_draws_last(values, axis), of_slice))
