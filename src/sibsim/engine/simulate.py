"""``simulate``: scenario in, labelled results out."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import functools
import os
import threading

import numba
import numpy as np
import xarray as xr

from sibsim.engine import compile as comp
from sibsim.engine.kernels.effects import change_points as effect_points
from sibsim.engine.kernels.trajectories import simulate_group
from sibsim.engine.ledger import ComparisonGroup, Ledger
from sibsim.engine.params import ParamValues, sample_parameters
from sibsim.engine.records import DrawArrays, Group, Members, Outputs, Workspace
from sibsim.engine.rng import check_seed
from sibsim.engine.sampling import MEMBERS_BLOCK, draw_member_rows

#: The most draws per kernel call (fewer for large cohorts, see
#: :func:`sibsim.engine.memory.kernel_batch`). Results never depend on it (each draw owns its
#: random numbers); it bounds the time of one kernel call (an interruption is acted on
#: between calls) and paces the progress bar.
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


#: What the command line prints before a run that compiles the engine.
COMPILING = ("sibsim: compiling the simulation engine (first run only, about 10 s; later "
             "runs load it from numba's cache)...")


def engine_compiled() -> bool:
    """Whether the trajectory kernel is compiled, or in numba's cache for this source.

    When it is not, the next run compiles it first (seconds, see ``docs/scale.rst``); the
    command line says so. This looks into numba's cache index (not a public interface of
    numba): if that fails, the kernel is taken to be compiled, and nothing is said.

    Returns
    -------
    bool
    """
    if simulate_group.signatures:
        return True
    try:
        return bool(simulate_group._cache._cache_file._load_index())
    except Exception:  # noqa: BLE001 - a look into numba's internals, never an error
        return True


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


#: Draws per block handed to a thread: small enough to balance the threads' load on a
#: shared machine, large enough that a block's call costs nothing next to its work.
BLOCK_DRAWS = 4


def in_threads(work, n: int, threads: int | None = None, block: int = BLOCK_DRAWS) -> None:
    """Call ``work(first, stop)`` over blocks of ``0 .. n - 1`` on ``threads`` threads.

    ``work`` must release the GIL (numba ``nogil`` kernels) and write only the rows of its
    block, so the result does not depend on the number of threads or the order of the
    blocks. Each thread takes the next block when it is done with one (the load of a shared
    machine is uneven). An exception (Ctrl-C included) stops the threads after their
    current block and is raised here.

    Parameters
    ----------
    work : callable
        ``work(first, stop)``, for ``first < stop``.
    n : int
        Rows to cover.
    threads : int, optional
        Default: numba's thread count (``numba.get_num_threads``, set by ``threads=``).
    block : int, default BLOCK_DRAWS
        Rows per block.

    Returns
    -------
    None
    """
    threads = min(threads or numba.get_num_threads(), -(-n // block))
    if threads <= 1:
        if n > 0:
            work(0, n)
        return
    blocks = iter(range(0, n, block))
    lock = threading.Lock()
    stop = threading.Event()

    def run():
        while not stop.is_set():
            with lock:
                first = next(blocks, None)
            if first is None:
                return
            work(first, min(first + block, n))

    pool = _pool()
    futures = [pool.submit(run) for _ in range(threads)]
    try:
        for future in futures:
            future.result()
    finally:
        stop.set()
        concurrent.futures.wait(futures)


@functools.lru_cache(maxsize=1)
def _pool() -> concurrent.futures.ThreadPoolExecutor:
    """The process's worker threads for :func:`in_threads` (started once, on first use)."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=numba.config.NUMBA_NUM_THREADS,
                                                 thread_name_prefix="sibsim")


