"""The rate card: a price per participant outcome, paid on the treatment arm (gross).

The trajectory kernel detects the outcomes participant by participant (sustained or
cumulative months in a state, within the window, up to the per-participant cap) and the
ledger holds what they reach in each month (``Ledger.rate_card_due``); settlement shifts
that to the payment month. See ``docs/contracts.rst``, "Order of operations".
"""

from __future__ import annotations

import numpy as np

from sibsim.contracts.declaration import ContractTerms, ContractType
from sibsim.contracts.limits import shift_to_payment_month
from sibsim.contracts.schema_parts import PAYER, ContractSchema
from sibsim.scenario.kinds import (
    MONTHS,
    NAME,
    NONNEG,
    Context,
    Field,
    List,
    Path,
    StateName,
    Table,
    valid,
)

__all__ = ["CONTRACT_TYPE", "rate_card_paid"]


def rate_card_paid(due_at_outcome: np.ndarray, lag: int) -> np.ndarray:
    """Rate-card payments at their payment month.

    Parameters
    ----------
    due_at_outcome : ndarray, shape (draws, months)
        Payments reached in each month, after the window and the per-participant cap
        (``Ledger.rate_card_due[c]``).
    lag : int
        ``payment_lag_months``.

    Returns
    -------
    ndarray, shape (draws, months)
        The amount reached in month t, paid in month t + lag; amounts whose payment month
        is at or beyond the horizon are not paid.

    Examples
    --------
    >>> rate_card_paid(np.array([[1.0, 2.0, 3.0]]), lag=1)
    array([[0., 1., 2.]])
    """
    return shift_to_payment_month(np.asarray(due_at_outcome, dtype=np.float64), lag)


def due(terms: ContractTerms) -> np.ndarray:
    """A rate card's payments at their payment month, before ``cap_total``.

    Parameters
    ----------
    terms : ContractTerms
        A normalised rate-card contract.

    Returns
    -------
    ndarray, shape (draws, months)
    """
    lag = terms.lag
    if terms.index not in terms.ledger.rate_card_due:
        raise ValueError(f"{terms.path}: the ledger holds no rate_card_due for this contract")
    return rate_card_paid(terms.ledger.rate_card_due[terms.index], lag)


def _post_outcome(outcome: dict, path: Path, ctx: Context) -> None:
    given = [key for key in ("sustained_months", "cumulative_months") if outcome[key] is not None]
    if len(given) != 1:
        ctx.report(path, {k: outcome[k] for k in ("sustained_months", "cumulative_months")},
                   "exactly one of sustained_months or cumulative_months "
                   "(a whole number >= 1)")


_OUTCOME = Table([
    Field("name", NAME, required=True),
    Field("state", StateName(), required=True),
    Field("sustained_months", MONTHS),
    Field("cumulative_months", MONTHS),
    Field("price", NONNEG, required=True),
], what="an outcome", post=_post_outcome)

#: The rate card's keys: its payer, its outcomes, their window and the per-participant cap.
SCHEMA = ContractSchema((
    PAYER,
    Field("outcomes", List(_OUTCOME, what="outcomes", nonempty=True,
                           unique=lambda o: o["name"] if valid(o["name"]) else None,
                           unique_at=("name",), unique_what="an outcome name"),
          required=True),
    Field("window_months", MONTHS),
    Field("cap_per_participant", NONNEG),
))

CONTRACT_TYPE = ContractType(
    name="rate_card",
    summary="a price per participant outcome (a job held 6 months, say), on the treatment "
            "arm",
    docs=(
        "Each of the ``outcomes`` is a state held for ``sustained_months`` in a row or "
        "``cumulative_months`` in all since entry, with a ``price``. A participant reaches "
        "each outcome at most once; outcomes reached later than ``window_months`` after "
        "entry are not paid, and a participant's payments stop at "
        "``cap_per_participant``. Payments are gross, on the treatment arm: the payer also "
        "pays for outcomes that would have happened anyway."
    ),
    outcome=True,
    pays_programme="the provider, or the tranches of its financing",
    schema=SCHEMA,
    due=due,
    detects_outcomes=True,
)
