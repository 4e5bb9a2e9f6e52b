"""Scenarios: loading, validation, defaults, key paths and distributions.

The first stage of the data path: a scenario (TOML text, a file, a dict or a built-in name)
becomes a validated, immutable :class:`Scenario`. The modules, by concern:

``load``
    :func:`load_scenario`, :func:`validate`, :func:`builtin_scenarios`.
``model``
    :class:`Scenario`: the normalised document, key paths (``get``, ``replace``,
    ``parameters``, ``uncertain``), ``to_toml`` and the names in it.
``schema``, ``contract_schema``, ``checks``
    The format, declared once as a tree of kinds: cohort, sites, programme, economy,
    transitions and flows; the contracts' tables, built from the keys each contract type
    declares in the registry (:mod:`sibsim.contracts`); the cross-field rules.
``kinds``
    The validation framework (kinds of values that check, normalise and list parameters).
``toml``
    The TOML writer (key order kept) and reading TOML with file and line in errors.
``keypath``
    Key paths: parsing, formatting (with quoting) and the wording of problems.
``families``, ``distributions``
    The distribution families, each declared once (parameters, checks, scipy, the kernel
    sampler's code and natural parameters, calibration location), and :class:`Distribution`.

Other packages import from here only. ``CONTRACT_TYPES`` and ``BASELINES`` are the
registry's own (:mod:`sibsim.contracts`; iterating either gives the names in the documented
order), looked up on first use because the contracts package imports this one.
"""

from typing import Any

from sibsim.scenario.distributions import Distribution, as_real, is_distribution
from sibsim.scenario.families import (
    CONSTANT_CODE,
    FAMILIES,
    FAMILY,
    FAMILY_CODES,
    LOCATION_PARAMETERS,
    Family,
    natural_parameters,
)
from sibsim.scenario.keypath import (
    Part,
    format_path,
    get_in,
    join,
    parse_path,
    problem,
    show,
)
from sibsim.scenario.load import builtin_scenarios, load_scenario, validate
from sibsim.scenario.model import Scenario

__all__ = [
    "BASELINES",
    "CONSTANT_CODE",
    "CONTRACT_TYPES",
    "FAMILIES",
    "FAMILY",
    "FAMILY_CODES",
    "LOCATION_PARAMETERS",
    "Distribution",
    "Family",
    "Part",
    "Scenario",
    "as_real",
    "builtin_scenarios",
    "format_path",
    "get_in",
    "is_distribution",
    "join",
    "load_scenario",
    "natural_parameters",
    "parse_path",
    "problem",
    "show",
    "validate",
]


def __getattr__(name: str) -> Any:
    # The registry's names, re-exported; imported here on first use, as the contracts
    # package imports submodules of this package while it loads.
    if name in ("BASELINES", "CONTRACT_TYPES"):
        import sibsim.contracts

        return getattr(sibsim.contracts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
