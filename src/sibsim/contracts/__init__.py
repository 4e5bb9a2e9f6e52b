"""Contracts: settlement, financing and the position of every party."""

from sibsim.contracts.settle import (
    OUTCOME_TYPES,
    ROUNDING_TOLERANCE,
    Settlement,
    TrancheFlows,
    apply_cap_total,
    effect_tiers_due,
    finance_programme,
    gain_share_due,
    measured_saving,
    rate_card_paid,
    relative_reduction,
    settle,
    settlement_periods,
)

__all__ = ["OUTCOME_TYPES", "ROUNDING_TOLERANCE", "Settlement", "TrancheFlows", "apply_cap_total",
           "effect_tiers_due", "finance_programme", "gain_share_due", "measured_saving",
           "rate_card_paid", "relative_reduction", "settle", "settlement_periods"]
