"""What a contract type and a baseline declare, and the view of one contract they settle on.

Each contract type is one module of :mod:`sibsim.contracts.types` holding one
:class:`ContractType`; each baseline is one :class:`Baseline` of
:mod:`sibsim.contracts.baselines`. The registry (:mod:`sibsim.contracts.registry`) lists
them; settlement, the engine, the CLI and the docs ask the registry instead of comparing
type names.

This module imports nothing of ``sibsim.engine`` at run time (the ledger only for type
checking), so that the scenario package can import the registry without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from sibsim.scenario.keypath import Part, format_path

if TYPE_CHECKING:
    from sibsim.contracts.schema_parts import ContractSchema
    from sibsim.engine.ledger import Ledger

__all__ = [
    "Baseline",
    "BaselineGroup",
    "ContractTerms",
    "ContractType",
    "ProgrammeShare",
    "ValueFunction",
    "index_of",
    "per_draw",
]

#: ``value(path) -> ndarray (draws,)``: the per-draw value of the number at a key path.
ValueFunction = Callable[[str], np.ndarray]


def index_of(names: Sequence[str], name: str, path: str, what: str) -> int:
    """Position of ``name`` in ``names``; a ValueError naming the key path otherwise.

    Parameters
    ----------
    names : sequence of str
        The names to look in.
    name : str
        The name looked for.
    path : str
        Key path of the value that holds ``name``, for the message.
    what : str
        What ``names`` are ("parties", "states", ...), for the message.

    Returns
    -------
    int

    Examples
    --------
    >>> index_of(["benefits", "employed"], "employed", "contracts[2].state", "states")
    1
    """
    try:
        return list(names).index(name)
    except ValueError:
        raise ValueError(
            f"{path}: got {name!r}, expected one of the {what} {list(names)}"
        ) from None


def per_draw(value: ValueFunction, path: str, draws: int) -> np.ndarray:
    """The value of a contract number in every draw, as a new float64 array (draws,).

    Parameters
    ----------
    value : callable
        ``value(path) -> ndarray (draws,)`` or a scalar.
    path : str
        Key path of the number.
    draws : int
        Number of draws.

    Returns
    -------
    ndarray, shape (draws,)

    Examples
    --------
    >>> per_draw(lambda path: 2.5, "contracts[0].share", 3)
    array([2.5, 2.5, 2.5])
    """
    sampled = np.asarray(value(path), dtype=np.float64)
    return np.broadcast_to(sampled, (draws,)).astype(np.float64, copy=True)


class ProgrammeShare(NamedTuple):
    """A party that pays (a share of) the programme under a contract without outcomes."""

    party: str
    #: Key path of the value that names the party (for error messages).
    where: str
    #: Share of the programme cost, a number or one per draw.
    share: float | np.ndarray


@dataclass(frozen=True)
class ContractTerms:
    """One normalised contract as its settlement reads it, with the run it settles on.

    Attributes
    ----------
    contract : mapping
        The normalised contract (``Scenario.data["contracts"][index]``).
    index : int
        Its position in the scenario: its index in key paths (``contracts[index]...``)
        and in ``Ledger.rate_card_due``.
    ledger : Ledger
        The run's costs, occupancy, programme cost, baselines and discount factors.
    value : callable
        ``value(path) -> ndarray (draws,)`` for the contract numbers.
    """

    contract: Mapping[str, Any]
    index: int
    ledger: Ledger
    value: ValueFunction

    @property
    def path(self) -> str:
        """Key path of the contract, ``contracts[i]``."""
        return format_path(("contracts", self.index))

    def path_of(self, *keys: Part) -> str:
        """Key path of a value inside the contract, quoted where a key needs it.

        Parameters
        ----------
        *keys : str or int
            Table keys and list indices below the contract.

        Returns
        -------
        str

        Examples
        --------
        >>> terms = ContractTerms({}, 1, None, None)
        >>> terms.path_of("payer", "Region Midtjylland")
        'contracts[1].payer."Region Midtjylland"'
        >>> terms.path_of("financing", "tranches", 0, "amount")
        'contracts[1].financing.tranches[0].amount'
        """
        return format_path(("contracts", self.index, *keys))

    def number(self, *keys: Part) -> np.ndarray:
        """A contract number in every draw (a distribution is sampled once per draw).

        Parameters
        ----------
        *keys : str or int
            Where the number stands below the contract, e.g. ``"tiers", 1, 0``.

        Returns
        -------
        ndarray, shape (draws,)
        """
        return per_draw(self.value, self.path_of(*keys), self.ledger.draws)

    @property
    def lag(self) -> int:
        """``payment_lag_months`` of an outcome contract, checked to be >= 0."""
        lag = int(self.contract["payment_lag_months"])
        if lag < 0:
            raise ValueError(
                f"{self.path_of('payment_lag_months')}: got {lag}, expected a whole number >= 0"
            )
        return lag

    def payer_shares(self) -> dict[str, np.ndarray]:
        """Per-draw share of each payer of the contract.

        Shares given as plain numbers are used as they stand; a share given otherwise (a
        distribution) is read through ``value`` at ``contracts[i].payer.<party>``. With
        ``payer_shares = "savings"`` (an outcome contract) each payer's share in a draw is
        its savings over the horizon (undiscounted, every category, counterfactual minus
        treatment), counted as 0 where negative, over the sum of those of every payer of
        the contract; in a draw where no payer saves, the ``payer`` table's shares apply
        (:meth:`savings_shares`). The shares must add up to 1 in every draw, or money
        would be created or lost.

        Returns
        -------
        dict of str to ndarray, shape (draws,)
        """
        draws = self.ledger.draws
        shares = {}
        for party, share in self.contract["payer"].items():
            if isinstance(share, (int, float)) and not isinstance(share, bool):
                shares[party] = np.full(draws, float(share))
            else:
                shares[party] = self.number("payer", party)
        if self.contract.get("payer_shares") == "savings":
            shares = self.savings_shares(shares)
        total = sum(shares.values())
        if not np.allclose(total, 1.0, rtol=0.0, atol=1e-9):
            raise ValueError(
                f"{self.path_of('payer')}: got shares {dict(self.contract['payer'])} adding "
                f"up to {np.min(total):.12g}..{np.max(total):.12g}, expected shares that add "
                "up to 1"
            )
        return shares

    def savings_shares(self, fixed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Each payer's share of the bill in proportion to its savings, per draw.

        Parameters
        ----------
        fixed : mapping of str to ndarray, shape (draws,)
            The ``payer`` table's shares, used in a draw where no payer saves.

        Returns
        -------
        dict of str to ndarray, shape (draws,)
            ``max(S_p, 0) / sum_q max(S_q, 0)`` with ``S_p`` the payer's undiscounted
            savings over the horizon, summed over categories.
        """
        ledger = self.ledger
        where = self.path_of("payer_shares")
        columns = [index_of(ledger.payers, party, where, "payers with flows")
                   for party in fixed]
        saved = ledger.savings_by_payer()[:, columns]  # (draws, payers)
        saved = np.maximum(saved, 0.0)
        total = saved.sum(axis=1)
        some = total > 0
        out = {}
        for p, party in enumerate(fixed):
            share = np.divide(saved[:, p], total, out=np.zeros_like(total), where=some)
            out[party] = np.where(some, share, fixed[party])
        return out


