"""The part each party plays under each contract: donor, payer, investor, provider, ...

A role is read from the contract's structure, not from the simulated numbers: who pays the
programme, who pays the outcome payments, who funds a tranche, who guarantees one, and who
only keeps its own savings. Summaries and plots use it to say what a party's figures mean:
a donor gives money by design (its npv is negative in every draw, and that is no "risk of
loss"), and a party with role ``"none"`` neither pays, receives nor saves under the contract
(its rows are left out of the printed table). See ``docs/contracts.rst``, "Roles".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sibsim.contracts.registry import contract_type
from sibsim.rules import PROVIDER

__all__ = ["ROLES", "TAKES_RISK", "contract_roles"]

#: Every role, in priority order (a party that plays two parts gets the first), with what it
#: means. The descriptions are written for the notes under the printed table.
ROLES: dict[str, str] = {
    "investor": "funds a tranche of the programme and is repaid from the outcome payments",
    "guarantor": "pays an investor's unrepaid principal at the end, up to its guarantee",
    "payer": "pays the outcome payments (or the programme's cost) and keeps its own savings",
    "donor": "gives money by design: it pays the programme's cost and expects nothing back",
    "provider": "runs the programme: it pays what the investors do not fund and receives the "
                "outcome payments",
    "saver": "takes no part in the contract: only its own savings (public costs avoided) move",
    "none": "neither pays, receives nor saves anything under the contract",
}

#: The roles whose net position can go either way, by chance: the parties that take risk.
TAKES_RISK = ("investor", "guarantor", "payer", "provider", "saver")


def _names(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def contract_roles(contract: Mapping[str, Any], payers: Sequence[str],
                   parties: Sequence[str]) -> list[str]:
    """The role of every party under one contract.

    - grant and fee_for_service: the party that pays the programme is a ``"donor"`` when
      it has no savings of its own (no flow is split to it), else a ``"payer"``; the
      provider, paid its cost, is ``"none"``;
    - outcome contracts: the payers are ``"payer"``; the provider is ``"provider"``; the
      parties of the tranches are ``"investor"``, of the guarantees ``"guarantor"``;
    - every other payer of the flows is a ``"saver"``, every other party ``"none"``.

    Parameters
    ----------
    contract : mapping
        A normalised contract.
    payers : sequence of str
        The payers of the flows (the parties with savings of their own).
    parties : sequence of str
        The ``party`` axis.

    Returns
    -------
    list of str
        One role of :data:`ROLES` per party, in the order of ``parties``.

    Examples
    --------
    >>> contract_roles({"type": "grant", "funder": "foundation"}, ["municipality"],
    ...                ["municipality", "foundation", "provider"])
    ['saver', 'donor', 'none']
    """
    kind = contract_type(contract["type"])
    found: dict[str, set[str]] = {party: set() for party in parties}
    for payer in payers:
        found.setdefault(payer, set()).add("saver")
    named = _names(contract[kind.party_key])
    if kind.outcome:
        for name in named:
            found.setdefault(name, set()).add("payer")
        found.setdefault(PROVIDER, set()).add("provider")
        financing = contract.get("financing") or {}
        for tranche in financing.get("tranches", ()):
            found.setdefault(tranche["party"], set()).add("investor")
        for guarantee in financing.get("guarantees", ()):
            found.setdefault(guarantee["party"], set()).add("guarantor")
    else:
        for name in named:
            found.setdefault(name, set()).add("payer" if name in payers else "donor")
    order = list(ROLES)
    return [min(found[party], key=order.index) if found[party] else "none"
            for party in parties]
