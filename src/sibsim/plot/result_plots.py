"""The plots of a finished result (those of ``sibsim demo``): result in, figure out.

The net positions are in :mod:`sibsim.plot.positions`. Each function checks the variables it reads against :mod:`sibsim.results.schema`, computes
what it shows with :mod:`sibsim.analysis.statistics`, and draws on the given ``ax`` or a new
figure. See ``docs/plots.rst`` for how to read each plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sibsim.analysis import statistics
from sibsim.labels import (
    category_label,
    check_language,
    contract_label,
    party_label,
)
from sibsim.labels.words import state_in_text
from sibsim.plot.figure import discounting, figure_and_axes, money_scale, place_labels
from sibsim.plot.positions import net_positions, risk_parties, roles_of
from sibsim.plot.words import arm_name, number, plot_phrase, unit_words
from sibsim.results import (
    TIME_DIMS,
    currency,
    labels,
    require,
    require_label,
    require_labels,
    to_numpy,
)

__all__ = ["PLOT_FILES", "SavedPlots", "employment", "investor_irr", "risk_return",
           "save_all", "savings_by_payer"]

#: File names written by :func:`save_all`, in order.
PLOT_FILES = (
    "employment.png",
    "net_position.png",
    "investor_irr.png",
    "risk_return.png",
    "savings.png",
)


def _time_dim(da: xr.DataArray) -> str:
    """The time dimension of a variable already checked against the schema."""
    return next(dim for dim in TIME_DIMS if dim in da.dims)

def _finite(values: np.ndarray) -> np.ndarray:
    """The values with every non-finite one made NaN, which the statistics leave out."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.nan)



