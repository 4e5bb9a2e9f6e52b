"""The search of :func:`sibsim.design`: candidates on common random numbers, a grid, refinement
and bisection on the edges of the constraints.

Every candidate is one simulation of the scenario with the design's values put at their key
paths, always with the same seed (:func:`sibsim.analysis.resimulate.simulate_variant`), so
that two candidates differ by their values alone. A party's probability of loss is then a
step function of the values (it moves by 1/draws where a draw crosses 0), flat between the
steps: optimisers that follow a slope or fit a simplex (``scipy.optimize.minimize`` with
SLSQP, COBYLA or Nelder-Mead) stall on such a function or step over its edges, and a global
one (``scipy.optimize.differential_evolution``) needs hundreds of simulations per dimension.
The search therefore evaluates candidates directly, in three stages
(``docs/design.rst``):

1. ``grid``: a full grid over the box, ``grid`` values per parameter (evenly spaced);
2. ``refine``: rounds of a finer grid (5 values per parameter, half the spacing) around the
   best feasible candidate (the closest candidate while none is feasible);
3. ``edge``: along each parameter in turn, where the neighbour of the best candidate at the
   last spacing is infeasible and better, bisection of that segment to ``xtol``, keeping
   its feasible end: the edge of a constraint is then found to ``xtol``.

The tolerance reported for a parameter is the width of the last interval it was searched on.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sibsim.analysis import statistics
from sibsim.analysis.resimulate import Run, simulate_variant
from sibsim.scenario import Scenario

__all__ = ["DESIGN_STATISTICS", "Candidates", "Constraint", "Target", "search"]

#: Statistics of a party's npv (and, for prob_nominal_loss, of its net) a design can target.
DESIGN_STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "mean": statistics.mean,
    "median": statistics.median,
    "prob_loss": statistics.prob_loss,
    "expected_shortfall_05": statistics.expected_shortfall,
    "prob_nominal_loss": statistics.prob_loss,  # of the undiscounted net position
}

#: Statistics that are shares of draws (in [0, 1]), the others are amounts of money.
SHARE_STATISTICS = ("prob_loss", "prob_nominal_loss")

#: Refinement grids have this many values per parameter: the best candidate and two on
#: each side at half the previous spacing.
REFINE_POINTS = 5


@dataclass(frozen=True)
class Target:
    """A statistic of a party's position under the designed contract."""

    party: str
    statistic: str

    @property
    def column(self) -> str:
        """Its column in the table of candidates, ``<party>_<statistic>``."""
        return f"{self.party}_{self.statistic}"

    @property
    def label(self) -> str:
        """``party.statistic``."""
        return f"{self.party}.{self.statistic}"


@dataclass(frozen=True)
class Constraint:
    """A bound on a statistic: ``max`` (at most ``limit``) or ``min`` (at least ``limit``)."""

    target: Target
    bound: str
    limit: float

    @property
    def label(self) -> str:
        """E.g. ``"provider.prob_loss <= 0.2"``."""
        sign = "<=" if self.bound == "max" else ">="
        return f"{self.target.label} {sign} {self.limit:g}"

    def violation(self, value: float) -> float:
        """How far ``value`` lies beyond the limit (0 where the constraint holds)."""
        excess = value - self.limit if self.bound == "max" else self.limit - value
        return max(0.0, float(excess))


