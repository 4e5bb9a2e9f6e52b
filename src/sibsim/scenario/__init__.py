"""Scenarios: loading, validation, defaults, key paths."""

from sibsim.scenario.core import (
    BASELINES,
    CONTRACT_TYPES,
    Scenario,
    builtin_scenarios,
    load_scenario,
    validate,
)

__all__ = ["BASELINES", "CONTRACT_TYPES", "Scenario", "builtin_scenarios", "load_scenario",
           "validate"]
