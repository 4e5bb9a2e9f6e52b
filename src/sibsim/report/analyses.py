"""The sections of the report with figures: the plots of the result, the price range both
sides accept, and what drives the risk.

The plots are those of :mod:`sibsim.plot`, each turned into inline SVG with a title and a
description in the report's language (:func:`sibsim.report.figures.inline_svg`). The price
range runs :func:`sibsim.price_corridor` on the scenario stored in the result and the
tornado runs :func:`sibsim.tornado` (both re-simulate, at a modest number of draws, with the
result's seed); the share of variance is :func:`sibsim.sensitivity` of the result itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sibsim.report.figures import inline_svg
from sibsim.report.names import _parameter_label
from sibsim.report.sections import Context
from sibsim.report.words import WORDS, percent

__all__ = ["Options", "corridors", "drivers", "outcome_contracts", "plots"]


@dataclass(frozen=True)
class Options:
    """The settings of the analyses that re-simulate.

    Attributes
    ----------
    corridor : bool
        Whether to compute the price range of each outcome contract.
    tornado : bool
        Whether to run a tornado for the payer of the first outcome contract.
    draws : int
        Draws per simulation of those analyses.
    seed : int
        Their seed.
    points : int
        Values tried per price range.
    max_prob_loss : float
        The largest chance of loss either side accepts.
    """

    corridor: bool = True
    tornado: bool = True
    draws: int = 200
    seed: int = 1
    points: int = 9
    max_prob_loss: float = 0.2


def _figure(ctx: Context, key: str, figure, title: str, description: str) -> dict:
    return {"title": title, "svg": inline_svg(figure, key, title, description)}


def _joined(ctx: Context, pairs) -> str:
    return "; ".join(f"{label} {value}" for label, value in pairs)


def _employment(ctx: Context, state: str) -> dict:
    from sibsim import plot

    result, words = ctx.result, ctx.words
    month = min(24, result.sizes.get("month", result.sizes.get("year", 1)) - 1)
    time = "month" if "month" in result["occupancy"].dims else "year"
    share = result["occupancy"].sel(state=state).isel({time: month}).median("draw")
    values = _joined(ctx, ((arm, percent(float(share.sel(arm=arm)), ctx.lang))
                           for arm in (str(a) for a in result["arm"].values)))
    from sibsim.labels import state_label

    description = words["desc_employment"].format(
        state=state_label(state, ctx.lang).lower(), month=month, values=values)
    return _figure(ctx, "fig-employment", plot.employment(result, state=state, lang=ctx.lang),
                   words["fig_employment"], description)


def _positions(ctx: Context) -> dict:
    from sibsim import plot

    summary = ctx.summary[ctx.summary.role.isin(["investor", "guarantor", "payer", "provider",
                                                 "saver"])]
    values = _joined(ctx, ((f"{ctx.party(r.party)} ({r.contract})", ctx.money(r.mean))
                           for r in summary.itertuples()))
    return _figure(ctx, "fig-positions", plot.net_positions(ctx.result, lang=ctx.lang),
                   ctx.words["fig_net_positions"],
                   ctx.words["desc_positions"].format(values=values))


def _risk_return(ctx: Context) -> dict:
    from sibsim import plot

    summary = ctx.summary[ctx.summary.role.isin(["investor", "guarantor", "payer", "provider"])]
    values = _joined(ctx, ((f"{ctx.party(r.party)} ({r.contract})",
                            f"{ctx.money(r.mean)}, {percent(r.prob_loss, ctx.lang)}")
                           for r in summary.itertuples()))
    return _figure(ctx, "fig-risk-return", plot.risk_return(ctx.result, lang=ctx.lang),
                   ctx.words["fig_risk_return"],
                   ctx.words["desc_risk_return"].format(values=values))


def _irr(ctx: Context) -> dict:
    from sibsim import plot

    irr = ctx.result["investor_irr"]
    pairs = []
    for contract in (str(c) for c in ctx.result["contract"].values):
        values = np.asarray(irr.sel(contract=contract).values, dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            pairs.append((contract, percent(float(np.median(values)), ctx.lang, 1)))
    return _figure(ctx, "fig-irr", plot.investor_irr(ctx.result, lang=ctx.lang),
                   ctx.words["fig_investor_irr"],
                   ctx.words["desc_irr"].format(values=_joined(ctx, pairs)))


def _savings(ctx: Context) -> dict:
    from sibsim import plot

    saved = ctx.result["savings_npv"].sum("category").mean("draw")
    pairs = ((ctx.party(str(p)), ctx.money(float(saved.sel(payer=p))))
             for p in ctx.result["payer"].values)
    return _figure(ctx, "fig-savings", plot.savings_by_payer(ctx.result, lang=ctx.lang),
                   ctx.words["fig_savings"],
                   ctx.words["desc_savings"].format(values=_joined(ctx, pairs)))


def plots(ctx: Context) -> list[dict]:
    """The plots of the result that have something to show, as inline SVG.

    Parameters
    ----------
    ctx : Context
        The report.

    Returns
    -------
    list of dict
        Keys ``title`` and ``svg``, in the order of :func:`sibsim.plot.save_all`.
    """
    from sibsim.plot import risk_parties

    result = ctx.result
    states = ctx.scenario.states()
    out = [_employment(ctx, "employed" if "employed" in states else states[-1])]
    has_risk = bool(risk_parties(result))
    if has_risk:
        out.append(_positions(ctx))
    if "investor_irr" in result and np.isfinite(result["investor_irr"].values).any():
        out.append(_irr(ctx))
    if has_risk:
        out.append(_risk_return(ctx))
    if result.sizes.get("payer", 0):
        out.append(_savings(ctx))
    return out


def outcome_contracts(scenario) -> list[tuple[int, dict, str]]:
    """The outcome contracts and the key path of the price to vary in each.

    Parameters
    ----------
    scenario : Scenario
        The scenario.

    Returns
    -------
    list of (int, dict, str)
        Index, contract and key path (the first outcome's price, or the share of savings),
        for each outcome contract whose price is a plain number.
    """
    from sibsim.contracts import is_outcome_contract

    out = []
    for i, contract in enumerate(scenario.data["contracts"]):
        if not is_outcome_contract(contract):
            continue
        if contract.get("outcomes"):
            path = f"contracts[{i}].outcomes[0].price"
        elif "share" in contract:
            path = f"contracts[{i}].share"
        else:
            continue
        if isinstance(scenario.get(path), (int, float)):
            out.append((i, contract, path))
    return out


def _counterparty(contract: dict) -> str:
    from sibsim.rules import PROVIDER

    tranches = (contract.get("financing") or {}).get("tranches") or ()
    return tranches[0]["party"] if tranches else PROVIDER


def _values(path: str, current: float, points: int) -> list[float]:
    if path.endswith(".share"):
        return [float(v) for v in np.linspace(0.1, 1.0, points)]
    return [float(v) for v in np.round(current * np.linspace(0.25, 2.0, points), 6)]


def _main_payer(scenario, contract: str) -> str:
    """The contract's payer; its first payer where it has several (a bill split by shares)."""
    from sibsim import analysis

    try:
        return analysis.contract_payer(scenario, contract)
    except ValueError:
        entry = scenario.data["contracts"][scenario.contract_names().index(contract)]
        return next(iter(entry["payer"]))


def _corridor(ctx: Context, options: Options, index: int, contract: dict, path: str) -> dict:
    from sibsim import analysis, plot

    words, lang = ctx.words, ctx.lang
    current = float(ctx.scenario.get(path))
    payer = _main_payer(ctx.scenario, contract["name"])
    counterparty = _counterparty(contract)
    table = analysis.price_corridor(
        ctx.scenario, path, _values(path, current, options.points), contract["name"],
        payer=payer, counterparty=counterparty, max_prob_loss=options.max_prob_loss,
        draws=options.draws, seed=options.seed)
    label = _parameter_label(ctx.scenario, path, lang)
    show = (lambda v: percent(v, lang)) if path.endswith(".share") else ctx.money
    ok = table[table.acceptable]
    sides = {"payer": ctx.party(payer), "counterparty": ctx.party(counterparty),
             "param": label}
    if len(ok):
        sentence = words["corridor_range"].format(**sides, low=show(ok.value.min()),
                                                  high=show(ok.value.max()),
                                                  current=show(current))
    else:
        sentence = words["corridor_none"].format(**sides, low=show(table.value.min()),
                                                 high=show(table.value.max()))
    figure = plot.corridor(table, payer=ctx.party(payer), counterparty=ctx.party(counterparty),
                           max_prob_loss=options.max_prob_loss, param=path, label=label,
                           contract=contract["name"])
    rows = [[show(r.value), percent(r.payer_prob_loss, lang), percent(r.counterparty_prob_loss,
                                                                      lang),
             words["yes"] if r.acceptable else words["no"]] for r in table.itertuples()]
    title = words["fig_corridor"].format(contract=contract["name"])
    return {"name": contract["name"], "sentence": sentence, "rows": rows,
            "payer": ctx.party(payer), "counterparty": ctx.party(counterparty),
            **_figure(ctx, f"fig-corridor-{index}", figure, title, sentence)}


def corridors(ctx: Context, options: Options) -> list[dict]:
    """The price range both sides accept, for each outcome contract.

    Parameters
    ----------
    ctx : Context
        The report.
    options : Options
        The analyses' settings.

    Returns
    -------
    list of dict
        Keys ``name``, ``sentence``, ``rows`` (value, payer's and counterparty's chance
        of loss, acceptable), ``payer``, ``counterparty``, ``title`` and ``svg``.
    """
    if not options.corridor:
        return []
    return [_corridor(ctx, options, i, contract, path)
            for i, contract, path in outcome_contracts(ctx.scenario)]


def _sensitivity(ctx: Context, contract: str, party: str) -> dict:
    from sibsim import analysis

    table = analysis.sensitivity(ctx.result, contract=contract, party=party)
    table = table[table["index"] > 0].head(6)
    rows = [[_parameter_label(ctx.scenario, r.param, ctx.lang), percent(r.index, ctx.lang, 1)]
            for r in table.itertuples()]
    return {"caption": ctx.words["drivers_table"].format(party=ctx.party(party),
                                                         contract=contract), "rows": rows}


def _tornado(ctx: Context, options: Options, index: int, contract: str, party: str) -> dict:
    from sibsim import analysis, plot

    table = analysis.tornado(ctx.scenario, contract, party, draws=options.draws,
                             seed=options.seed)
    base = table.attrs.get("npv_base")
    top = table.head(3)
    description = ctx.words["desc_tornado"].format(values=_joined(ctx, (
        (_parameter_label(ctx.scenario, r.param, ctx.lang),
         f"{ctx.money(r.npv_low)} – {ctx.money(r.npv_high)}") for r in top.itertuples())))
    figure = plot.tornado(table.head(10), contract=contract, party=ctx.party(party),
                          npv_base=base, currency=ctx.currency, scenario=ctx.scenario,
                          lang=ctx.lang)
    title = ctx.words["fig_tornado"].format(party=ctx.party(party), contract=contract)
    return {"intro": ctx.words["tornado_intro"].format(party=ctx.party(party), contract=contract,
                                                      draws=options.draws),
            **_figure(ctx, f"fig-tornado-{index}", figure, title, description)}


def drivers(ctx: Context, options: Options) -> list[dict]:
    """What drives the risk of the payer of each outcome contract (or of the first contract).

    Parameters
    ----------
    ctx : Context
        The report.
    options : Options
        The analyses' settings.

    Returns
    -------
    list of dict
        Keys ``caption`` and ``rows`` (the share of variance of the largest drivers) and,
        with ``options.tornado``, on the first item only, ``tornado`` (``intro``,
        ``title``, ``svg``).
    """
    if not ctx.scenario.uncertain() or "params" not in ctx.result:
        return []
    chosen = [(i, contract["name"]) for i, contract, _ in outcome_contracts(ctx.scenario)]
    if not chosen:
        chosen = [(0, ctx.scenario.contract_names()[0])]
    out = []
    for index, contract in chosen:
        party = _main_payer(ctx.scenario, contract)
        item = _sensitivity(ctx, contract, party)
        if options.tornado and not out:  # one tornado: 2k + 1 runs for k parameters
            item["tornado"] = _tornado(ctx, options, index, contract, party)
        out.append(item)
    return out


def describe(options: Options, lang: str) -> str:
    """The analyses' settings in a few words (for the provenance).

    Parameters
    ----------
    options : Options
        The settings.
    lang : str
        The language.

    Returns
    -------
    str
    """
    if not (options.corridor or options.tornado):
        return ""
    return WORDS[lang]["prov_analyses_text"].format(
        draws=options.draws, seed=options.seed, points=options.points,
        limit=percent(options.max_prob_loss, lang))
