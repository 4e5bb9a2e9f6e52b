"""Text for the command line from a design's table: the chosen terms and every party's risk.

:func:`format_design` prints what :func:`sibsim.design` chose (or, from
:class:`sibsim.DesignInfeasible`, the closest candidate), each party's mean npv and
probability of loss there with their Monte Carlo standard errors, the method, its
tolerance and the notes on terms that do not move the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from sibsim.analysis.tables import amount, number, percent, points, render
from sibsim.analysis.units import table_scale

__all__ = ["format_design", "party_rows"]


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