@dataclass(frozen=True)
class ContractType:
    """Everything sibsim knows about one contract type, declared in one place.

    Attributes
    ----------
    name : str
        The ``type`` key of the contract in a scenario.
    summary : str
        One line, for the CLI and the docs' list of types.
    docs : str
        A paragraph for the docs: what the contract pays and on what.
    outcome : bool
        True for an outcome contract: its payments depend on outcomes; it has
        ``payment_lag_months``, ``cap_total`` and may be financed (tranches, guarantees);
        the provider, or the tranches, pay the programme.
    pays_programme : str
        Who pays the programme, in words.
    schema : ContractSchema
        The type's own keys in a scenario and their cross-field rule
        (:class:`~sibsim.contracts.schema_parts.ContractSchema`); the scenario package
        builds the table of a ``[[contracts]]`` entry of this type from it. Settlement
        does not read it.
    programme_shares : callable or None
        For a contract without outcomes: ``programme_shares(terms) -> [ProgrammeShare]``,
        the parties that pay the programme and their shares. None for an outcome contract.
    due : callable or None
        For an outcome contract: ``due(terms) -> ndarray (draws, months)``, the payments
        due at their payment month (after the lag, the horizon dropped), before
        ``cap_total``. None for a contract without outcomes.
    detects_outcomes : bool
        True when the trajectory kernel must detect the contract's outcomes participant by
        participant (the rate card's ``outcomes``, window and per-participant cap); the
        ledger then holds its ``rate_card_due``.
    measures_baseline : bool
        True when the contract has a ``baseline`` (and ``comparison_size``): what the
        engine must simulate or compute for it follows from the :class:`Baseline`.
    party_key : str
        The key that names who pays: ``"funder"`` (one party) or ``"payer"`` (a party or
        ``{party: share}``).
    """

    name: str
    summary: str
    docs: str
    outcome: bool
    pays_programme: str
    schema: ContractSchema
    programme_shares: Callable[[ContractTerms], list[ProgrammeShare]] | None = None
    due: Callable[[ContractTerms], np.ndarray] | None = None
    detects_outcomes: bool = False
    measures_baseline: bool = False
    party_key: str = "payer"

    def __post_init__(self) -> None:
        # An outcome contract settles through its payments due, any other through who
        # pays the programme: exactly one of the two must be declared.
        if self.outcome != (self.due is not None) or self.outcome == (
            self.programme_shares is not None
        ):
            raise TypeError(
                f"contract type {self.name!r}: an outcome contract declares `due`, any other "
                "`programme_shares`, not both"
            )


