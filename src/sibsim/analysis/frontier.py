"""The design frontier: what one party can keep against what the other must be promised.

:func:`design_frontier` runs the search of :func:`sibsim.design` once for each required level
of the counterparty's statistic (its probability of loss at most x, or its mean at least y),
on one pool of candidates simulated with the same seed. The best candidate of each level is
then chosen from the whole pool, so that a looser requirement can never keep less: the
frontier is monotone by construction. See ``docs/design.rst``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sibsim.analysis.design import METHOD, _real, _scales, _setup, parse_target
from sibsim.analysis.design_search import (
    SHARE_STATISTICS,
    Candidates,
    Constraint,
    best_row,
    search,
)
from sibsim.analysis.resimulate import Run
from sibsim.engine import check_draws
from sibsim.scenario.keypath import show
from sibsim.scenario.schema import currency as scenario_currency

__all__ = ["design_frontier"]


def _levels(levels: Any) -> list[float]:
    """Distinct finite levels, increasing."""
    if isinstance(levels, (str, bytes)) or not isinstance(levels, (Sequence, np.ndarray)):
        raise ValueError(f"levels: got {show(levels)}, expected a sequence of numbers")
    out = []
    for i, value in enumerate(levels):
        number = _real(value)
        if number is None or not math.isfinite(number):
            raise ValueError(f"levels[{i}]: got {show(value)}, expected a finite number")
        out.append(number)
    if not out:
        raise ValueError("levels: got an empty sequence, expected at least one level")
    return sorted(set(out))


def design_frontier(scenario: Any, *, contract: str, params: Mapping[str, tuple[float, float]],
                    keep: Mapping[str, str], promise: Mapping[str, str], levels: Sequence[float],
                    constraints: Sequence[Mapping[str, Any]] = (), draws: int = 1000,
                    seed: int = 1, search_options: Mapping[str, Any] | None = None,
                    threads: int | None = None, client: Any = None) -> pd.DataFrame:
    """The best one party can keep for each level promised to another: the design frontier.

    For each level, the statistic ``keep`` is maximised (as :func:`sibsim.design` does)
    subject to ``constraints`` and to the promise: ``promise``'s statistic at most the level
    for a probability (``prob_loss``, ``prob_nominal_loss``), at least the level otherwise
    (``mean``, ``median``, ``expected_shortfall_05``). Every candidate is simulated once,
    with the same seed, into one pool; each level's best is chosen from the whole pool, so
    the kept statistic never falls as the promise loosens (monotone by construction).

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    contract : str, keyword-only
        The contract designed.
    params : mapping of str to (float, float), keyword-only
        The terms and their bounds, as for :func:`sibsim.design`.
    keep : mapping, keyword-only
        ``{"party": ..., "statistic": ...}`` maximised (e.g. the municipality's mean).
    promise : mapping, keyword-only
        ``{"party": ..., "statistic": ...}`` held at each level (e.g. the provider's
        prob_loss).
    levels : sequence of float, keyword-only
        The levels of the promise (sorted and made distinct).
    constraints : sequence of mapping, keyword-only
        Further constraints that hold at every level.
    draws, seed, threads, client : keyword-only
        As for :func:`sibsim.design`.
    search_options : mapping, optional, keyword-only
        ``grid``, ``refine`` and ``xtol`` of :func:`sibsim.design`.

    Returns
    -------
    pandas.DataFrame
        One row per level, increasing: ``level``, ``feasible``, the kept statistic
        ``<party>_<statistic>`` and its ``_mcse`` (NaN where no candidate meets the
        level), the promised statistic reached and its ``_mcse``, and the terms' values of
        the level's best candidate (of the closest one where none meets it). ``attrs``:
        keep, promise, bound ("max" or "min"), contract, currency, draws, seed, method,
        candidates (how many were simulated).

    Examples
    --------
    >>> table = sibsim.design_frontier(
    ...     "danish-pilot", contract="sib",
    ...     params={"contracts[3].outcomes[0].price": (50000, 400000)},
    ...     keep={"party": "municipality", "statistic": "mean"},
    ...     promise={"party": "investor", "statistic": "prob_loss"},
    ...     levels=[0.1, 0.2, 0.3, 0.5], draws=500, seed=1)               # doctest: +SKIP
    >>> fig = sibsim.plot.frontier(table)                                # doctest: +SKIP
    """
    options = dict(search_options or {})
    unknown = sorted(set(options) - {"grid", "refine", "xtol"})
    if unknown:
        raise ValueError(f"search_options: got keys {unknown}, expected grid, refine, xtol")
    terms, objective, rules, grid, refine, xtol = _setup(
        scenario, contract, params, keep, constraints, options.get("grid"),
        options.get("refine"), options.get("xtol"))
    promised = parse_target(promise, terms.base.parties(), "promise")
    bound = "max" if promised.statistic in SHARE_STATISTICS else "min"
    run = Run(check_draws(draws), seed, threads, client=client)
    candidates = Candidates(terms.base, terms.contract, terms.apply, run, terms.keys)
    every = [(level, [*rules, Constraint(promised, bound, level)]) for level in _levels(levels)]
    for _, level_rules in every:
        search(candidates, terms.box, objective, level_rules, grid=grid, refine=refine,
               xtol=xtol, scales=_scales(candidates, terms.box, level_rules))
    rows = []
    for level, level_rules in every:
        row, ok = best_row(candidates.rows, terms.keys, objective, level_rules,
                           _scales(candidates, terms.box, level_rules))
        kept = row[objective.column] if ok else math.nan
        rows.append({"level": level, "feasible": ok, objective.column: kept,
                     f"{objective.column}_mcse":
                         row[f"{objective.column}_mcse"] if ok else math.nan,
                     f"{promised.column}_reached": row[promised.column],
                     f"{promised.column}_mcse": row[f"{promised.column}_mcse"],
                     **{k: row[k] for k in terms.keys}})
    table = pd.DataFrame(rows)
    table.attrs = {"keep": objective.label, "promise": promised.label, "bound": bound,
                   "contract": terms.contract, "currency": scenario_currency(terms.base.data),
                   "draws": run.draws, "seed": run.seed,
                   "method": METHOD.format(grid=grid, refine=refine, seed=run.seed),
                   "candidates": len(candidates.rows), "params": list(terms.keys)}
    return table
