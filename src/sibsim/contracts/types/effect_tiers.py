"""Effect tiers: one payment at a measurement month, by the reduction reached.

The relative reduction of months in a state is measured against the contract's baseline
(see :mod:`sibsim.contracts.baselines`); the highest tier reached pays. See
``docs/contracts.rst``, "Effect tiers".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from sibsim.contracts.baselines import baseline_of
from sibsim.contracts.declaration import (
    BaselineGroup,
    ContractTerms,
    ContractType,
    index_of,
)
from sibsim.contracts.limits import BOUNDARY_TOLERANCE
from sibsim.contracts.schema_parts import (
    BASELINE_FIELDS,
    PAYER,
    ContractSchema,
    post_baseline,
)
from sibsim.scenario.keypath import format_path, join
from sibsim.scenario.kinds import (
    INVALID,
    NONNEG,
    Context,
    Field,
    List,
    Path,
    Real,
    Row,
    StateName,
    Whole,
    fmt,
)

if TYPE_CHECKING:
    from sibsim.engine.ledger import Ledger

__all__ = ["CONTRACT_TYPE", "effect_tiers_due", "relative_reduction"]


def relative_reduction(
    contract: Mapping[str, Any], ledger: Ledger, *, path: str = "contract"
) -> np.ndarray:
    """Measured relative reduction of months in a state, for an effect-tiers contract.

    ``1 - (treated months in state per treated participant) / (baseline months in state
    per baseline participant)`` over months 0 .. M-1 (M = ``measure_at_month``), among the
    participants enrolled by month M-1: the sum over those months of the counts of enrolled
    participants in the state, divided by the participants enrolled at month M-1. The
    baseline is the paired counterfactual, the comparison group (its own counts and
    enrolment) or the historical baseline (expected counts of the treated cohort).

    Parameters
    ----------
    contract : mapping
        A normalised effect-tiers contract.
    ledger : Ledger
        The run's ledger.
    path : str, keyword-only
        Key path of the contract, for error messages.

    Returns
    -------
    ndarray, shape (draws,)
        The relative reduction; NaN where no one is enrolled by month M-1 or the baseline
        spends no month in the state (no reduction can be measured; no tier is reached).
    """
    months = ledger.months
    measure_at = contract["measure_at_month"]
    if not 1 <= measure_at <= months:
        raise ValueError(
            f"{join(path, 'measure_at_month')}: got {measure_at}, expected a month in "
            f"1..{months}"
        )
    state = index_of(ledger.states, contract["state"], join(path, "state"), "states")
    treated_group = BaselineGroup(cost=ledger.cost[:, 0], occupancy=ledger.occupancy[:, 0],
                                  enrolled=ledger.enrolled, own_scale=False)
    treated = treated_group.months_in_state_per_participant(measure_at, state, ledger.draws)
    group = baseline_of(contract, path=path).read(contract, ledger, path)
    baseline = group.months_in_state_per_participant(measure_at, state, ledger.draws)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(baseline > 0, 1.0 - treated / baseline, np.nan)


def effect_tiers_due(
    reduction: np.ndarray,
    minimum: np.ndarray,
    payment: np.ndarray,
    *,
    measure_at_month: int,
    lag: int,
    months: int,
) -> np.ndarray:
    """Effect-tiers payment at its payment month, before ``cap_total``.

    The tier reached with the highest minimum reduction pays its payment, in month
    ``measure_at_month - 1 + lag`` (a reduction within
    :data:`~sibsim.contracts.limits.BOUNDARY_TOLERANCE` below a tier's minimum reaches
    it); no tier reached (or a NaN reduction) pays nothing, and nothing is paid when the
    payment month lies beyond the horizon.

    Parameters
    ----------
    reduction : ndarray, shape (draws,)
        Measured relative reduction (see :func:`relative_reduction`).
    minimum, payment : ndarray, shape (draws, tiers)
        Per-draw minimum reduction and payment of each tier.
    measure_at_month : int
        M: the reduction is measured over months 0..M-1.
    lag : int
        ``payment_lag_months``.
    months : int
        The horizon.

    Returns
    -------
    ndarray, shape (draws, months)

    Examples
    --------
    >>> effect_tiers_due(np.array([0.12, 0.01]), np.array([[0.05, 0.10]] * 2),
    ...                  np.array([[1.0, 2.0]] * 2), measure_at_month=2, lag=0, months=3)
    array([[0., 2., 0.],
           [0., 0., 0.]])
    """
    draws = reduction.shape[0]
    reached = reduction[:, None] >= minimum - BOUNDARY_TOLERANCE  # False for a NaN reduction
    best = np.where(reached, minimum, -np.inf).argmax(axis=1)
    amount = np.where(reached.any(axis=1), payment[np.arange(draws), best], 0.0)
    due = np.zeros((draws, months))
    pay_month = measure_at_month - 1 + lag
    if pay_month < months:
        due[:, pay_month] = amount
    return due


def due(terms: ContractTerms) -> np.ndarray:
    """An effect-tiers contract's payment at its payment month, before ``cap_total``.

    Parameters
    ----------
    terms : ContractTerms
        A normalised effect-tiers contract.

    Returns
    -------
    ndarray, shape (draws, months)
    """
    lag = terms.lag
    draws, n_tiers = terms.ledger.draws, len(terms.contract["tiers"])
    minimum = np.zeros((draws, n_tiers))
    tier_payment = np.zeros((draws, n_tiers))
    for i in range(n_tiers):
        minimum[:, i] = terms.number("tiers", i, 0)
        tier_payment[:, i] = terms.number("tiers", i, 1)
    return effect_tiers_due(
        relative_reduction(terms.contract, terms.ledger, path=terms.path),
        minimum,
        tier_payment,
        measure_at_month=int(terms.contract["measure_at_month"]),
        lag=lag,
        months=terms.ledger.months,
    )


_TIER_REDUCTION = Real(0.0, 1.0)


def _post_tiers(tiers: list, path: Path, ctx: Context) -> None:
    previous: tuple[int, float] | None = None
    for i, tier in enumerate(tiers):
        if tier is INVALID or tier[0] is INVALID:
            return
        low, high = _TIER_REDUCTION.bounds(tier[0])
        if previous is not None and not low > previous[1]:
            ctx.report((*path, i, 0), tier[0],
                       f"a reduction above that of {format_path(('tiers', previous[0]))} "
                       f"({fmt(previous[1])}): reductions strictly increasing")
        previous = (i, high)


def _horizon(ctx: Context) -> int | None:
    return ctx.months()


_TIERS = List(Row(_TIER_REDUCTION, NONNEG, "minimum reduction, payment"),
              what="[minimum reduction, payment] tiers", nonempty=True, post=_post_tiers)

#: The effect tiers' keys: payer, the state measured, the baseline, the month, the tiers.
SCHEMA = ContractSchema((
    PAYER,
    Field("state", StateName(), required=True),
    *BASELINE_FIELDS,
    Field("measure_at_month", Whole(1, _horizon, high_text="months"), required=True),
    Field("tiers", _TIERS, required=True),
), post=post_baseline)

CONTRACT_TYPE = ContractType(
    name="effect_tiers",
    summary="one payment at a measurement month, by the reduction of months in a state "
            "reached",
    docs=(
        "The relative reduction of months in ``state`` per participant, over months 0 to "
        "``measure_at_month`` - 1 and against the ``baseline``, decides the payment: the "
        "highest of the ``tiers`` [minimum reduction, payment] reached pays once, at the "
        "measurement month plus the lag; no tier reached pays nothing."
    ),
    outcome=True,
    pays_programme="the provider, or the tranches of its financing",
    schema=SCHEMA,
    due=due,
    measures_baseline=True,
)
