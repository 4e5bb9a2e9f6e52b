"""How much of the risk is parameter uncertainty, and how much chance: :func:`variance_split`.

A party's npv varies between draws for two reasons: the uncertain parameters (the
programme's effect, prices, rates: what more evidence could pin down) and chance (who is in
a cohort of 65, when each finds a job, the economy's path: what no study removes). A nested
simulation separates them: ``outer`` parameter draws, and for each ``inner`` chance
replicates with the parameters held at that draw. A one-way random-effects analysis of
variance of the ``outer x inner`` npv values then estimates each part
(:func:`anova_split`); see ``docs/analysis.rst``, "Parameter uncertainty and chance".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sibsim.analysis.options import check_name, is_whole_number
from sibsim.scenario import load_scenario
from sibsim.scenario.keypath import show

__all__ = ["PARTS", "anova_split", "nested_npv", "variance_split"]

#: The rows of :func:`variance_split`, in order.
PARTS = ("parameter", "chance", "total")

#: Outer draws simulated at once: bounds the memory of a run (their inner replicates each).
_BLOCK_OUTER = 50


def _check_count(option: str, value: Any) -> int:
    if not is_whole_number(value) or int(value) < 2:
        raise ValueError(f"{option}: got {show(value)}, expected a whole number >= 2")
    return int(value)


def nested_npv(scenario: Any, *, contract: str, party: str, outer: int, inner: int,
               seed: int = 1, threads: int | None = None) -> np.ndarray:
    """A party's npv in a nested simulation: ``outer`` parameter draws x ``inner`` chances.

    Replicate i of outer draw o is draw ``o * inner + i`` of a run whose draws take their
    parameters from draw ``o`` (:func:`sibsim.engine.run_model`'s ``parameter_draws``): its
    parameters are those of draw o of ``sibsim.simulate(scenario, seed=seed)``, and its
    chance (participants, frailty, prior months, comparison groups, the economy shock) that
    of draw ``o * inner + i``. So the replicates of one outer draw differ by chance alone,
    and two variants of a scenario run with the same seed share every random number.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    contract, party : str, keyword-only
        The contract and the party whose npv is taken.
    outer, inner : int, keyword-only
        Parameter draws, and chance replicates per parameter draw (each >= 2).
    seed : int, keyword-only, default 1
        The seed.
    threads : int, optional, keyword-only
        numba threads (never changes the results).

    Returns
    -------
    numpy.ndarray, shape (outer, inner)
        The npv, in the scenario's currency.
    """
    from sibsim.contracts import settle
    from sibsim.engine import check_draws, numba_threads, run_model
    from sibsim.engine.rng import check_seed

    scenario = load_scenario(scenario)
    contract = check_name("contract", contract, scenario.contract_names())
    parties = scenario.parties()
    party = check_name("party", party, parties)
    outer, inner = _check_count("outer", outer), _check_count("inner", inner)
    check_draws(outer * inner)
    seed = check_seed(seed)
    c, p = scenario.contract_names().index(contract), parties.index(party)
    out = np.empty((outer, inner))
    for start in range(0, outer, _BLOCK_OUTER):
        stop = min(start + _BLOCK_OUTER, outer)
        with numba_threads(threads):
            ledger, values, _ = run_model(
                scenario, (stop - start) * inner, seed, progress=False,
                parameter_draws=np.repeat(np.arange(start, stop), inner),
                start=start * inner)
        settlement = settle(scenario.data["contracts"], ledger, values.get, parties,
                            discount_rates=scenario.data.get("discount_rates"))
        out[start:stop] = settlement.npv[:, c, p].reshape(stop - start, inner)
    return out


def _parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parameter (unclipped), chance and total variance, and MS_between: of all the outer
    draws (shape (4,)) and leaving each one out in turn (shape (outer, 4)).

    Deviations are taken from each group's first value, so that a group of equal values
    has a within variance of exactly 0. The leave-one-out values are closed forms of the
    group means and sums of squares: with c_o the group means less their mean and
    S = sum of c_o^2, leaving group o out leaves a between sum of squares of
    S - outer c_o^2 / (outer - 1).
    """
    outer, inner = values.shape
    shifted = values - values[:, :1]
    group_ss = ((shifted - shifted.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    centred = values.mean(axis=1)
    centred = centred - centred.mean()
    squares = float((centred**2).sum())

    def parts(within_ss, between_ss, groups):
        within = within_ss / (groups * (inner - 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            between = inner * between_ss / (groups - 1)
        parameter = (between - within) / inner
        return np.stack([parameter, within, parameter + within, between], axis=-1)

    full = parts(np.asarray(group_ss.sum()), np.asarray(squares), outer)
    left_out = parts(group_ss.sum() - group_ss,
                     np.maximum(squares - outer * centred**2 / (outer - 1), 0.0), outer - 1)
    return full, left_out


def anova_split(values: Any) -> pd.DataFrame:
    """The parameter and chance parts of the variance of nested draws (one-way ANOVA).

    With y[o, i] the value of chance replicate i (of ``inner``) at parameter draw o (of
    ``outer``), group means m_o and grand mean m:

    - MS_within = sum_o sum_i (y[o, i] - m_o)^2 / (outer (inner - 1)): the chance part;
    - MS_between = inner sum_o (m_o - m)^2 / (outer - 1), whose expectation is
      inner Var_parameter + Var_chance: a group mean of ``inner`` replicates still carries
      chance;
    - Var_parameter = max(0, (MS_between - MS_within) / inner), the random-effects (ANOVA)
      estimator, clipped at 0: unbiased before clipping, so that it can come out negative
      when the parameters matter little; ``attrs["clipped"]`` says when it was;
    - total = Var_parameter + Var_chance, and each share is its part of the total.

    Standard errors are jackknife estimates over the outer draws (leaving one out at a
    time; NaN with only two), of the unclipped estimator: a parameter part within about two
    standard errors of 0 is not told apart from 0.

    Parameters
    ----------
    values : array_like, shape (outer, inner)
        The nested values: outer >= 2 parameter draws, inner >= 2 replicates each.

    Returns
    -------
    pandas.DataFrame
        Index ``part`` with rows ``parameter``, ``chance``, ``total``; columns ``variance``,
        ``share`` (of the total; NaN where the total is 0), ``variance_se`` and
        ``share_se``. ``attrs``: ``outer``, ``inner``, ``ms_between``, ``ms_within``,
        ``f_statistic`` (MS_between / MS_within), ``clipped`` (bool) and
        ``parameter_unclipped``.

    Examples
    --------
    Group means 2 and 6: MS_between = 2 (2^2 + 2^2) = 16, MS_within = 4 / 2 = 2, and the
    parameter part is (16 - 2) / 2 = 7:

    >>> anova_split([[1.0, 3.0], [5.0, 7.0]])["variance"].tolist()
    [7.0, 2.0, 9.0]
    """
    y = np.asarray(values, dtype=np.float64)
    if y.ndim != 2 or min(y.shape) < 2 or not np.isfinite(y).all():
        raise ValueError(f"values: got an array of shape {y.shape}, expected finite values "
                         "of shape (outer, inner), each at least 2")
    outer, inner = y.shape
    full, leave_one_out = _parts(y)
    if outer == 2:  # leaving one of two out leaves no spread between draws: no jackknife
        leave_one_out = np.full((outer, 4), np.nan)
    clipped = full[0] < 0
    variance = np.array([max(full[0], 0.0), full[1], max(full[0], 0.0) + full[1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = variance / variance[2]
        loo_share = leave_one_out[:, :3] / np.where(leave_one_out[:, 2:3] > 0,
                                                    leave_one_out[:, 2:3], np.nan)

    def jackknife(estimates: np.ndarray) -> np.ndarray:
        spread = ((estimates - estimates.mean(axis=0)) ** 2).sum(axis=0)
        return np.sqrt((outer - 1) / outer * spread)

    table = pd.DataFrame({"variance": variance, "share": share,
                          "variance_se": jackknife(leave_one_out[:, :3]),
                          "share_se": jackknife(loo_share)},
                         index=pd.Index(PARTS, name="part"))
    table.loc["total", "share_se"] = 0.0 if variance[2] > 0 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        f_statistic = float(full[3] / full[1]) if full[1] > 0 else np.inf
    table.attrs = {"outer": outer, "inner": inner, "ms_between": float(full[3]),
                   "ms_within": float(full[1]), "f_statistic": f_statistic,
                   "clipped": bool(clipped), "parameter_unclipped": float(full[0])}
    return table


def variance_split(scenario: Any, *, contract: str, party: str, outer: int = 200,
                   inner: int = 20, seed: int = 1, threads: int | None = None) -> pd.DataFrame:
    """How much of a party's npv variance is parameter uncertainty, and how much chance.

    A nested simulation (:func:`nested_npv`): ``outer`` draws of the uncertain parameters,
    and for each ``inner`` chance replicates with the parameters held, so that each outer
    draw's replicates differ only by who is in the cohort, when they find work and the
    economy's path. The variance is then split by a one-way analysis of variance
    (:func:`anova_split`): the chance part is the variance within an outer draw; the
    parameter part is the variance between the outer draws' means, corrected for the
    chance that each mean of ``inner`` replicates still carries, and clipped at 0.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    contract, party : str, keyword-only
        The contract and the party whose npv is split.
    outer : int, keyword-only, default 200
        Parameter draws (>= 2).
    inner : int, keyword-only, default 20
        Chance replicates per parameter draw (>= 2). ``outer x inner`` draws are simulated.
    seed : int, keyword-only, default 1
        The seed. Outer draw o has the parameters of draw o of
        ``sibsim.simulate(scenario, seed=seed)``; variants run with the same seed share every
        random number.
    threads : int, optional, keyword-only
        numba threads (never changes the results).

    Returns
    -------
    pandas.DataFrame
        Index ``part`` with rows ``parameter``, ``chance`` and ``total``, columns
        ``variance`` (squared currency units), ``share`` (of the total), and their
        jackknife standard errors ``variance_se`` and ``share_se``; ``attrs`` as for
        :func:`anova_split`, plus ``contract``, ``party`` and ``seed``.

    Examples
    --------
    >>> table = sibsim.variance_split("danish-pilot", contract="sib", party="investor",
    ...                               outer=100, inner=10)           # doctest: +SKIP
    >>> table.loc["chance", "share"]                                 # doctest: +SKIP
    """
    values = nested_npv(scenario, contract=contract, party=party, outer=outer, inner=inner,
                        seed=seed, threads=threads)
    table = anova_split(values)
    table.attrs.update({"contract": contract, "party": party, "seed": int(seed)})
    return table
