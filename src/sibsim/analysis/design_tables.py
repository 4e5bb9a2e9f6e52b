"""Text for the command line from a design's table: the chosen terms and every party's risk.

:func:`format_design` prints what :func:`sibsim.design` chose (or, from
:class:`sibsim.DesignInfeasible`, the closest candidate), each party's mean npv and
probability of loss there with their Monte Carlo standard errors, the method, its
tolerance and the notes on terms that do not move the result.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import pandas as pd

from sibsim.analysis.tables import WIDTH, amount, number, percent, points, render
from sibsim.analysis.units import table_scale

__all__ = ["format_design", "format_pilot_designs", "party_rows", "pilot_designs",
           "scenario_digest", "term_label"]


def party_rows(row: pd.Series, parties: Sequence[str], currency: str) -> list[str]:
    """A table of each party's mean npv and P(loss), with standard errors, at one candidate.

    Parties whose npv is 0 in every draw (not party to the contract, no savings) are left
    out.

    Parameters
    ----------
    row : pandas.Series
        A row of a design's table.
    parties : sequence of str
        The parties, in the scenario's order.
    currency : str
        The currency.

    Returns
    -------
    list of str
        The lines of the table.
    """
    shown = [p for p in parties
             if not (row[f"{p}_mean"] == 0 and row[f"{p}_mean_mcse"] == 0
                     and row[f"{p}_prob_loss"] == 0)]
    scale, unit = table_scale([row[f"{p}_mean"] for p in shown], currency)
    cells = [[p, f"{amount(row[f'{p}_mean'], scale)} +- "
                 f"{amount(row[f'{p}_mean_mcse'], scale)}",
              f"{percent(row[f'{p}_prob_loss'])} +- {points(row[f'{p}_prob_loss_mcse'])}",
              percent(row[f"{p}_prob_nominal_loss"])]
             for p in shown]
    columns = [("party", "<"), (f"mean npv +- se ({unit})", ">"),
               ("P(loss) +- se (points)", ">"), ("P(nominal loss)", ">")]
    return render(columns, cells)


def format_design(table: pd.DataFrame, *, parties: Sequence[str],
                  feasible: bool = True) -> str:
    """The chosen terms of a design and every party's risk there, as text.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`sibsim.design` (or of a :class:`sibsim.DesignInfeasible`).
    parties : sequence of str
        The scenario's parties.
    feasible : bool, keyword-only, default True
        False to describe the closest candidate of an infeasible design.

    Returns
    -------
    str
        Lines ending in a newline.
    """
    attrs = table.attrs
    values = attrs["chosen"]
    mask = pd.Series(True, index=table.index)
    for key, value in values.items():
        mask &= table[key] == value
    row = table[mask].iloc[0]
    currency = attrs.get("currency", "DKK")
    lines = [f"Design of contract {attrs['contract']!r}: maximise {attrs['objective']}"
             + (f" subject to {', '.join(attrs['constraints'])}" if attrs["constraints"]
                else "") + f" ({attrs['draws']:,} draws, seed {attrs['seed']})", ""]
    if feasible:
        lines.append("Chosen terms:")
    else:
        lines.append("No terms meet every constraint. The closest candidate (smallest "
                     f"violation), which misses {row['fails']}:")
    for key, value in values.items():
        tolerance = attrs["tolerance"].get(key, 0.0)
        lines.append(f"  {key} = {number(value)}  (to +-{number(tolerance)})")
    lines += ["", *party_rows(row, parties, currency), "",
              f"{len(table)} candidates evaluated on common random numbers; method: "
              f"{attrs['method']}."]
    lines += [f"note: {note}" for note in attrs.get("notes", [])]
    return "\n".join(lines) + "\n"


def term_label(scenario, key: str) -> str:
    """A designed term in words: ``job_6m price``, ``cap_per_participant``, ``tranche amount``.

    Parameters
    ----------
    scenario : Scenario
        The scenario the key path belongs to.
    key : str
        The key path.

    Returns
    -------
    str
    """
    from sibsim.scenario.keypath import parse_path

    parts = parse_path(key)
    if len(parts) == 5 and parts[2] == "outcomes" and parts[4] == "price":
        outcome = scenario.data["contracts"][parts[1]]["outcomes"][parts[3]]
        return f"{outcome['name']} price"
    if "tranches" in parts:
        return f"tranche {parts[-1]}"
    if "guarantees" in parts:
        return f"guarantee {parts[-1]}"
    if len(parts) == 4 and parts[2] == "payer":
        return f"{parts[3]}'s payer share"
    return str(parts[-1])


def _limit_words(label: str) -> str:
    """``provider.prob_loss <= 0.2`` as ``provider P(loss) <= 20%``."""
    target, sign, limit = label.split(" ")
    party, _, statistic = target.rpartition(".")
    if statistic in ("prob_loss", "prob_nominal_loss"):
        words = "P(loss)" if statistic == "prob_loss" else "P(nominal loss)"
        return f"{party} {words} {sign} {float(limit):.0%}"
    return f"{party} {statistic} {sign} {float(limit):,.0f}"


def format_pilot_designs(scenario, summary: pd.DataFrame, designs: dict) -> str:
    """The designed terms of each outcome contract and every party's risk there, in words.

    The terms, constraints and verdict come from the design file
    (``scripts/design_danish_pilot.py``); the means and probabilities of loss, with their
    Monte Carlo standard errors, from the run being shown (``summary``).

    Parameters
    ----------
    scenario : Scenario
        The scenario simulated.
    summary : pandas.DataFrame
        :func:`sibsim.summarize` of its run.
    designs : dict
        The design file's content (``designs``: one entry per contract).

    Returns
    -------
    str
        Lines ending in a newline; empty when there is no design.
    """
    currency = summary.attrs.get("currency", "DKK")
    entries = [d for d in designs.get("designs", []) if d["contract"] in
               scenario.contract_names()]
    if not entries:
        return ""
    wrap = textwrap.TextWrapper(width=WIDTH, subsequent_indent="  ")
    lines = wrap.wrap("Designed terms (sibsim.design, scripts/design_danish_pilot.py): the "
                      "terms of each outcome contract that give the municipality the highest "
                      "mean npv while every constraint holds, found at "
                      f"{designs.get('draws', 0):,} draws (seed {designs.get('seed', 1)}); the "
                      "figures below are this run's, so a statistic near its limit may fall "
                      "on the other side of it within its error.") + [""]
    for entry in entries:
        terms = ", ".join(f"{term_label(scenario, k)} {number(v)}"
                          + (f" {currency}" if abs(v) >= 1000 else "")
                          for k, v in entry["terms"].items())
        rules = ", ".join(_limit_words(c) for c in entry["constraints"])
        if entry["feasible"]:
            text = (f"{entry['contract']} (constraints: {rules}): these terms meet every "
                    f"constraint: {terms}.")
        else:
            missed = " and ".join(_limit_words(c) for c in entry["fails"])
            text = (f"{entry['contract']} (constraints: {rules}): no terms satisfy everyone. "
                    f"The closest terms (smallest shortfall) are {terms}; they miss "
                    f"{missed}.")
        lines += wrap.wrap(text)
        rows = summary[summary["contract"] == entry["contract"]]
        scale, unit = table_scale(rows["mean"], currency)
        cells = [[r.party, f"{amount(r.mean, scale)} +- {amount(r.mean_mcse, scale)}",
                  f"{percent(r.prob_loss)} +- {points(r.prob_loss_mcse)}"]
                 for r in rows.itertuples()
                 if not (r.mean == 0 and r.prob_loss == 0)]
        lines += ["  " + line for line in render(
            [("party", "<"), (f"mean npv +- se ({unit})", ">"),
             ("P(loss) +- se (points)", ">")], cells)]
        lines.append("")
    return "\n".join(lines)


def pilot_designs(name: str) -> tuple[dict | None, bool]:
    """The design file shipped with a built-in scenario, and whether it is current.

    Parameters
    ----------
    name : str
        A built-in scenario's name; its design file is ``data/<name>-design.json``
        (written by ``scripts/design_danish_pilot.py``).

    Returns
    -------
    (dict or None, bool)
        The file's content (None when there is none), and True when it was written for
        the scenario as shipped (:func:`scenario_digest` matches: comments may differ).
    """
    import json
    from importlib import resources

    from sibsim.scenario import load_scenario

    source = resources.files("sibsim") / "data" / f"{name}-design.json"
    if not source.is_file():
        return None, False
    designs = json.loads(source.read_text(encoding="utf-8"))
    current = scenario_digest(load_scenario(name)) == designs.get("scenario_sha256")
    return designs, current


def scenario_digest(scenario) -> str:
    """SHA-256 of a scenario's normalised document (its numbers and names, not comments).

    Parameters
    ----------
    scenario : Scenario
        The scenario.

    Returns
    -------
    str
        Hex digest.
    """
    import hashlib
    import json

    text = json.dumps(scenario.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
