"""What every plot shares: the figure to draw on, the unit of amounts, what a loss means,
and labels that do not overlap.

New figures are plain :class:`matplotlib.figure.Figure` objects, never pyplot's, so that
plotting leaves no global state behind and works with any backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.text import Annotation

from sibsim.analysis.units import axis_scale
from sibsim.plot.words import number, plot_phrase
from sibsim.results import DEFAULT_CURRENCY

__all__ = ["discounting", "figure_and_axes", "money_scale", "place_labels"]


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """The figure to return and the axes to draw on.

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        The caller's axes, or None for a new figure (without pyplot) with one axes.
    figsize : (float, float)
        The size of a new figure, in inches.

    Returns
    -------
    (Figure, Axes)
        The top-level figure holding the axes (also for an axes in a subfigure), and the axes.
    """
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


def money_scale(values: np.ndarray, currency: str = DEFAULT_CURRENCY) -> tuple[float, str]:
    """Divisor and unit label for amounts, from the largest absolute finite value.

    Parameters
    ----------
    values : array_like
        The amounts to be shown, in the currency.
    currency : str, default "DKK"
        The result's currency (:func:`sibsim.results.currency`).

    Returns
    -------
    (float, str)
        1e6 and "million DKK", 1e3 and "thousand DKK", or 1 and "DKK"
        (:func:`sibsim.analysis.units.axis_scale`).

    Examples
    --------
    >>> money_scale([2.5e6, -4e5])
    (1000000.0, 'million DKK')
    >>> money_scale([12_000.0], "EUR")
    (1000.0, 'thousand EUR')
    """
    return axis_scale(values, currency)


def discounting(result: xr.Dataset, parties: Sequence[str] | None = None, *,
                lang: str = "en") -> str:
    """How the npv of some parties is discounted, in words for an axis label.

    Parameters
    ----------
    result : xarray.Dataset
        A result; its ``discount_rate`` (draw, party) is read when present.
    parties : sequence of str, optional
        The parties shown (default: every party).
    lang : {"en", "da"}, keyword-only, default "en"
        The language of the words.

    Returns
    -------
    str
        "discounted at 3.5% a year", "discounted at each party's own rate", "discounted
        at a rate drawn per draw (mean 3.5%)", or "discounted" without the variable.

    Examples
    --------
    >>> discounting(xr.Dataset())
    'discounted'
    """
    if "discount_rate" not in result:
        return plot_phrase("discounted", lang)
    rates = result["discount_rate"]
    if parties is not None:
        rates = rates.sel(party=list(parties))
    values = np.asarray(rates.transpose("draw", "party").values, dtype=float)
    if values.size == 0:
        return plot_phrase("discounted", lang)
    if (values == values[:1, :1]).all():
        return plot_phrase("discounted_at", lang,
                           rate=number(f"{float(values[0, 0]):.1%}", lang))
    if (values == values[:1, :]).all():
        return plot_phrase("discounted_own", lang)
    return plot_phrase("discounted_drawn", lang, rate=number(f"{float(values.mean()):.1%}", lang))


def place_labels(ax: Axes, labels: Sequence[Annotation]) -> None:
    """Move point labels so that none overlaps another or leaves the axes.

    Each label (an annotation at a point, offset in points) tries, in order, offsets to
    the upper right, lower right, upper left and lower left of its point, then the same
    further out, and takes the first where its box meets no label placed before it and
    lies inside the axes; a label that fits nowhere keeps its last try. Labels are left
    out of the layout, so that moving them does not move the axes. Positions are worked
    out for the figure's size when drawn: a resized figure may need a new call.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes the labels are drawn on.
    labels : sequence of matplotlib.text.Annotation
        The labels, most important first.

    Returns
    -------
    None
    """
    if not labels:
        return
    for label in labels:
        label.set_in_layout(False)
    fig = ax.figure
    while getattr(fig, "figure", None) is not None and fig.figure is not fig:
        fig = fig.figure
    fig.draw_without_rendering()
    frame = ax.get_window_extent()
    placed: list = []
    for label in labels:
        for (dx, dy), align in _CANDIDATES:
            label.xyann = (dx, dy)
            label.set_horizontalalignment(align)
            box = label.get_window_extent()
            inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                      and box.y1 <= frame.y1)
            if inside and not any(box.overlaps(other) for other in placed):
                break
        placed.append(label.get_window_extent())


#: The offsets (in points) and alignments a label tries, nearest first.
_CANDIDATES = tuple(
    ((sign_x * 5, dy), "left" if sign_x > 0 else "right")
    for step in range(5)
    for sign_x, dy in ((1, 4 + 11 * step), (1, -12 - 11 * step), (-1, 4 + 11 * step),
                       (-1, -12 - 11 * step))
)
