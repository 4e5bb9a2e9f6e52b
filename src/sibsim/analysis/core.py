"""What drives the risk, and what price both sides can accept (SPEC section 8).

Two kinds of analysis live here.

Re-simulating analyses run :func:`sibsim.simulate` again on changed copies of a scenario,
always with the same seed, so that every variant shares its random numbers (participants,
frailty, prior months, economy shock and every other parameter's draw): differences between
variants come from the change alone.

- :func:`sweep`: one parameter over a list of values; a Dataset with a leading ``value`` dim.
- :func:`price_corridor`: both sides' probability of loss at each value of a price.
- :func:`break_even`: the value at which a statistic of a party's npv meets a target.
- :func:`tornado`: one uncertain parameter at a time at its low and high quantile.

Analyses of a finished result use its draws, without re-simulating:

- :func:`sensitivity`: first-order variance share of each uncertain parameter.
- :func:`evpi` and :func:`evppi`: expected value of (partial) perfect information about
  the choice between the result's contracts.

And two helpers for setting a scenario up:

- :func:`calibrate`: scale parameters so that exact expected shares meet observed ones.
- :func:`hazards_from_survival`: a step table of monthly probabilities from a survival curve.

The methods, estimators and their limits are described in ``docs/analysis.rst``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize

from sibsim.analysis.summary import expected_shortfall
from sibsim.engine import check_draws
from sibsim.errors import ScenarioError
from sibsim.rules import ARMS, TABLE, is_table
from sibsim.scenario import LOCATION_PARAMETERS, Scenario, load_scenario
from sibsim.scenario.distributions import Distribution, as_real, is_distribution
from sibsim.scenario.keypath import parse_path, problem, show

__all__ = [
    "STATISTICS",
    "break_even",
    "calibrate",
    "evpi",
    "evppi",
    "format_corridor",
    "format_tornado",
    "hazards_from_survival",
    "price_corridor",
    "sensitivity",
    "sweep",
    "tornado",
]



def _prob_loss(values: np.ndarray) -> float:
    return float(np.mean(values < 0))


#: Statistics of a party's npv over the draws that :func:`break_even` can target.
STATISTICS: dict[str, Callable[[np.ndarray], float]] = {
    "mean": lambda v: float(np.mean(v)),
    "median": lambda v: float(np.median(v)),
    "prob_loss": _prob_loss,
    "expected_shortfall_05": lambda v: float(expected_shortfall(v)),
}


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------


def _check_name(option: str, value: Any, known: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in known:
        raise ValueError(f"{option}: got {show(value)}, expected one of {list(known)}")
    return value


def _check_param_path(scenario: Scenario, param: Any) -> str:
    """A key path that exists in the scenario (a ScenarioError names it otherwise)."""
    if not isinstance(param, str):
        raise ValueError(f"param: got {show(param)}, expected a key path such as "
                         "'contracts[1].outcomes[0].price'")
    scenario.get(param)
    return param


def _check_real_param(scenario: Scenario, param: Any) -> str:
    """A key path of a real-valued per-draw parameter (a number or a distribution)."""
    _check_param_path(scenario, param)
    if param not in scenario.parameters():
        raise ValueError(
            f"param: got {param!r}, expected the key path of a real-valued parameter "
            f"(a number or a distribution; see Scenario.parameters())")
    return param


def _plain_value(value: Any, where: str) -> Any:
    """One value to put at a key path: a Python number, or a mapping (distribution, table)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, Distribution):
        return value.to_spec()
    if isinstance(value, Mapping):
        return json.loads(json.dumps(_jsonable(value)))
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(problem(where, value, "a number or a distribution"))
    if isinstance(value, (int, np.integer)):
        return int(value)
    number = as_real(value)
    if number is None:
        raise ValueError(problem(where, value, "a number or a distribution"))
    if not math.isfinite(number):
        raise ValueError(problem(where, value, "a finite number"))
    return number


def _jsonable(value: Any) -> Any:
    if isinstance(value, Distribution):
        return value.to_spec()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _check_values(values: Any) -> list[Any]:
    """The values of a sweep as plain Python numbers or mappings, at least one, no repeats."""
    if isinstance(values, np.ndarray):
        if values.ndim > 1:
            raise ValueError(f"values: got an array of shape {values.shape}, expected a "
                             "1-d sequence of numbers or distributions")
        values = [values[()]] if values.ndim == 0 else list(values)
    elif isinstance(values, (Mapping, Distribution)) or as_real(values) is not None:
        values = [values]
    elif isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"values: got {show(values)}, expected a sequence of numbers or "
                         "distributions")
    out = [_plain_value(v, f"values[{i}]") for i, v in enumerate(values)]
    if not out:
        raise ValueError("values: got an empty sequence, expected at least one value")
    labels = _value_labels(out)
    if len(set(labels.tolist())) != len(out):
        raise ValueError(f"values: got {show(values)}, expected distinct values")
    return out


def _value_labels(values: list[Any]) -> np.ndarray:
    """The ``value`` coordinate: float64 when every value is a number, else JSON text."""
    if all(not isinstance(v, Mapping) for v in values):
        return np.asarray(values, dtype=np.float64)
    return np.asarray([json.dumps(v, sort_keys=False) for v in values], dtype=object).astype(str)


def _check_result(result: Any, function: str) -> xr.Dataset:
    if not isinstance(result, xr.Dataset) or "npv" not in result:
        raise TypeError(f"result: expected the xarray.Dataset returned by sibsim.simulate, "
                        f"got {type(result).__name__}")
    if "value" in result["npv"].dims:
        raise ValueError(f"result: a sweep (it has a 'value' dimension); {function} takes one "
                         "result: select one value first, e.g. result.isel(value=0)")
    return result


def _coord_names(result: xr.Dataset, dim: str) -> list[str]:
    return [str(v) for v in result[dim].values]


def _contract_payer(scenario: Scenario, contract: str) -> str:
    """The single party that pays under a contract (its funder for a grant)."""
    entry = scenario.data["contracts"][scenario.contract_names().index(contract)]
    if entry["type"] == "grant":
        return entry["funder"]
    payers = list(entry["payer"])
    if len(payers) != 1:
        raise ValueError(f"payer: contract {contract!r} has several payers {payers}; "
                         "name the one to analyse")
    return payers[0]


