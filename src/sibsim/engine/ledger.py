"""The ledger: public costs per payer and category, programme cost, discounting.

The kernels count, per draw, arm and month, the enrolled participants in each state and
months-in-state bucket, and price those counts with the per-draw cost rates (see
``docs/methodology.rst``, "The ledger"). The :class:`Ledger` holds the result for all draws
at once: it is what the contracts (``sibsim.contracts``) and the results
(``sibsim.results``) read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sibsim.rules import ARMS

#: Arm indices of the arrays below.
TREATMENT, COUNTERFACTUAL = ARMS.index("treatment"), ARMS.index("counterfactual")


@dataclass
class ComparisonGroup:
    """An independently simulated group under counterfactual rules.

    Attributes
    ----------
    size : int
        Number of participants in the group.
    enrolled : ndarray, shape (months,), int64
        Participants of the group enrolled by each month.
    occupancy : ndarray, shape (draws, months, states), float64
        Count of enrolled group participants in each state.
    cost : ndarray, shape (draws, months, payers, categories), float64
        Undiscounted public cost of the whole group (not rescaled).
    """

    size: int
    enrolled: np.ndarray
    occupancy: np.ndarray
    cost: np.ndarray


@dataclass
class HistoricalBaseline:
    """The expected counterfactual at central values, fixed before the run.

    Attributes
    ----------
    occupancy : ndarray, shape (months, states)
        Expected number of enrolled treated-cohort participants in each state.
    cost : ndarray, shape (months, payers, categories)
        Expected undiscounted public cost of the treated cohort's enrolled participants.
    """

    occupancy: np.ndarray
    cost: np.ndarray


@dataclass
class Ledger:
    """Everything the contracts need, for all draws at once.

    Arm index 0 is the treatment arm, 1 the paired counterfactual (``sibsim.rules.ARMS``).

    Attributes
    ----------
    months : int
    states, payers, categories : list of str
    discount : ndarray, shape (draws, months)
        Discount factor of month t: (1 + r) ** (-t / 12), r per draw.
    enrolled : ndarray, shape (months,), int64
        Treated-cohort participants enrolled by each month.
    occupancy : ndarray, shape (draws, 2, months, states), float64
        Count of enrolled participants in each state.
    cost : ndarray, shape (draws, 2, months, payers, categories), float64
        Undiscounted public cost.
    programme_cost : ndarray, shape (draws, months), float64
        Undiscounted cost of the programme (fixed and per participant), treatment arm.
    comparison : dict of int to ComparisonGroup
        Comparison groups by size (only those some contract measures against).
    historical : HistoricalBaseline or None
        Present when some contract uses ``baseline = "historical"``.
    rate_card_due : dict of int to ndarray, shape (draws, months)
        For each rate-card contract (by its index in ``scenario.data["contracts"]``), the
        payments reached in each month after the window and the per-participant cap, before
        the payment lag and ``cap_total``.
    """

    months: int
    states: list[str]
    payers: list[str]
    categories: list[str]
    discount: np.ndarray
    enrolled: np.ndarray
    occupancy: np.ndarray
    cost: np.ndarray
    programme_cost: np.ndarray
    comparison: dict[int, ComparisonGroup] = field(default_factory=dict)
    historical: HistoricalBaseline | None = None
    rate_card_due: dict[int, np.ndarray] = field(default_factory=dict)
    # The savings, computed on first use: the settlement reads them several times.
    _savings: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _savings_by_payer: np.ndarray | None = field(default=None, init=False, repr=False,
                                                 compare=False)

    @property
    def draws(self) -> int:
        return self.discount.shape[0]

    def savings(self) -> np.ndarray:
        """Undiscounted savings per month: counterfactual minus treatment cost.

        Returns
        -------
        ndarray, shape (draws, months, payers, categories)
            Computed once (the costs are not changed after the ledger is made); read it,
            never write into it.
        """
        if self._savings is None:
            self._savings = self.cost[:, COUNTERFACTUAL] - self.cost[:, TREATMENT]
            self._savings.flags.writeable = False
        return self._savings

    def savings_by_payer(self) -> np.ndarray:
        """Undiscounted savings over the horizon per payer, every category summed.

        Returns
        -------
        ndarray, shape (draws, payers)
            Computed once (contracts that split their bill by savings all read it); read
            it, never write into it.
        """
        if self._savings_by_payer is None:
            self._savings_by_payer = self.savings().sum(axis=(1, 3))
            self._savings_by_payer.flags.writeable = False
        return self._savings_by_payer

    def savings_npv(self) -> np.ndarray:
        """Discounted savings per payer and category.

        Returns
        -------
        ndarray, shape (draws, payers, categories)
        """
        return np.einsum("dt,dtpc->dpc", self.discount, self.savings())

    def programme_cost_npv(self) -> np.ndarray:
        """Discounted programme cost per draw, shape (draws,)."""
        return np.einsum("dt,dt->d", self.discount, self.programme_cost)
