"""Fixed-width text tables for the command line: one renderer and the tables it prints.

:func:`render` lays out any table (a header, a rule, one line per row, optional blank lines
between groups of rows); the cell formats are written once (:func:`amount`,
:func:`percent`, :func:`number`). On top of them:

- :func:`format_summary`: the risk table of :func:`sibsim.summarize`, within 80 columns;
- :func:`format_tornado`: the swings of :func:`sibsim.tornado`;
- :func:`format_corridor`: the probabilities of loss of :func:`sibsim.price_corridor`.

The settings of an analysis (contract, party, draws, seed, ...) are passed as keyword
arguments; a table's columns are read by name.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sibsim.analysis.units import SCALES, money_unit, table_scale
from sibsim.labels.words import capitalize
from sibsim.scenario.distributions import as_real
from sibsim.scenario.schema import DEFAULT_CURRENCY

__all__ = ["WIDTH", "amount", "format_corridor", "format_summary", "format_tornado", "number",
           "percent", "points", "render", "wrap_first_column"]

#: A column of a text table: its title and its alignment, "<" (left) or ">" (right), and
#: optionally the spaces before it (default 2; 1 binds a standard error to its estimate).
Column = tuple[str, str] | tuple[str, str, int]


def amount(value: float, scale: float) -> str:
    """An amount divided by ``scale``, rounded, with thousands separators; "-" if missing.

    Parameters
    ----------
    value : float
        The amount (DKK).
    scale : float
        The divisor (1000 for thousands).

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


def points(value: float) -> str:
    """A standard error of a share, in percentage points with one decimal; "-" if missing.

    Parameters
    ----------
    value : float
        A share's standard error (0.012 for 1.2 points).

    Returns
    -------
    str

    Examples
    --------
    >>> points(0.0123), points(float("nan"))
    ('1.2', '-')
    """
    return "-" if not math.isfinite(value) else f"{round(100 * value, 1) + 0.0:.1f}"


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
           group: int | None = None,
           spans: Sequence[tuple[int, int, str]] = ()) -> list[str]:
    """Lay out a text table: header, rule, one line per row, each column as wide as needed.

    Parameters
    ----------
    columns : sequence of (str, str) or (str, str, int)
        Title and alignment ("<" or ">") of each column, and optionally the number of
        spaces before it (default 2).
    cells : sequence of sequence of str
        The rows, one string per column.
    group : int, optional, keyword-only
        A column index: a blank line separates rows whose value in that column differs.
    spans : sequence of (int, int, str), keyword-only
        Titles over several columns, ``(first, last, title)`` (column indices, inclusive),
        on a line above the header, centred in a rule as wide as the columns.

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
    widths = [max([len(column[0])] + [len(row[i]) for row in cells])
              for i, column in enumerate(columns)]

    gaps = [0] + [column[2] if len(column) > 2 else 2 for column in columns[1:]]

    def line(values: Sequence[str]) -> str:
        return "".join(" " * gap + f"{value:{column[1]}{width}}" for value, column, width, gap
                       in zip(values, columns, widths, gaps)).rstrip()

    head = line([column[0] for column in columns])
    lines = [head, "-" * len(head)]
    if spans:
        starts = [sum(gaps[:i + 1]) + sum(widths[:i]) for i in range(len(columns))]
        above = [" "] * len(head)
        for first, last, title in spans:
            begin, end = starts[first], starts[last] + widths[last]
            above[begin:end] = f" {title} ".center(end - begin, "-")[: end - begin]
        lines.insert(0, "".join(above).rstrip())
    for i, row in enumerate(cells):
        if group is not None and i and row[group] != cells[i - 1][group]:
            lines.append("")
        lines.append(line(row))
    return lines


#: The width the command line's tables keep within.
WIDTH = 80


def _discounting(attrs: Mapping[str, Any]) -> str:
    """How the npv of the table's parties is discounted, in words."""
    rates = attrs.get("discount_rate") or {}
    if not rates:
        return "discounted to the programme's start"
    drawn = " (mean over the draws; the rate is uncertain)" if attrs.get("discount_rate_varies") \
        else ""
    by_rate: dict[float, list[str]] = {}
    for party, rate in rates.items():
        by_rate.setdefault(rate, []).append(party)
    if len(by_rate) == 1:
        return f"discounted at {percent(next(iter(by_rate)))} a year{drawn}"
    common = max(by_rate, key=lambda rate: len(by_rate[rate]))
    own = "; ".join(f"{', '.join(parties)} at {percent(rate)}"
                    for rate, parties in by_rate.items() if rate != common)
    return f"discounted at {percent(common)} a year ({own}){drawn}"


