"""``simulate``: scenario in, labelled results out."""

from __future__ import annotations

import contextlib
import os

import numba
import numpy as np
import xarray as xr

from sibsim.engine import compile as comp
from sibsim.engine.kernels.trajectories import simulate_group
from sibsim.engine.ledger import ComparisonGroup, Ledger
from sibsim.engine.params import ParamValues, sample_parameters
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


def run_group(group: comp.Group, st: comp.Structure, arrays: comp.DrawArrays, seed: int,
              draw_offset: int, due: np.ndarray):
    """Run the trajectory kernel for one group over one chunk of draws.

    Returns
    -------
    occupancy : ndarray (D, arms, T, S)
    cost : ndarray (D, arms, T, P * C)
    """
    n_draws = arrays.base_hazard.shape[0]
    n_arms = 2 if group.both_arms else 1
    n_pairs = arrays.cost_rate.shape[3]
    occupancy = np.zeros((n_draws, n_arms, st.months, len(st.states)))
    cost = np.zeros((n_draws, n_arms, st.months, n_pairs))
    if group.both_arms:
        rate_cards = (st.rc_outcome_start, st.oc_state, st.oc_cumulative, st.oc_months,
                      arrays.oc_price, st.rc_window, arrays.rc_cap)
    else:
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros((n_draws, 0))
        rate_cards = (np.zeros(1, np.int64), empty_i, empty_i, empty_i, empty_f, empty_i, empty_f)
    simulate_group(
        np.uint64(seed), draw_offset, group.stream_offset, group.both_arms, st.months,
        group.site, group.entry, arrays.site_multiplier, arrays.frailty_variance,
        st.prior_code, st.prior_par, st.initial_state,
        st.out_start, st.out_trans, st.trans_to, arrays.base_hazard, st.trans_frailty,
        arrays.effect_ratio, st.effect_from, st.effect_to, st.trans_economy, arrays.economy,
        st.state_economy, st.state_effect, arrays.state_hazard, st.bucket_of, st.next_key,
        st.max_key, st.bucket_keys, st.cost_next, st.cell_start, st.cell_pair,
        arrays.cost_rate, *rate_cards, occupancy, cost, due,
    )
    return occupancy, cost


def run_model(scenario, draws: int, seed: int, *, progress: bool | None = None):
    """Simulate every group of ``scenario`` and return the ledger and the parameter values.

    This is the engine without the contracts and the Dataset: useful for tests and
    benchmarks that look at the kernels alone.

    Returns
    -------
    ledger : Ledger
    values : ParamValues
    st : Structure
    """
    st = comp.structure(scenario)
    values = sample_parameters(scenario, np.arange(draws), seed)
    n_states, n_payers, n_cats = len(st.states), len(st.payers), len(st.categories)
    T = st.months
    occupancy = np.empty((draws, 2, T, n_states))
    cost = np.empty((draws, 2, T, n_payers, n_cats))
    programme_cost = np.empty((draws, T))
    discount = np.empty((draws, T))
    due = np.zeros((draws, len(st.rate_cards), T))
    comparison = {
        n: ComparisonGroup(
            size=n, enrolled=g.enrolled(T), occupancy=np.empty((draws, T, n_states)),
            cost=np.empty((draws, T, n_payers, n_cats)),
        )
        for n, g in st.comparison.items()
    }
    bar = _progress_bar(progress, draws)
    for start in range(0, draws, CHUNK_DRAWS):
        stop = min(start + CHUNK_DRAWS, draws)
        chunk = slice(start, stop)
        chunk_values = ParamValues(
            draws=values.draws[chunk],
            values={k: v[chunk] for k, v in values.values.items()},
            uncertain=values.uncertain,
        )
        arrays = comp.draw_arrays(scenario, st, chunk_values, seed)
        occ, cst = run_group(st.cohort, st, arrays, seed, start, due[chunk])
        occupancy[chunk] = occ
        cost[chunk] = cst.reshape(stop - start, 2, T, n_payers, n_cats)
        for n, group in st.comparison.items():
            occ, cst = run_group(group, st, arrays, seed, start, due[chunk][:, :0])
            comparison[n].occupancy[chunk] = occ[:, 0]
            comparison[n].cost[chunk] = cst[:, 0].reshape(stop - start, T, n_payers, n_cats)
        programme_cost[chunk] = arrays.programme_cost
        discount[chunk] = arrays.discount
        if bar is not None:
            bar.update(stop - start)
    if bar is not None:
        bar.close()

    historical = None
    if any(c.get("baseline") == "historical" for c in scenario.data["contracts"]):
        from sibsim.engine.exact import historical_baseline

        historical = historical_baseline(scenario)
    ledger = Ledger(
        months=T, states=st.states, payers=st.payers, categories=st.categories,
        discount=discount, enrolled=st.cohort.enrolled(T), occupancy=occupancy, cost=cost,
        programme_cost=programme_cost, comparison=comparison, historical=historical,
        rate_card_due={i: due[:, r] for r, i in enumerate(st.rate_cards)},
    )
    return ledger, values, st


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
        The variables of SPEC section 7; see :mod:`sibsim.results`.

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
        ledger, values, st = run_model(scenario, draws, seed, progress=progress)
    parties = list(scenario.parties())
    settlement = settle(scenario.data["contracts"], ledger, values.get, parties)
    return assemble(scenario, st, ledger, values, settlement, parties,
                    seed=seed, resolution=resolution)