@dataclass(frozen=True)
class BaselineGroup:
    """The measured baseline of one contract, read from the ledger.

    Attributes
    ----------
    cost : ndarray, shape (draws, months, payers, categories) or (months, payers, categories)
        Undiscounted public cost of the baseline group (the same in every draw when it has
        no draw axis).
    occupancy : ndarray, shape (draws, months, states) or (months, states)
        Count of the group's enrolled participants in each state.
    enrolled : ndarray, shape (months,)
        The group's participants enrolled by each month.
    own_scale : bool
        True when the group is not the treated cohort at its own size (a comparison group):
        its cost is compared per enrolled participant and rescaled to the treated cohort.
    """

    cost: np.ndarray
    occupancy: np.ndarray
    enrolled: np.ndarray
    own_scale: bool

    def cost_at_treated_scale(
        self, measured: np.ndarray, treatment: np.ndarray, treated_enrolled: np.ndarray
    ) -> np.ndarray:
        """The baseline's measured cost per month at the treated cohort's scale.

        Parameters
        ----------
        measured : ndarray, shape (draws, months) or (months,)
            The group's measured cost (summed over the measured payers and categories).
        treatment : ndarray, shape (draws, months)
            The treatment arm's measured cost.
        treated_enrolled : ndarray, shape (months,)
            Treated participants enrolled by each month.

        Returns
        -------
        ndarray, shape (draws, months)
            The group's cost itself at the treated scale; for a group of its own size, its
            cost per enrolled group participant times the treated participants enrolled,
            and the treatment cost itself (a saving of 0) in a month where the group has
            no one enrolled.
        """
        if not self.own_scale:
            if measured.shape == treatment.shape:
                return measured
            return np.broadcast_to(measured, treatment.shape).copy()
        group_enrolled = np.asarray(self.enrolled, dtype=np.float64)
        per_participant = np.divide(
            measured,
            group_enrolled,
            out=np.zeros(treatment.shape),
            where=group_enrolled > 0,
        )
        baseline = per_participant * np.asarray(treated_enrolled, dtype=np.float64)
        return np.where(group_enrolled > 0, baseline, treatment)

    def months_in_state_per_participant(
        self, measure_at_month: int, state: int, draws: int
    ) -> np.ndarray:
        """Months spent in a state over months 0..M-1 per participant enrolled by M-1.

        Parameters
        ----------
        measure_at_month : int
            M.
        state : int
            Index of the state.
        draws : int
            Number of draws.

        Returns
        -------
        ndarray, shape (draws,)
            NaN where no group participant is enrolled by month M-1.
        """
        enrolled = float(self.enrolled[measure_at_month - 1])
        if enrolled <= 0:
            return np.full(draws, np.nan)
        months_in_state = self.occupancy[..., 0:measure_at_month, state].sum(axis=-1)
        return np.broadcast_to(np.asarray(months_in_state) / enrolled, (draws,))


@dataclass(frozen=True)
class Baseline:
    """One baseline a contract may measure against, declared in one place.

    Attributes
    ----------
    name : str
        The value of a contract's ``baseline`` key.
    summary : str
        One line, for the CLI and the docs.
    needs_comparison_group : bool
        True when the engine must simulate a comparison group of the contract's
        ``comparison_size`` (the ledger's ``comparison[size]``).
    needs_historical : bool
        True when the engine must compute the exact historical baseline (the ledger's
        ``historical``).
    read : callable
        ``read(contract, ledger, path) -> BaselineGroup``: the measured baseline of a
        contract in the ledger (``path`` is the contract's key path, for messages).
    """

    name: str
    summary: str
    needs_comparison_group: bool
    needs_historical: bool
    read: Callable[[Mapping[str, Any], Ledger, str], BaselineGroup]
