"""Plots of a finished result: one function per plot, results in, figure out.

Every function takes the Dataset returned by :func:`sibsim.simulate` (its variables are
declared in :mod:`sibsim.results.schema`, which checks what each plot reads) and an optional
matplotlib ``ax``; it draws on that axes (or on a new figure when none is given) and
returns the :class:`matplotlib.figure.Figure`. No function re-runs a simulation, and none
touches pyplot's global state: new figures are plain :class:`~matplotlib.figure.Figure`
objects, so the module works with the Agg backend, in scripts, tests and notebooks alike
(in a notebook, display the returned figure). The statistics shown are those of
:mod:`sibsim.analysis.statistics`. The two analysis plots (:func:`corridor`,
:func:`tornado`) take the analysis's table and, as keyword arguments, the settings it was
run with.

Amounts are in DKK; axes are labelled in DKK, thousand DKK or million DKK, whichever suits
the largest value shown. See ``docs/plots.rst`` for how to read each plot.

Example
-------
>>> import sibsim
>>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
>>> fig = sibsim.plot.net_position(result, party="municipality")
>>> fig.savefig("net_position.png")                      # doctest: +SKIP
>>> paths = sibsim.plot.save_all(result, "plots")      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sibsim.analysis import statistics
from sibsim.results import (
    TIME_DIMS,
    labels,
    require,
    require_label,
    require_labels,
    to_numpy,
)

__all__ = [
    "employment",
    "net_position",
    "investor_irr",
    "risk_return",
    "savings_by_payer",
    "save_all",
    "corridor",
    "tornado",
]

#: File names written by :func:`save_all`, in order.
PLOT_FILES = (
    "employment.png",
    "net_position.png",
    "investor_irr.png",
    "risk_return.png",
    "savings.png",
)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure to return and the axes to draw on (a new pyplot-free figure if ``ax`` is None)."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    fig = ax.figure
    # An axes inside a SubFigure: return the top-level Figure, which is what can be saved.
    while not isinstance(fig, Figure) and getattr(fig, "figure", None) is not None:
        if fig.figure is fig:
            break
        fig = fig.figure
    return fig, ax


def _money_scale(values: np.ndarray) -> tuple[float, str]:
    """Divisor and unit label for amounts in DKK, from the largest absolute finite value."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    if top >= 1e6:
        return 1e6, "million DKK"
    if top >= 1e3:
        return 1e3, "thousand DKK"
    return 1.0, "DKK"


def _time_dim(da: xr.DataArray) -> str:
    """The time dimension of a variable already checked against the schema."""
    return next(dim for dim in TIME_DIMS if dim in da.dims)