class Candidates:
    """Every candidate evaluated, by its values, each simulated once with the run's seed.

    Parameters
    ----------
    base : Scenario
        The scenario.
    contract : str
        The designed contract.
    apply : callable
        ``apply(base, values) -> Scenario``: the variant with the values put in.
    run : Run
        Draws, seed, threads and client of every candidate.
    keys : sequence of str
        The parameters' key paths, in order.
    """

    def __init__(self, base: Scenario, contract: str,
                 apply: Callable[[Scenario, tuple[float, ...]], Scenario], run: Run,
                 keys: Sequence[str]):
        self.base, self.contract, self.apply, self.run = base, contract, apply, run
        self.keys = list(keys)
        self.parties = base.parties()
        self.rows: list[dict] = []
        self._index: dict[tuple[float, ...], int] = {}

    def evaluate(self, values: Sequence[float], stage: str) -> dict:
        """The row of a candidate (simulated on first request).

        Parameters
        ----------
        values : sequence of float
            One value per key.
        stage : str
            The search stage that asked for it (kept from the first request).

        Returns
        -------
        dict
            The key paths' values, every statistic of every party and its Monte Carlo
            standard error (``<party>_<statistic>_mcse``), ``payments_mean``
            (mean undiscounted payments made), ``no_payment_share`` (share of draws with no
            payment) and ``stage``.
        """
        point = tuple(float(v) for v in values)
        if point in self._index:
            return self.rows[self._index[point]]
        variant = self.apply(self.base, point)
        result = simulate_variant(variant, self.run, variables=["npv", "net", "payment"])
        npv = result["npv"].sel(contract=self.contract)
        net = result["net"].sel(contract=self.contract)
        row: dict = dict(zip(self.keys, point))
        for party in self.parties:
            a = np.asarray(npv.sel(party=party).values, dtype=np.float64)
            b = np.asarray(net.sel(party=party).values, dtype=np.float64)
            for name, measure in DESIGN_STATISTICS.items():
                row[f"{party}_{name}"] = float(measure(b if name == "prob_nominal_loss" else a))
            row[f"{party}_mean_mcse"] = float(statistics.mean_mcse(a))
            row[f"{party}_median_mcse"] = float(statistics.quantile_mcse(a, [0.5])[0])
            row[f"{party}_prob_loss_mcse"] = float(statistics.prob_loss_mcse(a))
            row[f"{party}_expected_shortfall_05_mcse"] = float(
                statistics.expected_shortfall_mcse(a))
            row[f"{party}_prob_nominal_loss_mcse"] = float(statistics.prob_loss_mcse(b))
        paid = np.asarray(result["payment"].sel(contract=self.contract).sum("month").values,
                          dtype=np.float64)
        row["payments_mean"] = float(paid.mean())
        row["no_payment_share"] = float(np.mean(paid == 0))
        row["stage"] = stage
        self._index[point] = len(self.rows)
        self.rows.append(row)
        return row


