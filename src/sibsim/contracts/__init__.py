"""Contracts: the contract-type registry, settlement, financing and every party's position.

Modules, in the order of settlement:

- :mod:`~sibsim.contracts.registry`: the contract types and baselines, looked up by name,
  and what each asks of the engine; :mod:`~sibsim.contracts.declaration` holds the
  records they are declared with;
- :mod:`~sibsim.contracts.types`: one module per contract type, each with its keys in a
  scenario and its payments due; :mod:`~sibsim.contracts.baselines`: one declaration per
  baseline; :mod:`~sibsim.contracts.schema_parts`: the scenario keys several types share
  (payer, baseline, financing, the keys of every outcome contract);
- :mod:`~sibsim.contracts.limits`: payment lag, ``cap_total`` and cumulative limits;
- :mod:`~sibsim.contracts.financing`: tranches, waterfall, guarantees;
- :mod:`~sibsim.contracts.positions`: npv per party, investor returns;
- :mod:`~sibsim.contracts.finance`: IRR and money multiple;
- :mod:`~sibsim.contracts.settle`: :func:`settle`, which runs them for every contract.

Other packages use the names below. The engine asks :func:`needs_outcome_detection`,
:func:`comparison_size` and :func:`needs_historical_baseline` of each contract; the CLI
asks :func:`is_outcome_contract` and, with the docs, lists the types with
:func:`describe_types`; the scenario package builds a contract's table from
``CONTRACT_TYPES[type].schema`` and :data:`OUTCOME_BASED_FIELDS`, and its parties and
comparison sizes follow :func:`named_parties` and :func:`comparison_size`. This package
imports the scenario package's validation kinds (``sibsim.scenario.kinds``, ``checks``,
``keypath``) but neither its ``__init__`` nor ``sibsim.engine`` at run time, and the
scenario package imports it lazily, so either may be imported first.
"""

from sibsim.contracts.declaration import Baseline, ContractTerms, ContractType
from sibsim.contracts.financing import TrancheFlows, finance_programme
from sibsim.contracts.limits import (
    BOUNDARY_TOLERANCE,
    ROUNDING_TOLERANCE,
    apply_cap_total,
)
from sibsim.contracts.registry import (
    BASELINES,
    CONTRACT_TYPES,
    OUTCOME_TYPES,
    baseline,
    comparison_size,
    contract_type,
    describe_baselines,
    describe_types,
    is_outcome_contract,
    named_parties,
    needs_historical_baseline,
    needs_outcome_detection,
)
from sibsim.contracts.schema_parts import OUTCOME_BASED_FIELDS, ContractSchema
from sibsim.contracts.settle import Settlement, settle
from sibsim.contracts.types.effect_tiers import effect_tiers_due, relative_reduction
from sibsim.contracts.types.gain_share import (
    gain_share_due,
    measured_saving,
    settlement_periods,
)
from sibsim.contracts.types.rate_card import rate_card_paid

__all__ = [
    "BASELINES",
    "BOUNDARY_TOLERANCE",
    "CONTRACT_TYPES",
    "OUTCOME_BASED_FIELDS",
    "OUTCOME_TYPES",
    "ROUNDING_TOLERANCE",
    "Baseline",
    "ContractSchema",
    "ContractTerms",
    "ContractType",
    "Settlement",
    "TrancheFlows",
    "apply_cap_total",
    "baseline",
    "comparison_size",
    "contract_type",
    "describe_baselines",
    "describe_types",
    "effect_tiers_due",
    "finance_programme",
    "gain_share_due",
    "is_outcome_contract",
    "measured_saving",
    "named_parties",
    "needs_historical_baseline",
    "needs_outcome_detection",
    "rate_card_paid",
    "relative_reduction",
    "settle",
    "settlement_periods",
]
