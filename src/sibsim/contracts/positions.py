"""The position of every party: npv and net per party and contract, investor returns.

:class:`Accounts` holds the arrays that settlement fills for all contracts and draws. Money
is booked twice, in two :class:`Book` s: discounted, each party at its own rate (``npv``),
and undiscounted (``net``, the npv at a rate of 0). Both run through the same code, so every
rule of who pays and who receives holds for both alike. A contract without outcomes moves
the programme cost to the parties that pay it (:func:`pay_programme`); an outcome contract
moves its payments from the payers to the provider or to its tranches and guarantors
(:func:`settle_outcome`). Each payer's own savings are in its position under every
contract. See ``docs/contracts.rst``, "Who pays and who receives".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sibsim.contracts.declaration import ContractTerms, ProgrammeShare, index_of
from sibsim.contracts.finance import irr, multiple
from sibsim.contracts.financing import TrancheFlows, finance_contract
from sibsim.rules import PROVIDER

if TYPE_CHECKING:
    from sibsim.engine.ledger import Ledger

__all__ = ["IRR_ZERO_TOLERANCE", "Accounts", "Book", "pay_programme", "present_value",
           "settle_outcome"]

#: The investors' IRR is exactly 0 where their undiscounted cash flows sum to 0 within this
#: share of the money drawn (a guarantee that returns exactly the principal): the solver
#: would otherwise return a rounding residue of about +-3e-16 with a random sign.
IRR_ZERO_TOLERANCE = 1e-12


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
class Book:
    """One way of adding money up over the months: its positions and its discount factors.

    Attributes
    ----------
    position : ndarray, shape (draws, contracts, parties)
        The positions it fills (``npv`` or ``net``).
    run : ndarray, shape (draws, months)
        The discount factors of every party without a rate of its own (all ones for the
        undiscounted book).
    programme_cost : ndarray, shape (draws, months)
        The undiscounted programme cost.
    own : dict of int to ndarray, shape (draws, months)
        The discount factors of the parties (by column) with a rate of their own.
    """

    position: np.ndarray
    run: np.ndarray
    programme_cost: np.ndarray
    own: dict[int, np.ndarray] = field(default_factory=dict)
    _programme_pv: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def discount(self, column: int) -> np.ndarray:
        """The discount factors of the party in ``column``, shape (draws, months)."""
        return self.own.get(column, self.run)

    def pv(self, column: int, flows: np.ndarray) -> np.ndarray:
        """Present value of ``flows`` (..., draws, months) for the party in ``column``."""
        return present_value(self.discount(column), flows)

    def programme_pv(self, column: int) -> np.ndarray:
        """Present value of the programme cost for the party in ``column``, shape (draws,)."""
        key = column if column in self.own else -1
        if key not in self._programme_pv:
            self._programme_pv[key] = np.einsum("dt,dt->d", self.discount(column),
                                                self.programme_cost)
        return self._programme_pv[key]

    def savings(self, savings: np.ndarray, columns: Sequence[int]) -> np.ndarray:
        """Each payer's own savings in this book, shape (draws, payers).

        Parameters
        ----------
        savings : ndarray, shape (draws, months, payers, categories)
            Undiscounted savings (``Ledger.savings()``).
        columns : sequence of int
            The payers' columns on the ``party`` axis.

        Returns
        -------
        ndarray, shape (draws, payers)
        """
        out = np.einsum("dt,dtpc->dpc", self.run, savings).sum(axis=2)
        for p, column in enumerate(columns):
            if column in self.own:
                out[:, p] = np.einsum("dt,dtc->dc", self.own[column],
                                      savings[:, :, p, :]).sum(axis=1)
        return out


@dataclass
class Accounts:
    """What settlement fills in, for every contract and draw, and what it reads throughout.

    Attributes
    ----------
    parties : list of str
        The ``party`` axis.
    books : tuple of Book
        The discounted book (``npv``, each party at its own rate) and the undiscounted one
        (``net``), filled by the same rules.
    payment : ndarray, shape (draws, contracts, months)
        Outcome payments made.
    npv : ndarray, shape (draws, contracts, parties)
        Discounted net position of each party (``books[0].position``).
    net : ndarray, shape (draws, contracts, parties)
        Undiscounted net position of each party (``books[1].position``).
    investor_irr, investor_multiple : ndarray, shape (draws, contracts)
        Combined return of each contract's tranches (NaN without tranches).
    irr_no_root_share : ndarray, shape (contracts,)
        Share of the draws with money drawn whose IRR has no root.
    tranche_party : ndarray, shape (contracts, parties), bool
        True where the party funds a tranche of the contract.
    """

    parties: list[str]
    books: tuple[Book, Book]
    payment: np.ndarray
    investor_irr: np.ndarray
    investor_multiple: np.ndarray
    irr_no_root_share: np.ndarray
    tranche_party: np.ndarray

    @property
    def npv(self) -> np.ndarray:
        return self.books[0].position

    @property
    def net(self) -> np.ndarray:
        return self.books[1].position

    @classmethod
    def empty(cls, ledger: Ledger, parties: Sequence[str], contracts: int,
              own_discount: Mapping[int, np.ndarray] | None = None) -> Accounts:
        """Accounts with no money moved yet.

        Parameters
        ----------
        ledger : Ledger
            The run's ledger.
        parties : sequence of str
            The ``party`` axis.
        contracts : int
            Number of contracts.
        own_discount : mapping of int to ndarray, shape (draws, months), optional
            Discount factors of the parties (by column) that discount at a rate of their
            own; every other party discounts at the run's rate (``ledger.discount``).

        Returns
        -------
        Accounts
        """
        parties = list(parties)
        draws, months = ledger.draws, ledger.months
        shape = (draws, contracts, len(parties))
        programme_cost = np.asarray(ledger.programme_cost, dtype=np.float64)
        discounted = Book(np.zeros(shape), np.asarray(ledger.discount, dtype=np.float64),
                          programme_cost, dict(own_discount or {}))
        discounted._programme_pv[-1] = ledger.programme_cost_npv()
        nominal = Book(np.zeros(shape), np.ones((draws, months)), programme_cost)
        return cls(
            parties=parties,
            books=(discounted, nominal),
            payment=np.zeros((draws, contracts, months)),
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
    for book in accounts.books:
        position = book.position[:, index, :]  # a view: updates land in the book
        for share in shares:
            column = accounts.column(share.party, share.where)
            position[:, column] -= share.share * book.programme_pv(column)


def settle_outcome(accounts: Accounts, terms: ContractTerms, due: np.ndarray) -> None:
    """Move an outcome contract's payments and the programme cost between the parties.

    Without financing the provider pays the programme and receives the payments. With
    tranches, they fund the programme (the provider pays what they do not), receive the
    payments up to their return caps, and the guarantees pay their unrepaid principal.
    Each payer pays its share of the payments made. Both books (npv and net) are filled.

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
    c = terms.index
    financing = terms.contract.get("financing")
    tranches = financing["tranches"] if financing else []
    provider = accounts.column(PROVIDER, "parties")
    flows = finance_contract(terms, due) if tranches else None
    made = due if flows is None else flows.made
    where = terms.path_of("payer")
    payers = [(accounts.column(name, where), share)
              for name, share in terms.payer_shares().items()]
    for book in accounts.books:
        position = book.position[:, c, :]  # a view: updates land in the book
        if flows is None:
            position[:, provider] += book.pv(provider, made) - book.programme_pv(provider)
        else:
            _tranche_positions(book, accounts, terms, flows)
            # The provider pays only what the tranches do not fund (no subtract-then-add:
            # a fully funded programme leaves the provider exactly 0).
            position[:, provider] -= book.pv(provider, flows.unfunded)
        made_pv: dict[int, np.ndarray] = {}  # by discount factors: each computed once
        for column, share in payers:
            key = column if column in book.own else -1
            if key not in made_pv:
                made_pv[key] = book.pv(column, made)
            position[:, column] -= share * made_pv[key]
    if flows is not None:
        _investor_returns(accounts, c, flows)
    accounts.payment[:, c, :] = made


