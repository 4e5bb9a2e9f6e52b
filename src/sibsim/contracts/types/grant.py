"""The grant: a funder pays the programme, and nothing is repaid."""

from __future__ import annotations

from sibsim.contracts.declaration import ContractTerms, ContractType, ProgrammeShare
from sibsim.contracts.schema_parts import ContractSchema
from sibsim.scenario.kinds import PARTY, Field

__all__ = ["CONTRACT_TYPE"]


def programme_shares(terms: ContractTerms) -> list[ProgrammeShare]:
    """The funder pays the whole programme.

    Parameters
    ----------
    terms : ContractTerms
        A normalised grant.

    Returns
    -------
    list of ProgrammeShare
    """
    return [ProgrammeShare(terms.contract["funder"], terms.path_of("funder"), 1.0)]


CONTRACT_TYPE = ContractType(
    name="grant",
    summary="a funder pays the programme; nothing is repaid",
    docs=(
        "A donation: the ``funder`` (a foundation, say) pays the programme as it is "
        "spent. The provider, paid its cost, nets 0; each payer keeps its own savings."
    ),
    outcome=False,
    pays_programme="the funder",
    schema=ContractSchema((Field("funder", PARTY, required=True),)),
    programme_shares=programme_shares,
    party_key="funder",
)
