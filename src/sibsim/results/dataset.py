"""The result Dataset, assembled from the declarations of :mod:`sibsim.results.schema`.

Dimensions come sample-first (``draw``), every dimension has coordinates, no variable is
named like a dimension, and the Dataset carries the scenario (as TOML), the seed, the number
of draws, the sibsim version and its creation time as text attributes (netCDF accepts no
dicts or None).
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import xarray as xr

import sibsim
from sibsim.results.schema import VARIABLES
from sibsim.rules import ARMS, COMPARISON


def _attrs(name: str) -> dict:
    return VARIABLES[name].attrs


def _data_array(name: str, values: np.ndarray) -> tuple:
    return (VARIABLES[name].dims, np.asarray(values), _attrs(name))


def assemble(scenario, st, ledger, values, settlement, parties, *, seed: int,
             resolution: str = "month") -> xr.Dataset:
    """Build the result Dataset from the engine's ledger and the contract settlement.

    Parameters
    ----------
    scenario : Scenario
        The scenario simulated (stored as TOML in the ``scenario`` attribute).
    st : CompiledScenario
        The compiled scenario (``sibsim.engine.compile``): its ``states``, ``payers`` and
        ``categories`` label the dims.
    ledger : Ledger
        Occupancy, costs, programme cost and enrolment per draw (and the comparison groups).
    values : ParamValues
        The sampled parameters: ``uncertain`` key paths and their ``matrix()``.
    settlement : Settlement
        Payments, npv per party, investor IRR and multiple, tranche parties.
    parties : sequence of str
        The ``party`` labels, in the settlement's order.
    seed : int, keyword-only
        The seed of the run.
    resolution : {"month", "year"}, keyword-only
        "year" aggregates the monthly variables with :func:`to_years`.

    Returns
    -------
    xarray.Dataset
        The variables of :data:`sibsim.results.schema.VARIABLES` with their attributes,
        coordinates for every dimension, and the run's provenance as text attributes.
    """
    months = ledger.months
    arms = list(ARMS)
    enrolled = ledger.enrolled.astype(np.float64)
    occupancy = ledger.occupancy / enrolled[None, None, :, None]
    cost = ledger.cost
    if ledger.comparison:
        size = max(ledger.comparison)
        group = ledger.comparison[size]
        scale = enrolled / group.enrolled.astype(np.float64)
        occupancy = np.concatenate(
            [occupancy, (group.occupancy / group.enrolled[None, :, None])[:, None]], axis=1
        )
        cost = np.concatenate(
            [cost, (group.cost * scale[None, :, None, None])[:, None]], axis=1
        )
        arms.append(COMPARISON)
    contracts = scenario.data["contracts"]
    data_vars = {
        "occupancy": _data_array("occupancy", occupancy),
        "cost": _data_array("cost", cost),
        "savings_npv": _data_array("savings_npv", ledger.savings_npv()),
        "programme_cost": _data_array("programme_cost", ledger.programme_cost),
        "payment": _data_array("payment", settlement.payment),
        "npv": _data_array("npv", settlement.npv),
        "investor_irr": _data_array("investor_irr", settlement.investor_irr),
        "investor_multiple": _data_array("investor_multiple", settlement.investor_multiple),
        "params": _data_array("params", values.matrix()),
        "enrolled": _data_array("enrolled", ledger.enrolled),
        "tranche_party": _data_array("tranche_party", settlement.tranche_party),
        "investor_irr_no_root": _data_array("investor_irr_no_root", settlement.irr_no_root_share),
    }
    coords = {
        "draw": np.arange(ledger.draws),
        "month": np.arange(months),
        "arm": arms,
        "state": list(st.states),
        "payer": list(st.payers),
        "category": list(st.categories),
        "contract": [c["name"] for c in contracts],
        "party": list(parties),
        "param": list(values.uncertain),
    }
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs = {
        "title": f"sibsim results: {scenario.data['name']}",
        "scenario": scenario.to_toml(),
        "seed": int(seed),
        "draws": int(ledger.draws),
        "sibsim_version": sibsim.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "resolution": resolution,
    }
    if resolution == "year":
        ds = to_years(ds)
    return ds


def to_years(ds: xr.Dataset) -> xr.Dataset:
    """Aggregate monthly variables to years (a partial last year is kept).

    occupancy: mean over the year's months; cost, payment, programme_cost: sums;
    enrolled: the count at the year's last month.

    Parameters
    ----------
    ds : xarray.Dataset
        A monthly result.

    Returns
    -------
    xarray.Dataset
        The same result with a ``year`` dimension in place of ``month`` and
        ``resolution="year"``.
    """
    year = xr.DataArray(
        ds["month"].values // 12, dims="month", coords={"month": ds["month"]}, name="year"
    )
    out = ds.drop_dims("month")
    grouped = {
        "occupancy": ds["occupancy"].groupby(year).mean("month"),
        "cost": ds["cost"].groupby(year).sum("month"),
        "payment": ds["payment"].groupby(year).sum("month"),
        "programme_cost": ds["programme_cost"].groupby(year).sum("month"),
        "enrolled": ds["enrolled"].groupby(year).last("month"),
    }
    for name, arr in grouped.items():
        out[name] = arr.transpose(*VARIABLES[name].dims_for("year"))
        out[name].attrs = _attrs(name)
    out = out.assign_coords(year=np.arange(out.sizes["year"]))
    out.attrs = dict(ds.attrs, resolution="year")
    return out


def write_netcdf(result: xr.Dataset, path) -> None:
    """Write ``result`` to a netCDF file atomically.

    The data go to a temporary file in the same folder, which replaces ``path`` only once
    it is complete: a failed write never leaves a half-written file.

    Parameters
    ----------
    result : xarray.Dataset
        The result to write.
    path : str or Path
        The file to write, in an existing folder.

    Returns
    -------
    None
    """
    import os
    import tempfile
    from pathlib import Path

    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--out: got {str(path)!r}, expected a file in an existing folder")
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    os.close(handle)
    try:
        result.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
