"""Summaries of a finished run: the risk of each party under each contract, as a table.

:func:`summarize` turns the ``npv`` and ``investor_irr`` of a result into one row per
(contract, party) with the risk measures defined in ``docs/contracts.rst``, computed by
:mod:`sibsim.analysis.statistics`; :func:`sibsim.analysis.tables.format_summary` prints that
table for the command line (and is importable from here too).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from sibsim.analysis import statistics
from sibsim.analysis.tables import format_summary
from sibsim.results import require, to_numpy

__all__ = ["COLUMNS", "format_summary", "summarize"]

#: Columns of :func:`summarize`, in order.
COLUMNS = (
    "contract",
    "party",
    "mean",
    "sd",
    "p05",
    "p50",
    "p95",
    "prob_loss",
    "expected_shortfall_05",
    "irr_p05",
    "irr_p50",
    "irr_p95",
)

#: The quantiles of the npv and of the IRR in the table.
QUANTILES = (0.05, 0.5, 0.95)


def summarize(result: xr.Dataset) -> pd.DataFrame:
    """Risk of each party under each contract.

    Parameters
    ----------
    result : xarray.Dataset
        A result of ``sibsim.simulate`` (or any Dataset with the same variables):

        - ``npv`` (draw, contract, party): discounted net position of each party;
        - ``investor_irr`` (draw, contract): annualised IRR of the contract's tranches;
        - ``tranche_party`` (contract, party), bool: True where the party funds a tranche
          of the contract. The IRR columns are filled on those rows only. A result without
          this variable (or without ``investor_irr``) gets NaN IRR columns everywhere.

    Returns
    -------
    pandas.DataFrame
        One row per (contract, party), contracts in result order and parties in result
        order within each, with columns:

        - ``contract``, ``party``;
        - ``mean``, ``sd`` (sample standard deviation, ddof=1), ``p05``, ``p50``, ``p95``
          of the npv over draws (quantiles by linear interpolation, numpy's default);
        - ``prob_loss``: share of draws with npv < 0 (a fraction in [0, 1]);
        - ``expected_shortfall_05``: mean npv of the worst k draws, k = max(1, ceil(0.05 x
          draws)), see :func:`sibsim.analysis.statistics.expected_shortfall`;
        - ``irr_p05``, ``irr_p50``, ``irr_p95``: quantiles of the contract's combined
          investor IRR over the draws where it is finite (draws with no root, and those in
          which nothing was drawn, are left out; -1 for nothing returned counts), on the
          rows of tranche parties; NaN on other rows and where no draw has a finite IRR.

        ``table.attrs["irr_no_root_share"]`` maps each contract in which money was drawn
        from tranches to the share of those draws whose IRR has no root (left out of the
        IRR quantiles); it is empty when the result has no ``investor_multiple``.

    Examples
    --------
    >>> table = summarize(sibsim.simulate(scenario, draws=1000, seed=1))   # doctest: +SKIP
    >>> table[table.party == "municipality"][["contract", "mean", "prob_loss"]]  # doctest: +SKIP
    """
    result = require(result, ["npv"], function="summarize",
                     optional=["investor_irr", "tranche_party", "investor_multiple"])
    npv = to_numpy(result, "npv")
    contracts = [str(c) for c in result["contract"].values]
    parties = [str(p) for p in result["party"].values]
    mean = statistics.mean(npv, axis=0)
    sd = statistics.standard_deviation(npv, axis=0)
    p05, p50, p95 = statistics.quantiles(npv, QUANTILES, axis=0)
    prob_loss = statistics.prob_loss(npv, axis=0)
    shortfall = statistics.expected_shortfall(npv, axis=0)
    irr = _irr_quantiles(result, len(contracts), len(parties))
    rows = [
        (contract, party, float(mean[c, p]), float(sd[c, p]), float(p05[c, p]),
         float(p50[c, p]), float(p95[c, p]), float(prob_loss[c, p]), float(shortfall[c, p]),
         *map(float, irr[c, p]))
        for c, contract in enumerate(contracts)
        for p, party in enumerate(parties)
    ]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table.attrs["irr_no_root_share"] = _irr_no_root_share(result, contracts)
    return table


def _irr_quantiles(result: xr.Dataset, n_contracts: int, n_parties: int) -> np.ndarray:
    """The IRR quantiles of each contract on its tranche parties' rows, NaN elsewhere.

    Shape (contract, party, 3). Only finite IRRs count: draws without a root (NaN) are left
    out, an IRR of -1 (nothing returned) counts.
    """
    out = np.full((n_contracts, n_parties, len(QUANTILES)), np.nan)
    if "investor_irr" not in result or "tranche_party" not in result:
        return out
    irr = to_numpy(result, "investor_irr")
    irr = np.where(np.isfinite(irr), irr, np.nan)
    by_contract = statistics.quantiles(irr, QUANTILES, axis=0).T  # (contract, 3)
    tranche_party = to_numpy(result, "tranche_party", dtype=bool)
    out[tranche_party] = np.broadcast_to(by_contract[:, None, :], out.shape)[tranche_party]
    return out


def _irr_no_root_share(result: xr.Dataset, contracts: list[str]) -> dict[str, float]:
    """Per contract with tranches, the share of draws with money drawn and no IRR root.

    A draw had money drawn where ``investor_multiple`` is finite; its IRR has no root where
    ``investor_irr`` is then NaN. Empty without those two variables.
    """
    if "investor_irr" not in result or "investor_multiple" not in result:
        return {}
    irr = to_numpy(result, "investor_irr")
    drawn = np.isfinite(to_numpy(result, "investor_multiple"))
    return {
        contract: float(np.isnan(irr[drawn[:, c], c]).mean())
        for c, contract in enumerate(contracts)
        if drawn[:, c].any()
    }
