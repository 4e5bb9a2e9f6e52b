"""Contract settlement: outcome payments, financing waterfall, guarantees, npv per party.

This stage takes the :class:`~sibsim.engine.ledger.Ledger` of a run (all draws at once) and the
normalised contracts of the scenario (``Scenario.data["contracts"]``, see
``docs/internals.rst``) and works out, for every contract and draw, which outcome payments
are made, who funds the programme, what flows back to the investors' tranches and their
guarantors, and the discounted net position of every party. ``docs/contracts.rst`` states
the rules as equations and gives the order of operations, which settlement follows step
by step:

1. payments due at their payment month, by the contract's type (rate card: reached
   outcomes after the window and the per-participant cap, shifted by the lag; gain share:
   one amount per settlement period; effect tiers: one amount at the measurement month),
   each dropped when its payment month lies beyond the horizon
   (:mod:`sibsim.contracts.types`);
2. ``cap_total``, cumulative in time order (:mod:`sibsim.contracts.limits`);
3. with financing: the tranches draw the programme cost as it is spent, the payments go to
   the tranches in listing order up to their return caps, payments beyond what the tranches
   can still receive are not made, and in the last month the guarantees pay the tranches'
   unrepaid principal (:mod:`sibsim.contracts.financing`);
4. npv per party (each party discounted at its own rate where ``discount_rates`` gives
   one) and the undiscounted net position, with each payer's own savings included under
   every contract (:mod:`sibsim.contracts.positions`); the role of each party
   (:mod:`sibsim.contracts.roles`).

Each contract is settled through its type's declaration in the registry
(:mod:`sibsim.contracts.registry`). Every contract number (price, share, cap, threshold,
amount, tier, return cap) may be a distribution sampled once per draw: the caller passes a
``value(path)`` callable that gives its value per draw from its key path, e.g.
``value("contracts[2].share")``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sibsim.contracts.declaration import ContractTerms, ValueFunction, index_of, per_draw
from sibsim.contracts.limits import apply_cap_total, cap_total
from sibsim.contracts.positions import Accounts, pay_programme, settle_outcome
from sibsim.contracts.registry import contract_type
from sibsim.contracts.roles import contract_roles
from sibsim.rules import discount_factors
from sibsim.scenario.keypath import format_path

if TYPE_CHECKING:
    from sibsim.engine.ledger import Ledger

__all__ = ["Settlement", "settle"]


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
        Discounted net position of each party under each contract, at the party's own
        rate where ``discount_rates`` gives one, else at the run's. A payer's npv includes
        its own savings (discounted at its rate, summed over categories).
    net : ndarray, shape (draws, contracts, parties)
        Undiscounted net position: the same money added up without discounting. For
        every contract and draw the parties' net add up to the undiscounted savings minus
        the undiscounted programme cost.
    own_rates : dict of str to ndarray, shape (draws,)
        The annual rate of each party that discounts at a rate of its own, per draw (every
        other party's npv is discounted at the run's rate).
    role : ndarray of str, shape (contracts, parties)
        The part each party plays under each contract (:data:`sibsim.contracts.roles.ROLES`).
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
    net: np.ndarray
    own_rates: dict[str, np.ndarray]
    role: np.ndarray
    investor_irr: np.ndarray
    investor_multiple: np.ndarray
    irr_no_root_share: np.ndarray
    tranche_party: np.ndarray


def settle(
    contracts: Sequence[dict],
    ledger: Ledger,
    value: ValueFunction,
    parties: Sequence[str],
    *,
    discount_rates: Mapping[str, Any] | None = None,
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
        ``"contracts[2].financing.tranches[0].amount"``; keys that need it are quoted,
        ``'contracts[0].payer."Region Midtjylland"'``).
    parties : sequence of str
        Every party: the payers, then the parties named in contracts, then ``"provider"``.
        Every payer of the ledger and every party a contract names must be in it.
    discount_rates : mapping of str to object, optional, keyword-only
        The parties that discount at a rate of their own (the normalised
        ``discount_rates`` of the scenario; only its keys are read: each party's rate per
        draw is ``value("discount_rates.<party>")``). Every other party's npv is
        discounted at the run's rate (``ledger.discount``, from ``discount_rate``).

    Returns
    -------
    Settlement
        Payments made, npv per party, investor IRR and multiple, per contract and draw.

    Notes
    -----
    For every contract and draw the parties' npv add up to the sum of ``savings_npv``
    minus the discounted programme cost when every party discounts at the run's rate
    (money only moves between parties), and the parties' net add up to the undiscounted
    savings minus the undiscounted programme cost whatever the rates. The rules and their
    order of operations are in ``docs/contracts.rst``.

    Examples
    --------
    >>> settlement = settle(scenario.data["contracts"], ledger, value,
    ...                     parties=scenario.parties())          # doctest: +SKIP
    >>> settlement.npv.shape                                     # doctest: +SKIP
    (2000, 4, 5)
    """
    parties = list(parties)
    for payer in ledger.payers:
        index_of(parties, payer, "parties", "parties")
    payer_columns = [parties.index(p) for p in ledger.payers]
    rates = _discount_rates(ledger, value, parties, discount_rates or {})
    own_discount = {parties.index(party): discount_factors(rate, ledger.months)
                    for party, rate in rates.items()}
    accounts = Accounts.empty(ledger, parties, len(contracts), own_discount)
    savings = ledger.savings()
    own_savings = [book.savings(savings, payer_columns) for book in accounts.books]

    for c, contract in enumerate(contracts):
        for book, saved in zip(accounts.books, own_savings):
            book.position[:, c, payer_columns] += saved
        kind = contract_type(contract["type"], path=format_path(("contracts", c, "type")))
        terms = ContractTerms(contract=contract, index=c, ledger=ledger, value=value)
        if kind.outcome:
            settle_outcome(accounts, terms, apply_cap_total(kind.due(terms), cap_total(terms)))
        else:
            pay_programme(accounts, c, kind.programme_shares(terms))

    return Settlement(
        contracts=[contract["name"] for contract in contracts],
        parties=parties,
        payment=accounts.payment,
        npv=accounts.npv,
        net=accounts.net,
        own_rates=rates,
        role=np.array([contract_roles(contract, ledger.payers, parties)
                       for contract in contracts], dtype=str).reshape(len(contracts),
                                                                      len(parties)),
        investor_irr=accounts.investor_irr,
        investor_multiple=accounts.investor_multiple,
        irr_no_root_share=accounts.irr_no_root_share,
        tranche_party=accounts.tranche_party,
    )


def _discount_rates(ledger: Ledger, value: ValueFunction, parties: Sequence[str],
                    discount_rates: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The per-draw rate of each party with a rate of its own, checked against the parties."""
    rates = {}
    for party in discount_rates:
        path = format_path(("discount_rates", party))
        index_of(parties, party, path, "parties")
        rates[party] = per_draw(value, path, ledger.draws)
    return rates
