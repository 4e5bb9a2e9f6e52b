"""Net positions: one party under each contract, and every party that takes risk.

Each function checks the variables it reads against :mod:`sibsim.results.schema`, computes
what it shows with :mod:`sibsim.analysis.statistics`, and draws on the given ``ax`` or a new
figure. See ``docs/plots.rst``, "Net position per contract".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sibsim.analysis import statistics
from sibsim.contracts.roles import TAKES_RISK
from sibsim.labels import check_language, contract_label
from sibsim.labels.words import party_in_text
from sibsim.plot.figure import discounting, figure_and_axes, money_scale
from sibsim.plot.words import plot_phrase, unit_words
from sibsim.results import (
    currency,
    labels,
    require,
    require_label,
    require_labels,
    to_numpy,
)

__all__ = ["MEASURES", "net_position", "net_positions", "risk_parties", "roles_of"]

#: The measures of a net position a plot can show: the npv (discounted) or net (nominal).
MEASURES = ("npv", "net")


def roles_of(result: xr.Dataset) -> np.ndarray | None:
    """The ``role`` (contract, party) of a result, or None for a result without it.

    Parameters
    ----------
    result : xarray.Dataset
        A result.

    Returns
    -------
    numpy.ndarray of str, shape (contract, party), or None
    """
    if "role" not in result:
        return None
    return np.asarray(result["role"].transpose("contract", "party").values, dtype=str)


def _measure(measure: str, function: str) -> str:
    if measure not in MEASURES:
        raise ValueError(f"{function}: measure: got {measure!r}, expected one of "
                         f"{list(MEASURES)}")
    return measure


def _position_label(result: xr.Dataset, measure: str, parties: Sequence[str],
                    unit: str, lang: str) -> str:
    unit = unit_words(unit, lang)
    if measure == "net":
        return plot_phrase("net_axis", lang, unit=unit)
    return plot_phrase("position_npv_axis", lang, unit=unit,
                       discounting=discounting(result, parties, lang=lang))


def _tick_label(name: str, role: str, column: np.ndarray, measure: str, lang: str) -> str:
    """A contract's tick label: its name and the party's P(loss), "gift" or "no part"."""
    if role == "donor":
        return plot_phrase("tick_gift", lang, contract=name)
    if role == "none":
        return plot_phrase("tick_no_part", lang, contract=name)
    loss = f"{statistics.prob_loss(column):.0%}" if column.size else "n/a"
    loss_name = plot_phrase("p_loss" if measure == "npv" else "p_nominal_loss", lang)
    return f"{name}\n{loss_name} {loss}"


def net_position(
    result: xr.Dataset,
    *,
    party: str = "municipality",
    measure: str = "npv",
    lang: str = "en",
    ax: Axes | None = None,
) -> Figure:
    """Distribution over draws of one party's net position under each contract.

    One box per contract: the box spans the 25-75% range, the whiskers the 5-95% range, the
    line is the median and the marker the mean. The tick label gives the probability of loss
    (share of draws with a position below 0), or "gift" where the party is a donor under
    the contract (it gives money by design: a probability of loss of 100% would say
    nothing), or "no part" where it neither pays, receives nor saves. A dashed line marks
    zero.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`; uses ``npv`` (or ``net``) (draw, contract,
        party), and ``role`` when present.
    party : str, default "municipality"
        The party whose position is shown (a payer, a contract party or ``provider``).
    measure : {"npv", "net"}, keyword-only, default "npv"
        The discounted net position (npv, at the rate the axis names) or the undiscounted
        one (net: a nominal loss).
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the axes, title and tick labels (:mod:`sibsim.plot.words`; the
        party and contract names of :mod:`sibsim.labels` in Danish).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes: one box per contract.

    Raises
    ------
    ValueError
        If ``party`` is not in the result, or ``lang`` is not "en" or "da".

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> fig = net_position(result, party="municipality")
    >>> fig.axes[0].get_xticklabels()[0].get_text()
    'donation\\nP(loss) 0%'
    >>> net_position(result, party="foundation").axes[0].get_xticklabels()[0].get_text()
    'donation\\ngift'
    """
    measure = _measure(measure, "net_position")
    check_language(lang)
    result = require(result, [measure], function="net_position", optional=["role"])
    require_label(result, "party", party, function="net_position")
    contracts = labels(result, "contract")
    roles = roles_of(result)
    p = labels(result, "party").index(party)
    fig, ax = figure_and_axes(ax, (1.6 * max(len(contracts), 3) + 2.0, 4.2))
    values = result[measure].sel(party=party).transpose("draw", "contract").values
    scale, unit = money_scale(values, currency(result))
    data, tick_labels = [], []
    for c, name in enumerate(contracts):
        column = values[:, c]
        column = column[np.isfinite(column)]
        data.append(column / scale)
        role = roles[c, p] if roles is not None else ""
        shown = name if lang == "en" else contract_label(result, name, lang)
        tick_labels.append(_tick_label(shown, role, column, measure, lang))
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
    ax.set_ylabel(_position_label(result, measure, [party], unit, lang))
    ax.set_xlabel(plot_phrase("contract", lang))
    who = party if lang == "en" else party_in_text(party, lang)
    ax.set_title(plot_phrase("position_title", lang, party=who), fontsize="medium")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def risk_parties(result: xr.Dataset) -> list[str]:
    """The parties that take risk under some contract of a result, in result order.

    Parameters
    ----------
    result : xarray.Dataset
        A result; uses ``role`` when present, else ``npv``.

    Returns
    -------
    list of str
        With ``role``: the parties whose role under some contract is one of
        :data:`sibsim.contracts.roles.TAKES_RISK` (investor, guarantor, payer, provider,
        saver): a donor that only gives, and a party with no part, take none. Without it:
        the parties whose npv is not exactly 0 in every draw of every contract.

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> risk_parties(result)
    ['municipality', 'state', 'region', 'foundation', 'investor', 'provider']
    """
    result = require(result, ["npv"], function="risk_parties", optional=["role"])
    parties = labels(result, "party")
    roles = roles_of(result)
    if roles is not None:
        return [party for p, party in enumerate(parties)
                if any(role in TAKES_RISK for role in roles[:, p])]
    npv = to_numpy(result, "npv")
    return [party for p, party in enumerate(parties)
            if np.any(np.isfinite(npv[:, :, p]) & (npv[:, :, p] != 0.0))]


def net_positions(result: xr.Dataset, *, parties: Sequence[str] | None = None,
                  measure: str = "npv", lang: str = "en") -> Figure:
    """The net position of several parties, one panel each (:func:`net_position`).

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate`.
    parties : sequence of str, optional, keyword-only
        The parties, in this order (default: :func:`risk_parties`, every party that takes
        risk under some contract).
    measure : {"npv", "net"}, keyword-only, default "npv"
        As for :func:`net_position`.
    lang : {"en", "da"}, keyword-only, default "en"
        As for :func:`net_position`.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per party, two panels a row.

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
    >>> len(net_positions(result).axes)
    6
    """
    check_language(lang)
    chosen = risk_parties(result) if parties is None else \
        require_labels(result, "party", [str(p) for p in parties], function="net_positions",
                       option="parties", distinct=True)
    if not chosen:
        raise ValueError("net_positions: no party takes risk under any contract of the "
                         "result (pass parties=[...] to show some)")
    contracts = labels(result, "contract")
    columns = min(2, len(chosen))
    rows = -(-len(chosen) // columns)
    fig = Figure(figsize=(columns * (1.6 * max(len(contracts), 3) + 2.0), rows * 4.2),
                 layout="constrained")
    for i, party in enumerate(chosen):
        net_position(result, party=party, measure=measure, lang=lang,
                     ax=fig.add_subplot(rows, columns, i + 1))
    return fig
