"""Re-simulation on common random numbers: the shared machinery, :func:`sweep` and :func:`tornado`.

Every analysis that re-simulates runs :func:`sibsim.simulate` again on changed copies of a
scenario, always with the same seed (:func:`simulate_variant`), so that every variant shares
its random numbers (participants, frailty, prior months, economy shock and every other
parameter's draw): differences between variants come from the change alone. See
``docs/analysis.rst``.

- :func:`sweep`: one parameter over a list of values; a Dataset with a leading ``value`` dim.
- :func:`tornado`: one uncertain parameter at a time at its low and high quantile.

The price analyses (:func:`sibsim.price_corridor`, :func:`sibsim.break_even`) build on the
same functions in :mod:`sibsim.analysis.pricing`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from sibsim.analysis import statistics
from sibsim.analysis.options import (
    check_name,
    check_param_path,
    check_values,
    real_pair,
    value_labels,
)
from sibsim.engine import check_draws
from sibsim.labels import add_labels
from sibsim.results import labels
from sibsim.scenario import Scenario, load_scenario
from sibsim.scenario.keypath import show

__all__ = ["Run", "contract_payer", "party_npv", "simulate_variant", "sweep", "tornado"]


class Run(NamedTuple):
    """The settings every variant of a re-simulating analysis is simulated with.

    The same ``seed`` in every variant gives common random numbers.
    """

    #: Monte Carlo draws of each variant.
    draws: int
    #: The seed of every variant.
    seed: int
    #: numba threads (never changes the results); None for all.
    threads: int | None = None
    #: "month" or "year", as for :func:`sibsim.simulate`.
    resolution: str = "month"
    #: A dask.distributed Client to run the draws on (never changes the results); None for
    #: this process.
    client: Any = None


def simulate_variant(scenario: Scenario, run: Run,
                     variables: Sequence[str] | None = None) -> xr.Dataset:
    """Simulate one variant of a scenario with the run's seed, without a progress bar.

    Parameters
    ----------
    scenario : Scenario
        The variant.
    run : Run
        Draws, seed, threads, resolution and client.
    variables : sequence of str, optional
        The result variables to keep (default: all).

    Returns
    -------
    xarray.Dataset
        The result of :func:`sibsim.simulate`.
    """
    from sibsim.engine import simulate

    return simulate(scenario, draws=run.draws, seed=run.seed, threads=run.threads,
                    resolution=run.resolution, progress=False, client=run.client,
                    variables=variables)


def party_npv(scenario: Scenario, contract: str, party: str, run: Run) -> np.ndarray:
    """A party's npv under a contract in each draw of one variant.

    Parameters
    ----------
    scenario : Scenario
        The variant.
    contract, party : str
        Names in the scenario.
    run : Run
        Draws, seed and threads.

    Returns
    -------
    numpy.ndarray
        Shape (draws,), DKK.
    """
    result = simulate_variant(scenario, run, variables=["npv"])
    return np.asarray(result["npv"].sel(contract=contract, party=party).values, dtype=np.float64)


def contract_payer(scenario: Scenario, contract: str) -> str:
    """The single party that pays under a contract (its funder for a grant).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    contract : str
        One of its contracts.

    Returns
    -------
    str
        The party.

    Raises
    ------
    ValueError
        When the contract has several payers (name the one to analyse).

    Examples
    --------
    >>> contract_payer(load_scenario("danish-pilot"), "narrow")
    'municipality'
    """
    entry = scenario.data["contracts"][scenario.contract_names().index(contract)]
    if entry["type"] == "grant":
        return entry["funder"]
    payers = list(entry["payer"])
    if len(payers) != 1:
        raise ValueError(f"payer: contract {contract!r} has several payers {payers}; "
                         "name the one to analyse")
    return payers[0]


def sweep(scenario: Any, param: str, values: Any, *, draws: int = 1000, seed: int = 1,
          threads: int | None = None, resolution: str = "month",
          variables: Sequence[str] | None = None, client: Any = None) -> xr.Dataset:
    """Simulate a scenario once for each value of one parameter, with common random numbers.

    Every variant is simulated with the same seed: participants, frailty, prior months, the
    economy shock and every other parameter's draws are the same in all of them, so the
    differences between variants come from the parameter alone.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    param : str
        Key path of the value to replace, e.g. ``"contracts[1].outcomes[0].price"`` or
        ``"transitions[0].effect.ratio"``. Whatever stands there (a number or a
        distribution) is replaced.
    values : sequence
        The values to put there: numbers (Python or numpy, or a 1-d numpy array) or
        distributions (``{"lognormal": {"median": 2.0, "sigma": 0.3}}`` or
        :class:`~sibsim.Distribution`), distinct.
    draws : int, keyword-only, default 1000
        Monte Carlo draws of each variant.
    seed : int, keyword-only, default 1
        The seed of every variant.
    threads : int, optional, keyword-only
        numba threads (never changes the results).
    resolution : {"month", "year"}, keyword-only
        As for :func:`sibsim.simulate`.
    variables : sequence of str, optional, keyword-only
        Data variables to keep (default: all). Keeping only ``["npv", "params"]`` saves
        memory on long sweeps.
    client : dask.distributed.Client, optional, keyword-only
        Run each variant's draws on this cluster (never changes the results).

    Returns
    -------
    xarray.Dataset
        The variables of :func:`sibsim.simulate`, each with a leading ``value`` dimension.
        The ``value`` coordinate holds the values: float64 when all are numbers, else the
        JSON text of each (``'{"lognormal": {"median": 2.0, "sigma": 0.3}}'``). The
        ``param`` coordinate is the union over the variants, in the scenario's document
        order (key paths that exist only in a variant go last); a variant in which a key
        path is not uncertain has NaN there (a parameter replaced
        by a number is not in its ``params``). Attributes: those of a simulation
        (``scenario`` is the TOML of the scenario before replacement), plus ``sweep_param``
        and ``sweep_values`` (JSON list).

    Raises
    ------
    ScenarioError
        When the key path does not exist or a value makes the scenario invalid.
    ValueError
        For invalid options.

    Examples
    --------
    >>> import sibsim
    >>> swept = sibsim.sweep("danish-pilot", param="contracts[1].outcomes[0].price",
    ...                      values=[2e4, 4e4, 6e4], draws=200, seed=1)   # doctest: +SKIP
    >>> swept["npv"].sel(contract="narrow", party="municipality").mean("draw")  # doctest: +SKIP
    """
    base = load_scenario(scenario)
    param = check_param_path(base, param)
    values = check_values(values)
    run = Run(check_draws(draws), seed, threads, resolution, client)
    if variables is not None:
        if isinstance(variables, str):
            variables = [variables]
        variables = list(variables)
    variants = [base.replace(param, value) for value in values]
    results = []
    for variant in variants:
        result = simulate_variant(variant, run)
        if variables is not None:
            unknown = [v for v in variables if v not in result.data_vars]
            if unknown:
                raise ValueError(f"variables: got {unknown}, expected names of result "
                                 f"variables {sorted(result.data_vars)}")
            result = result[variables]
        results.append(result)
    attrs = dict(results[0].attrs)
    var_attrs = {name: dict(results[0][name].attrs) for name in results[0].data_vars}
    params: list[str] = []
    for result in results:
        if "param" in result.coords:  # not when only variables without it are kept
            params += [p for p in labels(result, "param") if p not in params]
    # Document order of the scenario before replacement (a path only some variants have
    # keeps its place); paths that exist only after replacement go last.
    order = {path: i for i, path in enumerate(base.parameters())}
    params.sort(key=lambda path: order.get(path, len(order)))
    coordinate = value_labels(values)
    aligned = [r.reindex(param=params) if "param" in r.dims else r.copy() for r in results]
    for r in aligned:
        r.attrs = {}
    swept = xr.concat(aligned, dim=pd.Index(coordinate, name="value"), data_vars="all",
                      coords="minimal", join="exact", combine_attrs="drop_conflicts")
    for name in swept.data_vars:
        swept[name].attrs = var_attrs[name]
    swept["value"].attrs = {"long_name": f"value of {param}"}
    attrs.update(
        title=f"sibsim sweep of {param}: {base.name}",
        scenario=base.to_toml(),
        sweep_param=param,
        sweep_values=json.dumps(values),
    )
    swept.attrs = attrs
    return swept


def tornado(scenario: Any, contract: str, party: str, *, draws: int = 1000, seed: int = 1,
            quantiles: tuple[float, float] = (0.1, 0.9),
            threads: int | None = None, client: Any = None) -> pd.DataFrame:
    """One-at-a-time swings of a party's mean npv over the uncertain parameters.

    First every uncertain per-draw parameter (a distribution, as in ``params``) is fixed at
    its median. Then each in turn is set to its low and to its high quantile, with every
    other one at its median, and the scenario is simulated with the same seed. Participants,
    frailty, prior months and the economy shock stay random, with common random numbers
    across all runs, so a parameter that does not touch the party's npv has a swing of
    exactly 0. That makes 2k + 1 simulations for k uncertain parameters.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    contract : str
        The contract.
    party : str
        The party whose mean npv is reported.
    draws, seed, threads, client : keyword-only
        As for :func:`sweep`.
    quantiles : (float, float), keyword-only, default (0.1, 0.9)
        The low and high quantile, 0 < low < high < 1.

    Returns
    -------
    pandas.DataFrame
        One row per uncertain parameter with columns ``param``, ``label`` (what the
        parameter is, in words: :func:`sibsim.labels.parameter_label`), ``low_value``,
        ``high_value`` (the parameter at the two quantiles), ``npv_low``, ``npv_high`` (the
        party's mean npv, DKK) and ``swing`` = ``abs(npv_high - npv_low)``, sorted by swing,
        largest first (ties in document order). ``attrs["npv_base"]`` is the mean npv with
        every parameter at its median (pass it to :func:`sibsim.plot.tornado` and
        :func:`sibsim.analysis.format_tornado`).

    Examples
    --------
    >>> table = sibsim.tornado("danish-pilot", contract="narrow", party="municipality",
    ...                        draws=500, seed=1)                         # doctest: +SKIP
    >>> table.head(3)[["param", "swing"]]                                # doctest: +SKIP
    """
    base = load_scenario(scenario)
    contract = check_name("contract", contract, base.contract_names())
    party = check_name("party", party, base.parties())
    run = Run(check_draws(draws), seed, threads, client=client)
    q_low, q_high = real_pair(quantiles) or (math.nan, math.nan)
    if not 0 < q_low < q_high < 1:
        raise ValueError(f"quantiles: got {show(quantiles)}, expected two numbers "
                         "0 < low < high < 1")
    uncertain = base.uncertain()
    at_median = base
    for path, dist in uncertain.items():
        at_median = at_median.replace(path, float(dist.median()))

    def mean_npv(variant: Scenario) -> float:
        return statistics.mean(party_npv(variant, contract, party, run))

    rows = []
    for path, dist in uncertain.items():
        low, high = float(dist.quantile(q_low)), float(dist.quantile(q_high))
        npv_low = mean_npv(at_median.replace(path, low))
        npv_high = mean_npv(at_median.replace(path, high))
        rows.append((path, low, high, npv_low, npv_high, abs(npv_high - npv_low)))
    table = pd.DataFrame(rows, columns=["param", "low_value", "high_value", "npv_low",
                                        "npv_high", "swing"])
    table = table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    table = add_labels(table, base)
    table.attrs = {"npv_base": mean_npv(at_median)}
    return table

