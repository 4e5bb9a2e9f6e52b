"""Financing of an outcome contract: tranches draw the programme cost, receive the payments
in a waterfall up to their return caps, and guarantees pay their unrepaid principal.

The rules are stated as equations in ``docs/contracts.rst`` ("Financing: tranches,
waterfall, guarantees").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sibsim.contracts.declaration import ContractTerms, index_of
from sibsim.contracts.limits import ROUNDING_TOLERANCE, cumulative_limit

__all__ = ["TrancheFlows", "finance_contract", "finance_programme"]


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
      than :data:`~sibsim.contracts.limits.ROUNDING_TOLERANCE` of A (rounding) counts as
      covered.
    - Waterfall: each payment goes to the tranches in order of listing until tranche i has
      received ``D_i x return_cap_multiple_i`` in all (D_i its total drawn over the horizon;
      an infinite multiple means no cap). Payments beyond what the tranches can still
      receive are not made.
    - Guarantees, in the horizon's last month and in listing order: each pays its covered
      tranche's unrepaid principal, ``max(D_i - received_i, 0)`` with received_i including
      earlier guarantee payouts, up to its amount (an unrepaid principal of no more than
      ``ROUNDING_TOLERANCE`` of D_i is rounding and counts as repaid).

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

    Examples
    --------
    >>> flows = finance_programme(np.array([[60.0, 40.0, 0.0]]), np.array([[0.0, 50.0, 90.0]]),
    ...                           amount=np.array([[100.0]]),
    ...                           return_cap_multiple=np.array([[1.2]]),
    ...                           guarantee_amount=np.zeros((0, 1)), covered=[])
    >>> flows.made
    array([[ 0., 50., 70.]])
    """
    programme_cost = np.asarray(programme_cost, dtype=np.float64)
    drawn, unfunded = _draw(programme_cost, amount)
    principal = drawn.sum(axis=2)  # (tranches, draws)
    received, returned = _waterfall(drawn.shape, principal, due, return_cap_multiple)
    payout = _guarantees(principal, returned, guarantee_amount, covered)
    return TrancheFlows(
        drawn=drawn,
        received=received,
        guarantee_payout=payout,
        covered=list(covered),
        made=received.sum(axis=0) if received.shape[0] > 1 else received[0].copy(),
        unfunded=unfunded,
    )


def _draw(programme_cost: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Money drawn from each tranche (tranches, draws, months), and the cost left unfunded."""
    amount = np.maximum(np.asarray(amount, dtype=np.float64), 0.0)
    total_amount = amount.sum(axis=0)  # (draws,)
    # The tranches fund each month's cost while their total lasts. Where it covers the
    # whole programme (up to rounding, ROUNDING_TOLERANCE) they fund every month's cost bit
    # for bit, and the provider's part is exactly 0 in every month.
    drawn_total, _ = cumulative_limit(programme_cost, total_amount)  # (draws, months)
    unfunded = programme_cost - drawn_total  # x - x == 0 exactly where fully funded
    pro_rata = np.divide(
        amount, total_amount, out=np.zeros_like(amount), where=total_amount > 0
    )
    return pro_rata[:, :, None] * drawn_total[None, :, :], unfunded


def _waterfall(
    shape: tuple[int, ...], principal: np.ndarray, due: np.ndarray,
    return_cap_multiple: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """What each tranche receives per month, and in all (exact at its return cap).

    Tranche i takes what the tranches listed before it left over, in time order, up to its
    return cap (infinite without one: it takes everything left, and the tranches after it
    nothing).
    """
    uncapped = np.isinf(return_cap_multiple)
    finite_multiple = np.where(uncapped, 0.0, return_cap_multiple)
    return_cap = np.where(uncapped, np.inf, principal * finite_multiple)
    received = np.zeros(shape)
    returned = np.zeros_like(principal)
    left = np.asarray(due, dtype=np.float64)
    for i in range(shape[0]):
        received[i], returned[i] = cumulative_limit(left, return_cap[i])
        left = left - received[i]
    return received, returned


def _guarantees(
    principal: np.ndarray, returned: np.ndarray, guarantee_amount: np.ndarray,
    covered: Sequence[int],
) -> np.ndarray:
    """Each guarantee's payout: its covered tranche's unrepaid principal, in listing order.

    ``returned`` (tranches, draws) is updated in place with the payouts.
    """
    payout = np.zeros((len(covered), principal.shape[1]))
    for g, tranche in enumerate(covered):
        unrepaid = principal[tranche] - returned[tranche]
        unrepaid = np.where(unrepaid > ROUNDING_TOLERANCE * principal[tranche], unrepaid, 0.0)
        payout[g] = np.minimum(np.maximum(guarantee_amount[g], 0.0), unrepaid)
        returned[tranche] += payout[g]
    return payout


def finance_contract(terms: ContractTerms, due: np.ndarray) -> TrancheFlows:
    """Read a contract's financing numbers per draw and run :func:`finance_programme`.

    Parameters
    ----------
    terms : ContractTerms
        An outcome contract with ``financing``.
    due : ndarray, shape (draws, months)
        Its payments at their payment month, after ``cap_total``.

    Returns
    -------
    TrancheFlows
    """
    draws = terms.ledger.draws
    tranches = terms.contract["financing"]["tranches"]
    guarantees = terms.contract["financing"]["guarantees"]
    amount = np.array(
        [terms.number("financing", "tranches", i, "amount") for i in range(len(tranches))]
    )
    cap_multiple = np.array(
        [
            np.full(draws, np.inf)
            if tranche.get("return_cap_multiple") is None
            else terms.number("financing", "tranches", i, "return_cap_multiple")
            for i, tranche in enumerate(tranches)
        ]
    )
    tranche_parties = [tranche["party"] for tranche in tranches]
    covered = [
        index_of(tranche_parties, guarantee["covers"],
                 terms.path_of("financing", "guarantees", g, "covers"), "tranche parties")
        for g, guarantee in enumerate(guarantees)
    ]
    guarantee_amount = np.array(
        [terms.number("financing", "guarantees", g, "amount") for g in range(len(guarantees))]
    ).reshape(len(guarantees), draws)
    return finance_programme(
        terms.ledger.programme_cost,
        due,
        amount=amount,
        return_cap_multiple=cap_multiple,
        guarantee_amount=guarantee_amount,
        covered=covered,
    )
