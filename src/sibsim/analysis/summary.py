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
from sibsim.results import currency, require, to_numpy

__all__ = ["COLUMNS", "MCSE_COLUMNS", "format_summary", "summarize"]

#: Columns of :func:`summarize`, in order: the risk measures, then (since version 2) the
#: probability of a nominal loss, the Monte Carlo standard errors and the party's role.
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
    "prob_nominal_loss",
    "mean_mcse",
    "p05_mcse",
    "p95_mcse",
    "prob_loss_mcse",
    "expected_shortfall_05_mcse",
    "role",
)

#: The Monte Carlo standard error of each statistic that has one, by column.
MCSE_COLUMNS = {
    "mean": "mean_mcse",
    "p05": "p05_mcse",
    "p95": "p95_mcse",
    "prob_loss": "prob_loss_mcse",
    "expected_shortfall_05": "expected_shortfall_05_mcse",
}

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
          rows of tranche parties; NaN on other rows and where no draw has a finite IRR;
        - ``prob_nominal_loss``: share of draws with an undiscounted net position
          (``net``) below 0; NaN for a result without ``net``;
        - ``mean_mcse``, ``p05_mcse``, ``p95_mcse``, ``prob_loss_mcse``,
          ``expected_shortfall_05_mcse``: the Monte Carlo standard error of each of those
          estimates (sd / sqrt(draws), sqrt(p (1 - p) / draws), the order-statistic
          interval of :func:`~sibsim.analysis.statistics.quantile_mcse`, and the
          influence-function variance of
          :func:`~sibsim.analysis.statistics.expected_shortfall_mcse`);
        - ``role``: the party's part under the contract (``investor``, ``guarantor``,
          ``payer``, ``donor``, ``provider``, ``saver`` or ``none``, see
          :data:`sibsim.contracts.roles.ROLES`); empty for a result without ``role``. The
          numbers of a donor's row are computed as for every row (its ``prob_loss`` is 1:
          it gives money by design); :func:`~sibsim.analysis.tables.format_summary` shows
          them as a gift.

        ``table.attrs["irr_no_root_share"]`` maps each contract in which money was drawn
        from tranches to the share of those draws whose IRR has no root (left out of the
        IRR quantiles); it is empty when the result has no ``investor_multiple``.
        ``table.attrs`` also holds ``currency`` (the unit of the amounts), ``draws`` and
        ``discount_rate`` (each party's mean annual rate, where the result has
        ``discount_rate``) with ``discount_rate_varies`` (True when a rate is drawn per
        draw).

    Examples
    --------
    >>> table = summarize(sibsim.simulate(scenario, draws=1000, seed=1))   # doctest: +SKIP
    >>> table[table.party == "municipality"][["contract", "mean", "prob_loss"]]  # doctest: +SKIP
    """
    result = require(result, ["npv"], function="summarize",
                     optional=["investor_irr", "tranche_party", "investor_multiple", "net",
                               "role", "discount_rate"])
    npv = to_numpy(result, "npv")
    contracts = [str(c) for c in result["contract"].values]
    parties = [str(p) for p in result["party"].values]
    p05, p50, p95 = statistics.quantiles(npv, QUANTILES, axis=0)
    p05_mcse, p95_mcse = statistics.quantile_mcse(npv, (QUANTILES[0], QUANTILES[2]), axis=0)
    columns = {
        "mean": statistics.mean(npv, axis=0),
        "sd": statistics.standard_deviation(npv, axis=0),
        "p05": p05, "p50": p50, "p95": p95,
        "prob_loss": statistics.prob_loss(npv, axis=0),
        "expected_shortfall_05": statistics.expected_shortfall(npv, axis=0),
        "prob_nominal_loss": statistics.prob_loss(to_numpy(result, "net"), axis=0)
        if "net" in result else np.full(npv.shape[1:], np.nan),
        "mean_mcse": statistics.mean_mcse(npv, axis=0),
        "p05_mcse": p05_mcse, "p95_mcse": p95_mcse,
        "prob_loss_mcse": statistics.prob_loss_mcse(npv, axis=0),
        "expected_shortfall_05_mcse": statistics.expected_shortfall_mcse(npv, axis=0),
    }
    irr = _irr_quantiles(result, len(contracts), len(parties))
    for k, name in enumerate(("irr_p05", "irr_p50", "irr_p95")):
        columns[name] = irr[:, :, k]
    role = to_numpy(result, "role", dtype=str) if "role" in result else \
        np.full(npv.shape[1:], "")
    rows = [
        {"contract": contract, "party": party, "role": str(role[c, p]),
         **{name: float(values[c, p]) for name, values in columns.items()}}
        for c, contract in enumerate(contracts)
        for p, party in enumerate(parties)
    ]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table.attrs["irr_no_root_share"] = _irr_no_root_share(result, contracts)
    table.attrs.update(_settings(result, parties, npv.shape[0]))
    return table


def _settings(result: xr.Dataset, parties: list[str], draws: int) -> dict:
    """What the numbers are in: currency, draws, and each party's discount rate."""
    out = {"currency": currency(result), "draws": int(draws)}
    if "discount_rate" in result:
        rates = to_numpy(result, "discount_rate")  # (draw, party)
        varies = bool(rates.size and (rates != rates[:1, :]).any())
        out["discount_rate"] = {
            party: float(statistics.mean(rates[:, p]) if varies else rates[0, p])
            for p, party in enumerate(parties)} if rates.size else {}
        out["discount_rate_varies"] = varies
    return out


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
