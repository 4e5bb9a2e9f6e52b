"""The plot of :func:`sibsim.evsi_curve`: what a pilot of each size is worth, and its cost.

Table in, figure out: the settings the curve was run with travel in the table's ``attrs``
(party, contracts, currency, cost per participant), which the plot shows in its labels.
See ``docs/stepping_stone.rst``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sibsim.plot.figure import figure_and_axes, money_scale
from sibsim.results import DEFAULT_CURRENCY

__all__ = ["evsi_curve"]

#: Half-width of the error bars, in Monte Carlo standard errors (a 95% interval).
Z95 = 1.96
_COLUMNS = ("size", "evsi", "evsi_mcse", "evppi", "pilot_cost", "net_value", "net_value_mcse")


def evsi_curve(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """EVSI, the pilot's cost and the net value against the pilot's size.

    EVSI with error bars of +-1.96 Monte Carlo standard errors, the pilot's cost (a line
    through 0), the net value (EVSI less the cost) with its error bars, and EVPPI of the same
    parameters (dashed), the most any pilot on them can be worth. When the cost dwarfs them,
    an inset shows EVSI and EVPPI at their own scale.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`sibsim.evsi_curve`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is made when omitted.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> table = pd.DataFrame({"size": [0, 20, 65], "evsi": [0.0, 2e5, 3e5],
    ...                       "evsi_mcse": [0.0, 2e4, 2e4], "evppi": [4e5] * 3,
    ...                       "pilot_cost": [0.0, 1e5, 3.25e5], "net_value": [0.0, 1e5, -2.5e4],
    ...                       "net_value_mcse": [0.0, 2e4, 2e4]})
    >>> fig = evsi_curve(table)
    >>> fig.axes[0].get_ylabel()
    'Expected value (thousand DKK)'
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"evsi_curve: table: expected the pandas.DataFrame returned by "
                        f"sibsim.evsi_curve, got {type(table).__name__}")
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"evsi_curve: table has no column(s) {missing}; pass the DataFrame "
                         f"returned by sibsim.evsi_curve")
    attrs = table.attrs
    rows = table.sort_values("size", kind="stable")
    size = rows["size"].to_numpy(dtype=float)
    values = {c: rows[c].to_numpy(dtype=float) for c in _COLUMNS[1:]}
    scale, unit = money_scale(np.concatenate([values["evsi"], values["pilot_cost"],
                                              values["net_value"], values["evppi"]]),
                              attrs.get("currency", DEFAULT_CURRENCY))
    fig, ax = figure_and_axes(ax, (7.0, 4.4))
    ax.errorbar(size, values["evsi"] / scale, yerr=Z95 * values["evsi_mcse"] / scale,
                marker="o", capsize=3, label="EVSI: value of the pilot's results "
                                             "(95% Monte Carlo interval)")
    ax.errorbar(size, values["net_value"] / scale,
                yerr=Z95 * values["net_value_mcse"] / scale, marker="s", capsize=3,
                label="net value: EVSI less the pilot's cost")
    cost = attrs.get("cost_per_participant")
    words = ""
    if cost is not None:
        cost_scale, cost_unit = money_scale(np.array([cost]), attrs.get("currency",
                                                                         DEFAULT_CURRENCY))
        words = f" ({cost / cost_scale:,.4g} {cost_unit} per treated participant)"
    ax.plot(size, values["pilot_cost"] / scale, color="tab:red", linestyle=":",
            label=f"pilot cost{words}")
    ax.axhline(values["evppi"][0] / scale, color="black", linestyle="--", linewidth=0.8,
               label="EVPPI: perfect knowledge of the same parameters")
    ax.axhline(0.0, color="grey", linewidth=0.6)
    ax.set_xlabel("Pilot size (participants per arm)")
    ax.set_ylabel(f"Expected value ({unit})")
    party, contracts = attrs.get("party"), attrs.get("contracts")
    title = "Value of a pilot"
    if party:
        title += f" to the {party}"
    if contracts:
        title += "\nchoosing between " + ", ".join(str(c) for c in contracts)
    ax.set_title(title, fontsize="medium")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(True, alpha=0.3)
    _inset_when_small(ax, size, values, scale, attrs.get("currency", DEFAULT_CURRENCY))
    return fig


def _inset_when_small(ax: Axes, size: np.ndarray, values: dict, shown: float,
                      currency: str) -> None:
    """EVSI and EVPPI at their own scale, in an inset, when the cost dwarfs them (the main
    axes show amounts divided by ``shown``)."""
    top = float(np.max(np.abs(np.concatenate([values["evsi"] + Z95 * values["evsi_mcse"],
                                               values["evppi"]]))))
    low, high = ax.get_ylim()
    if top <= 0 or top / shown >= 0.1 * (high - low):
        return
    scale, unit = money_scale(np.array([top]), currency)
    inset = ax.inset_axes([0.06, 0.05, 0.3, 0.22])
    inset.errorbar(size, values["evsi"] / scale, yerr=Z95 * values["evsi_mcse"] / scale,
                   marker="o", markersize=3, capsize=2)
    inset.axhline(values["evppi"][0] / scale, color="black", linestyle="--", linewidth=0.8)
    inset.axhline(0.0, color="grey", linewidth=0.6)
    inset.set_title(f"EVSI and EVPPI ({unit})", fontsize="x-small")
    inset.tick_params(labelsize="x-small")
    inset.grid(True, alpha=0.3)
