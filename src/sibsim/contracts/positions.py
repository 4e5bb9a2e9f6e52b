"""The position of every party: npv per party and contract, investor returns.

:class:`Accounts` holds the arrays that settlement fills for all contracts and draws. A
contract without outcomes moves the programme cost to the parties that pay it
(:func:`pay_programme`); an outcome contract moves its payments from the payers to the
provider or to its tranches and guarantors (:func:`settle_outcome`). Each payer's own
savings are in its position under every contract. See ``docs/contracts.rst``, "Who pays and
who receives".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sibsim.contracts.declaration import ContractTerms, ProgrammeShare, index_of
from sibsim.contracts.finance import irr, multiple
from sibsim.contracts.financing import TrancheFlows, finance_contract
from sibsim.rules import PROVIDER

if TYPE_CHECKING:
    from sibsim.engine.ledger import Ledger

__all__ = ["Accounts", "pay_programme", "present_value", "settle_outcome"]


def present_value(discount: np.ndarray, flows: np.ndarray) -> np.ndarray:
    """Discounted sum over months of ``flows``.

    Parameters
    ----------
    discount : ndarray, shape (draws, months)
        Discount factors.
    flows : ndarray, shape (..., draws, months)
        Undiscounted amounts.

    Returns
    -------
    ndarray, shape (..., draws)

    Examples
    --------
    >>> present_value(np.array([[1.0, 0.5]]), np.array([[10.0, 10.0]]))
    array([15.])
    """
    return np.einsum("dt,...dt->...d", discount, flows)


@dataclass
class Accounts:
    """What settlement fills in, for every contract and draw, and what it reads throughout.

    Attributes
    ----------
    parties : list of str
        The ``party`` axis.
    discount : ndarray, shape (draws, months)
        Discount factors of the run.
    programme_pv : ndarray, shape (draws,)
        Discounted programme cost.
    payment : ndarray, shape (draws, contracts, months)
        Outcome payments made.
    npv : ndarray, shape (draws, contracts, parties)
        Discounted net position of each party.
    investor_irr, investor_multiple : ndarray, shape (draws, contracts)
        Combined return of each contract's tranches (NaN without tranches).
    irr_no_root_share : ndarray, shape (contracts,)
        Share of the draws with money drawn whose IRR has no root.
    tranche_party : ndarray, shape (contracts, parties), bool
        True where the party funds a tranche of the contract.
    """

    parties: list[str]
    discount: np.ndarray
    programme_pv: np.ndarray
    payment: np.ndarray
    npv: np.ndarray
    investor_irr: np.ndarray
    investor_multiple: np.ndarray
    irr_no_root_share: np.ndarray
    tranche_party: np.ndarray

    @classmethod
    def empty(cls, ledger: Ledger, parties: Sequence[str], contracts: int) -> Accounts:
        """Accounts with no money moved yet.

        Parameters
        ----------
        ledger : Ledger
            The run's ledger.
        parties : sequence of str
            The ``party`` axis.
        contracts : int
            Number of contracts.

        Returns
        -------
        Accounts
        """
        parties = list(parties)
        draws, months = ledger.draws, ledger.months
        return cls(
            parties=parties,
            discount=np.asarray(ledger.discount, dtype=np.float64),
            programme_pv=ledger.programme_cost_npv(),
            payment=np.zeros((draws, contracts, months)),
            npv=np.zeros((draws, contracts, len(parties))),
            investor_irr=np.full((draws, contracts), np.nan),
            investor_multiple=np.full((draws, contracts), np.nan),
            irr_no_root_share=np.full(contracts, np.nan),
            tranche_party=np.zeros((contracts, len(parties)), dtype=bool),
        )

    def column(self, party: str, where: str) -> int:
        """Index of a party on the ``party`` axis; a ValueError naming ``where`` otherwise.

        Parameters
        ----------
        party : str
            The party.
        where : str
            Key path of the value that names it.

        Returns
        -------
        int
        """
        return index_of(self.parties, party, where, "parties")


def pay_programme(accounts: Accounts, index: int, shares: Sequence[ProgrammeShare]) -> None:
    """Charge the programme cost to the parties that pay it under a contract.

    Parameters
    ----------
    accounts : Accounts
        Updated in place.
    index : int
        The contract's index.
    shares : sequence of ProgrammeShare
        Who pays the programme, and in which share.

    Returns
    -------
    None
    """
    position = accounts.npv[:, index, :]  # a view: updates land in npv
    for share in shares:
        position[:, accounts.column(share.party, share.where)] -= (
            share.share * accounts.programme_pv
        )


def settle_outcome(accounts: Accounts, terms: ContractTerms, due: np.ndarray) -> None:
    """Move an outcome contract's payments and the programme cost between the parties.

    Without financing the provider pays the programme and receives the payments. With
    tranches, they fund the programme (the provider pays what they do not), receive the
    payments up to their return caps, and the guarantees pay their unrepaid principal.
    Each payer pays its share of the payments made.

    Parameters
    ----------
    accounts : Accounts
        Updated in place: positions, payments, investor returns.
    terms : ContractTerms
        The contract.
    due : ndarray, shape (draws, months)
        Its payments at their payment month, after ``cap_total``.

    Returns
    -------
    None
    """
    c, discount = terms.index, accounts.discount
    position = accounts.npv[:, c, :]  # a view: updates land in npv
    financing = terms.contract.get("financing")
    tranches = financing["tranches"] if financing else []
    provider = accounts.column(PROVIDER, "parties")
    if not tranches:
        made = due
        made_pv = present_value(discount, made)
        position[:, provider] += made_pv - accounts.programme_pv
    else:
        flows = finance_contract(terms, due)
        made = flows.made
        _tranche_positions(accounts, terms, flows)
        # The provider pays only what the tranches do not fund (no subtract-then-add:
        # a fully funded programme leaves the provider exactly 0).
        position[:, provider] -= present_value(discount, flows.unfunded)
        _investor_returns(accounts, c, flows)
        made_pv = present_value(discount, made)
    where = terms.path_of("payer")
    for name, share in terms.payer_shares().items():
        position[:, accounts.column(name, where)] -= share * made_pv
    accounts.payment[:, c, :] = made


def _tranche_positions(accounts: Accounts, terms: ContractTerms, flows: TrancheFlows) -> None:
    """Tranche parties: received minus drawn; guarantors pay their payouts to the covered."""
    c, discount = terms.index, accounts.discount
    position = accounts.npv[:, c, :]
    financing = terms.contract["financing"]
    tranches = financing["tranches"]
    drawn_pv = present_value(discount, flows.drawn)  # (tranches, draws)
    received_pv = present_value(discount, flows.received)
    for i, tranche in enumerate(tranches):
        column = accounts.column(tranche["party"],
                                 terms.path_of("financing", "tranches", i, "party"))
        accounts.tranche_party[c, column] = True
        position[:, column] += received_pv[i] - drawn_pv[i]
    for g, guarantee in enumerate(financing["guarantees"]):
        payout_pv = flows.guarantee_payout[g] * discount[:, -1]
        covered_party = tranches[flows.covered[g]]["party"]
        covers = terms.path_of("financing", "guarantees", g, "covers")
        position[:, accounts.column(covered_party, covers)] += payout_pv
        guarantor = terms.path_of("financing", "guarantees", g, "party")
        position[:, accounts.column(guarantee["party"], guarantor)] -= payout_pv


def _investor_returns(accounts: Accounts, c: int, flows: TrancheFlows) -> None:
    """IRR, multiple and no-root share of all of a contract's tranches together."""
    net = flows.received.sum(axis=0) - flows.drawn.sum(axis=0)  # (draws, months)
    net[:, -1] += flows.guarantee_payout.sum(axis=0)
    drawn = flows.drawn.sum(axis=(0, 2))
    returned = flows.received.sum(axis=(0, 2)) + flows.guarantee_payout.sum(axis=0)
    something_drawn = drawn > 0
    rate = irr(net)
    accounts.investor_irr[:, c] = np.where(something_drawn, rate, np.nan)
    accounts.investor_multiple[:, c] = multiple(drawn, returned)
    if something_drawn.any():
        accounts.irr_no_root_share[c] = np.isnan(rate[something_drawn]).mean()
