"""The registry of contract types and baselines: lookup, listing, and what the engine needs.

Adding a contract type is writing one module in :mod:`sibsim.contracts.types` that declares
a :class:`~sibsim.contracts.declaration.ContractType` (its scenario keys included) and
listing it in ``_TYPE_MODULES`` below; adding a baseline is one
:class:`~sibsim.contracts.declaration.Baseline` in :mod:`sibsim.contracts.baselines` (the
scenario's ``baseline`` choices follow). Settlement, the scenario schema, the engine (which
contracts need outcome detection in the kernel, comparison groups, the historical
baseline), the CLI and the docs ask the registry; none of them compares type names.

Nothing here imports ``sibsim.engine`` at run time, so the scenario package may import the
registry (lazily) without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sibsim.contracts.baselines import BASELINES, baseline_of
from sibsim.contracts.declaration import Baseline, ContractType
from sibsim.contracts.types import (
    effect_tiers,
    fee_for_service,
    gain_share,
    grant,
    rate_card,
)

__all__ = [
    "BASELINES",
    "CONTRACT_TYPES",
    "OUTCOME_TYPES",
    "baseline",
    "comparison_size",
    "contract_type",
    "describe_baselines",
    "describe_types",
    "is_outcome_contract",
    "named_parties",
    "needs_historical_baseline",
    "needs_outcome_detection",
]

#: The type modules, in the order the docs and the CLI list them.
_TYPE_MODULES = (grant, fee_for_service, rate_card, gain_share, effect_tiers)

#: Every contract type by name (iterating gives the names, in listing order).
CONTRACT_TYPES: Mapping[str, ContractType] = MappingProxyType(
    {module.CONTRACT_TYPE.name: module.CONTRACT_TYPE for module in _TYPE_MODULES}
)

#: The names of the outcome contract types (payment lag, ``cap_total``, financing).
OUTCOME_TYPES: tuple[str, ...] = tuple(
    name for name, kind in CONTRACT_TYPES.items() if kind.outcome
)


def contract_type(name: str, *, path: str = "type") -> ContractType:
    """The declaration of a contract type.

    Parameters
    ----------
    name : str
        The contract's ``type``.
    path : str, keyword-only
        Key path of the ``type`` value, for the message.

    Returns
    -------
    ContractType

    Raises
    ------
    ValueError
        When no contract type has that name (the message names ``path`` and the types).

    Examples
    --------
    >>> contract_type("rate_card").outcome
    True
    >>> contract_type("loan", path="contracts[0].type")
    Traceback (most recent call last):
    ...
    ValueError: contracts[0].type: got 'loan', expected one of ['grant', 'fee_for_service', \
'rate_card', 'gain_share', 'effect_tiers']
    """
    try:
        return CONTRACT_TYPES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"{path}: got {name!r}, expected one of {list(CONTRACT_TYPES)}"
        ) from None


def baseline(name: str, *, path: str = "baseline") -> Baseline:
    """The declaration of a baseline.

    Parameters
    ----------
    name : str
        A contract's ``baseline``.
    path : str, keyword-only
        Key path of the contract, for the message.

    Returns
    -------
    Baseline

    Examples
    --------
    >>> baseline("comparison_group").needs_comparison_group
    True
    """
    return baseline_of({"baseline": name}, path=path)


def is_outcome_contract(contract: Mapping[str, Any]) -> bool:
    """Whether a contract's payments depend on outcomes (and it may be financed).

    Parameters
    ----------
    contract : mapping
        A normalised contract.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_outcome_contract({"type": "grant", "funder": "foundation"})
    False
    """
    return contract_type(contract["type"]).outcome


def named_parties(contract: Mapping[str, Any]) -> list[str]:
    """The parties a contract names, in order of appearance.

    Parameters
    ----------
    contract : mapping
        A normalised contract.

    Returns
    -------
    list of str
        Its funder or payers, then the parties of its tranches and of its guarantees (a
        party may appear more than once).

    Examples
    --------
    >>> named_parties({"type": "fee_for_service", "payer": {"municipality": 0.7,
    ...                                                     "Region Midtjylland": 0.3}})
    ['municipality', 'Region Midtjylland']
    """
    kind = contract_type(contract["type"])
    named = contract[kind.party_key]
    names = [named] if isinstance(named, str) else list(named)
    financing = contract.get("financing") if kind.outcome else None
    if financing:
        names += [tranche["party"] for tranche in financing["tranches"]]
        names += [guarantee["party"] for guarantee in financing["guarantees"]]
    return names


def needs_outcome_detection(contract: Mapping[str, Any]) -> bool:
    """Whether the trajectory kernel must detect the contract's outcomes per participant.

    Parameters
    ----------
    contract : mapping
        A normalised contract.

    Returns
    -------
    bool
        True for a rate card: the engine compiles its outcomes, window and per-participant
        cap for the kernel and puts what they reach in ``Ledger.rate_card_due[index]``.

    Examples
    --------
    >>> needs_outcome_detection({"type": "rate_card"})
    True
    """
    return contract_type(contract["type"]).detects_outcomes


def _baseline_of(contract: Mapping[str, Any]) -> Baseline | None:
    if not contract_type(contract["type"]).measures_baseline:
        return None
    return baseline(contract.get("baseline"))


def comparison_size(contract: Mapping[str, Any]) -> int | None:
    """The size of the comparison group a contract measures against, if any.

    Parameters
    ----------
    contract : mapping
        A normalised contract.

    Returns
    -------
    int or None
        ``comparison_size`` when the contract's baseline is a comparison group (the engine
        then simulates a group of that size, shared by every contract of the same size,
        and puts it in ``Ledger.comparison[size]``); None otherwise.

    Examples
    --------
    >>> comparison_size({"type": "gain_share", "baseline": "comparison_group",
    ...                  "comparison_size": 40})
    40
    >>> comparison_size({"type": "effect_tiers", "baseline": "counterfactual",
    ...                  "comparison_size": None}) is None
    True
    """
    measured = _baseline_of(contract)
    if measured is None or not measured.needs_comparison_group:
        return None
    return int(contract["comparison_size"])


def needs_historical_baseline(contract: Mapping[str, Any]) -> bool:
    """Whether a contract measures against the exact historical baseline.

    Parameters
    ----------
    contract : mapping
        A normalised contract.

    Returns
    -------
    bool
        True when the engine must compute ``Ledger.historical`` for it.

    Examples
    --------
    >>> needs_historical_baseline({"type": "gain_share", "baseline": "historical"})
    True
    """
    measured = _baseline_of(contract)
    return measured is not None and measured.needs_historical


def describe_types(*, style: str = "text") -> str:
    """The contract types, for the CLI (plain text) or the docs (reStructuredText).

    Parameters
    ----------
    style : {"text", "rst"}, keyword-only
        ``"text"``: one line per type, its name and summary. ``"rst"``: a definition list
        with each type's summary, docs paragraph and who pays the programme.

    Returns
    -------
    str

    Examples
    --------
    >>> print(describe_types().splitlines()[0])
    grant            a funder pays the programme; nothing is repaid
    """
    if style == "text":
        width = max(len(name) for name in CONTRACT_TYPES) + 2
        return "\n".join(f"{name:<{width}}{kind.summary}" for name, kind in CONTRACT_TYPES.items())
    if style != "rst":
        raise ValueError(f"style: got {style!r}, expected 'text' or 'rst'")
    entries = []
    for name, kind in CONTRACT_TYPES.items():
        extras = [f"Who pays the programme: {kind.pays_programme}."]
        if kind.outcome:
            extras.append("An outcome contract: ``payment_lag_months``, ``cap_total`` and "
                          "``financing`` apply.")
        if kind.measures_baseline:
            extras.append("Measures against a ``baseline`` (below).")
        body = f"{_sentence(kind.summary)} {kind.docs} {' '.join(extras)}"
        entries.append(f"``{name}``\n" + _indent(body))
    return "\n\n".join(entries) + "\n"


def describe_baselines(*, style: str = "text") -> str:
    """The baselines, for the CLI (plain text) or the docs (reStructuredText).

    Parameters
    ----------
    style : {"text", "rst"}, keyword-only
        ``"text"``: one line per baseline; ``"rst"``: a definition list.

    Returns
    -------
    str

    Examples
    --------
    >>> print(describe_baselines().splitlines()[0])
    counterfactual    the paired counterfactual arm: the same participants without the programme
    """
    if style == "text":
        width = max(len(name) for name in BASELINES) + 2
        return "\n".join(f"{name:<{width}}{b.summary}" for name, b in BASELINES.items())
    if style != "rst":
        raise ValueError(f"style: got {style!r}, expected 'text' or 'rst'")
    return "\n\n".join(
        f"``{name}``\n" + _indent(_sentence(b.summary)) for name, b in BASELINES.items()
    ) + "\n"


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _indent(text: str, width: int = 88) -> str:
    """Wrap a paragraph at ``width`` columns, indented by four spaces."""
    import textwrap

    return textwrap.fill(text, width=width, initial_indent="    ", subsequent_indent="    ",
                         break_on_hyphens=False, break_long_words=False)
