"""Cross-field rules of the scenario: checks that tie several keys together.

Each ``post_*`` check runs after the keys of one table are checked, sees the values validated
so far (:data:`~sibsim.scenario.kinds.INVALID` where a value failed, its problem already
reported) and reports at the key path of the value that breaks the rule:

- every participant of every site, entering over ``cohort.intake_months``
  (:func:`sibsim.rules.entry_month`), finishes the programme within the horizon;
- the transitions of ``[economy]`` exist;
- a transition leads to another state, an effect's ``from_month < to_month`` and
  ``fade_from_month >= from_month``;
- each party of ``discount_rates`` is a party of the scenario.
- each ``[[correlations]]`` entry names two or more distinct per-draw parameters given as
  distributions, a pair named twice has one rho, and the correlation matrix of every block
  is positive definite (:mod:`sibsim.scenario.correlations`).

The contracts' rules are declared with their types in :mod:`sibsim.contracts` (the shared
ones in :mod:`sibsim.contracts.schema_parts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sibsim.rules import entry_month
from sibsim.scenario.keypath import format_path, show
from sibsim.scenario.kinds import Context, Path, quoted, suggest, valid

__all__ = [
    "check_horizon",
    "post_correlation",
    "post_correlations",
    "post_discount_rates",
    "post_effect",
    "post_programme",
    "post_scenario",
    "post_transition",
    "timing",
]


def _last_entry(size: int, intake_months: int) -> int:
    return entry_month(size - 1, size, intake_months)


def timing(ctx: Context, programme: Any = None) -> tuple[dict[str, int], int, int, int] | None:
    """Site sizes, intake months, programme months and horizon, when all are valid."""
    cohort, months = ctx.doc.get("cohort"), ctx.months()
    programme = ctx.doc.get("programme") if programme is None else programme
    if not isinstance(cohort, dict) or not isinstance(programme, dict) or months is None:
        return None
    sites, intake = cohort.get("sites"), cohort.get("intake_months")
    if not isinstance(sites, dict) or not sites or not isinstance(intake, int):
        return None
    sizes = {name: site.get("size") for name, site in sites.items() if isinstance(site, dict)}
    if len(sizes) != len(sites) or not all(isinstance(n, int) for n in sizes.values()):
        return None
    if not isinstance(programme.get("months"), int):
        return None
    return sizes, intake, programme["months"], months


def check_horizon(sizes: dict[str, int], intake: int, programme_months: int,
                   months: int) -> tuple[str, int] | None:
    """The site whose last entrant ends the programme latest, if that is beyond the horizon."""
    last = {name: _last_entry(n, intake) for name, n in sizes.items() if n >= 1}
    if not last:
        return None
    site = max(last, key=last.get)
    return (site, last[site]) if last[site] + programme_months > months else None


def post_programme(programme: dict, path: Path, ctx: Context) -> None:
    """The programme ends within the horizon for every participant of every site."""
    found = timing(ctx, programme)
    late = None if found is None else check_horizon(*found)
    if late is None:
        return
    _, intake, programme_months, months = found
    site, last = late
    if last < months:
        ctx.report((*path, "months"), programme_months,
                   f"a whole number <= {months - last} so that the programme ends within "
                   f"the horizon: the last participant of site {site!r} enters in month "
                   f"{last} (intake_months = {intake}, months = {months})")
    else:
        ctx.report(("cohort", "intake_months"), intake,
                   f"an intake that lets every participant finish the {programme_months}-"
                   f"month programme within the horizon (months = {months}): the last "
                   f"participant of site {site!r} would enter in month {last}")


def _parties(doc: dict, ctx: Context) -> list[str] | None:
    """Every party of a validated document (as ``Scenario.parties``), None if unknown."""
    # Imported here: the contracts package imports this one's validation kinds.
    from sibsim.contracts import named_parties
    from sibsim.rules import PROVIDER

    payers, contracts = ctx.payers(), doc.get("contracts")
    if payers is None or not isinstance(contracts, list):
        return None
    names = list(payers)
    for contract in contracts:
        if not isinstance(contract, dict):
            return None
        try:
            names += named_parties(contract)
        except (KeyError, TypeError, ValueError):
            return None  # an invalid contract, already reported
    return [*dict.fromkeys(n for n in names if isinstance(n, str)), PROVIDER]


def post_discount_rates(doc: dict, ctx: Context) -> None:
    """Each party given its own discount rate is a party of the scenario."""
    rates = doc.get("discount_rates")
    if not isinstance(rates, dict):
        return
    parties = _parties(doc, ctx)
    if parties is None:
        return
    for party in rates:
        if party not in parties:
            ctx.report(("discount_rates", party), rates[party],
                       f"a rate for a party of the scenario (one of {show(parties)}): "
                       f"{party!r} is no payer of a flow, no party of a contract and not "
                       f"the provider{suggest(party, parties)}")


def post_scenario(doc: dict, path: Path, ctx: Context) -> None:
    """Cross-field rules of the whole document (the economy's transitions, discount rates)."""
    post_discount_rates(doc, ctx)
    economy, transitions = doc.get("economy"), doc.get("transitions")
    if isinstance(economy, dict) and isinstance(economy.get("transitions"), list) \
            and isinstance(transitions, list) and all(isinstance(t, dict) for t in transitions):
        defined = [(t.get("from"), t.get("to")) for t in transitions]
        for i, pair in enumerate(economy["transitions"]):
            if isinstance(pair, list) and valid(*pair) and tuple(pair) not in defined:
                choices = [list(p) for p in defined if valid(*p)]
                ctx.report(("economy", "transitions", i), pair,
                           f"a [from, to] pair of a transition in [[transitions]] "
                           f"({show(choices)})")


def post_transition(transition: dict, path: Path, ctx: Context) -> None:
    """A transition leads to another state."""
    if valid(transition["from"], transition["to"]) and transition["from"] == transition["to"]:
        ctx.report((*path, "to"), transition["to"], "a state other than `from`")


def post_effect(effect: dict, path: Path, ctx: Context) -> None:
    """An effect's months are a non-empty range, and it fades from within or after them."""
    start, end = effect["from_month"], effect["to_month"]
    if valid(start, end) and not start < end:
        ctx.report((*path, "to_month"), end, f"a whole number > from_month ({start})")
    fade = effect.get("fade_from_month")
    if fade is not None and valid(start, fade) and fade < start:
        ctx.report((*path, "fade_from_month"), fade,
                   f"a whole number >= from_month ({start}): the effect fades from a month "
                   f"at or after its start")


def post_correlation(entry: dict, path: Path, ctx: Context) -> None:
    """A correlation names two or more distinct key paths (kept as format_path writes them)."""
    from sibsim.scenario.correlations import (
        canonical_name,  # not needed by the contracts
    )

    names = entry["params"]
    if not valid(names):
        return
    canonical: list[str | None] = []
    for j, name in enumerate(names):
        written = canonical_name(name) if valid(name) else None
        if valid(name) and written is None:
            ctx.report((*path, "params", j), name,
                       "a key path such as 'transitions[0].effect.ratio'")
        elif written is not None and written in canonical:
            first = format_path((*path, "params", canonical.index(written)))
            ctx.report((*path, "params", j), name,
                       f"a key path not named before in this entry (it is {first})")
        canonical.append(written)
    if len(names) < 2:
        ctx.report((*path, "params"), names,
                   "a list of two or more key paths (one rho for every pair of them)")
    entry["params"] = [n if c is None else c for c, n in zip(canonical, names)]


def _unknown_name(name: str, uncertain: Mapping[str, Any], numbers: Mapping[str, Any]) -> str:
    if name in numbers:
        return (f"the key path of a per-draw parameter given as a distribution: {name} is the "
                f"number {numbers[name]!r} here (give it a distribution to correlate it)")
    return (f"the key path of a per-draw parameter given as a distribution (this scenario "
            f"has {quoted(list(uncertain), 6) or 'none'}){suggest(name, list(uncertain))}")


def post_correlations(entries: list, ctx: Context, parameters: Mapping[str, Any]) -> None:
    """Names are per-draw distributions, a pair has one rho, every block is positive definite.

    Parameters
    ----------
    entries : list
        The checked ``[[correlations]]`` entries.
    ctx : Context
        Collects the problems.
    parameters : mapping of str to float or Distribution
        Every per-draw parameter of the scenario, by key path, in document order.
    """
    from sibsim.scenario.correlations import blocks, cholesky
    from sibsim.scenario.distributions import Distribution

    uncertain = {p: v for p, v in parameters.items() if isinstance(v, Distribution)}
    numbers = {p: v for p, v in parameters.items() if not isinstance(v, Distribution)}
    known = len(ctx.problems)
    seen: dict[tuple[str, str], tuple[float, int]] = {}
    for i, entry in enumerate(entries):
        for j, name in enumerate(entry["params"]):
            if name not in uncertain:
                ctx.report(("correlations", i, "params", j), name,
                           _unknown_name(name, uncertain, numbers))
        names = entry["params"]
        for j, a in enumerate(names):
            for b in names[j + 1:]:
                pair = (a, b) if a < b else (b, a)
                if pair in seen and seen[pair][0] != entry["rho"]:
                    rho, first = seen[pair]
                    ctx.report(("correlations", i, "rho"), entry["rho"],
                               f"the rho already given for the pair {a}, {b} at "
                               f"correlations[{first}] ({rho:g}), or leave the pair out here")
                seen.setdefault(pair, (entry["rho"], i))
    if len(ctx.problems) > known:
        return
    for block in blocks(entries, list(parameters)):
        if cholesky(block.matrix) is None:
            smallest = float(np.linalg.eigvalsh(block.matrix)[0])
            where = ", ".join(f"correlations[{i}]" for i in block.entries)
            last = block.entries[-1]
            ctx.report(("correlations", last), entries[last],
                       f"correlations whose matrix is positive definite: {where} together "
                       f"give the normal scores of {', '.join(block.names)} a correlation "
                       f"matrix with smallest eigenvalue {smallest:.3g} (weaken one of "
                       f"them)")
