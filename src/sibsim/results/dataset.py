"""The result Dataset, assembled from the declarations of :mod:`sibsim.results.schema`.

Dimensions come sample-first (``draw``), every dimension has coordinates, no variable is
named like a dimension, and the Dataset carries its provenance as text and number attributes
(netCDF accepts no dicts or None): the scenario (as TOML), the seed, the number of draws, the
currency of its amounts, the sibsim version, its creation time, the Python version, the
platform and the versions of the libraries that computed it (:func:`provenance`). Files are
written by :mod:`sibsim.results.io`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.metadata
import platform as _platform
from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr

import sibsim
from sibsim.results.schema import DEFAULT_CURRENCY, VARIABLES
from sibsim.rules import ARMS, COMPARISON

#: The libraries named in the ``dependencies`` attribute.
DEPENDENCIES = ("numpy", "numba", "scipy", "xarray", "pandas")


def provenance(libraries: Sequence[str] = DEPENDENCIES) -> dict[str, str]:
    """Who computed a result: the Python version, the platform and the libraries' versions.

    Parameters
    ----------
    libraries : sequence of str, default :data:`DEPENDENCIES`
        The distributions named in ``dependencies`` (numpy, numba, scipy, xarray, pandas).

    Returns
    -------
    dict of str to str
        ``python_version`` (``"3.12.3"``), ``platform`` (:func:`platform.platform`) and
        ``dependencies`` (``"numpy 2.1.0, numba 0.60.0, scipy 1.14.1, xarray 2024.9.0,
        pandas 2.2.3"``).

    Examples
    --------
    >>> sorted(provenance())
    ['dependencies', 'platform', 'python_version']
    """
    return dict(_provenance(tuple(libraries)))


@functools.lru_cache(maxsize=8)
def _provenance(libraries: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """:func:`provenance`, looked up once per process (reading package metadata is slow)."""
    versions = []
    for name in libraries:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return (("python_version", _platform.python_version()), ("platform", _platform.platform()),
            ("dependencies", ", ".join(versions)))


@functools.lru_cache(maxsize=8)
def _toml(scenario) -> str:
    """The scenario as TOML (written once per scenario, not once per chunk)."""
    return scenario.to_toml()


def _attrs(name: str, currency: str = DEFAULT_CURRENCY) -> dict:
    return VARIABLES[name].attrs_in(currency)


def _data_array(name: str, values: np.ndarray, currency: str) -> tuple:
    return (VARIABLES[name].dims, np.asarray(values), _attrs(name, currency))


def assemble(scenario, st, ledger, values, settlement, parties, *, seed: int,
             resolution: str = "month", variables: Sequence[str] | None = None,
             out: Callable | None = None) -> xr.Dataset:
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
        The sampled parameters: ``uncertain`` key paths and their ``matrix()``, and the
        run's ``discount_rate`` per draw.
    settlement : Settlement
        Payments, npv and net per party, the parties' own discount rates and roles,
        investor IRR and multiple, tranche parties.
    parties : sequence of str
        The ``party`` labels, in the settlement's order.
    seed : int, keyword-only
        The seed of the run.
    resolution : {"month", "year"}, keyword-only
        "year" aggregates the monthly variables with :func:`to_years`.
    variables : sequence of str, optional, keyword-only
        The variables wanted (default: all): ``occupancy`` and ``cost``, the largest, are
        left out when not named; every other variable is always there.
    out : callable, optional, keyword-only
        ``out(name, shape, dtype)``: the array to write ``occupancy`` or ``cost`` into (the
        rows of a whole run's array, see :meth:`sibsim.engine.chunks.Assembler.rows`), in
        place of a new one. Monthly resolution only.

    Returns
    -------
    xarray.Dataset
        The variables of :data:`sibsim.results.schema.VARIABLES` with their attributes,
        coordinates for every dimension, and the run's provenance as text attributes.
    """
    months = ledger.months
    arms = list(ARMS) + ([COMPARISON] if ledger.comparison else [])
    per_month = {}
    for name in ("occupancy", "cost"):
        if variables is None or name in variables:
            per_month[name] = _arms(ledger, name, out)
    data = scenario._document
    contracts = data["contracts"]
    currency = data.get("currency") or DEFAULT_CURRENCY
    run_rate = np.asarray(values.get("discount_rate"), dtype=np.float64)
    rates = np.stack([settlement.own_rates.get(party, run_rate) for party in parties], axis=1) \
        if len(parties) else np.zeros((ledger.draws, 0))
    columns = {
        **per_month,
        "savings_npv": ledger.savings_npv(),
        "programme_cost": ledger.programme_cost,
        "payment": settlement.payment,
        "npv": settlement.npv,
        "net": settlement.net,
        "investor_irr": settlement.investor_irr,
        "investor_multiple": settlement.investor_multiple,
        "params": values.matrix(),
        "enrolled": ledger.enrolled,
        "tranche_party": settlement.tranche_party,
        "investor_irr_no_root": settlement.irr_no_root_share,
        "discount_rate": rates,
        "role": settlement.role,
    }
    data_vars = {name: _data_array(name, data, currency) for name, data in columns.items()}
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
        "title": f"sibsim results: {data['name']}",
        "scenario": _toml(scenario),
        "seed": int(seed),
        "draws": int(ledger.draws),
        "currency": currency,
        "sibsim_version": sibsim.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **provenance(),
        "resolution": resolution,
    }
    if resolution == "year":
        ds = to_years(ds)
    return ds


