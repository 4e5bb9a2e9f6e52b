"""Tests of sibsim.results.schema: the declared result variables and the one input check.

The declarations must be what :func:`sibsim.simulate` writes (monthly and yearly), and every
function that reads a result must reject a malformed one through :func:`require`, with a
message naming the function.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402

import sibsim  # noqa: E402
from sibsim.results import (  # noqa: E402
    VARIABLES,
    require,
    require_label,
    require_labels,
    to_numpy,
)

TINY = {
    "name": "tiny",
    "months": 30,
    "states": ["benefits", "employed"],
    "cohort": {"initial_state": "benefits", "intake_months": 3, "sites": {"A": {"size": 10}}},
    "programme": {"months": 6, "cost_per_participant": 20000},
    "transitions": [
        {"from": "benefits", "to": "employed", "probability": 0.05,
         "effect": {"ratio": {"lognormal": {"median": 1.5, "sigma": 0.3}}, "to_month": 12}},
        {"from": "employed", "to": "benefits", "probability": 0.04},
    ],
    "flows": [{"name": "benefit", "state": "benefits", "category": "benefits",
               "monthly": 10000, "split": {"municipality": 1.0}}],
    "contracts": [
        {"name": "card", "type": "rate_card", "payer": "municipality",
         "outcomes": [{"name": "job", "state": "employed", "sustained_months": 3,
                       "price": 30000}],
         "financing": {"tranches": [{"party": "investor", "amount": 100000}]}},
        {"name": "fee", "type": "fee_for_service", "payer": "municipality"},
    ],
}


@pytest.fixture(scope="module")
def result() -> xr.Dataset:
    return sibsim.simulate(TINY, draws=12, seed=1, progress=False)


@pytest.mark.parametrize("resolution", ["month", "year"])
def test_declarations_are_what_simulate_writes(resolution):
    result = sibsim.simulate(TINY, draws=6, seed=2, resolution=resolution, progress=False)
    assert set(result.data_vars) == set(VARIABLES)
    if resolution == "month":
        assert list(result.data_vars) == list(VARIABLES)
    for name, variable in VARIABLES.items():
        assert variable.name == name
        assert result[name].dims == variable.dims_for(resolution), name
        assert result[name].attrs == {"units": variable.units,
                                      "long_name": variable.long_name}, name
    assert require(result, VARIABLES, function="test") is result


def test_transposed_result_passes_and_to_numpy_restores_the_declared_order(result):
    transposed = result.transpose(*reversed(list(result.dims)))
    require(transposed, VARIABLES, function="test")
    np.testing.assert_array_equal(to_numpy(transposed, "npv"), result["npv"].values)
    np.testing.assert_array_equal(to_numpy(transposed, "cost"), result["cost"].values)


def test_require_names_the_function_and_what_is_wrong(result):
    with pytest.raises(TypeError, match=r"^summarize: result: expected the xarray.Dataset"):
        require({"npv": 1}, ["npv"], function="summarize")
    with pytest.raises(ValueError, match=r"^evppi: result has no variable 'params'"):
        require(result.drop_vars("params"), ["npv", "params"], function="evppi")
    flat = result.assign(npv=result["npv"].isel(party=0))
    with pytest.raises(ValueError, match=r"^sensitivity: result variable 'npv' has dims "
                                         r"\('draw', 'contract'\)"):
        require(flat, ["npv"], function="sensitivity")
    # An optional variable is checked only when present.
    with pytest.raises(ValueError, match="'npv' has dims"):
        require(flat, [], function="x", optional=["npv"])
    require(result.drop_vars("investor_irr"), ["npv"], function="x", optional=["investor_irr"])


def test_a_sweep_is_named_as_such(result):
    swept = xr.concat([result, result], dim="value")
    with pytest.raises(ValueError, match=r"evpi: result is a sweep .*result.isel\(value=0\)"):
        require(swept, ["npv"], function="evpi")


def test_labels(result):
    assert require_label(result, "party", "investor", function="f") == "investor"
    with pytest.raises(ValueError, match=r"^f: party: got 'bank', expected one of \["):
        require_label(result, "party", "bank", function="f")
    with pytest.raises(ValueError, match=r"^f: arms: got 'placebo'"):
        require_labels(result, "arm", ["treatment", "placebo"], function="f", option="arms")
    assert require_labels(result, "contract", "fee", function="f") == ["fee"]
    assert require_labels(result, "arm", ["treatment"] * 2, function="f") == ["treatment"] * 2
    with pytest.raises(ValueError, match="expected distinct contract names"):
        require_labels(result, "contract", ["fee", "fee"], function="f", distinct=True)
    with pytest.raises(ValueError, match="expected distinct contract names"):
        require_labels(result, "contract", [], function="f", distinct=True)


CONSUMERS = {
    "summarize": lambda r: sibsim.summarize(r),
    "sensitivity": lambda r: sibsim.sensitivity(r, "card", "municipality"),
    "evpi": lambda r: sibsim.evpi(r, "municipality"),
    "evppi": lambda r: sibsim.evppi(r, "municipality"),
    "employment": lambda r: sibsim.plot.employment(r),
    "net_position": lambda r: sibsim.plot.net_position(r),
    "investor_irr": lambda r: sibsim.plot.investor_irr(r),
    "risk_return": lambda r: sibsim.plot.risk_return(r),
    "savings_by_payer": lambda r: sibsim.plot.savings_by_payer(r),
    "save_all": lambda r: sibsim.plot.save_all(r, "never-written"),
}


@pytest.mark.parametrize("function", sorted(CONSUMERS))
def test_every_consumer_of_results_checks_its_input_through_the_schema(function, result,
                                                                       tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    call = CONSUMERS[function]
    with pytest.raises(TypeError, match=f"^{function}: result: expected the xarray.Dataset"):
        call(result["npv"])
    with pytest.raises(ValueError, match=f"^{function}: result has no variable"):
        call(xr.Dataset())
    swept = xr.concat([result, result], dim="value")
    with pytest.raises(ValueError, match=f"^{function}: result is a sweep"):
        call(swept)
    assert not (tmp_path / "never-written").exists()