def employment(
    result: xr.Dataset,
    *,
    state: str = "employed",
    arms: Sequence[str] | None = None,
    lang: str = "en",
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
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the axes, title and legend (:mod:`sibsim.plot.words`; the names
        of :mod:`sibsim.labels` in Danish).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one line and one band per arm.

    Raises
    ------
    ValueError
        If ``state`` or an entry of ``arms`` is not in the result, or ``lang`` is not
        "en" or "da".

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = employment(result, state="employed", arms=["treatment", "counterfactual"])
    >>> fig.axes[0].get_legend_handles_labels()[1][0]
    'treatment (median)'
    """
    check_language(lang)
    result = require(result, ["occupancy"], function="employment")
    occupancy = result["occupancy"]
    require_label(result, "state", state, function="employment")
    arm_list = labels(result, "arm") if arms is None else \
        require_labels(result, "arm", [str(a) for a in arms], function="employment",
                       option="arms")
    time = _time_dim(occupancy)
    fig, ax = figure_and_axes(ax, (7.0, 4.2))
    x = np.asarray(result[time].values)
    share = occupancy.sel(state=state)
    for arm in arm_list:
        values = share.sel(arm=arm).transpose("draw", time).values
        low, median, high = statistics.quantiles(_finite(values), (0.05, 0.5, 0.95), axis=0)
        name = arm_name(arm, lang)
        (line,) = ax.plot(x, median, label=plot_phrase("median_band", lang, arm=name))
        ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0,
                        label=plot_phrase("range_band", lang, arm=name))
    ax.set_xlabel(plot_phrase("month_axis" if time == "month" else "year_axis", lang))
    shown = state if lang == "en" else state_in_text(state, lang, alone=True)
    ax.set_ylabel(plot_phrase("share_axis", lang, state=shown))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_ylim(bottom=0.0)
    if x.size > 1:
        ax.set_xlim(x[0], x[-1])
    ax.set_title(plot_phrase("share_title", lang, state=shown))
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def investor_irr(result: xr.Dataset, *, lang: str = "en", ax: Axes | None = None) -> Figure:
    """Distribution over draws of the investors' annualised IRR, per financed contract.

    Only contracts with investor tranches are shown (those whose ``investor_irr`` is not NaN
    in every draw). NaN draws (nothing drawn from the tranches) are skipped and counted in the
    legend; an IRR of -100% means nothing was returned. Draws with an IRR of exactly 0 (the
    money drawn came back exactly, as when a guarantee tops up the principal) are a bar of
    their own at 0, with their share in the legend. When no contract has tranches, the axes
    are left empty and the title says so.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``investor_irr`` (draw, contract) and,
        when present, ``investor_multiple`` for the legend.
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the axes, title and legend (:mod:`sibsim.plot.words`; the names
        of :mod:`sibsim.labels` in Danish).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one histogram per financed contract.

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = investor_irr(result)
    >>> fig.axes[0].get_title()
    'Investor IRR per financed contract (annualised)'
    """
    check_language(lang)
    result = require(result, ["investor_irr"], function="investor_irr",
                     optional=["investor_multiple"])
    irr = result["investor_irr"]
    fig, ax = figure_and_axes(ax, (7.0, 4.2))
    contracts = [c if lang == "en" else contract_label(result, c, lang)
                 for c in labels(result, "contract")]
    values = irr.transpose("draw", "contract").values.astype(float)
    multiple = (
        result["investor_multiple"].transpose("draw", "contract").values.astype(float)
        if "investor_multiple" in result
        else None
    )
    shown = [c for c in range(len(contracts)) if np.any(np.isfinite(values[:, c]))]
    ax.set_xlabel(plot_phrase("irr_axis", lang))
    ax.set_ylabel(plot_phrase("draw_share", lang))
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    if not shown:
        ax.set_title(plot_phrase("irr_none_title", lang))
        ax.text(0.5, 0.5, plot_phrase("irr_none", lang), transform=ax.transAxes,
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
        label = _irr_label(contracts[c], column, None if multiple is None else multiple[:, c],
                           lang)
        # Draws whose money came back exactly (IRR exactly 0) are a bar of their own at 0:
        # in a bin of the histogram they would look like a small gain or a small loss.
        zero = ok & (column == 0.0)
        rest = ok & ~zero
        weights = np.full(np.count_nonzero(rest), 1.0 / column.size)
        _, _, (patch, *_) = ax.hist(column[rest], bins=bins, weights=weights,
                                    histtype="step", linewidth=1.5, label=label)
        if zero.any():
            share = np.count_nonzero(zero) / column.size
            ax.plot([0.0, 0.0], [0.0, share], color=patch.get_edgecolor(), linewidth=4,
                    solid_capstyle="butt",
                    label=plot_phrase("irr_zero", lang, contract=contracts[c],
                                      share=f"{share:.0%}"))
    ax.axvline(0.0, color="black", linestyle="--", linewidth=0.8)
    ax.set_title(plot_phrase("irr_title", lang))
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig


def risk_return(result: xr.Dataset, *, lang: str = "en", ax: Axes | None = None) -> Figure:
    """Expected net present value against probability of loss, per party and contract.

    One point per (party, contract), coloured by party and labelled with the contract's name.
    Parties with a net position of exactly 0 in every draw of a contract (not involved in it)
    are left out; where a party's position is the same under several contracts (a payer that
    takes no part in them and only saves), one point carries all their names, or
    "all contracts". A donor's point (it gives money by design, so it "loses" in every draw)
    is labelled "(gift)". Labels are moved apart so that none overlaps another
    (:func:`sibsim.plot.figure.place_labels`).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``npv`` (draw, contract, party), and
        ``role`` when present.
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the axes, title and legend (:mod:`sibsim.plot.words`; the names
        of :mod:`sibsim.labels` in Danish).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one scatter series per party, one text label per point.

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = risk_return(result)
    >>> [t.get_text() for t in fig.axes[0].texts][:2]   # contract names beside the points
    ['donation', 'narrow']
    """
    check_language(lang)
    result = require(result, ["npv"], function="risk_return", optional=["role"])
    fig, ax = figure_and_axes(ax, (7.5, 5.0))
    points = _risk_points(result, lang)
    contracts = labels(result, "contract")
    scale, unit = money_scale(np.array([y for pts in points.values() for _, y, _ in pts]),
                              currency(result))
    annotations = []
    for party, pts in points.items():
        xs = [x for x, _, _ in pts]
        ys = [y / scale for _, y, _ in pts]
        ax.scatter(xs, ys, label=party if lang == "en" else party_label(party, lang), s=40,
                   zorder=3)
        for x, y, (_, _, names) in zip(xs, ys, pts):
            text = plot_phrase("all_contracts", lang) if len(names) == len(contracts) > 1 \
                else ", ".join(names)
            annotations.append(ax.annotate(text, (x, y), textcoords="offset points",
                                           xytext=(5, 4), fontsize="small"))
    ax.axhline(0.0, color="black", linestyle="--", linewidth=0.8)
    ax.set_xlim(-0.05, 1.05)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.set_xlabel(plot_phrase("loss_axis", lang, discounting=discounting(result, lang=lang)))
    ax.set_ylabel(plot_phrase("npv_axis", lang, unit=unit_words(unit, lang)))
    ax.set_title(plot_phrase("risk_title", lang))
    if ax.collections:  # beside the axes: no label or point can hide behind it
        ax.legend(title=plot_phrase("party", lang), loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize="small")
    ax.grid(True, alpha=0.3)
    place_labels(ax, annotations)
    return fig


def _risk_points(result: xr.Dataset,
                 lang: str = "en") -> dict[str, list[tuple[float, float, list[str]]]]:
    """(P(loss), mean npv, contract labels) per party, identical positions merged.

    A party outside every contract (a payer that only saves) has the same position under
    each: one point, labelled with every contract's name. A donor's label says "(gift)".
    """
    contracts = labels(result, "contract")
    roles = roles_of(result)
    values = result["npv"].transpose("draw", "contract", "party").values.astype(float)
    out: dict[str, list[tuple[float, float, list[str]]]] = {}
    for p, party in enumerate(labels(result, "party")):
        merged: list[tuple[float, float, list[str]]] = []
        for c, contract in enumerate(contracts):
            column = values[:, c, p]
            column = column[np.isfinite(column)]
            if column.size == 0 or np.all(column == 0.0):
                continue
            x, y = statistics.prob_loss(column), statistics.mean(column)
            name = plot_phrase("gift", lang, contract=contract) \
                if roles is not None and roles[c, p] == "donor" else contract
            for mx, my, names in merged:
                if x == mx and np.isclose(y, my, rtol=1e-9, atol=1e-6):
                    names.append(name)
                    break
            else:
                merged.append((x, y, [name]))
        if merged:
            out[party] = merged
    return out


def savings_by_payer(result: xr.Dataset, *, lang: str = "en",
                     ax: Axes | None = None) -> Figure:
    """Mean discounted savings of the whole cohort by payer, stacked by category.

    Positive savings (the payer spends less with the programme) stack upwards from zero and
    negative ones downwards; a black marker shows each payer's net total. Taxes are negative
    costs, so more tax collected shows as a positive saving. The programme's own cost is not
    included (it is in ``npv``).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``savings_npv`` (draw, payer, category).
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the axes, title and legend (:mod:`sibsim.plot.words`; the names
        of :mod:`sibsim.labels` in Danish).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one bar series per category, one bar per payer.

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = savings_by_payer(result)
    >>> fig.axes[0].get_legend().get_title().get_text()
    'category'
    """
    check_language(lang)
    result = require(result, ["savings_npv"], function="savings_by_payer")
    fig, ax = figure_and_axes(ax, (7.0, 4.5))
    payers = labels(result, "payer")
    categories = labels(result, "category")
    # A payer and category without any finite draw shows as a bar of 0.
    mean = np.nan_to_num(statistics.mean(_finite(to_numpy(result, "savings_npv")), axis=0),
                         nan=0.0)
    total = mean.sum(axis=1)
    scale, unit = money_scale(np.concatenate([np.clip(mean, 0, None).sum(1),
                                               np.clip(mean, None, 0).sum(1)]),
                              currency(result))
    x = np.arange(len(payers))
    up = np.zeros(len(payers))
    down = np.zeros(len(payers))
    for k, category in enumerate(categories):
        column = mean[:, k] / scale
        bottom = np.where(column >= 0, up, down)
        ax.bar(x, column, bottom=bottom, width=0.6, label=category_label(category, lang))
        up += np.clip(column, 0, None)
        down += np.clip(column, None, 0)
    ax.plot(x, total / scale, linestyle="none", marker="D", color="black",
            label=plot_phrase("net_total", lang))
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(x, payers if lang == "en" else [party_label(p, lang) for p in payers])
    ax.set_xlabel(plot_phrase("payer", lang))
    unit = unit_words(unit, lang)
    ax.set_ylabel(plot_phrase("savings_axis", lang, discounting=discounting(result, lang=lang),
                              unit=unit) if "discount_rate" in result
                  else plot_phrase("savings_axis_plain", lang, unit=unit))
    ax.set_title(plot_phrase("savings_title", lang))
    ax.legend(title=plot_phrase("category", lang), loc="upper left", bbox_to_anchor=(1.01, 1.0),
              fontsize="small")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def _irr_label(contract: str, column: np.ndarray, multiple: np.ndarray | None,
               lang: str) -> str:
    """The legend entry of a contract's IRR: its median, median multiple and NaN draws."""
    ok = np.isfinite(column)
    label = plot_phrase("irr_median", lang, contract=contract,
                        value=number(f"{statistics.median(column[ok]):.1%}", lang))
    if multiple is not None and np.any(np.isfinite(multiple)):
        label += plot_phrase("irr_multiple", lang,
                             value=number(f"{statistics.median(multiple):.2f}", lang))
    if not ok.all():
        label += plot_phrase("irr_skipped", lang, count=np.count_nonzero(~ok))
    return label


