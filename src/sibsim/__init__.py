"""sibsim: Monte Carlo risk simulation for social investment deals.

The public API (SPEC sections 1 and 8)::

    scenario = sibsim.load_scenario("danish-pilot")
    result = sibsim.simulate(scenario, draws=2000, seed=1)
    table = sibsim.summarize(result)
"""

from __future__ import annotations

__version__ = "0.1.0"

from sibsim.analysis import (
    break_even,
    calibrate,
    evpi,
    evppi,
    hazards_from_survival,
    price_corridor,
    sensitivity,
    sweep,
    tornado,
)
from sibsim.analysis.summary import summarize
from sibsim.engine import simulate
from sibsim.errors import ScenarioError
from sibsim.scenario import Scenario, load_scenario
from sibsim.scenario.distributions import Distribution

__all__ = [
    "Distribution",
    "Scenario",
    "ScenarioError",
    "__version__",
    "break_even",
    "calibrate",
    "evpi",
    "evppi",
    "hazards_from_survival",
    "load_scenario",
    "price_corridor",
    "sensitivity",
    "simulate",
    "summarize",
    "sweep",
    "tornado",
]
