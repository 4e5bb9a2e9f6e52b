"""sibsim: Monte Carlo risk simulation for social investment deals.

The public API (see ``docs/quickstart.rst``, ``docs/analysis.rst`` and the API reference,
``docs/reference/index.rst``)::

    scenario = sibsim.load_scenario("danish-pilot")
    result = sibsim.simulate(scenario, draws=2000, seed=1)
    table = sibsim.summarize(result)
    fig = sibsim.plot.net_position(result, party="municipality")
    sibsim.labels.parameter_label(scenario, "transitions[0].effect.ratio", lang="da")

``sibsim.plot`` is imported on first use, so that ``import sibsim`` does not load matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

from sibsim import labels
from sibsim.analysis import (
    break_even,
    calibrate,
    convergence,
    design,
    design_frontier,
    design_terms,
    draws_needed,
    evpi,
    evppi,
    evsi_curve,
    hazards_from_survival,
    posterior,
    price_corridor,
    sensitivity,
    stepping_stone,
    summarize,
    sweep,
    tornado,
    variance_split,
)
from sibsim.engine import RunTooLarge, simulate, simulate_to_zarr
from sibsim.errors import DesignInfeasible, ScenarioError
from sibsim.report import write_report
from sibsim.scenario import Scenario, load_scenario
from sibsim.scenario.distributions import Distribution

__all__ = [
    "DesignInfeasible",
    "Distribution",
    "RunTooLarge",
    "Scenario",
    "ScenarioError",
    "__version__",
    "break_even",
    "calibrate",
    "convergence",
    "design",
    "design_frontier",
    "design_terms",
    "draws_needed",
    "evpi",
    "evppi",
    "evsi_curve",
    "hazards_from_survival",
    "labels",
    "load_scenario",
    "plot",
    "posterior",
    "price_corridor",
    "sensitivity",
    "simulate",
    "simulate_to_zarr",
    "stepping_stone",
    "summarize",
    "sweep",
    "tornado",
    "variance_split",
    "write_report",
]

#: Submodules imported on first access as attributes of the package.
_LAZY_SUBMODULES = ("plot",)


def __getattr__(name: str) -> Any:
    # Only reached for names not found otherwise: import a lazy submodule on first use.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"sibsim.{name}")
    raise AttributeError(f"module 'sibsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
