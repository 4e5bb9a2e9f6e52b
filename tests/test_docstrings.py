"""Every public function documents its parameters and what it returns (numpydoc)."""

from __future__ import annotations

import inspect

import pytest

import sibsim
from sibsim import plot
from sibsim.engine import exact

PUBLIC = [getattr(sibsim, name) for name in sibsim.__all__
          if inspect.isfunction(getattr(sibsim, name))]
PUBLIC += [f for name, f in inspect.getmembers(plot, inspect.isfunction)
           if not name.startswith("_") and f.__module__ == plot.__name__]
PUBLIC += [exact.share_by_months_since_entry, exact.expected_occupancy, exact.expected_share,
           exact.historical_baseline]


@pytest.mark.parametrize("function", PUBLIC, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_public_function_has_parameters_and_returns_sections(function):
    doc = inspect.getdoc(function) or ""
    assert "Parameters\n----------" in doc, function.__name__
    assert "Returns\n-------" in doc, function.__name__
