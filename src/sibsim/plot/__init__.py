"""Plots of a finished result and of two analyses: one function per plot, data in, figure out.

Every function takes the Dataset returned by :func:`sibsim.simulate` (its variables are
declared in :mod:`sibsim.results.schema`, which checks what each plot reads) and an optional
matplotlib ``ax``; it draws on that axes (or on a new figure when none is given) and
returns the :class:`matplotlib.figure.Figure`. No function re-runs a simulation, and none
touches pyplot's global state: new figures are plain :class:`~matplotlib.figure.Figure`
objects, so the module works with the Agg backend, in scripts, tests and notebooks alike
(in a notebook, display the returned figure). The statistics shown are those of
:mod:`sibsim.analysis.statistics`. The two analysis plots (:func:`corridor`,
:func:`tornado`) take the analysis's table and, as keyword arguments, the settings it was
run with; :func:`convergence` takes the table of :func:`sibsim.convergence`.

Amounts are in the result's currency (the scenario's ``currency``, DKK by default); axes
are labelled in that currency, or in thousand or million of it, whichever suits the largest
value shown, and say how a net position is discounted (or that it is not). See
``docs/plots.rst`` for how to read each plot.

Example
-------
>>> import sibsim
>>> result = sibsim.simulate("danish-pilot", draws=20, seed=1, progress=False)
>>> fig = sibsim.plot.net_position(result, party="municipality")
>>> fig.savefig("net_position.png")                      # doctest: +SKIP
>>> paths = sibsim.plot.save_all(result, "plots")      # doctest: +SKIP
"""

from sibsim.plot.analysis_plots import convergence, corridor, tornado
from sibsim.plot.stepping_plots import evsi_curve
from sibsim.plot.positions import net_position, net_positions, risk_parties
from sibsim.plot.result_plots import (
    PLOT_FILES,
    SavedPlots,
    employment,
    investor_irr,
    risk_return,
    save_all,
    savings_by_payer,
)

__all__ = [
    "PLOT_FILES",
    "SavedPlots",
    "convergence",
    "corridor",
    "employment",
    "evsi_curve",
    "investor_irr",
    "net_position",
    "net_positions",
    "risk_parties",
    "risk_return",
    "save_all",
    "savings_by_payer",
    "tornado",
]
