"""Runs in chunks of draws: one chunk's result, and the whole run put together from chunks.

Every draw's random numbers depend only on the scenario, the seed and the draw (never on
which other draws run with it), and the settlement of the contracts works draw by draw. So
a run can be cut into chunks of consecutive draws, each simulated, settled and assembled on
its own (:func:`simulate_chunk`: in this process, on a worker of a cluster, or for a zarr
store), and the chunks put back together (:class:`Assembler`) give the same numbers, bit for
bit, as one run of all draws, whatever the chunking and the order in which chunks finish.

What is not draw by draw is computed over the whole run: :data:`SUMMARIES` declares each
result variable that summarises over all draws, the counts a chunk contributes to it and how
they combine. Every other variable without a ``draw`` dimension is the same in every chunk
(the enrolment, who funds a tranche), which the assembler checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sibsim.results.schema import VARIABLES
from sibsim.scenario.kinds import suggest

#: Draws computed together at least (see :func:`simulate_chunk`).
MIN_DRAWS = 2

__all__ = ["SUMMARIES", "Assembler", "ChunkResult", "Summary", "check_finite",
           "check_variables", "plan_chunks", "simulate_chunk"]


@dataclass(frozen=True)
class Summary:
    """A result variable that summarises over all draws.

    Attributes
    ----------
    counts : callable
        ``counts(chunk) -> dict of str to ndarray``: what a chunk's full Dataset contributes
        (sums over its draws, combined by adding).
    finish : callable
        ``finish(counts) -> ndarray``: the variable from the counts of the whole run.
    """

    counts: Callable[[xr.Dataset], dict]
    finish: Callable[[dict], np.ndarray]


def _no_root_counts(chunk: xr.Dataset) -> dict:
    # Money was drawn from a contract's tranches exactly where its multiple is a number.
    drawn = ~np.isnan(chunk["investor_multiple"].values)
    no_root = drawn & np.isnan(chunk["investor_irr"].values)
    return {"drawn": drawn.sum(axis=0), "no_root": no_root.sum(axis=0)}


def _no_root_share(counts: dict) -> np.ndarray:
    drawn, no_root = counts["drawn"], counts["no_root"]
    share = np.full(drawn.shape, np.nan)
    some = drawn > 0
    share[some] = no_root[some] / drawn[some]
    return share


#: The result variables computed over all draws, by name.
SUMMARIES: dict[str, Summary] = {
    "investor_irr_no_root": Summary(counts=_no_root_counts, finish=_no_root_share),
}


def check_variables(variables: Sequence[str] | str | None, *, function: str) -> list[str] | None:
    """The result variables to keep, checked against the declared ones.

    Parameters
    ----------
    variables : sequence of str, str or None
        Names of result variables (None: all).
    function : str
        The public function, named in the message.

    Returns
    -------
    list of str or None
        The names in the Dataset's order, without repeats; None for all.

    Raises
    ------
    ValueError
        Naming an unknown variable (with the closest declared name) or an empty list.

    Examples
    --------
    >>> check_variables(["params", "npv", "npv"], function="simulate")
    ['npv', 'params']
    """
    if variables is None:
        return None
    chosen = [variables] if isinstance(variables, str) else list(variables)
    known = list(VARIABLES)
    for name in chosen:
        if not isinstance(name, str) or name not in VARIABLES:
            raise ValueError(f"{function}: variables: got {name!r}, expected names of result "
                             f"variables ({', '.join(known)}){suggest(name, known)}")
    if not chosen:
        raise ValueError(f"{function}: variables: got an empty list, expected at least one "
                         f"result variable ({', '.join(known)})")
    return [name for name in known if name in chosen]


def plan_chunks(draws: int, chunk_draws: int) -> list[tuple[int, int]]:
    """The chunks of a run: ``(start, stop)`` of consecutive draws, in order.

    Parameters
    ----------
    draws : int
    chunk_draws : int

    Returns
    -------
    list of (int, int)

    Examples
    --------
    >>> plan_chunks(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    """
    return [(start, min(start + chunk_draws, draws)) for start in range(0, draws, chunk_draws)]


@dataclass
class ChunkResult:
    """One chunk of a run.

    Attributes
    ----------
    start, stop : int
        Its draws, ``start .. stop - 1``.
    dataset : xarray.Dataset
        The kept variables of the chunk (``draw`` coordinate ``start .. stop - 1``), with the
        attributes of a result.
    counts : dict of str to dict
        For each summary variable kept, the chunk's counts (:data:`SUMMARIES`).
    """

    start: int
    stop: int
    dataset: xr.Dataset
    counts: dict


def simulate_chunk(scenario, start: int, stop: int, seed: int, *, resolution: str = "month",
                   variables: Sequence[str] | None = None, threads: int | None = None,
                   batch: int | None = None, progress=False,
                   out: Callable | None = None) -> ChunkResult:
    """Simulate, settle and assemble draws ``start .. stop - 1`` of a run.

    This is the task a cluster runs; it is also how :func:`sibsim.simulate` runs in this
    process, one chunk after another.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    start, stop : int
        The chunk's draws.
    seed : int
        The run's seed.
    resolution : {"month", "year"}, keyword-only
    variables : sequence of str, optional, keyword-only
        The variables to keep (checked names; default: all).
    threads : int, optional, keyword-only
        numba threads (never changes the results).
    batch : int, optional, keyword-only
        Draws per kernel call (default: :func:`sibsim.engine.memory.kernel_batch`).
    progress : progress bar or False, keyword-only
        An object with ``update(n)``, told of the draws done after each kernel call.
    out : callable, optional, keyword-only
        Where the chunk's ``occupancy`` and ``cost`` go: ``out(name, shape, dtype)`` gives
        the array to write them into (:meth:`Assembler.rows`), so that a run's largest
        variables are written once, straight into the run's arrays. Used at monthly
        resolution only.

    Returns
    -------
    ChunkResult
    """
    from sibsim.engine.memory import small_pages

    # A lone draw is computed beside the next one: numpy sums an array with one draw in
    # another order than an array of several (it merges the axes around a length-1 axis),
    # which would change the last bits. Every draw is computed among at least two.
    count = max(stop - start, MIN_DRAWS)
    with small_pages():
        return _simulate_chunk(scenario, start, stop, count, seed, resolution=resolution,
                               variables=variables, threads=threads, batch=batch,
                               progress=progress, out=out)


def _simulate_chunk(scenario, start, stop, count, seed, *, resolution, variables, threads,
                    batch, progress, out) -> ChunkResult:
    from sibsim.contracts import settle
    from sibsim.engine.simulate import numba_threads, run_model
    from sibsim.results import assemble

    # A lone draw is computed among two (see simulate_chunk): it has no rows of its own.
    rows = None
    if out is not None and count == stop - start and resolution == "month":
        def rows(name, shape, dtype):
            return out(name, shape, dtype) if variables is None or name in variables else None
    with numba_threads(threads):
        ledger, values, compiled = run_model(scenario, count, seed, start=start,
                                             progress=progress, batch=batch, rows=rows)
    parties = list(scenario.parties())
    data = scenario._document
    settlement = settle(data["contracts"], ledger, values.get, parties,
                        discount_rates=data.get("discount_rates"))
    full = assemble(scenario, compiled, ledger, values, settlement, parties, seed=seed,
                    resolution=resolution, variables=variables, out=rows)
    full = full.assign_coords(draw=np.arange(start, start + count))
    if count != stop - start:
        full = _first_draws(full, stop - start)
    keep = list(full.data_vars) if variables is None else list(variables)
    counts = {name: SUMMARIES[name].counts(full) for name in keep if name in SUMMARIES}
    return ChunkResult(start=start, stop=stop, dataset=full[keep], counts=counts)


def _first_draws(full: xr.Dataset, draws: int) -> xr.Dataset:
    """The first ``draws`` of a chunk; its summaries over draws recomputed from its counts."""
    kept = full.isel(draw=slice(0, draws))
    for name, summary in SUMMARIES.items():
        if name in kept.data_vars:
            values = summary.finish(summary.counts(kept)).astype(kept[name].dtype)
            kept[name] = (kept[name].dims, values, kept[name].attrs)
    kept.attrs = dict(full.attrs, draws=int(draws))
    return kept


def _finite_problems(dataset: xr.Dataset) -> list[str]:
    """Money variables that are not finite, with the draws where they are not."""
    problems = []
    for name in dataset.data_vars:
        # Money is always a number (NaN in an IRR or a multiple means "none").
        if name not in VARIABLES or VARIABLES[name].units != "DKK":
            continue
        values = dataset[name].values
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(values.sum()):  # a sum of finite numbers that did not overflow
                continue
        bad = ~np.isfinite(values)
        if bad.any():
            draws = dataset["draw"].values[bad.reshape(bad.shape[0], -1).any(axis=1)] \
                if "draw" in dataset[name].dims else []
            where = f" in draws {list(draws[:5])}{' ...' if len(draws) > 5 else ''}" \
                if len(draws) else ""
            problems.append(f"{name}{where}")
    return problems


def check_finite(chunk: ChunkResult, scenario) -> None:
    """Raise when a chunk's amounts are not finite (they overflowed float64).

    Parameters
    ----------
    chunk : ChunkResult
    scenario : Scenario
        For the message: its largest amounts are named.

    Returns
    -------
    None

    Raises
    ------
    ValueError
        Naming the variables and draws that are not finite, and the scenario's largest
        numbers.
    """
    problems = _finite_problems(chunk.dataset)
    if not problems:
        return
    numbers = []
    for path, value in scenario.parameters().items():
        magnitude = abs(value) if isinstance(value, float) else abs(value.quantile(0.999))
        numbers.append((magnitude, path))
    numbers.sort(reverse=True)
    largest = ", ".join(f"{path} ({magnitude:.3g})" for magnitude, path in numbers[:3])
    raise ValueError(f"simulate: the results are not finite numbers ({'; '.join(problems)}): "
                     "some amounts or rates are too large for the sums over participants and "
                     f"months; the largest numbers of the scenario are {largest}")


class Assembler:
    """Puts a run's chunks together into one Dataset, in any order of arrival.

    Parameters
    ----------
    draws : int
        Draws of the whole run.
    """

    def __init__(self, draws: int):
        self.draws = draws
        self.template: xr.Dataset | None = None
        self.arrays: dict[str, np.ndarray] = {}
        self.counts: dict[str, dict] = {}
        self.filled = 0
        self._lock = threading.Lock()

    def rows(self, start: int, stop: int) -> Callable:
        """Where a chunk writes its draws ``start .. stop - 1`` of a variable, in place.

        Parameters
        ----------
        start, stop : int
            The chunk's draws.

        Returns
        -------
        callable
            ``rows(name, shape, dtype)``: rows ``start .. stop - 1`` of the run's array of
            variable ``name`` (made on first use, of shape ``(draws, *shape)``), for
            :func:`simulate_chunk`'s ``out``. :meth:`add` then copies nothing for it.
        """
        def rows(name: str, shape: tuple, dtype) -> np.ndarray:
            with self._lock:  # two chunks in flight may ask first at once
                if name not in self.arrays:
                    self.arrays[name] = np.empty((self.draws, *shape), dtype=dtype)
            array = self.arrays[name]
            if array.shape[1:] != tuple(shape) or array.dtype != dtype:
                raise ValueError(f"chunks disagree on the shape of {name!r}: "
                                 f"{array.shape[1:]} and {tuple(shape)}")
            return array[start:stop]

        return rows

    def _start(self, dataset: xr.Dataset) -> None:
        self.template = dataset
        for name, variable in dataset.data_vars.items():
            if "draw" in variable.dims and name not in self.arrays:
                shape = (self.draws, *variable.shape[1:])
                self.arrays[name] = np.empty(shape, dtype=variable.dtype)

    def add(self, chunk: ChunkResult) -> None:
        """Store one chunk's draws and add its counts.

        Parameters
        ----------
        chunk : ChunkResult

        Returns
        -------
        None
        """
        dataset = chunk.dataset
        if self.template is None:
            self._start(dataset)
        for name, variable in dataset.data_vars.items():
            if name in self.arrays:
                target = self.arrays[name][chunk.start:chunk.stop]
                if not np.may_share_memory(variable.values, target):  # not written in place
                    target[...] = variable.values
            elif name not in SUMMARIES and not np.array_equal(
                    variable.values, self.template[name].values,
                    equal_nan=variable.dtype.kind == "f"):
                raise RuntimeError(f"chunks disagree on {name!r}, which has no draw dimension "
                                   "and is not declared as a summary over all draws")
        for name, counts in chunk.counts.items():
            total = self.counts.setdefault(name, {})
            for key, value in counts.items():
                total[key] = total[key] + value if key in total else value.copy()
        self.filled += chunk.stop - chunk.start

    def result(self) -> xr.Dataset:
        """The whole run, once every draw has arrived.

        Returns
        -------
        xarray.Dataset
            The variables in the order of a result, with ``draws`` the run's.
        """
        if self.template is None or self.filled != self.draws:
            raise RuntimeError(f"the run is incomplete: {self.filled} of {self.draws} draws")
        template = self.template
        data_vars = {}
        for name, variable in template.data_vars.items():
            if name in self.arrays:
                values = self.arrays[name]
            elif name in SUMMARIES:
                values = SUMMARIES[name].finish(self.counts[name]).astype(variable.dtype)
            else:
                values = variable.values
            data_vars[name] = (variable.dims, values, dict(variable.attrs))
        coords = {name: (coord.dims, np.arange(self.draws) if name == "draw" else coord.values,
                         dict(coord.attrs))
                  for name, coord in template.coords.items()}
        result = xr.Dataset(data_vars, coords=coords)
        result.attrs = dict(template.attrs, draws=int(self.draws))
        return result
