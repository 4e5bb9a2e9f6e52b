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
4. npv per party, with each payer's own savings included under every contract
   (:mod:`sibsim.contracts.positions`).

Each contract is settled through its type's declaration in the registry
(:mod:`sibsim.contracts.registry`). Every contract number (price, share, cap, threshold,
amount, tier, return cap) may be a distribution sampled once per draw: the caller passes a
``value(path)`` callable that gives its value per draw from its key path, e.g.
``value("contracts[2].share")``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sibsim.contracts.declaration import ContractTerms, ValueFunction, index_of
from sibsim.contracts.limits import apply_cap_total, cap_total
from sibsim.contracts.positions import Accounts, pay_programme, settle_outcome
from sibsim.contracts.registry import contract_type
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
        ``"contracts[2].financing.tranches[0].amount"``; keys that need it are quoted,
        ``'contracts[0].payer."Region Midtjylland"'``).
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
    for payer in ledger.payers:
        index_of(parties, payer, "parties", "parties")
    payer_columns = [parties.index(p) for p in ledger.payers]
    own_savings = ledger.savings_npv().sum(axis=2)  # (draws, payers)
    accounts = Accounts.empty(ledger, parties, len(contracts))

    for c, contract in enumerate(contracts):
        accounts.npv[:, c, payer_columns] += own_savings
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
        investor_irr=accounts.investor_irr,
        investor_multiple=accounts.investor_multiple,
        irr_no_root_share=accounts.irr_no_root_share,
        tranche_party=accounts.tranche_party,
    )
