"""The fee for service: the payers pay the programme in their shares, whatever happens."""

from __future__ import annotations

from sibsim.contracts.declaration import ContractTerms, ContractType, ProgrammeShare
from sibsim.contracts.schema_parts import PAYER, ContractSchema

__all__ = ["CONTRACT_TYPE"]


def programme_shares(terms: ContractTerms) -> list[ProgrammeShare]:
    """The payers pay the programme in their shares.

    Parameters
    ----------
    terms : ContractTerms
        A normalised fee-for-service contract.

    Returns
    -------
    list of ProgrammeShare
    """
    where = terms.path_of("payer")
    return [ProgrammeShare(party, where, share)
            for party, share in terms.payer_shares().items()]


CONTRACT_TYPE = ContractType(
    name="fee_for_service",
    summary="the payers pay the programme's cost, whatever its outcomes",
    docs=(
        "The public payers buy the programme at cost: the ``payer`` (one party, or "
        "shares that add up to 1) pays the programme as it is spent, and the provider, "
        "paid its cost, nets 0. Each payer's position is its own savings minus its share "
        "of the programme cost."
    ),
    outcome=False,
    pays_programme="the payers, in their shares",
    schema=ContractSchema((PAYER,)),
    programme_shares=programme_shares,
)