@dataclass(frozen=True)
class Box:
    """The bounds of the parameters and which of them take whole numbers only."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    whole: tuple[bool, ...]

    def clip(self, i: int, value: float) -> float:
        """A value of parameter ``i`` within its bounds (rounded for a whole number)."""
        value = min(max(value, self.low[i]), self.high[i])
        return float(round(value)) if self.whole[i] else float(value)

    def axis(self, i: int, centre: float, spacing: float, count: int) -> list[float]:
        """``count`` values of parameter ``i`` around ``centre`` at ``spacing``, clipped."""
        half = (count - 1) // 2
        values = [self.clip(i, centre + k * spacing) for k in range(-half, half + 1)]
        return sorted(set(values))


def score(row: dict, constraints: Sequence[Constraint],
          scales: dict[str, float]) -> tuple[bool, float]:
    """Whether a candidate meets every constraint, and its total violation.

    Parameters
    ----------
    row : dict
        A row of :class:`Candidates`.
    constraints : sequence of Constraint
        The constraints.
    scales : dict of str to float
        The unit of each constraint's violation, by its label.

    Returns
    -------
    (bool, float)
        Feasible, and the sum over the constraints of how far the candidate lies beyond
        each limit, in its unit.
    """
    total = sum(c.violation(row[c.target.column]) / scales[c.label] for c in constraints)
    return total == 0.0, total


def best_row(rows: Sequence[dict], keys: Sequence[str], objective: Target,
             constraints: Sequence[Constraint], scales: dict[str, float]) -> tuple[dict, bool]:
    """The best feasible row (highest objective, ties to the smallest values), or the closest.

    Parameters
    ----------
    rows : sequence of dict
        Rows of :class:`Candidates`.
    keys : sequence of str
        The parameters.
    objective : Target
        The statistic maximised.
    constraints : sequence of Constraint
        The constraints.
    scales : dict of str to float
        The unit each constraint's violation is measured in, by its label.

    Returns
    -------
    (dict, bool)
        The row, and whether it is feasible.
    """
    scored = [(row, *score(row, constraints, scales)) for row in rows]
    feasible = [row for row, ok, _ in scored if ok]
    if feasible:
        return min(feasible, key=lambda r: (-r[objective.column],
                                            tuple(r[k] for k in keys))), True
    # Ties in violation (a probability of loss of 1 at every value) go to the candidate
    # where the parties that miss a constraint fare best on average.
    def missing_mean(row: dict) -> float:
        return -sum(row[f"{c.target.party}_mean"] / scales[c.label] for c in constraints
                    if c.violation(row[c.target.column]) > 0)

    closest = min(scored, key=lambda item: (item[2], missing_mean(item[0]),
                                            tuple(item[0][k] for k in keys)))
    return closest[0], False


def search(candidates: Candidates, box: Box, objective: Target,
           constraints: Sequence[Constraint], *, grid: int, refine: int,
           xtol: Sequence[float], scales: dict[str, float]) -> dict[str, float]:
    """Grid, refinement and edge bisection; every candidate lands in ``candidates.rows``.

    Parameters
    ----------
    candidates : Candidates
        Evaluates and keeps the candidates.
    box : Box
        The bounds.
    objective : Target
        Maximised.
    constraints : sequence of Constraint
        Every constraint.
    grid : int
        Values per parameter of the first grid.
    refine : int
        Rounds of refinement.
    xtol : sequence of float
        The bisection tolerance of each parameter.
    scales : dict of str to float
        The unit of each constraint's violation, by its label.

    Returns
    -------
    dict of str to float
        The tolerance of each parameter: the width of the last interval it was searched on.
    """
    keys = candidates.keys
    d = len(keys)
    spacing = [(box.high[i] - box.low[i]) / max(grid - 1, 1) for i in range(d)]
    axes = [sorted(set(box.clip(i, v) for v in np.linspace(box.low[i], box.high[i], grid)))
            for i in range(d)]
    for point in itertools.product(*axes):
        candidates.evaluate(point, "grid")

    def best() -> tuple[dict, bool]:
        return best_row(candidates.rows, keys, objective, constraints, scales)

    for _ in range(refine):
        centre, _ok = best()
        spacing = [s / 2 for s in spacing]
        axes = [box.axis(i, centre[keys[i]], spacing[i], REFINE_POINTS) for i in range(d)]
        for point in itertools.product(*axes):
            candidates.evaluate(point, "refine")
    tolerance = {k: (float(s) if s > 0 else 0.0) for k, s in zip(keys, spacing)}
    for i in range(d):
        width = _edge(candidates, box, i, spacing[i], xtol[i], best, objective, constraints,
                      scales)
        if width is not None:
            tolerance[keys[i]] = width
    return tolerance


def _edge(candidates: Candidates, box: Box, i: int, spacing: float, xtol: float,
          best: Callable[[], tuple[dict, bool]], objective: Target,
          constraints: Sequence[Constraint], scales: dict[str, float]) -> float | None:
    """Bisect from the best feasible candidate towards a better, infeasible neighbour.

    Returns the final width of the bracket, or None where no edge was bisected.
    """
    centre, ok = best()
    if not ok or spacing <= 0:
        return None
    keys = candidates.keys
    here = tuple(centre[k] for k in keys)
    width = None
    for direction in (-1.0, 1.0):
        other = list(here)
        other[i] = box.clip(i, here[i] + direction * spacing)
        if other[i] == here[i]:
            continue
        row = candidates.evaluate(other, "edge")
        feasible, _ = score(row, constraints, scales)
        if feasible or row[objective.column] <= centre[objective.column]:
            continue
        inside, outside = here[i], other[i]
        while abs(outside - inside) > xtol:
            middle = list(here)
            middle[i] = box.clip(i, 0.5 * (inside + outside))
            if middle[i] in (inside, outside):
                break
            row = candidates.evaluate(middle, "edge")
            if score(row, constraints, scales)[0]:
                inside = middle[i]
            else:
                outside = middle[i]
        width = abs(outside - inside)
        break
    return None if width is None else float(width if not math.isnan(width) else spacing)
