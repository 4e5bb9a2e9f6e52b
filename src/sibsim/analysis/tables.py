"""Fixed-width text tables for the command line: one renderer and the tables it prints.

:func:`render` lays out any table (a header, a rule, one line per row, optional blank lines
between groups of rows); the cell formats are written once (:func:`amount`,
:func:`percent`, :func:`number`). On top of them:

- :func:`format_summary`: the risk table of :func:`sibsim.summarize`;
- :func:`format_tornado`: the swings of :func:`sibsim.tornado`;
- :func:`format_corridor`: the probabilities of loss of :func:`sibsim.price_corridor`.

The settings of an analysis (contract, party, draws, seed, ...) are passed as keyword
arguments; a table's columns are read by name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sibsim.scenario.distributions import as_real

__all__ = ["amount", "format_corridor", "format_summary", "format_tornado", "number",
           "percent", "render"]

#: A column of a text table: its title and its alignment, "<" (left) or ">" (right).
Column = tuple[str, str]


def amount(value: float, scale: float) -> str:
    """An amount divided by ``scale``, rounded, with thousands separators; "-" if missing.

    Parameters
    ----------
    value : float
        The amount (DKK).
    scale : float
        The divisor (1000 for DKK thousands).

    Returns
    -------
    str

    Examples
    --------
    >>> amount(-1_234_567.0, 1000.0), amount(-400.0, 1000.0), amount(float("nan"), 1.0)
    ('-1,235', '0', '-')
    """
    # int(round(...)) so that a small negative amount shows as 0, never as -0.
    return "-" if not math.isfinite(value) else f"{int(round(value / scale)):,d}"


def percent(value: float) -> str:
    """A share in percent with one decimal; "-" if missing.

    Parameters
    ----------
    value : float
        A share (0.25 for 25%).

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.25), percent(-0.0001), percent(float("nan"))
    ('25.0%', '0.0%', '-')
    """
    # Adding 0.0 turns a rounded -0.0 into 0.0.
    return "-" if not math.isfinite(value) else f"{round(100 * value, 1) + 0.0:.1f}%"


def number(value: Any) -> str:
    """A parameter value: thousands separators from 1000 up, else four significant digits.

    Parameters
    ----------
    value : object
        A number, or anything else (a distribution's JSON text), shown as it is.

    Returns
    -------
    str

    Examples
    --------
    >>> number(12345.6), number(0.0390712), number("{...}")
    ('12,346', '0.03907', '{...}')
    """
    real = as_real(value)
    if real is None:
        return str(value)
    if not math.isfinite(real):
        return "-"
    if abs(real) >= 1000:
        return f"{real:,.0f}"
    return f"{real:.4g}"


def render(columns: Sequence[Column], cells: Sequence[Sequence[str]], *,
           group: int | None = None) -> list[str]:
    """Lay out a text table: header, rule, one line per row, each column as wide as needed.

    Parameters
    ----------
    columns : sequence of (str, str)
        Title and alignment ("<" or ">") of each column.
    cells : sequence of sequence of str
        The rows, one string per column.
    group : int, optional, keyword-only
        A column index: a blank line separates rows whose value in that column differs.

    Returns
    -------
    list of str
        The lines, without trailing blanks.

    Examples
    --------
    >>> lines = render([("party", "<"), ("mean", ">")], [["state", "12"], ["region", "3"]])
    >>> print("\\n".join(lines))
    party   mean
    ------------
    state     12
    region     3
    """
    widths = [max([len(title)] + [len(row[i]) for row in cells])
              for i, (title, _) in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(f"{value:{align}{width}}" for value, (_, align), width in
                         zip(values, columns, widths)).rstrip()

    head = line([title for title, _ in columns])
    lines = [head, "-" * len(head)]
    for i, row in enumerate(cells):
        if group is not None and i and row[group] != cells[i - 1][group]:
            lines.append("")
        lines.append(line(row))
    return lines


def format_summary(table: pd.DataFrame, *, scale: float = 1_000.0,
                   unit: str = "DKK thousands") -> str:
    """A fixed-width text table of :func:`sibsim.summarize`'s output, for the command line.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`sibsim.summarize` (its ``attrs["irr_no_root_share"]``, when
        present, adds a note per contract with IRR draws without a root).
    scale : float, keyword-only, default 1000
        Amounts are divided by it and shown with thousands separators, no decimals.
    unit : str, keyword-only, default "DKK thousands"
        Name of the unit after scaling, shown in the header.

    Returns
    -------
    str
        A header naming the unit and the measures, then one line per row (a blank line
        between contracts): amounts (mean, sd, p05, p50, p95, ES 5%) in the unit, the
        probability of loss and the IRR quantiles in percent, ``-`` where a value is missing.

    Examples
    --------
    >>> print(format_summary(summarize(result)))                     # doctest: +SKIP
    npv: discounted net position, in DKK thousands. ...
    """
    columns = [("contract", "<"), ("party", "<"), ("mean", ">"), ("sd", ">"), ("p05", ">"),
               ("p50", ">"), ("p95", ">"), ("P(loss)", ">"), ("ES 5%", ">"), ("IRR p05", ">"),
               ("IRR p50", ">"), ("IRR p95", ">")]
    cells = [[str(row.contract), str(row.party),
              *(amount(getattr(row, k), scale) for k in ("mean", "sd", "p05", "p50", "p95")),
              percent(row.prob_loss), amount(row.expected_shortfall_05, scale),
              *(percent(getattr(row, k)) for k in ("irr_p05", "irr_p50", "irr_p95"))]
             for row in table.itertuples(index=False)]
    lines = [
        f"npv: discounted net position, in {unit}.",
        "P(loss): share of draws with npv < 0.  ES 5%: mean npv of the worst 5% of draws.",
        "IRR: annualised IRR of the contract's tranches together, over draws with a root",
        "(shown on the rows of the parties that fund a tranche).",
        "",
        *render(columns, cells, group=0),
    ]
    no_root = {c: share for c, share in table.attrs.get("irr_no_root_share", {}).items() if share}
    if no_root:
        lines.append("")
        lines.extend(f"{contract}: the investor IRR has no root in {percent(share)} of the "
                     "draws with money drawn (left out of the IRR quantiles)."
                     for contract, share in no_root.items())
    return "\n".join(lines) + "\n"


def _run(draws: int | None, seed: int | None) -> str:
    """The header's ``" (N draws, seed S)"``, or as much of it as is known."""
    known = [f"{draws} draws" if draws is not None else None,
             f"seed {seed}" if seed is not None else None]
    known = [part for part in known if part]
    return f" ({', '.join(known)})" if known else ""


