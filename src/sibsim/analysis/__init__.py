"""Analyses of scenarios and results: what drives the risk, and what price both sides accept.

One module per method, on one layer of statistics:

- :mod:`~sibsim.analysis.statistics`: the risk statistics of draws (probability of loss,
  expected shortfall, mean, quantiles, ...) as numpy functions with an ``axis`` argument;
  everything below that reports a statistic computes it there.
- :mod:`~sibsim.analysis.summary`: :func:`summarize`, the risk of each party under each
  contract.
- :mod:`~sibsim.analysis.resimulate`: re-simulation on common random numbers (the same seed
  for every variant), :func:`sweep` and :func:`tornado`.
- :mod:`~sibsim.analysis.pricing`: :func:`price_corridor` and :func:`break_even`.
- :mod:`~sibsim.analysis.design`: :func:`design`, contract terms chosen by optimisation
  under every party's constraints (its search in :mod:`~sibsim.analysis.design_search`,
  the notes on terms that do not move the result in :mod:`~sibsim.analysis.design_notes`),
  and :func:`design_frontier` (:mod:`~sibsim.analysis.frontier`).
- :mod:`~sibsim.analysis.variance_share`: :func:`sensitivity`, first-order variance shares
  from a finished result (:func:`correlation_ratio`).
- :mod:`~sibsim.analysis.value_of_information`: :func:`evpi` and :func:`evppi`.
- :mod:`~sibsim.analysis.calibration`: :func:`calibrate` and :func:`hazards_from_survival`.
- :mod:`~sibsim.analysis.nested`: :func:`variance_split`, parameter uncertainty against
  chance, from a nested simulation.
- :mod:`~sibsim.analysis.precision`: :func:`convergence` and :func:`draws_needed`, the
  Monte Carlo error as draws grow.
- :mod:`~sibsim.analysis.units`: the unit and scale of amounts in tables and plots.
- :mod:`~sibsim.analysis.posterior`: :func:`posterior`, the parameters' posterior given
  observed counts (its sampler in :mod:`~sibsim.analysis.posterior_sampler`, the fitted
  distributions in :mod:`~sibsim.analysis.posterior_fit`).
- :mod:`~sibsim.analysis.stepping_stone`: :func:`stepping_stone` and :func:`evsi_curve`, what
  a pilot's results are worth to the choice of contract after it (its estimators in
  :mod:`~sibsim.analysis.preposterior` and :mod:`~sibsim.analysis.stepping_nested`, with
  :func:`design_terms`, terms set after the pilot by :func:`design`).
- :mod:`~sibsim.analysis.tables`: the text tables of the command line
  (:func:`format_summary`, :func:`format_tornado`, :func:`format_corridor`).
- :mod:`~sibsim.analysis.options`: the checks of the analyses' arguments.

The methods, estimators and their limits are described in ``docs/analysis.rst``.
"""

from sibsim.analysis.calibration import calibrate, hazards_from_survival, scale_value
from sibsim.analysis.design import design
from sibsim.analysis.frontier import design_frontier
from sibsim.analysis.nested import anova_split, variance_split
from sibsim.analysis.precision import convergence, draws_needed
from sibsim.analysis.posterior import posterior
from sibsim.analysis.pricing import STATISTICS, break_even, price_corridor
from sibsim.analysis.resimulate import contract_payer, sweep, tornado
from sibsim.analysis.statistics import expected_shortfall
from sibsim.analysis.stepping_nested import design_terms
from sibsim.analysis.stepping_stone import evsi_curve, stepping_stone
from sibsim.analysis.summary import COLUMNS, summarize
from sibsim.analysis.tables import format_corridor, format_summary, format_tornado
from sibsim.analysis.value_of_information import evpi, evppi
from sibsim.analysis.variance_share import correlation_ratio, default_bins, sensitivity

__all__ = ["COLUMNS", "STATISTICS", "anova_split", "break_even", "calibrate", "contract_payer",
           "convergence", "correlation_ratio", "default_bins", "design",
           "design_frontier", "design_terms", "draws_needed", "evpi", "evppi",
           "evsi_curve", "expected_shortfall", "format_corridor", "format_summary",
           "format_tornado", "hazards_from_survival", "posterior", "price_corridor",
           "scale_value", "sensitivity", "stepping_stone", "summarize", "sweep", "tornado",
           "variance_split"]