def new_workspace(group: Group, compiled: comp.CompiledScenario, n_pairs: int,
                  change_points: tuple[np.ndarray, ...] | None = None) -> Workspace:
    """The scratch arrays of one thread's kernel calls for ``group`` (reset for each draw).

    Made here rather than in the kernel, so that the kernel allocates nothing (numba then
    compiles no array constructors, and no reference counting). ``change_points``: the
    effect's change points (:func:`~sibsim.engine.kernels.effects.change_points`),
    read-only and shared by the threads; made here when not given. A comparison group
    never reads them.

    Parameters
    ----------
    group : Group
        The group the kernel calls simulate (its arms set the counts' shape).
    compiled : CompiledScenario
    n_pairs : int
        Payer-category pairs of the cost rates.
    change_points : tuple of ndarray, optional

    Returns
    -------
    Workspace
    """
    transitions = compiled.transitions
    months, n_states = compiled.months, len(compiled.states)
    n_transitions = transitions.outgoing.shape[0]
    n_arms = 2 if group.both_arms else 1
    n_buckets = compiled.buckets.keys.shape[0]
    if change_points is None:
        change_points = effect_points(transitions)
    spell = functools.partial(np.empty, months + 1, dtype=np.int64)
    return Workspace(
        spell_state=spell(), spell_start=spell(), spell_end=spell(),
        spell_months_in_state=spell(),
        hazard=np.empty(n_transitions),
        reached=np.empty(compiled.rate_cards.outcome_state.shape[0], dtype=np.int64),
        count_change=np.zeros((n_arms, months + 1, n_states, n_buckets), dtype=np.int64),
        effect=np.ones((n_transitions, months)),
        effect_change=change_points[0], effect_active=change_points[1],
        effect_fading=change_points[2], steady_change=change_points[3],
        fading_hazard=np.zeros((n_states, n_buckets, months, 4)),
        fading_filled=np.zeros((n_states, n_buckets), dtype=np.int64),
        count=np.zeros(n_states, dtype=np.int64), running=np.zeros(n_pairs),
    )