def format_tornado(table: pd.DataFrame, *, contract: str, party: str,
                   quantiles: tuple[float, float] = (0.1, 0.9), npv_base: float | None = None,
                   draws: int | None = None, seed: int | None = None, scale: float = 1_000.0,
                   unit: str = "DKK thousands") -> str:
    """A fixed-width text table of :func:`sibsim.tornado`'s output, for the command line.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`sibsim.tornado`.
    contract, party : str, keyword-only
        The contract and the party the tornado was run for, named in the header.
    quantiles : (float, float), keyword-only, default (0.1, 0.9)
        The low and high quantile it was run with.
    npv_base : float, optional, keyword-only
        The mean npv with every parameter at its median (``table.attrs["npv_base"]``);
        shown in the header when given.
    draws, seed : int, optional, keyword-only
        The run's draws and seed, shown in the header when given.
    scale : float, keyword-only, default 1000
        Amounts are divided by it.
    unit : str, keyword-only, default "DKK thousands"
        Name of the unit after scaling.

    Returns
    -------
    str
        A few header lines, then one line per parameter.

    Examples
    --------
    >>> table = sibsim.tornado("danish-pilot", "narrow", "municipality",
    ...                        draws=200)                                 # doctest: +SKIP
    >>> print(format_tornado(table, contract="narrow", party="municipality",
    ...                      npv_base=table.attrs["npv_base"]))          # doctest: +SKIP
    """
    q_low, q_high = quantiles
    lines = [
        f"Tornado: mean npv of {party} under {contract!r}, in {unit}{_run(draws, seed)}.",
        f"Each uncertain parameter at its {q_low:.0%} and {q_high:.0%} quantile, every other at "
        "its median (participants stay random, common random numbers).",
    ]
    if npv_base is not None:
        lines.append(f"With every parameter at its median: {amount(npv_base, scale)}.")
    lines.append("")
    if table.empty:
        return "\n".join(lines + ["The scenario has no uncertain per-draw parameter."]) + "\n"
    columns = [("param", "<"), ("low value", ">"), ("high value", ">"), ("npv low", ">"),
               ("npv high", ">"), ("swing", ">")]
    cells = [[str(r.param), number(r.low_value), number(r.high_value), amount(r.npv_low, scale),
              amount(r.npv_high, scale), amount(r.swing, scale)]
             for r in table.itertuples(index=False)]
    return "\n".join(lines + render(columns, cells)) + "\n"


