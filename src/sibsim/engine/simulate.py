"""``simulate``: scenario in, labelled results out."""

from __future__ import annotations

import contextlib
import dataclasses
import os

import numba
import numpy as np
import xarray as xr

from sibsim.engine import compile as comp
from sibsim.engine.kernels.trajectories import simulate_group
from sibsim.engine.ledger import ComparisonGroup, Ledger
from sibsim.engine.params import ParamValues, sample_parameters
from sibsim.engine.records import DrawArrays, Group, Outputs
from sibsim.engine.rng import check_seed

#: Draws per kernel call. Results never depend on it (each draw owns its random numbers);
#: it only bounds the memory of the per-draw parameter arrays and paces the progress bar.
CHUNK_DRAWS = 256


@contextlib.contextmanager
def numba_threads(threads: int | None):
    """Run the block with ``threads`` numba threads (None: all available)."""
    if threads is None:
        yield
        return
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads: got {threads!r}, expected a positive integer or None")
    previous = numba.get_num_threads()
    numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def check_draws(draws) -> int:
    """Return ``draws`` as an int, or raise ValueError naming it."""
    if isinstance(draws, (bool, np.bool_)) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws: got {draws!r}, expected a positive integer")
    return int(draws)


def _progress_bar(enabled: bool | None, total: int):
    """A tqdm bar for long runs (on by default only when stderr is a terminal)."""
    if enabled is None:
        enabled = total >= 2 * CHUNK_DRAWS and os.isatty(2)
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="sibsim", unit="draw", leave=False)