def _tranche_positions(book: Book, accounts: Accounts, terms: ContractTerms,
                       flows: TrancheFlows) -> None:
    """Tranche parties: received minus drawn; guarantors pay their payouts to the covered."""
    c = terms.index
    position = book.position[:, c, :]
    financing = terms.contract["financing"]
    tranches = financing["tranches"]
    for i, tranche in enumerate(tranches):
        column = accounts.column(tranche["party"],
                                 terms.path_of("financing", "tranches", i, "party"))
        accounts.tranche_party[c, column] = True
        drawn_pv = book.pv(column, flows.drawn)  # (tranches, draws)
        received_pv = book.pv(column, flows.received)
        position[:, column] += received_pv[i] - drawn_pv[i]
    for g, guarantee in enumerate(financing["guarantees"]):
        covered_party = tranches[flows.covered[g]]["party"]
        covered = accounts.column(covered_party,
                                  terms.path_of("financing", "guarantees", g, "covers"))
        guarantor = accounts.column(guarantee["party"],
                                    terms.path_of("financing", "guarantees", g, "party"))
        position[:, covered] += flows.guarantee_payout[g] * book.discount(covered)[:, -1]
        position[:, guarantor] -= flows.guarantee_payout[g] * book.discount(guarantor)[:, -1]


def _investor_returns(accounts: Accounts, c: int, flows: TrancheFlows) -> None:
    """IRR, multiple and no-root share of all of a contract's tranches together.

    Where the undiscounted flows sum to 0 within :data:`IRR_ZERO_TOLERANCE` of the money
    drawn, the IRR is exactly 0.0 (the NPV at a rate of 0 is the sum of the flows).
    """
    net = flows.received.sum(axis=0) - flows.drawn.sum(axis=0)  # (draws, months)
    net[:, -1] += flows.guarantee_payout.sum(axis=0)
    drawn = flows.drawn.sum(axis=(0, 2))
    returned = flows.received.sum(axis=(0, 2)) + flows.guarantee_payout.sum(axis=0)
    something_drawn = drawn > 0
    rate = irr(net)
    balanced = np.abs(net.sum(axis=1)) <= IRR_ZERO_TOLERANCE * drawn
    rate = np.where(something_drawn & balanced, 0.0, rate)
    accounts.investor_irr[:, c] = np.where(something_drawn, rate, np.nan)
    accounts.investor_multiple[:, c] = multiple(drawn, returned)
    if something_drawn.any():
        accounts.irr_no_root_share[c] = np.isnan(rate[something_drawn]).mean()
