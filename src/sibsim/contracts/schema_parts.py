"""The parts of the scenario schema that several contract types share, and the schema record.

Each contract type declares its own keys as a :class:`ContractSchema` in its module of
:mod:`sibsim.contracts.types` (``ContractType.schema``); the scenario package wraps them in
the table of one ``[[contracts]]`` entry: ``name`` and ``type`` first, then the type's own
keys, then, for an outcome contract, :data:`OUTCOME_BASED_FIELDS`. What several types share
is declared here once: the ``payer`` (:data:`PAYER`), the ``baseline`` and
``comparison_size`` keys with their rule (:data:`BASELINE_FIELDS`, :func:`post_baseline`,
both from the baseline declarations of :mod:`sibsim.contracts.baselines`) and the
``financing`` table (:data:`FINANCING`).

The parts are kinds of :mod:`sibsim.scenario.kinds`; nothing here imports the scenario
package's own ``__init__``, so this module may be imported while that package is loading.
``docs/scenario.rst`` documents every key.

Examples
--------
>>> BASELINE_FIELDS[0].kind.options, BASELINE_FIELDS[0].default
(('counterfactual', 'comparison_group', 'historical'), 'counterfactual')
>>> [field.name for field in OUTCOME_BASED_FIELDS]
['cap_total', 'payment_lag_months', 'financing', 'payer_shares']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sibsim.contracts.baselines import BASELINES, COUNTERFACTUAL
from sibsim.rules import apportion
from sibsim.scenario.checks import check_horizon, timing
from sibsim.scenario.distributions import as_real
from sibsim.scenario.kinds import (
    INVALID,
    LAG,
    NONNEG,
    PARTY,
    SHARE_TOLERANCE,
    Choice,
    Context,
    Field,
    Kind,
    List,
    Path,
    Real,
    Table,
    Whole,
    quoted,
    suggest,
    valid,
)

__all__ = [
    "BASELINE_FIELDS",
    "FINANCING",
    "OUTCOME_BASED_FIELDS",
    "PAYER_SHARE_RULES",
    "PAYER",
    "ContractSchema",
    "PayerShares",
    "post_baseline",
]


@dataclass(frozen=True)
class ContractSchema:
    """The scenario keys of one contract type.

    Attributes
    ----------
    fields : tuple of Field
        The type's own keys, in the order they are documented and written (after ``name``
        and ``type``, before the keys every outcome contract takes).
    post : callable or None
        A cross-field rule, ``post(contract, path, ctx)``, run after its keys are checked.
    """

    fields: tuple[Field, ...]
    post: Callable[[dict, Path, Context], None] | None = None


class PayerShares(Kind):
    """A contract's payer: a party name, or fixed shares ``{party = share}`` summing to 1."""

    expected = "a party name, or a table {party = share} of fixed numbers summing to 1"

    def check(self, value, path, ctx):
        if isinstance(value, str) and value.strip():
            return {value: 1.0}
        if not isinstance(value, Mapping) or not value:
            return ctx.report(path, value, self.expected)
        result: dict[str, Any] = {}
        for party, share in value.items():
            number = as_real(share)
            if not isinstance(party, str) or not party.strip():
                ctx.report(path, party, "party names as keys")
                continue
            if number is None or not 0.0 <= number <= 1.0:
                note = " (payer shares cannot be uncertain)" if isinstance(share, Mapping) else ""
                result[party] = ctx.report((*path, party), share, "a number in [0, 1]" + note)
            else:
                result[party] = number
        if len(result) == len(value) and valid(*result.values()):
            total = math.fsum(result.values())
            if abs(total - 1.0) > SHARE_TOLERANCE:
                ctx.report(path, value, f"shares summing to 1; they sum to {total:.10g}")
        return result


#: The ``payer`` key of every contract type whose ``party_key`` is ``"payer"``.
PAYER = Field("payer", PayerShares(), required=True)

#: The keys of a contract that measures against a baseline (the names from ``BASELINES``).
BASELINE_FIELDS = (
    Field("baseline", Choice(tuple(BASELINES)), default=COUNTERFACTUAL.name),
    Field("comparison_size", Whole(1)),
)