# ---------------------------------------------------------------------------------------------
# re-simulation
# ---------------------------------------------------------------------------------------------


def _simulate(scenario: Scenario, draws: int, seed: int, threads: int | None,
              resolution: str = "month") -> xr.Dataset:
    from sibsim.engine import simulate

    return simulate(scenario, draws=draws, seed=seed, threads=threads, resolution=resolution,
                    progress=False)


def _npv(scenario: Scenario, contract: str, party: str, draws: int, seed: int,
         threads: int | None) -> np.ndarray:
    """A party's npv under a contract in each draw, shape (draws,)."""
    result = _simulate(scenario, draws, seed, threads)
    return np.asarray(result["npv"].sel(contract=contract, party=party).values, dtype=np.float64)


def sweep(scenario: Any, param: str, values: Any, *, draws: int = 1000, seed: int = 1,
          threads: int | None = None, resolution: str = "month",
          variables: Sequence[str] | None = None) -> xr.Dataset:
    """Simulate a scenario once for each value of one parameter, with common random numbers.

    Every variant is simulated with the same seed: participants, frailty, prior months, the
    economy shock and every other parameter's draws are the same in all of them, so the
    differences between variants come from the parameter alone.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    param : str
        Key path of the value to replace, e.g. ``"contracts[1].outcomes[0].price"`` or
        ``"transitions[0].effect.ratio"``. Whatever stands there (a number or a
        distribution) is replaced.
    values : sequence
        The values to put there: numbers (Python or numpy, or a 1-d numpy array) or
        distributions (``{"lognormal": {"median": 2.0, "sigma": 0.3}}`` or
        :class:`~sibsim.Distribution`), distinct.
    draws : int, keyword-only, default 1000
        Monte Carlo draws of each variant.
    seed : int, keyword-only, default 1
        The seed of every variant.
    threads : int, optional, keyword-only
        numba threads (never changes the results).
    resolution : {"month", "year"}, keyword-only
        As for :func:`sibsim.simulate`.
    variables : sequence of str, optional, keyword-only
        Data variables to keep (default: all). Keeping only ``["npv", "params"]`` saves
        memory on long sweeps.

    Returns
    -------
    xarray.Dataset
        The variables of :func:`sibsim.simulate`, each with a leading ``value`` dimension.
        The ``value`` coordinate holds the values: float64 when all are numbers, else the
        JSON text of each (``'{"lognormal": {"median": 2.0, "sigma": 0.3}}'``). The
        ``param`` coordinate is the union over the variants, in order of first appearance;
        a variant in which a key path is not uncertain has NaN there (a parameter replaced
        by a number is not in its ``params``). Attributes: those of a simulation
        (``scenario`` is the TOML of the scenario before replacement), plus ``sweep_param``
        and ``sweep_values`` (JSON list).

    Raises
    ------
    ScenarioError
        When the key path does not exist or a value makes the scenario invalid.
    ValueError
        For invalid options.

    Examples
    --------
    >>> import sibsim
    >>> swept = sibsim.sweep("danish-pilot", param="contracts[1].outcomes[0].price",
    ...                      values=[2e4, 4e4, 6e4], draws=200, seed=1)   # doctest: +SKIP
    >>> swept["npv"].sel(contract="narrow", party="municipality").mean("draw")  # doctest: +SKIP
    """
    base = load_scenario(scenario)
    param = _check_param_path(base, param)
    values = _check_values(values)
    draws = check_draws(draws)
    if variables is not None:
        if isinstance(variables, str):
            variables = [variables]
        variables = list(variables)
    variants = [base.replace(param, value) for value in values]
    results = []
    for variant in variants:
        result = _simulate(variant, draws, seed, threads, resolution)
        if variables is not None:
            unknown = [v for v in variables if v not in result.data_vars]
            if unknown:
                raise ValueError(f"variables: got {unknown}, expected names of result "
                                 f"variables {sorted(result.data_vars)}")
            result = result[variables]
        results.append(result)
    attrs = dict(results[0].attrs)
    var_attrs = {name: dict(results[0][name].attrs) for name in results[0].data_vars}
    params: list[str] = []
    for result in results:
        params += [p for p in _coord_names(result, "param") if p not in params]
    # Document order of the scenario before replacement (a path only some variants have
    # keeps its place); paths that exist only after replacement go last.
    order = {path: i for i, path in enumerate(base.parameters())}
    params.sort(key=lambda path: order.get(path, len(order)))
    labels = _value_labels(values)
    aligned = [r.reindex(param=params) if "param" in r.dims else r.copy() for r in results]
    for r in aligned:
        r.attrs = {}
    swept = xr.concat(aligned, dim=pd.Index(labels, name="value"), data_vars="all",
                      coords="minimal", join="exact", combine_attrs="drop_conflicts")
    for name in swept.data_vars:
        swept[name].attrs = var_attrs[name]
    swept["value"].attrs = {"long_name": f"value of {param}"}
    attrs.update(
        title=f"sibsim sweep of {param}: {base.name}",
        scenario=base.to_toml(),
        sweep_param=param,
        sweep_values=json.dumps(values),
    )
    swept.attrs = attrs
    return swept


