"""Summaries of a finished run: risk per contract and party, as a table and as text.

:func:`summarize` turns the ``npv`` and ``investor_irr`` of a result into one row per
(contract, party) with the risk measures defined in ``docs/contracts.rst``;
:func:`format_summary` prints that table for the command line.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["COLUMNS", "TAIL", "expected_shortfall", "format_summary", "summarize"]

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

#: Tail share of the expected shortfall.
TAIL = 0.05


def expected_shortfall(values: np.ndarray, tail: float = TAIL) -> float:
    """Mean of the worst ``tail`` share of draws.

    Parameters
    ----------
    values : array_like, shape (draws,)
        One value per draw (NaN values are left out).
    tail : float, default 0.05
        Share of draws in the tail.

    Returns
    -------
    float
        The mean of the k smallest values, k = max(1, ceil(tail x n)) with n the number of
        non-NaN values; NaN when there is none.

    Examples
    --------
    >>> expected_shortfall(np.arange(40.0))   # ceil(0.05 * 40) = 2 worst: 0 and 1
    0.5
    """
    finite = np.sort(np.asarray(values, dtype=np.float64)[~np.isnan(values)])
    if finite.size == 0:
        return math.nan
    k = max(1, math.ceil(tail * finite.size - 1e-9))
    return float(finite[:k].mean())


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
          draws)), see :func:`expected_shortfall`;
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
    npv_array = result["npv"].transpose("draw", "contract", "party")
    npv = np.asarray(npv_array.values, dtype=np.float64)
    contracts = [str(c) for c in npv_array["contract"].values]
    parties = [str(p) for p in npv_array["party"].values]

    if "investor_irr" in result and "tranche_party" in result:
        # Variables of one Dataset share their coordinates: only the axis order may differ.
        irr = np.asarray(
            result["investor_irr"].transpose("draw", "contract").values, dtype=np.float64
        )
        tranche_party = np.asarray(
            result["tranche_party"].transpose("contract", "party").values, dtype=bool
        )
    else:
        irr = np.full(npv.shape[:2], np.nan)
        tranche_party = np.zeros(npv.shape[1:], dtype=bool)

    rows = []
    for c, contract in enumerate(contracts):
        finite_irr = irr[:, c][np.isfinite(irr[:, c])]
        if finite_irr.size:
            irr_quantiles = np.quantile(finite_irr, [0.05, 0.5, 0.95])
        else:
            irr_quantiles = np.full(3, np.nan)
        for p, party in enumerate(parties):
            values = npv[:, c, p]
            values = values[~np.isnan(values)]
            if values.size:
                p05, p50, p95 = np.quantile(values, [0.05, 0.5, 0.95])
                mean = values.mean()
                sd = values.std(ddof=1) if values.size > 1 else math.nan
                prob_loss = float(np.mean(values < 0))
            else:
                mean = sd = p05 = p50 = p95 = prob_loss = math.nan
            irr_row = irr_quantiles if tranche_party[c, p] else np.full(3, np.nan)
            rows.append(
                (
                    contract,
                    party,
                    float(mean),
                    float(sd),
                    float(p05),
                    float(p50),
                    float(p95),
                    prob_loss,
                    expected_shortfall(values),
                    *map(float, irr_row),
                )
            )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table.attrs["irr_no_root_share"] = _irr_no_root_share(result, contracts)
    return table


def _irr_no_root_share(result: xr.Dataset, contracts: list[str]) -> dict[str, float]:
    """Per contract with tranches, the share of draws with money drawn and no IRR root.

    A draw had money drawn where ``investor_multiple`` is finite; its IRR has no root where
    ``investor_irr`` is then NaN. Empty without those two variables.
    """
    if "investor_irr" not in result or "investor_multiple" not in result:
        return {}
    irr = result["investor_irr"].transpose("draw", "contract").values
    drawn = np.isfinite(result["investor_multiple"].transpose("draw", "contract").values)
    return {
        contract: float(np.isnan(irr[drawn[:, c], c]).mean())
        for c, contract in enumerate(contracts)
        if drawn[:, c].any()
    }


def _amount(x: float, scale: float) -> str:
    # int(round(...)) so that a small negative amount shows as 0, never as -0.
    return "-" if not np.isfinite(x) else f"{int(round(x / scale)):,d}"


def _percent(x: float) -> str:
    # Adding 0.0 turns a rounded -0.0 into 0.0.
    return "-" if not np.isfinite(x) else f"{round(100 * x, 1) + 0.0:.1f}%"


def format_summary(
    table: pd.DataFrame, *, scale: float = 1_000.0, unit: str = "DKK thousands"
) -> str:
    """A fixed-width text table of :func:`summarize`'s output, for the command line.

    Parameters
    ----------
    table : pandas.DataFrame
        The output of :func:`summarize`.
    scale : float, keyword-only, default 1000
        Amounts are divided by it and shown with thousands separators, no decimals.
    unit : str, keyword-only, default "DKK thousands"
        Name of the unit after scaling, shown in the header.

    Returns
    -------
    str
        A header line naming the unit and the measures, then one line per row: amounts
        (mean, sd, p05, p50, p95, ES 5%) in the unit, the probability of loss and the IRR
        quantiles in percent, ``-`` where a value is missing.

    Examples
    --------
    >>> print(format_summary(summarize(result)))                     # doctest: +SKIP
    npv in DKK thousands, discounted; ...
    """
    headers = [
        ("contract", "<"),
        ("party", "<"),
        ("mean", ">"),
        ("sd", ">"),
        ("p05", ">"),
        ("p50", ">"),
        ("p95", ">"),
        ("P(loss)", ">"),
        ("ES 5%", ">"),
        ("IRR p05", ">"),
        ("IRR p50", ">"),
        ("IRR p95", ">"),
    ]
    cells = []
    for row in table.itertuples(index=False):
        cells.append(
            [
                str(row.contract),
                str(row.party),
                *(_amount(getattr(row, k), scale) for k in ("mean", "sd", "p05", "p50", "p95")),
                _percent(row.prob_loss),
                _amount(row.expected_shortfall_05, scale),
                *(_percent(getattr(row, k)) for k in ("irr_p05", "irr_p50", "irr_p95")),
            ]
        )
    widths = [
        max([len(name)] + [len(line[i]) for line in cells]) for i, (name, _) in enumerate(headers)
    ]

    def render(values: list[str]) -> str:
        return "  ".join(
            f"{value:{align}{width}}" for value, (_, align), width in zip(values, headers, widths)
        ).rstrip()

    header = render([name for name, _ in headers])
    lines = [
        f"npv: discounted net position, in {unit}.",
        "P(loss): share of draws with npv < 0.  ES 5%: mean npv of the worst 5% of draws.",
        "IRR: annualised IRR of the contract's tranches together, over draws with a root",
        "(shown on the rows of the parties that fund a tranche).",
        "",
        header,
        "-" * len(header),
    ]
    previous = None
    for line in cells:
        if previous is not None and line[0] != previous:
            lines.append("")
        previous = line[0]
        lines.append(render(line))
    no_root = {c: share for c, share in table.attrs.get("irr_no_root_share", {}).items() if share}
    if no_root:
        lines.append("")
        lines.extend(
            f"{contract}: the investor IRR has no root in {_percent(share)} of the draws with "
            "money drawn (left out of the IRR quantiles)."
            for contract, share in no_root.items()
        )
    return "\n".join(lines) + "\n"