def format_corridor(table: pd.DataFrame, *, contract: str, param: str, payer: str,
                    counterparty: str, max_prob_loss: float, draws: int | None = None,
                    seed: int | None = None, scale: float = 1_000.0,
                    unit: str = "DKK thousands") -> str:
    """A fixed-width text table of :func:`sibsim.price_corridor`'s output, for the command line.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`sibsim.price_corridor`.
    contract : str, keyword-only
        The contract whose npv was read.
    param : str, keyword-only
        The key path of the price.
    payer, counterparty : str, keyword-only
        The two sides, named in the header and the column titles.
    max_prob_loss : float, keyword-only
        The largest probability of loss either side accepts.
    draws, seed : int, optional, keyword-only
        The run's draws and seed, shown in the header when given.
    scale : float, keyword-only, default 1000
        Mean npv amounts are divided by it.
    unit : str, keyword-only, default "DKK thousands"
        Name of the unit after scaling.

    Returns
    -------
    str
        A few header lines, one line per value, and the acceptable values.

    Examples
    --------
    >>> table = sibsim.price_corridor("danish-pilot", "contracts[1].outcomes[0].price",
    ...                               [4e4, 6e4], "narrow", draws=200)   # doctest: +SKIP
    >>> print(format_corridor(table, contract="narrow", param="contracts[1].outcomes[0].price",
    ...                       payer="municipality", counterparty="provider",
    ...                       max_prob_loss=0.2))                         # doctest: +SKIP
    """
    lines = [
        f"Price corridor of {contract!r} over {param}: payer {payer}, counterparty "
        f"{counterparty}{_run(draws, seed)}.",
        "P(loss): share of draws with npv < 0; a value is acceptable when both are at most "
        f"{percent(max_prob_loss)}. Mean npv in {unit}.",
        "",
    ]
    columns = [("value", ">"), (f"P(loss) {payer}", ">"), (f"P(loss) {counterparty}", ">"),
               (f"mean {payer}", ">"), (f"mean {counterparty}", ">"), ("acceptable", "<")]
    cells = [[number(r.value), percent(r.payer_prob_loss), percent(r.counterparty_prob_loss),
              amount(r.payer_mean, scale), amount(r.counterparty_mean, scale),
              "yes" if r.acceptable else "no"] for r in table.itertuples(index=False)]
    lines += render(columns, cells)
    accepted = [number(v) for v, ok in zip(table["value"], table["acceptable"]) if ok]
    lines.append("")
    if accepted:
        lines.append(f"Acceptable to both: {', '.join(accepted)}.")
    else:
        lines.append("No value tried is acceptable to both sides.")
    return "\n".join(lines) + "\n"
