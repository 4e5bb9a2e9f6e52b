"""Payment months and cumulative limits, shared by every outcome contract.

An amount reached in month t is due in month t + ``payment_lag_months`` and is not paid
when that lies beyond the horizon; ``cap_total``, the tranches' total amount and their
return caps are cumulative limits applied in time order (see ``docs/contracts.rst``,
"Order of operations" and "Rounding").
"""

from __future__ import annotations

import numpy as np

from sibsim.contracts.declaration import ContractTerms

__all__ = [
    "BOUNDARY_TOLERANCE",
    "ROUNDING_TOLERANCE",
    "apply_cap_total",
    "cap_total",
    "cumulative_limit",
    "shift_to_payment_month",
]

#: A measured relative saving or reduction within this distance below a threshold or tier
#: minimum counts as reaching it, so that rounding never decides a boundary case: a 10 %
#: reduction measured from whole counts, 1 - 54/60, is 0.09999999999999998 in floating point.
BOUNDARY_TOLERANCE = 1e-12

#: Cumulative limits (the tranches' total amount, ``cap_total``, return caps) and the
#: guarantees' unrepaid principal ignore differences of no more than this share of the limit
#: or principal: they come from rounding in sums of monthly amounts. A running sum that
#: exceeds a limit by less passes in full, and an unrepaid principal that small counts as
#: repaid. A tranche sized to the programme's cost (in floating point the 84 monthly costs
#: of 100000 / 12 do not add up to 700000 exactly) thus leaves the provider exactly 0 to pay,
#: and a return cap of 1x that binds leaves a guarantee exactly unused.
ROUNDING_TOLERANCE = 1e-12


def cumulative_limit(flows: np.ndarray, limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pass a non-negative monthly stream in time order until its sum reaches ``limit``.

    Month t passes its whole amount while the running sum up to and including t stays
    within the limit (or above it by no more than :data:`ROUNDING_TOLERANCE` of it, which
    is rounding), the rest of the room in the month that crosses it, and nothing after.
    Written this way (rather than as the difference of a capped running sum) every month
    that the limit does not touch passes its amount bit for bit, and a stream that never
    reaches the limit comes out unchanged: no rounding noise is added.

    Parameters
    ----------
    flows : ndarray, shape (..., months)
        Non-negative amounts per month.
    limit : ndarray, shape (...)
        Limit on the cumulative amount (``np.inf`` for none).

    Returns
    -------
    passed : ndarray, shape (..., months)
        The amounts that pass in each month.
    total : ndarray, shape (...)
        The total that passes: the running sum at the last month where it stays within
        the limit, else the limit itself (exact).

    Examples
    --------
    >>> passed, total = cumulative_limit(np.array([[3.0, 3.0, 3.0]]), np.array([5.0]))
    >>> passed, total
    (array([[3., 2., 0.]]), array([5.]))
    """
    cumulative = np.cumsum(flows, axis=-1)
    before = np.zeros_like(cumulative)
    before[..., 1:] = cumulative[..., :-1]
    limit = np.asarray(limit, dtype=np.float64)[..., None]
    within = cumulative <= limit * (1.0 + ROUNDING_TOLERANCE)  # inf stays inf
    passed = np.where(within, flows, np.where(before < limit, limit - before, 0.0))
    total = np.where(within[..., -1], cumulative[..., -1], limit[..., 0])
    return passed, total


def shift_to_payment_month(due: np.ndarray, lag: int) -> np.ndarray:
    """Move amounts reached in month t to month t + lag; those beyond the horizon drop out.

    Parameters
    ----------
    due : ndarray, shape (..., months)
        Amounts in the month they are reached.
    lag : int
        ``payment_lag_months``, >= 0.

    Returns
    -------
    ndarray, shape (..., months)

    Examples
    --------
    >>> shift_to_payment_month(np.array([1.0, 2.0, 3.0]), 2)
    array([0., 0., 1.])
    """
    months = due.shape[-1]
    paid = np.zeros_like(due)
    if lag < months:
        paid[..., lag:] = due[..., : months - lag]
    return paid


def cap_total(terms: ContractTerms) -> np.ndarray | None:
    """An outcome contract's ``cap_total`` in every draw, or None where it has none.

    Parameters
    ----------
    terms : ContractTerms
        The contract.

    Returns
    -------
    ndarray, shape (draws,), or None
    """
    if terms.contract.get("cap_total") is None:
        return None
    return terms.number("cap_total")


def apply_cap_total(due: np.ndarray, cap_total: np.ndarray | None) -> np.ndarray:
    """Limit payments cumulatively, in time order, to ``cap_total``.

    Parameters
    ----------
    due : ndarray, shape (draws, months)
        Non-negative payments at their payment month.
    cap_total : ndarray, shape (draws,), or None
        Per-draw cap on the sum of all payments; None for no cap.

    Returns
    -------
    ndarray, shape (draws, months)
        Each month pays what it is due as long as the payments up to and including it stay
        within the cap (bit for bit), the month that crosses the cap pays the rest of the
        room, and later months pay nothing.

    Examples
    --------
    >>> apply_cap_total(np.array([[3.0, 3.0, 3.0]]), np.array([5.0]))
    array([[3., 2., 0.]])
    """
    if cap_total is None:
        return due.copy()
    return cumulative_limit(due, cap_total)[0]