def _and(names: Sequence[str]) -> str:
    """Names joined in words: "a", "a and b", "a, b and c"."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, break_on_hyphens=False)


def _omitted(table: pd.DataFrame) -> list[str]:
    """Notes naming the rows left out (role "none"), contract by contract."""
    by_parties: dict[tuple[str, ...], list[str]] = {}
    for contract, rows in table[table.role == "none"].groupby("contract", sort=False):
        by_parties.setdefault(tuple(rows.party), []).append(str(contract))
    if not by_parties:
        return []
    parts = [f"{_and(parties)} under {_and(contracts)}"
             for parties, contracts in by_parties.items()]
    return _wrap("Not shown, as they neither pay, receive nor save anything under the "
                 f"contract: {'; '.join(parts)}.")


def _risk_cells(row: Any, scale: float) -> list[str]:
    """One row of the risk table: amounts in the unit, probabilities in percent."""
    gift = row.role == "donor"
    return [str(row.contract), str(row.party), amount(row.mean, scale),
            amount(row.mean_mcse, scale), amount(row.p05, scale), amount(row.p95, scale),
            amount(row.expected_shortfall_05, scale),
            "gift" if gift else percent(row.prob_loss),
            "" if gift else points(row.prob_loss_mcse),
            "gift" if gift else percent(row.prob_nominal_loss)]


def format_summary(table: pd.DataFrame, *, scale: float | None = None,
                   unit: str | None = None, keep_empty: bool = False) -> str:
    """A text table of :func:`sibsim.summarize`'s output, for the command line (80 columns).

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`sibsim.summarize`. Its ``attrs`` name the currency, the draws
        and each party's discount rate (said in the header), and the share of IRR draws
        without a root (a note per contract). Columns added in version 2 (``role``, the
        MCSEs, ``prob_nominal_loss``) are optional: a table without them shows "-".
    scale : float, optional, keyword-only
        Amounts are divided by it and shown with thousands separators, no decimals
        (default: a power of 1000 that leaves at most five digits,
        :func:`sibsim.analysis.units.table_scale`).
    unit : str, optional, keyword-only
        Name of the unit after scaling, shown in the header (default: from ``scale`` and
        the currency, "thousand DKK").
    keep_empty : bool, keyword-only, default False
        Also show the rows of parties that neither pay, receive nor save under a contract
        (role "none"); by default they are left out and named in a note.

    Returns
    -------
    str
        A header saying what the numbers are (the unit, the discounting, what a loss is),
        the risk table (a blank line between contracts): mean and its Monte Carlo
        standard error, p05, p95 and ES 5% in the unit, P(loss) with its standard error in
        percentage points and P(nominal loss) in percent, "gift" in place of the
        probabilities of a donor; then the investors' IRR quantiles, on the rows of the
        parties that fund a tranche only; then notes.

    Examples
    --------
    >>> print(format_summary(summarize(result)))                     # doctest: +SKIP
    Net position of each party under each contract, in thousand DKK, ...
    """
    table = _with_defaults(table)
    currency = table.attrs.get("currency", DEFAULT_CURRENCY)
    amounts = table[["mean", "p05", "p95", "expected_shortfall_05"]].to_numpy()
    if scale is None:
        scale, default_unit = table_scale(amounts, currency)
    else:
        default_unit = _unit_of(currency, scale)
    unit = unit or default_unit
    shown = table if keep_empty else table[table.role != "none"]
    columns = [("contract", "<"), ("party", "<"), ("mean", ">"), ("+-", ">", 1),
               ("p05", ">"), ("p95", ">"), ("ES 5%", ">"), ("P(loss)", ">"), ("+-", ">", 1),
               ("nominal", ">")]
    cells = [_risk_cells(row, scale) for row in shown.itertuples(index=False)]
    lines = [
        *_wrap(f"Net position of each party under each contract (npv), in {unit}, "
               f"{_discounting(table.attrs)} to the programme's start; "
               f"{_draws(table.attrs)}."),
        *_wrap("P(loss): share of draws with npv < 0. nominal: share of draws whose "
               "undiscounted net position is < 0. ES 5%: mean npv of the worst 5% of "
               "draws. +-: Monte Carlo standard error (of P(loss) in percentage points)."),
        "",
        *render(columns, cells, group=0),
        *_investor_lines(table),
        *_notes(table, shown, scale, unit, keep_empty),
    ]
    return "\n".join(lines) + "\n"


def _with_defaults(table: pd.DataFrame) -> pd.DataFrame:
    """The table with the columns added in version 2, NaN (or no role) where missing."""
    missing = {name: np.nan for name in ("prob_nominal_loss", "mean_mcse", "prob_loss_mcse",
                                          "p05_mcse", "p95_mcse", "expected_shortfall_05_mcse")
               if name not in table}
    if "role" not in table:
        missing["role"] = ""
    if not missing:
        return table
    out = table.assign(**missing)
    out.attrs = dict(table.attrs)
    return out


def _draws(attrs: Mapping[str, Any]) -> str:
    draws = attrs.get("draws")
    return f"{draws:,} draws" if isinstance(draws, int) else "over the draws"


def _investor_lines(table: pd.DataFrame) -> list[str]:
    """The IRR quantiles on the rows of the parties that fund a tranche."""
    rows = table[table[["irr_p05", "irr_p50", "irr_p95"]].notna().any(axis=1)]
    if rows.empty:
        return []
    columns = [("contract", "<"), ("party", "<"), ("IRR p05", ">"), ("IRR p50", ">"),
               ("IRR p95", ">")]
    cells = [[str(r.contract), str(r.party), percent(r.irr_p05), percent(r.irr_p50),
              percent(r.irr_p95)] for r in rows.itertuples(index=False)]
    return ["", *_wrap("Investors: annualised IRR of the contract's tranches together "
                       "(undiscounted cash flows; exactly 0 where they return exactly the "
                       "money drawn), over the draws with a root."), "",
            *render(columns, cells)]


def _notes(table: pd.DataFrame, shown: pd.DataFrame, scale: float, unit: str,
           keep_empty: bool) -> list[str]:
    notes = []
    donors = shown[shown.role == "donor"]
    if not donors.empty:
        gifts = _and([f"{r.party} under {r.contract}" for r in donors.itertuples(index=False)])
        notes += _wrap(f"gift: {gifts} gives money by design (it pays the programme's "
                       "cost and expects nothing back): its net position is its gift, not "
                       "a risk of loss.")
    errors = {name: shown[f"{name}_mcse"].max() for name in ("p05", "p95")}
    errors["ES 5%"] = shown["expected_shortfall_05_mcse"].max()
    if all(math.isfinite(e) for e in errors.values()):
        notes += _wrap("Monte Carlo standard errors of p05, p95 and ES 5% are at most "
                       f"{amount(errors['p05'], scale)}, {amount(errors['p95'], scale)} and "
                       f"{amount(errors['ES 5%'], scale)} {unit} (summarize's *_mcse "
                       "columns give each).")
    if not keep_empty:
        notes += _omitted(table)
    no_root = {c: share for c, share in table.attrs.get("irr_no_root_share", {}).items()
               if share}
    notes += [line for contract, share in no_root.items() for line in _wrap(
        f"{contract}: the investor IRR has no root in {percent(share)} of the draws with "
        "money drawn (left out of the IRR quantiles).")]
    return ["", *notes] if notes else []


def _unit_of(currency: str, scale: float) -> str:
    """The unit of amounts divided by ``scale``, in ``currency``."""
    return next((money_unit(d, currency) for d, _ in SCALES if d == scale),
                f"{currency} / {scale:g}")


def _run(draws: int | None, seed: int | None) -> str:
    """The header's ``" (N draws, seed S)"``, or as much of it as is known."""
    known = [f"{draws} draws" if draws is not None else None,
             f"seed {seed}" if seed is not None else None]
    known = [part for part in known if part]
    return f" ({', '.join(known)})" if known else ""


