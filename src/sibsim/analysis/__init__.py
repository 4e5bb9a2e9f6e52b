"""Analyses of scenarios and results: re-simulation, sensitivity, value of information."""

from sibsim.analysis.core import (
    break_even,
    calibrate,
    correlation_ratio,
    evpi,
    evppi,
    format_corridor,
    format_tornado,
    hazards_from_survival,
    price_corridor,
    sensitivity,
    sweep,
    tornado,
)
from sibsim.analysis.summary import expected_shortfall, format_summary, summarize

__all__ = ["break_even", "calibrate", "correlation_ratio", "evpi", "evppi", "expected_shortfall",
           "format_corridor", "format_summary", "format_tornado", "hazards_from_survival",
           "price_corridor", "sensitivity", "summarize", "sweep", "tornado"]
