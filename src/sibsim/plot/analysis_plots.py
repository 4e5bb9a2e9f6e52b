"""The plots of three analyses: the price corridor, the tornado and the convergence of the
statistics as draws grow. Table in, figure out.

Each takes the DataFrame of :func:`sibsim.price_corridor`, :func:`sibsim.tornado` or
:func:`sibsim.convergence` and, as keyword arguments, the settings that analysis was run
with, which the plot shows in its legend, axis labels and title (the table carries only its
columns). See ``docs/analysis.rst``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, PercentFormatter

from sibsim.labels import parameter_label, parameter_labels
from sibsim.plot.figure import figure_and_axes, money_scale
from sibsim.results import DEFAULT_CURRENCY

__all__ = ["convergence", "corridor", "tornado"]

#: What each statistic of :func:`sibsim.convergence` is, for the plot's axis.
_STATISTIC_WORDS = {
    "mean": "mean npv",
    "prob_loss": "P(loss): share of draws with npv < 0",
    "prob_nominal_loss": "P(nominal loss): share of draws with net < 0",
    "p05": "5% quantile of the npv",
    "p50": "median npv",
    "p95": "95% quantile of the npv",
    "expected_shortfall_05": "ES 5%: mean npv of the worst 5% of draws",
}


def _require_columns(table: Any, columns: Sequence[str], maker: str, function: str) -> None:
    """The analysis tables are DataFrames, not results: their columns are checked here."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{function}: table: expected the pandas.DataFrame returned by "
                        f"sibsim.{maker}, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{function}: table has no column(s) {missing} (columns: "
                         f"{list(table.columns)}); pass the DataFrame returned by "
                         f"sibsim.{maker}")


def _shade_runs(ax: Axes, x: np.ndarray, ok: np.ndarray) -> None:
    """Shade each run of acceptable values, out to half-way to its neighbours."""
    first = True
    i = 0
    while i < x.size:
        if not ok[i]:
            i += 1
            continue
        j = i
        while j + 1 < x.size and ok[j + 1]:
            j += 1
        left = x[i] if i == 0 else 0.5 * (x[i - 1] + x[i])
        right = x[j] if j == x.size - 1 else 0.5 * (x[j] + x[j + 1])
        if right == left:  # a single value at an end: a visible sliver
            width = 0.01 * (np.ptp(x) or 1.0)
            left, right = left - width, right + width
        ax.axvspan(left, right, color="tab:green", alpha=0.15,
                   label="acceptable to both" if first else None)
        first = False
        i = j + 1


