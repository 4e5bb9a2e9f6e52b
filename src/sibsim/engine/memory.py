"""Memory as a limit of a run: estimate it before allocating, and refuse what cannot fit.

A run holds three things in memory (see ``docs/scale.rst``, "Memory"):

- the scenario's fixed layout: every participant's site and entry month (of the cohort and
  of each comparison group), the months-in-state tables and one workspace per thread;
- the working memory of one chunk of draws: the kernels' counts and costs, the per-draw
  hazards and cost rates, the settlement of the contracts and the chunk's Dataset, all
  proportional to the chunk's draws;
- the results kept: each requested variable for every draw (for :func:`sibsim.simulate`), or
  only the chunks on their way to the store (for :func:`sibsim.simulate_to_zarr`, whose peak
  depends on ``chunk_draws``, not on ``draws``).

:func:`estimate` counts these from the scenario's sizes alone (before anything is compiled or
allocated), :func:`available_memory` reads what the machine can give (the operating system's
available memory, a container's limit, or ``SIBSIM_MEMORY_LIMIT``), and :func:`check` refuses
a run whose estimate does not fit with a :class:`RunTooLarge` error that says what to change.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
from dataclasses import dataclass, field

import numpy as np

from sibsim.results.schema import VARIABLES

__all__ = ["Estimate", "RunTooLarge", "advice", "available_memory", "check",
           "chunk_draws_for", "estimate", "format_bytes", "kernel_batch", "one_draw",
           "small_pages"]

#: Bytes of a float64 or int64.
WORD = 8
#: The estimate is the sum of the arrays counted below times this factor, which covers the
#: temporaries of numpy expressions (measured by tests/test_memory.py and
#: benchmarks/scale.py: the peak stays below the estimate).
SAFETY = 1.5
#: Working memory one chunk may take when ``chunk_draws`` is not given.
CHUNK_BUDGET = 256 * 2**20
#: Participant-draws per kernel call: about a quarter of a second of work on one core, so
#: that an interruption (Ctrl-C, SIGTERM) is acted on promptly.
KERNEL_BUDGET = 400_000
#: At most this many draws per kernel call (the progress bar moves at least this often).
KERNEL_DRAWS = 256
#: Distribution-parameter samplers' grid scan (the IRR solver's rate grid has 81 points).
_IRR_GRID = 81


class RunTooLarge(MemoryError):
    """A run needs more memory than the machine has available (raised before allocating)."""


@dataclass(frozen=True)
class Sizes:
    """The sizes of a scenario that the memory of a run depends on."""

    months: int
    states: int
    pairs: int
    buckets: int
    last_key: int
    transitions: int
    participants: int
    comparison: tuple[int, ...]
    rate_cards: int
    outcomes: int
    parameters: int
    dims: dict = field(default_factory=dict)

    @property
    def group_participants(self) -> int:
        """Participant-arms simulated per draw (the cohort in two arms, the groups in one)."""
        return 2 * self.participants + sum(self.comparison)


def sizes(scenario, resolution: str = "month") -> Sizes:
    """The sizes of ``scenario`` that memory depends on, read without compiling it.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    resolution : {"month", "year"}
        The time dimension of the results.

    Returns
    -------
    Sizes
    """
    from sibsim.engine.compile import (
        comparison_group_sizes,
        months_in_state_keys,
        outcome_contracts,
    )

    data = scenario._document
    months = int(data["months"])
    keys = months_in_state_keys(data)
    rate_cards = outcome_contracts(data)
    comparison = tuple(comparison_group_sizes(data))
    pairs = len(scenario.payers()) * len(scenario.categories())
    dims = {
        "draw": 1, "month": months, "year": -(-months // 12),
        "arm": 3 if comparison else 2, "state": len(data["states"]),
        "payer": len(scenario.payers()), "category": len(scenario.categories()),
        "contract": len(data["contracts"]), "party": len(scenario.parties()),
        "param": len(scenario.uncertain()),
    }
    if resolution == "year":
        dims["month"] = dims["year"]
    return Sizes(
        months=months, states=len(data["states"]), pairs=pairs, buckets=len(keys),
        last_key=int(keys[-1]), transitions=len(data["transitions"]),
        participants=sum(site["size"] for site in data["cohort"]["sites"].values()),
        comparison=comparison, rate_cards=len(rate_cards),
        outcomes=sum(len(data["contracts"][i]["outcomes"]) for i in rate_cards),
        parameters=len(scenario.parameters()), dims=dims,
    )


def variable_bytes(size: Sizes, name: str) -> tuple[int, bool]:
    """Bytes of one result variable per draw (or in all, without a draw dim); has it draws?"""
    dims = VARIABLES[name].dims
    count = math.prod(size.dims.get(dim, 1) for dim in dims)
    return WORD * count, "draw" in dims


def _fixed_bytes(size: Sizes, threads: int) -> int:
    """The draw-independent layout and one kernel workspace per thread."""
    participants = size.participants + sum(size.comparison)
    per_participant = 6 * WORD  # site and entry month, and their temporaries
    tables = (size.states + 3) * (size.last_key + 1) * WORD
    # Counts by cell, spells, the effect tables and the fading table (four per cell-month).
    workspace = (2 * (size.months + 1) * size.states * size.buckets + 4 * (size.months + 1)
                 + (size.transitions + 3 * size.states) * size.months
                 + 4 * size.states * size.buckets * size.months)
    # Each kernel call's frailty and prior months (two words per participant-draw of the
    # call) and the samplers' temporaries; two calls may be in flight (overlapping chunks).
    from sibsim.engine.sampling import MEMBERS_BLOCK

    members = 2 * (2 * min(KERNEL_BUDGET, participants * KERNEL_DRAWS) + 24 * MEMBERS_BLOCK)
    return (participants * per_participant + tables
            + (threads * workspace + members) * WORD)


def _chunk_bytes_per_draw(size: Sizes) -> int:
    """The working memory of one draw of a chunk: kernels, settlement, assembly."""
    T, S, Q, B = size.months, size.states, size.pairs, size.buckets
    groups = len(size.comparison)
    kernels = 2 * T * (S + Q) + size.rate_cards * T + groups * T * (S + Q)
    draw_arrays = (size.transitions * B + 2 * S * B + S * B * Q + 4 * T
                   + size.outcomes + size.rate_cards + 2 * size.parameters)
    assembly = 5 * T * S + 4 * T * Q + 2 * T * Q  # normalised, joined, savings temporaries
    contracts = size.dims["contract"]
    settlement = contracts * T * 6 + contracts * size.dims["party"] + 8 * T + 4 * _IRR_GRID
    return WORD * (kernels + draw_arrays + assembly + settlement)


@dataclass(frozen=True)
class Estimate:
    """The memory a run needs, in bytes, by part.

    Attributes
    ----------
    fixed : int
        The scenario's layout and the kernels' workspaces.
    chunk : int
        The working memory of one chunk of ``chunk_draws`` draws.
    results : int
        The results kept in memory (all draws of the requested variables, or the chunks in
        flight of a streamed run).
    by_variable : dict of str to int
        ``results`` by variable, for the messages.
    chunk_draws : int
        The chunk the estimate is for.
    """

    fixed: int
    chunk: int
    results: int
    by_variable: dict
    chunk_draws: int

    @property
    def total(self) -> int:
        """The whole estimate, with the safety factor for temporaries."""
        return int(SAFETY * (self.fixed + self.chunk + self.results))

    @property
    def per_chunk(self) -> int:
        """What one chunk needs on its own (a worker of a cluster)."""
        return int(SAFETY * (self.fixed + self.chunk))


def estimate(scenario, draws: int, *, chunk_draws: int, variables=None,
             resolution: str = "month", streamed: bool = False,
             threads: int | None = None, in_flight: int = 1) -> Estimate:
    """Estimate the memory of a run before allocating anything.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    draws : int
        Draws of the run.
    chunk_draws : int, keyword-only
        Draws per chunk.
    variables : sequence of str, optional, keyword-only
        The result variables kept (default: all).
    resolution : {"month", "year"}, keyword-only
    streamed : bool, keyword-only
        True when each chunk goes to a store as soon as it is done (only ``in_flight`` chunks
        of results are held).
    threads : int, optional, keyword-only
        numba threads (default: the configured number).
    in_flight : int, keyword-only
        Chunks of results held at once by a streamed run.

    Returns
    -------
    Estimate
    """
    import numba

    size = sizes(scenario, resolution)
    threads = numba.config.NUMBA_NUM_THREADS if threads is None else threads
    names = list(VARIABLES) if variables is None else list(variables)
    kept_draws = min(draws, in_flight * chunk_draws) if streamed else draws
    by_variable = {}
    for name in names:
        per, has_draws = variable_bytes(size, name)
        by_variable[name] = per * kept_draws if has_draws else per
    return Estimate(fixed=_fixed_bytes(size, threads),
                    chunk=chunk_draws * _chunk_bytes_per_draw(size),
                    results=sum(by_variable.values()), by_variable=by_variable,
                    chunk_draws=chunk_draws)


def chunk_draws_for(scenario, draws: int, *, resolution: str = "month",
                    budget: int = CHUNK_BUDGET) -> int:
    """The default chunk: as many draws as fit the working-memory budget (at least 1).

    It depends only on the scenario, the draws and the resolution (never on the machine), so
    that a streamed run resumed elsewhere finds the same chunks.

    Parameters
    ----------
    scenario : Scenario
    draws : int
    resolution : {"month", "year"}, keyword-only
    budget : int, keyword-only
        Bytes of working memory per chunk (default 256 MiB).

    Returns
    -------
    int
        Between 1 and ``draws``.
    """
    per_draw = SAFETY * _chunk_bytes_per_draw(sizes(scenario, resolution))
    return int(max(1, min(draws, budget // max(per_draw, 1))))


def kernel_batch(scenario, most: int = KERNEL_DRAWS) -> int:
    """Draws per kernel call: few enough that a call lasts a fraction of a second.

    Parameters
    ----------
    scenario : Scenario
    most : int, default 256
        The largest batch.

    Returns
    -------
    int
        Between 1 and ``most``.
    """
    data = scenario._document
    from sibsim.engine.compile import comparison_group_sizes

    participants = 2 * sum(site["size"] for site in data["cohort"]["sites"].values())
    participants += sum(comparison_group_sizes(data))
    return int(max(1, min(most, KERNEL_BUDGET // max(participants, 1))))


# ---------------------------------------------------------------------------------------------
# What the machine has
# ---------------------------------------------------------------------------------------------

_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 10**3, "kib": 2**10, "m": 2**20, "mb": 10**6,
          "mib": 2**20, "g": 2**30, "gb": 10**9, "gib": 2**30, "t": 2**40, "tb": 10**12,
          "tib": 2**40}


def parse_bytes(text: str) -> int | None:
    """``"8GiB"``, ``"512 MB"``, ``"1e9"`` as bytes; None for ``"none"``/``"off"``.

    Parameters
    ----------
    text : str

    Returns
    -------
    int or None

    Examples
    --------
    >>> parse_bytes("8GiB"), parse_bytes("1.5 GB"), parse_bytes("off")
    (8589934592, 1500000000, None)
    """
    cleaned = text.strip().lower()
    if cleaned in ("none", "off", "unlimited", "0"):
        return None
    found = re.fullmatch(r"([0-9.]+(?:e[0-9]+)?)\s*([a-z]*)", cleaned)
    if not found or found.group(2) not in _UNITS:
        raise ValueError(f"SIBSIM_MEMORY_LIMIT: got {text!r}, expected an amount such as "
                         "'8GiB', '512MB' or 'off'")
    return int(float(found.group(1)) * _UNITS[found.group(2)])


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_available() -> int | None:
    """What a container's memory limit leaves (cgroup v2, else v1); None without a limit."""
    for limit_path, usage_path in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit = _read_int(limit_path)
        if limit is not None and limit < 2**60:
            return max(0, limit - (_read_int(usage_path) or 0))
    return None


