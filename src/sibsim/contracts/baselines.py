"""The baselines a gain-share or effect-tiers contract measures against, one declaration each.

A baseline says what it asks of the engine (a comparison group, the exact historical
baseline, or nothing beyond the paired counterfactual arm) and how its measured cost and
occupancy are read from the ledger; the contract types then measure savings or reductions
against it the same way whatever it is (see ``docs/contracts.rst``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from sibsim.contracts.declaration import Baseline, BaselineGroup
from sibsim.scenario.keypath import join

if TYPE_CHECKING:
    from sibsim.engine.ledger import Ledger

__all__ = ["BASELINES", "COMPARISON_GROUP", "COUNTERFACTUAL", "HISTORICAL", "baseline_of"]


def _counterfactual(contract: Mapping[str, Any], ledger: Ledger, path: str) -> BaselineGroup:
    # Arm 1 of the ledger: the same participants, without the programme.
    return BaselineGroup(cost=ledger.cost[:, 1], occupancy=ledger.occupancy[:, 1],
                         enrolled=ledger.enrolled, own_scale=False)


def _comparison_group(contract: Mapping[str, Any], ledger: Ledger, path: str) -> BaselineGroup:
    size = contract["comparison_size"]
    if size not in ledger.comparison:
        raise ValueError(
            f"{join(path, 'comparison_size')}: got {size!r}, but the ledger holds comparison "
            f"groups of sizes {sorted(ledger.comparison)}"
        )
    group = ledger.comparison[size]
    return BaselineGroup(cost=group.cost, occupancy=group.occupancy, enrolled=group.enrolled,
                         own_scale=True)


def _historical(contract: Mapping[str, Any], ledger: Ledger, path: str) -> BaselineGroup:
    if ledger.historical is None:
        raise ValueError(
            f"{join(path, 'baseline')}: got 'historical', but the ledger has no historical baseline"
        )
    # Expected counts and costs of the treated cohort itself: already at treated scale.
    return BaselineGroup(cost=ledger.historical.cost, occupancy=ledger.historical.occupancy,
                         enrolled=ledger.enrolled, own_scale=False)


COUNTERFACTUAL = Baseline(
    name="counterfactual",
    summary="the paired counterfactual arm: the same participants without the programme",
    needs_comparison_group=False,
    needs_historical=False,
    read=_counterfactual,
)

COMPARISON_GROUP = Baseline(
    name="comparison_group",
    summary="an independent group of comparison_size participants under counterfactual "
            "rules, compared per enrolled participant",
    needs_comparison_group=True,
    needs_historical=False,
    read=_comparison_group,
)

HISTORICAL = Baseline(
    name="historical",
    summary="the expected counterfactual of the treated cohort at central parameter values, "
            "fixed before the run",
    needs_comparison_group=False,
    needs_historical=True,
    read=_historical,
)

#: Every baseline by name, in the order the docs list them.
BASELINES: Mapping[str, Baseline] = MappingProxyType(
    {b.name: b for b in (COUNTERFACTUAL, COMPARISON_GROUP, HISTORICAL)}
)


def baseline_of(contract: Mapping[str, Any], *, path: str = "contract") -> Baseline:
    """The baseline a contract measures against.

    Parameters
    ----------
    contract : mapping
        A normalised contract with a ``baseline`` key.
    path : str, keyword-only
        Key path of the contract, for the message.

    Returns
    -------
    Baseline

    Raises
    ------
    ValueError
        When the contract names no known baseline.

    Examples
    --------
    >>> baseline_of({"baseline": "historical"}).needs_historical
    True
    """
    name = contract["baseline"]
    try:
        return BASELINES[name]
    except (KeyError, TypeError):
        names = [repr(n) for n in BASELINES]
        raise ValueError(
            f"{join(path, 'baseline')}: got {name!r}, expected "
            f"{', '.join(names[:-1])} or {names[-1]}"
        ) from None
