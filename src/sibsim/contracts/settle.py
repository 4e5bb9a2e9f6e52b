"""Contract settlement: outcome payments, financing waterfall, guarantees, npv per party.

This stage takes the :class:`~sibsim.engine.ledger.Ledger` of a run (all draws at once) and the
normalised contracts of the scenario (``Scenario.data["contracts"]``, see
``docs/internals.rst``) and works out, for every contract and draw, which outcome payments
are made, who funds the programme, what flows back to the investors' tranches and their
guarantors, and the discounted net position of every party. The rules are those of SPEC
section 6; ``docs/contracts.rst`` states them as equations and gives the order of
operations, which this module follows step by step:

1. payments due at their payment month (rate card: reached outcomes after the window and the
   per-participant cap, shifted by the lag; gain share: one amount per settlement period;
   effect tiers: one amount at the measurement month), each dropped when its payment month
   lies beyond the horizon;
2. ``cap_total``, cumulative in time order;
3. with financing: the tranches draw the programme cost as it is spent, the payments go to
   the tranches in listing order up to their return caps, payments beyond what the tranches
   can still receive are not made, and in the last month the guarantees pay the tranches'
   unrepaid principal;
4. npv per party, with each payer's own savings included under every contract.

Every contract number (price, share, cap, threshold, amount, tier, return cap) may be a
distribution sampled once per draw: the caller passes a ``value(path)`` callable that gives
its value per draw from its key path, e.g. ``value("contracts[2].share")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sibsim.contracts.finance import irr, multiple
from sibsim.engine.ledger import Ledger

__all__ = [
    "OUTCOME_TYPES",
    "Settlement",
    "TrancheFlows",
    "apply_cap_total",
    "finance_programme",
    "gain_share_due",
    "effect_tiers_due",
    "measured_saving",
    "rate_card_paid",
    "relative_reduction",
    "settle",
]

#: Contract types whose payments depend on outcomes (and may be financed).
OUTCOME_TYPES = ("rate_card", "gain_share", "effect_tiers")

#: Contract types in which a party simply pays the programme.
FUNDING_TYPES = ("grant", "fee_for_service")

ValueFunction = Callable[[str], np.ndarray]

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


@dataclass
class Settlement:
    """What every contract does, for all draws.

    Attributes
    ----------
    contracts : list of str
        Contract names, in scenario order (the ``contract`` axis).
    parties : list of str
        Party names (the ``party`` axis), as passed to :func:`settle`.
    payment : ndarray, shape (draws, contracts, months)
        Outcome payments made in each month, undiscounted: after the lag, the horizon,
        ``cap_total`` and the tranches' return caps. 0 for grant and fee_for_service.
    npv : ndarray, shape (draws, contracts, parties)
        Discounted net position of each party under each contract. A payer's npv includes
        its own savings (``Ledger.savings_npv()`` summed over categories).
    investor_irr : ndarray, shape (draws, contracts)
        Annualised IRR of all the contract's tranches together, ``(1 + m) ** 12 - 1`` with m
        the monthly IRR; -1 where money was drawn and nothing returned; NaN where the
        contract has no tranche, where nothing was drawn, and where the cash flows have no
        root (see :func:`sibsim.contracts.finance.irr`).
    investor_multiple : ndarray, shape (draws, contracts)
        Money returned to the tranches (payments and guarantee payouts) divided by money
        drawn from them, undiscounted; NaN where nothing was drawn or there is no tranche.
    irr_no_root_share : ndarray, shape (contracts,)
        Among the draws in which money was drawn from the contract's tranches, the share
        whose IRR has no root (NaN IRR). NaN for a contract without tranches or where
        nothing was ever drawn.
    tranche_party : ndarray, shape (contracts, parties), bool
        True where the party funds a tranche of the contract (the results store it as the
        ``tranche_party`` variable, which :func:`sibsim.analysis.summary.summarize` reads).
    """

    contracts: list[str]
    parties: list[str]
    payment: np.ndarray
    npv: np.ndarray
    investor_irr: np.ndarray
    investor_multiple: np.ndarray
    irr_no_root_share: np.ndarray
    tranche_party: np.ndarray


@dataclass
class TrancheFlows:
    """Money moved by the financing of one outcome contract, all draws.

    Attributes
    ----------
    drawn : ndarray, shape (tranches, draws, months)
        Programme cost funded by each tranche in each month.
    received : ndarray, shape (tranches, draws, months)
        Outcome payments received by each tranche in each month.
    guarantee_payout : ndarray, shape (guarantees, draws)
        What each guarantee pays to its covered tranche in the horizon's last month.
    covered : list of int
        Index of the tranche each guarantee covers.
    made : ndarray, shape (draws, months)
        Outcome payments made: what the tranches received, summed.
    unfunded : ndarray, shape (draws, months)
        Programme cost the tranches do not fund, paid by the provider: exactly 0 in every
        month when the tranches fund the whole programme.
    """

    drawn: np.ndarray
    received: np.ndarray
    guarantee_payout: np.ndarray
    covered: list[int]
    made: np.ndarray
    unfunded: np.ndarray


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _per_draw(value: ValueFunction, path: str, draws: int) -> np.ndarray:
    """The value of a contract number in every draw, as a float64 array of shape (draws,)."""
    sampled = np.asarray(value(path), dtype=np.float64)
    return np.broadcast_to(sampled, (draws,)).astype(np.float64, copy=True)


def _present_value(discount: np.ndarray, flows: np.ndarray) -> np.ndarray:
    """Discounted sum over months of ``flows`` (..., draws, months) -> (..., draws)."""
    return np.einsum("dt,...dt->...d", discount, flows)


def _payer_shares(
    contract: dict, path: str, value: ValueFunction, draws: int
) -> dict[str, np.ndarray]:
    """Per-draw share of each payer of an outcome or fee_for_service contract.

    Shares given as plain numbers are used as they stand; a share given as a distribution
    is read through ``value`` at ``{path}.payer.{party}``. The shares must add up to 1 in
    every draw, or money would be created or lost.
    """
    shares = {}
    for party, share in contract["payer"].items():
        if isinstance(share, (int, float)) and not isinstance(share, bool):
            shares[party] = np.full(draws, float(share))
        else:
            shares[party] = _per_draw(value, f"{path}.payer.{party}", draws)
    total = sum(shares.values())
    if not np.allclose(total, 1.0, rtol=0.0, atol=1e-9):
        raise ValueError(
            f"{path}.payer: got shares {dict(contract['payer'])} adding up to "
            f"{np.min(total):.12g}..{np.max(total):.12g}, expected shares that add up to 1"
        )
    return shares


def _index(names: Sequence[str], name: str, path: str, what: str) -> int:
    try:
        return list(names).index(name)
    except ValueError:
        raise ValueError(
            f"{path}: got {name!r}, expected one of the {what} {list(names)}"
        ) from None


def _cumulative_limit(flows: np.ndarray, limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    """
    cumulative = np.cumsum(flows, axis=-1)
    before = np.zeros_like(cumulative)
    before[..., 1:] = cumulative[..., :-1]
    limit = np.asarray(limit, dtype=np.float64)[..., None]
    within = cumulative <= limit * (1.0 + ROUNDING_TOLERANCE)  # inf stays inf
    passed = np.where(within, flows, np.where(before < limit, limit - before, 0.0))
    total = np.where(within[..., -1], cumulative[..., -1], limit[..., 0])
    return passed, total


