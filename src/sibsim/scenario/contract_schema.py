"""The contracts' part of the scenario format: one declaration per contract type.

A contract is a table whose keys depend on its ``type``. Each type is declared once, as a
:class:`ContractSchema` (its own keys, whether it pays for outcomes, its cross-field rule, and
which parties it names), below in the order of :data:`CONTRACT_TYPES`; what several types
share (the payer shares, the baseline, the financing with its tranches and guarantees) is
declared once above them. :data:`CONTRACT` is the kind that checks ``[[contracts]]`` entries.

Every contract starts with ``name`` and ``type``; a contract that pays for outcomes
(``outcome_based``) also takes ``cap_total``, ``payment_lag_months`` and ``financing``.
``docs/scenario.rst`` documents every key and ``docs/contracts.rst`` how each type settles.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sibsim.rules import apportion
from sibsim.scenario.checks import check_horizon, timing
from sibsim.scenario.distributions import as_real
from sibsim.scenario.keypath import format_path
from sibsim.scenario.kinds import (
    INVALID,
    LAG,
    MONTHS,
    NAME,
    NONNEG,
    PARTY,
    SHARE,
    SHARE_TOLERANCE,
    Choice,
    Context,
    Field,
    Kind,
    List,
    Path,
    Real,
    Row,
    StateName,
    Table,
    Text,
    Whole,
    fmt,
    quoted,
    suggest,
    valid,
)

__all__ = [
    "BASELINES",
    "CONTRACT",
    "CONTRACT_SCHEMAS",
    "CONTRACT_TYPES",
    "ContractKind",
    "ContractSchema",
    "contract_parties",
    "contract_table",
]

#: What a gain-share or effect-tiers contract measures against.
BASELINES = ("counterfactual", "comparison_group", "historical")


@dataclass(frozen=True)
class ContractSchema:
    """The schema of one contract type.

    Attributes
    ----------
    type : str
        The value of the contract's ``type`` key.
    fields : tuple of Field
        The type's own keys, in the order they are documented and written (after ``name``
        and ``type``, before the keys of an outcome-based contract).
    outcome_based : bool
        Whether the contract pays for outcomes: it then also takes ``cap_total``,
        ``payment_lag_months`` and ``financing``.
    post : callable or None
        A cross-field rule, ``post(contract, path, ctx)``, run after its keys are checked.
    parties : callable
        ``parties(contract) -> list of str``: the parties a normalised contract of this type
        names itself (its financing's parties are added by :func:`contract_parties`).
    """

    type: str
    fields: tuple[Field, ...]
    outcome_based: bool
    post: Callable[[dict, Path, Context], None] | None = None
    parties: Callable[[dict], list[str]] = lambda contract: list(contract["payer"])


# ---------------------------------------------------------------------------------------------
# What several contract types share
# ---------------------------------------------------------------------------------------------


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


#: The ``payer`` key of every contract type but the grant.
PAYER = Field("payer", PayerShares(), required=True)

#: The keys of a contract that measures against a baseline.
BASELINE_FIELDS = (
    Field("baseline", Choice(BASELINES), default="counterfactual"),
    Field("comparison_size", Whole(1)),
)


def post_baseline(contract: dict, path: Path, ctx: Context) -> None:
    """A comparison group has a size, only with that baseline, and ends within the horizon."""
    baseline, size = contract["baseline"], contract["comparison_size"]
    if baseline is INVALID or size is INVALID:
        return
    if baseline == "comparison_group" and size is None:
        ctx.missing((*path, "comparison_size"),
                    'a whole number >= 1 (required with baseline = "comparison_group")')
    elif baseline != "comparison_group" and size is not None:
        ctx.report((*path, "comparison_size"), size,
                   f'no comparison_size unless baseline = "comparison_group" '
                   f"(baseline is {baseline!r})")
    elif size is not None:
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

#: The keys every outcome-based contract takes after its own.
OUTCOME_BASED_FIELDS = (
    Field("cap_total", NONNEG),
    Field("payment_lag_months", LAG, default=0),
    Field("financing", FINANCING),
)


# ---------------------------------------------------------------------------------------------
# grant: the funder pays the programme; nothing is repaid
# ---------------------------------------------------------------------------------------------

GRANT = ContractSchema(
    "grant",
    (Field("funder", PARTY, required=True),),
    outcome_based=False,
    parties=lambda contract: [contract["funder"]],
)

# ---------------------------------------------------------------------------------------------
# fee_for_service: the payer pays the programme's cost
# ---------------------------------------------------------------------------------------------

FEE_FOR_SERVICE = ContractSchema("fee_for_service", (PAYER,), outcome_based=False)

# ---------------------------------------------------------------------------------------------
# rate_card: a price per participant outcome
# ---------------------------------------------------------------------------------------------


def _post_outcome(outcome: dict, path: Path, ctx: Context) -> None:
    given = [key for key in ("sustained_months", "cumulative_months") if outcome[key] is not None]
    if len(given) != 1:
        ctx.report(path, {k: outcome[k] for k in ("sustained_months", "cumulative_months")},
                   "exactly one of sustained_months or cumulative_months "
                   "(a whole number >= 1)")


_OUTCOME = Table([
    Field("name", NAME, required=True),
    Field("state", StateName(), required=True),
    Field("sustained_months", MONTHS),
    Field("cumulative_months", MONTHS),
    Field("price", NONNEG, required=True),
], what="an outcome", post=_post_outcome)

RATE_CARD = ContractSchema("rate_card", (
    PAYER,
    Field("outcomes", List(_OUTCOME, what="outcomes", nonempty=True,
                           unique=lambda o: o["name"] if valid(o["name"]) else None,
                           unique_at=("name",), unique_what="an outcome name"),
          required=True),
    Field("window_months", MONTHS),
    Field("cap_per_participant", NONNEG),
), outcome_based=True)

# ---------------------------------------------------------------------------------------------
# gain_share: a share of measured savings
# ---------------------------------------------------------------------------------------------


class FlowNames(Kind):
    """A non-empty list of payers (or categories) that appear in the flows."""

    def __init__(self, source: str):
        self.source = source  # "payers" or "categories"
        self.singular = "payer" if source == "payers" else "category"
        self.expected = f"a non-empty list of {source} named in the flows"

    def check(self, value, path, ctx):
        known = ctx.payers() if self.source == "payers" else ctx.categories()
        if not isinstance(value, list) or (not value and known != []):
            # (Empty only where the flows name none: the default then is the empty list.)
            return ctx.report(path, value, self.expected)
        result: list[Any] = []
        for i, name in enumerate(value):
            if not isinstance(name, str) or (known is not None and name not in known):
                what = (f"a {self.singular} named in the flows ({quoted(known)})"
                        if known is not None else f"a {self.singular} name")
                result.append(ctx.report((*path, i), name, what + suggest(name, known or [])))
            elif name in result:
                result.append(ctx.report((*path, i), name, f"a {self.singular} not listed before"))
            else:
                result.append(name)
        return result


def _every(source: str) -> Callable[[Context], Any]:
    # The default of savings_of and categories: every payer (category) of the flows.
    def default(ctx: Context) -> Any:
        names = ctx.payers() if source == "payers" else ctx.categories()
        return INVALID if names is None else names

    return default


GAIN_SHARE = ContractSchema("gain_share", (
    PAYER,
    Field("share", SHARE, required=True),
    Field("savings_of", FlowNames("payers"), default=_every("payers")),
    Field("categories", FlowNames("categories"), default=_every("categories")),
    *BASELINE_FIELDS,
    Field("settle_every_months", MONTHS, default=12),
    Field("threshold", NONNEG, default=0.0),
), outcome_based=True, post=post_baseline)

# ---------------------------------------------------------------------------------------------
# effect_tiers: a payment schedule on a measured relative reduction
# ---------------------------------------------------------------------------------------------

_TIER_REDUCTION = Real(0.0, 1.0)


def _post_tiers(tiers: list, path: Path, ctx: Context) -> None:
    previous: tuple[int, float] | None = None
    for i, tier in enumerate(tiers):
        if tier is INVALID or tier[0] is INVALID:
            return
        low, high = _TIER_REDUCTION.bounds(tier[0])
        if previous is not None and not low > previous[1]:
            ctx.report((*path, i, 0), tier[0],
                       f"a reduction above that of {format_path(('tiers', previous[0]))} "
                       f"({fmt(previous[1])}): reductions strictly increasing")
        previous = (i, high)


def _horizon(ctx: Context) -> int | None:
    return ctx.months()


_TIERS = List(Row(_TIER_REDUCTION, NONNEG, "minimum reduction, payment"),
              what="[minimum reduction, payment] tiers", nonempty=True, post=_post_tiers)

EFFECT_TIERS = ContractSchema("effect_tiers", (
    PAYER,
    Field("state", StateName(), required=True),
    *BASELINE_FIELDS,
    Field("measure_at_month", Whole(1, _horizon, high_text="months"), required=True),
    Field("tiers", _TIERS, required=True),
), outcome_based=True, post=post_baseline)


# ---------------------------------------------------------------------------------------------
# The contract types together
# ---------------------------------------------------------------------------------------------

#: Every contract type's schema, by type, in the documented order.
CONTRACT_SCHEMAS: dict[str, ContractSchema] = {
    schema.type: schema
    for schema in (GRANT, FEE_FOR_SERVICE, RATE_CARD, GAIN_SHARE, EFFECT_TIERS)
}

#: The contract types, in the documented order.
CONTRACT_TYPES = tuple(CONTRACT_SCHEMAS)


def contract_table(schema: ContractSchema) -> Table:
    """The table kind of one contract type: name, type, its own keys, then the outcome keys.

    Parameters
    ----------
    schema : ContractSchema
        The type's declaration.

    Returns
    -------
    Table
    """
    head = [Field("name", NAME, required=True),
            Field("type", Choice([schema.type]), required=True)]
    tail = list(OUTCOME_BASED_FIELDS) if schema.outcome_based else []
    return Table(head + list(schema.fields) + tail, what=f"a {schema.type} contract",
                 post=schema.post)


class ContractKind(Kind):
    """One contract: a table whose keys depend on its ``type``."""

    def __init__(self, tables: dict[str, Table]):
        self.tables = tables
        self.expected = f"a table with a name and a type ({', '.join(tables)})"

    def check(self, value, path, ctx):
        if not isinstance(value, Mapping):
            return ctx.report(path, value, self.expected)
        kind = value.get("type")
        if kind is None:
            ctx.missing((*path, "type"), f"one of {quoted(list(self.tables))}")
        elif not isinstance(kind, str) or kind not in self.tables:
            ctx.report((*path, "type"), kind,
                       f"one of {quoted(list(self.tables))}{suggest(kind, list(self.tables))}")
        else:
            return self.tables[kind].check(value, path, ctx)
        if value.get("name") is not None:
            Text().check(value["name"], (*path, "name"), ctx)
        return INVALID

    def leaves(self, value, path):
        yield from self.tables[value["type"]].leaves(value, path)


#: The kind of one ``[[contracts]]`` entry.
CONTRACT = ContractKind({name: contract_table(schema) for name, schema in CONTRACT_SCHEMAS.items()})


def contract_parties(contract: dict) -> list[str]:
    """The parties a normalised contract names, in order of appearance (with repeats).

    Parameters
    ----------
    contract : dict
        One entry of the normalised ``contracts`` list.

    Returns
    -------
    list of str
        The funder or payer parties, then the parties of its tranches and guarantees.
    """
    names = CONTRACT_SCHEMAS[contract["type"]].parties(contract)
    financing = contract.get("financing")
    if financing:
        names += [t["party"] for t in financing["tranches"]]
        names += [g["party"] for g in financing["guarantees"]]
    return names
