"""``simulate_to_zarr``: a run streamed to a zarr store chunk by chunk, resumable.

Each chunk of draws is written to the store as soon as it is done (in this process, or as it
arrives from the workers of a cluster) and marked done; nothing else of it is kept, so the
memory of the run depends on ``chunk_draws``, not on ``draws``. Run again on the same store
with the same settings, only the chunks not marked are computed. See
:mod:`sibsim.results.zarr_store` for the store and ``docs/scale.rst`` for the workflow.
"""

from __future__ import annotations

import os

import xarray as xr

import sibsim
from sibsim.engine import chunks, memory
from sibsim.engine.rng import check_seed
from sibsim.engine.simulate import check_chunk_draws, check_draws

__all__ = ["simulate_to_zarr"]


def _settings(scenario, draws: int, seed: int, chunk_draws: int, resolution: str,
              variables) -> dict:
    return {"scenario": scenario.to_toml(), "seed": seed, "draws": draws,
            "chunk_draws": chunk_draws, "resolution": resolution,
            "variables": "all" if variables is None else list(variables),
            "sibsim_version": sibsim.__version__}


def simulate_to_zarr(scenario, store, draws: int = 2000, seed: int = 1, *, client=None,
                     chunk_draws: int | None = None, variables=None, resolution: str = "month",
                     threads: int | None = None, progress: bool | None = None) -> xr.Dataset:
    """Simulate a scenario into a zarr store, chunk by chunk; resume an interrupted run.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    store : str or path
        The store, a folder (``run.zarr``). A new one is created; an existing one of the same
        run is resumed (only the chunks not yet written are computed); one of another run,
        or anything else, is refused.
    draws : int, default 2000
        Number of Monte Carlo draws.
    seed : int, default 1
        The run's seed.
    client : dask.distributed.Client, optional, keyword-only
        Run the chunks as tasks on this cluster; they are written here as they arrive.
    chunk_draws : int, optional, keyword-only
        Draws per chunk, and per zarr chunk of the store (default: as many as fit 256 MiB of
        working memory, from the scenario alone). Part of the run's settings: resume with
        the same value.
    variables : sequence of str, optional, keyword-only
        Keep only these result variables (default: all).
    resolution : {"month", "year"}, keyword-only
        As for :func:`sibsim.simulate`.
    threads : int, optional, keyword-only
        numba threads (never changes the results).
    progress : bool, optional, keyword-only
        Show a progress bar (default: on long runs in a terminal).

    Returns
    -------
    xarray.Dataset
        The finished store, opened with :func:`xarray.open_zarr` (lazy): the same variables,
        coordinates, attributes and values as ``sibsim.simulate(scenario, draws, seed)``.

    Raises
    ------
    sibsim.results.zarr_store.StoreMismatch
        When the store holds another run (other scenario, seed, draws, chunking,
        resolution or variables) or is not a sibsim store.
    sibsim.engine.memory.RunTooLarge
        When one chunk does not fit in memory.
    ImportError
        Without zarr and dask (``pip install "sibsim[distributed]"``).

    Examples
    --------
    >>> import sibsim
    >>> sibsim.simulate_to_zarr("danish-pilot", "run.zarr", draws=10_000, seed=1,
    ...                         chunk_draws=1000)                   # doctest: +SKIP
    >>> xarray.open_zarr("run.zarr")["npv"].mean("draw").compute()  # doctest: +SKIP
    """
    from sibsim.results.zarr_store import RunStore
    from sibsim.scenario import load_scenario

    scenario = load_scenario(scenario)
    draws, seed = check_draws(draws), check_seed(seed)
    if resolution not in ("month", "year"):
        raise ValueError(f"resolution: got {resolution!r}, expected 'month' or 'year'")
    variables = chunks.check_variables(variables, function="simulate_to_zarr")
    chunk_draws = check_chunk_draws(chunk_draws, function="simulate_to_zarr")
    chunk_draws = min(chunk_draws or memory.chunk_draws_for(scenario, draws,
                                                            resolution=resolution), draws)
    in_flight = 2
    found = memory.estimate(scenario, draws, chunk_draws=chunk_draws, variables=variables,
                            resolution=resolution, streamed=True, threads=threads,
                            in_flight=in_flight)
    if client is None:
        memory.check(found, draws=draws, streamed=True, function="simulate_to_zarr")
    plan = chunks.plan_chunks(draws, chunk_draws)
    run = RunStore(os.fspath(store), _settings(scenario, draws, seed, chunk_draws, resolution,
                                               variables), plan)
    missing = [i for i in range(len(plan)) if i not in run.done()]
    index = {plan[i]: i for i in missing}
    todo = [plan[i] for i in missing]
    if todo:
        results = _chunks(client, scenario, todo, seed, resolution=resolution,
                          variables=variables, threads=threads, progress=progress,
                          estimate=found)
        for chunk in results:
            chunks.check_finite(chunk, scenario)
            if not run.exists:
                run.create(chunk.dataset, chunk.counts)
            run.write(index[(chunk.start, chunk.stop)], chunk.dataset, chunk.counts)
    if not run.complete:
        run.finish()
    opened = xr.open_zarr(os.fspath(store))
    order = [name for name in run.order if name in opened.data_vars]
    return opened[order + [name for name in opened.data_vars if name not in order]]


def _chunks(client, scenario, plan, seed, *, resolution, variables, threads, progress,
            estimate):
    """The chunks to compute, as they finish: on the cluster, or one by one here."""
    if client is not None:
        from sibsim.engine import cluster

        return cluster.run_chunks(client, scenario, plan, seed, resolution=resolution,
                                  variables=variables, threads=threads, estimate=estimate,
                                  progress=progress)
    from sibsim.engine.simulate import _in_process

    return _in_process(scenario, plan, seed, resolution=resolution, variables=variables,
                       threads=threads, progress=progress)
