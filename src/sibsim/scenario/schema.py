"""The scenario format, declared once: cohort, sites, programme, economy, transitions, flows.

The tree of kinds below (see :mod:`sibsim.scenario.kinds`) checks an input document, fills its
defaults and lists its per-draw parameters. The contracts' part of the tree is built in
:mod:`sibsim.scenario.contract_schema` from the keys each contract type declares in
:mod:`sibsim.contracts`, and the rules that tie several keys together are in
:mod:`sibsim.scenario.checks`. ``docs/scenario.rst`` documents every key, and
``docs/internals.rst`` the normalised document.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sibsim.errors import ScenarioError
from sibsim.rules import REST
from sibsim.scenario.checks import (
    post_correlation,
    post_correlations,
    post_effect,
    post_programme,
    post_scenario,
    post_transition,
)
from sibsim.scenario.contract_schema import CONTRACT
from sibsim.scenario.keypath import format_path, problem
from sibsim.scenario.kinds import (
    INVALID,
    MONTHS,
    NAME,
    NONNEG,
    SHARE,
    SHARE_TOLERANCE,
    Context,
    Field,
    Flag,
    Kind,
    List,
    Map,
    Real,
    Row,
    StateName,
    Stepped,
    Table,
    Text,
    Whole,
    valid,
)

__all__ = ["DEFAULT_CURRENCY", "SCENARIO", "Currency", "Split", "currency", "normalise"]


class Split(Kind):
    """How a flow's cost is split between payers: ``{payer: share | "rest"}``."""

    expected = ('a non-empty table {payer = share}, shares in [0, 1] summing to 1, or to at '
                'most 1 beside one payer given "rest"')

    def __init__(self) -> None:
        self.share = Stepped(SHARE)

    def check(self, value, path, ctx):
        if not isinstance(value, Mapping) or not value:
            return ctx.report(path, value, self.expected)
        result: dict[str, Any] = {}
        rest: str | None = None
        known_problems = len(ctx.problems)
        for payer, share in value.items():
            where = (*path, str(payer))
            if not isinstance(payer, str) or not payer.strip():
                ctx.report(path, payer, "payer names as keys")
            elif share == REST:
                if rest is not None:
                    ctx.report(where, share, f'at most one "rest" payer per flow '
                               f'({rest!r} is already "rest")')
                else:
                    rest = payer
                result[payer] = REST
            elif isinstance(share, str):
                result[payer] = ctx.report(where, share, f'{self.share.expected}, or "rest"')
            else:
                result[payer] = self.share.check(share, where, ctx)
        if len(ctx.problems) == known_problems:
            self._check_sum(result, rest, value, path, ctx)
        return result

    def _check_sum(self, split, rest, value, path, ctx) -> None:
        shares = {payer: share for payer, share in split.items() if share != REST}
        breakpoints = sorted({k for share in shares.values() for k in Stepped.keys(share)})
        at = {payer: self.share.entries_at(share) for payer, share in shares.items()}
        if rest is None:
            uncertain = [p for p, s in shares.items()
                         if any(isinstance(at[p](k), dict) for k in breakpoints)]
            for payer in uncertain:
                ctx.report((*path, payer), split[payer],
                           'a fixed number: without a "rest" payer the shares must be numbers '
                           'summing to 1 (give one payer "rest" to take what is left)')
            if uncertain:
                return
        for k in breakpoints:
            if rest is None:
                total = math.fsum(at[p](k) for p in shares)
                ok = abs(total - 1.0) <= SHARE_TOLERANCE
                wanted = 'shares summing to 1 (or give one payer "rest")'
            else:
                total = math.fsum(SHARE.bounds(at[p](k))[1] for p in shares)
                ok = total <= 1.0 + SHARE_TOLERANCE
                wanted = (f'shares whose largest values sum to at most 1 beside the "rest" '
                          f'payer {rest!r}')
            if not ok:
                where = f" at months_in_state {k}" if len(breakpoints) > 1 else ""
                ctx.report(path, value, f"{wanted}; they sum to {total:.10g}{where}")
                return

    def leaves(self, value, path):
        for payer, share in value.items():
            if share != REST:
                yield from self.share.leaves(share, (*path, payer))


class Currency(Kind):
    """A currency code: three capital letters (ISO 4217), such as ``"DKK"`` or ``"EUR"``."""

    expected = 'a currency code of three capital letters (ISO 4217), e.g. "DKK", "EUR", "GBP"'

    def check(self, value, path, ctx):
        if not isinstance(value, str) or len(value) != 3 or not value.isascii() \
                or not value.isalpha() or not value.isupper():
            return ctx.report(path, value, self.expected)
        return value


#: The currency of a scenario that names none.
DEFAULT_CURRENCY = "DKK"


def currency(data: Mapping) -> str:
    """The currency of a normalised scenario document (:data:`DEFAULT_CURRENCY` when absent).

    Parameters
    ----------
    data : mapping
        The normalised scenario (``Scenario.data``).

    Returns
    -------
    str

    Examples
    --------
    >>> currency({"currency": None}), currency({"currency": "EUR"})
    ('DKK', 'EUR')
    """
    return data.get("currency") or DEFAULT_CURRENCY


def _months_default(ctx: Context) -> Any:
    # An effect lasts to the horizon unless told otherwise.
    months = ctx.months()
    return INVALID if months is None else months


# ---------------------------------------------------------------------------------------------
# The format, declared once
# ---------------------------------------------------------------------------------------------