#: The baselines that measure against a comparison group of ``comparison_size``.
_GROUP_BASELINES = tuple(name for name, b in BASELINES.items() if b.needs_comparison_group)
_WITH_GROUP = " or ".join(f'baseline = "{name}"' for name in _GROUP_BASELINES)


def post_baseline(contract: dict, path: Path, ctx: Context) -> None:
    """A comparison group has a size, only with its baseline, and ends within the horizon.

    Parameters
    ----------
    contract : dict
        The contract, its keys checked (a failed key is ``INVALID``).
    path : tuple
        Key path of the contract.
    ctx : Context
        Collects the problems.

    Returns
    -------
    None
    """
    baseline, size = contract["baseline"], contract["comparison_size"]
    if baseline is INVALID or size is INVALID:
        return
    needs_group = BASELINES[baseline].needs_comparison_group
    if needs_group and size is None:
        ctx.missing((*path, "comparison_size"),
                    f"a whole number >= 1 (required with {_WITH_GROUP})")
    elif not needs_group and size is not None:
        ctx.report((*path, "comparison_size"), size,
                   f"no comparison_size unless {_WITH_GROUP} (baseline is {baseline!r})")
    elif size is not None:
        _check_group_horizon(size, path, ctx)


def _check_group_horizon(size: int, path: Path, ctx: Context) -> None:
    # The group is spread over the sites like the cohort (largest remainder), so it must
    # end the programme within the horizon too.
    found = timing(ctx)
    if found is None:
        return
    sites, intake, programme_months, months = found
    if check_horizon(sites, intake, programme_months, months) is not None:
        return  # reported at programme.months
    group = dict(zip(sites, apportion(size, list(sites.values())), strict=True))
    late = check_horizon(group, intake, programme_months, months)
    if late is not None:
        site, last = late
        ctx.report((*path, "comparison_size"), size,
                   f"a size whose comparison group ends the programme's months within the "
                   f"horizon: {group[site]} of its participants go to site {site!r}, the "
                   f"last entering in month {last}, and {last} + {programme_months} > "
                   f"months = {months}")


def _post_financing(financing: dict, path: Path, ctx: Context) -> None:
    # A guarantee covers the party of one of the contract's own tranches.
    tranches, guarantees = financing["tranches"], financing["guarantees"]
    if not isinstance(tranches, list) or not isinstance(guarantees, list):
        return
    parties = [t["party"] for t in tranches if t is not INVALID and t["party"] is not INVALID]
    if len(parties) != len(tranches):
        return
    for i, guarantee in enumerate(guarantees):
        if guarantee is INVALID or guarantee["covers"] is INVALID:
            continue
        if guarantee["covers"] not in parties:
            ctx.report((*path, "guarantees", i, "covers"), guarantee["covers"],
                       f"the party of a tranche of this contract ({quoted(parties)})"
                       + suggest(guarantee["covers"], parties))


_TRANCHE = Table([
    Field("party", PARTY, required=True),
    Field("amount", Real(0.0, low_open=True), required=True),
    Field("return_cap_multiple", Real(0.0, low_open=True)),
], what="a tranche")

_GUARANTEE = Table([
    Field("party", PARTY, required=True),
    Field("covers", PARTY, required=True),
    Field("amount", NONNEG, required=True),
], what="a guarantee")

#: Investor tranches that fund the programme, and guarantees of them.
FINANCING = Table([
    Field("tranches", List(_TRANCHE, what="tranches", nonempty=True,
                           unique=lambda t: t["party"] if valid(t["party"]) else None,
                           unique_at=("party",), unique_what="a party"), required=True),
    Field("guarantees", List(_GUARANTEE, what="guarantees"), default=[]),
], what="financing", post=_post_financing)

#: The values of ``payer_shares``: the ``payer`` table's fixed shares (the default, also
#: when the key is absent), or shares in proportion to each payer's savings in each draw.
PAYER_SHARE_RULES = ("fixed", "savings")

#: The keys every outcome contract takes after its own.
OUTCOME_BASED_FIELDS = (
    Field("cap_total", NONNEG),
    Field("payment_lag_months", LAG, default=0),
    Field("financing", FINANCING),
    Field("payer_shares", Choice(PAYER_SHARE_RULES)),
)
