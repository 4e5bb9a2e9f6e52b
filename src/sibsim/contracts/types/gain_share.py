"""The gain share: a share of the measured savings, settled period by period.

The saving is measured against the contract's baseline (see
:mod:`sibsim.contracts.baselines`) over its ``savings_of`` payers and ``categories``; each
settlement period pays ``share`` of its saving when the relative saving reaches the
``threshold``. See ``docs/contracts.rst``, "Gain share".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sibsim.contracts.baselines import baseline_of
from sibsim.contracts.declaration import ContractTerms, ContractType, index_of
from sibsim.contracts.limits import BOUNDARY_TOLERANCE
from sibsim.contracts.schema_parts import (
    BASELINE_FIELDS,
    PAYER,
    ContractSchema,
    post_baseline,
)
from sibsim.scenario.keypath import join
from sibsim.scenario.kinds import (
    INVALID,
    MONTHS,
    NONNEG,
    SHARE,
    Context,
    Field,
    Kind,
    quoted,
    suggest,
)

if TYPE_CHECKING:
    from sibsim.engine.ledger import Ledger

__all__ = ["CONTRACT_TYPE", "gain_share_due", "measured_saving", "settlement_periods"]


def measured_saving(
    contract: Mapping[str, Any], ledger: Ledger, *, path: str = "contract"
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly measured saving and baseline cost of a gain-share contract.

    The measured saving of month t is (baseline cost per enrolled baseline participant -
    treatment cost per enrolled treated participant) x treated participants enrolled in t,
    summed over the contract's ``savings_of`` payers and ``categories``. The baseline cost
    at treated scale is, by ``baseline``:

    - ``"counterfactual"``: the paired counterfactual arm's cost (same participants);
    - ``"comparison_group"``: the comparison group of ``comparison_size`` participants, its
      cost divided by its enrolled participants and multiplied by the treated enrolled
      participants of the month; in a month where the group has no one enrolled, the
      baseline is set equal to the treatment cost (a saving of 0);
    - ``"historical"``: the expected counterfactual cost of the treated cohort at central
      parameter values (the same in every draw).

    Parameters
    ----------
    contract : mapping
        A normalised gain-share contract.
    ledger : Ledger
        The run's ledger.
    path : str, keyword-only
        Key path of the contract, for error messages.

    Returns
    -------
    saving : ndarray, shape (draws, months)
        Measured saving per month, undiscounted.
    baseline : ndarray, shape (draws, months)
        Baseline cost at treated scale, undiscounted.
    """
    payers = [
        index_of(ledger.payers, p, join(path, "savings_of"), "payers")
        for p in contract["savings_of"]
    ]
    categories = [
        index_of(ledger.categories, k, join(path, "categories"), "categories")
        for k in contract["categories"]
    ]

    def measured(cost: np.ndarray) -> np.ndarray:
        """Sum over measured payers and categories of (..., months, payers, categories)."""
        return cost[..., payers, :][..., categories].sum(axis=(-2, -1))

    treatment = measured(ledger.cost[:, 0])
    group = baseline_of(contract, path=path).read(contract, ledger, path)
    baseline = group.cost_at_treated_scale(measured(group.cost), treatment, ledger.enrolled)
    return baseline - treatment, baseline


def gain_share_due(
    saving: np.ndarray,
    baseline: np.ndarray,
    *,
    share: np.ndarray,
    threshold: np.ndarray,
    settle_every_months: int,
    lag: int,
) -> np.ndarray:
    """Gain-share payments at their payment month, before ``cap_total``.

    Settlement period k = 1, 2, ... covers months (k-1)S .. kS-1 (S =
    ``settle_every_months``) and settles at its last month; a trailing partial period covers
    the months after the last full one and settles at the horizon's last month. A period
    pays ``share x saving`` when its saving is positive and its relative saving
    ``saving / |baseline cost of the period|`` is at least ``threshold`` (a positive saving
    against a baseline cost of 0 counts as an infinite relative saving); otherwise it pays
    nothing (a relative saving within
    :data:`~sibsim.contracts.limits.BOUNDARY_TOLERANCE` below the threshold counts as
    reaching it). Nothing is carried forward or clawed back. The payment falls in the
    settlement month plus the lag and is not made when that lies beyond the horizon.

    Parameters
    ----------
    saving, baseline : ndarray, shape (draws, months)
        Measured saving and baseline cost per month (see :func:`measured_saving`).
    share, threshold : ndarray, shape (draws,)
        Per-draw share of the saving paid and minimum relative saving.
    settle_every_months : int
        Length S of a settlement period, >= 1.
    lag : int
        ``payment_lag_months``.

    Returns
    -------
    ndarray, shape (draws, months)

    Examples
    --------
    >>> saving = np.array([[1.0, 1.0, -1.0, 3.0, 5.0]])
    >>> gain_share_due(saving, np.full((1, 5), 10.0), share=np.array([0.5]),
    ...                threshold=np.array([0.0]), settle_every_months=2, lag=0)
    array([[0. , 1. , 0. , 1. , 2.5]])
    """
    draws, months = saving.shape
    if settle_every_months < 1:
        raise ValueError(
            f"settle_every_months: got {settle_every_months}, expected a whole number >= 1"
        )
    due = np.zeros((draws, months))
    if months == 0:
        return due
    # Every period at once: sums over each period's months (draws, periods).
    starts = np.arange(0, months, settle_every_months)
    ends = np.minimum(starts + settle_every_months, months) - 1
    period_saving = np.add.reduceat(saving, starts, axis=1)
    period_baseline = np.abs(np.add.reduceat(baseline, starts, axis=1))
    relative = np.divide(
        period_saving,
        period_baseline,
        out=np.full(period_saving.shape, np.inf),
        where=period_baseline > 0,
    )
    threshold = np.asarray(threshold, dtype=np.float64)[:, None]
    pays = (period_saving > 0) & (relative >= threshold - BOUNDARY_TOLERANCE)
    amount = np.where(pays, np.asarray(share, dtype=np.float64)[:, None] * period_saving, 0.0)
    pay_month = ends + lag
    within = pay_month < months  # a payment beyond the horizon is not made
    due[:, pay_month[within]] = amount[:, within]  # periods end in distinct months
    return due


