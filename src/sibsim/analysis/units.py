"""Amounts of money in tables and plots: one convention for their unit and scale.

Every amount is in the result's currency (``result.attrs["currency"]``, the scenario's
``currency``, ``"DKK"`` by default). Where a table or a plot divides amounts to keep them
short, the label says so in words: "thousand DKK", "million EUR"; amounts are never
silently in thousands. Tables show whole numbers, scaled so that the largest has at most
five digits (:func:`table_scale`); plot axes are scaled to the largest value shown
(:func:`axis_scale`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SCALES", "axis_scale", "money_unit", "table_scale"]

#: The divisors of amounts and their names, largest first.
SCALES = ((1e9, "billion"), (1e6, "million"), (1e3, "thousand"), (1.0, ""))


def money_unit(scale: float, currency: str) -> str:
    """The unit of amounts divided by ``scale``: "DKK", "thousand DKK", "million DKK", ...

    Parameters
    ----------
    scale : float
        One of the divisors of :data:`SCALES`.
    currency : str
        The currency.

    Returns
    -------
    str

    Examples
    --------
    >>> money_unit(1e3, "EUR"), money_unit(1.0, "DKK")
    ('thousand EUR', 'DKK')
    """
    for divisor, name in SCALES:
        if scale == divisor:
            return f"{name} {currency}".strip()
    raise ValueError(f"scale: got {scale!r}, expected one of {[d for d, _ in SCALES]}")


def _largest(values: Any) -> float:
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(np.max(np.abs(finite))) if finite.size else 0.0


def table_scale(values: Any, currency: str) -> tuple[float, str]:
    """Divisor and unit for a table of whole amounts: the largest has at most five digits.

    Parameters
    ----------
    values : array_like
        The amounts to be shown, in the currency.
    currency : str
        The currency.

    Returns
    -------
    (float, str)
        The smallest divisor of :data:`SCALES` that leaves the largest absolute amount
        below 100,000, and its unit.

    Examples
    --------
    >>> table_scale([6.3e6, -8.4e6], "DKK"), table_scale([12_000.0], "GBP")
    ((1000.0, 'thousand DKK'), (1.0, 'GBP'))
    """
    top = _largest(values)
    for divisor, _ in reversed(SCALES):
        if top / divisor < 1e5 or divisor == SCALES[0][0]:
            return divisor, money_unit(divisor, currency)
    raise AssertionError("unreachable")  # pragma: no cover


def axis_scale(values: Any, currency: str) -> tuple[float, str]:
    """Divisor and unit for a plot axis: the largest divisor not above the largest value.

    Parameters
    ----------
    values : array_like
        The amounts to be shown, in the currency.
    currency : str
        The currency.

    Returns
    -------
    (float, str)
        1e6 and "million DKK" from a largest absolute value of a million up, 1e3 and
        "thousand DKK" from a thousand, else 1 and "DKK" (billions are shown in millions).

    Examples
    --------
    >>> axis_scale([2.5e6, -4e5], "DKK")
    (1000000.0, 'million DKK')
    """
    top = _largest(values)
    for divisor, _ in SCALES[1:]:
        if top >= divisor or divisor == 1.0:
            return divisor, money_unit(divisor, currency)
    raise AssertionError("unreachable")  # pragma: no cover