def available_memory() -> int | None:
    """Bytes this process can still allocate without the machine running out.

    ``SIBSIM_MEMORY_LIMIT`` (e.g. ``"8GiB"``, or ``"off"`` to switch the check off) takes
    precedence; otherwise the smaller of the operating system's available memory and what a
    container's memory limit leaves.

    Returns
    -------
    int or None
        None when unknown (or switched off): runs are then not checked.
    """
    setting = os.environ.get("SIBSIM_MEMORY_LIMIT")
    if setting:
        return parse_bytes(setting)
    found = [value for value in (_meminfo_available(), _cgroup_available()) if value is not None]
    if not found:
        try:
            import psutil

            found.append(int(psutil.virtual_memory().available))
        except ImportError:  # pragma: no cover - Linux has /proc/meminfo
            return None
    return min(found)


def format_bytes(n: float) -> str:
    """Bytes for a person: ``"1.4 GiB"``, ``"380 MiB"``.

    Parameters
    ----------
    n : float

    Returns
    -------
    str

    Examples
    --------
    >>> format_bytes(1.5 * 2**30), format_bytes(2048)
    ('1.5 GiB', '2.0 KiB')
    """
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{int(n)} B"


def _largest(by_variable: dict, count: int = 3) -> str:
    ranked = sorted(by_variable.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{name} {format_bytes(SAFETY * n)}" for name, n in ranked if n)


def one_draw(found: Estimate) -> int:
    """What a run needs at the least: the layout and the working memory of one draw.

    Parameters
    ----------
    found : Estimate

    Returns
    -------
    int
    """
    return int(SAFETY * (found.fixed + found.chunk / max(found.chunk_draws, 1)))


def advice(found: Estimate, *, draws: int, streamed: bool, available: int | None) -> str:
    """What to change so that a run fits, in words (for the error and for ``validate``).

    Parameters
    ----------
    found : Estimate
    draws : int
    streamed : bool
    available : int or None
        The memory available.

    Returns
    -------
    str
    """
    if available is not None and one_draw(found) > available:
        return ("even one draw does not fit: make the cohort, the comparison groups or the "
                "horizon smaller, or run on a machine with more memory")
    hints = []
    if not streamed and found.results > found.chunk:
        hints.append(f"fewer draws (now {draws})")
        hints.append(f"fewer result variables (variables=[...]; the largest: "
                     f"{_largest(found.by_variable)})")
        hints.append("a zarr output (simulate_to_zarr, or sibsim run --out RUN.zarr), whose "
                     "memory depends on the chunk, not on the draws")
    if found.chunk_draws > 1:
        hints.append(f"smaller chunks (chunk_draws; now {found.chunk_draws})")
    return "use " + "; or ".join(hints)


def check(found: Estimate, *, draws: int, streamed: bool, function: str,
          available: int | None = None) -> None:
    """Refuse a run whose estimate exceeds the available memory.

    Parameters
    ----------
    found : Estimate
    draws : int
    streamed : bool
    function : str
        Named in the message.
    available : int, optional
        Bytes available (default: :func:`available_memory`).

    Returns
    -------
    None

    Raises
    ------
    RunTooLarge
        Naming the estimate, the available memory and what to change.
    """
    available = available_memory() if available is None else available
    if available is None or found.total <= available:
        return
    raise RunTooLarge(
        f"{function}: a run of {draws} draws of this scenario needs about "
        f"{format_bytes(found.total)} (results {format_bytes(SAFETY * found.results)}, one "
        f"chunk of {found.chunk_draws} draws {format_bytes(SAFETY * found.chunk)}, the "
        f"scenario's layout {format_bytes(SAFETY * found.fixed)}), but this machine has "
        f"{format_bytes(available)} available; "
        f"{advice(found, draws=draws, streamed=streamed, available=available)} "
        "(SIBSIM_MEMORY_LIMIT sets the limit)")


_pages_lock = threading.Lock()
_pages_depth = [0, True]  # runs inside small_pages(), and numpy's setting before the first


@contextlib.contextmanager
def small_pages():
    """Run the block with numpy's transparent-huge-page hint off (speed only, never results).

    On Linux numpy asks the kernel for huge pages for every large array
    (``madvise(MADV_HUGEPAGE)``). Where the kernel then compacts memory synchronously on the
    first touch of such an array (``/sys/kernel/mm/transparent_hugepage/defrag`` set to
    ``madvise``, a common default), a run that fills fresh result arrays chunk after chunk
    stalls there: on the built-in scenario at 10,000 draws this took about a quarter of
    the run. Inside this block numpy uses ordinary pages (as with
    ``NUMPY_MADVISE_HUGEPAGE=0``); numpy's setting is restored when the last block in any
    thread ends. Without numpy's (private) switch it does nothing.

    Returns
    -------
    context manager
    """
    switch = getattr(np._core.multiarray, "_set_madvise_hugepage", None) \
        if hasattr(np, "_core") else None
    if switch is None:
        yield
        return
    with _pages_lock:
        if _pages_depth[0] == 0:
            _pages_depth[1] = switch(False)
        _pages_depth[0] += 1
    try:
        yield
    finally:
        with _pages_lock:
            _pages_depth[0] -= 1
            if _pages_depth[0] == 0:
                switch(_pages_depth[1])