def _shift_to_payment_month(due: np.ndarray, lag: int) -> np.ndarray:
    """Move amounts reached in month t to month t + lag; those beyond the horizon drop out."""
    months = due.shape[-1]
    paid = np.zeros_like(due)
    if lag < months:
        paid[..., lag:] = due[..., : months - lag]
    return paid


# --------------------------------------------------------------------------------------
# Outcome payments due, per contract type
# --------------------------------------------------------------------------------------


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
    return _shift_to_payment_month(np.asarray(due_at_outcome, dtype=np.float64), lag)


def measured_saving(
    contract: dict, ledger: Ledger, *, path: str = "contract"
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
    - ``"historical"``: the fixed expected cost of the treated cohort's enrolled
      participants (``Ledger.historical.cost``), the same in every draw.

    Parameters
    ----------
    contract : dict
        A normalised gain-share (or effect-tiers) contract.
    ledger : Ledger
        The run's ledger.
    path : str, keyword-only
        Key path of the contract, for error messages (``contracts[2]``).

    Returns
    -------
    saving : ndarray, shape (draws, months)
        Baseline cost minus treatment cost, undiscounted.
    baseline : ndarray, shape (draws, months)
        Baseline cost at treated scale, undiscounted.
    """
    payers = [
        _index(ledger.payers, p, f"{path}.savings_of", "payers")
        for p in contract["savings_of"]
    ]
    categories = [
        _index(ledger.categories, k, f"{path}.categories", "categories")
        for k in contract["categories"]
    ]

    def measured(cost: np.ndarray) -> np.ndarray:
        """Sum over measured payers and categories of (..., months, payers, categories)."""
        return cost[..., payers, :][..., categories].sum(axis=(-2, -1))

    treatment = measured(ledger.cost[:, 0])
    baseline_kind = contract["baseline"]
    if baseline_kind == "counterfactual":
        baseline = measured(ledger.cost[:, 1])
    elif baseline_kind == "comparison_group":
        group = _comparison_group(contract, ledger, path)
        group_enrolled = np.asarray(group.enrolled, dtype=np.float64)
        per_participant = np.divide(
            measured(group.cost),
            group_enrolled,
            out=np.zeros((ledger.draws, ledger.months)),
            where=group_enrolled > 0,
        )
        baseline = per_participant * np.asarray(ledger.enrolled, dtype=np.float64)
        baseline = np.where(group_enrolled > 0, baseline, treatment)
    elif baseline_kind == "historical":
        historical = _historical(ledger, path)
        baseline = np.broadcast_to(measured(historical.cost), treatment.shape).copy()
    else:
        raise ValueError(
            f"{path}.baseline: got {baseline_kind!r}, expected 'counterfactual', "
            "'comparison_group' or 'historical'"
        )
    return baseline - treatment, baseline


def _comparison_group(contract: dict, ledger: Ledger, path: str):
    size = contract["comparison_size"]
    if size not in ledger.comparison:
        raise ValueError(
            f"{path}.comparison_size: got {size!r}, but the ledger holds comparison groups "
            f"of sizes {sorted(ledger.comparison)}"
        )
    return ledger.comparison[size]


def _historical(ledger: Ledger, path: str):
    if ledger.historical is None:
        raise ValueError(
            f"{path}.baseline: got 'historical', but the ledger has no historical baseline"
        )
    return ledger.historical


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
    nothing (a relative saving within :data:`BOUNDARY_TOLERANCE` below the threshold counts
    as reaching it). Nothing is carried forward or clawed back. The payment falls in the settlement
    month plus the lag and is not made when that lies beyond the horizon.

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


def relative_reduction(
    contract: dict, ledger: Ledger, *, path: str = "contract"
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
    contract : dict
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
            f"{path}.measure_at_month: got {measure_at}, expected a month in 1..{months}"
        )
    state = _index(ledger.states, contract["state"], f"{path}.state", "states")
    window = slice(0, measure_at)

    def per_participant(months_in_state: np.ndarray, enrolled: float) -> np.ndarray:
        if enrolled <= 0:
            return np.full(ledger.draws, np.nan)
        return months_in_state / enrolled

    treated_enrolled = float(ledger.enrolled[measure_at - 1])
    treated = per_participant(
        ledger.occupancy[:, 0, window, state].sum(axis=1), treated_enrolled
    )
    baseline_kind = contract["baseline"]
    if baseline_kind == "counterfactual":
        baseline = per_participant(
            ledger.occupancy[:, 1, window, state].sum(axis=1), treated_enrolled
        )
    elif baseline_kind == "comparison_group":
        group = _comparison_group(contract, ledger, path)
        baseline = per_participant(
            group.occupancy[:, window, state].sum(axis=1),
            float(group.enrolled[measure_at - 1]),
        )
    elif baseline_kind == "historical":
        historical = _historical(ledger, path)
        expected = historical.occupancy[window, state].sum()
        baseline = np.broadcast_to(
            per_participant(np.asarray(expected), treated_enrolled), (ledger.draws,)
        )
    else:
        raise ValueError(
            f"{path}.baseline: got {baseline_kind!r}, expected 'counterfactual', "
            "'comparison_group' or 'historical'"
        )
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
    ``measure_at_month - 1 + lag`` (a reduction within :data:`BOUNDARY_TOLERANCE` below a
    tier's minimum reaches it); no tier reached (or a NaN reduction) pays nothing, and
    nothing is paid when the payment month lies beyond the horizon.

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
    return _cumulative_limit(due, cap_total)[0]


# --------------------------------------------------------------------------------------
# Financing
# --------------------------------------------------------------------------------------


def finance_programme(
    programme_cost: np.ndarray,
    due: np.ndarray,
    *,
    amount: np.ndarray,
    return_cap_multiple: np.ndarray,
    guarantee_amount: np.ndarray,
    covered: Sequence[int],
) -> TrancheFlows:
    """Tranche funding, payment waterfall and guarantee payouts of one contract.

    - Funding: the tranches together fund the programme as it is spent, up to the sum of
      their amounts A: cumulative drawn = min(cumulative programme cost, A), each tranche
      pro rata to its amount. The provider pays the rest (``unfunded``), which is exactly
      0 in every month when A covers the whole programme cost; a cost above A by no more
      than :data:`ROUNDING_TOLERANCE` of A (rounding) counts as covered.
    - Waterfall: each payment goes to the tranches in order of listing until tranche i has
      received ``D_i x return_cap_multiple_i`` in all (D_i its total drawn over the horizon;
      an infinite multiple means no cap). Payments beyond what the tranches can still
      receive are not made.
    - Guarantees, in the horizon's last month and in listing order: each pays its covered
      tranche's unrepaid principal, ``max(D_i - received_i, 0)`` with received_i including
      earlier guarantee payouts, up to its amount (an unrepaid principal of no more than
      :data:`ROUNDING_TOLERANCE` of D_i is rounding and counts as repaid).

    Parameters
    ----------
    programme_cost : ndarray, shape (draws, months)
        Undiscounted programme cost.
    due : ndarray, shape (draws, months)
        Non-negative outcome payments at their payment month, after ``cap_total``.
    amount : ndarray, shape (tranches, draws)
        Tranche amounts.
    return_cap_multiple : ndarray, shape (tranches, draws)
        Return caps as multiples of money drawn (``np.inf`` for none).
    guarantee_amount : ndarray, shape (guarantees, draws)
        Guarantee amounts.
    covered : sequence of int
        Index of the tranche covered by each guarantee.

    Returns
    -------
    TrancheFlows
    """
    amount = np.maximum(np.asarray(amount, dtype=np.float64), 0.0)
    total_amount = amount.sum(axis=0)  # (draws,)
    programme_cost = np.asarray(programme_cost, dtype=np.float64)

    # Drawing: the tranches fund each month's cost while their total lasts. Where it covers
    # the whole programme (up to rounding, ROUNDING_TOLERANCE) they fund every month's cost
    # bit for bit, and the provider's part is exactly 0 in every month.
    drawn_total, _ = _cumulative_limit(programme_cost, total_amount)  # (draws, months)
    unfunded = programme_cost - drawn_total  # x - x == 0 exactly where fully funded
    pro_rata = np.divide(
        amount, total_amount, out=np.zeros_like(amount), where=total_amount > 0
    )
    drawn = pro_rata[:, :, None] * drawn_total[None, :, :]  # (tranches, draws, months)

    # Waterfall: tranche i takes what the tranches listed before it left over, in time
    # order, up to its return cap (infinite without one: it takes everything left, and the
    # tranches after it nothing).
    principal = drawn.sum(axis=2)  # (tranches, draws)
    uncapped = np.isinf(return_cap_multiple)
    finite_multiple = np.where(uncapped, 0.0, return_cap_multiple)
    return_cap = np.where(uncapped, np.inf, principal * finite_multiple)
    received = np.zeros_like(drawn)
    returned = np.zeros_like(principal)  # total received, exact at the return cap
    left = np.asarray(due, dtype=np.float64)
    for i in range(drawn.shape[0]):
        received[i], returned[i] = _cumulative_limit(left, return_cap[i])
        left = left - received[i]

    # Guarantees: the covered tranche's unrepaid principal, in listing order.
    payout = np.zeros((len(covered), programme_cost.shape[0]))
    for g, tranche in enumerate(covered):
        unrepaid = principal[tranche] - returned[tranche]
        unrepaid = np.where(unrepaid > ROUNDING_TOLERANCE * principal[tranche], unrepaid, 0.0)
        payout[g] = np.minimum(np.maximum(guarantee_amount[g], 0.0), unrepaid)
        returned[tranche] += payout[g]
    return TrancheFlows(
        drawn=drawn,
        received=received,
        guarantee_payout=payout,
        covered=list(covered),
        made=received.sum(axis=0) if received.shape[0] > 1 else received[0].copy(),
        unfunded=unfunded,
    )


# --------------------------------------------------------------------------------------
# Settlement
# --------------------------------------------------------------------------------------


def settle(
    contracts: Sequence[dict],
    ledger: Ledger,
    value: ValueFunction,
    parties: Sequence[str],
) -> Settlement:
    """Settle every contract in every draw.

    Parameters
    ----------
    contracts : sequence of dict
        The normalised contracts (``Scenario.data["contracts"]``), in scenario order: the
        position of a contract in this list is its index in key paths
        (``contracts[i]...``) and in ``Ledger.rate_card_due``.
    ledger : Ledger
        Costs, occupancy, programme cost, baselines and discount factors of the run.
    value : callable
        ``value(path) -> ndarray (draws,)``: the per-draw value of the contract number at
        a key path (``"contracts[2].share"``, ``"contracts[3].tiers[1][1]"``,
        ``"contracts[2].financing.tranches[0].amount"``).
    parties : sequence of str
        Every party: the payers, then the parties named in contracts, then ``"provider"``.
        Every payer of the ledger and every party a contract names must be in it.

    Returns
    -------
    Settlement
        Payments made, npv per party, investor IRR and multiple, per contract and draw.

    Notes
    -----
    For every contract and draw the parties' npv add up to the sum of ``savings_npv``
    minus the discounted programme cost: money only moves between parties. The rules and
    their order of operations are in ``docs/contracts.rst``.

    Examples
    --------
    >>> settlement = settle(scenario.data["contracts"], ledger, value,
    ...                     parties=scenario.parties())          # doctest: +SKIP
    >>> settlement.npv.shape                                     # doctest: +SKIP
    (2000, 4, 5)
    """
    parties = list(parties)
    draws, months = ledger.draws, ledger.months
    n_contracts = len(contracts)
    discount = np.asarray(ledger.discount, dtype=np.float64)

    for payer in ledger.payers:
        _index(parties, payer, "parties", "parties")
    payer_columns = [parties.index(p) for p in ledger.payers]
    own_savings = ledger.savings_npv().sum(axis=2)  # (draws, payers)
    programme_pv = ledger.programme_cost_npv()  # (draws,)

    payment = np.zeros((draws, n_contracts, months))
    npv = np.zeros((draws, n_contracts, len(parties)))
    investor_irr = np.full((draws, n_contracts), np.nan)
    investor_multiple = np.full((draws, n_contracts), np.nan)
    irr_no_root_share = np.full(n_contracts, np.nan)
    tranche_party = np.zeros((n_contracts, len(parties)), dtype=bool)

    for c, contract in enumerate(contracts):
        path = f"contracts[{c}]"
        position = npv[:, c, :]  # a view: updates land in npv

        def party(name: str, where: str) -> int:
            return _index(parties, name, where, "parties")

        position[:, payer_columns] += own_savings
        kind = contract["type"]

        if kind == "grant":
            position[:, party(contract["funder"], f"{path}.funder")] -= programme_pv
            continue
        if kind == "fee_for_service":
            for name, share in _payer_shares(contract, path, value, draws).items():
                position[:, party(name, f"{path}.payer")] -= share * programme_pv
            continue
        if kind not in OUTCOME_TYPES:
            raise ValueError(
                f"{path}.type: got {kind!r}, expected one of "
                f"{list(FUNDING_TYPES + OUTCOME_TYPES)}"
            )

        due = _outcome_due(c, contract, ledger, value)
        cap_total = (
            None
            if contract.get("cap_total") is None
            else _per_draw(value, f"{path}.cap_total", draws)
        )
        due = apply_cap_total(due, cap_total)

        financing = contract.get("financing")
        tranches = financing["tranches"] if financing else []
        provider = party("provider", "parties")
        if not tranches:
            made = due
            position[:, provider] += _present_value(discount, made) - programme_pv
        else:
            flows = _finance_contract(c, contract, ledger, due, value)
            made = flows.made
            drawn_pv = _present_value(discount, flows.drawn)  # (tranches, draws)
            received_pv = _present_value(discount, flows.received)
            for i, tranche in enumerate(tranches):
                column = party(tranche["party"], f"{path}.financing.tranches[{i}].party")
                tranche_party[c, column] = True
                position[:, column] += received_pv[i] - drawn_pv[i]
            for g, guarantee in enumerate(financing["guarantees"]):
                where = f"{path}.financing.guarantees[{g}]"
                payout_pv = flows.guarantee_payout[g] * discount[:, -1]
                covered_party = tranches[flows.covered[g]]["party"]
                position[:, party(covered_party, f"{where}.covers")] += payout_pv
                position[:, party(guarantee["party"], f"{where}.party")] -= payout_pv
            # The provider pays only what the tranches do not fund (no subtract-then-add:
            # a fully funded programme leaves the provider exactly 0).
            position[:, provider] -= _present_value(discount, flows.unfunded)
            _investor_returns(c, flows, investor_irr, investor_multiple, irr_no_root_share)

        made_pv = _present_value(discount, made)
        for name, share in _payer_shares(contract, path, value, draws).items():
            position[:, party(name, f"{path}.payer")] -= share * made_pv
        payment[:, c, :] = made

    return Settlement(
        contracts=[contract["name"] for contract in contracts],
        parties=parties,
        payment=payment,
        npv=npv,
        investor_irr=investor_irr,
        investor_multiple=investor_multiple,
        irr_no_root_share=irr_no_root_share,
        tranche_party=tranche_party,
    )


def _outcome_due(
    c: int, contract: dict, ledger: Ledger, value: ValueFunction
) -> np.ndarray:
    """Payments of an outcome contract at their payment month, before ``cap_total``."""
    path = f"contracts[{c}]"
    draws, months = ledger.draws, ledger.months
    lag = int(contract["payment_lag_months"])
    if lag < 0:
        raise ValueError(f"{path}.payment_lag_months: got {lag}, expected a whole number >= 0")
    kind = contract["type"]
    if kind == "rate_card":
        if c not in ledger.rate_card_due:
            raise ValueError(f"{path}: the ledger holds no rate_card_due for this contract")
        return rate_card_paid(ledger.rate_card_due[c], lag)
    if kind == "gain_share":
        saving, baseline = measured_saving(contract, ledger, path=path)
        return gain_share_due(
            saving,
            baseline,
            share=_per_draw(value, f"{path}.share", draws),
            threshold=_per_draw(value, f"{path}.threshold", draws),
            settle_every_months=int(contract["settle_every_months"]),
            lag=lag,
        )
    # effect_tiers
    n_tiers = len(contract["tiers"])
    minimum = np.zeros((draws, n_tiers))
    tier_payment = np.zeros((draws, n_tiers))
    for i in range(n_tiers):
        minimum[:, i] = _per_draw(value, f"{path}.tiers[{i}][0]", draws)
        tier_payment[:, i] = _per_draw(value, f"{path}.tiers[{i}][1]", draws)
    return effect_tiers_due(
        relative_reduction(contract, ledger, path=path),
        minimum,
        tier_payment,
        measure_at_month=int(contract["measure_at_month"]),
        lag=lag,
        months=months,
    )


def _finance_contract(
    c: int, contract: dict, ledger: Ledger, due: np.ndarray, value: ValueFunction
) -> TrancheFlows:
    """Read a contract's financing numbers per draw and run :func:`finance_programme`."""
    path = f"contracts[{c}].financing"
    draws = ledger.draws
    tranches = contract["financing"]["tranches"]
    guarantees = contract["financing"]["guarantees"]
    amount = np.array(
        [_per_draw(value, f"{path}.tranches[{i}].amount", draws) for i in range(len(tranches))]
    )
    cap_multiple = np.array(
        [
            np.full(draws, np.inf)
            if tranche.get("return_cap_multiple") is None
            else _per_draw(value, f"{path}.tranches[{i}].return_cap_multiple", draws)
            for i, tranche in enumerate(tranches)
        ]
    )
    tranche_parties = [tranche["party"] for tranche in tranches]
    covered = [
        _index(tranche_parties, guarantee["covers"], f"{path}.guarantees[{g}].covers",
               "tranche parties")
        for g, guarantee in enumerate(guarantees)
    ]
    guarantee_amount = np.array(
        [_per_draw(value, f"{path}.guarantees[{g}].amount", draws) for g in range(len(guarantees))]
    ).reshape(len(guarantees), draws)
    return finance_programme(
        ledger.programme_cost,
        due,
        amount=amount,
        return_cap_multiple=cap_multiple,
        guarantee_amount=guarantee_amount,
        covered=covered,
    )


def _investor_returns(
    c: int,
    flows: TrancheFlows,
    investor_irr: np.ndarray,
    investor_multiple: np.ndarray,
    irr_no_root_share: np.ndarray,
) -> None:
    """IRR, multiple and no-root share of all of a contract's tranches together."""
    net = flows.received.sum(axis=0) - flows.drawn.sum(axis=0)  # (draws, months)
    net[:, -1] += flows.guarantee_payout.sum(axis=0)
    drawn = flows.drawn.sum(axis=(0, 2))
    returned = flows.received.sum(axis=(0, 2)) + flows.guarantee_payout.sum(axis=0)
    something_drawn = drawn > 0
    rate = irr(net)
    investor_irr[:, c] = np.where(something_drawn, rate, np.nan)
    investor_multiple[:, c] = multiple(drawn, returned)
    if something_drawn.any():
        irr_no_root_share[c] = np.isnan(rate[something_drawn]).mean()
