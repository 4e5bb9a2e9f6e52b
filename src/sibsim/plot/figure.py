"""What every plot shares: the figure to draw on and the unit of amounts.

New figures are plain :class:`matplotlib.figure.Figure` objects, never pyplot's, so that
plotting leaves no global state behind and works with any backend.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["figure_and_axes", "money_scale"]


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

def money_scale(values: np.ndarray) -> tuple[float, str]:
    """Divisor and unit label for amounts in DKK, from the largest absolute finite value.

    Parameters
    ----------
    values : array_like
        The amounts to be shown, in DKK.

    Returns
    -------
    (float, str)
        1e6 and "million DKK", 1e3 and "thousand DKK", or 1 and "DKK".

    Examples
    --------
    >>> money_scale([2.5e6, -4e5])
    (1000000.0, 'million DKK')
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    if top >= 1e6:
        return 1e6, "million DKK"
    if top >= 1e3:
        return 1e3, "thousand DKK"
    return 1.0, "DKK"
