"""Every public function documents its parameters and what it returns (numpydoc)."""

from __future__ import annotations

import inspect

import pytest

import sibsim
import sibsim.labels
from sibsim import analysis, plot, results
from sibsim.analysis import statistics, tables
from sibsim.engine import exact


def _functions(module) -> list:
    """The functions a module lists in ``__all__``."""
    return [getattr(module, name) for name in module.__all__
            if inspect.isfunction(getattr(module, name))]


PUBLIC = _functions(sibsim)
for _module in (analysis, statistics, tables, plot, results, sibsim.labels):
    PUBLIC += [f for f in _functions(_module) if f not in PUBLIC]
PUBLIC += [exact.share_by_months_since_entry, exact.expected_occupancy, exact.expected_share,
           exact.historical_baseline]


def test_the_list_holds_the_plots_and_the_analysis_layers():
    names = {f"{f.__module__}.{f.__name__}" for f in PUBLIC}
    for name in ("sibsim.plot.result_plots.employment", "sibsim.plot.analysis_plots.tornado",
                 "sibsim.analysis.statistics.prob_loss", "sibsim.analysis.tables.render",
                 "sibsim.results.schema.require", "sibsim.analysis.resimulate.contract_payer"):
        assert name in names, name


@pytest.mark.parametrize("function", PUBLIC, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_public_function_has_parameters_and_returns_sections(function):
    doc = inspect.getdoc(function) or ""
    assert "Parameters\n----------" in doc, function.__name__
    assert "Returns\n-------" in doc, function.__name__