_SITE = Table([
    Field("size", Whole(1), required=True),
    Field("multiplier", NONNEG, default=1.0),
], what="a site")

_COHORT = Table([
    Field("initial_state", StateName(), required=True),
    Field("prior_months", Real(0.0, any_family=True, per_draw=False), default=0.0),
    Field("intake_months", Whole(0), default=0),
    Field("frailty_variance", NONNEG, default=0.0),
    Field("sites", Map(_SITE, what="sites [cohort.sites.<name>] with a size"), required=True),
], what="the cohort")

_PROGRAMME = Table([
    Field("months", MONTHS, required=True),
    Field("cost_per_participant", NONNEG, default=0.0),
    Field("fixed_cost", NONNEG, default=0.0),
], what="the programme", post=post_programme)

_STATE_PAIR = Row(StateName(), StateName(), "from, to")

_ECONOMY = Table([
    Field("shock_sd", NONNEG, required=True),
    Field("shock_persistence", Real(-1.0, 1.0), default=0.0),
    Field("transitions", List(_STATE_PAIR, what="[from, to] pairs of transitions",
                              unique=lambda p: tuple(p) if valid(*p) else None,
                              unique_what="a pair"), required=True),
], what="the economy shock")

#: A half-life in months: positive, a number or a distribution.
_HALF_LIFE = Real(0.0, low_open=True)

_EFFECT = Table([
    Field("ratio", NONNEG, required=True),
    Field("from_month", Whole(0), default=0),
    Field("to_month", Whole(1), default=_months_default),
    Field("fade_from_month", Whole(0)),
    Field("half_life_months", _HALF_LIFE),
], what="a programme effect", post=post_effect)

_TRANSITION = Table([
    Field("from", StateName(), required=True),
    Field("to", StateName(), required=True),
    Field("probability", Stepped(Real(0.0, 1.0)), required=True),
    Field("frailty", Flag(), default=False),
    Field("hazard_scale", NONNEG),
    Field("effect", _EFFECT),
], what="a transition", post=post_transition)

_FLOW = Table([
    Field("name", NAME, required=True),
    Field("state", StateName(), required=True),
    Field("category", NAME, required=True),
    Field("monthly", Real(), required=True),
    Field("split", Split(), required=True),
], what="a flow")

_CORRELATION = Table([
    Field("params", List(Text("a key path (a string)"),
                         what="key paths of per-draw parameters given as distributions"),
          required=True),
    Field("rho", Real(-1.0, 1.0, low_open=True, high_open=True, uncertain=False,
                      per_draw=False),
          required=True),
], what="a correlation of per-draw parameters", post=post_correlation)


def _post_document(doc: dict, path, ctx: Context) -> None:
    """The cross-field rules of the whole document, the correlations last."""
    post_scenario(doc, path, ctx)
    entries = doc.get("correlations")
    if not entries or not valid(entries) or not all(valid(e) for e in entries):
        return
    # The names can be checked only against a valid document: report the rest first.
    if any(not p.startswith("correlations") for p in ctx.problems) or any(
            not valid(e["params"], e["rho"]) or not valid(*e["params"])
            or len(e["params"]) < 2 for e in entries):  # fewer than two: reported already
        return
    parameters = {format_path(p): leaf for p, leaf in SCENARIO.leaves(doc, ())}
    post_correlations(entries, ctx, parameters)


#: The whole scenario document.
SCENARIO = Table([
    Field("name", NAME, default="unnamed"),
    Field("months", MONTHS, required=True),
    Field("discount_rate", Real(-1.0, low_open=True), default=0.0),
    Field("discount_rates", Map(Real(-1.0, low_open=True),
                                what="annual discount rates {party = rate}")),
    Field("currency", Currency()),
    Field("states", List(NAME, what="state names", nonempty=True,
                         unique=lambda s: s, unique_what="a state name"), required=True),
    Field("cohort", _COHORT, required=True),
    Field("programme", _PROGRAMME, required=True),
    Field("economy", _ECONOMY),
    Field("transitions", List(
        _TRANSITION, what="transitions",
        unique=lambda t: (t["from"], t["to"]) if valid(t["from"], t["to"]) else None,
        unique_what="a (from, to) pair"), default=[]),
    Field("flows", List(_FLOW, what="flows", unique=lambda f: f["name"] if valid(f["name"])
                        else None, unique_at=("name",), unique_what="a flow name"),
          default=[]),
    Field("contracts", List(CONTRACT, what="contracts",
                            unique=lambda c: c["name"] if valid(c["name"]) else None,
                            unique_at=("name",), unique_what="a contract name"),
          default=[]),
    Field("correlations", List(_CORRELATION, what="correlations (tables with params and "
                               "rho)")),
], what="a scenario", post=_post_document)


def normalise(raw: Any) -> dict[str, Any]:
    """Validate a plain input document and return the normalised one.

    Parameters
    ----------
    raw : mapping
        The scenario as plain dicts, lists, str, int, float and bool.

    Returns
    -------
    dict
        The normalised document, every default filled (``docs/internals.rst``).

    Raises
    ------
    ScenarioError
        Listing every problem found.
    """
    ctx = Context()
    if not isinstance(raw, Mapping):
        raise ScenarioError(problem("", raw, "a table (dict) of scenario keys"))
    SCENARIO.check(raw, (), ctx, out=ctx.doc)
    if ctx.problems:
        raise ScenarioError(ctx.problems)
    return ctx.doc
