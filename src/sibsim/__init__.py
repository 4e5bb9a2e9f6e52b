"""sibsim: Monte Carlo risk simulation for social investment deals."""

from __future__ import annotations

__version__ = "0.1.0"

from sibsim.errors import ScenarioError

__all__ = ["ScenarioError", "__version__"]