def run_group(group: Group, compiled: comp.CompiledScenario, arrays: DrawArrays,
              due: np.ndarray | None = None, *, occupancy: np.ndarray | None = None,
              cost: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
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
    occupancy, cost : ndarray, optional, keyword-only
        C-contiguous arrays of the shapes returned, to be written (every element of the
        group's arms) in place of new ones; they may have more arms than the group, whose
        elements are left as they are.

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
    if occupancy is None:
        occupancy = np.zeros((n_draws, n_arms, months, n_states))
    if cost is None:
        cost = np.zeros((n_draws, n_arms, months, n_pairs))
    for name, given, shape in (("occupancy", occupancy, (n_draws, n_arms, months, n_states)),
                               ("cost", cost, (n_draws, n_arms, months, n_pairs))):
        # More arms than the group's are left as they are (a comparison arm, written later).
        if (given.ndim != 4 or given.shape[0] != shape[0] or given.shape[1] < n_arms
                or given.shape[2:] != shape[2:] or not given.flags.c_contiguous):
            raise ValueError(f"run_group: {name} must be a C-contiguous array of shape "
                             f"{shape} (or with more arms), got {given.shape}")
    out = Outputs(occupancy=occupancy, cost=cost, due=due)
    members = _members(group, compiled, arrays)
    args = (group, members, compiled.transitions, compiled.buckets, compiled.cells,
            compiled.rate_cards, arrays, out)
    change_points = effect_points(compiled.transitions)
    local = threading.local()  # one workspace per thread, reused by its blocks

    def block(first: int, stop: int) -> None:
        work = getattr(local, "work", None)
        if work is None:
            work = local.work = new_workspace(group, compiled, n_pairs, change_points)
        simulate_group(*args, work, np.int64(first), np.int64(stop))

    in_threads(block, n_draws)
    return out.occupancy, out.cost


def _members(group: Group, compiled: comp.CompiledScenario, arrays: DrawArrays) -> Members:
    """The group's frailty and prior months in the chunk's draws (``draw_members``), drawn
    in blocks of rows on the run's threads: numpy releases the GIL inside each operation,
    and for a large group this is a fifth of the kernel's time."""
    n_draws, n = arrays.frailty_variance.shape[0], group.site.shape[0]
    members = Members(frailty=np.ones((n_draws, n)),
                      prior_months=np.zeros((n_draws, n), dtype=np.int64))
    if n == 0:
        return members

    def rows(first: int, stop: int) -> None:
        draw_member_rows(group, compiled.prior_months, arrays, first,
                         members.frailty[first:stop], members.prior_months[first:stop])

    in_threads(rows, n_draws, block=max(1, MEMBERS_BLOCK // n))
    return members


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


def run_model(scenario, draws: int, seed: int, *, progress=None, start: int = 0,
              batch: int | None = None, parameter_draws: np.ndarray | None = None,
              rows=None):
    """Simulate every group of ``scenario`` and return the ledger and the parameter values.

    This is the engine without the contracts and the Dataset: useful for tests and
    benchmarks that look at the kernels alone, and the first step of every chunk of a run
    (:func:`sibsim.engine.chunks.simulate_chunk`).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    draws : int
        Number of draws.
    seed : int
        The run's seed.
    progress : bool or progress bar, optional, keyword-only
        Show a progress bar (default: on long runs in a terminal), or an object with an
        ``update(n)`` method told of every ``n`` draws done.
    start : int, keyword-only, default 0
        The run's index of the first draw: the draws are ``start .. start + draws - 1``.
    batch : int, optional, keyword-only
        Draws per kernel call (default: at most :data:`CHUNK_DRAWS`, fewer for large cohorts
        so that an interruption is acted on within a fraction of a second).
    parameter_draws : array of int, shape (draws,), optional, keyword-only
        The k-th draw of the run takes the per-draw parameter values of draw
        ``parameter_draws[k]`` (of a run with the same seed), and keeps its own chance:
        participants, frailty, prior months, comparison groups and the economy shock.
        Default: its own. With ``repeat(arange(outer), inner)`` the ``inner`` draws of each
        block share one parameter draw and differ by chance alone
        (:func:`sibsim.variance_split`).
    rows : callable, optional, keyword-only
        ``rows(name, shape, dtype)``: the result array (or None) to write the cohort's
        ``occupancy`` (counts) and ``cost`` into, as :func:`sibsim.results.assemble` will
        (:meth:`sibsim.engine.chunks.Assembler.rows`); the ledger's arrays are then views
        of them, and ``assemble`` turns them into the results in place.

    Returns
    -------
    ledger : Ledger
    values : ParamValues
    compiled : CompiledScenario
        Its ``months``, ``states``, ``payers`` and ``categories`` name the ledger's axes.
    """
    from sibsim.engine.memory import kernel_batch

    compiled = comp.compile_scenario(scenario)
    own = np.arange(start, start + draws, dtype=np.int64)
    values = sample_parameters(scenario, own, seed) if parameter_draws is None else \
        _parameters_of(scenario, own, seed, parameter_draws)
    n_states, n_payers = len(compiled.states), len(compiled.payers)
    n_cats = len(compiled.categories)
    T = compiled.months
    # The kernel writes every element of its outputs straight into these (no copies); with
    # ``rows``, into the run's own arrays of the results, whose last arm is the comparison
    # group's (written by the results from the group's own arrays).
    arms = 2 + (1 if compiled.comparison else 0)
    occupancy = rows and rows("occupancy", (arms, T, n_states), np.dtype(np.float64))
    cost = rows and rows("cost", (arms, T, n_payers, n_cats), np.dtype(np.float64))
    occupancy = np.empty((draws, 2, T, n_states)) if occupancy is None else occupancy
    cost = np.empty((draws, 2, T, n_payers * n_cats)) if cost is None else \
        cost.reshape(draws, arms, T, n_payers * n_cats)
    due = np.zeros((draws, len(compiled.rate_card_contracts), T))
    groups = {n: (np.empty((draws, 1, T, n_states)), np.empty((draws, 1, T, n_payers * n_cats)))
              for n in compiled.comparison}
    batch = batch or kernel_batch(scenario, most=CHUNK_DRAWS)
    own_bar = not hasattr(progress, "update")
    bar = _progress_bar(progress, draws) if own_bar else progress
    for first in range(0, draws, batch):
        stop = min(first + batch, draws)
        chunk = slice(first, stop)
        arrays = comp.draw_arrays(scenario, compiled, _chunk(values, chunk), seed)
        run_group(compiled.cohort, compiled, arrays, due[chunk], occupancy=occupancy[chunk],
                  cost=cost[chunk])
        for n, group in compiled.comparison.items():
            run_group(group, compiled, arrays, occupancy=groups[n][0][chunk],
                      cost=groups[n][1][chunk])
        if bar is not None:
            bar.update(stop - first)
    if bar is not None and own_bar:
        bar.close()
    comparison = {
        n: ComparisonGroup(size=n, enrolled=g.enrolled(T), occupancy=groups[n][0][:, 0],
                           cost=groups[n][1][:, 0].reshape(draws, T, n_payers, n_cats))
        for n, g in compiled.comparison.items()
    }

    ledger = Ledger(
        months=T, states=compiled.states, payers=compiled.payers,
        categories=compiled.categories, discount=comp.discount_factors(values, T),
        enrolled=compiled.cohort.enrolled(T), occupancy=occupancy[:, :2],
        cost=cost[:, :2].reshape(draws, 2, T, n_payers, n_cats),
        programme_cost=comp.programme_cost(scenario._document, compiled, values),
        comparison=comparison, historical=_historical(scenario),
        rate_card_due={i: due[:, r] for r, i in enumerate(compiled.rate_card_contracts)},
    )
    return ledger, values, compiled


@functools.lru_cache(maxsize=4)
def _historical(scenario):
    """The historical baseline when some contract needs it (computed once per scenario)."""
    if not comp.needs_historical_baseline(scenario._document):
        return None
    from sibsim.engine.exact import historical_baseline

    return historical_baseline(scenario)


def check_chunk_draws(chunk_draws, *, function: str = "simulate") -> int | None:
    """Return ``chunk_draws`` as an int (None stays None), or raise ValueError naming it."""
    if chunk_draws is None:
        return None
    if isinstance(chunk_draws, (bool, np.bool_)) or not isinstance(
            chunk_draws, (int, np.integer)) or chunk_draws < 1:
        raise ValueError(f"{function}: chunk_draws: got {chunk_draws!r}, expected a positive "
                         "integer or None")
    return int(chunk_draws)


def simulate(scenario, draws: int = 2000, seed: int = 1, threads: int | None = None,
             resolution: str = "month", *, progress: bool | None = None, client=None,
             chunk_draws: int | None = None, variables=None) -> xr.Dataset:
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
    progress : bool, optional, keyword-only
        Show a progress bar (default: on long runs in a terminal).
    client : dask.distributed.Client, optional, keyword-only
        Run the chunks of draws as tasks on this cluster (needs ``sibsim[distributed]``).
        The results are the same, bit for bit, as without it.
    chunk_draws : int, optional, keyword-only
        Draws per chunk (default: as many as fit 256 MiB of working memory; with a client,
        also at least two chunks per worker thread). Never changes the results.
    variables : sequence of str, optional, keyword-only
        Keep only these result variables (default: all); ``["npv", "params"]`` lets large
        runs skip the per-month costs.

    Returns
    -------
    xarray.Dataset
        The result variables (occupancy, cost, payment, npv, ... by draw), declared
        with their dims and units in :mod:`sibsim.results`; see docs/api.rst.

    Raises
    ------
    sibsim.engine.memory.RunTooLarge
        Before allocating anything, when the run's estimated memory exceeds what the
        machine has available (the message says what to change; ``docs/scale.rst``).

    Examples
    --------
    >>> import sibsim
    >>> result = sibsim.simulate("danish-pilot", draws=200, seed=1)  # doctest: +SKIP
    >>> result["npv"].sel(party="municipality").mean("draw")  # doctest: +SKIP
    """
    from sibsim.engine import chunks, memory
    from sibsim.scenario import load_scenario

    scenario = load_scenario(scenario)
    draws = check_draws(draws)
    seed = check_seed(seed)
    if resolution not in ("month", "year"):
        raise ValueError(f"resolution: got {resolution!r}, expected 'month' or 'year'")
    variables = chunks.check_variables(variables, function="simulate")
    chunk_draws = check_chunk_draws(chunk_draws)
    if client is not None:
        from sibsim.engine import cluster

        chunk_draws = chunk_draws or cluster.default_chunk_draws(client, scenario, draws,
                                                                 resolution)
    chunk_draws = min(chunk_draws or memory.chunk_draws_for(scenario, draws,
                                                            resolution=resolution), draws)
    found = memory.estimate(scenario, draws, chunk_draws=chunk_draws, variables=variables,
                            resolution=resolution, threads=threads)
    memory.check(found, draws=draws, streamed=False, function="simulate")
    plan = chunks.plan_chunks(draws, chunk_draws)
    overlap = client is None and len(plan) > 1 and _overlap_fits(found)
    with memory.small_pages():  # speed only: see its docstring
        if client is not None:
            from sibsim.engine import cluster

            results = cluster.run_chunks(client, scenario, plan, seed, resolution=resolution,
                                         variables=variables, threads=threads, estimate=found,
                                         progress=progress)
        assembler = chunks.Assembler(draws)
        if client is None:
            # Chunks write their largest variables straight into the run's arrays.
            results = _in_process(scenario, plan, seed, resolution=resolution,
                                  variables=variables, threads=threads, progress=progress,
                                  overlap=overlap and (threads or numba.get_num_threads()) > 1,
                                  rows=assembler.rows if len(plan) > 1 else None)
        for chunk in results:
            chunks.check_finite(chunk, scenario)
            if len(plan) == 1:
                return chunk.dataset
            assembler.add(chunk)
        return assembler.result()


def _overlap_fits(found) -> bool:
    """Whether a second chunk's working memory fits beside the run's estimate."""
    from sibsim.engine import memory

    available = memory.available_memory()
    return available is None or found.total + found.chunk * memory.SAFETY <= available


class _Stoppable:
    """A progress object that ends a chunk at its next kernel call once ``stop`` is set."""

    def __init__(self, bar, stop: threading.Event):
        self.bar, self.stop = bar, stop

    def update(self, n: int) -> None:
        if self.stop.is_set():
            raise _Stopped
        if self.bar is not None:
            self.bar.update(n)


class _Stopped(Exception):
    """A chunk in flight ended because the run stopped (an error or Ctrl-C elsewhere)."""


def _in_process(scenario, plan, seed, *, resolution, variables, threads, progress,
                overlap=False, rows=None):
    """The chunks of a run in this process, in order.

    With ``overlap``, two chunks are in flight on two threads: while one settles and
    assembles its results (Python, mostly holding the GIL), the other runs its kernel
    (which releases it), so the cores stay busy. Each chunk is computed as on its own, so
    the results are the same. ``rows(start, stop)``, when given, tells chunk ``start ..
    stop - 1`` where to write its largest variables
    (:meth:`~sibsim.engine.chunks.Assembler.rows`). When the run stops (Ctrl-C, an error),
    the chunk in flight ends at its next kernel call.
    """
    from sibsim.engine.chunks import simulate_chunk

    total = plan[-1][1] - plan[0][0]
    bar = _progress_bar(progress, total)
    stop = threading.Event()
    options = {"resolution": resolution, "variables": variables, "threads": threads,
               "progress": _Stoppable(bar, stop) if overlap else
               (bar if bar is not None else False)}
    try:
        if not overlap:
            for start, stop_draw in plan:
                yield simulate_chunk(scenario, start, stop_draw, seed, **options,
                                     out=rows and rows(start, stop_draw))
            return
        with concurrent.futures.ThreadPoolExecutor(
                max_workers=2, thread_name_prefix="sibsim-chunk") as pool:
            pending = collections.deque()
            try:
                for start, stop_draw in plan:
                    pending.append(pool.submit(simulate_chunk, scenario, start, stop_draw,
                                               seed, **options,
                                               out=rows and rows(start, stop_draw)))
                    if len(pending) == 2:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                stop.set()
                for future in pending:
                    future.cancel()
    finally:
        if bar is not None:
            bar.close()