def price_corridor(scenario: Any, param: str, values: Any, contract: str,
                   payer: str | None = None, counterparty: str = "provider", *,
                   max_prob_loss: float = 0.2, draws: int = 1000, seed: int = 1,
                   threads: int | None = None) -> pd.DataFrame:
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
        Values to try, as for :func:`sweep`.
    contract : str
        The contract whose npv is read.
    payer : str, optional
        The paying party (default: the contract's payer when it has one, its funder for a
        grant). Any party may be named.
    counterparty : str, default "provider"
        The other side (the provider, or the investor of a financed contract).
    max_prob_loss : float, keyword-only, default 0.2
        The largest probability of loss either side accepts, in [0, 1].
    draws, seed, threads : keyword-only
        As for :func:`sweep`.

    Returns
    -------
    pandas.DataFrame
        One row per value, in the order given, with columns ``value``,
        ``payer_prob_loss``, ``counterparty_prob_loss``, ``payer_mean``,
        ``counterparty_mean`` (mean npv, DKK) and ``acceptable`` (bool). ``attrs`` holds
        ``param``, ``contract``, ``payer``, ``counterparty``, ``max_prob_loss``, ``draws``
        and ``seed`` (used by :func:`sibsim.plot.corridor`).

    Examples
    --------
    >>> table = sibsim.price_corridor("danish-pilot", param="contracts[1].outcomes[0].price",
    ...                               values=[2e4, 4e4, 6e4, 8e4], contract="narrow",
    ...                               payer="municipality", counterparty="provider",
    ...                               draws=500, seed=1)                  # doctest: +SKIP
    >>> table[table.acceptable].value.tolist()                           # doctest: +SKIP
    """
    base = load_scenario(scenario)
    param = _check_param_path(base, param)
    values = _check_values(values)
    draws = check_draws(draws)
    contract = _check_name("contract", contract, base.contract_names())
    if payer is None:
        payer = _contract_payer(base, contract)
    payer = _check_name("payer", payer, base.parties())
    counterparty = _check_name("counterparty", counterparty, base.parties())
    limit = as_real(max_prob_loss)
    if limit is None or not 0 <= limit <= 1:
        raise ValueError(f"max_prob_loss: got {show(max_prob_loss)}, expected a number in [0, 1]")
    rows = []
    for value, label in zip(values, _value_labels(values).tolist()):
        result = _simulate(base.replace(param, value), draws, seed, threads)
        npv = result["npv"].sel(contract=contract)
        a = np.asarray(npv.sel(party=payer).values, dtype=np.float64)
        b = np.asarray(npv.sel(party=counterparty).values, dtype=np.float64)
        pa, pb = _prob_loss(a), _prob_loss(b)
        rows.append((label, pa, pb, float(a.mean()), float(b.mean()),
                     bool(pa <= limit and pb <= limit)))
    table = pd.DataFrame(rows, columns=["value", "payer_prob_loss", "counterparty_prob_loss",
                                        "payer_mean", "counterparty_mean", "acceptable"])
    table.attrs = {"param": param, "contract": contract, "payer": payer,
                   "counterparty": counterparty, "max_prob_loss": float(limit),
                   "draws": draws, "seed": int(seed)}
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
        As for :func:`sweep`.
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
    param = _check_real_param(base, param)
    contract = _check_name("contract", contract, base.contract_names())
    party = _check_name("party", party, base.parties())
    statistic = _check_name("statistic", statistic, list(STATISTICS))
    draws = check_draws(draws)
    target_value = as_real(target)
    if target_value is None or not math.isfinite(target_value):
        raise ValueError(f"target: got {show(target)}, expected a finite number")
    try:
        lo, hi = (as_real(b) for b in bounds)
    except (TypeError, ValueError):
        lo = hi = None
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ValueError(f"bounds: got {show(bounds)}, expected two finite numbers lo < hi")
    if xtol is None:
        xtol = 1e-6 * (hi - lo)
    elif as_real(xtol) is None or not xtol > 0:
        raise ValueError(f"xtol: got {show(xtol)}, expected a number > 0")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"maxiter: got {show(maxiter)}, expected a positive integer")
    measure = STATISTICS[statistic]
    cache: dict[float, float] = {}

    def excess(x: float) -> float:
        x = float(x)
        if x not in cache:
            npv = _npv(base.replace(param, x), contract, party, draws, seed, threads)
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


def tornado(scenario: Any, contract: str, party: str, *, draws: int = 1000, seed: int = 1,
            quantiles: tuple[float, float] = (0.1, 0.9),
            threads: int | None = None) -> pd.DataFrame:
    """One-at-a-time swings of a party's mean npv over the uncertain parameters.

    First every uncertain per-draw parameter (a distribution, as in ``params``) is fixed at
    its median. Then each in turn is set to its low and to its high quantile, with every
    other one at its median, and the scenario is simulated with the same seed. Participants,
    frailty, prior months and the economy shock stay random, with common random numbers
    across all runs, so a parameter that does not touch the party's npv has a swing of
    exactly 0. That makes 2k + 1 simulations for k uncertain parameters.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    contract : str
        The contract.
    party : str
        The party whose mean npv is reported.
    draws, seed, threads : keyword-only
        As for :func:`sweep`.
    quantiles : (float, float), keyword-only, default (0.1, 0.9)
        The low and high quantile, 0 < low < high < 1.

    Returns
    -------
    pandas.DataFrame
        One row per uncertain parameter with columns ``param``, ``low_value``,
        ``high_value`` (the parameter at the two quantiles), ``npv_low``, ``npv_high`` (the
        party's mean npv, DKK) and ``swing`` = ``abs(npv_high - npv_low)``, sorted by swing,
        largest first (ties in document order). ``attrs`` holds ``npv_base`` (the mean npv
        with every parameter at its median), ``contract``, ``party``, ``quantiles``,
        ``draws`` and ``seed``.

    Examples
    --------
    >>> table = sibsim.tornado("danish-pilot", contract="narrow", party="municipality",
    ...                        draws=500, seed=1)                         # doctest: +SKIP
    >>> table.head(3)[["param", "swing"]]                                # doctest: +SKIP
    """
    base = load_scenario(scenario)
    contract = _check_name("contract", contract, base.contract_names())
    party = _check_name("party", party, base.parties())
    draws = check_draws(draws)
    try:
        q_low, q_high = (as_real(q) for q in quantiles)
    except (TypeError, ValueError):
        q_low = q_high = None
    if q_low is None or q_high is None or not 0 < q_low < q_high < 1:
        raise ValueError(f"quantiles: got {show(quantiles)}, expected two numbers "
                         "0 < low < high < 1")
    uncertain = base.uncertain()
    at_median = base
    for path, dist in uncertain.items():
        at_median = at_median.replace(path, float(dist.median()))

    def mean_npv(variant: Scenario) -> float:
        return float(np.mean(_npv(variant, contract, party, draws, seed, threads)))

    rows = []
    for path, dist in uncertain.items():
        low, high = float(dist.quantile(q_low)), float(dist.quantile(q_high))
        npv_low = mean_npv(at_median.replace(path, low))
        npv_high = mean_npv(at_median.replace(path, high))
        rows.append((path, low, high, npv_low, npv_high, abs(npv_high - npv_low)))
    table = pd.DataFrame(rows, columns=["param", "low_value", "high_value", "npv_low",
                                        "npv_high", "swing"])
    table = table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs = {"npv_base": mean_npv(at_median), "contract": contract, "party": party,
                   "quantiles": (float(q_low), float(q_high)), "draws": draws,
                   "seed": int(seed)}
    return table


# ---------------------------------------------------------------------------------------------
# analyses of a finished result
# ---------------------------------------------------------------------------------------------


def _default_bins(n: int) -> int:
    """Equal-count bins for n draws: about sqrt(n), at least 2, at most 50."""
    return int(min(50, max(2, round(math.sqrt(n)))))


def _check_bins(bins: Any, n: int) -> int:
    if bins is None:
        return _default_bins(n)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 2 <= bins <= n // 2:
        raise ValueError(f"bins: got {show(bins)}, expected a whole number from 2 to draws / 2 "
                         f"= {n // 2}")
    return int(bins)


def correlation_ratio(x: np.ndarray, y: np.ndarray, bins: int) -> float:
    """Bias-corrected correlation ratio of ``y`` on ``x`` from equal-count bins of ``x``.

    The draws are sorted by ``x`` and cut into ``bins`` groups of (nearly) equal size; with
    SS_b the between-group and SS_w the within-group sum of squares of ``y``, n draws and B
    groups, the estimate is Kelley's epsilon-squared,
    ``(SS_b - (B - 1) SS_w / (n - B)) / (SS_b + SS_w)``, clipped to [0, 1]. It removes the
    positive bias of the plain ratio SS_b / SS_t, which averages (B - 1) / (n - 1) when
    ``y`` does not depend on ``x`` at all.

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        The parameter and the output in each draw.
    bins : int
        Number of groups, 2 <= bins <= n / 2.

    Returns
    -------
    float
        In [0, 1]; 0 when ``x`` or ``y`` does not vary.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    if n < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    order = np.argsort(x, kind="stable")
    total = float(np.sum((y - y.mean()) ** 2))
    within = 0.0
    for group in np.array_split(order, bins):
        values = y[group]
        within += float(np.sum((values - values.mean()) ** 2))
    between = max(total - within, 0.0)
    estimate = (between - (bins - 1) * within / (n - bins)) / total
    return float(min(1.0, max(0.0, estimate)))


def _party_npv(result: xr.Dataset, contract: str, party: str) -> np.ndarray:
    contract = _check_name("contract", contract, _coord_names(result, "contract"))
    party = _check_name("party", party, _coord_names(result, "party"))
    return np.asarray(result["npv"].sel(contract=contract, party=party).values, dtype=np.float64)


def _params(result: xr.Dataset) -> tuple[list[str], np.ndarray]:
    if "params" not in result:
        return [], np.zeros((result.sizes["draw"], 0))
    params = result["params"].transpose("draw", "param")
    return _coord_names(result, "param"), np.asarray(params.values, dtype=np.float64)


def sensitivity(result: xr.Dataset, contract: str, party: str, *,
                bins: int | None = None) -> pd.DataFrame:
    """Share of the variance of a party's npv explained by each uncertain parameter.

    The first-order (main-effect) index of parameter X for the npv Y is
    ``Var(E[Y | X]) / Var(Y)``, estimated from the draws already simulated, without
    re-simulating: the draws are sorted by X and cut into ``bins`` groups of equal size;
    E[Y | X] is taken as constant within a group, and the correlation ratio of the groups
    is corrected for its small-sample bias (Kelley's epsilon-squared, see
    :func:`correlation_ratio`) and clipped to [0, 1]. Because every parameter is drawn
    independently of the others, each index is the share of variance that would go away if
    that parameter alone were known. The rest of the variance is chance (participants,
    frailty, the economy) and interactions. See ``docs/analysis.rst`` for the limits.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate` (one result, not a sweep).
    contract : str
        The contract.
    party : str
        The party whose npv is analysed.
    bins : int, optional, keyword-only
        Groups per parameter; default about sqrt(draws), between 2 and 50.

    Returns
    -------
    pandas.DataFrame
        Columns ``param`` and ``index`` (in [0, 1]; 0 for a parameter that does not vary,
        and for every parameter when the npv does not vary), largest first (ties in the
        order of ``params``). ``attrs`` holds ``contract``, ``party``, ``bins``, ``draws``
        and ``estimator``.

    Examples
    --------
    >>> result = sibsim.simulate("danish-pilot", draws=2000, seed=1)       # doctest: +SKIP
    >>> sibsim.sensitivity(result, contract="narrow", party="municipality").head()  # doctest: +SKIP
    """
    result = _check_result(result, "sensitivity")
    npv = _party_npv(result, contract, party)
    names, matrix = _params(result)
    n = npv.size
    if n < 4:
        raise ValueError(f"result: has {n} draws, sensitivity needs at least 4")
    bins = _check_bins(bins, n)
    index = [correlation_ratio(matrix[:, j], npv, bins) for j in range(len(names))]
    table = pd.DataFrame({"param": names, "index": np.asarray(index, dtype=np.float64)})
    table = table.sort_values("index", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs = {"contract": contract, "party": party, "bins": bins, "draws": n,
                   "estimator": "equal-count binning, Kelley's epsilon-squared, clipped to [0, 1]"}
    return table


def _npv_by_contract(result: xr.Dataset, party: str,
                     contracts: Sequence[str] | None) -> tuple[list[str], np.ndarray]:
    known = _coord_names(result, "contract")
    party = _check_name("party", party, _coord_names(result, "party"))
    if contracts is None:
        contracts = known
    else:
        if isinstance(contracts, str):
            contracts = [contracts]
        contracts = [_check_name("contracts", c, known) for c in contracts]
        if not contracts or len(set(contracts)) != len(contracts):
            raise ValueError(f"contracts: got {show(contracts)}, expected distinct contract "
                             f"names from {known}")
    npv = result["npv"].sel(party=party, contract=list(contracts)).transpose("draw", "contract")
    values = np.asarray(npv.values, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError(f"result: npv of {party!r} has NaN draws")
    return list(contracts), values


def evpi(result: xr.Dataset, party: str, *, contracts: Sequence[str] | None = None) -> float:
    """Expected value of perfect information about the choice of contract, for one party.

    ``EVPI = mean over draws of max_c npv[d, c] - max_c (mean over draws of npv[d, c])``:
    what the party would gain, on average, if it could pick the contract after learning how
    the uncertainty turns out (each draw), rather than picking the one with the best mean
    now. It is computed as the mean over draws of ``max_c npv[d, c] - npv[d, c*]``, with
    c* the contract of best mean (the same number), so it is never negative and exactly 0
    when one contract is best in every draw.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate` (one result, not a sweep).
    party : str
        The party who chooses.
    contracts : sequence of str, optional, keyword-only
        The contracts to choose between (default: all of the result's).

    Returns
    -------
    float
        DKK, >= 0. It includes chance (participants, the economy) as well as parameter
        uncertainty: perfect information here means knowing the whole draw.

    Examples
    --------
    >>> sibsim.evpi(result, party="municipality")                        # doctest: +SKIP
    """
    result = _check_result(result, "evpi")
    _, npv = _npv_by_contract(result, party, contracts)
    means = np.array([np.mean(npv[:, c]) for c in range(npv.shape[1])])
    best = int(np.argmax(means))
    regret = npv.max(axis=1) - npv[:, best]
    return float(np.mean(regret))


def evppi(result: xr.Dataset, party: str, *, contracts: Sequence[str] | None = None,
          degree: int = 3) -> pd.DataFrame:
    """Expected value of partial perfect information about each uncertain parameter.

    ``EVPPI(X) = E_X[max_c E[npv_c | X]] - max_c E[npv_c]``: what the party would gain by
    learning parameter X alone before choosing the contract. Estimated from the draws with
    the regression method of Strong, Oakley and Brennan (2014): E[npv_c | X] is fitted by
    least squares on Legendre polynomials of degree ``degree`` in the rank of X (scaled to
    [-1, 1]); then ``mean_d max_c fit_c(X_d) - max_c mean_d fit_c(X_d)``. The estimate is
    clipped to [0, EVPI]; 0 for a parameter that does not vary.

    Parameters
    ----------
    result : xarray.Dataset
        The result of :func:`sibsim.simulate` (one result, not a sweep).
    party : str
        The party who chooses.
    contracts : sequence of str, optional, keyword-only
        The contracts to choose between (default: all of the result's).
    degree : int, keyword-only, default 3
        Degree of the polynomial fit (1 to 10).

    Returns
    -------
    pandas.DataFrame
        Columns ``param`` and ``evppi`` (DKK), largest first. ``attrs`` holds ``evpi``,
        ``party``, ``contracts`` and ``degree``.

    Examples
    --------
    >>> sibsim.analysis.evppi(result, party="municipality")                # doctest: +SKIP
    """
    result = _check_result(result, "evppi")
    names_c, npv = _npv_by_contract(result, party, contracts)
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or not 1 <= degree <= 10:
        raise ValueError(f"degree: got {show(degree)}, expected a whole number from 1 to 10")
    total = evpi(result, party, contracts=names_c)
    names, matrix = _params(result)
    n = npv.shape[0]
    best_mean = float(np.max(npv.mean(axis=0)))
    tiny = 1e-9 * max(1.0, float(np.max(np.abs(npv))))
    values = []
    for j in range(len(names)):
        x = matrix[:, j]
        if np.ptp(x) == 0 or n <= degree + 1:
            values.append(0.0)
            continue
        ranks = np.empty(n)
        ranks[np.argsort(x, kind="stable")] = np.arange(n)
        basis = np.polynomial.legendre.legvander(2.0 * ranks / (n - 1) - 1.0, int(degree))
        coef, *_ = np.linalg.lstsq(basis, npv, rcond=None)
        fitted = basis @ coef
        gain = float(np.mean(fitted.max(axis=1))) - best_mean
        if gain <= tiny:  # rounding of the least-squares fit, not information
            gain = 0.0
        values.append(min(gain, total))
    table = pd.DataFrame({"param": names, "evppi": np.asarray(values, dtype=np.float64)})
    table = table.sort_values("evppi", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs = {"evpi": total, "party": party, "contracts": names_c, "degree": int(degree)}
    return table


# ---------------------------------------------------------------------------------------------
# calibration
# ---------------------------------------------------------------------------------------------

_TARGET_KEYS = ("state", "arm", "months_since_entry", "share")
_LOCATION = LOCATION_PARAMETERS  # the parameters a calibration factor scales, by family


def _is_probability(path: str) -> bool:
    """Whether the key path is (inside) a transition probability."""
    parts = parse_path(path)
    return len(parts) >= 3 and parts[0] == "transitions" and parts[2] == "probability"


def _scale_number(value: Any, factor: float, *, probability: bool, where: str) -> Any:
    """One number or distribution scaled by a factor (hazard scale for a probability)."""
    if is_distribution(value):
        if probability:
            raise ScenarioError(problem(
                where, value, "a number or a table of numbers: a probability given as a "
                "distribution cannot be adjusted by calibrate (fix it, or adjust a ratio)"))
        (family, params), = value.items()
        scaled = dict(params)
        for key in _LOCATION[family]:
            scaled[key] = params[key] * factor
        return {family: scaled}
    if isinstance(value, bool) or isinstance(value, int) or as_real(value) is None:
        raise ScenarioError(problem(
            where, value, "a real number, a distribution or a by_months_in_state table"))
    if probability:
        # p' = 1 - (1 - p) ** factor, written through log1p/expm1 to keep small p exact.
        if value >= 1.0:
            return 1.0
        return float(-math.expm1(factor * math.log1p(-value)))
    return float(value) * factor


def _scale(value: Any, factor: float, *, probability: bool, where: str) -> Any:
    if is_table(value):
        return {TABLE: [[key, _scale_number(entry, factor, probability=probability,
                                            where=f"{where}.{TABLE}[{i}][1]")]
                        for i, (key, entry) in enumerate(value[TABLE])]}
    return _scale_number(value, factor, probability=probability, where=where)


def _location(value: Any) -> float:
    """The number itself, or the location a factor multiplies; NaN for a table."""
    if is_distribution(value):
        (family, params), = value.items()
        if family == "uniform":
            return 0.5 * (params["low"] + params["high"])
        if family in ("triangular", "pert"):
            return float(params["mode"])
        return float(params[_LOCATION[family][0]])
    if is_table(value):
        return math.nan
    return float(value)


def _check_adjust(scenario: Scenario, adjust: Any) -> list[str]:
    if isinstance(adjust, str):
        adjust = [adjust]
    if not isinstance(adjust, Iterable):
        raise ValueError(f"adjust: got {show(adjust)}, expected a list of key paths")
    adjust = list(adjust)
    if not adjust:
        raise ValueError("adjust: got an empty list, expected at least one key path")
    for i, path in enumerate(adjust):
        if not isinstance(path, str):
            raise ValueError(problem(f"adjust[{i}]", path, "a key path (str)"))
        value = scenario.get(path)  # ScenarioError names a path that does not exist
        # Check now that it can be scaled (a distribution for a probability cannot).
        _scale(value, 1.0, probability=_is_probability(path), where=path)
    parts = [parse_path(p) for p in adjust]
    for i, a in enumerate(parts):
        for j, b in enumerate(parts):
            if i != j and len(a) <= len(b) and b[: len(a)] == a:
                raise ValueError(f"adjust: {adjust[j]!r} lies inside {adjust[i]!r}; "
                                 "list each value once")
    return adjust


def _check_targets(scenario: Scenario, targets: Any) -> list[dict]:
    if isinstance(targets, Mapping):
        targets = [targets]
    if not isinstance(targets, Iterable) or isinstance(targets, (str, bytes)):
        raise ValueError(f"targets: got {show(targets)}, expected a list of dicts with keys "
                         f"{', '.join(_TARGET_KEYS)}")
    out = []
    states = scenario.states()
    months = scenario.months
    for i, target in enumerate(targets):
        where = f"targets[{i}]"
        if not isinstance(target, Mapping):
            raise ValueError(problem(where, target, f"a dict with keys {', '.join(_TARGET_KEYS)}"))
        unknown = [k for k in target if k not in _TARGET_KEYS]
        missing = [k for k in _TARGET_KEYS if k not in target]
        if unknown or missing:
            raise ValueError(problem(where, dict(target), f"a dict with exactly the keys "
                                     f"{', '.join(_TARGET_KEYS)} (unknown: {unknown}, "
                                     f"missing: {missing})"))
        state, arm, m, share = (target[k] for k in _TARGET_KEYS)
        if state not in states:
            raise ValueError(problem(f"{where}.state", state, f"one of {states}"))
        if arm not in ARMS:
            raise ValueError(problem(f"{where}.arm", arm, f"one of {list(ARMS)}"))
        if isinstance(m, (bool, np.bool_)) or not isinstance(m, (int, np.integer)) \
                or not 0 <= m <= months - 1:
            raise ValueError(problem(f"{where}.months_since_entry", m,
                                     f"a whole number from 0 to {months - 1}"))
        number = as_real(share)
        if number is None or not 0 <= number <= 1:
            raise ValueError(problem(f"{where}.share", share, "a number in [0, 1]"))
        out.append({"state": state, "arm": arm, "months_since_entry": int(m), "share": number})
    if not out:
        raise ValueError("targets: got an empty list, expected at least one target")
    return out


def _with_factors(scenario: Scenario, adjust: list[str], originals: list[Any],
                  factors: np.ndarray) -> Scenario:
    for path, value, factor in zip(adjust, originals, factors):
        scaled = _scale(value, float(factor), probability=_is_probability(path), where=path)
        try:
            scenario = scenario.replace(path, scaled)
        except ScenarioError as error:
            raise ScenarioError(
                [f"calibrate: a factor of {float(factor):.6g} at {path} makes the scenario "
                 "invalid:", *error.problems]) from None
    return scenario


def _shares(scenario: Scenario, targets: list[dict]) -> np.ndarray:
    from sibsim.engine.exact import expected_share

    return np.array([
        expected_share(scenario, state=t["state"], arm=t["arm"],
                       months_since_entry=t["months_since_entry"])
        for t in targets
    ])


def calibrate(scenario: Any, targets: Sequence[Mapping[str, Any]], adjust: Sequence[str], *,
              factor_bounds: tuple[float, float] = (1e-3, 1e3)) -> tuple[Scenario, pd.DataFrame]:
    """Scale parameters so that exact expected shares in a state meet observed ones.

    One factor per key path in ``adjust`` is fitted by least squares on the log-factors
    (:func:`scipy.optimize.least_squares`, trust region reflective), so that the expected
    share in each target's state, among participants at ``months_since_entry`` months since
    entry, in the target's arm, matches the target's share. The shares are exact, without
    sampling (:func:`sibsim.engine.exact.expected_share`): over frailty and prior months, with
    every distribution at its mean and no economy shock, pooled over the sites among the
    participants whose entry month plus ``months_since_entry`` lies within the horizon.

    A factor f acts on the value at its key path:

    - a transition probability p (a number, or every entry of a ``by_months_in_state``
      table): its hazard is multiplied, p' = 1 - (1 - p) ** f;
    - any other number (or every entry of a table): x' = f x;
    - a distribution that is not a probability: its location is multiplied (the mean of
      normal, gamma and beta, the median of lognormal; low, mode and high of uniform,
      triangular and pert), its spread parameter is kept.

    A transition probability given as a distribution cannot be adjusted.

    Parameters
    ----------
    scenario : Scenario, dict, str or path
        Anything :func:`sibsim.load_scenario` accepts.
    targets : sequence of dict
        Each with keys ``state``, ``arm`` ("counterfactual" or "treatment"),
        ``months_since_entry`` (whole number) and ``share`` (in [0, 1]).
    adjust : sequence of str
        Key paths of the values to scale, e.g. ``"transitions[0].probability"``,
        ``"transitions[0].effect.ratio"``; no fewer targets than paths.
    factor_bounds : (float, float), keyword-only, default (0.001, 1000)
        The range searched for every factor.

    Returns
    -------
    scenario : Scenario
        The scenario with every factor applied.
    report : pandas.DataFrame
        Columns ``kind``, ``name``, ``target``, ``fitted``, ``factor``. One row of kind
        "target" per target (name ``"<state> <arm> month <m>"``, the target and the fitted
        share, factor NaN), then one of kind "factor" per key path (name the path, target
        NaN, fitted the value after scaling: the number, the multiplied location of a
        distribution (its median for lognormal, mode for triangular and pert, midpoint for
        uniform), NaN for a table; factor the fitted factor). ``attrs`` holds ``adjusted``
        (path -> the new value), ``success``, ``message`` and ``cost`` (half the sum of
        squared residuals).

    Raises
    ------
    ScenarioError
        When a key path does not exist or names a probability given as a distribution or
        something that is not a real number, a distribution or a table, or when a factor
        makes the scenario invalid.
    ValueError
        For invalid targets, fewer targets than factors, or invalid options.

    Warns
    -----
    RuntimeWarning
        When the optimiser does not converge, or a factor does not change any target.

    Examples
    --------
    >>> calibrated, report = sibsim.calibrate(
    ...     "danish-pilot",
    ...     targets=[{"state": "employed", "arm": "counterfactual",
    ...               "months_since_entry": 14, "share": 0.17},
    ...              {"state": "employed", "arm": "treatment",
    ...               "months_since_entry": 14, "share": 0.35}],
    ...     adjust=["transitions[0].probability", "transitions[0].effect.ratio"])
    >>> report[["kind", "name", "target", "fitted", "factor"]]           # doctest: +SKIP
    """
    base = load_scenario(scenario)
    adjust = _check_adjust(base, adjust)
    targets = _check_targets(base, targets)
    if len(targets) < len(adjust):
        raise ValueError(f"targets: got {len(targets)} target(s) for {len(adjust)} factor(s); "
                         "calibrate needs at least as many targets as key paths in adjust")
    try:
        lo, hi = (as_real(b) for b in factor_bounds)
    except (TypeError, ValueError):
        lo = hi = None
    if lo is None or hi is None or not 0 < lo < 1 < hi < math.inf:
        raise ValueError(f"factor_bounds: got {show(factor_bounds)}, expected (lo, hi) with "
                         "0 < lo < 1 < hi")
    originals = [base.get(path) for path in adjust]
    goal = np.array([t["share"] for t in targets])

    def residuals(log_factors: np.ndarray) -> np.ndarray:
        variant = _with_factors(base, adjust, originals, np.exp(log_factors))
        return _shares(variant, targets) - goal

    fit = optimize.least_squares(
        residuals, np.zeros(len(adjust)), bounds=(math.log(lo), math.log(hi)),
        method="trf", xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=200 * len(adjust),
    )
    factors = np.exp(fit.x)
    calibrated = _with_factors(base, adjust, originals, factors)
    fitted = _shares(calibrated, targets)
    if not fit.success:
        warnings.warn(f"calibrate: the least-squares fit did not converge ({fit.message})",
                      RuntimeWarning, stacklevel=2)
    inert = [path for path, column in zip(adjust, np.abs(fit.jac).T) if not np.any(column > 1e-12)]
    if inert:
        warnings.warn(f"calibrate: {inert} change no target (factor left where it was found); "
                      "the fit cannot identify it", RuntimeWarning, stacklevel=2)
    rows = [("target", f"{t['state']} {t['arm']} month {t['months_since_entry']}", t["share"],
             float(f), math.nan) for t, f in zip(targets, fitted)]
    adjusted = {path: calibrated.get(path) for path in adjust}
    rows += [("factor", path, math.nan, _location(adjusted[path]), float(f))
             for path, f in zip(adjust, factors)]
    report = pd.DataFrame(rows, columns=["kind", "name", "target", "fitted", "factor"])
    report.attrs = {"adjusted": adjusted, "success": bool(fit.success),
                    "message": str(fit.message), "cost": float(fit.cost)}
    return calibrated, report


def hazards_from_survival(months: Sequence[int], surviving: Sequence[float]) -> dict:
    """A step table of monthly probabilities from an observed survival curve.

    From months m_0 = 0 < m_1 < ... < m_n and the share still in the state at each,
    S_0 >= S_1 >= ... >= S_n > 0 (a Kaplan-Meier curve), entry i of the table is
    ``[m_i, 1 - (S_{i+1} / S_i) ** (1 / (m_{i+1} - m_i))]``: the constant monthly
    probability of leaving that reproduces the observed drop over the interval. The last
    probability holds beyond the last month.

    Parameters
    ----------
    months : sequence of int
        Whole months since the start of the spell, strictly increasing from 0; at least two.
    surviving : sequence of float
        The share still in the state at each month, non-increasing, each in (0, 1].

    Returns
    -------
    dict
        ``{"by_months_in_state": [[m_0, p_0], ..., [m_{n-1}, p_{n-1}]]}``, ready to put at a
        transition's ``probability`` (e.g. with :meth:`Scenario.replace`).

    Raises
    ------
    ValueError
        Naming the argument and the value, when the inputs break the rules above.

    Examples
    --------
    >>> table = hazards_from_survival(months=[0, 12, 24], surviving=[1.0, 0.5, 0.33])
    >>> [[m, round(p, 4)] for m, p in table["by_months_in_state"]]
    [[0, 0.0561], [12, 0.034]]
    """
    def as_list(value: Any, name: str) -> list:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValueError(f"{name}: got {show(value)}, expected a sequence of numbers")
        return list(np.asarray(value, dtype=object).ravel()) if isinstance(value, np.ndarray) \
            else list(value)

    m_list = as_list(months, "months")
    s_list = as_list(surviving, "surviving")
    if len(m_list) != len(s_list):
        raise ValueError(f"surviving: got {len(s_list)} value(s) for {len(m_list)} month(s), "
                         "expected one per month")
    if len(m_list) < 2:
        raise ValueError(f"months: got {show(months)}, expected at least two months")
    whole = []
    for i, m in enumerate(m_list):
        number = as_real(m)
        if number is None or not math.isfinite(number) or number != int(number):
            raise ValueError(problem(f"months[{i}]", m, "a whole number of months"))
        whole.append(int(number))
    if whole[0] != 0:
        raise ValueError(problem("months[0]", m_list[0], "0 (the table starts at month 0)"))
    for i in range(1, len(whole)):
        if not whole[i] > whole[i - 1]:
            raise ValueError(problem(f"months[{i}]", m_list[i],
                                     f"a month after months[{i - 1}] = {whole[i - 1]} "
                                     "(strictly increasing)"))
    shares = []
    for i, s in enumerate(s_list):
        number = as_real(s)
        if number is None or not 0 < number <= 1:
            raise ValueError(problem(f"surviving[{i}]", s, "a share in (0, 1]"))
        if shares and number > shares[-1]:
            raise ValueError(problem(f"surviving[{i}]", s,
                                     f"at most surviving[{i - 1}] = {shares[-1]:g} "
                                     "(a survival curve never rises)"))
        shares.append(number)
    table = []
    for i in range(len(whole) - 1):
        ratio = shares[i + 1] / shares[i]
        probability = 1.0 - ratio ** (1.0 / (whole[i + 1] - whole[i]))
        table.append([whole[i], float(min(1.0, max(0.0, probability)))])
    return {TABLE: table}


# ---------------------------------------------------------------------------------------------
# text tables for the command line
# ---------------------------------------------------------------------------------------------


def _number(value: Any) -> str:
    number = as_real(value)
    if number is None:
        return str(value)
    if not math.isfinite(number):
        return "-"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.4g}"


def _amount(value: float, scale: float) -> str:
    return "-" if not math.isfinite(value) else f"{int(round(value / scale)):,d}"


def _percent(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{round(100 * value, 1) + 0.0:.1f}%"


def _render(headers: list[tuple[str, str]], cells: list[list[str]]) -> list[str]:
    widths = [max([len(name)] + [len(row[i]) for row in cells])
              for i, (name, _) in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(f"{v:{align}{w}}" for v, (_, align), w in
                         zip(values, headers, widths)).rstrip()

    head = line([name for name, _ in headers])
    return [head, "-" * len(head), *(line(row) for row in cells)]


def format_tornado(table: pd.DataFrame, *, scale: float = 1_000.0,
                   unit: str = "DKK thousands") -> str:
    """A fixed-width text table of :func:`tornado`'s output, for the command line.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`tornado`.
    scale : float, keyword-only, default 1000
        Amounts are divided by it.
    unit : str, keyword-only, default "DKK thousands"
        Name of the unit after scaling.

    Returns
    -------
    str
        A few header lines, then one line per parameter.

    Examples
    --------
    >>> print(format_tornado(tornado("danish-pilot", "narrow", "municipality", draws=200)))  # doctest: +SKIP
    """
    attrs = table.attrs
    q_low, q_high = attrs.get("quantiles", (0.1, 0.9))
    lines = [
        f"Tornado: mean npv of {attrs.get('party', '?')} under {attrs.get('contract', '?')!r}, "
        f"in {unit} ({attrs.get('draws', '?')} draws, seed {attrs.get('seed', '?')}).",
        f"Each uncertain parameter at its {q_low:.0%} and {q_high:.0%} quantile, every other at "
        "its median (participants stay random, common random numbers).",
    ]
    if "npv_base" in attrs:
        lines.append(f"With every parameter at its median: {_amount(attrs['npv_base'], scale)}.")
    lines.append("")
    headers = [("param", "<"), ("low value", ">"), ("high value", ">"), ("npv low", ">"),
               ("npv high", ">"), ("swing", ">")]
    cells = [[str(r.param), _number(r.low_value), _number(r.high_value),
              _amount(r.npv_low, scale), _amount(r.npv_high, scale), _amount(r.swing, scale)]
             for r in table.itertuples(index=False)]
    if not cells:
        return "\n".join(lines + ["The scenario has no uncertain per-draw parameter."]) + "\n"
    return "\n".join(lines + _render(headers, cells)) + "\n"


def format_corridor(table: pd.DataFrame, *, scale: float = 1_000.0,
                    unit: str = "DKK thousands") -> str:
    """A fixed-width text table of :func:`price_corridor`'s output, for the command line.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`price_corridor`.
    scale : float, keyword-only, default 1000
        Mean npv amounts are divided by it.
    unit : str, keyword-only, default "DKK thousands"
        Name of the unit after scaling.

    Returns
    -------
    str
        A few header lines, one line per value, and the acceptable values.

    Examples
    --------
    >>> print(format_corridor(price_corridor("danish-pilot", "contracts[1].outcomes[0].price",
    ...                                      [4e4, 6e4], "narrow", draws=200)))  # doctest: +SKIP
    """
    attrs = table.attrs
    payer = attrs.get("payer", "payer")
    other = attrs.get("counterparty", "counterparty")
    limit = attrs.get("max_prob_loss", math.nan)
    lines = [
        f"Price corridor of {attrs.get('contract', '?')!r} over {attrs.get('param', 'value')}: "
        f"payer {payer}, counterparty {other} ({attrs.get('draws', '?')} draws, "
        f"seed {attrs.get('seed', '?')}).",
        "P(loss): share of draws with npv < 0; a value is acceptable when both are at most "
        f"{_percent(limit)}. Mean npv in {unit}.",
        "",
    ]
    headers = [("value", ">"), (f"P(loss) {payer}", ">"), (f"P(loss) {other}", ">"),
               (f"mean {payer}", ">"), (f"mean {other}", ">"), ("acceptable", "<")]
    cells = [[_number(r.value), _percent(r.payer_prob_loss), _percent(r.counterparty_prob_loss),
              _amount(r.payer_mean, scale), _amount(r.counterparty_mean, scale),
              "yes" if r.acceptable else "no"] for r in table.itertuples(index=False)]
    lines += _render(headers, cells)
    accepted = [_number(v) for v, ok in zip(table["value"], table["acceptable"]) if ok]
    lines.append("")
    if accepted:
        lines.append(f"Acceptable to both: {', '.join(accepted)}.")
    else:
        lines.append("No value tried is acceptable to both sides.")
    return "\n".join(lines) + "\n"