def format_tornado(table: pd.DataFrame, *, contract: str, party: str,
                   quantiles: tuple[float, float] = (0.1, 0.9), npv_base: float | None = None,
                   draws: int | None = None, seed: int | None = None, scale: float = 1_000.0,
                   unit: str | None = None, currency: str = DEFAULT_CURRENCY) -> str:
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
    unit : str, optional, keyword-only
        Name of the unit after scaling (default: from ``scale`` and ``currency``,
        "thousand DKK").
    currency : str, keyword-only, default "DKK"
        The currency of the scenario the analysis was run on.

    Returns
    -------
    str
        A few header lines, then one line per parameter, named by the table's ``label``
        column (:func:`sibsim.labels.parameter_label`; its key path where the table has
        none), wrapped to keep within 80 columns.

    Examples
    --------
    >>> table = sibsim.tornado("danish-pilot", "narrow", "municipality",
    ...                        draws=200)                                 # doctest: +SKIP
    >>> print(format_tornado(table, contract="narrow", party="municipality",
    ...                      npv_base=table.attrs["npv_base"]))          # doctest: +SKIP
    """
    q_low, q_high = quantiles
    unit = unit or _unit_of(currency, scale)
    run = _run(draws, seed).strip(" ()")
    lines = [
        *_wrap(f"Tornado: mean npv of {party} under {contract!r}, in {unit}."),
        *_wrap((f"{capitalize(run)}. " if run else "")
               + f"Each uncertain parameter at its {q_low:.0%} and {q_high:.0%} quantile, every "
               "other at its median (participants stay random, common random numbers)."),
    ]
    if npv_base is not None:
        lines.append(f"With every parameter at its median: {amount(npv_base, scale)}.")
    lines.append("")
    if table.empty:
        return "\n".join(lines + ["The scenario has no uncertain per-draw parameter."]) + "\n"
    columns = [("parameter", "<"), ("low value", ">"), ("high value", ">"), ("npv low", ">"),
               ("npv high", ">"), ("swing", ">")]
    names = _parameter_names(table)
    cells = [[number(r.low_value), number(r.high_value), amount(r.npv_low, scale),
              amount(r.npv_high, scale), amount(r.swing, scale)]
             for r in table.itertuples(index=False)]
    return "\n".join(lines + render(columns, wrap_first_column(columns, names, cells))) + "\n"


def _parameter_names(table: pd.DataFrame) -> list[str]:
    """The parameters of an analysis table in words: its ``label`` column, else key paths."""
    column = "label" if "label" in table.columns else "param"
    return [str(name) for name in table[column]]


def wrap_first_column(columns: Sequence[Column], first: Sequence[str],
                      rest: Sequence[Sequence[str]], *, width: int = WIDTH,
                      least: int = 24) -> list[list[str]]:
    """Rows whose first cell (a label) is wrapped so that the table fits ``width`` columns.

    Parameters
    ----------
    columns : sequence of (str, str) or (str, str, int)
        The table's columns, as for :func:`render`, the first one for the labels.
    first : sequence of str
        The first cell of each row.
    rest : sequence of sequence of str
        The other cells of each row.
    width : int, keyword-only, default :data:`WIDTH`
        The width the table keeps within.
    least : int, keyword-only, default 24
        The narrowest the first column is made (a table of very wide numbers may then be
        wider than ``width``).

    Returns
    -------
    list of list of str
        The cells for :func:`render`: a long label goes on over the next lines, whose other
        cells are empty.

    Examples
    --------
    >>> rows = wrap_first_column([("parameter", "<"), ("swing", ">")],
    ...                          ["Monthly chance benefits -> employed"], [["12"]], width=30)
    >>> print("\\n".join(render([("parameter", "<"), ("swing", ">")], rows)))
    parameter                swing
    ------------------------------
    Monthly chance benefits     12
      -> employed
    """
    others = [max([len(column[0])] + [len(row[i]) for row in rest])
              + (column[2] if len(column) > 2 else 2)
              for i, column in enumerate(columns[1:])]
    room = max(least, width - sum(others), len(columns[0][0]))
    cells: list[list[str]] = []
    for text, row in zip(first, rest):
        lines = textwrap.wrap(text, room, subsequent_indent="  ", break_on_hyphens=False) \
            or [""]
        cells.append([lines[0], *row])
        cells += [[line] + [""] * len(row) for line in lines[1:]]
    return cells


def format_corridor(table: pd.DataFrame, *, contract: str, param: str, payer: str,
                    counterparty: str, max_prob_loss: float, draws: int | None = None,
                    seed: int | None = None, scale: float = 1_000.0,
                    unit: str | None = None, currency: str = DEFAULT_CURRENCY,
                    label: str | None = None) -> str:
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
    unit : str, optional, keyword-only
        Name of the unit after scaling (default: from ``scale`` and ``currency``,
        "thousand DKK").
    currency : str, keyword-only, default "DKK"
        The currency of the scenario the analysis was run on.
    label : str, optional, keyword-only
        The price in words, named in the header before its key path (default: the table's
        ``label`` column, :func:`sibsim.labels.parameter_label`).

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
    unit = unit or _unit_of(currency, scale)
    if label is None:
        label = str(table["label"].iloc[0]) if "label" in table.columns and len(table) else None
    price = param if label is None or label == param else f"{label} ({param})"
    lines = [
        *_wrap(f"Price corridor of {contract!r} over {price}: payer {payer}, counterparty "
               f"{counterparty}{_run(draws, seed)}."),
        *_wrap("P(loss): share of draws with npv < 0; a value is acceptable when both are at "
               f"most {percent(max_prob_loss)}. Mean npv in {unit}."),
        "",
    ]
    columns = [("value", ">"), (payer, ">"), (counterparty, ">"), (payer, ">"),
               (counterparty, ">"), ("acceptable", "<")]
    cells = [[number(r.value), percent(r.payer_prob_loss), percent(r.counterparty_prob_loss),
              amount(r.payer_mean, scale), amount(r.counterparty_mean, scale),
              "yes" if r.acceptable else "no"] for r in table.itertuples(index=False)]
    lines += render(columns, cells, spans=[(1, 2, "P(loss)"), (3, 4, "mean npv")])
    accepted = [number(v) for v, ok in zip(table["value"], table["acceptable"]) if ok]
    lines.append("")
    if accepted:
        lines.append(f"Acceptable to both: {', '.join(accepted)}.")
    else:
        lines.append("No value tried is acceptable to both sides.")
    return "\n".join(lines) + "\n"
