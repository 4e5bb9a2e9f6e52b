"""The model's small rules, each written once.

Every stage (the scenario checks, the engine, the exact expectations, the analyses and the
tests) imports these instead of restating them, so that a rule changes in one place:

- a step table ``{"by_months_in_state": [[key, value], ...]}`` takes, at a months-in-state
  count m, the value at the largest key not above m (:func:`table_row`);
- a monthly probability p becomes the hazard -ln(1 - p), infinite at p = 1
  (:func:`hazard_from_probability`);
- a payer given ``"rest"`` in a flow's split pays 1 minus the other payers' shares;
- participant j of a site of size n enters in month floor(j * intake_months / n)
  (:func:`entry_month`), and a comparison group is spread over the sites by largest
  remainder (:func:`apportion`);
- an effect with ratio r multiplies a hazard at months since entry m, within its months
  [from_month, to_month), by r ** w(m), where the fading weight w(m) is 1 before
  ``fade_from_month`` and halves every ``half_life_months`` after it (:func:`fading_weight`;
  an infinite half-life never fades);
- a transition's ``hazard_scale`` multiplies its hazard -ln(1 - p) in both arms;
- arm 0 is the treatment arm and arm 1 the paired counterfactual (:data:`ARMS`);
- month t is discounted by (1 + r) ** (-t / 12) at an annual rate r (:func:`discount_factors`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: The key of a step table by months in state.
TABLE = "by_months_in_state"
#: The split value that gives a payer whatever the other payers of a flow leave.
REST = "rest"
#: The party that runs the programme.
PROVIDER = "provider"
#: The paired arms, in the order of the kernels, the ledger and the results (index 0, 1).
ARMS = ("treatment", "counterfactual")
#: The arm of an independently simulated comparison group in the results.
COMPARISON = "comparison"


def is_table(value: Any) -> bool:
    """True for a ``{"by_months_in_state": [[key, value], ...]}`` step table."""
    return isinstance(value, Mapping) and TABLE in value


def table_keys(value: Any) -> list[int]:
    """The keys of a step table (an empty list for anything else)."""
    return [int(row[0]) for row in value[TABLE]] if is_table(value) else []


def table_row(keys: Sequence[int] | np.ndarray, months_in_state: Any) -> np.ndarray | int:
    """Row of a step table in force at ``months_in_state``: the largest key not above it.

    Parameters
    ----------
    keys : sequence of int
        The table's keys, strictly increasing from 0.
    months_in_state : int or array of int
        Months already spent in the current spell (>= 0).

    Returns
    -------
    int or ndarray of int
        Index of the row in force.

    Examples
    --------
    >>> table_row([0, 6, 12], [0, 5, 6, 40])
    array([0, 0, 1, 2])
    """
    return np.searchsorted(np.asarray(keys), months_in_state, side="right") - 1


def hazard_from_probability(p: Any) -> np.ndarray:
    """The monthly hazard -ln(1 - p) of a monthly probability p (inf where p = 1).

    Examples
    --------
    >>> hazard_from_probability([0.0, 0.5, 1.0])
    array([0.        , 0.69314718,        inf])
    """
    with np.errstate(divide="ignore"):
        return -np.log1p(-np.asarray(p, dtype=np.float64))


def fading_weight(months_since_entry: Any, fade_from_month: Any, half_life_months: Any) -> Any:
    """The fading weight w(m) = 2 ** (-max(m - fade_from_month, 0) / half_life_months).

    1 before ``fade_from_month``, 1/2 one half-life after it, and 1 throughout for an
    infinite half-life (an effect that does not fade). Plain arithmetic, so that the
    compiled kernels use this same function for scalars.

    Parameters
    ----------
    months_since_entry : int or array of int
        m, the participant's months since entry.
    fade_from_month : int or array of int
        The month since entry from which the effect fades.
    half_life_months : float or array of float
        H > 0 (``inf``: no fading).

    Returns
    -------
    float or ndarray
        The exponent of the effect ratio.

    Examples
    --------
    >>> fading_weight(np.array([0, 12, 24, 36]), 12, 12.0)
    array([1.  , 1.  , 0.5 , 0.25])
    >>> float(fading_weight(40, 12, np.inf))
    1.0
    """
    return 2.0 ** (-np.maximum(months_since_entry - fade_from_month, 0) / half_life_months)


def entry_month(j: Any, n: int, intake_months: int) -> Any:
    """The entry month of participant ``j`` of a site of size ``n``.

    Participants enter evenly over the intake months: the j-th (j = 0..n-1) enters at month
    floor(j * intake_months / n), all at month 0 when intake_months is 0.

    Parameters
    ----------
    j : int or array of int
        Participant index within the site, 0 .. n-1.
    n : int
        Site size (>= 1).
    intake_months : int
        Months over which the site's participants enter (0: all at month 0).

    Returns
    -------
    int or array of int
        ``floor(j * intake_months / n)``.

    Examples
    --------
    >>> [entry_month(j, 4, 12) for j in range(4)]
    [0, 3, 6, 9]
    """
    return j * intake_months // n


def entrants_by_month(n: int, intake_months: int) -> np.ndarray:
    """Participants of a site of size ``n`` entering in each month 0..last entry month.

    Examples
    --------
    >>> entrants_by_month(5, 2)
    array([3., 2.])
    """
    return np.bincount(entry_month(np.arange(n, dtype=np.int64), n, intake_months)).astype(
        np.float64)


def apportion(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by the largest-remainder method.

    Used to spread a comparison group over the sites. Ties between equal remainders go to
    the earlier site. Exact integer arithmetic.

    Parameters
    ----------
    total : int
        The whole to split (>= 0).
    weights : sequence of int
        Non-negative weights with a positive sum (the site sizes, in site order).

    Returns
    -------
    list of int
        One share per weight, summing to ``total``.

    Examples
    --------
    >>> apportion(10, [60, 60, 30])
    [4, 4, 2]
    >>> apportion(3, [1, 1])
    [2, 1]
    """
    weight_sum = sum(weights)
    shares = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[i] += 1
    return shares


def rest_share(assigned: Any) -> Any:
    """The share of a flow's ``"rest"`` payer: 1 minus the shares the other payers take."""
    return 1.0 - assigned


def discount_factors(rate: Any, months: int) -> np.ndarray:
    """Discount factors ``(1 + r) ** (-t / 12)`` of months t = 0 .. months - 1.

    Parameters
    ----------
    rate : float or array of float, shape (D,)
        The annual rate, one per draw.
    months : int
        The horizon.

    Returns
    -------
    ndarray, shape (D, months)
        One row per draw (a single row for a scalar rate).

    Examples
    --------
    >>> discount_factors(np.array([0.0, 0.21]), 25)[:, [0, 12, 24]].round(4)
    array([[1.    , 1.    , 1.    ],
           [1.    , 0.8264, 0.683 ]])
    """
    rate = np.atleast_1d(np.asarray(rate, dtype=np.float64))[:, None]
    return (1.0 + rate) ** (-np.arange(months)[None, :] / 12.0)