def _arms(ledger, name: str, out: Callable | None = None) -> np.ndarray:
    """Occupancy (shares of the enrolled) or cost by arm, the comparison group's last.

    With ``out`` (see :func:`assemble`), the values are written into the array it gives.
    """
    enrolled = ledger.enrolled.astype(np.float64)
    source = ledger.occupancy if name == "occupancy" else ledger.cost
    n_arms = len(ARMS) + (1 if ledger.comparison else 0)
    shape = (source.shape[0], n_arms, *source.shape[2:])
    if out is None:
        if name == "cost" and not ledger.comparison:
            return ledger.cost
        result = np.empty(shape)
    else:
        result = out(name, shape[1:], np.dtype(np.float64))
        if result.shape != shape:
            raise ValueError(f"assemble: out gave {name} of shape {result.shape}, expected "
                             f"{shape}")
    # The arms are written into their places (no concatenated copies). Where the engine
    # wrote the ledger's arms into these very rows (``run_model(rows=...)``), the counts
    # become shares in place (this is the ledger's last reader) and the costs stay.
    arms = result[:, :len(ARMS)]
    in_place = np.may_share_memory(source, result)
    if name == "occupancy":
        np.divide(ledger.occupancy, enrolled[None, None, :, None], out=arms)
    elif not in_place:
        arms[...] = ledger.cost
    if not ledger.comparison:
        return result
    group = ledger.comparison[max(ledger.comparison)]
    if name == "occupancy":
        np.divide(group.occupancy, group.enrolled[None, :, None], out=result[:, len(ARMS)])
    else:
        scale = enrolled / group.enrolled.astype(np.float64)
        np.multiply(group.cost, scale[None, :, None, None], out=result[:, len(ARMS)])
    return result


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
    how = {"occupancy": "mean", "cost": "sum", "payment": "sum", "programme_cost": "sum",
           "enrolled": "last"}
    grouped = {name: getattr(ds[name].groupby(year), method)("month")
               for name, method in how.items() if name in ds}
    currency = ds.attrs.get("currency") or DEFAULT_CURRENCY
    for name, arr in grouped.items():
        out[name] = arr.transpose(*VARIABLES[name].dims_for("year"))
        out[name].attrs = _attrs(name, currency)
    out = out.assign_coords(year=np.arange(out.sizes["year"]))
    out.attrs = dict(ds.attrs, resolution="year")
    return out
