"""Money in property tests: the amounts strategies draw, and what rounding may leave in them.

Contract invariants (caps never exceeded, money only moves between parties) are about
amounts of money: prices, costs, caps and tranche amounts of a hundredth of a krone or
more, or exactly 0. Unbounded float strategies also draw subnormal numbers (5e-324), at
which every product rounds to whole units of the smallest float: a return cap of 0.25 on
money drawn of 6 such units is 1.5 units and rounds to 2, a relative error of 33 %. Such
amounts say nothing about a contract, so :func:`money` never draws them, and
:func:`rounding_allowance` states how far a sum may honestly pass a limit.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from sibsim.contracts import ROUNDING_TOLERANCE

#: The smallest non-zero amount of money drawn: a hundredth (one øre).
SMALLEST_AMOUNT = 1e-2


def money(high: float, *, low: float = 0.0) -> st.SearchStrategy[float]:
    """Amounts in [low, high] that are 0 or at least :data:`SMALLEST_AMOUNT` in magnitude.

    Parameters
    ----------
    high : float
        The largest amount.
    low : float, keyword-only
        The smallest amount (negative for a revenue, such as a tax).

    Returns
    -------
    hypothesis strategy of float
    """
    parts = []
    if low <= 0.0 <= high:
        parts.append(st.just(0.0))
    if high >= SMALLEST_AMOUNT:
        parts.append(st.floats(max(low, SMALLEST_AMOUNT), high))
    if low <= -SMALLEST_AMOUNT:
        parts.append(st.floats(low, min(high, -SMALLEST_AMOUNT)))
    return st.one_of(*parts)


def rounding_allowance(limit, money, *, limits: int = 1):
    """How far a sum of payments may pass a cumulative limit through rounding alone.

    A cumulative limit (``cap_total``, a return cap, the tranches' amount) lets a running
    sum pass it by ``ROUNDING_TOLERANCE`` of itself by design (see ``docs/contracts.rst``,
    "Rounding"); with ``limits`` such limits in a chain, each adds its share. The sums of
    monthly amounts that reach it are exact only to a few units in the last place of the
    money summed: 64 units of ``np.spacing(money)``, which for amounts near 0 is absolute
    (a subnormal amount rounds in steps of 5e-324, however small the limit).

    Parameters
    ----------
    limit : float or ndarray
        The limit.
    money : float or ndarray
        The money involved: the amounts summed (before the limit) and the limit.
    limits : int, keyword-only
        How many cumulative limits with their own rounding allowance stand in a chain.

    Returns
    -------
    float or ndarray
    """
    limit, money = np.abs(limit), np.abs(money)
    return limits * ROUNDING_TOLERANCE * limit + 64 * np.spacing(np.maximum(money, limit))
