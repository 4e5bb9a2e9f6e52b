"""Notes on terms that do not move the result: a binding cap, a threshold never reached.

On common random numbers two values of a term give exactly the same statistics when the term
does not reach the money that moves (a price above ``cap_per_participant``, a threshold no
saving reaches, a ``cap_total`` no payment gets near). :func:`inert_notes` finds, along one
term, the values from which (or up to which) every statistic stays the same, and says why
where the contract shows it; :func:`sibsim.price_corridor` and :func:`sibsim.design` put
these lines in their table's ``attrs["notes"]`` and the command line prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sibsim.scenario.keypath import parse_path

if TYPE_CHECKING:
    from sibsim.analysis.design import Design

__all__ = ["design_notes", "inert_notes", "same_rows"]

#: Terms whose values are amounts of money (the last part of their key path).
MONEY_KEYS = ("price", "cap_total", "cap_per_participant", "amount", "threshold",
              "fixed_cost")


def same_rows(stats: np.ndarray) -> np.ndarray:
    """For rows of statistics, whether each row equals the next one (to rounding).

    Parameters
    ----------
    stats : ndarray, shape (n, k)
        One row of statistics per value, in increasing order of the value.

    Returns
    -------
    ndarray of bool, shape (n - 1,)
    """
    stats = np.asarray(stats, dtype=np.float64)
    scale = np.maximum(np.nanmax(np.abs(stats), axis=0, initial=0.0), 1.0)
    difference = np.abs(np.diff(stats, axis=0)) / scale
    return np.all((difference <= 1e-12) | np.isnan(difference), axis=1)


def _amount(key: str, value: float, currency: str) -> str:
    last = parse_path(key)[-1]
    if last in MONEY_KEYS:
        return f"{value:,.0f} {currency}"
    return f"{value:,.6g}"


def _cause(key: str, contract: Mapping[str, Any], start: float,
           payments: np.ndarray | None, no_payment: np.ndarray | None, currency: str) -> str:
    """Why the statistics stop moving from ``start``, where the contract shows it."""
    last = parse_path(key)[-1]
    if no_payment is not None and len(no_payment) and np.all(no_payment >= 1.0):
        return "no payment is made at these values (a threshold or outcome never reached)"
    cap = contract.get("cap_per_participant")
    if last == "price" and isinstance(cap, (int, float)) and start >= cap:
        return f"cap_per_participant ({cap:,.0f} {currency}) binds"
    total = contract.get("cap_total")
    if isinstance(total, (int, float)) and payments is not None and len(payments) and \
            np.all(payments >= 0.999 * total):
        return f"cap_total ({total:,.0f} {currency}) binds"
    return "the term no longer reaches the money that moves"


def inert_notes(key: str, values: Sequence[float], stats: np.ndarray, *,
                contract: Mapping[str, Any], currency: str,
                payments: Sequence[float] | None = None,
                no_payment: Sequence[float] | None = None) -> list[str]:
    """Lines naming the range of a term over which no statistic moves.

    Parameters
    ----------
    key : str
        The term's key path.
    values : sequence of float
        Its values, increasing, at least three.
    stats : ndarray, shape (len(values), k)
        The statistics at each value.
    contract : mapping
        The normalised contract the term belongs to (for the cause).
    currency : str
        The scenario's currency.
    payments, no_payment : sequence of float, optional
        Mean payments made and the share of draws with no payment, at each value.

    Returns
    -------
    list of str
        Empty when every step of the term moves some statistic.

    Examples
    --------
    >>> stats = np.array([[1.0], [2.0], [3.0], [3.0], [3.0]])
    >>> inert_notes("contracts[1].outcomes[0].price", [0, 1e5, 2e5, 3e5, 4e5], stats,
    ...             contract={"cap_per_participant": 2e5}, currency="DKK")
    ['contracts[1].outcomes[0].price: cap_per_participant (200,000 DKK) binds from 200,000 DKK: higher values change nothing']
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 3:
        return []
    same = same_rows(stats)
    pay = None if payments is None else np.asarray(payments, dtype=np.float64)
    none = None if no_payment is None else np.asarray(no_payment, dtype=np.float64)
    if same.all():
        why = _cause(key, contract, values[0], pay, none, currency)
        low, high = _amount(key, values[0], currency), _amount(key, values[-1], currency)
        return [f"{key}: no statistic moves between {low} and {high} ({why}): this term "
                "does not move the result over its range"]
    notes = []
    tail = len(same)
    while tail > 0 and same[tail - 1]:
        tail -= 1
    if tail <= len(same) - 1:  # rows tail .. n-1 are the same (two steps at least)
        part = slice(tail, None)
        why = _cause(key, contract, values[tail], None if pay is None else pay[part],
                     None if none is None else none[part], currency)
        notes.append(f"{key}: {why} from {_amount(key, values[tail], currency)}: higher "
                     "values change nothing")
    head = 0
    while head < len(same) and same[head]:
        head += 1
    if head >= 2:
        notes.append(f"{key}: up to {_amount(key, values[head], currency)} no statistic "
                     "moves: lower values change nothing")
    return notes


def _statistic_columns(table: pd.DataFrame) -> list[str]:
    from sibsim.analysis.design_search import DESIGN_STATISTICS

    return [c for c in table.columns if any(c.endswith(f"_{s}") for s in DESIGN_STATISTICS)]


def design_notes(table: pd.DataFrame, terms: Design, chosen: Mapping[str, float]) -> list[str]:
    """The notes of a design: along each term, through the chosen candidate, what is inert.

    Along each term the grid's candidates are read with the other terms at the grid values
    nearest the chosen candidate's.

    Parameters
    ----------
    table : pandas.DataFrame
        Every candidate (columns of :func:`sibsim.design`).
    terms : Design
        The designed terms.
    chosen : mapping of str to float
        The chosen (or closest) candidate's values.

    Returns
    -------
    list of str
    """
    from sibsim.scenario.schema import currency as scenario_currency

    at_chosen = terms.apply(terms.base, [chosen[k] for k in terms.keys])
    contract = at_chosen.data["contracts"][terms.index]
    currency = scenario_currency(terms.base.data)
    columns = _statistic_columns(table)
    notes: list[str] = []
    grid = table[table["stage"] == "grid"]
    for key in terms.keys:
        others = [k for k in terms.keys if k != key]
        group = grid
        for other in others:
            levels = group[other].to_numpy()
            nearest = levels[np.argmin(np.abs(levels - chosen[other]))]
            group = group[group[other] == nearest]
        group = group.sort_values(key).drop_duplicates(key)
        notes += inert_notes(key, group[key].to_numpy(), group[columns].to_numpy(),
                             contract=contract, currency=currency,
                             payments=group["payments_mean"].to_numpy(),
                             no_payment=group["no_payment_share"].to_numpy())
    return notes