def settlement_periods(months: int, settle_every_months: int) -> list[tuple[int, int]]:
    """First and last month of every gain-share settlement period.

    Parameters
    ----------
    months : int
        The horizon.
    settle_every_months : int
        Length of a full period.

    Returns
    -------
    list of (int, int)
        ``(start, end)`` months, inclusive; the last period is partial when the horizon is
        not a whole number of periods.

    Examples
    --------
    >>> settlement_periods(10, 4)
    [(0, 3), (4, 7), (8, 9)]
    """
    return [
        (start, min(start + settle_every_months, months) - 1)
        for start in range(0, months, settle_every_months)
    ]


def due(terms: ContractTerms) -> np.ndarray:
    """A gain share's payments at their payment month, before ``cap_total``.

    Parameters
    ----------
    terms : ContractTerms
        A normalised gain-share contract.

    Returns
    -------
    ndarray, shape (draws, months)
    """
    lag = terms.lag
    saving, baseline = measured_saving(terms.contract, terms.ledger, path=terms.path)
    return gain_share_due(
        saving,
        baseline,
        share=terms.number("share"),
        threshold=terms.number("threshold"),
        settle_every_months=int(terms.contract["settle_every_months"]),
        lag=lag,
    )


class FlowNames(Kind):
    """A non-empty list of payers (or categories) that appear in the flows."""

    def __init__(self, source: str):
        self.source = source  # "payers" or "categories"
        self.singular = "payer" if source == "payers" else "category"
        self.expected = f"a non-empty list of {source} named in the flows"

    def check(self, value, path, ctx):
        known = ctx.payers() if self.source == "payers" else ctx.categories()
        if not isinstance(value, list) or (not value and known != []):
            # (Empty only where the flows name none: the default then is the empty list.)
            return ctx.report(path, value, self.expected)
        result: list[Any] = []
        for i, name in enumerate(value):
            if not isinstance(name, str) or (known is not None and name not in known):
                what = (f"a {self.singular} named in the flows ({quoted(known)})"
                        if known is not None else f"a {self.singular} name")
                result.append(ctx.report((*path, i), name, what + suggest(name, known or [])))
            elif name in result:
                result.append(ctx.report((*path, i), name, f"a {self.singular} not listed before"))
            else:
                result.append(name)
        return result


def _every(source: str) -> Callable[[Context], Any]:
    # The default of savings_of and categories: every payer (category) of the flows.
    def default(ctx: Context) -> Any:
        names = ctx.payers() if source == "payers" else ctx.categories()
        return INVALID if names is None else names

    return default


#: The gain share's keys: payer, share, what is measured, the baseline, periods, threshold.
SCHEMA = ContractSchema((
    PAYER,
    Field("share", SHARE, required=True),
    Field("savings_of", FlowNames("payers"), default=_every("payers")),
    Field("categories", FlowNames("categories"), default=_every("categories")),
    *BASELINE_FIELDS,
    Field("settle_every_months", MONTHS, default=12),
    Field("threshold", NONNEG, default=0.0),
), post=post_baseline)

CONTRACT_TYPE = ContractType(
    name="gain_share",
    summary="a share of the measured savings of chosen payers and categories, per "
            "settlement period",
    docs=(
        "The saving of the ``savings_of`` payers in the ``categories`` is measured "
        "against the ``baseline`` and settled every ``settle_every_months``: a period "
        "whose saving is positive and whose relative saving reaches the ``threshold`` "
        "pays ``share`` of it; a loss is neither carried forward nor clawed back. "
        "Against a noisy baseline (a comparison group) the payer pays for chance "
        "savings too."
    ),
    outcome=True,
    pays_programme="the provider, or the tranches of its financing",
    schema=SCHEMA,
    due=due,
    measures_baseline=True,
)
