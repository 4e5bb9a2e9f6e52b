"""The designed terms of each outcome contract, for the chapter on the price range.

A design is what :func:`sibsim.design` chose for one contract: the terms, whether they meet
every constraint (or, from :class:`sibsim.DesignInfeasible`, the closest terms and the
constraints they miss), and each party's mean npv and chance of loss there with their Monte
Carlo standard errors, from the design's own draws. The report shows them for a built-in
scenario whose design file (``data/<name>-design.json``, written by
``scripts/design_danish_pilot.py``) is current (:func:`sibsim.analysis.design_tables.pilot_designs`),
or for the designs passed to :func:`sibsim.write_report`. Nothing here re-simulates.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from sibsim.report.names import _parameter_label
from sibsim.report.sections import Context, _chance, _estimate
from sibsim.report.words import name, number, percent

__all__ = ["design_entries", "design_entry", "designed_terms"]

_SHARES = ("prob_loss", "prob_nominal_loss")


def design_entry(outcome, parties) -> dict:
    """One design's outcome in the form of a design file's entry.

    Parameters
    ----------
    outcome : pandas.DataFrame, tuple or DesignInfeasible
        The table of :func:`sibsim.design`, its ``(scenario, table)`` pair, or the
        :class:`sibsim.DesignInfeasible` it raised (with its table).
    parties : sequence of str
        The scenario's parties.

    Returns
    -------
    dict
        Keys ``contract``, ``maximize``, ``constraints``, ``feasible``, ``fails``,
        ``terms``, ``draws``, ``seed`` and ``parties`` (each party's ``mean``,
        ``mean_mcse``, ``prob_loss``, ``prob_loss_mcse``).

    Raises
    ------
    ValueError
        For anything else, or an error without its table.
    """
    from sibsim.errors import DesignInfeasible

    feasible = True
    if isinstance(outcome, DesignInfeasible):
        outcome, feasible = outcome.table, False
    elif isinstance(outcome, tuple) and len(outcome) == 2:
        outcome = outcome[1]
    if not isinstance(outcome, pd.DataFrame) or "chosen" not in outcome.attrs:
        raise ValueError(f"designs: got {type(outcome).__name__}, expected the table of "
                         "sibsim.design, its (scenario, table) pair or a DesignInfeasible "
                         "with its table")
    attrs = outcome.attrs
    mask = pd.Series(True, index=outcome.index)
    for key, value in attrs["chosen"].items():
        mask &= outcome[key] == value
    row = outcome[mask].iloc[0]
    stats = ("mean", "mean_mcse", "prob_loss", "prob_loss_mcse")
    shown = {p: {s: float(row[f"{p}_{s}"]) for s in stats} for p in parties
             if f"{p}_mean" in row and not (row[f"{p}_mean"] == 0 and row[f"{p}_prob_loss"] == 0)}
    return {"contract": attrs["contract"], "maximize": attrs["objective"],
            "constraints": list(attrs["constraints"]), "feasible": feasible,
            "fails": [f for f in str(row["fails"] or "").split("; ") if f],
            "terms": {k: float(v) for k, v in attrs["chosen"].items()},
            "draws": attrs.get("draws"), "seed": attrs.get("seed"), "parties": shown}


def design_entries(scenario, designs) -> list[dict]:
    """The designs passed to the report, as design file entries, checked against the scenario.

    Parameters
    ----------
    scenario : Scenario
        The result's scenario.
    designs : mapping, DataFrame, tuple, DesignInfeasible or list of them
        A design file's content (``{"designs": [...]}``) or the outcomes of
        :func:`sibsim.design` (see :func:`design_entry`).

    Returns
    -------
    list of dict

    Raises
    ------
    ValueError
        For a design of a contract the scenario does not have.
    """
    if isinstance(designs, Mapping):
        entries = [{**e, "draws": e.get("draws", designs.get("draws")),
                    "seed": e.get("seed", designs.get("seed"))}
                   for e in designs.get("designs", [])]
    else:
        items = designs if isinstance(designs, list) else [designs]
        entries = [design_entry(item, scenario.parties()) for item in items]
    for entry in entries:
        if entry["contract"] not in scenario.contract_names():
            raise ValueError(f"designs: got a design of contract {entry['contract']!r}, "
                             f"expected one of {scenario.contract_names()}")
    return entries


def _target(ctx: Context, label: str) -> tuple[str, str]:
    """``provider.prob_loss`` as (the party's genitive, the statistic), in words."""
    party, _, statistic = label.rpartition(".")
    words = ctx.words
    owner = words["design_genitive"].format(party=name(party, ctx.lang))
    return owner, words["design_statistics"].get(statistic, statistic.replace("_", " "))


def _limit(ctx: Context, label: str) -> str:
    """``provider.prob_loss <= 0.2`` in words: "the provider's chance of loss at most 20%"."""
    target, sign, limit = label.split(" ")
    owner, statistic = _target(ctx, target)
    value = float(limit)
    shown = (percent(value, ctx.lang) if target.rpartition(".")[2] in _SHARES
             else ctx.money(value))
    key = "design_at_most" if sign == "<=" else "design_at_least"
    return ctx.words[key].format(owner=owner, statistic=statistic, limit=shown)


def _value(ctx: Context, key: str, label: str, value: float) -> str:
    """A term's value: a share in percent, an amount in the currency, else a number."""
    last = key.rsplit(".", 1)[-1]
    if last == "share" or ".payer." in key:
        return percent(value, ctx.lang, 1)
    if label.endswith(f"({ctx.currency})"):
        amount = number(value, ctx.lang, 0)
        if ctx.lang == "da":
            return f"{amount} {'kr.' if ctx.currency == 'DKK' else ctx.currency}"
        return f"{ctx.currency} {amount}"
    return number(value, ctx.lang, 0 if float(value).is_integer() else 3)


def _one(ctx: Context, entry: dict) -> dict:
    words, lang = ctx.words, ctx.lang
    _, statistic = _target(ctx, entry["maximize"])
    rules = [_limit(ctx, c) for c in entry["constraints"]]
    goal = words["design_goal"].format(party=name(entry["maximize"].rpartition(".")[0], lang),
                                       statistic=statistic)
    if rules:
        goal += " " + words["design_rules"].format(rules="; ".join(rules))
    if entry["feasible"]:
        verdict = words["design_met"]
    else:
        verdict = words["design_unmet"].format(
            missed="; ".join(_limit(ctx, c) for c in entry["fails"]) or "-")
    prefix = f"{entry['contract']}: "
    terms = []
    for key, value in entry["terms"].items():
        label = _parameter_label(ctx.scenario, key, lang)
        shown = label[len(prefix):] if label.startswith(prefix) else label
        terms.append([shown[:1].upper() + shown[1:], _value(ctx, key, label, value)])
    rows = [[name(p, lang)[:1].upper() + name(p, lang)[1:],
             _estimate(f["mean"], f["mean_mcse"], lang),
             _chance(f["prob_loss"], f["prob_loss_mcse"], lang)]
            for p, f in entry["parties"].items()]
    draws = entry.get("draws")
    return {"name": entry["contract"], "goal": goal, "verdict": verdict,
            "feasible": bool(entry["feasible"]), "terms": terms, "rows": rows,
            "figures": words["design_figures"].format(
                draws=number(draws, lang) if draws else "-", seed=entry.get("seed", "-"))}


def designed_terms(ctx: Context, designs=None) -> list[dict]:
    """The designed terms of each outcome contract, in the report's language.

    Parameters
    ----------
    ctx : Context
        The report.
    designs : optional
        Designs to show (see :func:`design_entries`); by default those of the built-in
        scenario the result was run on, when its design file is current, else none.

    Returns
    -------
    list of dict
        Keys ``name``, ``goal`` (objective and constraints in words), ``verdict``,
        ``feasible``, ``terms`` (label, value), ``rows`` (party, mean ± MCSE in thousands,
        chance of loss ± MCSE) and ``figures`` (where the figures come from).
    """
    if designs is None:
        from sibsim.analysis.design_tables import pilot_designs

        if ctx.builtin is None:
            return []
        designs, current = pilot_designs(ctx.builtin)
        if designs is None or not current:
            return []
    entries = design_entries(ctx.scenario, designs)
    return [_one(ctx, e) for e in entries]