def corridor(table: pd.DataFrame, *, payer: str = "payer", counterparty: str = "counterparty",
             max_prob_loss: float | None = None, param: str | None = None,
             contract: str | None = None, label: str | None = None,
             scenario: Any = None, lang: str = "en", ax: Axes | None = None) -> Figure:
    """Both sides' probability of loss against the price, the acceptable band shaded.

    One line per side (payer and counterparty) of the probability of loss at each value
    tried; a dashed line at ``max_prob_loss``; the values where both sides are at or below it
    (``acceptable``) are shaded, each run of acceptable values out to half-way to its
    neighbours. The settings :func:`sibsim.price_corridor` was run with are passed here as
    keyword arguments and shown in the legend, the axis label and the title.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`sibsim.price_corridor` (columns value, payer_prob_loss,
        counterparty_prob_loss, acceptable). Values that are not numbers (distributions)
        are placed evenly and labelled.
    payer, counterparty : str, keyword-only
        The two sides' names, for the legend.
    max_prob_loss : float, optional, keyword-only
        The largest probability of loss either side accepts: a dashed line when given.
    param : str, optional, keyword-only
        The key path of the price, for the x axis when there is no label (default "value").
    contract : str, optional, keyword-only
        The contract, for the title.
    label : str, optional, keyword-only
        The price in words, for the x axis (default: the table's ``label`` column,
        :func:`sibsim.labels.parameter_label`, else ``param``).
    scenario : Scenario, dict, str or path, optional, keyword-only
        With ``param``: the scenario the corridor was run on, to derive the label in
        ``lang`` (it takes the place of the table's ``label`` column).
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the label derived from ``scenario``.
    ax : matplotlib.axes.Axes, optional, keyword-only
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: two lines, one shaded span per run of acceptable values.

    Examples
    --------
    >>> table = pd.DataFrame({"value": [2e4, 4e4, 6e4], "payer_prob_loss": [0.0, 0.1, 0.4],
    ...                       "counterparty_prob_loss": [0.9, 0.15, 0.0],
    ...                       "payer_mean": [3e6, 2e6, 1e6], "counterparty_mean": [-1e6, 0, 1e6],
    ...                       "acceptable": [False, True, False]})
    >>> fig = corridor(table, payer="municipality", counterparty="provider", max_prob_loss=0.2,
    ...                param="contracts[1].outcomes[0].price", contract="narrow")
    >>> fig.axes[0].get_title()
    "Price corridor of contract 'narrow'\\nboth sides' probability of loss"
    """
    _require_columns(table, ("value", "payer_prob_loss", "counterparty_prob_loss", "acceptable"),
                     "price_corridor", "corridor")
    fig, ax = figure_and_axes(ax, (7.0, 4.2))
    raw = table["value"].to_numpy()
    try:
        x = np.asarray(raw, dtype=float)
        numeric = True
    except (TypeError, ValueError):
        x = np.arange(len(raw), dtype=float)
        numeric = False
    order = np.argsort(x, kind="stable")
    x = x[order]
    ax.plot(x, np.asarray(table["payer_prob_loss"], dtype=float)[order], marker="o",
            label=f"{payer} (payer)")
    ax.plot(x, np.asarray(table["counterparty_prob_loss"], dtype=float)[order], marker="s",
            label=f"{counterparty} (counterparty)")
    if max_prob_loss is not None:
        ax.axhline(float(max_prob_loss), color="black", linestyle="--", linewidth=0.8,
                   label=f"max P(loss) {float(max_prob_loss):.0%}")
    _shade_runs(ax, x, np.asarray(table["acceptable"], dtype=bool)[order])
    if not numeric:
        ax.set_xticks(x, [str(v) for v in raw[order]], rotation=20, ha="right",
                      fontsize="small")
    if label is None and scenario is not None and param is not None:
        label = parameter_label(scenario, param, lang)
    if label is None and "label" in table.columns and len(table):
        label = str(table["label"].iloc[0])
    ax.set_xlabel(label if label is not None else param if param is not None else "value")
    ax.set_ylabel("Probability of loss (share of draws with npv < 0)")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Price corridor" + (f" of contract '{contract}'" if contract else "")
                 + "\nboth sides' probability of loss", fontsize="medium")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def tornado(table: pd.DataFrame, *, contract: str | None = None, party: str | None = None,
            quantiles: tuple[float, float] | None = None, npv_base: float | None = None,
            currency: str = DEFAULT_CURRENCY, scenario: Any = None, lang: str = "en",
            ax: Axes | None = None) -> Figure:
    """Swing of a party's mean npv over each uncertain parameter, largest on top.

    One row per parameter: a bar from ``npv_base`` (the mean npv with every parameter at
    its median, a vertical line) to the mean npv with the parameter at its low quantile,
    and one to the mean npv at its high quantile, in two colours. The tick label names the
    parameter and its low and high value. Without ``npv_base`` the bars run from npv_low
    to npv_high. The settings :func:`sibsim.tornado` was run with are passed here as keyword
    arguments and shown in the legend, the axis label and the title.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`sibsim.tornado` (columns param, low_value, high_value, npv_low,
        npv_high, swing). Each row is named by its ``label`` column (the parameter in words,
        :func:`sibsim.labels.parameter_label`), or by its key path in a table without one.
    contract, party : str, optional, keyword-only
        The contract and the party, for the title and the x axis.
    quantiles : (float, float), optional, keyword-only
        The low and high quantile, for the legend.
    npv_base : float, optional, keyword-only
        The mean npv with every parameter at its median (``table.attrs["npv_base"]``).
    currency : str, keyword-only, default "DKK"
        The currency of the scenario the tornado was run on, for the axis.
    scenario : Scenario, dict, str or path, optional, keyword-only
        The scenario the tornado was run on: the rows are then named by labels derived in
        ``lang`` (:func:`sibsim.labels.parameter_labels`) instead of the ``label`` column.
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the labels derived from ``scenario``.
    ax : matplotlib.axes.Axes, optional, keyword-only
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: two bar series (low and high quantile), one row each.

    Examples
    --------
    >>> table = pd.DataFrame({"param": ["transitions[0].effect.ratio", "flows[0].monthly"],
    ...                       "low_value": [1.2, 9000.0], "high_value": [2.8, 11000.0],
    ...                       "npv_low": [-2e6, 5e5], "npv_high": [3e6, 1.5e6],
    ...                       "swing": [5e6, 1e6]})
    >>> fig = tornado(table, contract="narrow", party="municipality", quantiles=(0.1, 0.9),
    ...               npv_base=1e6)
    >>> fig.axes[0].get_xlabel()
    'Mean npv of municipality (million DKK)'
    """
    _require_columns(table, ("param", "low_value", "high_value", "npv_low", "npv_high", "swing"),
                     "tornado", "tornado")
    rows = table.sort_values("swing", ascending=True, kind="stable")
    fig, ax = figure_and_axes(ax, (9.0, 1.0 + 0.6 * max(len(rows), 2)))
    low = np.asarray(rows["npv_low"], dtype=float)
    high = np.asarray(rows["npv_high"], dtype=float)
    scale, unit = money_scale(np.concatenate([low, high, [npv_base] if npv_base is not None
                                               else []]), currency)
    y = np.arange(len(rows))
    q_low, q_high = quantiles if quantiles is not None else (None, None)
    low_label = f"at the {q_low:.0%} quantile" if q_low is not None else "at the low quantile"
    high_label = f"at the {q_high:.0%} quantile" if q_high is not None else "at the high quantile"
    if npv_base is not None:
        b = float(npv_base) / scale
        ax.barh(y, low / scale - b, left=b, height=0.6, color="tab:blue",
                label=f"parameter {low_label}")
        ax.barh(y, high / scale - b, left=b, height=0.6, color="tab:orange", alpha=0.8,
                label=f"parameter {high_label}")
        ax.axvline(b, color="black", linewidth=0.8, label="every parameter at its median")
    else:
        ax.barh(y, (high - low) / scale, left=low / scale, height=0.6, color="tab:blue",
                label="from the low to the high quantile")
    if scenario is not None:
        names = parameter_labels(scenario, [str(p) for p in rows["param"]], lang)
    else:
        names = rows["label"] if "label" in rows.columns else rows["param"]
    tick_labels = [f"{_wrapped(name)}\n({_short(lo)} to {_short(hi)})" for name, lo, hi in
                   zip(names, rows["low_value"], rows["high_value"])]
    ax.set_yticks(y, tick_labels, fontsize="small")
    who = party if party is not None else "the party"
    ax.set_xlabel(f"Mean npv of {who} ({unit})")
    ax.set_title("What drives the result: one parameter at a time"
                 + (f"\ncontract '{contract}', {who}" if contract else ""),
                 fontsize="medium")
    if len(rows):
        ax.legend(loc="lower right", fontsize="small")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def _wrapped(text: object, width: int = 38) -> str:
    """A long label over several lines, for a tick label."""
    return "\n".join(textwrap.wrap(str(text), width, break_on_hyphens=False)) or str(text)