class SavedPlots(list):
    """The files :func:`save_all` wrote (a list of paths), and the plots it skipped.

    Attributes
    ----------
    skipped : list of (str, str)
        The file name of each plot not written, and why (it would be empty).
    """

    def __init__(self, paths=(), skipped=()):
        super().__init__(paths)
        self.skipped = list(skipped)


def save_all(result: xr.Dataset, out_dir: str | Path) -> SavedPlots:
    """Write the demo plots of a result as PNG files, leaving out those that would be empty.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`.
    out_dir : str or pathlib.Path
        Folder to write into; created (with its parents) if missing.

    Returns
    -------
    SavedPlots
        The files written (a list of paths), in this order: employment.png,
        net_position.png (one panel per party that takes risk, :func:`net_positions`),
        investor_irr.png (only when some contract has investor tranches), risk_return.png,
        savings.png. ``.skipped`` lists each plot left out, with the reason (say it to the
        reader: ``sibsim demo`` prints it).

    Examples
    --------
    >>> import tempfile
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = save_all(result, folder)
    >>> [p.name for p in paths]
    ['employment.png', 'net_position.png', 'investor_irr.png', 'risk_return.png', 'savings.png']
    >>> paths.skipped
    []
    """
    # Check everything the plots read before the first file is written.
    result = require(result, ["occupancy", "npv", "investor_irr", "savings_npv"],
                     function="save_all", optional=["investor_multiple", "role"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    has_investors = bool(np.isfinite(to_numpy(result, "investor_irr")).any())
    has_risk = bool(risk_parties(result))
    makers = {
        "employment.png": (employment, None),
        "net_position.png": (net_positions, None if has_risk else
                             "no party takes risk under any contract"),
        "investor_irr.png": (investor_irr, None if has_investors else
                             "no contract has investor tranches (no IRR to show)"),
        "risk_return.png": (risk_return, None if has_risk else
                            "no party takes risk under any contract"),
        "savings.png": (savings_by_payer, None if result.sizes.get("payer", 0) else
                        "the scenario has no payer of a flow"),
    }
    saved = SavedPlots()
    for filename in PLOT_FILES:
        maker, skip = makers[filename]
        if skip is not None:
            saved.skipped.append((filename, skip))
            continue
        path = out / filename
        maker(result).savefig(path, dpi=120)
        saved.append(path)
    return saved