def _finite(values: np.ndarray) -> np.ndarray:
    """The values with every non-finite one made NaN, which the statistics leave out."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


# ---------------------------------------------------------------------------------------------
# plots
# ---------------------------------------------------------------------------------------------


def employment(
    result: xr.Dataset,
    *,
    state: str = "employed",
    arms: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Share of enrolled participants in one state over time, per arm.

    Draws, for each arm, the median over draws as a line and the 5-95% range over draws as a
    shaded band. Works for monthly results and for ``resolution="year"`` (then the x axis is
    in years and each point is the year's mean share).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``occupancy`` (draw, arm, month|year, state).
    state : str, default "employed"
        The state whose share is shown.
    arms : sequence of str, optional
        Arms to show, in this order; default every arm in the result (treatment,
        counterfactual and, where present, comparison).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one line and one band per arm.

    Raises
    ------
    ValueError
        If ``state`` or an entry of ``arms`` is not in the result.

    Examples
    --------
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = employment(result, state="employed", arms=["treatment", "counterfactual"])
    >>> fig.axes[0].get_legend_handles_labels()[1][0]
    'treatment (median)'
    """
    result = require(result, ["occupancy"], function="employment")
    occupancy = result["occupancy"]
    require_label(result, "state", state, function="employment")
    arm_list = labels(result, "arm") if arms is None else \
        require_labels(result, "arm", [str(a) for a in arms], function="employment",
                       option="arms")
    time = _time_dim(occupancy)
    fig, ax = _figure_and_axes(ax, (7.0, 4.2))
    x = np.asarray(result[time].values)
    share = occupancy.sel(state=state)
    for arm in arm_list:
        values = share.sel(arm=arm).transpose("draw", time).values
        low, median, high = statistics.quantiles(_finite(values), (0.05, 0.5, 0.95), axis=0)
        (line,) = ax.plot(x, median, label=f"{arm} (median)")
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0,
                        label=f"{arm} (5-95%)")
    ax.set_xlabel("Month from programme start" if time == "month" else "Year from programme start")
    ax.set_ylabel(f"Share of enrolled participants in '{state}'")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_ylim(bottom=0.0)
    if x.size > 1:
        ax.set_xlim(x[0], x[-1])
    ax.set_title(f"Participants in '{state}' by arm: median and 5-95% over draws")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def net_position(
    result: xr.Dataset,
    *,
    party: str = "municipality",
    ax: Axes | None = None,
) -> Figure:
    """Distribution over draws of one party's net present value under each contract.

    One box per contract: the box spans the 25-75% range, the whiskers the 5-95% range, the
    line is the median and the marker the mean. The tick label gives the probability of loss
    (share of draws with npv < 0). A dashed line marks zero.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``npv`` (draw, contract, party).
    party : str, default "municipality"
        The party whose position is shown (a payer, a contract party or ``provider``).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one box per contract.

    Raises
    ------
    ValueError
        If ``party`` is not in the result.

    Examples
    --------
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = net_position(result, party="municipality")
    >>> fig.axes[0].get_xticklabels()[0].get_text()
    'donation\\nP(loss) 0%'
    """
    result = require(result, ["npv"], function="net_position")
    npv = result["npv"]
    require_label(result, "party", party, function="net_position")
    contracts = labels(result, "contract")
    fig, ax = _figure_and_axes(ax, (1.6 * max(len(contracts), 3) + 2.0, 4.2))
    values = npv.sel(party=party).transpose("draw", "contract").values
    scale, unit = _money_scale(values)
    data, tick_labels = [], []
    for c, name in enumerate(contracts):
        column = values[:, c]
        column = column[np.isfinite(column)]
        data.append(column / scale)
        loss = f"{statistics.prob_loss(column):.0%}" if column.size else "n/a"
        tick_labels.append(f"{name}\nP(loss) {loss}")
    positions = np.arange(1, len(contracts) + 1)
    ax.boxplot(
        data,
        positions=positions,
        whis=(5, 95),
        showfliers=False,
        showmeans=True,
        widths=0.6,
        meanprops={"marker": "D", "markersize": 5},
    )
    ax.set_xticks(positions, tick_labels)
    ax.axhline(0.0, color="black", linestyle="--", linewidth=0.8)
    ax.set_ylabel(f"Net present value ({unit})")
    ax.set_xlabel("Contract")
    ax.set_title(f"Net position of the {party}: box 25-75%, whiskers 5-95%, diamond = mean")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def investor_irr(result: xr.Dataset, *, ax: Axes | None = None) -> Figure:
    """Distribution over draws of the investors' annualised IRR, per financed contract.

    Only contracts with investor tranches are shown (those whose ``investor_irr`` is not NaN
    in every draw). NaN draws (nothing drawn from the tranches) are skipped and counted in the
    legend; an IRR of -100% means nothing was returned. When no contract has tranches, the
    axes are left empty and the title says so.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``investor_irr`` (draw, contract) and,
        when present, ``investor_multiple`` for the legend.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one histogram per financed contract.

    Examples
    --------
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = investor_irr(result)
    >>> fig.axes[0].get_title()
    'Investor IRR per financed contract (annualised)'
    """
    result = require(result, ["investor_irr"], function="investor_irr",
                     optional=["investor_multiple"])
    irr = result["investor_irr"]
    fig, ax = _figure_and_axes(ax, (7.0, 4.2))
    contracts = labels(result, "contract")
    values = irr.transpose("draw", "contract").values.astype(float)
    multiple = (
        result["investor_multiple"].transpose("draw", "contract").values.astype(float)
        if "investor_multiple" in result
        else None
    )
    shown = [c for c in range(len(contracts)) if np.any(np.isfinite(values[:, c]))]
    ax.set_xlabel("Annualised investor IRR")
    ax.set_ylabel("Share of draws")
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    if not shown:
        ax.set_title("Investor IRR: no contract has investor tranches (IRR is NaN in every draw)")
        ax.text(0.5, 0.5, "no investor tranches", transform=ax.transAxes,
                ha="center", va="center", color="gray")
        return fig
    finite = values[:, shown][np.isfinite(values[:, shown])]
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-9:
        low, high = low - 0.01, high + 0.01
    bins = np.linspace(low, high, 31)
    for c in shown:
        column = values[:, c]
        ok = np.isfinite(column)
        label = f"{contracts[c]}: median {statistics.median(column[ok]):.1%}"
        if multiple is not None and np.any(np.isfinite(multiple[:, c])):
            label += f", median multiple {statistics.median(multiple[:, c]):.2f}"
        if not ok.all():
            label += f" ({np.count_nonzero(~ok)} NaN draws skipped)"
        weights = np.full(np.count_nonzero(ok), 1.0 / column.size)
        ax.hist(column[ok], bins=bins, weights=weights, histtype="step", linewidth=1.5,
                label=label)
    ax.axvline(0.0, color="black", linestyle="--", linewidth=0.8)
    ax.set_title("Investor IRR per financed contract (annualised)")
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def risk_return(result: xr.Dataset, *, ax: Axes | None = None) -> Figure:
    """Expected net present value against probability of loss, per party and contract.

    One point per (party, contract), coloured by party and labelled with the contract's name.
    Parties with a net position of exactly 0 in every draw of a contract (not involved in it)
    are left out; where a party's position is the same under several contracts (a payer that
    takes no part in them and only saves), one point carries all their names, or
    "all contracts".

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``npv`` (draw, contract, party).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one scatter series per party, one text label per point.

    Examples
    --------
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = risk_return(result)
    >>> [t.get_text() for t in fig.axes[0].texts][:2]   # contract names beside the points
    ['donation', 'narrow']
    """
    result = require(result, ["npv"], function="risk_return")
    npv = result["npv"]
    fig, ax = _figure_and_axes(ax, (7.5, 5.0))
    contracts = labels(result, "contract")
    parties = labels(result, "party")
    values = npv.transpose("draw", "contract", "party").values.astype(float)
    points: dict[str, list[tuple[float, float, str]]] = {}
    for p, party in enumerate(parties):
        for c, contract in enumerate(contracts):
            column = values[:, c, p]
            column = column[np.isfinite(column)]
            if column.size == 0 or np.all(column == 0.0):
                continue
            points.setdefault(party, []).append(
                (statistics.prob_loss(column), statistics.mean(column), contract)
            )
    scale, unit = _money_scale(np.array([y for pts in points.values() for _, y, _ in pts]))
    for party, pts in points.items():
        # A party outside every contract (a payer that only saves) has the same position under
        # each: one point, labelled with every contract's name (or "all contracts").
        merged: list[tuple[float, float, list[str]]] = []
        for x, y, name in pts:
            for mx, my, names in merged:
                if x == mx and np.isclose(y, my, rtol=1e-9, atol=1e-6):
                    names.append(name)
                    break
            else:
                merged.append((x, y, [name]))
        xs = [x for x, _, _ in merged]
        ys = [y / scale for _, y, _ in merged]
        ax.scatter(xs, ys, label=party, s=40, zorder=3)
        for x, y, (_, _, names) in zip(xs, ys, merged):
            text = "all contracts" if len(names) == len(contracts) > 1 else ", ".join(names)
            ax.annotate(text, (x, y), textcoords="offset points", xytext=(5, 4),
                        fontsize="small")
    ax.axhline(0.0, color="black", linestyle="--", linewidth=0.8)
    ax.set_xlim(-0.05, 1.05)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel("Probability of loss (share of draws with npv < 0)")
    ax.set_ylabel(f"Expected net present value ({unit})")
    ax.set_title("Risk and return of each party under each contract")
    if ax.collections:
        ax.legend(title="party", loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def savings_by_payer(result: xr.Dataset, *, ax: Axes | None = None) -> Figure:
    """Mean discounted savings of the whole cohort by payer, stacked by category.

    Positive savings (the payer spends less with the programme) stack upwards from zero and
    negative ones downwards; a black marker shows each payer's net total. Taxes are negative
    costs, so more tax collected shows as a positive saving. The programme's own cost is not
    included (it is in ``npv``).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``savings_npv`` (draw, payer, category).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one bar series per category, one bar per payer.

    Examples
    --------
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = savings_by_payer(result)
    >>> fig.axes[0].get_legend().get_title().get_text()
    'category'
    """
    result = require(result, ["savings_npv"], function="savings_by_payer")
    fig, ax = _figure_and_axes(ax, (7.0, 4.5))
    payers = labels(result, "payer")
    categories = labels(result, "category")
    # A payer and category without any finite draw shows as a bar of 0.
    mean = np.nan_to_num(statistics.mean(_finite(to_numpy(result, "savings_npv")), axis=0),
                         nan=0.0)
    total = mean.sum(axis=1)
    scale, unit = _money_scale(np.concatenate([np.clip(mean, 0, None).sum(1),
                                               np.clip(mean, None, 0).sum(1)]))
    x = np.arange(len(payers))
    up = np.zeros(len(payers))
    down = np.zeros(len(payers))
    for k, category in enumerate(categories):
        column = mean[:, k] / scale
        bottom = np.where(column >= 0, up, down)
        ax.bar(x, column, bottom=bottom, width=0.6, label=category)
        up += np.clip(column, 0, None)
        down += np.clip(column, None, 0)
    ax.plot(x, total / scale, linestyle="none", marker="D", color="black", label="net total")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(x, payers)
    ax.set_xlabel("Payer")
    ax.set_ylabel(f"Mean discounted savings ({unit})")
    ax.set_title("Who saves what: mean discounted savings of the cohort by payer")
    ax.legend(title="category", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def save_all(result: xr.Dataset, out_dir: str | Path) -> list[Path]:
    """Write the five demo plots of a result as PNG files.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`.
    out_dir : str or pathlib.Path
        Folder to write into; created (with its parents) if missing.

    Returns
    -------
    list of pathlib.Path
        The files written, in this order: employment.png, net_position.png (the
        municipality's position, or the first party's when there is no municipality),
        investor_irr.png, risk_return.png, savings.png.

    Examples
    --------
    >>> import tempfile
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = save_all(result, folder)
    >>> [p.name for p in paths]
    ['employment.png', 'net_position.png', 'investor_irr.png', 'risk_return.png', 'savings.png']
    """
    # Check everything the five plots read before the first file is written.
    result = require(result, ["occupancy", "npv", "investor_irr", "savings_npv"],
                     function="save_all", optional=["investor_multiple"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parties = labels(result, "party")
    party = "municipality" if "municipality" in parties or not parties else parties[0]
    makers = (
        employment,
        lambda r: net_position(r, party=party),
        investor_irr,
        risk_return,
        savings_by_payer,
    )
    paths = []
    for maker, filename in zip(makers, PLOT_FILES):
        fig = maker(result)
        path = out / filename
        fig.savefig(path, dpi=120)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------------
# analysis plots (tables from sibsim.analysis in, figure out)
# ---------------------------------------------------------------------------------------------


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
             contract: str | None = None, ax: Axes | None = None) -> Figure:
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
        The key path of the price, for the x axis (default "value").
    contract : str, optional, keyword-only
        The contract, for the title.
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
    fig, ax = _figure_and_axes(ax, (7.0, 4.2))
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
    ax.set_xlabel(param if param is not None else "value")
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
        npv_high, swing).
    contract, party : str, optional, keyword-only
        The contract and the party, for the title and the x axis.
    quantiles : (float, float), optional, keyword-only
        The low and high quantile, for the legend.
    npv_base : float, optional, keyword-only
        The mean npv with every parameter at its median (``table.attrs["npv_base"]``).
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
    fig, ax = _figure_and_axes(ax, (8.0, 1.0 + 0.45 * max(len(rows), 2)))
    low = np.asarray(rows["npv_low"], dtype=float)
    high = np.asarray(rows["npv_high"], dtype=float)
    scale, unit = _money_scale(np.concatenate([low, high, [npv_base] if npv_base is not None
                                               else []]))
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
    tick_labels = [f"{p}\n({_short(lo)} to {_short(hi)})" for p, lo, hi in
                   zip(rows["param"], rows["low_value"], rows["high_value"])]
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


def _short(value) -> str:
    """A number in three significant digits, for labels."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number:,.0f}" if abs(number) >= 1000 else f"{number:.3g}"
