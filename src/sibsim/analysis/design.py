"""Contract design: the terms that maximise one party's statistic under every party's constraints.

:func:`design` puts candidate values at the key paths of a contract's terms (prices, shares,
caps, thresholds, tranche sizes, guarantee amounts, payer shares), simulates each candidate
with the same seed (common random numbers) and keeps the best one that meets every
constraint. The search (:mod:`sibsim.analysis.design_search`) is a grid, refined around the
best candidate, and bisection on the edges of the constraints; its method and tolerance
travel with the table of candidates. :func:`sibsim.design_frontier`
(:mod:`sibsim.analysis.frontier`) repeats it for a range of required levels. See
``docs/design.rst``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sibsim.analysis.design_notes import design_notes
from sibsim.analysis.design_search import (
    DESIGN_STATISTICS,
    SHARE_STATISTICS,
    Box,
    Candidates,
    Constraint,
    Target,
    best_row,
    score,
    search,
)
from sibsim.analysis.options import check_name, is_whole_number, real_pair
from sibsim.analysis.resimulate import Run
from sibsim.engine import check_draws
from sibsim.errors import DesignInfeasible
from sibsim.scenario import Scenario, load_scenario
from sibsim.scenario.keypath import format_path, parse_path, show
from sibsim.scenario.schema import currency as scenario_currency

__all__ = ["DESIGN_STATISTICS", "Design", "design", "parse_constraints", "parse_target"]

#: Values per parameter of the first grid, by the number of parameters (4 or more: 3).
DEFAULT_GRID = {1: 21, 2: 9, 3: 5}

#: Rounds of refinement after the grid, by the number of parameters (1: bisection only).
DEFAULT_REFINE = {1: 0, 2: 3, 3: 2}

#: The method, in words, as the table's ``method`` attribute states it.
METHOD = ("grid of {grid} values per parameter over the box, {refine} rounds of a 5-value "
          "grid at half the spacing around the best feasible candidate, then bisection along "
          "each parameter towards a better infeasible neighbour to xtol; common random "
          "numbers (seed {seed}) for every candidate")


def parse_target(value: Any, parties: Sequence[str], option: str = "maximize") -> Target:
    """A ``{"party": ..., "statistic": ...}`` mapping as a checked :class:`Target`.

    Parameters
    ----------
    value : mapping
        With keys ``party`` and ``statistic``.
    parties : sequence of str
        The scenario's parties.
    option : str
        The argument's name, for messages.

    Returns
    -------
    Target
    """
    if not isinstance(value, Mapping) or set(value) - {"party", "statistic"} or \
            "party" not in value or "statistic" not in value:
        raise ValueError(f"{option}: got {show(value)}, expected a mapping "
                         "{'party': ..., 'statistic': ...}")
    party = check_name(f"{option}.party", value["party"], list(parties))
    statistic = check_name(f"{option}.statistic", value["statistic"], list(DESIGN_STATISTICS))
    return Target(party, statistic)


def parse_constraints(values: Any, parties: Sequence[str]) -> list[Constraint]:
    """Checked constraints from ``[{"party", "statistic", "max" or "min"}, ...]``.

    Parameters
    ----------
    values : sequence of mapping
        Each with ``party``, ``statistic`` and exactly one of ``max`` and ``min``.
    parties : sequence of str
        The scenario's parties.

    Returns
    -------
    list of Constraint
    """
    if isinstance(values, Mapping):
        values = [values]
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"constraints: got {show(values)}, expected a list of mappings "
                         "{'party', 'statistic', 'max' or 'min'}")
    out = []
    for i, item in enumerate(values):
        where = f"constraints[{i}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: got {show(item)}, expected a mapping")
        bounds = [b for b in ("max", "min") if b in item]
        extra = set(item) - {"party", "statistic", "max", "min"}
        if len(bounds) != 1 or extra:
            raise ValueError(f"{where}: got {show(item)}, expected party, statistic and "
                             "exactly one of max and min")
        target = parse_target({k: item[k] for k in ("party", "statistic") if k in item},
                              parties, where)
        limit = _real(item[bounds[0]])
        if limit is None or not math.isfinite(limit):
            raise ValueError(f"{where}.{bounds[0]}: got {show(item[bounds[0]])}, "
                             "expected a finite number")
        out.append(Constraint(target, bounds[0], limit))
    return out


def _real(value: Any) -> float | None:
    pair = real_pair((value, 0.0))
    return None if pair is None else pair[0]


class Design:
    """The designed terms: key paths, bounds and how each value is put into a scenario.

    Parameters
    ----------
    base : Scenario
        The scenario.
    contract : str
        The designed contract.
    params : mapping of str to (float, float)
        Key path -> (low, high).
    """

    def __init__(self, base: Scenario, contract: str, params: Any):
        self.base, self.contract = base, contract
        self.index = base.contract_names().index(contract)
        if not isinstance(params, Mapping) or not params:
            raise ValueError(f"params: got {show(params)}, expected a mapping of key paths "
                             "to (low, high), e.g. {'contracts[1].outcomes[0].price': "
                             "(0, 200000)}")
        self.keys = list(params)
        self.complement: dict[str, tuple[str, str]] = {}
        low, high, whole = [], [], []
        for key, bounds in params.items():
            lo, hi, is_whole = self._check(key, bounds)
            low.append(lo)
            high.append(hi)
            whole.append(is_whole)
        self.box = Box(tuple(low), tuple(high), tuple(whole))

    def _check(self, key: Any, bounds: Any) -> tuple[float, float, bool]:
        """The bounds of one key after checking it names a number of the contract."""
        if not isinstance(key, str):
            raise ValueError(f"params: got the key {show(key)}, expected a key path")
        current = self.base.get(key)  # a ScenarioError names a key path that does not exist
        parts = parse_path(key)
        home = format_path(("contracts", self.index))
        if parts[:2] != ("contracts", self.index):
            raise ValueError(f"params: {key!r} is not a term of contract {self.contract!r} "
                             f"(its terms' key paths start with {home})")
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            raise ValueError(f"params: {key!r} holds {show(current)}, expected a number "
                             "(put a number there to design it)")
        pair = real_pair(bounds) if not isinstance(bounds, (str, bytes)) else None
        if pair is None or not all(math.isfinite(v) for v in pair):
            raise ValueError(f"params[{key!r}]: got {show(bounds)}, expected (low, high), "
                             "two finite numbers")
        lo, hi = pair
        if lo > hi:
            raise ValueError(f"params[{key!r}]: got low {lo:g} > high {hi:g}, expected "
                             "low <= high")
        if len(parts) == 4 and parts[2] == "payer":
            self._payer_share(key, parts[3], lo, hi)
        for value in (lo, hi):  # a ScenarioError names a bound the contract cannot take
            self.put(self.base, key, value)
        is_whole = is_whole_number(current)
        if is_whole and (lo != round(lo) or hi != round(hi)):
            raise ValueError(f"params[{key!r}]: got ({lo:g}, {hi:g}), expected whole "
                             "numbers (the key takes whole numbers)")
        return float(lo), float(hi), is_whole

    def _payer_share(self, key: str, party: str, lo: float, hi: float) -> None:
        payer = self.base.data["contracts"][self.index]["payer"]
        if len(payer) != 2:
            raise ValueError(f"params: {key!r} is a payer share, which design can choose "
                             f"only between two payers; the contract has {sorted(payer)}")
        if not 0 <= lo <= hi <= 1:
            raise ValueError(f"params[{key!r}]: got ({lo:g}, {hi:g}), expected a payer share "
                             "in [0, 1]")
        other = next(p for p in payer if p != party)
        self.complement[key] = (party, other)

    def put(self, scenario: Scenario, key: str, value: float) -> Scenario:
        """The scenario with ``value`` at ``key`` (a payer share with its complement).

        Parameters
        ----------
        scenario : Scenario
            The scenario.
        key : str
            One of the design's key paths.
        value : float
            The value.

        Returns
        -------
        Scenario
        """
        if key in self.complement:
            party, other = self.complement[key]
            path = format_path(("contracts", self.index, "payer"))
            return scenario.replace(path, {party: float(value), other: 1.0 - float(value)})
        current = self.base.get(key)
        if is_whole_number(current):
            return scenario.replace(key, int(round(value)))
        return scenario.replace(key, float(value))

    def apply(self, scenario: Scenario, values: Sequence[float]) -> Scenario:
        """The scenario with every value put in, in the order of the keys.

        Parameters
        ----------
        scenario : Scenario
            The scenario.
        values : sequence of float
            One per key.

        Returns
        -------
        Scenario
        """
        for key, value in zip(self.keys, values):
            scenario = self.put(scenario, key, value)
        return scenario


def design(scenario: Any, *, contract: str, params: Mapping[str, tuple[float, float]],
           maximize: Mapping[str, str], constraints: Sequence[Mapping[str, Any]] = (),
           draws: int = 1000, seed: int = 1, grid: int | None = None,
           refine: int | None = None, xtol: Mapping[str, float] | None = None,
           threads: int | None = None, client: Any = None) -> tuple[Scenario, pd.DataFrame]:
    """The contract terms that maximise one party's statistic under every constraint.

    Every candidate is simulated with the same seed (common random numbers), so that the
    candidates differ by their values alone. The search, robust to the steps of a
    probability of loss: a grid of ``grid`` values per parameter over the box; ``refine``
    rounds of a 5-value grid at half the spacing around the best feasible candidate; then,
    along each parameter, bisection to ``xtol`` from the best feasible candidate towards a
    better, infeasible neighbour (the edge of a constraint). The best feasible candidate is
    the one with the highest objective (ties to the smallest values, in the order of
    ``params``). ``scipy.optimize`` is not used: its local methods need a slope, which a
    probability of loss on common random numbers does not have (it is flat between steps
    of 1/draws), and its global ones cost hundreds of simulations per parameter.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    contract : str, keyword-only
        The contract designed.
    params : mapping of str to (float, float), keyword-only
        Key path of each term (a number of the contract: a price, a share, a cap, a
        threshold, a tranche amount, a guarantee amount, a payer share
        ``contracts[i].payer.<party>`` between two payers, whose other payer gets the
        rest) -> (low, high), low <= high. A key that holds a whole number (months) takes
        whole numbers.
    maximize : mapping, keyword-only
        ``{"party": ..., "statistic": ...}``: the statistic maximised. Statistics:
        ``mean``, ``median``, ``prob_loss``, ``expected_shortfall_05`` of the party's npv
        and ``prob_nominal_loss`` (share of draws with ``net`` < 0).
    constraints : sequence of mapping, keyword-only
        Each ``{"party": ..., "statistic": ..., "max": x}`` (or ``"min": x``).
    draws, seed, threads, client : keyword-only
        As for :func:`sibsim.sweep` (``client``: a dask.distributed Client).
    grid : int, optional, keyword-only
        Values per parameter of the first grid (default 21 for one parameter, 9 for two,
        5 for three, 3 for more).
    refine : int, optional, keyword-only
        Rounds of refinement (default 0 for one parameter, 3 for two, 2 for more).
    xtol : mapping of str to float, optional, keyword-only
        Bisection tolerance per key (default 1/1000 of its range; 1 for whole numbers).

    Returns
    -------
    (Scenario, pandas.DataFrame)
        The scenario with the chosen values, and every candidate evaluated: one column per
        key path, ``stage`` (grid, refine, edge), ``feasible``, ``fails`` (the constraints
        missed, ``;``-separated), ``violation`` (their total, each in its unit), and for
        every party ``<party>_<statistic>`` for each statistic and its Monte Carlo standard
        error ``<party>_<statistic>_mcse`` (as :func:`sibsim.summarize` states them), then ``payments_mean`` and ``no_payment_share``. The
        chosen row has ``chosen`` True. ``attrs``: method, tolerance (per key), objective,
        constraints, contract, currency, draws, seed, chosen (values) and notes (terms
        that do not move the result, in words).

    Raises
    ------
    DesignInfeasible
        When no candidate meets every constraint: it names the constraint that fails and
        the closest candidate (:attr:`~sibsim.DesignInfeasible.closest`, and the table).
    ScenarioError, ValueError
        For an unknown contract, party, statistic or key path, low > high, or a key that
        is not a number of the contract.

    Examples
    --------
    >>> chosen, table = sibsim.design(
    ...     "danish-pilot", contract="narrow",
    ...     params={"contracts[1].outcomes[0].price": (0, 200000)},
    ...     maximize={"party": "municipality", "statistic": "mean"},
    ...     constraints=[{"party": "provider", "statistic": "prob_loss", "max": 0.2}],
    ...     draws=500, seed=1)                                            # doctest: +SKIP
    """
    setup = _setup(scenario, contract, params, maximize, constraints, grid, refine, xtol)
    terms, objective, rules, grid, refine, tolerance_of = setup
    run = Run(check_draws(draws), seed, threads, client=client)
    candidates = Candidates(terms.base, contract, terms.apply, run, terms.keys)
    scales = _scales(candidates, terms.box, rules)
    tolerance = search(candidates, terms.box, objective, rules, grid=grid, refine=refine,
                       xtol=tolerance_of, scales=scales)
    return finish(terms, candidates, objective, rules, scales, tolerance, grid=grid,
                  refine=refine, run=run)


def _setup(scenario, contract, params, maximize, constraints, grid, refine, xtol):
    """Checked options: the Design, objective, constraints, grid, refine and tolerances."""
    base = load_scenario(scenario)
    contract = check_name("contract", contract, base.contract_names())
    terms = Design(base, contract, params)
    parties = base.parties()
    objective = parse_target(maximize, parties)
    rules = parse_constraints(list(constraints) if constraints is not None else [], parties)
    d = len(terms.keys)
    grid = DEFAULT_GRID.get(d, 3) if grid is None else grid
    refine = DEFAULT_REFINE.get(d, 2) if refine is None else refine
    if not is_whole_number(grid) or grid < 2:
        raise ValueError(f"grid: got {show(grid)}, expected a whole number >= 2")
    if not is_whole_number(refine) or refine < 0:
        raise ValueError(f"refine: got {show(refine)}, expected a whole number >= 0")
    xtol = dict(xtol or {})
    unknown = [k for k in xtol if k not in terms.keys]
    if unknown:
        raise ValueError(f"xtol: got keys {unknown}, expected keys of params {terms.keys}")
    tolerance_of = []
    for i, key in enumerate(terms.keys):
        span = terms.box.high[i] - terms.box.low[i]
        default = 1.0 if terms.box.whole[i] else 1e-3 * span
        value = _real(xtol.get(key, default))
        if value is None or not value > 0:
            raise ValueError(f"xtol[{key!r}]: got {show(xtol.get(key))}, expected a number > 0")
        tolerance_of.append(max(value, 1.0) if terms.box.whole[i] else value)
    return terms, objective, rules, grid, refine, tolerance_of


def _scales(candidates: Candidates, box: Box, rules: Sequence[Constraint]) -> dict[str, float]:
    """The unit of each constraint's violation: 1 for a share, else the sd of the party's npv.

    The sd is read at the box's lower corner (the first candidate of the grid), so that the
    unit is the same for every candidate.
    """
    first = candidates.evaluate(box.low, "grid")
    draws = candidates.run.draws
    scales = {}
    for rule in rules:
        if rule.target.statistic in SHARE_STATISTICS:
            scales[rule.label] = 1.0
        else:
            sd = first[f"{rule.target.party}_mean_mcse"] * math.sqrt(draws)
            scales[rule.label] = max(float(sd), abs(rule.limit), 1.0)
    return scales


def table_of(terms: Design, candidates: Candidates, rules: Sequence[Constraint],
             scales: dict[str, float]) -> pd.DataFrame:
    """Every candidate as a DataFrame with its feasibility, failed constraints and violation.

    Parameters
    ----------
    terms : Design
        The designed terms.
    candidates : Candidates
        The candidates evaluated.
    rules : sequence of Constraint
        The constraints.
    scales : dict of str to float
        The unit of each constraint's violation.

    Returns
    -------
    pandas.DataFrame
        Rows in the order evaluated.
    """
    rows = []
    for row in candidates.rows:
        feasible, violation = score(row, rules, scales)
        fails = [r.label for r in rules if r.violation(row[r.target.column]) > 0]
        rows.append({**{k: row[k] for k in terms.keys}, "stage": row["stage"],
                     "feasible": feasible, "fails": "; ".join(fails), "violation": violation,
                     **{k: v for k, v in row.items() if k not in terms.keys and k != "stage"}})
    return pd.DataFrame(rows)


def finish(terms: Design, candidates: Candidates, objective: Target,
           rules: Sequence[Constraint], scales: dict[str, float], tolerance: dict[str, float],
           *, grid: int, refine: int, run: Run) -> tuple[Scenario, pd.DataFrame]:
    """The chosen scenario and the table, or :class:`DesignInfeasible`.

    Parameters
    ----------
    terms : Design
        The designed terms.
    candidates : Candidates
        The candidates evaluated.
    objective : Target
        Maximised.
    rules : sequence of Constraint
        The constraints.
    scales : dict of str to float
        The unit of each constraint's violation.
    tolerance : dict of str to float
        The search's tolerance per key.
    grid, refine : int
        The search's settings, for the method's description.
    run : Run
        Draws and seed.

    Returns
    -------
    (Scenario, pandas.DataFrame)
    """
    table = table_of(terms, candidates, rules, scales)
    row, feasible = best_row(candidates.rows, terms.keys, objective, rules, scales)
    values = {k: row[k] for k in terms.keys}
    position = candidates.rows.index(row)
    table["chosen"] = np.arange(len(table)) == position
    table.attrs = {
        "method": METHOD.format(grid=grid, refine=refine, seed=run.seed),
        "tolerance": tolerance, "objective": objective.label,
        "constraints": [r.label for r in rules], "contract": terms.contract,
        "currency": scenario_currency(terms.base.data), "draws": run.draws, "seed": run.seed,
        "chosen": values, "params": list(terms.keys),
        "notes": design_notes(table, terms, values),
    }
    if not feasible:
        table["chosen"] = False
        raise _infeasible(table, terms, rules, values, row)
    return terms.apply(terms.base, [values[k] for k in terms.keys]), table


def _infeasible(table: pd.DataFrame, terms: Design, rules: Sequence[Constraint],
                values: dict, row: dict) -> DesignInfeasible:
    """The error naming the constraint that fails and the closest candidate."""
    shown = ", ".join(f"{k} = {v:,.6g}" for k, v in values.items())
    everywhere = [r for r in rules
                  if all(r.violation(v) > 0 for v in table[r.target.column])]
    missed = [r for r in rules if r.violation(row[r.target.column]) > 0]
    named = (everywhere or missed)[0]
    column = named.target.column
    best = table[column].min() if named.bound == "max" else table[column].max()
    parts = [f"no candidate of the {len(table)} evaluated meets every constraint"]
    if everywhere:
        parts.append(f"{named.label} fails in every one (best {best:,.6g})")
    misses = "; ".join(f"{r.target.label} = {row[r.target.column]:,.6g} against "
                       f"{r.label.split(' ', 1)[1]}" for r in missed)
    parts.append(f"closest candidate: {shown}, where {misses}")
    return DesignInfeasible("; ".join(parts), constraint=named.label, closest=values,
                            table=table)
