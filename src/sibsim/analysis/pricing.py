"""What price both sides can accept: :func:`price_corridor` and :func:`break_even`.

Both re-simulate the scenario at each value of a price (or any parameter) with the same
seed (:func:`sibsim.analysis.resimulate.simulate_variant`), so that the statistics move
with the price alone: a price paid to one side moves its npv in the same direction in
every draw, and the curves of the corridor are monotone rather than noisy. See
``docs/analysis.rst``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from sibsim.analysis import statistics
from sibsim.analysis.options import (
    check_name,
    check_param_path,
    check_real_param,
    check_values,
    is_whole_number,
    real_pair,
    value_labels,
)
from sibsim.analysis.resimulate import Run, contract_payer, party_npv, simulate_variant
from sibsim.engine import check_draws
from sibsim.labels import parameter_label
from sibsim.scenario import load_scenario
from sibsim.scenario.distributions import as_real
from sibsim.scenario.keypath import show

__all__ = ["STATISTICS", "break_even", "price_corridor"]

#: Statistics of a party's npv over the draws that :func:`break_even` can target.
STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "mean": statistics.mean,
    "median": statistics.median,
    "prob_loss": statistics.prob_loss,
    "expected_shortfall_05": statistics.expected_shortfall,
}


def price_corridor(scenario: Any, param: str, values: Any, contract: str,
                   payer: str | None = None, counterparty: str = "provider", *,
                   max_prob_loss: float = 0.2, draws: int = 1000, seed: int = 1,
                   threads: int | None = None, client: Any = None) -> pd.DataFrame:
    """Both sides' probability of loss at each value of a price (or any parameter).

    Each value is simulated with the same seed (common random numbers). A value is
    acceptable when both the payer's and the counterparty's probability of loss (share of
    draws with npv < 0) is at most ``max_prob_loss``.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    param : str
        Key path of the price (or any value), e.g. ``"contracts[1].outcomes[0].price"``.
    values : sequence
        Values to try, as for :func:`sibsim.sweep`.
    contract : str
        The contract whose npv is read.
    payer : str, optional
        The paying party (default: the contract's payer when it has one, its funder for a
        grant). Any party may be named.
    counterparty : str, default "provider"
        The other side (the provider, or the investor of a financed contract).
    max_prob_loss : float, keyword-only, default 0.2
        The largest probability of loss either side accepts, in [0, 1].
    draws, seed, threads, client : keyword-only
        As for :func:`sibsim.sweep`.

    Returns
    -------
    pandas.DataFrame
        One row per value, in the order given, with columns ``value``,
        ``payer_prob_loss``, ``counterparty_prob_loss``, ``payer_mean``,
        ``counterparty_mean`` (mean npv, DKK), ``acceptable`` (bool) and ``label`` (the
        parameter in words, the same on every row: :func:`sibsim.labels.parameter_label`,
        which :func:`sibsim.plot.corridor` puts on its axis). The settings
        are the caller's: pass them to :func:`sibsim.plot.corridor` and
        :func:`sibsim.analysis.format_corridor` (the default payer is
        :func:`sibsim.analysis.contract_payer`).

    Examples
    --------
    >>> table = sibsim.price_corridor("danish-pilot", param="contracts[1].outcomes[0].price",
    ...                               values=[2e4, 4e4, 6e4, 8e4], contract="narrow",
    ...                               payer="municipality", counterparty="provider",
    ...                               draws=500, seed=1)                  # doctest: +SKIP
    >>> table[table.acceptable].value.tolist()                           # doctest: +SKIP
    """
    base = load_scenario(scenario)
    param = check_param_path(base, param)
    values = check_values(values)
    run = Run(check_draws(draws), seed, threads, client=client)
    contract = check_name("contract", contract, base.contract_names())
    if payer is None:
        payer = contract_payer(base, contract)
    payer = check_name("payer", payer, base.parties())
    counterparty = check_name("counterparty", counterparty, base.parties())
    limit = as_real(max_prob_loss)
    if limit is None or not 0 <= limit <= 1:
        raise ValueError(f"max_prob_loss: got {show(max_prob_loss)}, expected a number in [0, 1]")
    rows = []
    for value, label in zip(values, value_labels(values).tolist()):
        npv = simulate_variant(base.replace(param, value), run,
                               variables=["npv"])["npv"].sel(contract=contract)
        a = np.asarray(npv.sel(party=payer).values, dtype=np.float64)
        b = np.asarray(npv.sel(party=counterparty).values, dtype=np.float64)
        pa, pb = statistics.prob_loss(a), statistics.prob_loss(b)
        rows.append((label, pa, pb, statistics.mean(a), statistics.mean(b),
                     bool(pa <= limit and pb <= limit)))
    table = pd.DataFrame(rows, columns=["value", "payer_prob_loss", "counterparty_prob_loss",
                                        "payer_mean", "counterparty_mean", "acceptable"])
    table["label"] = parameter_label(base, param)
    return table


def break_even(scenario: Any, param: str, contract: str, party: str, *,
               bounds: tuple[float, float], statistic: str = "mean", target: float = 0.0,
               draws: int = 1000, seed: int = 1, xtol: float | None = None,
               maxiter: int = 100, threads: int | None = None) -> float:
    """The value of a parameter at which a statistic of a party's npv meets a target.

    The statistic is computed by re-simulating at each trial value with the same seed
    (common random numbers), so it is a deterministic function of the value. The root is
    bracketed by ``bounds``: with ``g(x) = statistic(x) - target``, ``g`` must change sign
    between them.

    - ``mean``, ``median``, ``expected_shortfall_05``: Brent's method
      (:func:`scipy.optimize.brentq`) to ``xtol``.
    - ``prob_loss``: the share of draws with npv < 0 moves in steps of 1/draws, so it
      crosses the target at a jump rather than at a root; bisection narrows the bracket
      around that jump to ``xtol`` and returns its midpoint (or a value where the share
      equals the target exactly). The answer is defined only up to a step: re-simulated at
      the result, the share lies on one side of the target or the other.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    param : str
        Key path of a real-valued parameter (a number or a distribution, replaced by a
        number), e.g. ``"contracts[1].outcomes[0].price"``.
    contract : str
        The contract.
    party : str
        The party whose npv is measured.
    bounds : (float, float), keyword-only
        The bracket ``(lo, hi)``, lo < hi, both valid values of the parameter.
    statistic : {"mean", "median", "prob_loss", "expected_shortfall_05"}, keyword-only
        Of the party's npv over draws (as in :func:`sibsim.summarize`).
    target : float, keyword-only, default 0
        The value of the statistic to meet (DKK, or a share for ``prob_loss``).
    draws, seed, threads : keyword-only
        As for :func:`sibsim.sweep`.
    xtol : float, optional, keyword-only
        Absolute tolerance on the value; default ``1e-6 * (hi - lo)``.
    maxiter : int, keyword-only, default 100
        The most iterations (each one simulation).

    Returns
    -------
    float
        The value at which the statistic meets the target (a bound itself when the
        statistic meets it exactly there).

    Raises
    ------
    ValueError
        When the statistic minus the target has the same sign at both bounds (no bracketed
        root), or for invalid options.

    Examples
    --------
    >>> price = sibsim.break_even("danish-pilot", param="contracts[1].outcomes[0].price",
    ...                           contract="narrow", party="provider", bounds=(0, 2e5),
    ...                           draws=500, seed=1)                      # doctest: +SKIP
    """
    base = load_scenario(scenario)
    param = check_real_param(base, param)
    contract = check_name("contract", contract, base.contract_names())
    party = check_name("party", party, base.parties())
    statistic = check_name("statistic", statistic, list(STATISTICS))
    run = Run(check_draws(draws), seed, threads)
    target_value = as_real(target)
    if target_value is None or not math.isfinite(target_value):
        raise ValueError(f"target: got {show(target)}, expected a finite number")
    lo, hi = real_pair(bounds) or (math.nan, math.nan)
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ValueError(f"bounds: got {show(bounds)}, expected two finite numbers lo < hi")
    if xtol is None:
        xtol = 1e-6 * (hi - lo)
    elif as_real(xtol) is None or not xtol > 0:
        raise ValueError(f"xtol: got {show(xtol)}, expected a number > 0")
    if not is_whole_number(maxiter) or maxiter < 1:
        raise ValueError(f"maxiter: got {show(maxiter)}, expected a positive integer")
    measure = STATISTICS[statistic]
    cache: dict[float, float] = {}

    def excess(x: float) -> float:
        x = float(x)
        if x not in cache:
            npv = party_npv(base.replace(param, x), contract, party, run)
            cache[x] = measure(npv) - target_value
        return cache[x]

    g_lo, g_hi = excess(lo), excess(hi)
    if g_lo == 0:
        return lo
    if g_hi == 0:
        return hi
    if np.sign(g_lo) == np.sign(g_hi):
        raise ValueError(
            f"bounds: got {show(bounds)}, but the {statistic} of {party}'s npv under "
            f"{contract!r} minus the target {target_value:g} has the same sign at both bounds "
            f"({g_lo + target_value:.6g} at {lo:g}, {g_hi + target_value:.6g} at {hi:g}); "
            "widen the bounds so that the target lies between")
    if statistic != "prob_loss":
        return float(optimize.brentq(excess, lo, hi, xtol=xtol, maxiter=maxiter))
    return _bisect_step(excess, lo, hi, g_lo, xtol=xtol, maxiter=maxiter)


def _bisect_step(excess: Callable[[float], float], lo: float, hi: float, g_lo: float, *,
                 xtol: float, maxiter: int) -> float:
    """Narrow a bracket around the jump of a step function across 0 to ``xtol``.

    Returns the bracket's midpoint, or a point where the function is exactly 0.
    """
    a, b, g_a = lo, hi, g_lo
    for _ in range(maxiter):
        if b - a <= xtol:
            break
        mid = 0.5 * (a + b)
        g_mid = excess(mid)
        if g_mid == 0:
            return mid
        if np.sign(g_mid) == np.sign(g_a):
            a, g_a = mid, g_mid
        else:
            b = mid
    return 0.5 * (a + b)