def run_group(group: Group, compiled: comp.CompiledScenario, arrays: DrawArrays,
              due: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run the trajectory kernel for one group over one chunk of draws.

    Parameters
    ----------
    group : Group
        ``compiled.cohort`` or one of ``compiled.comparison``.
    compiled : CompiledScenario
    arrays : DrawArrays
        The chunk's per-draw arrays (``compile.draw_arrays``).
    due : ndarray, shape (D, rate_cards, months), optional
        Rate-card payments, added to (the cohort's); a scratch array when omitted.

    Returns
    -------
    occupancy : ndarray (D, arms, T, S)
    cost : ndarray (D, arms, T, P * C)
    """
    n_draws = arrays.base_hazard.shape[0]
    n_arms = 2 if group.both_arms else 1
    n_pairs = arrays.cost_rate.shape[3]
    months, n_states = compiled.months, len(compiled.states)
    if due is None:
        due = np.zeros((n_draws, len(compiled.rate_card_contracts), months))
    out = Outputs(
        occupancy=np.zeros((n_draws, n_arms, months, n_states)),
        cost=np.zeros((n_draws, n_arms, months, n_pairs)),
        due=due,
    )
    simulate_group(group, compiled.transitions, compiled.buckets, compiled.cells,
                   compiled.rate_cards, arrays, out)
    return out.occupancy, out.cost


def _chunk(values: ParamValues, chunk: slice) -> ParamValues:
    return ParamValues(draws=values.draws[chunk],
                       values={k: v[chunk] for k, v in values.values.items()},
                       uncertain=values.uncertain)


def _parameters_of(scenario, own: np.ndarray, seed: int, parameter_draws) -> ParamValues:
    """The parameter values of other draws, labelled as the run's own draws ``own``."""
    source = np.asarray(parameter_draws)
    if source.shape != own.shape or source.dtype.kind not in "iu" or (source < 0).any():
        raise ValueError(f"parameter_draws: expected {own.size} non-negative whole draw "
                         f"indices, got an array of shape {source.shape} ({source.dtype})")
    sampled = sample_parameters(scenario, source.astype(np.int64), seed)
    return dataclasses.replace(sampled, draws=own)


def run_model(scenario, draws: int, seed: int, *, progress: bool | None = None,
              parameter_draws: np.ndarray | None = None, first_draw: int = 0):
    """Simulate every group of ``scenario`` and return the ledger and the parameter values.

    This is the engine without the contracts and the Dataset: useful for tests and
    benchmarks that look at the kernels alone, and for analyses that hold the parameters
    while chance varies (:func:`sibsim.variance_split`).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    draws : int
        Number of draws.
    seed : int
        The run's seed.
    progress : bool, optional
        Show a progress bar (default: on long runs in a terminal).
    parameter_draws : array of int, shape (draws,), optional
        The k-th draw of the run takes the per-draw parameter values of draw
        ``parameter_draws[k]`` (of a run with the same seed), and keeps its own chance:
        participants, frailty, prior months, comparison groups and the economy shock.
        Default: its own. With ``repeat(arange(outer), inner)`` the ``inner`` draws of each
        block share one parameter draw and differ by chance alone.
    first_draw : int, default 0
        The run covers draws ``first_draw .. first_draw + draws - 1``: the same numbers as
        those draws of a longer run (draw d depends only on the scenario, the seed and d).

    Returns
    -------
    ledger : Ledger
    values : ParamValues
    compiled : CompiledScenario
        Its ``months``, ``states``, ``payers`` and ``categories`` name the ledger's axes.
    """
    compiled = comp.compile_scenario(scenario)
    own = np.arange(first_draw, first_draw + draws, dtype=np.int64)
    values = sample_parameters(scenario, own, seed) if parameter_draws is None else \
        _parameters_of(scenario, own, seed, parameter_draws)
    n_states, n_payers = len(compiled.states), len(compiled.payers)
    n_cats = len(compiled.categories)
    T = compiled.months
    occupancy = np.empty((draws, 2, T, n_states))
    cost = np.empty((draws, 2, T, n_payers, n_cats))
    due = np.zeros((draws, len(compiled.rate_card_contracts), T))
    comparison = {
        n: ComparisonGroup(
            size=n, enrolled=g.enrolled(T), occupancy=np.empty((draws, T, n_states)),
            cost=np.empty((draws, T, n_payers, n_cats)),
        )
        for n, g in compiled.comparison.items()
    }
    bar = _progress_bar(progress, draws)
    for start in range(0, draws, CHUNK_DRAWS):
        stop = min(start + CHUNK_DRAWS, draws)
        chunk = slice(start, stop)
        arrays = comp.draw_arrays(scenario, compiled, _chunk(values, chunk), seed)
        occ, cst = run_group(compiled.cohort, compiled, arrays, due[chunk])
        occupancy[chunk] = occ
        cost[chunk] = cst.reshape(stop - start, 2, T, n_payers, n_cats)
        for n, group in compiled.comparison.items():
            occ, cst = run_group(group, compiled, arrays)
            comparison[n].occupancy[chunk] = occ[:, 0]
            comparison[n].cost[chunk] = cst[:, 0].reshape(stop - start, T, n_payers, n_cats)
        if bar is not None:
            bar.update(stop - start)
    if bar is not None:
        bar.close()

    historical = None
    if comp.needs_historical_baseline(scenario.data):
        from sibsim.engine.exact import historical_baseline

        historical = historical_baseline(scenario)
    ledger = Ledger(
        months=T, states=compiled.states, payers=compiled.payers,
        categories=compiled.categories, discount=comp.discount_factors(values, T),
        enrolled=compiled.cohort.enrolled(T), occupancy=occupancy, cost=cost,
        programme_cost=comp.programme_cost(scenario.data, compiled, values),
        comparison=comparison, historical=historical,
        rate_card_due={i: due[:, r] for r, i in enumerate(compiled.rate_card_contracts)},
    )
    return ledger, values, compiled


def simulate(scenario, draws: int = 2000, seed: int = 1, threads: int | None = None,
             resolution: str = "month", *, progress: bool | None = None) -> xr.Dataset:
    """Simulate a scenario: many Monte Carlo draws of every participant, both arms.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    draws : int, default 2000
        Number of Monte Carlo draws (parameter uncertainty and participant chance).
    seed : int, default 1
        Results depend only on the scenario, ``draws`` and ``seed``: draw d of any run with
        the same seed is the same.
    threads : int, optional
        numba threads to use (default: all). Never changes the results.
    resolution : {"month", "year"}
        Time resolution of ``occupancy``, ``cost`` and ``payment``.
    progress : bool, optional
        Show a progress bar (default: on long runs in a terminal).

    Returns
    -------
    xarray.Dataset
        The result variables (occupancy, cost, payment, npv, ... by draw), declared
        with their dims and units in :data:`sibsim.results.schema.VARIABLES` (listed in
        the API reference, ``docs/reference/index.rst``).

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=200, seed=1)  # doctest: +SKIP
    >>> result["npv"].sel(party="municipality").mean("draw")  # doctest: +SKIP
    """
    from sibsim.contracts import settle
    from sibsim.results import assemble
    from sibsim.scenario import load_scenario

    scenario = load_scenario(scenario)
    draws = check_draws(draws)
    seed = check_seed(seed)
    if resolution not in ("month", "year"):
        raise ValueError(f"resolution: got {resolution!r}, expected 'month' or 'year'")
    with numba_threads(threads):
        ledger, values, compiled = run_model(scenario, draws, seed, progress=progress)
    parties = list(scenario.parties())
    settlement = settle(scenario.data["contracts"], ledger, values.get, parties,
                        discount_rates=scenario.data.get("discount_rates"))
    return assemble(scenario, compiled, ledger, values, settlement, parties,
                    seed=seed, resolution=resolution)
