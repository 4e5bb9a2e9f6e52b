"""Chunks of draws as tasks on a dask.distributed cluster.

:func:`run_chunks` sends the scenario to every worker once, submits the chunks of a run as
tasks (a bounded number at a time, so that finished chunks never pile up on the workers),
and yields each chunk as it finishes, in any order. Each task is
:func:`sibsim.engine.chunks.simulate_chunk`, whose numbers depend only on the scenario, the
seed and the draws, so a run on a cluster gives the same numbers as one in this process
whatever the workers, the chunking or the order; a task lost with its worker is run again
by the scheduler with the same result. dask and distributed are an optional extra
(``pip install "sibsim[distributed]"``), imported only here and only when a client is given.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from sibsim._optional import require
from sibsim.engine.chunks import ChunkResult, simulate_chunk
from sibsim.engine.memory import SAFETY, Estimate, RunTooLarge, chunk_draws_for, format_bytes

__all__ = ["default_chunk_draws", "run_chunks", "worker_memory", "worker_threads"]


def _distributed(purpose: str = "a run on a dask cluster (client=...)"):
    return require("distributed", purpose=purpose)


def worker_threads(client) -> int:
    """Threads of all the cluster's workers together (at least 1).

    Parameters
    ----------
    client : dask.distributed.Client

    Returns
    -------
    int
    """
    return max(1, sum(client.nthreads().values()))


def worker_memory(client) -> int | None:
    """The smallest memory limit of the cluster's workers, in bytes (None: no limit).

    Parameters
    ----------
    client : dask.distributed.Client

    Returns
    -------
    int or None
    """
    workers = client.scheduler_info().get("workers", {})
    limits = [int(info.get("memory_limit") or 0) for info in workers.values()]
    limits = [limit for limit in limits if limit > 0]
    return min(limits) if limits else None


def default_chunk_draws(client, scenario, draws: int, resolution: str) -> int:
    """Chunks small enough for the memory budget, and at least two per worker thread.

    Parameters
    ----------
    client : dask.distributed.Client
    scenario : Scenario
    draws : int
    resolution : {"month", "year"}

    Returns
    -------
    int
    """
    spread = math.ceil(draws / (2 * worker_threads(client)))
    return max(1, min(chunk_draws_for(scenario, draws, resolution=resolution), spread))


def _check_workers(client, found: Estimate) -> None:
    limit = worker_memory(client)
    if limit is not None and found.per_chunk > limit:
        raise RunTooLarge(
            f"simulate: one chunk of {found.chunk_draws} draws needs about "
            f"{format_bytes(found.per_chunk)} on a worker (working memory "
            f"{format_bytes(SAFETY * found.chunk)}, the scenario's layout "
            f"{format_bytes(SAFETY * found.fixed)}), but the cluster's workers have a memory "
            f"limit of {format_bytes(limit)}; use smaller chunks (chunk_draws) or workers with "
            "more memory")


def _task(scenario, start: int, stop: int, seed: int, resolution: str,
          variables: Sequence[str] | None, threads: int | None) -> ChunkResult:
    """One chunk on a worker; numba uses the worker's threads unless told otherwise."""
    if threads is None:
        try:
            from distributed import get_worker

            threads = max(1, int(get_worker().state.nthreads))
        except (ImportError, ValueError, AttributeError):  # pragma: no cover - not on a worker
            threads = None
    return simulate_chunk(scenario, start, stop, seed, resolution=resolution,
                          variables=variables, threads=threads)


def run_chunks(client, scenario, plan: Sequence[tuple[int, int]], seed: int, *,
               resolution: str = "month", variables: Sequence[str] | None = None,
               threads: int | None = None, estimate: Estimate | None = None,
               progress: bool | None = None, in_flight: int | None = None
               ) -> Iterator[ChunkResult]:
    """Run chunks of a run as tasks on a cluster and yield each as it finishes.

    Parameters
    ----------
    client : dask.distributed.Client
        The cluster.
    scenario : Scenario
        A validated scenario (sent to every worker once).
    plan : sequence of (int, int)
        The chunks to run, ``(start, stop)``.
    seed : int
        The run's seed.
    resolution : {"month", "year"}, keyword-only
    variables : sequence of str, optional, keyword-only
        The variables each chunk keeps.
    threads : int, optional, keyword-only
        numba threads per task (default: the worker's threads).
    estimate : Estimate, optional, keyword-only
        When given, a chunk that does not fit a worker's memory limit is refused first.
    progress : bool, optional, keyword-only
        A progress bar over the draws (default: on long runs in a terminal).
    in_flight : int, optional, keyword-only
        Tasks submitted at once (default: two per worker thread).

    Yields
    ------
    ChunkResult
        In the order they finish. Tasks not yet done are cancelled when the caller stops
        early (an error, an interruption).
    """
    distributed = _distributed()
    from sibsim.engine.simulate import _progress_bar

    if estimate is not None:
        _check_workers(client, estimate)
    window = in_flight or 2 * worker_threads(client)
    [shared] = client.scatter([scenario], broadcast=True, hash=False)
    todo = list(plan)
    running = distributed.as_completed()
    futures = []

    def submit_next() -> None:
        start, stop = todo.pop(0)
        future = client.submit(_task, shared, start, stop, seed, resolution, variables,
                               threads, pure=False, key=f"sibsim-chunk-{start}-{stop}-"
                               f"{id(running):x}")
        futures.append(future)
        running.add(future)

    bar = _progress_bar(progress, sum(stop - start for start, stop in plan))
    try:
        while todo and len(futures) < window:
            submit_next()
        for future in running:
            chunk = future.result()
            futures.remove(future)
            future.release()
            if todo:
                submit_next()
            if bar is not None:
                bar.update(chunk.stop - chunk.start)
            yield chunk
    finally:
        if futures:
            client.cancel(futures)
        if bar is not None:
            bar.close()