def _short(value) -> str:
    """A number in three significant digits, for labels."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.0f}" if abs(number) >= 1000 else f"{number:.3g}"


def _one(table: pd.DataFrame, column: str, value: Any) -> pd.DataFrame:
    """The rows of one contract (or party): the one asked for, or the only one there is."""
    known = list(dict.fromkeys(table[column]))
    if value is None:
        if len(known) != 1:
            raise ValueError(f"convergence: {column}: the table has several ({known}); name "
                             f"one, e.g. {column}={known[0]!r}")
        return table
    if value not in known:
        raise ValueError(f"convergence: {column}: got {value!r}, expected one of {known}")
    return table[table[column] == value]


def convergence(table: pd.DataFrame, *, contract: str | None = None,
                party: str | None = None, statistic: str | None = None,
                ax: Axes | None = None) -> Figure:
    """How statistics settle as the draws grow: the value and a band of two standard errors.

    One panel per statistic of the table (or the one named): the statistic of the first k
    draws against k (log scale), a band of +-2 Monte Carlo standard errors around it, and
    a dashed line at its value with all the draws. Where later values stay inside the
    early bands, the statistic has settled; the band narrows as 1 / sqrt(k).

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`sibsim.convergence`.
    contract, party : str, optional, keyword-only
        The contract and party shown; may be left out when the table has only one.
    statistic : str, optional, keyword-only
        Only this statistic (required with ``ax``, which holds one panel).
    ax : matplotlib.axes.Axes, optional
        Axes to draw one statistic on; a new figure with a panel per statistic when
        omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=100, seed=1, progress=False)
    >>> table = sibsim.convergence(result, contract="sib", party="investor", steps=3)
    >>> len(convergence(table).axes)
    4
    """
    _require_columns(table, ["contract", "party", "statistic", "draws", "value", "mcse"],
                     "convergence", "convergence")
    rows = _one(_one(table, "contract", contract), "party", party)
    if statistic is not None:
        rows = _one(rows, "statistic", statistic)
    names = list(dict.fromkeys(rows["statistic"]))
    if not names:
        raise ValueError("convergence: table: no rows to plot")
    if ax is not None and len(names) > 1:
        raise ValueError(f"convergence: statistic: with ax, name one of {names}")
    if ax is None:
        columns = min(2, len(names))
        fig = Figure(figsize=(5.5 * columns, 3.6 * -(-len(names) // columns)),
                     layout="constrained")
        axes = [fig.add_subplot(-(-len(names) // columns), columns, i + 1)
                for i in range(len(names))]
    else:
        fig, ax = figure_and_axes(ax, (5.5, 3.6))
        axes = [ax]
    who = f"{rows['party'].iloc[0]} under {rows['contract'].iloc[0]!r}"
    currency = table.attrs.get("currency", DEFAULT_CURRENCY)
    for name, panel in zip(names, axes):
        _convergence_panel(panel, rows[rows["statistic"] == name], name, currency)
        panel.set_title(f"{name} of {who}", fontsize="medium")
    return fig


def _convergence_panel(ax: Axes, rows: pd.DataFrame, name: str, currency: str) -> None:
    x = rows["draws"].to_numpy(dtype=float)
    value = rows["value"].to_numpy(dtype=float)
    band = 2.0 * rows["mcse"].to_numpy(dtype=float)
    share = name.startswith("prob_")
    scale, unit = (1.0, "") if share else money_scale(np.concatenate([value - band,
                                                                      value + band]), currency)
    (line,) = ax.plot(x, value / scale, marker="o", markersize=3, label="estimate")
    ax.fill_between(x, (value - band) / scale, (value + band) / scale, color=line.get_color(),
                    alpha=0.2, linewidth=0, label="+-2 Monte Carlo standard errors")
    ax.axhline(value[-1] / scale, color="black", linestyle="--", linewidth=0.8,
               label=f"with all {int(x[-1]):,} draws")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("Draws used (the first k of the run)")
    words = _STATISTIC_WORDS.get(name, name)
    ax.set_ylabel(words if share else f"{words} ({unit})", fontsize="small")
    if share:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.legend(loc="best", fontsize="x-small")
    ax.grid(True, alpha=0.3)
